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

/// Number of threads of the default pool: the available cores.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Pool {
    /// The pool with `threads` workers, started on first use and kept.
    pub(crate) fn with_threads(threads: usize) -> &'static Pool {
        assert!(threads > 0, "a pool needs at least one thread");
        if threads == default_threads() {
            return DEFAULT_POOL.get_or_init(|| Pool::find_or_start(threads));
        }
        Pool::find_or_start(threads)
    }

    fn find_or_start(threads: usize) -> &'static Pool {
        let mut pools = POOLS.lock();
        if let Some(pool) = pools.iter().find(|p| p.stealers.len() == threads) {
            return pool;
        }
        let pool = Pool::start(threads);
        pools.push(pool);
        pool
    }

    fn start(threads: usize) -> &'static Pool {
        let deques: Vec<Deque<Job>> = (0..threads).map(|_| Deque::new_lifo()).collect();
        let parkers: Vec<Parker> = (0..threads).map(|_| Parker::new()).collect();
        let unparkers: Box<[Unparker]> = parkers.iter().map(|p| p.unparker().clone()).collect();
        let pool: &'static Pool = Box::leak(Box::new(Pool {
            injector: Injector::new(),
            stealers: deques.iter().map(Deque::stealer).collect(),
            sleep: Sleep::new(unparkers),
        }));
        for (index, (deque, parker)) in deques.into_iter().zip(parkers).enumerate() {
            std::thread::Builder::new()
                .name(format!("dask-worker-{index}"))
                .spawn(move || {
                    crate::diagnostics::set_worker_index(index);
                    let ctx = WorkerCtx::new(pool, index, deque, parker);
                    CURRENT_WORKER.with(|c| c.set(&ctx));
                    ctx.run_forever();
                })
                .expect("failed to spawn a dask worker thread");
        }
        pool
    }

    pub(crate) fn threads(&self) -> usize {
        self.stealers.len()
    }

    /// The pool the calling thread works for, if it is a worker.
    pub(crate) fn current() -> Option<&'static Pool> {
        // SAFETY: a worker's context lives on its thread's stack for the thread's life.
        CURRENT_WORKER.with(|c| unsafe { c.get().as_ref() }.map(|ctx| ctx.pool))
    }

    /// Runs `plan` to completion on this pool and returns when every task has finished
    /// or been skipped. With a deadline, the plan is halted when it passes and the tasks
    /// running at that moment are returned.
    pub(crate) fn run(
        &'static self,
        plan: &Plan<'_>,
        deadline: Option<Instant>,
    ) -> Option<Vec<u32>> {
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
        if plan.unfinished.load(std::sync::atomic::Ordering::Acquire) == 0 {
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
            Some(ctx) if std::ptr::eq(ctx.pool, self) => {
                // Nested compute on one of our workers: help instead of blocking, so one
                // worker is enough and no thread is added.
                let exec = Execution::new(plan, ctx.unparker().clone(), deadline);
                on_start(Feed {
                    pool: self,
                    exec: ExecRef::new(&exec),
                });
                // A job must stand for unfinished work: the execution may complete (and
                // vanish) as soon as its count reaches zero, so there is no empty one.
                if let Some(kind) = exec.first_job() {
                    ctx.push(Job {
                        exec: ExecRef::new(&exec),
                        kind,
                    });
                }
                ctx.run_until(
                    || {
                        check_deadline();
                        exec.is_done()
                    },
                    &wake_at,
                );
            }
            _ => OUTSIDE_PARKER.with(|parker| {
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
