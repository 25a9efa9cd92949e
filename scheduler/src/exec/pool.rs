//! The persistent thread pools and how a computation enters one.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::Instant;

use crossbeam_deque::{Injector, Stealer, Worker as Deque};
use crossbeam_utils::sync::{Parker, Unparker};
use parking_lot::Mutex;

use super::job::{ExecRef, Execution, Job, JobKind};
use super::sleep::Sleep;
use super::worker::WorkerCtx;
use crate::error::Error;
use crate::nesting::{self, HELP_DEPTH, WORKER_STACK};
use crate::plan::{Plan, HALT_TIMEOUT};

/// A fixed set of worker threads with their stealers. Pools live for the whole process:
/// creating threads per `compute` would cost more than most graphs.
pub(crate) struct Pool {
    pub(crate) injector: Injector<Job>,
    pub(crate) stealers: Box<[Stealer<Job>]>,
    pub(crate) sleep: Sleep,
}

static POOLS: Mutex<Vec<&'static Pool>> = Mutex::new(Vec::new());
static DEFAULT_POOL: OnceLock<&'static Pool> = OnceLock::new();

thread_local! {
    /// The worker context of this thread, when it is a pool worker.
    static CURRENT_WORKER: Cell<*const WorkerCtx> = const { Cell::new(std::ptr::null()) };
    /// Parks threads outside any pool while they wait for a computation.
    static OUTSIDE_PARKER: Parker = Parker::new();
}

/// The calling thread's worker context, when it is a pool worker.
pub(super) fn current_worker() -> Option<&'static WorkerCtx> {
    // SAFETY: a worker's context lives on its thread's stack for the rest of the thread's
    // life (`run_forever` never returns), and only that thread sees this pointer.
    CURRENT_WORKER.with(|c| unsafe { c.get().as_ref() })
}

/// Number of threads of the default pool: the available cores.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The most workers one pool may have. Far beyond any core count we know of; a larger
/// request is almost surely a mistake (a byte count, a negative number cast), and
/// honouring it would spawn thousands of threads or abort on a failed allocation.
pub(crate) const MAX_THREADS: usize = 1024;

/// The most pools of distinct sizes a process keeps. Pools live for the whole process, so
/// asking for ever new sizes would add threads without bound.
pub(crate) const MAX_POOLS: usize = 8;

/// Refuses pool sizes of 0 and above [`MAX_THREADS`].
pub(crate) fn check_threads(threads: usize) -> Result<(), Error> {
    match threads {
        0 => Err(Error::InvalidConfig(
            "Scheduler::Threads(0): a pool needs at least one thread".into(),
        )),
        n if n > MAX_THREADS => Err(Error::InvalidConfig(format!(
            "Scheduler::Threads({n}): at most {MAX_THREADS} threads per pool"
        ))),
        _ => Ok(()),
    }
}

impl Pool {
    /// The pool with `threads` workers, started on first use and kept. Refuses sizes of
    /// 0 or above [`MAX_THREADS`], a new size once [`MAX_POOLS`] sizes are running, and
    /// reports threads the system would not start.
    pub(crate) fn with_threads(threads: usize) -> Result<&'static Pool, Error> {
        check_threads(threads)?;
        if threads == default_threads() {
            if let Some(pool) = DEFAULT_POOL.get() {
                return Ok(pool);
            }
            let pool = Pool::find_or_start(threads)?;
            return Ok(DEFAULT_POOL.get_or_init(|| pool));
        }
        Pool::find_or_start(threads)
    }

    fn find_or_start(threads: usize) -> Result<&'static Pool, Error> {
        let mut pools = POOLS.lock();
        if let Some(pool) = pools.iter().find(|p| p.stealers.len() == threads) {
            return Ok(pool);
        }
        if pools.len() >= MAX_POOLS {
            let sizes: Vec<usize> = pools.iter().map(|p| p.threads()).collect();
            return Err(Error::InvalidConfig(format!(
                "Scheduler::Threads({threads}): {MAX_POOLS} pools of other sizes are running \
                 already ({sizes:?}), and pools live as long as the process; use one of \
                 those sizes"
            )));
        }
        let pool = Pool::start(threads)?;
        pools.push(pool);
        Ok(pool)
    }

    fn start(threads: usize) -> Result<&'static Pool, Error> {
        let deques: Vec<Deque<Job>> = (0..threads).map(|_| Deque::new_lifo()).collect();
        let parkers: Vec<Parker> = (0..threads).map(|_| Parker::new()).collect();
        let unparkers: Box<[Unparker]> = parkers.iter().map(|p| p.unparker().clone()).collect();
        let pool: &'static Pool = Box::leak(Box::new(Pool {
            injector: Injector::new(),
            stealers: deques.iter().map(Deque::stealer).collect(),
            sleep: Sleep::new(unparkers),
        }));
        for (index, (deque, parker)) in deques.into_iter().zip(parkers).enumerate() {
            let spawned = std::thread::Builder::new()
                .name(format!("dask-worker-{index}"))
                .stack_size(WORKER_STACK)
                .spawn(move || {
                    crate::diagnostics::set_worker_index(index);
                    let ctx = WorkerCtx::new(pool, index, deque, parker);
                    CURRENT_WORKER.with(|c| c.set(&ctx));
                    ctx.run_forever();
                });
            if let Err(error) = spawned {
                // The workers started so far park for good: nothing is ever injected
                // into a pool that is not registered.
                return Err(Error::InvalidConfig(format!(
                    "Scheduler::Threads({threads}): the system refused to start worker \
                     thread {index}: {error}"
                )));
            }
        }
        Ok(pool)
    }

    pub(crate) fn threads(&self) -> usize {
        self.stealers.len()
    }

    /// [`with_threads`](Self::with_threads), except that once [`MAX_POOLS`] sizes are
    /// running and none has `threads` workers, it returns a running pool instead of
    /// refusing: the smallest with more workers, else the largest. For callers that
    /// bound their own concurrency (a `Parallel` map runs one loop per worker it wants).
    pub(crate) fn with_threads_or_nearest(threads: usize) -> Result<&'static Pool, Error> {
        check_threads(threads)?;
        let refused = match Pool::with_threads(threads) {
            Ok(pool) => return Ok(pool),
            Err(error) => error,
        };
        let pools = POOLS.lock();
        if pools.len() < MAX_POOLS {
            return Err(refused); // not the cap: the system would not start the threads
        }
        let larger = pools
            .iter()
            .filter(|p| p.threads() > threads)
            .min_by_key(|p| p.threads());
        larger
            .or_else(|| pools.iter().max_by_key(|p| p.threads()))
            .copied()
            .ok_or(refused)
    }

    /// Whether a computation from outside the pool waits in its global queue.
    pub(crate) fn has_waiting_work(&'static self) -> bool {
        !self.injector.is_empty()
    }

    /// The pool the calling thread works for, if it is a worker.
    pub(crate) fn current() -> Option<&'static Pool> {
        current_worker().map(|ctx| ctx.pool)
    }

    /// Runs `plan` to completion on this pool and returns when every task has finished
    /// or been skipped. With a deadline, the plan is halted when it passes and the tasks
    /// running at that moment are returned.
    pub(crate) fn run(
        &'static self,
        plan: &Plan<'_>,
        deadline: Option<Instant>,
    ) -> Option<Vec<u32>> {
        if nesting::depth() > HELP_DEPTH && Pool::current().is_some() {
            // Too deep in nested waits to take other jobs while waiting (see `nesting`):
            // the inner graph runs here, in order, and the stack grows no further. Also
            // for another pool's graph: parking here instead could leave a job of this
            // worker's own pool, which that graph waits for, with no one to run it.
            return plan.run_sequential(deadline);
        }
        self.run_fed(plan, deadline, |_| {})
    }

    /// [`run`](Self::run), handing `on_start` a [`Feed`] through which another thread
    /// can add ready tasks and account for work done outside the pool (a cluster's
    /// arrivals), before this thread starts waiting.
    pub(crate) fn run_fed(
        &'static self,
        plan: &Plan<'_>,
        deadline: Option<Instant>,
        on_start: impl FnOnce(Feed),
    ) -> Option<Vec<u32>> {
        if plan.unfinished().load(std::sync::atomic::Ordering::Acquire) == 0 {
            return None;
        }
        // The deadline still to watch for; cleared once it has passed.
        let wake_at = Cell::new(deadline);
        let timed_out: Cell<Option<Vec<u32>>> = Cell::new(None);
        let check_deadline = || {
            if wake_at.get().is_some_and(|d| Instant::now() >= d) {
                wake_at.set(None);
                plan.halt(HALT_TIMEOUT);
                timed_out.set(Some(plan.running_tasks()));
            }
        };
        let worker = CURRENT_WORKER.with(|c| c.get());
        // SAFETY: see `current`.
        match unsafe { worker.as_ref() } {
            Some(ctx) => {
                // Nested compute on a worker: it works while it waits instead of
                // blocking. On one of our workers the job goes to its own deque, so one
                // worker is enough and no thread is added. On a worker of another pool
                // the job goes to this pool, and the worker works for its own pool
                // meanwhile: parking instead deadlocked a graph whose tasks compute on
                // the worker's pool in turn (pool A's only worker waits for pool B,
                // whose task waits for a job queued on A).
                let exec = Execution::new(plan, ctx.unparker().clone(), deadline);
                on_start(Feed {
                    pool: self,
                    exec: ExecRef::new(&exec),
                });
                // A job must stand for unfinished work: the execution may complete (and
                // vanish) as soon as its count reaches zero, so there is no empty one.
                if let Some(kind) = exec.first_job() {
                    let job = Job {
                        exec: ExecRef::new(&exec),
                        kind,
                    };
                    if std::ptr::eq(ctx.pool, self) {
                        ctx.push(job);
                    } else {
                        self.injector.push(job);
                        self.sleep.notify_one();
                    }
                }
                ctx.run_until(
                    || {
                        check_deadline();
                        exec.is_done()
                    },
                    &wake_at,
                );
            }
            None => OUTSIDE_PARKER.with(|parker| {
                let exec = Execution::new(plan, parker.unparker().clone(), deadline);
                on_start(Feed {
                    pool: self,
                    exec: ExecRef::new(&exec),
                });
                if let Some(kind) = exec.first_job() {
                    self.injector.push(Job {
                        exec: ExecRef::new(&exec),
                        kind,
                    });
                    self.sleep.notify_one();
                }
                while !exec.is_done() {
                    check_deadline();
                    match wake_at.get() {
                        Some(d) => parker.park_deadline(d),
                        None => parker.park(),
                    }
                }
            }),
        }
        timed_out.take()
    }
}

/// Lets a thread outside the pool take part in one execution: make tasks ready and
/// report work it finished itself (a cluster's arrivals, which count as work to finish).
#[derive(Clone, Copy)]
pub(crate) struct Feed {
    pool: &'static Pool,
    exec: ExecRef,
}

#[cfg_attr(not(feature = "cluster"), allow(dead_code))]
impl Feed {
    /// Hands ready task `t` to the pool.
    ///
    /// # Safety
    /// The caller holds unreported finished work of this execution (see `report`), so
    /// the execution is incomplete and alive.
    pub(crate) unsafe fn push_ready(&self, t: u32) {
        self.pool.injector.push(Job {
            exec: self.exec,
            kind: JobKind::Run(t),
        });
        self.pool.sleep.notify_one();
    }

    /// Reports `finished` units of work done outside the pool.
    ///
    /// # Safety
    /// As for `Execution::report`: the work was counted in the plan's `unfinished` and not
    /// reported yet; the execution may be gone after this call.
    pub(crate) unsafe fn report(&self, finished: usize) {
        // SAFETY: the caller's obligation.
        unsafe { Execution::report(self.exec.as_ptr(), finished) };
    }
}

// SAFETY: `ExecRef` is `Send` (see there); the pool is a `'static` shared structure.
unsafe impl Send for Feed {}
