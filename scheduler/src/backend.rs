//! Where a plan's tasks run. [`compute`](crate::compute) picks one [`Backend`] from the
//! configuration and then has one path: plan, run on the backend, report failures,
//! extract the outputs.
//!
//! - [`Sequential`] (`Scheduler::Sync`): every task on the calling thread, in plan order.
//! - The work-stealing [`Pool`] (`Scheduler::Threads`, `exec/`).
//! - A cluster of processes (`Scheduler::Cluster`, `cluster/`).

use std::time::Instant;

use crate::config::{Config, Scheduler};
use crate::error::Error;
#[cfg(not(loom))]
use crate::exec::Pool;
use crate::plan::Plan;

/// What running a plan gave, beside the results left in the plan.
pub(crate) struct Ran {
    /// The tasks that were running when the deadline passed, if it did.
    pub(crate) timed_out: Option<Vec<u32>>,
    /// Whether this process receives the outputs (on a cluster, maybe only process 0).
    pub(crate) outputs_here: bool,
}

/// Runs every task of a plan (or this process's share of it): on return every task
/// has finished or been skipped, and task failures are recorded in the plan. An `Err`
/// is a failure of the backend itself (a cluster peer lost, say), or, for a backend
/// that gathers failures from elsewhere, the computation's error.
pub(crate) trait Backend {
    /// How many threads run tasks, for the observers' `threads` hook.
    fn threads(&self) -> usize;
    fn run(&self, plan: &mut Plan<'_>, deadline: Option<Instant>) -> Result<Ran, Error>;
}

/// `Scheduler::Sync`: the calling thread, in the plan's depth-first order.
pub(crate) struct Sequential;

impl Backend for Sequential {
    fn threads(&self) -> usize {
        1
    }

    fn run(&self, plan: &mut Plan<'_>, deadline: Option<Instant>) -> Result<Ran, Error> {
        Ok(Ran {
            timed_out: plan.run_sequential(deadline),
            outputs_here: true,
        })
    }
}

#[cfg(not(loom))]
impl Backend for &'static Pool {
    fn threads(&self) -> usize {
        Pool::threads(self)
    }

    fn run(&self, plan: &mut Plan<'_>, deadline: Option<Instant>) -> Result<Ran, Error> {
        Ok(Ran {
            timed_out: Pool::run(self, plan, deadline),
            outputs_here: true,
        })
    }
}

/// The backend the configuration asks for; a pool is started (or refused) here, before
/// any hook sees the computation begin. `everywhere`: on a cluster, whether every
/// process receives the outputs or only process 0.
pub(crate) fn for_config(
    config: &Config,
    everywhere: bool,
) -> Result<Box<dyn Backend + '_>, Error> {
    let _ = everywhere;
    Ok(match config.effective_scheduler() {
        Scheduler::Sync => Box::new(Sequential),
        #[cfg(not(loom))]
        Scheduler::Threads(n) => Box::new(Pool::with_threads(n)?),
        // Loom models the protocols, not a pool.
        #[cfg(loom)]
        Scheduler::Threads(_) => Box::new(Sequential),
        #[cfg(feature = "cluster")]
        Scheduler::Cluster => Box::new(crate::cluster::ClusterBackend::new(config, everywhere)),
    })
}
