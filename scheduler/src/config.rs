//! Options of a computation.

use std::time::Duration;

#[cfg(not(loom))]
use crate::exec::{default_threads, Pool};
use std::sync::Arc;

use crate::diagnostics::{Callbacks, Profiler, UserCallbacks};
use crate::observer::Observers;
use crate::{CancelToken, Error};

/// Which scheduler runs the tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scheduler {
    /// The persistent work-stealing pool with this many threads (created on first use,
    /// then reused by every computation that asks for this size).
    Threads(usize),
    /// Every task on the calling thread, one after the other, in a deterministic
    /// depth-first order (a task's inputs in the order the program built them): for
    /// debugging and as the reference for tests.
    Sync,
    /// Every process of a cluster runs the same program and builds the same graph; each
    /// task runs on the process that owns it (feature `cluster`). The cluster comes from
    /// [`Config::cluster`], or else from the environment or the command line (see
    /// [`ClusterConfig::from_env_or_args`](crate::cluster::ClusterConfig::from_env_or_args)).
    #[cfg(feature = "cluster")]
    Cluster,
}

/// Options for [`compute_with`](crate::compute_with).
///
/// `Config::default()` runs on the shared pool with one thread per core; inside a task
/// that is already running on a pool, it runs on that same pool, so nested computations
/// add no threads.
///
/// ```
/// use dask::{Config, Scheduler};
/// let x = dask::delayed(2).map(|v| v * 21);
/// let config = Config::default().scheduler(Scheduler::Sync);
/// assert_eq!(dask::compute_with(&[x], &config).unwrap(), vec![42]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Config {
    scheduler: Option<Scheduler>,
    pub(crate) cancel: Option<CancelToken>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) errors: ErrorPolicy,
    pub(crate) callbacks: Hooks,
    pub(crate) progress: bool,
    #[cfg(feature = "cluster")]
    pub(crate) cluster: Option<crate::cluster::ClusterConfig>,
}

/// The callbacks and profilers a configuration carries.
#[derive(Clone, Default, Debug)]
pub(crate) struct Hooks(pub(crate) Observers);

/// What a failing task does to the rest of the computation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorPolicy {
    /// Stop scheduling at the first failure and return it (the default, as Dask).
    #[default]
    FailFast,
    /// Run everything not downstream of a failure and return every error
    /// ([`Error::Failures`]) with its task's key.
    Collect,
}

impl Config {
    /// Chooses the scheduler.
    pub fn scheduler(mut self, scheduler: Scheduler) -> Self {
        self.scheduler = Some(scheduler);
        self
    }

    /// Lets another thread cancel the computation; see [`CancelToken`].
    pub fn cancel_token(mut self, token: CancelToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Stops the computation when it has run for `limit`: no new task starts after the
    /// deadline, the tasks running then finish (a task cannot be interrupted), and the
    /// result is [`Error::Timeout`] naming them.
    ///
    /// ```
    /// use std::time::Duration;
    /// let slow = dask::delayed(()).map(|_| std::thread::sleep(Duration::from_millis(200)));
    /// let err = slow.compute_with(&dask::Config::default().timeout(Duration::from_millis(20)));
    /// assert!(matches!(err, Err(dask::Error::Timeout { .. })));
    /// ```
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// Registers callbacks, called as tasks start and finish (see [`Callbacks`]).
    pub fn callback(self, callbacks: impl Callbacks) -> Self {
        self.observer(Arc::new(UserCallbacks(callbacks)))
    }

    /// Records every task of the computation in `profiler`.
    pub fn profiler(self, profiler: &Profiler) -> Self {
        self.observer(profiler.observer())
    }

    /// Draws `tasks done / total`, rate and ETA on stderr while computing, when stderr is
    /// a terminal (silent otherwise).
    pub fn progress(mut self, show: bool) -> Self {
        self.progress = show;
        self
    }

    /// Shows this configuration's computations on `dashboard` while they run.
    #[cfg(feature = "dashboard")]
    pub fn dashboard(self, dashboard: &crate::Dashboard) -> Self {
        self.observer(dashboard.observer())
    }

    /// Adds an observer of the executor (what `callback`, `profiler` and `dashboard`
    /// register).
    pub(crate) fn observer(mut self, observer: Arc<dyn crate::observer::Observer>) -> Self {
        self.callbacks.0.push(observer);
        self
    }

    /// Runs on the cluster `cluster` describes (and selects [`Scheduler::Cluster`]).
    #[cfg(feature = "cluster")]
    pub fn cluster(mut self, cluster: crate::cluster::ClusterConfig) -> Self {
        self.scheduler = Some(Scheduler::Cluster);
        self.cluster = Some(cluster);
        self
    }

    /// Chooses between failing fast (default) and collecting every error.
    pub fn errors(mut self, policy: ErrorPolicy) -> Self {
        self.errors = policy;
        self
    }

    /// The scheduler this configuration uses when called from the current thread.
    pub fn effective_scheduler(&self) -> Scheduler {
        #[cfg(not(loom))]
        return self.scheduler.unwrap_or_else(|| match Pool::current() {
            Some(pool) => Scheduler::Threads(pool.threads()),
            None => Scheduler::Threads(default_threads()),
        });
        #[cfg(loom)]
        self.scheduler.unwrap_or(Scheduler::Sync)
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        match self.scheduler {
            #[cfg(not(loom))]
            Some(Scheduler::Threads(n)) => crate::exec::check_threads(n),
            _ => Ok(()),
        }
    }
}
