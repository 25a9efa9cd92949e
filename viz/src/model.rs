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

    pub fn node(&self, id: NodeId) -> &NodeInfo {
        &self.graph[id.0]
    }

    /// The id of the node with this key, if any (a linear scan).
    pub fn find(&self, key: &str) -> Option<NodeId> {
        self.nodes().find(|(_, n)| n.key == key).map(|(id, _)| id)
    }
}
