//! Our own layered (Sugiyama-style) layout, so SVG needs no system program.
//!
//! The steps, one module each: break cycles ([`acyclic`]), give every node a rank by
//! longest path and split long edges with dummy vertices ([`layering`]), order each
//! layer by barycenter sweeps ([`ordering`]), place layers and nodes
//! ([`coordinates`]), route edges through the gaps ([`routing`]).
//!
//! Everything is computed in abstract coordinates, *across* the layers and *along*
//! the rank direction, and mapped to x/y for the chosen [`RankDir`] at the end, so the
//! four directions share one algorithm. Cost is about O((V + D) log V) per sweep
//! for V nodes and D dummies; a few hundred nodes take milliseconds.

mod acyclic;
mod coordinates;
mod layering;
mod ordering;
mod routing;

use crate::options::RankDir;
use layering::NodeExtent;
use routing::{loop_room, Placement};

/// Empty space around the drawing.
pub(crate) const MARGIN: f64 = 16.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Point {
    pub x: f64,
    pub y: f64,
}

/// A point before the rank direction is applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AbsPoint {
    pub across: f64,
    pub along: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Segment<P> {
    Line(P),
    /// Cubic Bézier: two control points, then the end.
    Curve(P, P, P),
}

impl<P: Copy> Segment<P> {
    pub(crate) fn end(&self) -> P {
        match *self {
            Segment::Line(p) | Segment::Curve(_, _, p) => p,
        }
    }

    fn map<Q>(&self, f: impl Fn(P) -> Q) -> Segment<Q> {
        match *self {
            Segment::Line(p) => Segment::Line(f(p)),
            Segment::Curve(a, b, c) => Segment::Curve(f(a), f(b), f(c)),
        }
    }
}

/// A node to place: its drawn size and whether it is an ellipse (edges attach to its
/// outline).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct NodeSpec {
    pub width: f64,
    pub height: f64,
    pub round: bool,
}

/// An edge to route, with the drawn size (width, height) of its label if any.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct EdgeSpec {
    pub from: usize,
    pub to: usize,
    pub label: Option<(f64, f64)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Placed {
    pub center: Point,
    pub width: f64,
    pub height: f64,
}

impl Placed {
    /// Whether `p` lies strictly inside the node's bounding box, `inset` away from its
    /// border.
    #[cfg(test)]
    pub(crate) fn contains(&self, p: Point, inset: f64) -> bool {
        (p.x - self.center.x).abs() < self.width / 2.0 - inset
            && (p.y - self.center.y).abs() < self.height / 2.0 - inset
    }
}

/// A drawn piece of an edge. Edges that share dummies share the pieces through them:
/// each stretch is drawn once.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Route {
    /// The input edge that drew this piece.
    pub edge: usize,
    pub start: Point,
    pub segments: Vec<Segment<Point>>,
    /// Centre of the edge's label, when it has one.
    pub label_at: Option<Point>,
    /// Whether the piece ends at the edge's target and so carries the arrowhead.
    pub arrow: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Layout {
    pub nodes: Vec<Placed>,
    /// Pieces drawing the edges, in edge order; every edge's target has an arrow
    /// piece ending at it.
    pub routes: Vec<Route>,
    pub width: f64,
    pub height: f64,
    /// Rank of each node (for tests of the layering).
    #[cfg(test)]
    pub ranks: Vec<usize>,
}

fn extent(spec: &NodeSpec, rankdir: RankDir) -> (f64, f64) {
    if rankdir.is_horizontal() {
        (spec.height, spec.width)
    } else {
        (spec.width, spec.height)
    }
}

/// Places `nodes` and routes `edges` (any directed graph: cycles and self-loops are
/// fine) with ranks following `rankdir`, the top-left corner at (0, 0).
pub(crate) fn layout(nodes: &[NodeSpec], edges: &[EdgeSpec], rankdir: RankDir) -> Layout {
    let pairs: Vec<(usize, usize)> = edges.iter().map(|e| (e.from, e.to)).collect();
    let label_extent: Vec<Option<(f64, f64)>> = edges
        .iter()
        .map(|e| {
            e.label.map(|(w, h)| {
                let spec = NodeSpec {
                    width: w,
                    height: h,
                    round: false,
                };
                extent(&spec, rankdir)
            })
        })
        .collect();

    // Self-loops take no part in ranking: they only need room beside their node.
    let ranked: Vec<usize> = (0..edges.len())
        .filter(|&e| pairs[e].0 != pairs[e].1)
        .collect();
    let ranked_pairs: Vec<(usize, usize)> = ranked.iter().map(|&e| pairs[e]).collect();
    let back = acyclic::back_edges(nodes.len(), &ranked_pairs);
    let mut reversed = vec![false; edges.len()];
    let mut oriented: Vec<Option<(usize, usize)>> = vec![None; edges.len()];
    for (i, &e) in ranked.iter().enumerate() {
        let (from, to) = pairs[e];
        reversed[e] = back[i];
        oriented[e] = Some(if back[i] { (to, from) } else { (from, to) });
    }
    let oriented_pairs: Vec<(usize, usize)> = oriented.iter().flatten().copied().collect();
    // Labelled edges need a dummy in the middle to carry the label, so in a drawing
    // with labels every edge spans at least two ranks.
    let min_len = if label_extent.iter().any(Option::is_some) {
        2
    } else {
        1
    };
    let ranks = layering::ranks(nodes.len(), &oriented_pairs, min_len);

    let mut loops = vec![0usize; nodes.len()];
    let mut loop_label = vec![0.0f64; nodes.len()];
    for (e, &(from, to)) in pairs.iter().enumerate() {
        if from == to {
            loops[from] += 1;
            let label = label_extent[e].map_or(0.0, |l| l.0);
            loop_label[from] = loop_label[from].max(label);
        }
    }
    let extents: Vec<NodeExtent> = nodes
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let (across, along) = extent(spec, rankdir);
            NodeExtent {
                // Centred, so room for loops on one side is reserved on both.
                across: across + 2.0 * loop_room(loops[i], loop_label[i]),
                along,
            }
        })
        .collect();
    let labels_on_chains: Vec<Option<(f64, f64)>> = (0..edges.len())
        .map(|e| {
            if oriented[e].is_some() {
                label_extent[e]
            } else {
                None
            }
        })
        .collect();
    // Reversed edges keep their own dummies: their pieces are drawn turned back.
    let bundle: Vec<bool> = reversed.iter().map(|r| !r).collect();
    let mut layered = layering::build(&extents, &ranks, &oriented, &labels_on_chains, &bundle);
    ordering::order(&mut layered);
    let across = coordinates::across(&layered);
    let bands = coordinates::along(&layered);

    let shapes: Vec<(f64, f64, bool)> = nodes
        .iter()
        .map(|spec| {
            let (a, l) = extent(spec, rankdir);
            (a / 2.0, l / 2.0, spec.round)
        })
        .collect();
    let placement = Placement {
        layered: &layered,
        across: &across,
        bands: &bands,
        shapes: &shapes,
    };
    let label_across: Vec<f64> = label_extent
        .iter()
        .map(|l| l.map_or(0.0, |l| l.0))
        .collect();
    let abs_routes = routing::routes(&placement, &pairs, &reversed, &label_across);

    let total_across = layered
        .vertices
        .iter()
        .zip(&across)
        .map(|(v, x)| x + v.across / 2.0)
        .fold(0.0, f64::max);
    let total_along = bands.last().map_or(0.0, |&(c, t)| c + t / 2.0);
    let map = |p: AbsPoint| {
        let along = if rankdir.is_reversed() {
            total_along - p.along
        } else {
            p.along
        };
        if rankdir.is_horizontal() {
            Point {
                x: along + MARGIN,
                y: p.across + MARGIN,
            }
        } else {
            Point {
                x: p.across + MARGIN,
                y: along + MARGIN,
            }
        }
    };
    let placed = nodes
        .iter()
        .enumerate()
        .map(|(i, spec)| Placed {
            center: map(AbsPoint {
                across: across[i],
                along: bands[ranks[i]].0,
            }),
            width: spec.width,
            height: spec.height,
        })
        .collect();
    let routes = abs_routes
        .into_iter()
        .map(|r| Route {
            edge: r.edge,
            start: map(r.start),
            segments: r.segments.iter().map(|s| s.map(map)).collect(),
            label_at: r.label_at.map(map),
            arrow: r.arrow,
        })
        .collect();
    let (width, height) = if rankdir.is_horizontal() {
        (total_along, total_across)
    } else {
        (total_across, total_along)
    };
    Layout {
        nodes: placed,
        routes,
        width: width + 2.0 * MARGIN,
        height: height + 2.0 * MARGIN,
        #[cfg(test)]
        ranks,
    }
}

#[cfg(test)]
mod tests;
