//! The invariants every task graph read from outside must hold: unique keys, no cycles.
//! (Graphs the scheduler builds hold them by construction.)

use std::collections::{HashMap, VecDeque};

use petgraph::algo::toposort;
use petgraph::graph::NodeIndex;
use petgraph::Direction;

use crate::error::GraphError;
use crate::model::TaskGraph;

impl TaskGraph {
    /// Checks that keys are unique and that the graph has no cycle.
    pub fn validate(&self) -> Result<(), GraphError> {
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(self.len());
        for (id, node) in self.nodes() {
            if let Some(first) = seen.insert(node.key.as_str(), id.index()) {
                return Err(GraphError::DuplicateKey {
                    key: node.key.clone(),
                    first,
                    second: id.index(),
                });
            }
        }
        toposort(&self.graph, None).map_err(|cycle| {
            let on_cycle = cycle.node_id();
            let keys = self
                .cycle_through(on_cycle)
                .into_iter()
                .map(|i| self.graph[i].key.clone())
                .collect();
            GraphError::Cycle {
                key: self.graph[on_cycle].key.clone(),
                cycle: keys,
            }
        })?;
        Ok(())
    }

    /// A shortest cycle through `start` (which toposort says lies on one), as the
    /// nodes in edge order starting with `start`; breadth-first so the message is short.
    fn cycle_through(&self, start: NodeIndex<u32>) -> Vec<NodeIndex<u32>> {
        let mut came_from: HashMap<NodeIndex<u32>, NodeIndex<u32>> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        while let Some(at) = queue.pop_front() {
            for next in self.graph.neighbors_directed(at, Direction::Outgoing) {
                if next == start {
                    let mut path = vec![at];
                    let mut cursor = at;
                    while cursor != start {
                        cursor = came_from[&cursor];
                        path.push(cursor);
                    }
                    path.reverse();
                    return path;
                }
                if let std::collections::hash_map::Entry::Vacant(e) = came_from.entry(next) {
                    e.insert(at);
                    queue.push_back(next);
                }
            }
        }
        vec![start]
    }
}

#[cfg(test)]
mod tests {
    use crate::{GraphError, NodeInfo, TaskGraph};

    fn chain(keys: &[&str]) -> (TaskGraph, Vec<crate::NodeId>) {
        let mut g = TaskGraph::new();
        let ids: Vec<_> = keys
            .iter()
            .map(|k| g.add_node(NodeInfo::task(*k, *k, *k)))
            .collect();
        for pair in ids.windows(2) {
            g.add_edge(pair[0], pair[1], 0);
        }
        (g, ids)
    }

    #[test]
    fn an_acyclic_graph_with_unique_keys_passes() {
        assert_eq!(chain(&["a", "b", "c"]).0.validate(), Ok(()));
        assert_eq!(TaskGraph::new().validate(), Ok(()));
    }

    #[test]
    fn duplicate_keys_are_named_with_both_positions() {
        let (g, _) = chain(&["a", "b", "a"]);
        assert_eq!(
            g.validate(),
            Err(GraphError::DuplicateKey {
                key: "a".into(),
                first: 0,
                second: 2
            })
        );
    }

    #[test]
    fn a_cycle_is_named_with_its_keys() {
        let (mut g, ids) = chain(&["a", "b", "c", "d"]);
        g.add_edge(ids[3], ids[1], 0);
        let Err(GraphError::Cycle { key, cycle }) = g.validate() else {
            panic!("expected a cycle error");
        };
        assert!(["b", "c", "d"].contains(&key.as_str()));
        assert_eq!(cycle.len(), 3);
        assert_eq!(cycle[0], key);
    }

    #[test]
    fn a_self_loop_is_a_cycle() {
        let (mut g, ids) = chain(&["a", "b"]);
        g.add_edge(ids[1], ids[1], 0);
        let err = g.validate().unwrap_err();
        assert_eq!(err.to_string(), "the graph has a cycle through `b`: b → b");
    }
}
