//! A worker's loop: run local work, steal, sleep.
//!
//! Accounting: a worker counts the tasks it finished per execution locally and reports
//! them (one atomic subtraction) only when it turns to another execution's job or runs
//! out of work. Tasks then cost no shared counter, and an execution is complete exactly
//! when every worker has reported, which also means no worker still touches its plan.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Instant;

use crossbeam_deque::{Steal, Worker as Deque};
use crossbeam_utils::sync::{Parker, Unparker};
use crossbeam_utils::Backoff;

use super::chunks::{ChunkShare, Panic};
use super::job::{ChunksRef, ExecRef, Execution, Job, JobKind};
use super::pool::Pool;
use crate::batch::Batcher;
use crate::plan::{HeldCounts, ReadySink};

pub(crate) struct WorkerCtx {
    pub(crate) pool: &'static Pool,
    index: usize,
    deque: Deque<Job>,
    parker: Parker,
}

/// Finished-but-unreported tasks of one execution.
struct Account {
    exec: Option<ExecRef>,
    finished: usize,
}

impl Account {
    fn new() -> Self {
        Account {
            exec: None,
            finished: 0,
        }
    }

    #[inline]
    fn switch_to(&mut self, exec: ExecRef) {
        if self.exec != Some(exec) {
            self.report();
            self.exec = Some(exec);
        }
    }

    #[inline]
    fn report(&mut self) {
        if let Some(exec) = self.exec.take() {
            if self.finished > 0 {
                // SAFETY: unreported finished tasks keep the execution incomplete, hence
                // alive; `report` touches nothing after the final decrement.
                unsafe { Execution::report(exec.as_ptr(), self.finished) };
                self.finished = 0;
            }
        }
    }
}

struct Sink<'w> {
    ctx: &'w WorkerCtx,
    exec: ExecRef,
}

impl ReadySink for Sink<'_> {
    #[inline]
    fn push_ready(&mut self, t: u32) {
        self.ctx.push(Job {
            exec: self.exec,
            kind: JobKind::Run(t),
        });
    }

    #[inline]
    fn push_notify(&mut self, task: u32, lo: u32, hi: u32) {
        self.ctx.push(Job {
            exec: self.exec,
            kind: JobKind::Notify { task, lo, hi },
        });
    }
}

impl WorkerCtx {
    pub(crate) fn new(
        pool: &'static Pool,
        index: usize,
        deque: Deque<Job>,
        parker: Parker,
    ) -> Self {
        WorkerCtx {
            pool,
            index,
            deque,
            parker,
        }
    }

    pub(crate) fn unparker(&self) -> &Unparker {
        self.parker.unparker()
    }

    /// Publishes a job on this worker's deque, waking a sleeper to steal it.
    #[inline]
    pub(crate) fn push(&self, job: Job) {
        self.deque.push(job);
        self.pool.sleep.notify_one();
    }

    pub(crate) fn run_forever(&self) -> ! {
        let never = Cell::new(None);
        loop {
            self.run_until(|| false, &never);
        }
    }

    /// Works until `stop()` holds. Used by the thread's main loop and by a task that
    /// waits for a nested computation. Sleeping, it wakes by `wake_at` at the latest, so
    /// `stop` can watch a deadline.
    pub(crate) fn run_until(&self, stop: impl Fn() -> bool, wake_at: &Cell<Option<Instant>>) {
        let mut account = Account::new();
        loop {
            if stop() {
                account.report();
                return;
            }
            if let Some(job) = self.find_work() {
                self.execute(job, &mut account);
                continue;
            }
            // Out of work: report first, which may complete the execution we wait for.
            account.report();
            if stop() {
                return;
            }
            if let Some(job) = self.spin_for_work(&stop) {
                self.execute(job, &mut account);
                continue;
            }
            if stop() {
                return;
            }
            if let Some(job) = self.sleep(&stop, wake_at.get()) {
                self.execute(job, &mut account);
            } else if stop() {
                return;
            }
        }
    }

    fn spin_for_work(&self, stop: &impl Fn() -> bool) -> Option<Job> {
        let backoff = Backoff::new();
        while !backoff.is_completed() {
            if stop() {
                return None;
            }
            if let Some(job) = self.find_work() {
                return Some(job);
            }
            backoff.snooze();
        }
        None
    }

    #[cold]
    fn sleep(&self, stop: &impl Fn() -> bool, wake_at: Option<Instant>) -> Option<Job> {
        let sleep = &self.pool.sleep;
        sleep.register(self.index);
        let found = self.find_work();
        if found.is_none() && !stop() {
            match wake_at {
                Some(deadline) => self.parker.park_deadline(deadline),
                None => self.parker.park(),
            }
        }
        sleep.unregister(self.index);
        found
    }

    fn find_work(&self) -> Option<Job> {
        if let Some(job) = self.deque.pop() {
            return Some(job);
        }
        loop {
            let mut retry = false;
            match self.pool.injector.steal_batch_and_pop(&self.deque) {
                Steal::Success(job) => return Some(job),
                Steal::Retry => retry = true,
                Steal::Empty => {}
            }
            let stealers = &self.pool.stealers;
            for offset in 1..stealers.len() {
                let victim = (self.index + offset) % stealers.len();
                match stealers[victim].steal_batch_and_pop(&self.deque) {
                    Steal::Success(job) => return Some(job),
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if !retry {
                return None;
            }
        }
    }

    fn execute(&self, job: Job, account: &mut Account) {
        if let JobKind::Chunks(handed) = job.kind {
            // SAFETY: this job was taken off the deques, here, once.
            unsafe { handed.into_share() }.take_part();
            return;
        }
        account.switch_to(job.exec);
        // SAFETY: the job is unprocessed, so its execution is incomplete and alive; from
        // here on `account` holds its finished tasks until it reports.
        let exec = unsafe { job.exec.get() };
        let plan = exec.plan;
        let mut sink = Sink {
            ctx: self,
            exec: job.exec,
        };
        let mut held = HeldCounts::batching();
        let held = &mut held;
        match job.kind {
            JobKind::Run(t) => self.run_chain(t, &mut sink, account, held),
            JobKind::Roots { lo, hi } => self.run_roots(exec, lo, hi, &mut sink, account, held),
            JobKind::Chunks(_) => unreachable!("handled above"),
            JobKind::Notify { task, lo, hi } => {
                let succs = plan.graph().succs_of(task);
                self.for_each_splitting(
                    job.exec,
                    lo,
                    hi,
                    |lo, hi| JobKind::Notify { task, lo, hi },
                    |i| {
                        let s = succs[i as usize];
                        if plan.satisfy(s) {
                            self.run_chain(s, &mut sink, account, held);
                        }
                    },
                );
            }
        }
        // Before the finished tasks can be reported: what a join waits for must reach it.
        while let Some(join) = plan.flush_held(held) {
            self.run_chain(join, &mut sink, account, held);
        }
    }

    /// [`run_chunks`](super::chunks::run_chunks) on this worker: the chunks are offered
    /// to thieves as one job on this deque while this worker takes them too; returns
    /// once all have finished (see `exec::chunks` for why that is enough).
    pub(crate) fn run_chunks_shared(
        &self,
        chunks: usize,
        work: &(dyn Fn(usize) + Sync),
    ) -> Result<(), Panic> {
        // SAFETY: this function returns, or unwinds, only once every chunk has finished
        // (`WaitForChunks` below).
        let share = Arc::new(unsafe { ChunkShare::new(chunks, work) });
        /// Waits until every claimed chunk has finished, also while unwinding: `work`'s
        /// borrows must outlive every call of it.
        struct WaitForChunks<'s>(&'s ChunkShare);
        impl Drop for WaitForChunks<'_> {
            fn drop(&mut self) {
                let backoff = Backoff::new();
                while !self.0.all_finished() {
                    backoff.snooze();
                }
            }
        }
        let waiting = WaitForChunks(&share);
        let handed = ChunksRef::new(Arc::clone(&share));
        self.push(Job {
            exec: ExecRef::NONE,
            kind: JobKind::Chunks(handed),
        });
        share.take_part();
        // Take the job back unless a thief has it. If it is still here it is on top: a
        // computation nested in `work` (a user's `Clone` may compute) empties what it
        // stole onto this deque before it returns. Otherwise the top is other work, which
        // goes back, published again: a sleeper may have looked at this deque while it
        // was off it.
        match self.deque.pop() {
            Some(Job {
                kind: JobKind::Chunks(top),
                ..
            }) if top == handed => {
                // SAFETY: the job is off the deques, taken here once.
                drop(unsafe { top.into_share() });
            }
            Some(other) => self.push(other),
            None => {}
        }
        drop(waiting);
        share.take_panic().map_or(Ok(()), Err)
    }

    /// Runs the claimed roots `lo..hi`, then claims more until none are left.
    ///
    /// Whenever the deque is empty, a thief would find nothing, so the next claim is made
    /// ahead and pushed as a job: a thief takes it and claims alongside, and if nobody
    /// does, this worker pops it next. Claims are adjacent ranges of one cursor, so the
    /// workers move through the roots together.
    ///
    /// Every unclaimed root must stay someone's responsibility, or nobody would claim
    /// it and the computation would never finish. So this worker stops claiming only when
    /// the cursor is exhausted, or when it handed a claim on in this round: that job, or
    /// the thief running it, carries on, and the work pushed on top of it (successors
    /// made ready) runs first, depth-first. Otherwise anything on the deque is older
    /// work (another computation's jobs, when nested), and claiming goes on.
    fn run_roots(
        &self,
        exec: &Execution<'_, '_>,
        mut lo: u32,
        mut hi: u32,
        sink: &mut Sink<'_>,
        account: &mut Account,
        held: &mut HeldCounts,
    ) {
        let roots = exec.plan.graph().roots();
        let mut batcher = Batcher::resume((hi - lo) as usize, self.pool.threads());
        loop {
            // The roots `lo..hi` are claimed and unrun, so the execution is alive here.
            let mut handed_on = false;
            if self.deque.is_empty() {
                if let Some((a, b)) = exec.claim_roots(&batcher) {
                    self.push(Job {
                        exec: sink.exec,
                        kind: JobKind::Roots { lo: a, hi: b },
                    });
                    handed_on = true;
                }
            }
            batcher.start();
            for r in lo..hi {
                self.run_chain(roots[r as usize], sink, account, held);
            }
            batcher.finished((hi - lo) as usize);
            if handed_on {
                match self.deque.pop() {
                    // Taken by a thief: both claim from here on.
                    None => {}
                    // Not taken: it is next, and this loop keeps its batch timing.
                    Some(Job {
                        exec: owner,
                        kind: JobKind::Roots { lo: a, hi: b },
                    }) if owner == sink.exec => {
                        (lo, hi) = (a, b);
                        continue;
                    }
                    // Successors made ready meanwhile: they run first, and the job
                    // handed on (or its thief) carries on afterwards.
                    Some(newer) => {
                        self.deque.push(newer);
                        return;
                    }
                }
            }
            // This worker's finished roots are unreported, so the execution is still
            // alive while it claims.
            match exec.claim_roots(&batcher) {
                Some((a, b)) => (lo, hi) = (a, b),
                None => return,
            }
        }
    }

    /// Calls `each` for `lo..hi` in order, splitting lazily: whenever this worker's deque
    /// is empty (a thief would find nothing), the upper half of what is left is pushed
    /// as a job of its own. Coarse ranges (five long tasks) are shared out at once; fine
    /// ranges nobody steals cost a few pushes in all.
    #[inline]
    fn for_each_splitting(
        &self,
        exec: ExecRef,
        lo: u32,
        mut hi: u32,
        kind: impl Fn(u32, u32) -> JobKind,
        mut each: impl FnMut(u32),
    ) {
        let mut i = lo;
        while i < hi {
            if hi - i > 1 && self.deque.is_empty() {
                let mid = i + (hi - i).div_ceil(2);
                self.push(Job {
                    exec,
                    kind: kind(mid, hi),
                });
                hi = mid;
            }
            each(i);
            i += 1;
        }
    }

    /// Runs `t`, then keeps running one newly ready successor at a time on this thread.
    #[inline]
    fn run_chain(
        &self,
        mut t: u32,
        sink: &mut Sink<'_>,
        account: &mut Account,
        held: &mut HeldCounts,
    ) {
        // SAFETY: as in `execute`.
        let plan = unsafe { sink.exec.get() }.plan;
        loop {
            plan.execute(t, held);
            account.finished += 1;
            match plan.notify(t, sink, held) {
                Some(next) => t = next,
                None => return,
            }
        }
    }
}
