//! The graph to run: which nodes, in which order, reading which inputs. Built once by
//! the planner and never changed while the computation runs.
//!
//! Everything here is dense arrays indexed by plan position, so the planner's passes
//! over them stream through memory: the successor lists are built from a 4-byte count
//! per node and a 1-byte task flag, not from the run state.

use crate::node::NodeDyn;

/// Immutable once planned. `nodes`: depth-first post-order of the outputs' nodes, each
/// once. `deps[dep_start[i]..dep_start[i + 1]]`: node i's inputs in argument order
/// (`dep_positions` parallel to it when drawing). `succs[succ_start[i]..succ_start[i +
/// 1]]`: tasks reading node i, ascending. `roots`: tasks ready at the start, ascending
/// (so depth-first order is kept). `outputs`: the requested outputs, in request order.
#[derive(Default)]
pub(crate) struct PlanGraph<'g> {
    pub(super) nodes: Vec<&'g dyn NodeDyn>,
    pub(super) is_task: Vec<bool>,
    /// Extra attempts after a failure, read from the node once here rather than per run
    /// (`#[delayed]` allows at most 100; the hidden API clamps to 255).
    pub(super) retries: Vec<u8>,
    pub(super) dep_start: Vec<u32>,
    pub(super) deps: Vec<u32>,
    pub(super) dep_positions: Vec<u32>,
    pub(super) succ_start: Vec<u32>,
    pub(super) succs: Vec<u32>,
    pub(super) roots: Vec<u32>,
    pub(super) outputs: Vec<u32>,
    pub(super) task_count: usize,
    pub(super) keep_positions: bool,
    /// Cut down to one process's share of a cluster computation (see
    /// `Plan::restrict_to_process`): value nodes read only elsewhere keep their values to
    /// the end, and the graph, not the whole graph of its outputs, is never kept to run
    /// again.
    pub(super) restricted: bool,
}

impl<'g> PlanGraph<'g> {
    /// Nodes in the plan (tasks and values).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Tasks in the plan.
    #[inline]
    pub(crate) fn task_count(&self) -> usize {
        self.task_count
    }

    #[inline]
    pub(crate) fn node(&self, i: u32) -> &'g dyn NodeDyn {
        self.nodes[i as usize]
    }

    /// Every node, in plan order.
    #[inline]
    pub(crate) fn nodes(&self) -> &[&'g dyn NodeDyn] {
        &self.nodes
    }

    #[inline]
    pub(crate) fn is_task(&self, i: u32) -> bool {
        self.is_task[i as usize]
    }

    #[inline]
    pub(crate) fn retries(&self, i: u32) -> u8 {
        self.retries[i as usize]
    }

    /// Tasks ready at the start, ascending.
    #[inline]
    pub(crate) fn roots(&self) -> &[u32] {
        &self.roots
    }

    /// Plan indices of the requested outputs, in request order.
    #[inline]
    pub(crate) fn outputs(&self) -> &[u32] {
        &self.outputs
    }

    /// Node i's inputs, in argument order.
    #[inline]
    pub(crate) fn deps_of(&self, i: u32) -> &[u32] {
        let i = i as usize;
        &self.deps[self.dep_start[i] as usize..self.dep_start[i + 1] as usize]
    }

    /// Parameter positions parallel to [`deps_of`](Self::deps_of), when kept.
    pub(crate) fn dep_positions_of(&self, i: u32) -> Option<&[u32]> {
        let i = i as usize;
        self.keep_positions.then(|| {
            &self.dep_positions[self.dep_start[i] as usize..self.dep_start[i + 1] as usize]
        })
    }

    /// Tasks reading node i, ascending.
    #[inline]
    pub(crate) fn succs_of(&self, i: u32) -> &[u32] {
        let i = i as usize;
        &self.succs[self.succ_start[i] as usize..self.succ_start[i + 1] as usize]
    }

    pub(crate) fn key_of(&self, t: u32) -> String {
        self.node(t).header().key().to_string()
    }

    /// Successor lists from the per-node counts the planner left in `succ_start` (node
    /// i's count at index i + 1, index 0 holding 0): offsets first, then one ascending
    /// pass over the edges that uses each node's offset as its fill cursor and leaves it
    /// at the next node's start.
    pub(super) fn link_successors(&mut self) {
        let mut total = 0u32;
        for slot in &mut self.succ_start[1..] {
            let count = *slot;
            *slot = total;
            total += count;
        }
        self.succs.clear();
        self.succs.resize(total as usize, 0);
        for t in 0..self.nodes.len() {
            for e in self.dep_start[t]..self.dep_start[t + 1] {
                let d = self.deps[e as usize] as usize;
                if self.is_task[d] {
                    let cursor = &mut self.succ_start[d + 1];
                    self.succs[*cursor as usize] = t as u32;
                    *cursor += 1;
                }
            }
        }
    }

    /// Empties every vector, keeping its allocation, and forgets the borrowed nodes.
    pub(super) fn into_spare(self) -> PlanGraph<'static> {
        PlanGraph {
            nodes: super::buffers::forget_lifetime(self.nodes),
            is_task: cleared(self.is_task),
            retries: cleared(self.retries),
            dep_start: cleared(self.dep_start),
            deps: cleared(self.deps),
            dep_positions: cleared(self.dep_positions),
            succ_start: cleared(self.succ_start),
            succs: cleared(self.succs),
            roots: cleared(self.roots),
            outputs: cleared(self.outputs),
            task_count: 0,
            keep_positions: false,
            restricted: false,
        }
    }

    /// This graph with its (emptied) node vector no longer borrowing the nodes: the
    /// other arrays stay as planned.
    pub(super) fn forget_nodes(self) -> PlanGraph<'static> {
        PlanGraph {
            nodes: super::buffers::forget_lifetime(self.nodes),
            ..self
        }
    }

    /// Bytes of storage held (capacity), to decide whether to keep it for the next plan.
    pub(super) fn capacity_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<&dyn NodeDyn>()
            + self.is_task.capacity()
            + self.retries.capacity()
            + (self.dep_start.capacity()
                + self.deps.capacity()
                + self.dep_positions.capacity()
                + self.succ_start.capacity()
                + self.succs.capacity()
                + self.roots.capacity()
                + self.outputs.capacity())
                * 4
    }
}

/// `v` emptied, its allocation kept.
pub(super) fn cleared<T>(mut v: Vec<T>) -> Vec<T> {
    v.clear();
    v
}
