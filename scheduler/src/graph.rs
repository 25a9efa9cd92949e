//! `dask::graph`: the plan as a drawable [`TaskGraph`].

use dask_viz::{NodeId, NodeInfo, NodeKind, TaskGraph};

use crate::compute::{with_plan, Outputs};
use crate::node::NodeBody;
use crate::node_ref::NodeRef;
use crate::plan::Plan;

/// The deduplicated, culled graph of `outputs` exactly as [`compute`](crate::compute)
/// would run it. `order` of each node is its position in the `Scheduler::Sync` run.
///
/// ```
/// let a = dask::delayed(1);
/// let b = a.map(|v| v + 1);
/// let c = a.map(|v| v * 2);
/// let g = dask::graph((&b, &c));
/// assert_eq!(g.len(), 3);
/// assert_eq!(g.edge_count(), 2);
/// ```
pub fn graph<O: Outputs>(outputs: O) -> TaskGraph {
    with_plan(outputs, to_task_graph)
}

/// The graph of these output nodes (no `Clone` needed: nothing is computed).
pub(crate) fn graph_of_nodes(outputs: &[&NodeRef]) -> TaskGraph {
    to_task_graph(&Plan::build_for_drawing(|nodes| {
        nodes.extend_from_slice(outputs)
    }))
}

fn to_task_graph(plan: &Plan<'_>) -> TaskGraph {
    {
        let mut graph = TaskGraph::with_capacity(plan.graph().len(), 0);
        let ids: Vec<NodeId> = plan
            .graph()
            .nodes()
            .iter()
            .enumerate()
            .map(|(i, pn)| {
                let header = pn.header();
                graph.add_node(NodeInfo {
                    key: header.key().to_string(),
                    name: header.name.to_string(),
                    path: header.path.to_string(),
                    kind: match pn.body() {
                        NodeBody::Task => NodeKind::Task,
                        NodeBody::Value(_) => NodeKind::Value,
                    },
                    type_name: Some(pn.type_name().to_string()),
                    size: None,
                    order: Some(i as u64),
                    duration_ns: None,
                })
            })
            .collect();
        for (i, &reader) in ids.iter().enumerate() {
            let deps = plan.graph().deps_of(i as u32);
            let positions = plan.graph().dep_positions_of(i as u32).unwrap_or_default();
            for (k, &d) in deps.iter().enumerate() {
                graph.add_edge(
                    ids[d as usize],
                    reader,
                    positions.get(k).copied().unwrap_or(0),
                );
            }
        }
        graph
    }
}
