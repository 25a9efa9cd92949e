//! Coordinates for ordered layers.
//!
//! Along the rank direction each layer gets a band as thick as its thickest vertex.
//! Across, each vertex is pulled towards the mean of its neighbours in the adjacent
//! layer, layer by layer, down and up a few times. Each layer is solved exactly: the
//! positions closest (least squares) to those wishes that keep the order and the
//! minimum gaps, by isotonic regression (pool adjacent violators), which is O(n).

use super::layering::{Layered, Vertex};

/// Space between two real nodes of a layer.
pub(crate) const NODE_GAP: f64 = 24.0;
/// Space between a node and an edge passing beside it.
const EDGE_NODE_GAP: f64 = 14.0;
/// Space between two edges passing through a layer side by side.
const EDGE_GAP: f64 = 8.0;
/// Space between layers: where edges bend.
pub(crate) const RANK_GAP: f64 = 44.0;
/// How many down-and-up rounds of straightening.
const ROUNDS: usize = 8;
/// Dummies resist being pulled aside more than nodes, so long edges stay straight.
const DUMMY_WEIGHT: f64 = 4.0;
/// How strongly a dummy neighbour pulls a real node, relative to a real neighbour.
const DUMMY_PULL: f64 = 0.2;

fn gap(a: &Vertex, b: &Vertex) -> f64 {
    let plain_dummy = |v: &Vertex| v.is_dummy() && v.label_of.is_none();
    match (plain_dummy(a), plain_dummy(b)) {
        (true, true) => EDGE_GAP,
        (false, false) => NODE_GAP,
        _ => EDGE_NODE_GAP,
    }
}

/// Minimum distance between the centres of neighbours `a` and `b` in a layer.
fn separation(a: &Vertex, b: &Vertex) -> f64 {
    (a.across + b.across) / 2.0 + gap(a, b)
}

/// Centre of every vertex across the layers, the leftmost edge at 0.
pub(crate) fn across(layered: &Layered) -> Vec<f64> {
    let vertices = &layered.vertices;
    let mut x = vec![0.0; vertices.len()];
    for layer in &layered.layers {
        let mut at = 0.0;
        for (i, &v) in layer.iter().enumerate() {
            if i > 0 {
                at += separation(&vertices[layer[i - 1]], &vertices[v]);
            }
            x[v] = at;
        }
    }
    let layers = layered.layers.len();
    for _ in 0..ROUNDS {
        for layer in 1..layers {
            place_layer(layered, &mut x, layer, &layered.up);
        }
        for layer in (0..layers.saturating_sub(1)).rev() {
            place_layer(layered, &mut x, layer, &layered.down);
        }
    }
    // End going down: each node then sits under its dependencies, so a chain of calls
    // is a straight column and joins bend only where they join.
    for layer in 1..layers {
        place_layer(layered, &mut x, layer, &layered.up);
    }
    let left = vertices
        .iter()
        .zip(&x)
        .map(|(v, x)| x - v.across / 2.0)
        .fold(f64::INFINITY, f64::min);
    if left.is_finite() {
        for x in &mut x {
            *x -= left;
        }
    }
    x
}

fn place_layer(layered: &Layered, x: &mut [f64], layer: usize, side: &[Vec<usize>]) {
    let order = &layered.layers[layer];
    if order.is_empty() {
        return;
    }
    let vertices = &layered.vertices;
    let wishes: Vec<(f64, f64)> = order
        .iter()
        .map(|&v| {
            // A node follows its real neighbours more than edges passing by: a bus of
            // shared dummies beside a chain would otherwise pull the chain askew.
            let (sum, total) = side[v].iter().fold((0.0, 0.0), |(s, t), &w| {
                let pull = if vertices[w].is_dummy() && !vertices[v].is_dummy() {
                    DUMMY_PULL
                } else {
                    1.0
                };
                (s + pull * x[w], t + pull)
            });
            let wish = if total == 0.0 { x[v] } else { sum / total };
            let weight = if vertices[v].is_dummy() {
                DUMMY_WEIGHT
            } else {
                1.0
            };
            (wish, weight)
        })
        .collect();
    let offsets: Vec<f64> = std::iter::once(0.0)
        .chain(order.windows(2).scan(0.0, |total, pair| {
            *total += separation(&vertices[pair[0]], &vertices[pair[1]]);
            Some(*total)
        }))
        .collect();
    let placed = closest_ordered(&wishes, &offsets);
    for (&v, p) in order.iter().zip(placed) {
        x[v] = p;
    }
}

/// Positions p minimising Σ weight·(p − wish)² subject to
/// p[i+1] − p[i] ≥ offsets[i+1] − offsets[i]. With q = p − offset the constraints say
/// q is non-decreasing: isotonic regression.
fn closest_ordered(wishes: &[(f64, f64)], offsets: &[f64]) -> Vec<f64> {
    // Blocks of pooled values: (weighted mean of q, total weight, length).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(wishes.len());
    for (&(wish, weight), &offset) in wishes.iter().zip(offsets) {
        let mut block = (wish - offset, weight, 1);
        while let Some(&(mean, w, len)) = blocks.last() {
            if mean <= block.0 {
                break;
            }
            blocks.pop();
            let total = w + block.1;
            block = ((mean * w + block.0 * block.1) / total, total, len + block.2);
        }
        blocks.push(block);
    }
    let mut placed = Vec::with_capacity(wishes.len());
    for (mean, _, len) in blocks {
        for _ in 0..len {
            placed.push(mean + offsets[placed.len()]);
        }
    }
    placed
}

/// Per layer, the centre line and the thickness of its band, the first band starting
/// at 0.
pub(crate) fn along(layered: &Layered) -> Vec<(f64, f64)> {
    let mut bands = Vec::with_capacity(layered.layers.len());
    let mut end = -RANK_GAP;
    for layer in &layered.layers {
        let thickness = layer
            .iter()
            .map(|&v| layered.vertices[v].along)
            .fold(0.0, f64::max);
        let start = end + RANK_GAP;
        bands.push((start + thickness / 2.0, thickness));
        end = start + thickness;
    }
    bands
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotonic_placement_keeps_order_and_gaps() {
        // Everyone wants 0: they spread symmetrically around it.
        let p = closest_ordered(&[(0.0, 1.0), (0.0, 1.0), (0.0, 1.0)], &[0.0, 10.0, 20.0]);
        assert_eq!(p, [-10.0, 0.0, 10.0]);
        // Already far enough apart: nobody moves.
        let p = closest_ordered(&[(0.0, 1.0), (50.0, 1.0)], &[0.0, 10.0]);
        assert_eq!(p, [0.0, 50.0]);
        // A heavy vertex stays closer to its wish.
        let p = closest_ordered(&[(0.0, 3.0), (0.0, 1.0)], &[0.0, 8.0]);
        assert_eq!(p, [-2.0, 6.0]);
    }
}
