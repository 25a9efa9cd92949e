//! What sits in the work-stealing queues.

use std::time::Instant;

#[cfg(not(loom))]
use std::sync::Arc;

#[cfg(not(loom))]
use super::chunks::ChunkShare;
use crate::batch::{Batcher, ClaimCursor};
use crate::plan::{Plan, HALT_TIMEOUT};
use crate::sync::{AtomicBool, Ordering, Unparker};

/// One running computation as the pool sees it: the plan, the roots nobody has claimed
/// yet, and how to tell the thread that waits for it that it is done. Lives on the
/// waiting thread's stack.
pub(crate) struct Execution<'p, 'g> {
    pub(crate) plan: &'p Plan<'g>,
    /// The roots (indices into `Plan::roots`) not yet claimed. Workers claim adjacent
    /// ranges, so they work on neighbouring roots together: in a reduction tree a pair
    /// of leaves meets early and its inputs are freed early. Splitting the roots in
    /// halves instead made each worker build a separate subtree, which held a partial
    /// result per level per worker.
    roots: ClaimCursor,
    /// Checked by the report that completes the plan: work that outlasts the timeout is a
    /// timeout even when the waiting thread got no CPU before the work was done, as on
    /// the sequential scheduler.
    deadline: Option<Instant>,
    done: AtomicBool,
    waiter: Unparker,
}

/// The roots a computation starts with, as one claim: one root, so that a graph of a
/// few long roots spreads over the workers at once; claims then grow with measured
/// durations ([`Batcher`](crate::batch::Batcher)).
pub(crate) const FIRST_ROOTS: usize = 1;

/// How many roots the first job owns: [`FIRST_ROOTS`], or fewer if the plan has fewer.
fn first_roots(plan: &Plan<'_>) -> usize {
    FIRST_ROOTS.min(plan.graph().roots().len())
}

impl<'p, 'g> Execution<'p, 'g> {
    /// The execution of `plan`, whose first [`FIRST_ROOTS`] roots (fewer if it has
    /// fewer) are claimed by the job that starts it.
    pub(crate) fn new(plan: &'p Plan<'g>, waiter: Unparker, deadline: Option<Instant>) -> Self {
        Execution {
            plan,
            roots: ClaimCursor::new(first_roots(plan), plan.graph().roots().len()),
            deadline,
            done: AtomicBool::new(false),
            waiter,
        }
    }

    /// The job that starts the execution: it owns the roots `Execution::new` left
    /// claimed. `None` when the plan has no roots (a cluster share may have only work
    /// arriving from other processes).
    #[cfg(not(loom))]
    pub(crate) fn first_job(&self) -> Option<JobKind> {
        let first = first_roots(self.plan) as u32;
        (first > 0).then_some(JobKind::Roots { lo: 0, hi: first })
    }

    /// Claims a range of the roots nobody has claimed, sized by `batcher`; `None` once
    /// all are claimed.
    #[inline]
    pub(crate) fn claim_roots(&self, batcher: &Batcher) -> Option<(u32, u32)> {
        let range = self.roots.claim(batcher)?;
        Some((range.start as u32, range.end as u32))
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
        if exec.plan.unfinished().fetch_sub(finished, Ordering::AcqRel) == finished {
            if exec.deadline.is_some_and(|d| Instant::now() >= d) {
                exec.plan.halt(HALT_TIMEOUT);
            }
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
    /// The execution of a job that belongs to none ([`JobKind::Chunks`]); never
    /// dereferenced.
    pub(crate) const NONE: ExecRef = ExecRef(std::ptr::null());

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
    /// Run the plan's roots `lo..hi` (indices into `Plan::roots`), claimed for this job,
    /// then claim more from the execution's cursor. Owning unfinished roots keeps the
    /// execution alive until the job runs.
    Roots { lo: u32, hi: u32 },
    /// Decrement the pending counts of successors `lo..hi` of task `task`.
    Notify { task: u32, lo: u32, hi: u32 },
    /// Take chunks of a running task's work (see `exec::chunks`). Belongs to no
    /// execution: it may run after the task, and the whole computation, have finished.
    Chunks(ChunksRef),
}

/// One counted reference to a [`ChunkShare`], carried by a job: `Arc::into_raw`, given
/// back by whoever removes the job from the deques (the thief running it, or the owner
/// taking it back).
#[cfg(not(loom))]
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunksRef(*const ChunkShare);

#[cfg(not(loom))]
// SAFETY: the share is `Send + Sync` and reference-counted; the pointer stands for one
// count, which moves with the job.
unsafe impl Send for ChunksRef {}

#[cfg(not(loom))]
impl ChunksRef {
    pub(crate) fn new(share: Arc<ChunkShare>) -> Self {
        ChunksRef(Arc::into_raw(share))
    }

    /// The share, with the count this reference stood for.
    ///
    /// # Safety
    /// Once per reference made by [`new`](Self::new): the job carrying it was removed
    /// from the deques by the caller.
    pub(crate) unsafe fn into_share(self) -> Arc<ChunkShare> {
        // SAFETY: the caller's promise: this count is given back exactly once.
        unsafe { Arc::from_raw(self.0) }
    }
}

#[cfg(not(loom))]
#[derive(Clone, Copy)]
pub(crate) struct Job {
    pub(crate) exec: ExecRef,
    pub(crate) kind: JobKind,
}
