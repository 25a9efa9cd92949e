//! Running the same graphs on a cluster of processes, through timely dataflow (feature
//! `cluster`).
//!
//! Every process runs the same program: it builds the same graph (keys are
//! deterministic, so plan indices agree) and calls `compute` with
//! [`Scheduler::Cluster`](crate::Scheduler::Cluster). Each process plans the whole graph,
//! derives the same placement of tasks on processes ([`Placement`]), and runs its own
//! tasks on its local work-stealing pool. A result read on another process is encoded
//! with serde (postcard) and sent through a timely exchange channel to that process,
//! where it is stored as if a local task had produced it and wakes its readers. Each
//! `compute` is one timely epoch (two timestamps: one for its messages, then an empty one
//! that closes only when every process has seen the first complete, so that no process
//! returns and exits while another still needs its last progress messages); timely's
//! progress tracking says when the epoch is complete everywhere. Every process returns
//! every output ([`compute_on_first`]: process 0 only).
//!
//! ```no_run
//! use dask::cluster::ClusterConfig;
//! use dask::{delayed, Config};
//!
//! #[delayed]
//! fn square(x: u64) -> u64 { x * x }
//!
//! #[delayed]
//! fn total(xs: Vec<u64>) -> u64 { xs.iter().sum() }
//!
//! // Started as `prog -n 2 -p 0` and `prog -n 2 -p 1` (or with `-h hosts.txt`).
//! let cluster = ClusterConfig::from_env_or_args()?;
//! let sum = total((0..10).map(square).collect::<Vec<_>>());
//! let value = sum.compute_with(&Config::default().cluster(cluster))?;
//! assert_eq!(value, 285); // on every process
//! # Ok::<(), dask::Error>(())
//! ```
//!
//! Limits: a process belongs to one cluster for its life; timely's process set is fixed,
//! so when a process dies the others fail with [`ClusterError::PeerLost`] and the whole
//! cluster must be restarted; every process must call `compute` on the same graphs in the
//! same order (with a [`Config::timeout`](crate::Config::timeout), a process that hangs
//! is given up after as long again, [`ClusterError::Unresponsive`]); results of
//! `Delayed::map` closures and generic functions cannot cross
//! processes (they have no codec), and a graph that would need that is refused before
//! anything runs.

mod config;
mod connect;
mod error;
mod hostfile;
mod layout;
mod message;
mod outgoing;
mod reports;
mod runtime;

pub use config::{ClusterConfig, Placement, MAX_PROCESSES};
pub use error::ClusterError;
pub(crate) use outgoing::Outgoing;
pub(crate) use reports::RemoteTask;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use crate::backend::{Backend, Ran};
use crate::config::{Config, ErrorPolicy};
use crate::error::{Error, TaskFailure};
use crate::exec::{default_threads, Pool};
use crate::plan::{Plan, HALT_CANCEL, HALT_TIMEOUT};
use error::RemoteFailure;
use layout::Layout;
use runtime::{Epoch, Job, Outcome, PlanRef, Runtime};

/// How many tasks of the last computation each process owned (this process's view).
/// For tests and benchmarks.
pub fn last_placement() -> Vec<usize> {
    LAST_PLACEMENT.lock().clone()
}

static LAST_PLACEMENT: parking_lot::Mutex<Vec<usize>> = parking_lot::Mutex::new(Vec::new());

/// Like [`compute_with`](crate::compute_with) on a cluster, but only process 0 receives
/// the outputs (`Some(values)`); the other processes return `Ok(None)` once the
/// computation is complete everywhere. Outputs then cross the network once instead of
/// once per process. Errors are still reported on every process.
///
/// ```no_run
/// use dask::cluster::ClusterConfig;
/// let total = dask::delayed(20u64).map(|v| v + 1);
/// let config = dask::Config::default().cluster(ClusterConfig::from_env_or_args()?);
/// if let Some(value) = dask::cluster::compute_on_first(&total, &config)? {
///     println!("{value}"); // process 0 only
/// }
/// # Ok::<(), dask::Error>(())
/// ```
pub fn compute_on_first<O: crate::Outputs>(
    outputs: O,
    config: &Config,
) -> Result<Option<O::Values>, Error> {
    if config.effective_scheduler() != crate::Scheduler::Cluster {
        return Err(Error::InvalidConfig(
            "dask::cluster::compute_on_first needs Scheduler::Cluster (Config::cluster)".into(),
        ));
    }
    crate::compute::compute_here(outputs, config, false)
}

/// Runs `plan` as this process's share of a cluster computation. Returns whether this
/// process received the outputs (every process when `everywhere`, else process 0), which
/// the plan then holds.
fn run(
    plan: &mut Plan<'_>,
    config: &Config,
    deadline: Option<Instant>,
    everywhere: bool,
) -> Result<bool, Error> {
    if Pool::current().is_some() {
        return Err(Error::InvalidConfig(
            "Scheduler::Cluster cannot run from inside a running task (every process must \
             run the same computations in the same order)"
                .into(),
        ));
    }
    // One cluster computation at a time in this process: epochs are numbered in the
    // order computations reach the timely thread, and every process must number them
    // the same way.
    static ONE_AT_A_TIME: parking_lot::Mutex<()> = parking_lot::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock();
    let cluster = match &config.cluster {
        Some(cluster) => cluster.clone(),
        None => ClusterConfig::from_env_or_args()?,
    };
    cluster.validate()?;
    let runtime = Runtime::get(&cluster)?;
    if let Some(lost) = runtime::lost() {
        return Err(lost.into());
    }
    let (me, processes) = (cluster.index, cluster.processes());
    let layout = Layout::new(plan, processes, me, cluster.placement, everywhere);
    layout.check_codecs(plan)?;
    *LAST_PLACEMENT.lock() = layout.owned.clone();
    let fingerprint = layout::fingerprint(plan);
    plan.restrict_to_process(&layout.local, &layout.arrives, &layout.sends);
    // Process 0's observers that show the tasks other processes run (its dashboard);
    // the others report to process 0 when it has some.
    let watchers: Vec<Arc<dyn crate::observer::Observer>> = plan
        .observers()
        .all()
        .iter()
        .filter(|o| o.interest().remote)
        .cloned()
        .collect();
    let outgoing = Arc::new(Outgoing::new(
        me,
        processes,
        layout.dests,
        runtime.thread.clone(),
        reports::Reports::new(me, !watchers.is_empty()),
    ));
    // Other processes read some local results (or must learn that a task failed).
    plan.add_observer(outgoing.clone());
    let epoch = Arc::new(Epoch::new(outgoing));
    let pool = Pool::with_threads(cluster.threads.unwrap_or_else(default_threads))?;

    let mut job = Some(Job {
        plan: PlanRef::new(plan),
        feed: None,
        epoch: Arc::clone(&epoch),
        arrives: layout.arrives,
        fingerprint,
        watchers: if me == 0 { watchers } else { Vec::new() },
        // The local tasks stop at the deadline; the other processes get as long again
        // (at least a second) to finish theirs before we stop waiting for them.
        give_up: config.timeout.zip(deadline).and_then(|(limit, at)| {
            let grace = limit.max(std::time::Duration::from_secs(1));
            Some((at.checked_add(grace)?, grace))
        }),
    });
    let timed_out = pool.run_fed(plan, deadline, |feed| {
        let mut job = job.take().expect("one start per run");
        job.feed = Some(feed);
        runtime.submit(job);
    });
    if let Some(job) = job.take() {
        // Nothing to do here (no local task, no arrival): the epoch still runs, so that
        // this process sends its greeting and sees the others finish.
        runtime.submit(job);
    }
    epoch.local_done.store(true, Ordering::Release);
    runtime.thread.unpark();
    let outcome = epoch.wait();
    outcome_to_result(plan, config, outcome, timed_out, me)?;
    Ok(everywhere || me == 0)
}

/// `Scheduler::Cluster` as a [`Backend`]: this process runs its share of the plan on
/// its own pool and exchanges results with the others.
pub(crate) struct ClusterBackend<'c> {
    config: &'c Config,
    everywhere: bool,
}

impl<'c> ClusterBackend<'c> {
    pub(crate) fn new(config: &'c Config, everywhere: bool) -> Self {
        ClusterBackend { config, everywhere }
    }
}

impl Backend for ClusterBackend<'_> {
    fn threads(&self) -> usize {
        self.config
            .cluster
            .as_ref()
            .and_then(|c| c.threads)
            .unwrap_or_else(default_threads)
    }

    /// Failures of every process come back as the `Err` (the same on every process).
    fn run(&self, plan: &mut Plan<'_>, deadline: Option<Instant>) -> Result<Ran, Error> {
        run(plan, self.config, deadline, self.everywhere).map(|outputs_here| Ran {
            timed_out: None,
            outputs_here,
        })
    }
}

/// The same error on every process: after the epoch every process knows every failure,
/// and the first by plan order is reported (all of them with `ErrorPolicy::Collect`).
fn outcome_to_result(
    plan: &Plan<'_>,
    config: &Config,
    outcome: Outcome,
    timed_out: Option<Vec<u32>>,
    me: usize,
) -> Result<(), Error> {
    if let Some(lost) = outcome.lost {
        return Err(lost.into());
    }
    if let Some(process) = outcome.mismatch {
        return Err(ClusterError::GraphMismatch { index: me, process }.into());
    }
    let key_and_name = |t: u32| {
        let header = plan.graph().node(t).header();
        (header.key().to_string(), header.name.to_string())
    };
    let mut failures: Vec<(u32, Error)> = plan
        .take_failures()
        .into_iter()
        .map(|(t, failure, attempts)| {
            let (key, name) = key_and_name(t);
            (t, failure.into_error(key, name, attempts))
        })
        .collect();
    for (t, panicked, message, attempts) in outcome.failures {
        let (key, name) = key_and_name(t);
        let failure = if panicked {
            TaskFailure::Panicked(message)
        } else {
            TaskFailure::Failed(Box::new(RemoteFailure(message)))
        };
        failures.push((t, failure.into_error(key, name, attempts)));
    }
    failures.sort_by_key(|(t, _)| *t);
    if !failures.is_empty() {
        let mut errors: Vec<Error> = failures.into_iter().map(|(_, e)| e).collect();
        return Err(match config.errors {
            ErrorPolicy::Collect => Error::Failures(errors),
            _ => errors.swap_remove(0),
        });
    }
    if let Some(error) = crate::compute::halt_error(plan, config, timed_out) {
        return Err(error);
    }
    if let Some((process, reason)) = outcome.stopped_by {
        let reason = match reason {
            HALT_TIMEOUT => "its timeout passed",
            HALT_CANCEL => "it was cancelled",
            _ => "it halted",
        };
        return Err(ClusterError::Stopped {
            process,
            reason: reason.into(),
        }
        .into());
    }
    if let Some((t, detail)) = outcome.decode_errors.into_iter().next() {
        let (key, name) = key_and_name(t);
        return Err(ClusterError::Decode { key, name, detail }.into());
    }
    Ok(())
}
