//! One task's life: run, store, release inputs, wake successors.
//!
//! The protocol, per task `t`:
//! 1. `t` starts only when `pending[t]` reached zero; the `AcqRel` decrement that got
//!    it there makes every input's `store` visible.
//! 2. `t` runs (unless the plan has failed) and stores its result.
//! 3. `t` releases each input: `readers[d]` is decremented with `AcqRel`; whoever brings
//!    it to zero empties the slot, after every other reader's borrow ended.
//! 4. `t` decrements each successor's `pending`; a successor reaching zero is ready. One
//!    ready successor is returned to run next on this thread (no queue round trip); the
//!    others go to the `ReadySink`.
//!
//! A skipped task (after a failure) still does 3 and 4, so every task is accounted for and
//! completion detection needs no special case.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::slot::SlotValue;
use super::Plan;
use crate::args::Inputs;
use crate::error::{panic_message, TaskFailure};
use crate::sync::Ordering;

/// Successor lists longer than this are handed out as a range job, so that a fan-out to
/// a million tasks is split between workers instead of pushed one task at a time.
pub(crate) const NOTIFY_INLINE: usize = 8;

/// Where newly ready work goes when the finishing thread does not run it itself.
pub(crate) trait ReadySink {
    /// Task `t` is ready.
    fn push_ready(&mut self, t: u32);
    /// Successors `lo..hi` of task `t` still need their pending count decremented.
    fn push_notify(&mut self, t: u32, lo: u32, hi: u32);
}

impl Plan<'_> {
    /// Runs task `t` (or skips it after a failure), stores its result and releases its
    /// inputs. Successors are not touched.
    #[inline]
    pub(crate) fn execute(&self, t: u32) {
        let node = self.node(t);
        let deps = self.deps_of(t);
        if !self.failed.load(Ordering::Relaxed) {
            let inputs = Inputs::new(self, deps);
            match catch_unwind(AssertUnwindSafe(|| node.node.run(&inputs))) {
                // SAFETY: `t` is running, so no successor has started and no one else
                // touches its slot (step 1 of the protocol above).
                Ok(Ok(value)) => unsafe { node.slot.store(value) },
                Ok(Err(failure)) => self.fail(t, failure),
                Err(payload) => self.fail(t, TaskFailure::Panicked(panic_message(&*payload))),
            }
        }
        for &d in deps {
            self.release(d);
        }
    }

    /// Gives back one reader count of node `d`, dropping its result after the last.
    #[inline]
    pub(crate) fn release(&self, d: u32) {
        let node = self.node(d);
        // AcqRel: our borrow of the slot happens-before the clear by the last releaser.
        if node.readers.fetch_sub(1, Ordering::AcqRel) == 1 {
            // SAFETY: the count reached zero, so no reader remains.
            let value = unsafe { node.slot.clear() };
            if matches!(value, SlotValue::Owned(_)) {
                // User `Drop` code may panic; it must not unwind through a worker.
                if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
                    self.fail(d, TaskFailure::Panicked(panic_message(&*payload)));
                }
            }
        }
    }

    /// Decrements `pending[s]`; true when `s` became ready.
    #[inline]
    pub(crate) fn satisfy(&self, s: u32) -> bool {
        // AcqRel: release our stored result to `s`, and acquire the other inputs' results
        // when we are the one making `s` ready.
        self.node(s).pending.fetch_sub(1, Ordering::AcqRel) == 1
    }

    /// Step 4: wakes `t`'s successors. Returns one ready successor to run next here.
    #[inline]
    pub(crate) fn notify<S: ReadySink>(&self, t: u32, sink: &mut S) -> Option<u32> {
        let succs = self.succs_of(t);
        let mut next = None;
        let inline = if succs.len() > NOTIFY_INLINE {
            sink.push_notify(t, NOTIFY_INLINE as u32, succs.len() as u32);
            &succs[..NOTIFY_INLINE]
        } else {
            succs
        };
        for &s in inline {
            if self.satisfy(s) {
                if next.is_none() {
                    next = Some(s);
                } else {
                    sink.push_ready(s);
                }
            }
        }
        next
    }

    /// Runs every task on the calling thread in plan order: a depth-first post-order of
    /// the outputs, deterministic from run to run. Needs no pending counts.
    pub(crate) fn run_sequential(&self) {
        for (t, node) in self.nodes().iter().enumerate() {
            if node.is_task {
                self.execute(t as u32);
            }
        }
    }
}
