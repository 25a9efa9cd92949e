use petgraph::graph::{DiGraph, NodeIndex};
use serde::{Deserialize, Serialize};

/// Whether a node computes something or only holds a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    /// A call of a `#[delayed]` function or closure: drawn as an ellipse.
    Task,
    /// Data: `dask::delayed(value)` or a persisted result: drawn as a box.
    Value,
}

/// Everything known about one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Unique, deterministic key, Dask style `name-<hash>`.
    pub key: String,
    /// Display name (the function's name or `#[delayed(name = "...")]`).
    pub name: String,
    /// Full path of the function (`crate::module::name`); groups nodes when collapsing.
    pub path: String,
    pub kind: NodeKind,
    /// Rust type of the node's result, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    /// Size of the result in bytes, where known (values only, before running).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Position in the order the scheduler runs tasks (`Scheduler::Sync` order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<u64>,
    /// Measured run time of the task in nanoseconds, once it has run under a profiler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ns: Option<u64>,
}

impl NodeInfo {
    /// A task node with nothing known beyond its identity; add the rest with the
    /// `with_*` methods.
    pub fn task(key: impl Into<String>, name: impl Into<String>, path: impl Into<String>) -> Self {
        Self::new(NodeKind::Task, key.into(), name.into(), path.into())
    }

    /// A value (data) node.
    pub fn value(key: impl Into<String>, name: impl Into<String>, path: impl Into<String>) -> Self {
        Self::new(NodeKind::Value, key.into(), name.into(), path.into())
    }

    fn new(kind: NodeKind, key: String, name: String, path: String) -> Self {
        NodeInfo {
            key,
            name,
            path,
            kind,
            type_name: None,
            size: None,
            order: None,
            duration_ns: None,
        }
    }

    pub fn with_type_name(mut self, type_name: impl Into<String>) -> Self {
        self.type_name = Some(type_name.into());
        self
    }

    pub fn with_size(mut self, bytes: u64) -> Self {
        self.size = Some(bytes);
        self
    }

    pub fn with_order(mut self, order: u64) -> Self {
        self.order = Some(order);
        self
    }

    pub fn with_duration_ns(mut self, nanos: u64) -> Self {
        self.duration_ns = Some(nanos);
        self
    }
}

/// An edge from a dependency to the task reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeInfo {
    /// Index of the parameter of the reading task that receives the value.
    pub position: u32,
}

/// Identifies a node inside one [`TaskGraph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) NodeIndex<u32>);

impl NodeId {
    /// The node's position in insertion order.
    pub fn index(self) -> usize {
        self.0.index()
    }
}

/// A task graph: nodes with keys, names and kinds; edges with argument positions.
#[derive(Debug, Clone, Default)]
pub struct TaskGraph {
    pub(crate) graph: DiGraph<NodeInfo, EdgeInfo, u32>,
}

/// Two graphs are equal when they hold the same nodes and the same edges in the same
/// insertion order: what a JSON round trip preserves. Ids are positions, so comparing
/// in order also compares which nodes each edge joins.
impl PartialEq for TaskGraph {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.edge_count() == other.edge_count()
            && self
                .nodes()
                .map(|(_, n)| n)
                .eq(other.nodes().map(|(_, n)| n))
            && self.edges().eq(other.edges())
    }
}

impl Eq for TaskGraph {}

impl TaskGraph {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty graph with room for `nodes` nodes and `edges` edges.
    pub fn with_capacity(nodes: usize, edges: usize) -> Self {
        TaskGraph {
            graph: DiGraph::with_capacity(nodes, edges),
        }
    }

    /// Adds a node. Keys are not checked for uniqueness here; `from_json` checks them.
    pub fn add_node(&mut self, info: NodeInfo) -> NodeId {
        NodeId(self.graph.add_node(info))
    }

    /// Adds an edge meaning "`to` reads the result of `from` as parameter `position`".
    pub fn add_edge(&mut self, from: NodeId, to: NodeId, position: u32) {
        self.graph.add_edge(from.0, to.0, EdgeInfo { position });
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Every node with its id, in insertion order.
    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &NodeInfo)> + '_ {
        self.graph
            .node_indices()
            .map(move |i| (NodeId(i), &self.graph[i]))
    }

    /// Every edge as (dependency, reader, info).
    pub fn edges(&self) -> impl Iterator<Item = (NodeId, NodeId, EdgeInfo)> + '_ {
        self.graph
            .raw_edges()
            .iter()
            .map(|e| (NodeId(e.source()), NodeId(e.target()), e.weight))
    }

    /// The node behind `id`. Panics if `id` came from another graph, like slice indexing.
    pub fn node(&self, id: NodeId) -> &NodeInfo {
        &self.graph[id.0]
    }

    /// Lets the scheduler fill in what it learns later (order, measured duration).
    pub fn node_mut(&mut self, id: NodeId) -> &mut NodeInfo {
        &mut self.graph[id.0]
    }

    /// The dependencies of `id` (tails of its incoming edges), in no particular order.
    pub fn dependencies(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.graph
            .neighbors_directed(id.0, petgraph::Direction::Incoming)
            .map(NodeId)
    }

    /// The readers of `id` (heads of its outgoing edges), in no particular order.
    pub fn readers(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.graph
            .neighbors_directed(id.0, petgraph::Direction::Outgoing)
            .map(NodeId)
    }

    /// The id of the node with this key, if any (a linear scan).
    pub fn find(&self, key: &str) -> Option<NodeId> {
        self.nodes().find(|(_, n)| n.key == key).map(|(id, _)| id)
    }
}

/// A chain of `n` typical task nodes, with longer than typical keys, names and types and
/// every optional field set: what the reader-limit tests size our writers' output by.
/// `key_extra` is appended to every key.
#[cfg(test)]
pub(crate) fn typical_chain(n: u64, key_extra: &str) -> TaskGraph {
    let mut graph = TaskGraph::new();
    let mut previous = None;
    for i in 0..n {
        let id = graph.add_node(
            NodeInfo::task(
                format!("process_chunk-{i:016x}{i:016x}{key_extra}"),
                "process_chunk",
                "my_pipeline::stages::process_chunk",
            )
            .with_type_name("alloc::vec::Vec<my_pipeline::Record>")
            .with_size(i * 1_000_003)
            .with_order(i)
            .with_duration_ns(i * 1_234_567),
        );
        if let Some(p) = previous {
            graph.add_edge(p, id, 0);
        }
        previous = Some(id);
    }
    graph
}
