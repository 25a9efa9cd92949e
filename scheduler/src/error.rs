//! What a computation returns when it cannot give results.

/// The boxed error a fallible task returned.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why `compute` failed. Task errors name the failing task's key and function name.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A task returned `Err`.
    #[error("task `{name}` ({key}) failed: {source}")]
    Task {
        key: String,
        name: String,
        #[source]
        source: BoxError,
    },
    /// A task panicked; the panic was caught and the pool is still usable.
    #[error("task `{name}` ({key}) panicked: {message}")]
    Panic {
        key: String,
        name: String,
        message: String,
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
}

impl Error {
    /// The key of the task that failed, when a task failed.
    pub fn key(&self) -> Option<&str> {
        match self {
            Error::Task { key, .. } | Error::Panic { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The display name of the task that failed, when a task failed.
    pub fn task_name(&self) -> Option<&str> {
        match self {
            Error::Task { name, .. } | Error::Panic { name, .. } => Some(name),
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
    pub(crate) fn into_error(self, key: String, name: String) -> Error {
        match self {
            TaskFailure::Failed(source) => Error::Task { key, name, source },
            TaskFailure::Panicked(message) => Error::Panic { key, name, message },
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
