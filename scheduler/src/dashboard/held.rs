//! "Results held": the bytes of a computation's results that are stored and not yet
//! freed, counting those whose size is known (see `crate::result_size`).
//!
//! A result is stored when its task is done and freed when its last reader is done
//! (an output stays until the computation returns it). The executor's `task_done`
//! event gives both moments: the task's own result appears, and each of its inputs
//! loses a reader. The size comes with the attempt's `task_finished`, just before on
//! the same thread ([`measured`]). Only results of known size are tracked, so a graph
//! of plain numbers pays a thread-local read and one relaxed load per task here, and
//! memory grows with the results held, not with the graph.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::Mutex;

use crate::node::NodeHeader;
use crate::plan::Plan;

thread_local! {
    /// The size of the result the last successful attempt on this thread produced,
    /// with its task's header (as an address, to check that `task_done` is about the
    /// same task): set by `task_finished` only when the size is known.
    static MEASURED: Cell<Option<(usize, u64)>> = const { Cell::new(None) };
}

/// An attempt of the task with `header` produced a result of `size` bytes.
#[inline]
pub(crate) fn measured(header: &NodeHeader, size: Option<u64>) {
    if let Some(size) = size {
        MEASURED.with(|m| m.set(Some((header as *const NodeHeader as usize, size))));
    }
}

/// The results of known size one computation (and those nested in it) holds.
#[derive(Default)]
pub(crate) struct Held {
    bytes: AtomicU64,
    results: AtomicU64,
    peak: AtomicU64,
    /// Whether any result was ever tracked: until then, inputs need no look-up.
    any: AtomicBool,
    /// (plan address, node) → (bytes, readers left). The plan's address tells apart
    /// the plans of nested computations, which share this tracker.
    tracked: Mutex<HashMap<(usize, u32), (u64, u32)>>,
}

impl Held {
    /// Task `t` of `plan` is done: its result (if it succeeded) is held until its
    /// readers are done, and its inputs have one reader less.
    #[inline]
    pub(crate) fn task_done(&self, plan: &Plan<'_>, t: u32, succeeded: bool) {
        let at = plan_address(plan);
        if let Some((header, size)) = MEASURED.with(Cell::take) {
            let ours = plan.graph().node(t).header() as *const NodeHeader as usize == header;
            if succeeded && ours {
                // Its readers have not started: the count is the initial one.
                let readers = plan.run_node(t).readers.load(Ordering::Relaxed);
                self.hold(at, t, size, readers);
            }
        }
        if self.any.load(Ordering::Relaxed) {
            self.read(at, plan.graph().deps_of(t));
        }
    }

    /// Starts holding `size` bytes until `readers` readers are done with them.
    #[cold]
    pub(crate) fn hold(&self, plan: usize, node: u32, size: u64, readers: u32) {
        if readers == 0 {
            return;
        }
        self.any.store(true, Ordering::Relaxed);
        self.tracked.lock().insert((plan, node), (size, readers));
        self.results.fetch_add(1, Ordering::Relaxed);
        let now = self.bytes.fetch_add(size, Ordering::Relaxed) + size;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }

    /// One reader of each of `inputs` is done.
    pub(crate) fn read(&self, plan: usize, inputs: &[u32]) {
        let mut tracked = self.tracked.lock();
        for &d in inputs {
            let Some((size, readers)) = tracked.get_mut(&(plan, d)) else {
                continue;
            };
            *readers -= 1;
            if *readers == 0 {
                let size = *size;
                tracked.remove(&(plan, d));
                self.freed(size);
            }
        }
    }

    /// Forgets what `plan` still holds (a nested computation returned its outputs).
    pub(crate) fn forget_plan(&self, plan: usize) {
        let mut tracked = self.tracked.lock();
        let mut freed = Vec::new();
        tracked.retain(|&(p, _), &mut (size, _)| {
            let keep = p != plan;
            if !keep {
                freed.push(size);
            }
            keep
        });
        drop(tracked);
        freed.into_iter().for_each(|size| self.freed(size));
    }

    fn freed(&self, size: u64) {
        self.results.fetch_sub(1, Ordering::Relaxed);
        self.bytes.fetch_sub(size, Ordering::Relaxed);
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    pub(crate) fn results(&self) -> u64 {
        self.results.load(Ordering::Relaxed)
    }

    pub(crate) fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

/// What tells one plan from another while both run.
pub(crate) fn plan_address(plan: &Plan<'_>) -> usize {
    plan as *const Plan<'_> as *const () as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_is_held_until_its_last_reader_is_done() {
        let held = Held::default();
        held.hold(1, 0, 100, 2);
        held.hold(1, 1, 30, 1);
        held.hold(2, 0, 5, 1); // another plan's node 0
        assert_eq!((held.bytes(), held.results(), held.peak()), (135, 3, 135));
        held.read(1, &[0]);
        assert_eq!(held.bytes(), 135, "one reader of two is done");
        held.read(1, &[0, 1, 7]); // node 7 is not tracked (its size is unknown)
        assert_eq!((held.bytes(), held.results()), (5, 1));
        held.forget_plan(2);
        assert_eq!((held.bytes(), held.results(), held.peak()), (0, 0, 135));
        // Nothing held twice, nothing freed twice.
        held.read(1, &[0, 1]);
        assert_eq!(held.bytes(), 0);
    }

    #[test]
    fn a_result_nobody_reads_is_not_held() {
        let held = Held::default();
        held.hold(1, 0, 100, 0);
        assert_eq!((held.bytes(), held.results()), (0, 0));
    }
}
