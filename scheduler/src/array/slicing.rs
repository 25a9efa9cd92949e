//! `slice(s![..])`: Dask's `x[:10, 5]`. Each output block is a slice of one input block.

use ndarray::SliceInfoElem;

use super::error::{ArrayError, Dims};
use super::{Array, Block};

/// What one input axis becomes.
enum AxisSel {
    /// Kept: for each output chunk, the elements taken from one input block.
    Keep { groups: Vec<Group>, step: isize },
    /// Removed by an index: the input block and the local index in it.
    Index { block: usize, local: usize },
}

/// The elements of one input block that make one output chunk: `count` local indices
/// from `first`, `step` apart (downwards for a negative step), in output order. Kept as
/// a rule rather than a list: listing every selected index (and finding its block by a
/// scan) made `x[1:]` of a 2^36-element array allocate 512 GiB, and took two minutes
/// to build for 2^20 elements in 2^16 blocks.
#[derive(Debug, Clone, Copy)]
struct Group {
    block: usize,
    first: usize,
    count: usize,
}

pub(crate) fn slice(array: &Array, info: &[SliceInfoElem]) -> Array {
    let Ok(body) = array.body() else {
        return array.clone();
    };
    let ndim = body.shape.len();
    let used = info
        .iter()
        .filter(|e| !matches!(e, SliceInfoElem::NewAxis))
        .count();
    if used > ndim {
        return Array::invalid(ArrayError::Invalid {
            op: "slice",
            shape: Dims(body.shape.clone()),
            why: format!("{used} indices for {ndim} axes"),
        });
    }
    let oob = |axis: usize, what: String| {
        Array::invalid(ArrayError::SliceOutOfBounds {
            axis,
            what,
            shape: Dims(body.shape.clone()),
        })
    };
    // Per input axis its selection, and the output axes in order (Some(input axis) or a
    // new axis).
    let mut sels: Vec<AxisSel> = Vec::with_capacity(ndim);
    let mut out_axes: Vec<Option<usize>> = Vec::new();
    let full = SliceInfoElem::Slice {
        start: 0,
        end: None,
        step: 1,
    };
    let elems = info
        .iter()
        .copied()
        .chain(std::iter::repeat_n(full, ndim - used));
    for elem in elems {
        let axis = sels.len();
        match elem {
            SliceInfoElem::NewAxis => out_axes.push(None),
            SliceInfoElem::Index(i) => {
                let len = body.shape[axis] as isize;
                let at = if i < 0 { i + len } else { i };
                if at < 0 || at >= len {
                    return oob(axis, format!("index {i} is out of bounds for length {len}"));
                }
                let (block, local) = locate(&body.chunks[axis], at as usize);
                sels.push(AxisSel::Index { block, local });
            }
            SliceInfoElem::Slice { start, end, step } => {
                let len = body.shape[axis] as isize;
                if step == 0 {
                    return oob(axis, "a step of 0".to_string());
                }
                let resolve = |v: isize| if v < 0 { v + len } else { v };
                let (lo, hi) = (resolve(start), resolve(end.unwrap_or(len)));
                if lo < 0 || lo > len || hi < 0 || hi > len {
                    return oob(
                        axis,
                        format!(
                            "slice {start}..{} is out of bounds for length {len}",
                            end.map_or(String::new(), |e| e.to_string())
                        ),
                    );
                }
                let mut groups = groups(&body.chunks[axis], lo as usize, hi as usize, step);
                if groups.is_empty() {
                    groups.push(Group {
                        block: 0,
                        first: 0,
                        count: 0,
                    });
                }
                out_axes.push(Some(axis));
                sels.push(AxisSel::Keep { groups, step });
            }
        }
    }
    let mut shape = Vec::new();
    let mut chunks = Vec::new();
    for axis in &out_axes {
        match axis {
            None => {
                shape.push(1);
                chunks.push(vec![1]);
            }
            Some(a) => {
                let AxisSel::Keep { groups, .. } = &sels[*a] else {
                    unreachable!("kept axes")
                };
                let sizes: Vec<usize> = groups.iter().map(|g| g.count).collect();
                shape.push(sizes.iter().sum());
                chunks.push(sizes);
            }
        }
    }
    let out_body = super::Body::layout(shape.clone(), chunks.clone());
    let blocks = (0..out_body.block_count())
        .map(|b| {
            let idx = out_body.unravel(b);
            // The output block index of each kept input axis.
            let mut chosen = vec![0usize; ndim];
            for (o, axis) in out_axes.iter().enumerate() {
                if let Some(a) = axis {
                    chosen[*a] = idx[o];
                }
            }
            let mut src = Vec::with_capacity(ndim);
            let mut local: Vec<(u8, isize, isize, isize)> = Vec::new();
            let mut whole = true;
            let mut sel_iter = sels.iter().enumerate();
            for axis in &out_axes {
                if axis.is_none() {
                    local.push((2, 0, 0, 0));
                    whole = false;
                    continue;
                }
                // Input axes removed by an index come before the next kept one.
                for (a, sel) in sel_iter.by_ref() {
                    match sel {
                        AxisSel::Index { block, local: l } => {
                            src.push(*block);
                            local.push((1, *l as isize, 0, 0));
                            whole = false;
                        }
                        AxisSel::Keep { groups, step } => {
                            let g = groups[chosen[a]];
                            src.push(g.block);
                            // ndarray's negative step walks `start..end` from its end.
                            let span = (g.count.max(1) - 1) * step.unsigned_abs();
                            let (f, s) = (g.first as isize, *step);
                            let elem = match g.count {
                                0 => (0, 0, 0, 1),
                                _ if s > 0 => (0, f, f + span as isize + 1, s),
                                _ => (0, f - span as isize, f + 1, s),
                            };
                            whole &= elem.1 == 0
                                && elem.3 == 1
                                && elem.2 as usize == body.chunks[a][g.block];
                            local.push(elem);
                            break;
                        }
                    }
                }
            }
            for (_, sel) in sel_iter {
                if let AxisSel::Index { block, local: l } = sel {
                    src.push(*block);
                    local.push((1, *l as isize, 0, 0));
                    whole = false;
                }
            }
            let input = &array.blocks()[body.ravel(&src)];
            if whole {
                return input.clone();
            }
            let elems: Vec<SliceInfoElem> = local
                .iter()
                .map(|&(kind, a, b, s)| match kind {
                    0 => SliceInfoElem::Slice {
                        start: a,
                        end: Some(b),
                        step: s,
                    },
                    1 => SliceInfoElem::Index(a),
                    _ => SliceInfoElem::NewAxis,
                })
                .collect();
            super::task(
                "getitem",
                ("slice", &local),
                std::slice::from_ref(input),
                move |ins: &[&Block]| ins[0].slice(elems.as_slice()).to_owned(),
            )
        })
        .collect();
    Array::from_blocks(shape, chunks, blocks)
}

/// The block holding global index `g` along an axis, and the index within it.
fn locate(chunks: &[usize], mut g: usize) -> (usize, usize) {
    for (b, &c) in chunks.iter().enumerate() {
        if g < c {
            return (b, g);
        }
        g -= c;
    }
    (chunks.len() - 1, g)
}

/// The output chunks of `lo..hi` taken `step` apart along an axis cut into `chunks`
/// (ndarray's slice: a negative step walks from `hi - 1` down), one per input block
/// that holds a selected element, in output order. Computed per block, not per element.
fn groups(chunks: &[usize], lo: usize, hi: usize, step: isize) -> Vec<Group> {
    let stride = step.unsigned_abs();
    let mut out = Vec::new();
    if hi <= lo {
        return out;
    }
    let mut block_start = 0;
    for (block, &len) in chunks.iter().enumerate() {
        // `[a, b)`: the block's part of `lo..hi`.
        let (a, b) = (lo.max(block_start), hi.min(block_start + len));
        if a < b {
            let group = if step > 0 {
                // The first of `lo, lo + stride, ...` at or after `a`.
                let first = a + (stride - (a - lo) % stride) % stride;
                (first < b).then(|| Group {
                    block,
                    first: first - block_start,
                    count: (b - 1 - first) / stride + 1,
                })
            } else {
                // The first of `hi - 1, hi - 1 - stride, ...` at or before `b - 1`.
                let below = (stride - (hi - b) % stride) % stride;
                (below <= b - 1 - a).then(|| {
                    let top = b - 1 - below;
                    Group {
                        block,
                        first: top - block_start,
                        count: (top - a) / stride + 1,
                    }
                })
            };
            out.extend(group);
        }
        block_start += len;
    }
    if step < 0 {
        out.reverse();
    }
    out
}
