//! Edge routes through the placed layers.
//!
//! A route leaves its node straight along the rank direction to the edge of the node's
//! band, bends only in the gaps between bands, and crosses a band only at a dummy
//! vertex, whose slot the coordinate step kept free. Since the gaps hold no nodes and
//! each slot is free, routes cannot pass through nodes.

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

/// A route in abstract coordinates (across, along), with where its label goes.
pub(crate) struct AbsRoute {
    pub start: AbsPoint,
    pub segments: Vec<Segment<AbsPoint>>,
    pub label_at: Option<AbsPoint>,
}

impl AbsRoute {
    /// The same curve traversed the other way.
    fn reversed(self) -> AbsRoute {
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
        AbsRoute {
            start: *points.last().unwrap_or(&self.start),
            segments,
            label_at: self.label_at,
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

/// Offsets for the ports of `chains` ending at a node, spread over the middle of its
/// side in the order of their neighbours so that they do not cross right at the node.
fn spread(mut ends: Vec<(usize, f64)>, half_across: f64) -> Vec<(usize, f64)> {
    ends.sort_by(|a, b| a.1.total_cmp(&b.1));
    let k = ends.len();
    if k <= 1 {
        return ends.into_iter().map(|(c, _)| (c, 0.0)).collect();
    }
    let step = (half_across * 1.2 / (k - 1) as f64).min(14.0);
    ends.into_iter()
        .enumerate()
        .map(|(i, (c, _))| (c, (i as f64 - (k - 1) as f64 / 2.0) * step))
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

/// Routes for every input edge, in order. `reversed[e]` turns the route back so it
/// ends at the edge's true target; self-loops (edges without a chain) get a loop
/// beside their node, each further loop of a node a size larger, with the label
/// (`label_across` wide) beyond it.
pub(crate) fn routes(
    p: &Placement<'_>,
    edges: &[(usize, usize)],
    reversed: &[bool],
    label_across: &[f64],
) -> Vec<AbsRoute> {
    let chains = &p.layered.chains;
    let vertex_count = p.layered.vertices.len();
    let mut leaving: Vec<Vec<(usize, f64)>> = vec![Vec::new(); vertex_count];
    let mut arriving: Vec<Vec<(usize, f64)>> = vec![Vec::new(); vertex_count];
    for (e, chain) in chains.iter().enumerate() {
        if let Some(chain) = chain {
            let (first, last) = (chain[0], chain[chain.len() - 1]);
            leaving[first].push((e, p.across[chain[1]]));
            arriving[last].push((e, p.across[chain[chain.len() - 2]]));
        }
    }
    let mut out_offset = vec![0.0; chains.len()];
    let mut in_offset = vec![0.0; chains.len()];
    for v in 0..vertex_count {
        let Some(node) = p.layered.vertices[v].node else {
            continue;
        };
        let half = p.shapes[node].0;
        for (e, offset) in spread(std::mem::take(&mut leaving[v]), half) {
            out_offset[e] = offset;
        }
        for (e, offset) in spread(std::mem::take(&mut arriving[v]), half) {
            in_offset[e] = offset;
        }
    }

    let mut loops_seen = vec![0usize; p.shapes.len()];
    let mut result = Vec::with_capacity(chains.len());
    for (e, chain) in chains.iter().enumerate() {
        let route = match chain {
            Some(chain) => {
                let route = chain_route(p, chain, out_offset[e], in_offset[e]);
                if reversed[e] {
                    route.reversed()
                } else {
                    route
                }
            }
            None => {
                let node = edges[e].0;
                let nth = loops_seen[node];
                loops_seen[node] += 1;
                loop_route(p, node, nth, label_across[e])
            }
        };
        result.push(route);
    }
    result
}

fn chain_route(p: &Placement<'_>, chain: &[usize], out_offset: f64, in_offset: f64) -> AbsRoute {
    let first = chain[0];
    let last = chain[chain.len() - 1];
    let start = p.port(first, out_offset, true);
    let mut segments = Vec::with_capacity(2 * chain.len());
    let mut at = start;
    let mut go = |segment: Segment<AbsPoint>, at: &mut AbsPoint| {
        *at = segment.end();
        segments.push(segment);
    };
    let (_, band_end) = p.band(first);
    if band_end > at.along + 0.01 {
        go(
            Segment::Line(AbsPoint {
                across: at.across,
                along: band_end,
            }),
            &mut at,
        );
    }
    let mut label_at = None;
    for &d in &chain[1..chain.len() - 1] {
        let (top, bottom) = p.band(d);
        let x = p.across[d];
        go(
            curve(
                at,
                AbsPoint {
                    across: x,
                    along: top,
                },
            ),
            &mut at,
        );
        if bottom > top + 0.01 {
            go(
                Segment::Line(AbsPoint {
                    across: x,
                    along: bottom,
                }),
                &mut at,
            );
        }
        if p.layered.vertices[d].label_of.is_some() {
            label_at = Some(p.centre(d));
        }
    }
    let end = p.port(last, in_offset, false);
    let (band_start, _) = p.band(last);
    let entry = AbsPoint {
        across: end.across,
        along: band_start,
    };
    go(curve(at, entry), &mut at);
    if end.along > entry.along + 0.01 {
        go(Segment::Line(end), &mut at);
    }
    AbsRoute {
        start,
        segments,
        label_at,
    }
}

fn loop_route(p: &Placement<'_>, node: usize, nth: usize, label_across: f64) -> AbsRoute {
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
    AbsRoute {
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
