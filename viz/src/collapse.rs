//! The synopsis view of a big graph: one node per function, edges counted.
//!
//! A graph of thousands of tasks drawn node by node is a grey smear (Dask users'
//! most common complaint about `visualize`). What stays readable is the shape of the
//! pipeline: which functions feed which, and how many calls and reads each arrow
//! stands for.

use std::collections::HashMap;

use crate::model::{NodeId, NodeKind, TaskGraph};

/// All the nodes of one function (one `path`) and kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionGroup {
    /// The function's full path: the grouping key, so two functions that share a
    /// display name in different modules stay apart.
    pub path: String,
    /// Display name of the group's first node.
    pub name: String,
    pub kind: NodeKind,
    /// The grouped nodes, in graph order.
    pub members: Vec<NodeId>,
}

impl FunctionGroup {
    /// Number of grouped nodes (calls of the function).
    pub fn count(&self) -> usize {
        self.members.len()
    }
}

/// Edges from one group to another, merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupEdge {
    /// Index into [`CollapsedGraph::groups`] of the dependencies' group.
    pub from: usize,
    /// Index of the readers' group. Equal to `from` when a function reads its own
    /// results (e.g. repeated `transform(transform(x))`).
    pub to: usize,
    /// How many task-graph edges this one stands for.
    pub count: usize,
}

/// A [`TaskGraph`] collapsed by function; see [`TaskGraph::collapse_by_function`].
///
/// Unlike a task graph it may contain cycles: `f → g → f` between calls becomes a
/// loop between two groups.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CollapsedGraph {
    groups: Vec<FunctionGroup>,
    edges: Vec<GroupEdge>,
    group_of: Vec<usize>,
}

impl CollapsedGraph {
    /// Groups in order of their first node in the task graph.
    pub fn groups(&self) -> &[FunctionGroup] {
        &self.groups
    }

    /// Merged edges, in order of their first task-graph edge.
    pub fn edges(&self) -> &[GroupEdge] {
        &self.edges
    }

    /// Index into [`groups`](Self::groups) of the group holding `node`.
    pub fn group_of(&self, node: NodeId) -> Option<usize> {
        self.group_of.get(node.index()).copied()
    }

    /// The task group of the function with this full path, if any.
    pub fn find(&self, path: &str) -> Option<&FunctionGroup> {
        self.groups
            .iter()
            .find(|g| g.path == path && g.kind == NodeKind::Task)
            .or_else(|| self.groups.iter().find(|g| g.path == path))
    }

    /// How many task-graph edges go from the group with path `from` to the one with
    /// path `to` (0 when none do or a path is unknown).
    pub fn edge_count_between(&self, from: &str, to: &str) -> usize {
        self.edges
            .iter()
            .filter(|e| self.groups[e.from].path == from && self.groups[e.to].path == to)
            .map(|e| e.count)
            .sum()
    }
}

impl TaskGraph {
    /// One node per function (grouped by `path` and kind), edges merged with counts.
    ///
    /// Drawings do this by themselves past
    /// [`DEFAULT_COLLAPSE_ABOVE`](crate::DEFAULT_COLLAPSE_ABOVE) nodes; call it directly
    /// to inspect the counts.
    pub fn collapse_by_function(&self) -> CollapsedGraph {
        let mut groups: Vec<FunctionGroup> = Vec::new();
        let mut index: HashMap<(&str, NodeKind), usize> = HashMap::new();
        let mut group_of = Vec::with_capacity(self.len());
        for (id, node) in self.nodes() {
            let next = groups.len();
            let g = *index.entry((node.path.as_str(), node.kind)).or_insert(next);
            if g == next {
                groups.push(FunctionGroup {
                    path: node.path.clone(),
                    name: node.name.clone(),
                    kind: node.kind,
                    members: Vec::new(),
                });
            }
            groups[g].members.push(id);
            group_of.push(g);
        }

        let mut edges: Vec<GroupEdge> = Vec::new();
        let mut edge_index: HashMap<(usize, usize), usize> = HashMap::new();
        for (from, to, _) in self.edges() {
            let pair = (group_of[from.index()], group_of[to.index()]);
            let next = edges.len();
            let e = *edge_index.entry(pair).or_insert(next);
            if e == next {
                edges.push(GroupEdge {
                    from: pair.0,
                    to: pair.1,
                    count: 0,
                });
            }
            edges[e].count += 1;
        }

        CollapsedGraph {
            groups,
            edges,
            group_of,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NodeInfo;

    /// `pipelines` generate → transform → aggregate chains, all aggregates summed.
    fn pipelines(pipelines: usize) -> TaskGraph {
        let mut g = TaskGraph::new();
        let total = g.add_node(NodeInfo::task("total-0", "total", "pipeline::total"));
        for i in 0..pipelines {
            let gen = g.add_node(NodeInfo::task(
                format!("generate_data-{i}"),
                "generate_data",
                "pipeline::generate_data",
            ));
            let tr = g.add_node(NodeInfo::task(
                format!("transform_data-{i}"),
                "transform_data",
                "pipeline::transform_data",
            ));
            let agg = g.add_node(NodeInfo::task(
                format!("aggregate_data-{i}"),
                "aggregate_data",
                "pipeline::aggregate_data",
            ));
            g.add_edge(gen, tr, 0);
            g.add_edge(tr, agg, 0);
            g.add_edge(agg, total, i as u32);
        }
        g
    }

    #[test]
    fn counts_calls_and_edges_per_function() {
        let c = pipelines(7).collapse_by_function();
        assert_eq!(c.groups().len(), 4);
        assert_eq!(c.find("pipeline::generate_data").unwrap().count(), 7);
        assert_eq!(c.find("pipeline::total").unwrap().count(), 1);
        assert_eq!(c.edges().len(), 3);
        assert_eq!(
            c.edge_count_between("pipeline::generate_data", "pipeline::transform_data"),
            7
        );
        assert_eq!(
            c.edge_count_between("pipeline::aggregate_data", "pipeline::total"),
            7
        );
        assert_eq!(
            c.edge_count_between("pipeline::total", "pipeline::generate_data"),
            0
        );
        let total: usize = c.edges().iter().map(|e| e.count).sum();
        assert_eq!(total, 21);
    }

    #[test]
    fn same_name_in_different_modules_stays_apart() {
        let mut g = TaskGraph::new();
        let a = g.add_node(NodeInfo::task("load-1", "load", "csv::load"));
        let b = g.add_node(NodeInfo::task("load-2", "load", "parquet::load"));
        let c = g.add_node(NodeInfo::task("load-3", "load", "csv::load"));
        g.add_edge(a, b, 0);
        g.add_edge(c, b, 1);
        let collapsed = g.collapse_by_function();
        assert_eq!(collapsed.groups().len(), 2);
        assert_eq!(collapsed.find("csv::load").unwrap().count(), 2);
        assert_eq!(collapsed.find("parquet::load").unwrap().count(), 1);
        assert_eq!(
            collapsed.edge_count_between("csv::load", "parquet::load"),
            2
        );
        assert_eq!(collapsed.group_of(c), Some(0));
    }

    #[test]
    fn values_and_tasks_of_one_path_stay_apart() {
        let mut g = TaskGraph::new();
        g.add_node(NodeInfo::value("v-1", "data", "pipeline::data"));
        g.add_node(NodeInfo::task("t-1", "data", "pipeline::data"));
        let c = g.collapse_by_function();
        assert_eq!(c.groups().len(), 2);
        assert_eq!(c.find("pipeline::data").unwrap().kind, NodeKind::Task);
    }

    #[test]
    fn repeated_calls_make_a_self_edge() {
        let mut g = TaskGraph::new();
        let mut prev = g.add_node(NodeInfo::task("step-0", "step", "m::step"));
        for i in 1..5 {
            let next = g.add_node(NodeInfo::task(format!("step-{i}"), "step", "m::step"));
            g.add_edge(prev, next, 0);
            prev = next;
        }
        let c = g.collapse_by_function();
        assert_eq!(c.groups().len(), 1);
        assert_eq!(
            c.edges(),
            &[GroupEdge {
                from: 0,
                to: 0,
                count: 4
            }]
        );
    }
}
