//! Reusing a plan's storage from one computation to the next.
//!
//! A plan of a million tasks needs 105 to 140 MB (per node 12 bytes of run state and a
//! 32-byte result slot, the graph's arrays, the planner's stack and table). Allocations
//! that large come straight from the kernel, and on the virtual machines we measured on,
//! faulting fresh pages in costs as much as running the tasks. So a finished plan hands
//! its vectors back, and the next plan starts from them, as long as they are not too big
//! to keep. The graph's vectors come back whole when the same outputs may be computed
//! again (see `kept`); the next plan empties them unless it is of those outputs. Either
//! way no more is kept than the vectors' capacity.

use parking_lot::Mutex;

use super::graph::PlanGraph;
use super::kept::KeptGraph;
use super::run_state::RunNode;
use super::slot::ResultSlot;
use super::split::Part;
use super::visited::Visited;
use crate::node::NodeDyn;
use crate::node_ref::NodeRef;

/// Storage kept between computations at most; bigger plans free theirs. Enough for a
/// plan of a million tasks of any shape: the widest, a million-input join, is 140 MB
/// planned on one thread; planned in parts on several threads (see `split`), the
/// fan-out's measured 163 MB, 29 of them the parts' storage, which is fresh memory at
/// every compute unless kept. The limit leaves room above that.
const KEEP_AT_MOST_BYTES: usize = 256 << 20;

/// A plan's vectors: the graph's, the run state's nodes, and the planner's scratch.
#[derive(Default)]
pub(crate) struct PlanBuffers<'g> {
    pub(crate) graph: PlanGraph<'g>,
    pub(crate) run_nodes: Vec<RunNode>,
    /// Result slots, every one empty.
    pub(crate) slots: Vec<ResultSlot>,
    pub(crate) scratch: Scratch<'g>,
}

/// The planner's own vectors, empty between plans: its depth-first stack, the
/// dependency indices of the nodes it is inside of (with their parameter positions when
/// kept), the requested output nodes, and its table of visited nodes.
#[derive(Default)]
pub(crate) struct Scratch<'g> {
    pub(crate) stack: Vec<Visit<'g>>,
    pub(crate) found: Vec<u32>,
    pub(crate) found_positions: Vec<u32>,
    pub(crate) output_nodes: Vec<&'g NodeRef>,
    pub(crate) visited: Visited,
    /// The inputs of the node being entered.
    pub(crate) inputs: Vec<&'g NodeRef>,
    /// A wide node's inputs set aside to be planned in parts (see `split`).
    pub(crate) wide: Vec<&'g NodeRef>,
    /// Parts of earlier splits, emptied, their storage kept (see `split`).
    pub(super) spare_parts: Vec<Part<'g>>,
}

/// One entry of the planner's depth-first stack.
#[derive(Clone, Copy)]
pub(crate) struct Visit<'g> {
    pub(crate) node: &'g dyn NodeDyn,
    /// Where in `Scratch::found` the reader that pushed this node waits for its index
    /// (`NO_SLOT` for an output).
    pub(crate) slot: u32,
    /// Leaving the node (its dependencies are planned): where its own dependency indices
    /// start in `Scratch::found`. Entering it: `ENTERING`. (One field, not a flag beside
    /// it: the entry stays 24 bytes, and a deep chain stacks a million of them.)
    pub(crate) first: u32,
}

/// `Visit::first` of an entry that enters its node.
pub(crate) const ENTERING: u32 = u32::MAX;

/// The buffers kept between computations, and the graph of the plan that gave them back
/// when it can run again (then `buffers.graph` holds that graph's arrays, all but its
/// nodes, which `kept` holds; otherwise every vector is empty).
pub(crate) struct Spare {
    buffers: PlanBuffers<'static>,
    kept: Option<KeptGraph>,
}

static SPARE: Mutex<Option<Spare>> = Mutex::new(None);

impl<'g> PlanBuffers<'g> {
    /// The buffers of an earlier plan, when they were kept, with that plan's graph if it
    /// can run again (see `kept`); empty buffers otherwise.
    pub(crate) fn take() -> (Self, Option<KeptGraph>) {
        SPARE
            .lock()
            .take()
            .map_or_else(|| (PlanBuffers::default(), None), Spare::into_parts)
    }

    /// Keeps the vectors of a finished plan for the next one (see [`Spare::of`]).
    pub(crate) fn give_back(
        graph: PlanGraph<'g>,
        run_nodes: Vec<RunNode>,
        slots: Vec<ResultSlot>,
        scratch: Scratch<'g>,
    ) {
        if let Some(spare) = Spare::of(graph, run_nodes, slots, scratch) {
            *SPARE.lock() = Some(spare);
        }
    }
}

impl Spare {
    /// The buffers and the kept graph, if any.
    pub(crate) fn into_parts<'g>(self) -> (PlanBuffers<'g>, Option<KeptGraph>) {
        // `PlanBuffers` is covariant in `'g`: 'static buffers serve any plan (a kept
        // graph's nodes are not in them, they are raw pointers in `KeptGraph`).
        (self.buffers, self.kept)
    }

    /// The vectors of a finished plan, if they are small enough to keep: the graph whole
    /// when it can run again (see `kept`), emptied otherwise. The run nodes must be empty
    /// already: their results are dropped by the plan, under a guard.
    pub(crate) fn of<'g>(
        mut graph: PlanGraph<'g>,
        mut run_nodes: Vec<RunNode>,
        mut slots: Vec<ResultSlot>,
        Scratch {
            stack,
            mut found,
            mut found_positions,
            output_nodes,
            mut visited,
            inputs,
            wide,
            spare_parts,
        }: Scratch<'g>,
    ) -> Option<Spare> {
        run_nodes.clear();
        if cfg!(loom) {
            // Loom's cells belong to one modelled execution: none may outlive it.
            slots.clear();
        }
        visited.clear();
        found.clear();
        found_positions.clear();
        let bytes = graph.capacity_bytes()
            + run_nodes.capacity() * std::mem::size_of::<RunNode>()
            + slots.capacity() * std::mem::size_of::<ResultSlot>()
            + stack.capacity() * std::mem::size_of::<Visit<'_>>()
            + (found.capacity() + found_positions.capacity()) * std::mem::size_of::<u32>()
            + (output_nodes.capacity() + inputs.capacity() + wide.capacity())
                * std::mem::size_of::<&NodeRef>()
            + visited.capacity_bytes();
        if bytes > KEEP_AT_MOST_BYTES {
            return None;
        }
        // Parts are kept only within the limit: the plan's own buffers come first.
        let parts_bytes: usize = spare_parts.iter().map(Part::capacity_bytes).sum();
        let spare_parts = if bytes + parts_bytes <= KEEP_AT_MOST_BYTES {
            spare_parts.into_iter().map(Part::into_spare).collect()
        } else {
            Vec::new()
        };
        let kept = KeptGraph::keep(&mut graph);
        let graph = match kept {
            // Only the (emptied) node vector borrows the nodes.
            Some(_) => graph.forget_nodes(),
            None => graph.into_spare(),
        };
        let buffers = PlanBuffers {
            graph,
            run_nodes,
            slots,
            scratch: Scratch {
                stack: forget_lifetime(stack),
                found,
                found_positions,
                output_nodes: forget_lifetime(output_nodes),
                visited,
                inputs: forget_lifetime(inputs),
                wide: forget_lifetime(wide),
                spare_parts,
            },
        };
        Some(Spare { buffers, kept })
    }
}

/// Whether every slot kept for the next plan is empty (`None`: no buffers are kept right
/// now, another plan holds them). The invariant is global, so any kept buffers must
/// satisfy it, whichever plan gave them back.
#[cfg(all(test, not(loom)))]
pub(crate) fn kept_slots_are_empty() -> Option<bool> {
    SPARE
        .lock()
        .as_mut()
        .map(|spare| spare.buffers.slots.iter_mut().all(|slot| slot.is_empty()))
}

/// Turns an empty vector of borrowed items into one of `'static` items, keeping its
/// allocation: in-place collection reuses the buffer when the layouts match (they do:
/// only the lifetime differs). Should a future standard library not reuse it, this
/// still is correct and only allocates.
pub(super) fn forget_lifetime<A, B>(mut v: Vec<A>) -> Vec<B> {
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
