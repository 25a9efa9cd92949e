//! What a computation returns when it cannot give results.

/// The boxed error a fallible task returned.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why `compute` failed. Task errors name the failing task's key and function name.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A task returned `Err` (on its last attempt, when it had retries).
    #[error("task `{name}` ({key}) failed{}: {source}", attempts_note(*attempts))]
    Task {
        key: String,
        name: String,
        attempts: u32,
        #[source]
        source: BoxError,
    },
    /// A task panicked; the panic was caught and the pool is still usable.
    #[error("task `{name}` ({key}) panicked{}: {message}", attempts_note(*attempts))]
    Panic {
        key: String,
        name: String,
        attempts: u32,
        message: String,
    },
    /// With [`ErrorPolicy::Collect`](crate::ErrorPolicy::Collect): every task that
    /// failed, in the order they failed. Tasks downstream of them did not run.
    #[error("{} tasks failed; first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    Failures(Vec<Error>),
    /// The computation's [`CancelToken`](crate::CancelToken) was cancelled.
    #[error("the computation was cancelled")]
    Cancelled,
    /// The computation ran longer than [`Config::timeout`](crate::Config::timeout).
    #[error(
        "the computation timed out after {after:?}; tasks still running then: {}",
        running_list(running)
    )]
    Timeout {
        after: std::time::Duration,
        /// Keys of the tasks that were running at the deadline. A task that started in
        /// the very instant of the deadline may be missing: seeing it for sure would
        /// cost every task a full memory fence, for the sake of this report.
        running: Vec<String>,
    },
    /// A broken scheduler invariant; please report it.
    #[error("internal scheduler error: {0}")]
    Internal(String),
    /// Drawing or writing a graph failed.
    #[error(transparent)]
    Viz(#[from] dask_viz::VizError),
    /// An option that cannot be honoured, such as `Scheduler::Threads(0)`.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// [`Parallel`](crate::Parallel): the call for the item at `index` (its position in
    /// the input) returned `Err`. Items not yet started were cancelled.
    #[error("item {index} failed: {source}")]
    Item {
        index: usize,
        #[source]
        source: BoxError,
    },
    /// The cluster could not run the computation: a peer that never connected or died, a
    /// result that cannot cross processes, processes that disagree on the graph.
    #[cfg(feature = "cluster")]
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
    /// [`Parallel`](crate::Parallel): the call for the item at `index` panicked. Items not
    /// yet started were cancelled; the pool is still usable.
    #[error("item {index} panicked: {message}")]
    ItemPanic { index: usize, message: String },
    /// [`Memory::cache`](crate::Memory::cache) refused a node whose key does not name its
    /// value in every run: it, or a node upstream of it, is not pure. `reason` names
    /// that node and says what to change.
    #[error("cannot cache `{name}` ({key}): {reason}")]
    NotCacheable {
        key: String,
        name: String,
        reason: String,
    },
    /// An invalid `dask::array` operation (mismatched shapes, an axis out of range, ...),
    /// found while the graph was built and reported before any task ran.
    #[cfg(feature = "array")]
    #[error(transparent)]
    Array(#[from] crate::array::ArrayError),
    /// A [`Memory`](crate::Memory) could not use its directory.
    #[error("cache directory: cannot {action} {}: {source}", path.display())]
    CacheIo {
        /// What was attempted: `create`, `write`, `list`, `inspect`, `remove`.
        action: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    }
}

fn running_list(keys: &[String]) -> String {
    if keys.is_empty() {
        "none".to_string()
    } else {
        keys.join(", ")
    }
}

impl Error {
    /// The key of the task that failed, when a task failed, or of the node
    /// [`Memory::cache`](crate::Memory::cache) refused.
    pub fn key(&self) -> Option<&str> {
        match self {
            Error::Task { key, .. }
            | Error::Panic { key, .. }
            | Error::NotCacheable { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The display name of the task that failed, when a task failed, or of the node
    /// [`Memory::cache`](crate::Memory::cache) refused.
    pub fn task_name(&self) -> Option<&str> {
        match self {
            Error::Task { name, .. }
            | Error::Panic { name, .. }
            | Error::NotCacheable { name, .. } => Some(name),
            _ => None,
        }
    }

    /// The input position of the item that failed, for [`Parallel`](crate::Parallel).
    pub fn item_index(&self) -> Option<usize> {
        match self {
            Error::Item { index, .. } | Error::ItemPanic { index, .. } => Some(*index),
            _ => None,
        }
    }
}

/// How one task failed, before the plan attaches its key and name. Generated code
/// returns it; users see [`Error`].
#[doc(hidden)]
#[derive(Debug)]
pub enum TaskFailure {
    Failed(BoxError),
    Panicked(String),
}

impl TaskFailure {
    pub(crate) fn into_error(self, key: String, name: String, attempts: u32) -> Error {
        match self {
            TaskFailure::Failed(source) => Error::Task {
                key,
                name,
                attempts,
                source,
            },
            TaskFailure::Panicked(message) => Error::Panic {
                key,
                name,
                attempts,
                message,
            },
        }
    }
}

/// Raised inside the scheduler when an input is not what the task expects. It cannot
/// happen through the typed API; it guards the type-erased result slots.
#[derive(Debug, thiserror::Error)]
#[error("internal scheduler error: {0}")]
pub struct InputMismatch(pub(crate) &'static str);

/// Turns a caught panic payload into its message.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}
