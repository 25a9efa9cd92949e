//! Assigning ranks (layers) and splitting long edges with dummy vertices, so every edge
//! of the layered graph joins adjacent layers and edges can be routed around nodes.

use std::collections::{HashMap, HashSet, VecDeque};

/// A vertex of the layered graph: a real node or a dummy on a long edge.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Vertex {
    pub rank: usize,
    /// Extent across the layer (the width when ranks go top to bottom).
    pub across: f64,
    /// Extent along the rank direction (the height when ranks go top to bottom).
    pub along: f64,
    /// The input node, for real vertices.
    pub node: Option<usize>,
    /// The input edge whose label this dummy carries.
    pub label_of: Option<usize>,
}

impl Vertex {
    pub(crate) fn is_dummy(&self) -> bool {
        self.node.is_none()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Layered {
    pub vertices: Vec<Vertex>,
    /// Vertex ids per rank; the ordering step permutes each layer.
    pub layers: Vec<Vec<usize>>,
    /// Per input edge (self-loops excluded: `None`), its vertices from the upper end
    /// to the lower end, dummies in between.
    pub chains: Vec<Option<Vec<usize>>>,
    /// Neighbours in the layer above / below.
    pub up: Vec<Vec<usize>>,
    pub down: Vec<Vec<usize>>,
}

/// Longest-path ranks with each edge at least `min_len` ranks long, then sources moved
/// down next to their first reader: a value used only by a late task would otherwise
/// sit at the top with a long edge to it. `edges` must form a DAG.
pub(crate) fn ranks(nodes: usize, edges: &[(usize, usize)], min_len: usize) -> Vec<usize> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); nodes];
    let mut indegree = vec![0usize; nodes];
    for &(from, to) in edges {
        out[from].push(to);
        indegree[to] += 1;
    }
    let mut rank = vec![0usize; nodes];
    let mut remaining = indegree.clone();
    let mut ready: VecDeque<usize> = (0..nodes).filter(|&n| indegree[n] == 0).collect();
    while let Some(n) = ready.pop_front() {
        for &m in &out[n] {
            rank[m] = rank[m].max(rank[n] + min_len);
            remaining[m] -= 1;
            if remaining[m] == 0 {
                ready.push_back(m);
            }
        }
    }
    for n in 0..nodes {
        if indegree[n] == 0 {
            if let Some(first_reader) = out[n].iter().map(|&m| rank[m]).min() {
                rank[n] = first_reader - min_len;
            }
        }
    }
    rank
}

/// Node sizes as (across, along) extents.
pub(crate) struct NodeExtent {
    pub across: f64,
    pub along: f64,
}

/// Builds the layered graph. `edges` are oriented downwards (already reversed where
/// needed) with `None` for self-loops; `labels` gives the (across, along) extent of each
/// edge's label, carried by the middle dummy of its chain.
///
/// Long edges marked in `bundle` that leave the same node share their dummies, like a bus
/// (or, when their common end is the reader, those that enter the same node): one
/// value read by every task of a long chain would otherwise need a dummy per edge and
/// rank, quadratic in the chain's length, and draw as hundreds of parallel lines.
pub(crate) fn build(
    nodes: &[NodeExtent],
    rank: &[usize],
    edges: &[Option<(usize, usize)>],
    labels: &[Option<(f64, f64)>],
    bundle: &[bool],
) -> Layered {
    let mut vertices: Vec<Vertex> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| Vertex {
            rank: rank[i],
            across: n.across,
            along: n.along,
            node: Some(i),
            label_of: None,
        })
        .collect();
    let is_long = |e: usize| match edges[e] {
        Some((from, to)) => rank[to] > rank[from] + 1 && labels[e].is_none() && bundle[e],
        None => false,
    };
    let mut long_out = vec![0usize; nodes.len()];
    let mut long_in = vec![0usize; nodes.len()];
    for (e, edge) in edges.iter().enumerate() {
        if let (true, Some((from, to))) = (is_long(e), *edge) {
            long_out[from] += 1;
            long_in[to] += 1;
        }
    }
    // Shared dummies by (end node, leaves it rather than enters it, rank).
    let mut shared: HashMap<(usize, bool, usize), usize> = HashMap::new();
    let mut chains = Vec::with_capacity(edges.len());
    for (e, edge) in edges.iter().enumerate() {
        let Some((from, to)) = *edge else {
            chains.push(None);
            continue;
        };
        let (top, bottom) = (rank[from], rank[to]);
        let bus = is_long(e).then(|| {
            if long_out[from] >= long_in[to] {
                (from, true)
            } else {
                (to, false)
            }
        });
        let mut chain = vec![from];
        let label_rank = labels[e].map(|_| (top + bottom).div_ceil(2));
        for r in top + 1..bottom {
            let (across, along, label_of) = match labels[e] {
                Some((w, h)) if Some(r) == label_rank => (w, h, Some(e)),
                _ => (0.0, 0.0, None),
            };
            let next = vertices.len();
            let id = match bus {
                Some((end, leaves)) => *shared.entry((end, leaves, r)).or_insert(next),
                None => next,
            };
            if id == next {
                vertices.push(Vertex {
                    rank: r,
                    across,
                    along,
                    node: None,
                    label_of,
                });
            }
            chain.push(id);
        }
        chain.push(to);
        chains.push(Some(chain));
    }

    let layer_count = vertices.iter().map(|v| v.rank + 1).max().unwrap_or(0);
    let mut layers = vec![Vec::new(); layer_count];
    for (i, v) in vertices.iter().enumerate() {
        layers[v.rank].push(i);
    }
    let mut up = vec![Vec::new(); vertices.len()];
    let mut down = vec![Vec::new(); vertices.len()];
    // A shared stretch is one segment of the layered graph, however many edges use it.
    let mut seen: HashSet<(usize, usize)> = HashSet::new();
    for chain in chains.iter().flatten() {
        for pair in chain.windows(2) {
            if seen.insert((pair[0], pair[1])) {
                down[pair[0]].push(pair[1]);
                up[pair[1]].push(pair[0]);
            }
        }
    }
    Layered {
        vertices,
        layers,
        chains,
        up,
        down,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_follow_longest_paths() {
        // 0 → 1 → 2 → 3 and 0 → 3: 3 sits below 2, not next to 0.
        let r = ranks(4, &[(0, 1), (1, 2), (2, 3), (0, 3)], 1);
        assert_eq!(r, [0, 1, 2, 3]);
    }

    #[test]
    fn sources_sit_just_above_their_first_reader() {
        // 4 feeds only 3, which is at rank 3.
        let r = ranks(5, &[(0, 1), (1, 2), (2, 3), (4, 3)], 1);
        assert_eq!(r, [0, 1, 2, 3, 2]);
        let r = ranks(5, &[(0, 1), (1, 2), (2, 3), (4, 3)], 2);
        assert_eq!(r, [0, 2, 4, 6, 4]);
    }

    #[test]
    fn every_layered_edge_joins_adjacent_layers() {
        let edges = [(0, 1), (1, 2), (2, 3), (0, 3), (0, 2)];
        let rank = ranks(4, &edges, 1);
        let nodes: Vec<NodeExtent> = (0..4)
            .map(|_| NodeExtent {
                across: 10.0,
                along: 10.0,
            })
            .collect();
        let oriented: Vec<_> = edges.iter().map(|&e| Some(e)).collect();
        let layered = build(&nodes, &rank, &oriented, &[None; 5], &[true; 5]);
        // 0 → 3 spans 3 ranks (2 dummies), 0 → 2 spans 2 (1 dummy, shared with 0 → 3).
        assert_eq!(layered.vertices.len(), 6);
        for (v, downs) in layered.down.iter().enumerate() {
            for &w in downs {
                assert_eq!(layered.vertices[w].rank, layered.vertices[v].rank + 1);
            }
        }
        for (chain, &(from, to)) in layered.chains.iter().zip(&edges) {
            let chain = chain.as_ref().unwrap();
            assert_eq!((chain[0], *chain.last().unwrap()), (from, to));
        }
        let layer_sizes: Vec<usize> = layered.layers.iter().map(Vec::len).collect();
        assert_eq!(layer_sizes, [1, 2, 2, 1]);
    }

    #[test]
    fn long_edges_from_one_node_share_their_dummies() {
        // A value read by every step of a 200-step chain.
        let steps = 200;
        let mut edges: Vec<(usize, usize)> = (1..steps).map(|i| (i, i + 1)).collect();
        edges.extend((1..=steps).map(|i| (0, i)));
        let rank = ranks(steps + 1, &edges, 1);
        let nodes: Vec<NodeExtent> = (0..=steps)
            .map(|_| NodeExtent {
                across: 10.0,
                along: 10.0,
            })
            .collect();
        let oriented: Vec<_> = edges.iter().map(|&e| Some(e)).collect();
        let layered = build(
            &nodes,
            &rank,
            &oriented,
            &vec![None; edges.len()],
            &vec![true; edges.len()],
        );
        // One trunk of dummies down the chain instead of ~20,000.
        assert!(
            layered.vertices.len() < 2 * (steps + 1),
            "{}",
            layered.vertices.len()
        );
        for (chain, &(from, to)) in layered.chains.iter().zip(&edges) {
            let chain = chain.as_ref().unwrap();
            assert_eq!((chain[0], *chain.last().unwrap()), (from, to));
            for pair in chain.windows(2) {
                assert_eq!(
                    layered.vertices[pair[1]].rank,
                    layered.vertices[pair[0]].rank + 1
                );
            }
        }
        // And edges converging on one reader share theirs.
        let mut edges: Vec<(usize, usize)> = (0..steps - 1).map(|i| (i, i + 1)).collect();
        edges.extend((0..steps).map(|i| (i, steps)));
        let rank = ranks(steps + 1, &edges, 1);
        let oriented: Vec<_> = edges.iter().map(|&e| Some(e)).collect();
        let layered = build(
            &nodes,
            &rank,
            &oriented,
            &vec![None; edges.len()],
            &vec![true; edges.len()],
        );
        assert!(
            layered.vertices.len() < 2 * (steps + 1),
            "{}",
            layered.vertices.len()
        );
    }

    #[test]
    fn labels_ride_on_the_middle_dummy() {
        let rank = ranks(2, &[(0, 1)], 2);
        let nodes = [
            NodeExtent {
                across: 1.0,
                along: 1.0,
            },
            NodeExtent {
                across: 1.0,
                along: 1.0,
            },
        ];
        let layered = build(
            &nodes,
            &rank,
            &[Some((0, 1))],
            &[Some((30.0, 12.0))],
            &[true],
        );
        assert_eq!(layered.vertices.len(), 3);
        assert_eq!(layered.vertices[2].label_of, Some(0));
        assert_eq!(
            (layered.vertices[2].across, layered.vertices[2].along),
            (30.0, 12.0)
        );
    }
}
