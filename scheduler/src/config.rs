//! Options of a computation.

use crate::exec::{default_threads, Pool};
use crate::Error;

/// Which scheduler runs the tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scheduler {
    /// The persistent work-stealing pool with this many threads (created on first use,
    /// then reused by every computation that asks for this size).
    Threads(usize),
    /// Every task on the calling thread, one after the other, in a deterministic
    /// depth-first order: for debugging and as the reference for tests.
    Sync,
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
}

impl Config {
    /// Chooses the scheduler.
    pub fn scheduler(mut self, scheduler: Scheduler) -> Self {
        self.scheduler = Some(scheduler);
        self
    }

    /// The scheduler this configuration uses when called from the current thread.
    pub fn effective_scheduler(&self) -> Scheduler {
        self.scheduler.unwrap_or_else(|| match Pool::current() {
            Some(pool) => Scheduler::Threads(pool.threads()),
            None => Scheduler::Threads(default_threads()),
        })
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        match self.scheduler {
            Some(Scheduler::Threads(0)) => Err(Error::InvalidConfig(
                "Scheduler::Threads(0): a pool needs at least one thread".into(),
            )),
            _ => Ok(()),
        }
    }
}
