//! What sits in the work-stealing queues.

use crate::plan::Plan;
use crate::sync::{AtomicBool, Ordering, Unparker};

/// One running computation as the pool sees it: the plan, and how to tell the thread
/// that waits for it that it is done. Lives on the waiting thread's stack.
pub(crate) struct Execution<'p, 'g> {
    pub(crate) plan: &'p Plan<'g>,
    done: AtomicBool,
    waiter: Unparker,
}

impl<'p, 'g> Execution<'p, 'g> {
    pub(crate) fn new(plan: &'p Plan<'g>, waiter: Unparker) -> Self {
        Execution {
            plan,
            done: AtomicBool::new(false),
            waiter,
        }
    }

    #[inline]
    pub(crate) fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    /// Reports `finished` more tasks as done; the report that finishes the plan wakes the
    /// waiter.
    ///
    /// # Safety
    /// `this` must point to a live execution. After this call it may be freed at any
    /// moment, so the function takes a raw pointer and touches nothing after `done`.
    pub(crate) unsafe fn report(this: *const Self, finished: usize) {
        // SAFETY: the caller holds unreported finished tasks, so the plan is not complete
        // and the waiter has not returned.
        let exec = unsafe { &*this };
        // AcqRel: every worker's work happens-before the waiter's read of the results.
        if exec.plan.unfinished.fetch_sub(finished, Ordering::AcqRel) == finished {
            let waiter = exec.waiter.clone();
            exec.done.store(true, Ordering::Release);
            // `exec` may be gone now; only the owned `waiter` is used.
            waiter.unpark();
        }
    }
}

/// A pointer to an execution, carried by jobs across threads.
#[cfg(not(loom))]
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExecRef(*const Execution<'static, 'static>);

#[cfg(not(loom))]
// SAFETY: an `Execution` is `Sync` (atomics, a plan of atomics and `Sync` nodes, and an
// `Unparker`); the pointer is only dereferenced while the execution is alive (see
// `Execution::report` and the worker's accounting).
unsafe impl Send for ExecRef {}

#[cfg(not(loom))]
impl ExecRef {
    pub(crate) fn new(exec: &Execution<'_, '_>) -> Self {
        // Lifetimes are erased here; the completion protocol keeps the execution alive
        // while any job or unreported count refers to it.
        ExecRef((exec as *const Execution<'_, '_>).cast::<Execution<'static, 'static>>())
    }

    pub(crate) fn as_ptr(self) -> *const Execution<'static, 'static> {
        self.0
    }

    /// # Safety
    /// The execution must still be alive: the job holding this reference is unprocessed,
    /// or the caller holds unreported finished tasks of it.
    #[inline]
    pub(crate) unsafe fn get<'a>(self) -> &'a Execution<'a, 'a> {
        // SAFETY: the caller's obligation.
        unsafe { &*self.0 }
    }
}

#[cfg(not(loom))]
#[derive(Clone, Copy)]
pub(crate) enum JobKind {
    /// Run this ready task.
    Run(u32),
    /// Run the plan's roots `lo..hi` (indices into `Plan::roots`).
    Roots { lo: u32, hi: u32 },
    /// Decrement the pending counts of successors `lo..hi` of task `task`.
    Notify { task: u32, lo: u32, hi: u32 },
}

#[cfg(not(loom))]
#[derive(Clone, Copy)]
pub(crate) struct Job {
    pub(crate) exec: ExecRef,
    pub(crate) kind: JobKind,
}
