//! What can go wrong on a cluster besides a task failing.

/// Why a cluster computation failed when no task did (task failures are the usual
/// [`Error::Task`](crate::Error::Task) and [`Error::Panic`](crate::Error::Panic), the same
/// on every process).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// The cluster description cannot work (bad arguments, index out of range, ...).
    #[error("invalid cluster configuration: {0}")]
    Config(String),
    /// Some processes did not connect in time.
    #[error(
        "process {index} could not connect to process(es) {missing:?} within {waited:?}{}; \
         start every process (same binary, same -n and host list, its own -p)",
        detail_note(detail)
    )]
    Connect {
        index: usize,
        missing: Vec<usize>,
        waited: std::time::Duration,
        detail: String,
    },
    /// A task's result would have to cross processes, but its type has no codec.
    #[error(
        "task `{name}` ({key}) returns `{type_name}`, which another process reads, but it is \
         not serializable; derive `serde::Serialize` and `serde::Deserialize` for it (results \
         of `Delayed::map` closures and of generic functions cannot cross processes)"
    )]
    NotSerializable {
        key: String,
        name: String,
        type_name: String,
    },
    /// A process died or its connection broke. Timely's set of processes is fixed, so
    /// the cluster cannot continue: every later computation fails the same way.
    #[error(
        "lost the connection to {} ({detail}); a timely cluster cannot continue without one \
         of its processes: stop the others and restart every process to rerun",
        peer_name(*process)
    )]
    PeerLost {
        process: Option<usize>,
        detail: String,
    },
    /// A computation with a [`Config::timeout`](crate::Config::timeout) was still not
    /// complete on every process this long after its deadline (a process hangs in a task
    /// or stopped computing). The cluster's epochs can no longer agree, so, as after a
    /// lost process, every later computation fails too.
    #[error(
        "the computation was still not complete on every process {waited:?} after its \
         timeout (a process hangs, or does not run the same computations); the cluster \
         cannot continue: stop every process and restart them to rerun"
    )]
    Unresponsive { waited: std::time::Duration },
    /// Processes built different graphs (they must run the same program on the same
    /// input, computing the same outputs in the same order).
    #[error(
        "process {process} built a different graph for this computation than process {index}; \
         every process must build the same graph and compute it at the same point"
    )]
    GraphMismatch { index: usize, process: usize },
    /// A result received from another process could not be decoded.
    #[error("the result of task `{name}` ({key}) received from another process could not be decoded: {detail}")]
    Decode {
        key: String,
        name: String,
        detail: String,
    },
    /// Another process stopped the computation without a task failing (its timeout or
    /// cancellation).
    #[error("process {process} stopped the computation ({reason})")]
    Stopped { process: usize, reason: String },
}

fn detail_note(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(" ({detail})")
    }
}

fn peer_name(process: Option<usize>) -> String {
    match process {
        Some(p) => format!("process {p}"),
        None => "another process".to_string(),
    }
}

/// A task's error as another process reports it: its message only (the error value
/// itself stays on the process where the task ran).
#[derive(Debug)]
pub(crate) struct RemoteFailure(pub(crate) String);

impl std::fmt::Display for RemoteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RemoteFailure {}
