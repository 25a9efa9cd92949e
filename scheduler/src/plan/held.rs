//! Counter decrements a worker holds back for wide nodes, applied in one atomic step.
//!
//! In a fan-out and join, every task releases the same input (the fan-out's source, read
//! by all of them) and satisfies the same successor (the join, waiting for all of them).
//! Decrementing those two counters once per task, from every worker, makes one cache
//! line bounce between cores per decrement: on two threads, the `lock` instructions on
//! them were most of the executor's own time (perf, 1M-task fan-out), and the second
//! thread brought nothing. A worker therefore counts its decrements of a node with more
//! than [`WIDE`] readers (or inputs) locally and applies them with one `fetch_sub` when
//! it turns to another wide node or finishes its job.
//!
//! Why it stays correct: a decrement by k is the k decrements, in this worker's program
//! order, applied at the flush point. Every borrow of the released result and every
//! store of a satisfying result happened before that `AcqRel` subtraction, so the
//! protocol of `step` holds unchanged. The only effect is timing: a wide node's result
//! is freed, and a wide join becomes ready, at the holder's next flush, which happens
//! before the worker reports its finished tasks, so completion is never missed. The
//! sequential scheduler holds nothing back (results are freed after their last reader,
//! as soon as possible).

use super::Plan;

/// Nodes with more task readers (or inputs) than this have their counters decremented
/// in batches.
pub(crate) const WIDE: usize = if cfg!(loom) { 1 } else { 32 };

/// One worker's held-back decrements: of one wide result's reader count, and of one wide
/// join's pending count. A count of 0 holds nothing.
pub(crate) struct HeldCounts {
    enabled: bool,
    release: (u32, u32),
    satisfy: (u32, u32),
}

impl HeldCounts {
    /// Holds back decrements of wide nodes (a pool's worker).
    pub(crate) const fn batching() -> Self {
        HeldCounts {
            enabled: true,
            release: (0, 0),
            satisfy: (0, 0),
        }
    }

    /// Applies every decrement at once (the sequential scheduler).
    pub(crate) const fn immediate() -> Self {
        HeldCounts {
            enabled: false,
            release: (0, 0),
            satisfy: (0, 0),
        }
    }
}

impl Plan<'_> {
    /// Gives back one reader count of node `d`, now or, for a wide node, at the flush.
    #[inline]
    pub(crate) fn release_held(&self, d: u32, held: &mut HeldCounts) {
        if !held.enabled || self.graph().succs_of(d).len() <= WIDE {
            self.release(d);
            return;
        }
        match &mut held.release {
            (node, count) if *node == d && *count > 0 => *count += 1,
            slot => {
                let (node, count) = std::mem::replace(slot, (d, 1));
                if count > 0 {
                    self.release_by(node, count);
                }
            }
        }
    }

    /// Decrements `pending[s]` now, returning whether `s` became ready; for a wide join
    /// the decrement is held back (false), and a join the flush of another one made
    /// ready is returned through `ready`.
    #[inline]
    pub(crate) fn satisfy_held(
        &self,
        s: u32,
        held: &mut HeldCounts,
        ready: &mut Option<u32>,
    ) -> bool {
        if !held.enabled || self.graph().deps_of(s).len() <= WIDE {
            return self.satisfy(s);
        }
        match &mut held.satisfy {
            (node, count) if *node == s && *count > 0 => *count += 1,
            slot => {
                let (node, count) = std::mem::replace(slot, (s, 1));
                if count > 0 && self.satisfy_by(node, count) {
                    *ready = Some(node);
                }
            }
        }
        false
    }

    /// Applies every held-back decrement. Returns the join it made ready, if any, which
    /// the caller must run (or hand on).
    pub(crate) fn flush_held(&self, held: &mut HeldCounts) -> Option<u32> {
        let (node, count) = std::mem::take(&mut held.release);
        if count > 0 {
            self.release_by(node, count);
        }
        let (node, count) = std::mem::take(&mut held.satisfy);
        (count > 0 && self.satisfy_by(node, count)).then_some(node)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{HeldCounts, WIDE};
    use crate::plan::{Plan, ReadySink};
    use crate::{delayed, map_many_pure, Delayed};

    /// Collects what `notify` hands on.
    #[derive(Default)]
    struct Ready(Vec<u32>);

    impl ReadySink for Ready {
        fn push_ready(&mut self, t: u32) {
            self.0.push(t);
        }

        fn push_notify(&mut self, _task: u32, _lo: u32, _hi: u32) {
            unreachable!("no long successor lists here")
        }
    }

    /// A wide join of `WIDE` values and `sources`.
    fn join(tag: u8, sources: &[&Delayed<u64>]) -> Delayed<u64> {
        let mut inputs: Vec<Delayed<u64>> = (0..WIDE as u64).map(delayed).collect();
        inputs.extend(sources.iter().map(|&s| s.clone()));
        map_many_pure("join", tag, &inputs, |xs: &[&u64]| xs.len() as u64)
    }

    /// Found by tests/graph_shapes.rs (a pool of two threads never finished). A task read
    /// by three wide joins, two of which wait for it alone: notifying them flushes the
    /// held decrement of each join into the next, so each of the last two calls makes
    /// a join ready, and only the last one was handed on.
    #[test]
    fn every_wide_join_made_ready_by_a_flush_is_handed_on() {
        let source = delayed(1u64).map(|v| v + 1);
        let (a, b) = (join(0, &[&source]), join(1, &[&source]));
        // Waits for `a` too: not ready after `source`.
        let c = join(2, &[&source, &a]);
        let outputs = [a, b, c];
        let plan = Plan::build(|list| list.extend(outputs.iter().map(Delayed::node_ref)));
        let g = plan.graph();
        let at = |d: &Delayed<u64>| {
            (0..g.len() as u32)
                .find(|&i| g.key_of(i) == d.key())
                .expect("planned")
        };
        let t = at(&source);
        assert_eq!(g.succs_of(t).len(), 3, "three wide joins read it");
        let mut held = HeldCounts::batching();
        let mut sink = Ready::default();
        plan.execute(t, &mut held);
        let next = plan.notify(t, &mut sink, &mut held);
        let mut ready: Vec<u32> = next.into_iter().chain(sink.0).collect();
        ready.extend(plan.flush_held(&mut held));
        ready.sort_unstable();
        let mut joins = vec![at(&outputs[0]), at(&outputs[1])];
        joins.sort_unstable();
        assert_eq!(ready, joins);
    }
}
