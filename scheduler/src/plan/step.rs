//! One task's life: run, store, release inputs, wake successors.
//!
//! The protocol, per task `t`:
//! 1. `t` starts only when `pending[t]` reached zero; the `AcqRel` decrement that got
//!    it there makes every input's `store` visible.
//! 2. `t` runs (unless the plan has failed) and stores its result.
//! 3. `t` releases each input: `readers[d]` is decremented with `AcqRel`; whoever brings
//!    it to zero empties the slot, after every other reader's borrow ended. (The last one
//!    may see that it is last with a load instead, and not decrement: `last_of`. A task
//!    that moved every input out, as their last reader, has nothing left to release.)
//! 4. `t` decrements each successor's `pending`; a successor reaching zero is ready (again
//!    possibly seen by a load, without the decrement). One ready successor is returned
//!    to run next on this thread (no queue round trip); the others go to the `ReadySink`.
//!
//! A skipped task (after a failure) still does 3 and 4, so every task is accounted for and
//! completion detection needs no special case.

use std::panic::{catch_unwind, AssertUnwindSafe};

use std::time::Instant;

use super::held::HeldCounts;
use super::slot::SlotValue;
use super::{Plan, FAILED, HALT_CANCEL, HALT_TIMEOUT, RUNNING, SUCCEEDED};
use crate::args::Inputs;
use crate::config::ErrorPolicy;
use crate::error::{drop_guarded, panic_message, TaskFailure};
use crate::prefetch::prefetch;
use crate::sync::Ordering;

/// Successor lists longer than this are handed out as a range job, so that a fan-out to
/// a million tasks is split between workers instead of pushed one task at a time.
pub(crate) const NOTIFY_INLINE: usize = 8;

/// Takes `count` off a counter that only ever decreases and that each of its holders
/// decrements once (a pending count, a reader count); true when this took it to zero.
///
/// When the counter holds exactly `count`, every other holder is done with it and nobody
/// will touch it again, so the caller is last without subtracting: a plain load instead
/// of a locked read-modify-write (about 20 cycles, twice per task of a chain). The
/// counter then stays at `count` instead of 0; nothing reads a finished counter (a failed
/// plan's drop clears every slot whose count is not 0, and clearing an empty slot does
/// nothing). `Acquire` on the load still synchronises with every earlier holder's
/// `AcqRel` subtraction: each was a release, and the load reads the value the last of
/// them wrote (a release sequence of read-modify-writes).
#[inline]
fn last_of(counter: &crate::sync::AtomicU32, count: u32) -> bool {
    counter.load(Ordering::Acquire) == count || counter.fetch_sub(count, Ordering::AcqRel) == count
}

/// Where newly ready work goes when the finishing thread does not run it itself.
pub(crate) trait ReadySink {
    /// Task `t` is ready.
    fn push_ready(&mut self, t: u32);
    /// Successors `lo..hi` of task `t` still need their pending count decremented.
    fn push_notify(&mut self, t: u32, lo: u32, hi: u32);
}

impl Plan<'_> {
    /// Runs task `t` (or skips it when the computation halted, was cancelled, or, when
    /// collecting errors, an input failed), stores its result and releases its inputs.
    /// Successors are not touched. Releases of wide inputs may be held in `held`.
    #[inline]
    pub(crate) fn execute(&self, t: u32, held: &mut HeldCounts) {
        self.prefetch_successors(t);
        let node = self.run_node(t);
        let deps = self.graph().deps_of(t);
        let mut inputs_emptied = false;
        let succeeded = if self.must_skip(deps) {
            node.state.store(FAILED, Ordering::Release);
            false
        } else {
            node.state.store(RUNNING, Ordering::Release);
            let retries = u32::from(self.graph().retries(t));
            // A task that may run again must not move its inputs out: clone them instead.
            let inputs = Inputs::new(self, deps, retries > 0);
            let succeeded = self.run_with_retries(t, &inputs, retries);
            inputs_emptied = inputs.emptied_all();
            node.state.store(
                if succeeded { SUCCEEDED } else { FAILED },
                Ordering::Release,
            );
            succeeded
        };
        if self.run.observers.wants_outcomes() {
            self.run.observers.task_done(self, t, succeeded);
        }
        if inputs_emptied {
            // Each input's slot is empty and its count held by this task alone: there is
            // nothing to free and nobody left to tell.
            return;
        }
        for &d in deps {
            self.release_held(d, held);
        }
    }

    /// Asks the CPU to load the first successors' nodes while `t` runs: one of them is
    /// usually the next task on this thread (see `notify`), and a big graph's nodes are
    /// cold by then (built long before, in another order).
    #[inline]
    fn prefetch_successors(&self, t: u32) {
        for &s in self.graph().succs_of(t).iter().take(2) {
            prefetch(self.graph().node(s));
            prefetch(self.run_node(s));
        }
    }

    #[inline]
    fn must_skip(&self, deps: &[u32]) -> bool {
        if self.is_halted() {
            return true;
        }
        if let Some(token) = &self.run.cancel {
            if token.is_cancelled() {
                self.halt(HALT_CANCEL);
                return true;
            }
        }
        // Inputs finished before this task became ready (the pending count's AcqRel
        // orders their state stores before this load).
        self.run.policy == ErrorPolicy::Collect
            && deps
                .iter()
                .any(|&d| self.run_node(d).state.load(Ordering::Relaxed) == FAILED)
    }

    /// Runs the task, again (with `inputs` rewound) after a failure or panic while it has
    /// retries left. Returns whether it produced a value.
    #[inline]
    fn run_with_retries(&self, t: u32, inputs: &Inputs<'_>, retries: u32) -> bool {
        let task = self.graph().node(t);
        let mut attempt = 1;
        loop {
            let header = task.header();
            // Hooks are user code too: a panicking one fails the task like a panicking
            // body, and never unwinds through the worker.
            let observed = if !self.run.observers.wants_attempts() {
                None
            } else {
                // Each observer's call is guarded (see `observer.rs`).
                match self.run.observers.task_started(header, attempt) {
                    Ok(started) => Some(started),
                    Err(payload) => {
                        self.fail(t, TaskFailure::callback("task_started", payload), attempt);
                        return false;
                    }
                }
            };
            let outcome = match catch_unwind(AssertUnwindSafe(|| task.run(inputs))) {
                Ok(outcome) => outcome,
                Err(payload) => Err(TaskFailure::Panicked(panic_message(payload))),
            };
            if let Some(started) = observed {
                let value = outcome.as_ref().ok();
                if let Err(payload) = self
                    .run
                    .observers
                    .task_finished(task, attempt, &started, value)
                {
                    drop_guarded(outcome);
                    self.fail(t, TaskFailure::callback("task_finished", payload), attempt);
                    return false;
                }
            }
            let failure = match outcome {
                Ok(value) => {
                    // SAFETY: `t` is running, so no successor has started and no one else
                    // touches its slot (step 1 of the protocol above).
                    unsafe { self.slot(t).store(value) };
                    return true;
                }
                Err(failure) => failure,
            };
            if attempt > retries || self.is_halted() {
                self.fail(t, failure, attempt);
                return false;
            }
            attempt += 1;
            inputs.rewind();
        }
    }

    /// Gives back one reader count of node `d`, dropping its result after the last.
    #[inline]
    pub(crate) fn release(&self, d: u32) {
        self.release_by(d, 1);
    }

    /// Gives back `count` reader counts of node `d` at once.
    #[inline]
    pub(crate) fn release_by(&self, d: u32, count: u32) {
        // AcqRel: our borrows of the slot happen-before the clear by the last releaser.
        // When the count left is ours alone, nobody else will touch it again: the load
        // says we are last without the locked subtraction (see `last_of`).
        if last_of(&self.run_node(d).readers, count) {
            // SAFETY: the count reached zero, so no reader remains.
            let value = unsafe { self.slot(d).clear() };
            if matches!(value, SlotValue::Owned(_)) {
                // User `Drop` code may panic; it must not unwind through a worker.
                if let Some(message) = drop_guarded(value) {
                    self.fail(d, TaskFailure::Panicked(message), 1);
                }
            }
        }
    }

    /// Decrements `pending[s]`; true when `s` became ready.
    #[inline]
    pub(crate) fn satisfy(&self, s: u32) -> bool {
        self.satisfy_by(s, 1)
    }

    /// Decrements `pending[s]` by `count`; true when `s` became ready.
    #[inline]
    pub(crate) fn satisfy_by(&self, s: u32, count: u32) -> bool {
        // AcqRel: release our stored results to `s`, and acquire the other inputs'
        // results when we are the one making `s` ready. A task with one input (a chain's
        // link) needs no locked subtraction at all (see `last_of`).
        last_of(&self.run_node(s).pending, count)
    }

    /// Step 4: wakes `t`'s successors (wide joins' decrements may be held in `held`).
    /// Returns one ready successor to run next here.
    #[inline]
    pub(crate) fn notify<S: ReadySink>(
        &self,
        t: u32,
        sink: &mut S,
        held: &mut HeldCounts,
    ) -> Option<u32> {
        let succs = self.graph().succs_of(t);
        let mut next = None;
        let inline = if succs.len() > NOTIFY_INLINE {
            sink.push_notify(t, NOTIFY_INLINE as u32, succs.len() as u32);
            &succs[..NOTIFY_INLINE]
        } else {
            succs
        };
        let mut ready = |s: u32| {
            if next.is_none() {
                next = Some(s);
            } else {
                sink.push_ready(s);
            }
        };
        for &s in inline {
            // Another wide join, made ready by the flush of the held decrements. Each
            // successor that is a wide join flushes the one held before it, so each call
            // may make one ready: kept for the end of the loop, a join was lost whenever
            // the next call made another one ready (a task read by three wide joins, two
            // of them waiting for it alone: the computation never finished).
            let mut flushed = None;
            if self.satisfy_held(s, held, &mut flushed) {
                ready(s);
            }
            if let Some(join) = flushed {
                ready(join);
            }
        }
        next
    }

    /// Runs every task on the calling thread in plan order: a depth-first post-order of
    /// the outputs, deterministic from run to run. Needs no pending counts. With a
    /// deadline, checked before each task as the pool does (no task starts after it),
    /// the task that was running when it passed is reported and the rest is skipped; a
    /// computation whose last task ends after the deadline keeps its result.
    pub(crate) fn run_sequential(&self, deadline: Option<Instant>) -> Option<Vec<u32>> {
        let mut timed_out = None;
        // The last task started before the deadline: the deadline passed while it ran
        // (or in the moment after it).
        let mut last: Option<u32> = None;
        for t in 0..self.graph().len() as u32 {
            if !self.graph().is_task(t) {
                continue;
            }
            if let (None, Some(d)) = (&timed_out, deadline) {
                if Instant::now() >= d {
                    self.halt(HALT_TIMEOUT);
                    timed_out = Some(last.into_iter().collect());
                } else {
                    last = Some(t);
                }
            }
            self.execute(t, &mut HeldCounts::immediate());
        }
        timed_out
    }
}
