//! Ordering vertices within layers to reduce edge crossings: a depth-first start, then
//! barycenter sweeps down and up, keeping the best order seen.

use super::layering::Layered;

/// Sweeps (one down and one up each) before giving up on improvement. Crossings
/// rarely drop after the first few; each sweep costs O(E log V).
const MAX_SWEEPS: usize = 12;
const PATIENCE: usize = 3;

pub(crate) fn order(layered: &mut Layered) {
    initial_order(layered);
    let mut best = layered.layers.clone();
    let mut best_crossings = total_crossings(layered);
    let mut since_improvement = 0;
    for _ in 0..MAX_SWEEPS {
        if best_crossings == 0 || since_improvement >= PATIENCE {
            break;
        }
        for layer in 1..layered.layers.len() {
            reorder(layered, layer, true);
        }
        for layer in (0..layered.layers.len().saturating_sub(1)).rev() {
            reorder(layered, layer, false);
        }
        let crossings = total_crossings(layered);
        if crossings < best_crossings {
            best_crossings = crossings;
            best = layered.layers.clone();
            since_improvement = 0;
        } else {
            since_improvement += 1;
        }
    }
    layered.layers = best;
}

/// Depth-first from the sources in input order: keeps each chain of calls together,
/// which already untangles trees and independent pipelines.
fn initial_order(layered: &mut Layered) {
    let n = layered.vertices.len();
    let mut visited = vec![false; n];
    let mut layers = vec![Vec::new(); layered.layers.len()];
    let mut stack = Vec::new();
    let roots: Vec<usize> = (0..n).filter(|&v| layered.up[v].is_empty()).collect();
    for root in roots.into_iter().chain(0..n) {
        if visited[root] {
            continue;
        }
        stack.push(root);
        while let Some(v) = stack.pop() {
            if visited[v] {
                continue;
            }
            visited[v] = true;
            layers[layered.vertices[v].rank].push(v);
            // Reversed so the first reader is visited first.
            stack.extend(layered.down[v].iter().rev().filter(|&&w| !visited[w]));
        }
    }
    layered.layers = layers;
}

/// Positions of every vertex within its layer.
fn positions(layered: &Layered) -> Vec<usize> {
    let mut pos = vec![0; layered.vertices.len()];
    for layer in &layered.layers {
        for (i, &v) in layer.iter().enumerate() {
            pos[v] = i;
        }
    }
    pos
}

/// Sorts `layer` by the mean position of each vertex's neighbours in the layer above
/// (`from_above`) or below. Vertices without such neighbours keep their place.
fn reorder(layered: &mut Layered, layer: usize, from_above: bool) {
    let pos = positions(layered);
    let neighbours = if from_above {
        &layered.up
    } else {
        &layered.down
    };
    let mut keyed: Vec<(f64, usize, usize)> = layered.layers[layer]
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let adjacent = &neighbours[v];
            let barycenter = if adjacent.is_empty() {
                i as f64
            } else {
                adjacent.iter().map(|&w| pos[w] as f64).sum::<f64>() / adjacent.len() as f64
            };
            (barycenter, i, v)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    layered.layers[layer] = keyed.into_iter().map(|(_, _, v)| v).collect();
}

pub(crate) fn total_crossings(layered: &Layered) -> usize {
    let pos = positions(layered);
    (0..layered.layers.len().saturating_sub(1))
        .map(|layer| crossings_between(layered, &pos, layer))
        .sum()
}

/// Crossings between `layer` and the next one: inversions among the edges' lower
/// ends once sorted by their upper ends, counted with a Fenwick tree in O(E log V).
fn crossings_between(layered: &Layered, pos: &[usize], layer: usize) -> usize {
    let mut edges: Vec<(usize, usize)> = layered.layers[layer]
        .iter()
        .flat_map(|&v| layered.down[v].iter().map(move |&w| (pos[v], pos[w])))
        .collect();
    edges.sort_unstable();
    let width = layered.layers[layer + 1].len();
    let mut tree = vec![0usize; width + 1];
    let mut crossings = 0;
    for (seen, &(_, lower)) in edges.iter().enumerate() {
        // Edges seen so far with a lower end at or left of `lower` do not cross this one.
        let mut i = lower + 1;
        let mut not_crossing = 0;
        while i > 0 {
            not_crossing += tree[i];
            i &= i - 1;
        }
        crossings += seen - not_crossing;
        let mut i = lower + 1;
        while i <= width {
            tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    }
    crossings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::layering::{build, ranks, NodeExtent};

    fn layered(nodes: usize, edges: &[(usize, usize)]) -> Layered {
        let rank = ranks(nodes, edges, 1);
        let extents: Vec<NodeExtent> = (0..nodes)
            .map(|_| NodeExtent {
                across: 10.0,
                along: 10.0,
            })
            .collect();
        let oriented: Vec<_> = edges.iter().map(|&e| Some(e)).collect();
        build(
            &extents,
            &rank,
            &oriented,
            &vec![None; edges.len()],
            &vec![true; edges.len()],
        )
    }

    #[test]
    fn counts_crossings() {
        // Two sources, two sinks, wired across: one crossing.
        let mut l = layered(4, &[(0, 3), (1, 2)]);
        l.layers = vec![vec![0, 1], vec![2, 3]];
        assert_eq!(total_crossings(&l), 1);
        l.layers = vec![vec![0, 1], vec![3, 2]];
        assert_eq!(total_crossings(&l), 0);
        // Complete bipartite 3 × 3 has 9 crossings in any order.
        let edges: Vec<(usize, usize)> = (0..3).flat_map(|a| (3..6).map(move |b| (a, b))).collect();
        let l = layered(6, &edges);
        assert_eq!(total_crossings(&l), 9);
    }

    #[test]
    fn untangles_independent_pipelines() {
        // Three generate → transform → aggregate chains, added interleaved.
        let edges = [(0, 3), (1, 4), (2, 5), (3, 8), (4, 7), (5, 6)];
        let mut l = layered(9, &edges);
        l.layers[1].reverse();
        order(&mut l);
        assert_eq!(total_crossings(&l), 0);
        let sizes: Vec<usize> = l.layers.iter().map(Vec::len).collect();
        assert_eq!(sizes, [3, 3, 3]);
    }

    #[test]
    fn ordering_permutes_each_layer() {
        let edges = [(0, 2), (1, 2), (0, 3), (2, 4), (3, 4), (1, 4)];
        let before = layered(5, &edges);
        let mut after = before.clone();
        order(&mut after);
        for (a, b) in before.layers.iter().zip(&after.layers) {
            let (mut a, mut b) = (a.clone(), b.clone());
            a.sort();
            b.sort();
            assert_eq!(a, b);
        }
    }
}
