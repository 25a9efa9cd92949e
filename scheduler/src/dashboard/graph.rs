//! The graph panel: the plan's structure taken once, before anything runs, and the
//! state of each node as tasks start and finish.
//!
//! Up to [`DEFAULT_COLLAPSE_ABOVE`] nodes (the SVG export's threshold), every node is
//! drawn and coloured by its own state. Beyond, the graph is collapsed by function as
//! the SVG export does (`TaskGraph::collapse_by_function`): one node per function and
//! kind, edges merged with counts, each group coloured by the share of its calls done,
//! running, failed and waiting. Here groups go by display name rather than full path,
//! so that a group's figures are the function table's row.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

pub(crate) use dask_viz::DEFAULT_COLLAPSE_ABOVE;

use crate::node::{NodeBody, NodeHeader};
use crate::plan::Plan;

/// Node states, as the page colours them.
pub(crate) const WAITING: u8 = 0;
pub(crate) const RUNNING: u8 = 1;
pub(crate) const DONE: u8 = 2;
pub(crate) const FAILED: u8 = 3;

/// One drawn node: a task or value, or a group of them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ViewNode {
    /// The key (a node) or the function's name (a group).
    pub(crate) label: String,
    pub(crate) name: &'static str,
    pub(crate) is_task: bool,
    /// Nodes it stands for (1 when not collapsed).
    pub(crate) count: u64,
    /// Layered layout: `rank` along the data flow, `slot` across it.
    pub(crate) rank: u32,
    pub(crate) slot: u32,
}

/// The structure drawn, fixed for one computation.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct GraphView {
    pub(crate) collapsed: bool,
    pub(crate) nodes: Vec<ViewNode>,
    /// (from, to, how many task-graph edges it stands for).
    pub(crate) edges: Vec<(u32, u32, u64)>,
}

/// Per-node states of a graph drawn node by node, found by the address of each task's
/// header: the observer hook gives the header, and comparing addresses costs no key
/// formatting. Addresses are compared only while the plan (which borrows the nodes)
/// is alive, between the computation's start and finish.
pub(crate) struct Detail {
    index: HashMap<usize, u32>,
    pub(crate) states: Vec<AtomicU8>,
}

impl Detail {
    #[inline]
    pub(crate) fn set(&self, header: &NodeHeader, state: u8) {
        if let Some(&i) = self.index.get(&(header as *const NodeHeader as usize)) {
            self.states[i as usize].store(state, Ordering::Relaxed);
        }
    }

    pub(crate) fn snapshot(&self) -> Vec<u8> {
        self.states
            .iter()
            .map(|s| s.load(Ordering::Relaxed))
            .collect()
    }
}

/// What the planning hook takes from a plan.
pub(crate) struct Planned {
    pub(crate) view: GraphView,
    /// Present when the graph is drawn node by node.
    pub(crate) detail: Option<Arc<Detail>>,
    /// Tasks per function name, in order of first appearance.
    pub(crate) totals: Vec<(&'static str, u64)>,
    pub(crate) tasks: u64,
}

/// The plan's structure, detailed up to `collapse_above` nodes and collapsed beyond.
pub(crate) fn take(plan: &Plan<'_>, collapse_above: usize) -> Planned {
    let tasks = plan.graph().task_count() as u64;
    let (view, detail, totals) = if plan.graph().len() <= collapse_above {
        let (view, detail) = detailed(plan);
        (view, detail, take_totals(plan))
    } else {
        // One pass over a big plan: the task groups' counts are the totals.
        let view = collapsed(plan);
        let totals = view
            .nodes
            .iter()
            .filter(|n| n.is_task)
            .map(|n| (n.name, n.count))
            .collect();
        (view, None, totals)
    };
    Planned {
        view,
        detail,
        totals,
        tasks,
    }
}

/// Tasks per function name, in order of first appearance in the plan.
pub(crate) fn take_totals(plan: &Plan<'_>) -> Vec<(&'static str, u64)> {
    let mut totals: Vec<(&'static str, u64)> = Vec::new();
    let mut last = usize::MAX;
    let graph = plan.graph();
    for (i, pn) in graph.nodes().iter().enumerate() {
        if !graph.is_task(i as u32) {
            continue;
        }
        let name = pn.header().name;
        // Runs of one function are the common case: compare with the last one first.
        let i = match totals.get(last) {
            Some((n, _)) if std::ptr::eq(*n, name) => last,
            _ => match totals.iter().position(|(n, _)| *n == name) {
                Some(i) => i,
                None => {
                    totals.push((name, 0));
                    totals.len() - 1
                }
            },
        };
        totals[i].1 += 1;
        last = i;
    }
    totals
}

fn detailed(plan: &Plan<'_>) -> (GraphView, Option<Arc<Detail>>) {
    let mut nodes = Vec::with_capacity(plan.graph().len());
    let mut index = HashMap::with_capacity(plan.graph().len());
    let mut states = Vec::with_capacity(plan.graph().len());
    let mut edges = Vec::new();
    for (i, pn) in plan.graph().nodes().iter().enumerate() {
        let header = pn.header();
        let is_task = matches!(pn.body(), NodeBody::Task);
        nodes.push(ViewNode {
            label: header.key().to_owned(),
            name: header.name,
            is_task,
            count: 1,
            rank: 0,
            slot: 0,
        });
        index.insert(header as *const NodeHeader as usize, i as u32);
        states.push(AtomicU8::new(if is_task { WAITING } else { DONE }));
        for &d in plan.graph().deps_of(i as u32) {
            edges.push((d, i as u32, 1));
        }
    }
    let mut view = GraphView {
        collapsed: false,
        nodes,
        edges,
    };
    lay_out(&mut view);
    (view, Some(Arc::new(Detail { index, states })))
}

fn collapsed(plan: &Plan<'_>) -> GraphView {
    let mut nodes: Vec<ViewNode> = Vec::new();
    let mut group_of: Vec<u32> = Vec::with_capacity(plan.graph().len());
    let mut last = usize::MAX;
    let graph = plan.graph();
    for (i, pn) in graph.nodes().iter().enumerate() {
        let header = pn.header();
        let is_task = graph.is_task(i as u32);
        let name = header.name;
        let same =
            |n: &ViewNode| n.is_task == is_task && (std::ptr::eq(n.name, name) || n.name == name);
        let g = match nodes.get(last) {
            Some(n) if same(n) => last,
            _ => match nodes.iter().position(same) {
                Some(g) => g,
                None => {
                    nodes.push(ViewNode {
                        label: header.name.to_owned(),
                        name: header.name,
                        is_task,
                        count: 0,
                        rank: 0,
                        slot: 0,
                    });
                    nodes.len() - 1
                }
            },
        };
        nodes[g].count += 1;
        group_of.push(g as u32);
        last = g;
    }
    // Groups are few, and so are the edges between them: a linear search, after a look
    // at the edge found last (a function's calls read the same groups in turn), costs
    // less per task-graph edge than hashing.
    let mut edges: Vec<(u32, u32, u64)> = Vec::new();
    let mut last_edge = 0usize;
    for (i, &to) in group_of.iter().enumerate() {
        for &d in plan.graph().deps_of(i as u32) {
            let from = group_of[d as usize];
            let same = |e: &(u32, u32, u64)| e.0 == from && e.1 == to;
            let e = match edges.get(last_edge) {
                Some(e) if same(e) => last_edge,
                _ => match edges.iter().position(same) {
                    Some(e) => e,
                    None => {
                        edges.push((from, to, 0));
                        edges.len() - 1
                    }
                },
            };
            edges[e].2 += 1;
            last_edge = e;
        }
    }
    let mut view = GraphView {
        collapsed: true,
        nodes,
        edges,
    };
    lay_out(&mut view);
    view
}

/// Layers: a node's rank is one more than its inputs' highest (nodes come in
/// post-order, so inputs are placed first; a collapsed graph's edges back to an
/// earlier group, from `f → g → f`, are left out of the ranking). Within a rank, nodes
/// are ordered by the mean slot of their inputs, which keeps chains straight.
fn lay_out(view: &mut GraphView) {
    let n = view.nodes.len();
    let mut inputs: Vec<Vec<u32>> = vec![Vec::new(); n];
    for &(from, to, _) in &view.edges {
        if from < to {
            inputs[to as usize].push(from);
        }
    }
    let mut rank = vec![0u32; n];
    for i in 0..n {
        rank[i] = inputs[i]
            .iter()
            .map(|&d| rank[d as usize] + 1)
            .max()
            .unwrap_or(0);
    }
    let ranks = rank.iter().copied().max().map_or(0, |r| r as usize + 1);
    let mut by_rank: Vec<Vec<u32>> = vec![Vec::new(); ranks];
    for (i, &r) in rank.iter().enumerate() {
        by_rank[r as usize].push(i as u32);
    }
    let mut slot = vec![0u32; n];
    for members in &mut by_rank {
        let key = |i: &u32| -> f64 {
            let ins = &inputs[*i as usize];
            if ins.is_empty() {
                f64::from(*i)
            } else {
                ins.iter()
                    .map(|&d| f64::from(slot[d as usize]))
                    .sum::<f64>()
                    / ins.len() as f64
            }
        };
        let mut keyed: Vec<(f64, u32)> = members.iter().map(|i| (key(i), *i)).collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for (position, &(_, i)) in keyed.iter().enumerate() {
            slot[i as usize] = position as u32;
        }
        *members = keyed.into_iter().map(|(_, i)| i).collect();
    }
    for (i, node) in view.nodes.iter_mut().enumerate() {
        node.rank = rank[i];
        node.slot = slot[i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{delayed, Delayed};

    #[delayed]
    fn load(i: u64) -> u64 {
        i
    }

    #[delayed]
    fn add(a: u64, b: u64) -> u64 {
        a + b
    }

    fn planned<T>(outputs: &[Delayed<T>], collapse_above: usize) -> Planned {
        let plan = Plan::build(|nodes| nodes.extend(outputs.iter().map(|d| d.node_ref())));
        take(&plan, collapse_above)
    }

    #[test]
    fn a_small_graph_is_drawn_node_by_node_in_layers() {
        let out = add(load(1), load(2));
        let p = planned(std::slice::from_ref(&out), 500);
        assert!(!p.view.collapsed);
        // Two loads, their two literal inputs, the add.
        assert_eq!(p.tasks, 3);
        assert_eq!(p.totals, vec![("load", 2), ("add", 1)]);
        let add_node = p.view.nodes.iter().find(|n| n.name == "add").unwrap();
        let load_ranks: Vec<u32> = p
            .view
            .nodes
            .iter()
            .filter(|n| n.name == "load")
            .map(|n| n.rank)
            .collect();
        assert!(load_ranks.iter().all(|&r| r < add_node.rank));
        assert_eq!(add_node.label, out.key());
        let detail = p.detail.expect("detailed");
        let states = detail.snapshot();
        assert_eq!(states.len(), p.view.nodes.len());
        for (node, state) in p.view.nodes.iter().zip(&states) {
            assert_eq!(*state, if node.is_task { WAITING } else { DONE });
        }
        // Slots within a rank are distinct.
        let mut places: Vec<(u32, u32)> = p.view.nodes.iter().map(|n| (n.rank, n.slot)).collect();
        places.sort();
        places.dedup();
        assert_eq!(places.len(), p.view.nodes.len());
    }

    #[test]
    fn a_big_graph_is_collapsed_by_function_with_counted_edges() {
        let loads: Vec<Delayed<u64>> = (0..50).map(load).collect();
        let sums: Vec<Delayed<u64>> = loads
            .chunks(2)
            .map(|p| add(p[0].clone(), p[1].clone()))
            .collect();
        let p = planned(&sums, 40);
        assert!(p.view.collapsed);
        assert!(p.detail.is_none());
        let find = |name: &str, task: bool| {
            p.view
                .nodes
                .iter()
                .position(|n| n.name == name && n.is_task == task)
                .unwrap_or_else(|| panic!("no group {name}"))
        };
        let (l, a) = (find("load", true), find("add", true));
        assert_eq!(p.view.nodes[l].count, 50);
        assert_eq!(p.view.nodes[a].count, 25);
        let edge = p
            .view
            .edges
            .iter()
            .find(|e| e.0 as usize == l && e.1 as usize == a)
            .expect("load → add");
        assert_eq!(edge.2, 50);
        assert!(p.view.nodes[l].rank < p.view.nodes[a].rank);
        assert_eq!(p.totals, vec![("load", 50), ("add", 25)]);
    }
}
