//! Reusing a plan's storage from one computation to the next.
//!
//! A plan of a million tasks needs about 70 MB. Allocations that large come straight from
//! the kernel, and on the virtual machines we measured on, faulting fresh pages in costs
//! as much as running the tasks. So a finished plan hands its (emptied) vectors back, and
//! the next plan starts from them, as long as they are not too big to keep.

use parking_lot::Mutex;

use super::PlanNode;
use crate::node::NodeDyn;

/// Storage kept between computations at most; bigger plans free theirs.
const KEEP_AT_MOST_BYTES: usize = 128 << 20;

#[derive(Default)]
pub(crate) struct PlanBuffers<'g> {
    pub(crate) nodes: Vec<PlanNode<'g>>,
    pub(crate) dep_start: Vec<u32>,
    pub(crate) deps: Vec<u32>,
    pub(crate) dep_positions: Vec<u32>,
    pub(crate) succ_start: Vec<u32>,
    pub(crate) succs: Vec<u32>,
    pub(crate) roots: Vec<u32>,
    pub(crate) stack: Vec<(&'g dyn NodeDyn, bool)>,
    /// The requested output nodes, and their plan indices.
    pub(crate) output_nodes: Vec<&'g dyn NodeDyn>,
    pub(crate) outputs: Vec<u32>,
}

static SPARE: Mutex<Option<PlanBuffers<'static>>> = Mutex::new(None);

impl<'g> PlanBuffers<'g> {
    /// Empty buffers, with the capacity of an earlier plan when one was kept.
    pub(crate) fn take() -> Self {
        // `PlanBuffers` is covariant in `'g`: empty 'static buffers serve any plan.
        SPARE.lock().take().unwrap_or_default()
    }

    /// Empties the buffers (dropping what the plan still holds) and keeps them for the
    /// next plan if they are small enough.
    pub(crate) fn give_back(mut self) {
        self.nodes.clear();
        let bytes = self.nodes.capacity() * std::mem::size_of::<PlanNode<'_>>()
            + (self.dep_start.capacity()
                + self.deps.capacity()
                + self.dep_positions.capacity()
                + self.succ_start.capacity()
                + self.succs.capacity()
                + self.roots.capacity()
                + self.outputs.capacity())
                * 4
            + self.stack.capacity() * std::mem::size_of::<(&dyn NodeDyn, bool)>()
            + self.output_nodes.capacity() * std::mem::size_of::<&dyn NodeDyn>();
        if bytes > KEEP_AT_MOST_BYTES {
            return;
        }
        let spare = PlanBuffers {
            nodes: forget_lifetime(self.nodes),
            dep_start: cleared(self.dep_start),
            deps: cleared(self.deps),
            dep_positions: cleared(self.dep_positions),
            succ_start: cleared(self.succ_start),
            succs: cleared(self.succs),
            roots: cleared(self.roots),
            stack: forget_lifetime(self.stack),
            output_nodes: forget_lifetime(self.output_nodes),
            outputs: cleared(self.outputs),
        };
        *SPARE.lock() = Some(spare);
    }
}

fn cleared(mut v: Vec<u32>) -> Vec<u32> {
    v.clear();
    v
}

/// Turns an empty vector of borrowed items into one of `'static` items, keeping its
/// allocation: in-place collection reuses the buffer when the layouts match (they do:
/// only the lifetime differs). Should a future standard library not reuse it, this
/// still is correct and only allocates.
fn forget_lifetime<A, B>(mut v: Vec<A>) -> Vec<B> {
    v.clear();
    v.into_iter()
        .map(|_| unreachable!("the vector is empty"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recycled_vectors_keep_their_allocation() {
        let x = 7u8;
        let mut v: Vec<(&u8, bool)> = Vec::with_capacity(100);
        v.push((&x, true));
        let before = v.as_ptr() as usize;
        let w: Vec<(&'static u8, bool)> = forget_lifetime(v);
        assert_eq!(w.capacity(), 100);
        assert_eq!(w.as_ptr() as usize, before);
    }
}
