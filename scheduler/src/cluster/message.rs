//! What processes tell each other during one computation (one timely epoch).

use serde::{Deserialize, Serialize};

/// One record of the exchange channel, routed to process `to`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Envelope {
    pub(crate) to: u32,
    pub(crate) from: u32,
    /// Plan index of the task concerned (every process plans the same graph the same way).
    pub(crate) task: u32,
    pub(crate) body: Body,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Body {
    /// The task's result, encoded by its codec.
    Value(Vec<u8>),
    /// The task did not run (the computation halted, or with `ErrorPolicy::Collect` an
    /// input failed). `reason` is the origin's halt reason.
    Skipped { reason: u8 },
    /// The task failed; sent to every process, so all report the same error.
    Failed {
        panicked: bool,
        message: String,
        attempts: u32,
    },
    /// The sender's graph fingerprint, so processes building different graphs are told;
    /// from process 0, whether it wants the others' `Ran` reports (its dashboard shows
    /// them).
    Hello { fingerprint: u64, reports: bool },
    /// To process 0, when it asked for them: where and when the task ran (ns since the
    /// sender started its share of the computation).
    Ran {
        worker: Option<u32>,
        start_ns: u64,
        end_ns: u64,
        ok: bool,
    },
}
