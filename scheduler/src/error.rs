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
    /// A computation started where the thread had too little stack left for it: too
    /// many computations nested inside each other's tasks (see the crate docs' "Limits").
    #[error(
        "computations nested too deep: this one would be level {depth} on its thread, \
         with {stack_left} bytes of stack left (at least {} needed)",
        crate::nesting::MIN_STACK_LEFT
    )]
    NestingTooDeep { depth: usize, stack_left: usize },
    /// A [`Callbacks`](crate::Callbacks) hook panicked, or a `Parallel`'s
    /// [`verbose_to`](crate::Parallel::verbose_to) writer (hook
    /// `"Parallel::verbose_to"`). `key` names the task whose attempt it was called for
    /// (`None` for `threads`, `start`, `finish` and the writer); the computation or map
    /// failed, and the pool is still usable.
    #[error("callback `{hook}` panicked{}: {message}", key.as_ref().map(|k| format!(" for task {k}")).unwrap_or_default())]
    CallbackPanic {
        hook: &'static str,
        key: Option<String>,
        message: String,
    },
    /// A key given by [`Delayed::with_key`](crate::Delayed::with_key) is not unique:
    /// two different nodes of the computation have it.
    #[error("duplicate key `{key}`: {reason}")]
    DuplicateKey { key: String, reason: &'static str },
    /// A broken scheduler invariant; please report it.
    #[error("internal scheduler error: {0}")]
    Internal(String),
    /// Drawing or writing a graph failed.
    #[error(transparent)]
    Viz(#[from] dask_viz::VizError),
    /// An option that cannot be honoured, such as `Scheduler::Threads(0)`.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A [`Parallel`](crate::Parallel) map failed: an item's call returned `Err`,
    /// panicked or ran past the map's timeout.
    #[error(transparent)]
    Parallel(#[from] crate::parallel::ParallelError),
    /// The cluster could not run the computation: a peer that never connected or died, a
    /// result that cannot cross processes, processes that disagree on the graph.
    #[cfg(feature = "cluster")]
    #[error(transparent)]
    Cluster(#[from] crate::cluster::ClusterError),
    /// A [`Memory`](crate::Memory) refused a node or could not use its directory.
    #[error(transparent)]
    Cache(#[from] crate::memory::CacheError),
    /// An invalid `dask::array` operation (mismatched shapes, an axis out of range, ...),
    /// found while the graph was built and reported before any task ran.
    #[cfg(feature = "array")]
    #[error(transparent)]
    Array(#[from] crate::array::ArrayError),
    /// An invalid `dask::dataframe` operation (an unknown column, mismatched types, ...),
    /// found while the graph was built and reported before any task ran.
    #[cfg(feature = "dataframe")]
    #[error(transparent)]
    DataFrame(#[from] crate::dataframe::DataFrameError),
    /// The live dashboard could not be served (feature `dashboard`).
    #[cfg(feature = "dashboard")]
    #[error(transparent)]
    Dashboard(#[from] crate::dashboard::DashboardError),
    /// A SQL statement that cannot be planned (a syntax error with its line and column,
    /// an unknown table or column, an unsupported construct, a type error), reported
    /// before any task ran.
    #[cfg(feature = "sql")]
    #[error(transparent)]
    Sql(#[from] crate::sql::SqlError),
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
            Error::Task { key, .. } | Error::Panic { key, .. } => Some(key),
            Error::Cache(crate::memory::CacheError::NotCacheable { key, .. }) => Some(key),
            _ => None,
        }
    }

    /// The display name of the task that failed, when a task failed, or of the node
    /// [`Memory::cache`](crate::Memory::cache) refused.
    pub fn task_name(&self) -> Option<&str> {
        match self {
            Error::Task { name, .. } | Error::Panic { name, .. } => Some(name),
            Error::Cache(crate::memory::CacheError::NotCacheable { name, .. }) => Some(name),
            _ => None,
        }
    }

    /// The input position of the item that failed, for [`Parallel`](crate::Parallel).
    pub fn item_index(&self) -> Option<usize> {
        match self {
            Error::Parallel(e) => Some(e.item_index()),
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
    /// A [`Callbacks`](crate::Callbacks) hook panicked around the task's attempt.
    CallbackPanicked {
        hook: &'static str,
        message: String,
    },
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
            TaskFailure::CallbackPanicked { hook, message } => Error::CallbackPanic {
                hook,
                key: Some(key),
                message,
            },
        }
    }

    /// The failure of a task whose hook `hook` panicked with `payload`.
    pub(crate) fn callback(hook: &'static str, payload: Box<dyn std::any::Any + Send>) -> Self {
        TaskFailure::CallbackPanicked {
            hook,
            message: panic_message(payload),
        }
    }
}

/// Raised inside the scheduler when an input is not what the task expects. It cannot
/// happen through the typed API; it guards the type-erased result slots.
#[derive(Debug, thiserror::Error)]
#[error("internal scheduler error: {0}")]
pub struct InputMismatch(pub(crate) &'static str);

/// Turns a caught panic payload into its message, and drops the payload where its own
/// `Drop` cannot unwind into the scheduler (a payload whose `Drop` panics is leaked).
pub(crate) fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_string()
    };
    drop_guarded(payload);
    message
}

/// Drops `value` (user data: a result, a panic payload) under a panic guard: a `Drop`
/// that panics must not unwind through a worker or out of `compute`. Returns that
/// panic's message; its own payload is leaked rather than dropped, so the guard ends
/// here instead of recursing.
pub(crate) fn drop_guarded<T>(value: T) -> Option<String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(value))) {
        Ok(()) => None,
        Err(payload) => {
            let message = payload
                .downcast_ref::<&'static str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "<non-string panic payload>".to_string());
            std::mem::forget(payload);
            Some(message)
        }
    }
}
