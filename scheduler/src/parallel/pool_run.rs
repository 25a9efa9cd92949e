//! Running one closure on several workers of our pool, borrowing from the caller.
//!
//! The workers are ordinary tasks of a computation, so they go wherever `compute` sends
//! tasks: the pool of the requested size, or, inside a task, the pool already running it
//! (nested maps add no threads). Tasks must be `'static`; the closure is not (it borrows
//! the caller's items and function), so the tasks carry a type-erased pointer to it.

use crate::args::Inputs;
use crate::config::{Config, Scheduler};
use crate::delayed::{task_node, Delayed};
use crate::error::{Error, TaskFailure};
#[cfg(not(loom))]
use crate::exec::Pool;
use crate::node::{no_codec, NodeHeader};

/// A borrowed `&W` without its lifetime, and the function that calls it.
#[derive(Clone, Copy)]
struct ErasedWork {
    work: *const (),
    call: unsafe fn(*const ()),
}

// SAFETY: `ErasedWork` is created only from a `&W` with `W: Sync` (see `run_workers`), so
// calling it from any thread is what `W: Sync` allows.
unsafe impl Send for ErasedWork {}
unsafe impl Sync for ErasedWork {}

impl ErasedWork {
    /// # Safety
    /// The `&W` it was made from is still live.
    unsafe fn run(self) {
        // SAFETY: by the contract.
        unsafe { (self.call)(self.work) }
    }
}

/// # Safety
/// `work` points to a live `W`.
unsafe fn call_erased<W: Fn() + Sync>(work: *const ()) {
    // SAFETY: by the contract, and `W` is the type the pointer was made from.
    unsafe { (*work.cast::<W>())() }
}

/// Runs `work` once on each of `workers` tasks and returns when all have returned.
/// `n_jobs` is what the user asked for, to name it in errors.
///
/// `work` must not panic (the map catches its callers' panics itself); if it does, the
/// panic fails the computation like any task's, and the error is returned.
pub(crate) fn run_workers<W: Fn() + Sync>(
    work: &W,
    workers: usize,
    n_jobs: i32,
) -> Result<(), Error> {
    let erased = ErasedWork {
        work: (work as *const W).cast(),
        call: call_erased::<W>,
    };
    let tasks: Vec<Delayed<()>> = (0..workers)
        .map(|i| {
            let header = NodeHeader::with_id("parallel", "dask::Parallel", i as u64);
            task_node(
                header,
                (),
                move |_: &(), _: &Inputs<'_>| {
                    // SAFETY: `work` outlives every run of this task: `compute_with` below
                    // returns only after every task of its plan has finished or been skipped,
                    // and no task of the plan starts after that (the completion protocol of
                    // `exec`); the nodes are dropped before `run_workers` returns and nothing
                    // else holds them.
                    unsafe { erased.run() };
                    Ok::<(), TaskFailure>(())
                },
                no_codec,
            )
        })
        .collect();
    let config = Config::default();
    #[cfg(not(loom))]
    let config = match Pool::current() {
        Some(_) => config,
        None => config.scheduler(Scheduler::Threads(pool_threads(workers, n_jobs)?)),
    };
    #[cfg(loom)]
    let config = {
        let _ = n_jobs;
        config.scheduler(Scheduler::Sync)
    };
    let outcome = crate::compute_with(&tasks, &config).map(drop);
    drop(tasks);
    outcome
}

/// The size of the pool that runs a map's `workers` loops from outside any pool: the
/// pool of `workers` threads, or, when the process runs as many pool sizes as it keeps
/// (pools never stop), the smallest larger one, else the largest (see
/// [`Parallel::new`](crate::Parallel::new)). Either way at most `workers` calls run at
/// once: the map starts one loop per worker.
#[cfg(not(loom))]
fn pool_threads(workers: usize, n_jobs: i32) -> Result<usize, Error> {
    match Pool::with_threads_or_nearest(workers) {
        Ok(pool) => Ok(pool.threads()),
        Err(Error::InvalidConfig(reason)) => {
            // The pool's own message names `Scheduler::Threads`, which this user never
            // set: name what they did set.
            let prefix = format!("Scheduler::Threads({workers}): ");
            let reason = reason.strip_prefix(&prefix).unwrap_or(&reason);
            Err(Error::InvalidConfig(format!(
                "Parallel::new({n_jobs}): could not start a pool of {workers} worker \
                 threads ({reason}); ask for fewer workers, or -1 for one per core"
            )))
        }
        Err(error) => Err(error),
    }
}

/// Whether a computation started outside the pool waits for a worker of the pool this
/// thread works for. A map's worker then ends its round after the claim in hand, and the
/// map queues a new round behind it: concurrent maps and computations from other threads
/// take turns instead of waiting until a long map is done. Made once per round (the pool
/// lookup is a thread-local read), asked once per claim (two atomic loads).
pub(crate) fn others_waiting() -> impl Fn() -> bool {
    #[cfg(not(loom))]
    let pool = Pool::current();
    move || {
        #[cfg(not(loom))]
        return pool.is_some_and(Pool::has_waiting_work);
        #[cfg(loom)]
        false
    }
}

/// Whether the calling thread is a worker of one of our pools: it then runs pool work,
/// and must not block waiting for other workers (see `imap`'s module docs).
pub(crate) fn on_pool_worker() -> bool {
    #[cfg(not(loom))]
    return Pool::current().is_some();
    #[cfg(loom)]
    false
}
