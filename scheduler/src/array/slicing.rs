//! `slice(s![..])`: Dask's `x[:10, 5]`. Each output block is a slice of one input block.

use ndarray::SliceInfoElem;

use super::error::{ArrayError, Dims};
use super::{Array, Block};

/// What one input axis becomes.
enum AxisSel {
    /// Kept: for each output chunk, the input block and the local indices taken from it.
    Keep {
        groups: Vec<(usize, Vec<usize>)>,
        step: isize,
    },
    /// Removed by an index: the input block and the local index in it.
    Index { block: usize, local: usize },
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
                let picked: Vec<usize> = if hi <= lo {
                    Vec::new()
                } else if step > 0 {
                    (lo..hi)
                        .step_by(step as usize)
                        .map(|v| v as usize)
                        .collect()
                } else {
                    (lo..hi)
                        .rev()
                        .step_by(step.unsigned_abs())
                        .map(|v| v as usize)
                        .collect()
                };
                let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
                for g in picked {
                    let (block, local) = locate(&body.chunks[axis], g);
                    match groups.last_mut() {
                        Some((b, locals)) if *b == block => locals.push(local),
                        _ => groups.push((block, vec![local])),
                    }
                }
                if groups.is_empty() {
                    groups.push((0, Vec::new()));
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
                let sizes: Vec<usize> = groups.iter().map(|g| g.1.len()).collect();
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
                            let (block, locals) = &groups[chosen[a]];
                            src.push(*block);
                            let elem = match (locals.first(), locals.last()) {
                                (Some(&f), Some(&l)) if *step > 0 => {
                                    (0, f as isize, l as isize + 1, *step)
                                }
                                (Some(&f), Some(&l)) => (0, l as isize, f as isize + 1, *step),
                                _ => (0, 0, 0, 1),
                            };
                            whole &= elem.1 == 0
                                && elem.3 == 1
                                && elem.2 as usize == body.chunks[a][*block];
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
