//! Running a planned graph again: a second `compute` of the same outputs skips the
//! planner.
//!
//! A node's inputs, kind and retries never change once it is built (only its key may,
//! by `with_key`), so the graph planned for a set of outputs is the same for as long as
//! those outputs live. A finished plan whose outputs are all non-pure nodes hands its
//! graph back whole with its buffers (see `buffers`); the next plan, if its outputs are
//! the same node objects, takes it and only resets the run state from it (pending and
//! reader counts, value nodes' slots): one streaming pass instead of a walk of the
//! graph. Taskflow runs a built flow again the same way.
//!
//! The outputs are recognised by address and build number together. Build numbers are
//! never reused and every non-pure node object gets its own (a persisted copy too), so
//! an output at the same address with the same build number is the very object that was
//! planned; being alive (the caller borrows it), it keeps every node below it alive,
//! which makes the kept node pointers valid again. Pure nodes carry no build number and
//! are never recognised: a plan with a pure output is not kept.

use std::ptr::NonNull;

use super::buffers::PlanBuffers;
use super::graph::PlanGraph;
use super::run_state::{RunNode, RunState};
use super::slot::ResultSlot;
use super::visited::number;
use super::Plan;
use crate::node::{NodeBody, NodeDyn};
use crate::node_ref::NodeRef;
use crate::sync::add_exclusive;

/// The node array of a kept graph, and the outputs it was planned for. The graph's other
/// arrays stay in the kept buffers.
pub(crate) struct KeptGraph {
    /// (address number, see `visited::number`; build number) of each output, in
    /// request order.
    outputs: Vec<(u64, u64)>,
    /// The plan's nodes, in plan order. Possibly dangling: read only once
    /// [`planned_for`](Self::planned_for) has found the outputs alive.
    nodes: Vec<NodePtr>,
}

/// A node pointer kept between computations; see [`KeptGraph::nodes`].
#[repr(transparent)]
struct NodePtr(NonNull<dyn NodeDyn>);

// SAFETY: a `NodePtr` is never dereferenced through this impl: it only carries the
// address to the next plan, which dereferences it as the `&dyn NodeDyn` it was (nodes
// are `Send + Sync`) after checking that the node is alive.
unsafe impl Send for NodePtr {}

impl KeptGraph {
    /// Keeps `graph`'s nodes if it can run again: planned for running (not drawing), whole
    /// (not one process's share of a cluster's) and every output recognisable. `None`
    /// leaves `graph` as it is.
    pub(super) fn keep(graph: &mut PlanGraph<'_>) -> Option<KeptGraph> {
        // A plan of no outputs is not worth keeping (and an emptied plan has none).
        if cfg!(loom) || graph.keep_positions || graph.restricted || graph.outputs.is_empty() {
            return None;
        }
        let outputs = graph
            .outputs
            .iter()
            .map(|&o| {
                let node = graph.nodes[o as usize];
                let built = node.header().built();
                (built != 0).then(|| (number(node), built))
            })
            .collect::<Option<Vec<_>>>()?;
        let nodes = to_pointers(std::mem::take(&mut graph.nodes));
        Some(KeptGraph { outputs, nodes })
    }

    /// Whether `outputs` are the very nodes this graph was planned for, in this order.
    fn planned_for(&self, outputs: &[&NodeRef]) -> bool {
        self.outputs.len() == outputs.len()
            && self
                .outputs
                .iter()
                .zip(outputs)
                .all(|(&(at, built), node)| {
                    number(node.node()) == at && node.node().header().built() == built
                })
    }

    /// The plan of `buffers.scratch.output_nodes` from this kept graph (whose arrays
    /// `buffers.graph` holds) if it was planned for them, with a fresh run state; the
    /// buffers are then taken. Otherwise empties `buffers.graph` for the planner.
    pub(super) fn resume<'g>(
        self,
        buffers: &mut PlanBuffers<'g>,
        keep_positions: bool,
    ) -> Option<Plan<'g>> {
        if keep_positions || !self.planned_for(&buffers.scratch.output_nodes) {
            let spare = std::mem::take(&mut buffers.graph).into_spare();
            buffers.graph = PlanGraph {
                nodes: super::buffers::forget_lifetime(self.nodes),
                ..spare
            };
            return None;
        }
        let PlanBuffers {
            mut graph,
            run_nodes: mut run,
            mut slots,
            scratch,
        } = std::mem::take(buffers);
        // SAFETY: the outputs are the nodes this graph was planned for, alive and
        // borrowed for 'g by the caller; each holds its inputs alive, and every node of
        // the plan is reachable from an output, so every pointer is valid for 'g.
        graph.nodes = unsafe { to_references(self.nodes) };
        // The outputs from the caller's own borrows: an output whose handle was the only
        // one may have been renamed through `&mut` (`with_key`) since its pointer was
        // kept, and a pointer from before such a write must not be used to read it.
        // Every other node has a reader holding it, so no `&mut` can have reached it.
        let output_nodes = &scratch.output_nodes;
        for (&o, &node) in graph.outputs.iter().zip(output_nodes) {
            graph.nodes[o as usize] = node.node();
        }
        reset_counts(&graph, &mut run, &mut slots);
        let tasks = graph.task_count;
        Some(Plan {
            graph,
            run: RunState::new(run, slots, tasks),
            scratch,
            all_taken: false,
        })
    }
}

/// `nodes` as pointers, without a pass over a million of them.
fn to_pointers(nodes: Vec<&dyn NodeDyn>) -> Vec<NodePtr> {
    let mut nodes = std::mem::ManuallyDrop::new(nodes);
    // SAFETY: `NodePtr` is `repr(transparent)` over `NonNull<dyn NodeDyn>`, which has the
    // layout of `&dyn NodeDyn` (a non-null pointer and the same vtable); the allocation
    // changes hands whole, with its length and capacity, so it is freed with the layout
    // it was allocated with; neither element type has drop glue.
    unsafe {
        Vec::from_raw_parts(
            nodes.as_mut_ptr().cast::<NodePtr>(),
            nodes.len(),
            nodes.capacity(),
        )
    }
}

/// [`to_pointers`] undone.
///
/// # Safety
/// Every pointer must point to a node that stays alive for `'g`.
unsafe fn to_references<'g>(nodes: Vec<NodePtr>) -> Vec<&'g dyn NodeDyn> {
    let mut nodes = std::mem::ManuallyDrop::new(nodes);
    // SAFETY: the layouts agree (see `to_pointers`), and the pointers are valid for 'g
    // (the caller's obligation), non-null and aligned, as references must be.
    unsafe {
        Vec::from_raw_parts(
            nodes.as_mut_ptr().cast::<&'g dyn NodeDyn>(),
            nodes.len(),
            nodes.capacity(),
        )
    }
}

/// Sets the counters the planner would have set for `graph` (pending task inputs,
/// readers per node) and puts value nodes' values in their slots, which the last run
/// left empty. One pass in plan order: a task's readers are its successors (every reader
/// is a task, and the successor lists hold one entry per edge), so only a value node's
/// readers are counted edge by edge.
fn reset_counts(graph: &PlanGraph<'_>, run: &mut Vec<RunNode>, slots: &mut Vec<ResultSlot>) {
    let n = graph.len();
    run.clear();
    run.reserve(n);
    if slots.len() < n {
        slots.resize_with(n, ResultSlot::empty);
    }
    if graph.task_count == n {
        reset_tasks(graph, run);
    } else {
        reset_tasks_and_values(graph, run, &mut slots[..n]);
    }
    for &o in &graph.outputs {
        add_exclusive(&mut run[o as usize].readers, 1);
    }
}

/// [`reset_counts`] of a graph without value nodes: every input is a task, so a task
/// waits for all its inputs, and the pass reads two offset arrays in order instead of
/// every input's kind (running the benchmark's graphs again took 2-5 ns/task less,
/// BENCHMARKS.md; the whole pass is 1.7-1.9 ns/node on a later machine).
fn reset_tasks(graph: &PlanGraph<'_>, run: &mut Vec<RunNode>) {
    let n = graph.len();
    let (dep_start, succ_start) = (&graph.dep_start[..=n], &graph.succ_start[..=n]);
    run.extend((0..n).map(|t| {
        RunNode::task_read_by(
            dep_start[t + 1] - dep_start[t],
            succ_start[t + 1] - succ_start[t],
        )
    }));
}

/// [`reset_counts`] of a graph with value nodes: their values go back in their slots,
/// and their readers are counted edge by edge.
fn reset_tasks_and_values(graph: &PlanGraph<'_>, run: &mut Vec<RunNode>, slots: &mut [ResultSlot]) {
    let is_task = &graph.is_task[..slots.len()];
    for (t, slot) in slots.iter_mut().enumerate() {
        if !is_task[t] {
            run.push(RunNode::value());
            match graph.nodes[t].body() {
                NodeBody::Value(shared) => *slot = ResultSlot::shared(shared.clone()),
                NodeBody::Task => unreachable!("a plan's value node has a value"),
            }
            continue;
        }
        let mut pending = 0;
        for &d in graph.deps_of(t as u32) {
            if is_task[d as usize] {
                pending += 1;
            } else {
                // Inputs come before their readers in plan order: already pushed.
                add_exclusive(&mut run[d as usize].readers, 1);
            }
        }
        run.push(RunNode::task_read_by(
            pending,
            graph.succs_of(t as u32).len() as u32,
        ));
    }
}
