//! Edge routes through the placed layers.
//!
//! A route leaves its node straight along the rank direction to the edge of the node's
//! band, bends only in the gaps between bands, and crosses a band only at a dummy
//! vertex, whose slot the coordinate step kept free. Since the gaps hold no nodes and
//! each slot is free, routes cannot pass through nodes.

use std::collections::{HashMap, HashSet};

use super::layering::Layered;
use super::{AbsPoint, Segment};

/// Size of a self-loop: how far it reaches out beside its node.
pub(crate) const LOOP_REACH: f64 = 22.0;

/// Room a node with `loops` self-loops (and the widest of their labels, `label`
/// across) needs beside it.
pub(crate) fn loop_room(loops: usize, label: f64) -> f64 {
    if loops == 0 {
        0.0
    } else {
        loop_size(loops - 1) * 1.25 + label + 8.0
    }
}

fn loop_size(nth: usize) -> f64 {
    LOOP_REACH * (1.0 + 0.5 * nth as f64)
}

/// A drawn piece of one or more edges in abstract coordinates (across, along).
///
/// An edge is usually one piece. Edges sharing dummies (see `layering::build`) share
/// pieces: the shared stretch is drawn once, by the first edge through it, and later
/// edges draw only their own part, which starts or ends on it.
pub(crate) struct AbsPiece {
    /// The edge that drew this piece.
    pub edge: usize,
    pub start: AbsPoint,
    pub segments: Vec<Segment<AbsPoint>>,
    pub label_at: Option<AbsPoint>,
    /// Whether the piece ends at its edge's target (and so gets the arrowhead).
    pub arrow: bool,
}

impl AbsPiece {
    fn end(&self) -> AbsPoint {
        self.segments.last().map_or(self.start, Segment::end)
    }

    /// The same curve traversed the other way.
    fn reversed(self) -> AbsPiece {
        let mut points = vec![self.start];
        for s in &self.segments {
            points.push(s.end());
        }
        let mut segments = Vec::with_capacity(self.segments.len());
        for (i, s) in self.segments.iter().enumerate().rev() {
            segments.push(match *s {
                Segment::Line(_) => Segment::Line(points[i]),
                Segment::Curve(c1, c2, _) => Segment::Curve(c2, c1, points[i]),
            });
        }
        AbsPiece {
            start: *points.last().unwrap_or(&self.start),
            segments,
            ..self
        }
    }
}

/// What routing needs to know about the placed layered graph.
pub(crate) struct Placement<'a> {
    pub layered: &'a Layered,
    /// Centre across, per vertex.
    pub across: &'a [f64],
    /// (centre, thickness) along, per layer.
    pub bands: &'a [(f64, f64)],
    /// Real shape half-extents (across, along) and roundness, per input node.
    pub shapes: &'a [(f64, f64, bool)],
}

impl Placement<'_> {
    fn centre(&self, v: usize) -> AbsPoint {
        let rank = self.layered.vertices[v].rank;
        AbsPoint {
            across: self.across[v],
            along: self.bands[rank].0,
        }
    }

    fn band(&self, v: usize) -> (f64, f64) {
        let (centre, thickness) = self.bands[self.layered.vertices[v].rank];
        (centre - thickness / 2.0, centre + thickness / 2.0)
    }

    fn is_dummy(&self, v: usize) -> bool {
        self.layered.vertices[v].is_dummy()
    }

    /// The point of node `node`'s outline `offset` across from its centre, on its
    /// lower (`below`) or upper side.
    fn port(&self, v: usize, offset: f64, below: bool) -> AbsPoint {
        let node = self.layered.vertices[v].node.unwrap_or(0);
        let (half_across, half_along, round) = self.shapes[node];
        let c = self.centre(v);
        let reach = if round && half_across > 0.0 {
            let t = (offset / half_across).clamp(-1.0, 1.0);
            half_along * (1.0 - t * t).max(0.0).sqrt()
        } else {
            half_along
        };
        AbsPoint {
            across: c.across + offset,
            along: if below {
                c.along + reach
            } else {
                c.along - reach
            },
        }
    }
}

/// Offsets for the ports of the hops `ends` at a node, spread over the middle of its
/// side in the order of their other ends so that they do not cross right at the node.
fn spread(mut ends: Vec<(Hop, f64)>, half_across: f64) -> Vec<(Hop, f64)> {
    ends.sort_by(|a, b| a.1.total_cmp(&b.1));
    let k = ends.len();
    if k <= 1 {
        return ends.into_iter().map(|(h, _)| (h, 0.0)).collect();
    }
    let step = (half_across * 1.2 / (k - 1) as f64).min(14.0);
    ends.into_iter()
        .enumerate()
        .map(|(i, (h, _))| (h, (i as f64 - (k - 1) as f64 / 2.0) * step))
        .collect()
}

fn curve(from: AbsPoint, to: AbsPoint) -> Segment<AbsPoint> {
    let mid = (from.along + to.along) / 2.0;
    Segment::Curve(
        AbsPoint {
            across: from.across,
            along: mid,
        },
        AbsPoint {
            across: to.across,
            along: mid,
        },
        to,
    )
}

/// One step of a chain between adjacent layers. Steps touching a shared dummy are the
/// same step for every edge through them; others belong to their edge alone (so two
/// edges between the same two nodes are still drawn twice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Hop {
    upper: usize,
    lower: usize,
    edge: Option<usize>,
}

fn hop(p: &Placement<'_>, upper: usize, lower: usize, edge: usize) -> Hop {
    let shared = p.is_dummy(upper) || p.is_dummy(lower);
    Hop {
        upper,
        lower,
        edge: (!shared).then_some(edge),
    }
}

/// The pieces that draw every input edge. `reversed[e]` turns edge `e`'s piece back so
/// it ends at the true target; self-loops (edges without a chain) get a loop beside
/// their node, each further loop of a node a size larger, with the label
/// (`label_across` wide) beyond it.
pub(crate) fn routes(
    p: &Placement<'_>,
    edges: &[(usize, usize)],
    reversed: &[bool],
    label_across: &[f64],
) -> Vec<AbsPiece> {
    let chains = &p.layered.chains;
    let vertex_count = p.layered.vertices.len();
    let mut leaving: Vec<Vec<(Hop, f64)>> = vec![Vec::new(); vertex_count];
    let mut arriving: Vec<Vec<(Hop, f64)>> = vec![Vec::new(); vertex_count];
    let mut known: HashSet<Hop> = HashSet::new();
    for (e, chain) in chains.iter().enumerate() {
        let Some(chain) = chain else { continue };
        let (first, last) = (chain[0], chain[chain.len() - 1]);
        let out = hop(p, first, chain[1], e);
        if known.insert(out) {
            leaving[first].push((out, p.across[chain[1]]));
        }
        let into = hop(p, chain[chain.len() - 2], last, e);
        if known.insert(into) {
            arriving[last].push((into, p.across[chain[chain.len() - 2]]));
        }
    }
    let mut out_offset: HashMap<Hop, f64> = HashMap::new();
    let mut in_offset: HashMap<Hop, f64> = HashMap::new();
    for v in 0..vertex_count {
        let Some(node) = p.layered.vertices[v].node else {
            continue;
        };
        let half = p.shapes[node].0;
        out_offset.extend(spread(std::mem::take(&mut leaving[v]), half));
        in_offset.extend(spread(std::mem::take(&mut arriving[v]), half));
    }

    let mut drawn: HashSet<Hop> = HashSet::new();
    let mut loops_seen = vec![0usize; p.shapes.len()];
    let mut pieces = Vec::with_capacity(chains.len());
    for (e, chain) in chains.iter().enumerate() {
        match chain {
            Some(chain) if reversed[e] => {
                let mut all = HashSet::new();
                let mut one = chain_pieces(p, e, chain, &out_offset, &in_offset, &mut all);
                pieces.extend(one.drain(..).map(AbsPiece::reversed));
            }
            Some(chain) => {
                pieces.extend(chain_pieces(
                    p,
                    e,
                    chain,
                    &out_offset,
                    &in_offset,
                    &mut drawn,
                ));
            }
            None => {
                let node = edges[e].0;
                let nth = loops_seen[node];
                loops_seen[node] += 1;
                pieces.push(loop_route(p, e, node, nth, label_across[e]));
            }
        }
    }
    pieces
}

/// The pieces of `chain` not yet in `drawn`, top to bottom.
fn chain_pieces(
    p: &Placement<'_>,
    e: usize,
    chain: &[usize],
    out_offset: &HashMap<Hop, f64>,
    in_offset: &HashMap<Hop, f64>,
    drawn: &mut HashSet<Hop>,
) -> Vec<AbsPiece> {
    let mut pieces = Vec::new();
    let mut current: Option<AbsPiece> = None;
    for pair in chain.windows(2) {
        let (upper, lower) = (pair[0], pair[1]);
        let step = hop(p, upper, lower, e);
        if !drawn.insert(step) {
            pieces.extend(current.take());
            continue;
        }
        let piece = current.get_or_insert_with(|| {
            let start = if p.is_dummy(upper) {
                AbsPoint {
                    across: p.across[upper],
                    along: p.band(upper).1,
                }
            } else {
                p.port(upper, out_offset.get(&step).copied().unwrap_or(0.0), true)
            };
            AbsPiece {
                edge: e,
                start,
                segments: Vec::new(),
                label_at: None,
                arrow: false,
            }
        });
        let band_end = p.band(upper).1;
        let at = piece.end();
        if band_end > at.along + 0.01 {
            piece.segments.push(Segment::Line(AbsPoint {
                across: at.across,
                along: band_end,
            }));
        }
        let (top, bottom) = p.band(lower);
        if p.is_dummy(lower) {
            let x = p.across[lower];
            piece.segments.push(curve(
                piece.end(),
                AbsPoint {
                    across: x,
                    along: top,
                },
            ));
            if bottom > top + 0.01 {
                piece.segments.push(Segment::Line(AbsPoint {
                    across: x,
                    along: bottom,
                }));
            }
            if p.layered.vertices[lower].label_of == Some(e) {
                piece.label_at = Some(p.centre(lower));
            }
        } else {
            let end = p.port(lower, in_offset.get(&step).copied().unwrap_or(0.0), false);
            let entry = AbsPoint {
                across: end.across,
                along: top,
            };
            piece.segments.push(curve(piece.end(), entry));
            if end.along > entry.along + 0.01 {
                piece.segments.push(Segment::Line(end));
            }
            piece.arrow = true;
        }
    }
    pieces.extend(current);
    pieces
}

fn loop_route(
    p: &Placement<'_>,
    edge: usize,
    node: usize,
    nth: usize,
    label_across: f64,
) -> AbsPiece {
    let (half_across, half_along, round) = p.shapes[node];
    let c = p.centre(node);
    let (side, lift) = if round {
        let angle = 30f64.to_radians();
        (half_across * angle.cos(), half_along * angle.sin())
    } else {
        (half_across, half_along / 3.0)
    };
    let size = loop_size(nth);
    let start = AbsPoint {
        across: c.across + side,
        along: c.along - lift,
    };
    let end = AbsPoint {
        across: c.across + side,
        along: c.along + lift,
    };
    let reach = c.across + side + size * 1.6;
    AbsPiece {
        edge,
        arrow: true,
        start,
        segments: vec![Segment::Curve(
            AbsPoint {
                across: reach,
                along: start.along - size * 0.6,
            },
            AbsPoint {
                across: reach,
                along: end.along + size * 0.6,
            },
            end,
        )],
        label_at: Some(AbsPoint {
            across: c.across + side + size * 1.25 + 4.0 + label_across / 2.0,
            along: c.along,
        }),
    }
}
