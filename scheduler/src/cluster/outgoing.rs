//! What a finished local task sends: its result to the processes that read it, or its
//! failure to every process.

use std::cell::Cell;

use parking_lot::Mutex;

use super::message::{Body, Envelope};
use super::reports::Reports;
use crate::diagnostics::{worker_index, TaskInfo};
use crate::error::TaskFailure;
use crate::observer::{Interest, Observer};
use crate::plan::Plan;

/// Observes the local tasks' outcomes (the executor calls `task_done` after each one);
/// queues messages for the timely thread, which sends them. On a process other than 0,
/// it also times each attempt, to tell process 0 where and when each task ran when
/// process 0 wants to know (see `reports.rs`).
pub(crate) struct Outgoing {
    me: u32,
    processes: u32,
    /// Per plan node: processes (bit set) that receive its result.
    dests: Vec<u64>,
    queue: Mutex<Vec<Envelope>>,
    /// The timely worker thread, woken when there is something to send.
    waker: std::thread::Thread,
    /// Reports of this process's tasks to process 0.
    pub(crate) reports: Reports,
}

thread_local! {
    /// The attempt that just ended on this thread: (start, end, ok), in ns since this
    /// process's share of the computation started. `task_done` for its task follows on the same thread.
    static LAST_ATTEMPT: Cell<Option<(u64, u64, bool)>> = const { Cell::new(None) };
}

impl Observer for Outgoing {
    fn interest(&self) -> Interest {
        Interest {
            attempts: self.reports.may_report(),
            outcomes: true,
            sizes: false,
            remote: false,
        }
    }

    fn task_started(&self, _task: &TaskInfo<'_>) -> u64 {
        self.reports.now().unwrap_or(0)
    }

    fn task_finished(&self, _task: &TaskInfo<'_>, started: u64, ok: bool) {
        if let Some(now) = self.reports.now() {
            LAST_ATTEMPT.with(|last| last.set(Some((started, now, ok))));
        }
    }

    /// Task `t` ran here and succeeded or not (failed or skipped).
    #[inline]
    fn task_done(&self, plan: &Plan<'_>, t: u32, succeeded: bool) {
        if self.reports.may_report() {
            self.report(t);
        }
        let dests = self.dests[t as usize];
        if succeeded && dests == 0 {
            return;
        }
        self.send_outcome(plan, t, succeeded, dests);
    }
}

impl Outgoing {
    pub(crate) fn new(
        me: usize,
        processes: usize,
        dests: Vec<u64>,
        waker: std::thread::Thread,
        reports: Reports,
    ) -> Self {
        Outgoing {
            me: me as u32,
            processes: processes as u32,
            dests,
            queue: Mutex::new(Vec::new()),
            waker,
            reports,
        }
    }

    /// Tells process 0 where and when task `t` ran (a task skipped here never ran), if
    /// it wants to know.
    #[cold]
    fn report(&self, t: u32) {
        let Some((start_ns, end_ns, ok)) = LAST_ATTEMPT.with(Cell::take) else {
            return;
        };
        let body = Body::Ran {
            worker: worker_index().map(|w| w as u32),
            start_ns,
            end_ns,
            ok,
        };
        if self.reports.send(self.envelope(0, t, body), &self.queue) {
            self.waker.unpark();
        }
    }

    /// Process 0 said whether it wants this process's reports.
    pub(crate) fn reports_wanted(&self, wanted: bool) {
        if self.reports.decide(wanted, &self.queue) {
            self.waker.unpark();
        }
    }

    /// Everything queued so far.
    pub(crate) fn take(&self) -> Vec<Envelope> {
        std::mem::take(&mut *self.queue.lock())
    }

    pub(crate) fn queue_is_empty(&self) -> bool {
        self.queue.lock().is_empty()
    }

    #[cold]
    fn send_outcome(&self, plan: &Plan<'_>, t: u32, succeeded: bool, dests: u64) {
        let mut messages = Vec::new();
        let mut failure = None;
        if succeeded {
            let codec = plan
                .graph()
                .node(t)
                .codec()
                .expect("codecs are checked before running");
            // SAFETY: the sender's reader count (see `Plan::restrict_to_process`) is held
            // until the `release` below.
            let value = unsafe { plan.borrow_any(t) };
            match value
                .ok_or_else(|| "no result".to_string())
                .and_then(|value| codec.encode(value))
            {
                Ok(bytes) => {
                    for p in self.processes_in(dests) {
                        messages.push(self.envelope(p, t, Body::Value(bytes.clone())));
                    }
                }
                Err(e) => {
                    let message = format!("its result could not be encoded: {e}");
                    plan.fail(t, TaskFailure::Failed(message.clone().into()), 1);
                    failure = Some((false, message, 1));
                }
            }
        } else {
            failure = failure_of(plan, t);
        }
        match failure {
            // Everyone must learn the error, readers or not.
            Some((panicked, message, attempts)) => {
                for p in (0..self.processes).filter(|&p| p != self.me) {
                    let body = Body::Failed {
                        panicked,
                        message: message.clone(),
                        attempts,
                    };
                    messages.push(self.envelope(p, t, body));
                }
            }
            None if !succeeded => {
                let reason = plan.halt_reason();
                for p in self.processes_in(dests) {
                    messages.push(self.envelope(p, t, Body::Skipped { reason }));
                }
            }
            None => {}
        }
        if dests != 0 {
            plan.release(t);
        }
        self.queue.lock().extend(messages);
        self.waker.unpark();
    }

    fn processes_in(&self, set: u64) -> impl Iterator<Item = u32> {
        (0..self.processes).filter(move |&p| set & (1 << p) != 0)
    }

    fn envelope(&self, to: u32, task: u32, body: Body) -> Envelope {
        Envelope {
            to,
            from: self.me,
            task,
            body,
        }
    }
}

/// The failure recorded for task `t`, as text: (panicked, message, attempts).
fn failure_of(plan: &Plan<'_>, t: u32) -> Option<(bool, String, u32)> {
    plan.with_failures(|failures| {
        failures.iter().find(|(task, _, _)| *task == t).map(
            |(_, failure, attempts)| match failure {
                TaskFailure::Failed(e) => (false, e.to_string(), *attempts),
                TaskFailure::Panicked(m) => (true, m.clone(), *attempts),
                TaskFailure::CallbackPanicked { hook, message } => (
                    true,
                    format!("callback `{hook}` panicked: {message}"),
                    *attempts,
                ),
            },
        )
    })
}
