//! Operations that move elements between positions: transpose, rechunk, concatenate,
//! stack, reshape.

use ndarray::{ArrayD, Axis, IxDyn, SliceInfoElem};

use std::sync::Arc;

use super::blockwise::{BlockPlace, Expr, Generator, Scalar};
use super::chunks::Chunks;
use super::error::{ArrayError, Dims};
use super::{Array, Block};

impl Array {
    /// The transpose: axes in reverse order (NumPy's `x.T`).
    pub fn t(&self) -> Array {
        let n = self.ndim();
        self.transpose((0..n).rev().collect::<Vec<_>>())
    }

    /// Axes permuted: axis `i` of the result is axis `axes[i]` of `self`.
    pub fn transpose(&self, axes: impl Into<Vec<usize>>) -> Array {
        let axes: Vec<usize> = axes.into();
        let Ok(body) = self.body() else {
            return self.clone();
        };
        let mut seen = vec![false; body.shape.len()];
        let valid = axes.len() == body.shape.len()
            && axes
                .iter()
                .all(|&a| a < seen.len() && !std::mem::replace(&mut seen[a], true));
        if !valid {
            return Array::invalid(ArrayError::Invalid {
                op: "transpose",
                shape: Dims(body.shape.clone()),
                why: format!(
                    "{axes:?} is not a permutation of the {} axes",
                    body.shape.len()
                ),
            });
        }
        let shape: Vec<usize> = axes.iter().map(|&a| body.shape[a]).collect();
        let chunks: Vec<Vec<usize>> = axes.iter().map(|&a| body.chunks[a].clone()).collect();
        // Values computed from positions alone are generated where they land.
        let (expr, inputs) = self.view();
        if inputs.is_empty() && expr.generated_only() {
            let own = BlockPlace::row_major(&body.shape);
            let strides = axes.iter().map(|&a| own[a]).collect();
            let permuted = Expr::Permuted {
                strides,
                inner: Box::new((*expr).clone()),
            };
            return Array::fused(shape, chunks, Arc::new(permuted), Vec::new());
        }
        let out_body = super::Body::layout(shape.clone(), chunks.clone());
        let blocks = (0..out_body.block_count())
            .map(|b| {
                let idx = out_body.unravel(b);
                let mut src = vec![0; idx.len()];
                for (i, &a) in axes.iter().enumerate() {
                    src[a] = idx[i];
                }
                let input = &self.blocks()[body.ravel(&src)];
                let perm = axes.clone();
                super::task(
                    "transpose",
                    ("transpose", &axes),
                    std::slice::from_ref(input),
                    move |ins: &[&Block]| permuted(ins[0], &perm),
                )
            })
            .collect();
        Array::from_blocks(shape, chunks, blocks)
    }

    /// The same values cut into other chunks. Each new block is assembled from the
    /// parts of the old blocks it overlaps, in one task; a block that is unchanged keeps
    /// its node.
    pub fn rechunk(&self, chunks: impl Into<Chunks>) -> Array {
        let Ok(body) = self.body() else {
            return self.clone();
        };
        let new = match chunks.into().resolve("rechunk", &body.shape) {
            Ok(c) => c,
            Err(e) => return Array::invalid(e),
        };
        if new == body.chunks {
            return self.clone();
        }
        // Per axis and new chunk: (old chunk, start in it, start in the new one, length).
        let pieces: Vec<Vec<Vec<Piece>>> = body
            .chunks
            .iter()
            .zip(&new)
            .map(|(old, new)| overlaps(old, new))
            .collect();
        let out_body = super::Body::layout(body.shape.clone(), new.clone());
        let blocks = (0..out_body.block_count())
            .map(|b| {
                let idx = out_body.unravel(b);
                let per_axis: Vec<&Vec<Piece>> = idx
                    .iter()
                    .enumerate()
                    .map(|(a, &i)| &pieces[a][i])
                    .collect();
                let combos = cartesian(&per_axis.iter().map(|p| p.len()).collect::<Vec<_>>());
                let mut inputs = Vec::with_capacity(combos.len());
                let mut regions = Vec::with_capacity(combos.len());
                for combo in &combos {
                    let parts: Vec<Piece> = combo
                        .iter()
                        .enumerate()
                        .map(|(a, &k)| per_axis[a][k])
                        .collect();
                    let src: Vec<usize> = parts.iter().map(|p| p.old).collect();
                    inputs.push(self.blocks()[body.ravel(&src)].clone());
                    regions.push(parts);
                }
                let shape = out_body.block_shape(&idx);
                let whole = inputs.len() == 1
                    && regions[0]
                        .iter()
                        .zip(&shape)
                        .all(|(p, &len)| p.from == 0 && p.len == len)
                    && body.block_shape(&regions[0].iter().map(|p| p.old).collect::<Vec<_>>())
                        == shape;
                if whole {
                    return inputs.pop().expect("one input");
                }
                let tag = ("rechunk", shape.clone(), regions.clone());
                super::task("rechunk", tag, &inputs, move |ins: &[&Block]| {
                    let mut out = ArrayD::zeros(IxDyn(&shape));
                    for (input, parts) in ins.iter().zip(&regions) {
                        let from: Vec<SliceInfoElem> =
                            parts.iter().map(|p| range(p.from, p.len)).collect();
                        let to: Vec<SliceInfoElem> =
                            parts.iter().map(|p| range(p.to, p.len)).collect();
                        out.slice_mut(to.as_slice())
                            .assign(&input.slice(from.as_slice()));
                    }
                    out
                })
            })
            .collect();
        Array::from_blocks(body.shape.clone(), new, blocks)
    }

    /// The same elements in row-major order with another shape, where the chunks allow
    /// it block by block: the axes from the first one that changes on must be one chunk
    /// each, except that one, whose chunks must hold whole rows of the new shape.
    /// Otherwise the error names a `rechunk` that works.
    pub fn reshape(&self, shape: impl Into<super::Shape>) -> Array {
        let to = shape.into().0;
        let Ok(body) = self.body() else {
            return self.clone();
        };
        let from = &body.shape;
        // Checked: a shape whose element count overflows wrapped around to a count that
        // could match.
        let to_count = to.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if Some(from.iter().product::<usize>()) != to_count {
            return Array::invalid(ArrayError::Invalid {
                op: "reshape",
                shape: Dims(from.clone()),
                why: format!(
                    "cannot hold the {} elements in shape {}",
                    from.iter().product::<usize>(),
                    Dims(to)
                ),
            });
        }
        if *from == to {
            return self.clone();
        }
        let chunks = match unit_axes_changed(from, &to, &body.chunks)
            .map_or_else(|| regrouped_rows(from, &to, &body.chunks), Ok)
        {
            Ok(chunks) => chunks,
            Err(_) if to_count == Some(0) => {
                // No elements to move, so any chunks would do: the rules above refused
                // `(0, 3)` to `(3, 0)` (NumPy allows it) and suggested a rechunk that
                // changed nothing. (Tried last: this array no longer reads the blocks,
                // so a block that would fail is not computed.)
                let one_chunk = Chunks::Explicit(to.iter().map(|&d| vec![d]).collect());
                let zero = Expr::Generate(Generator::Full(Scalar::new(0.0)));
                return Array::generated("reshape", zero, to, one_chunk);
            }
            Err(e) => return Array::invalid(e),
        };
        let out_body = super::Body::layout(to.clone(), chunks.clone());
        // Blocks correspond one to one, in the same row-major order.
        let blocks = (0..out_body.block_count())
            .map(|b| {
                let shape = out_body.block_shape(&out_body.unravel(b));
                super::task(
                    "reshape",
                    ("reshape", shape.clone()),
                    &self.blocks()[b..b + 1],
                    move |ins: &[&Block]| {
                        ArrayD::from_shape_vec(IxDyn(&shape), ins[0].iter().copied().collect())
                            .expect("a block keeps its element count")
                    },
                )
            })
            .collect();
        Array::from_blocks(to, chunks, blocks)
    }

    /// The array with a new axis of length 1 at `axis`.
    fn expand_dims(&self, axis: usize) -> Array {
        let Ok(body) = self.body() else {
            return self.clone();
        };
        let mut shape = body.shape.clone();
        shape.insert(axis, 1);
        let mut chunks = body.chunks.clone();
        chunks.insert(axis, vec![1]);
        let blocks = self
            .blocks()
            .iter()
            .map(|b| {
                super::task(
                    "expand_dims",
                    ("expand_dims", axis),
                    std::slice::from_ref(b),
                    move |ins: &[&Block]| ins[0].clone().insert_axis(Axis(axis)),
                )
            })
            .collect();
        Array::from_blocks(shape, chunks, blocks)
    }
}

/// The chunks of an array of shape `from` reshaped to `to` when the two differ only by
/// axes of length 1 (Dask's `x.reshape(1, n)`, `x[:, None]`): the other axes keep their
/// chunks whatever they are, and blocks stay in the same row-major order. `None` for
/// any other reshape.
fn unit_axes_changed(
    from: &[usize],
    to: &[usize],
    chunks: &[Vec<usize>],
) -> Option<Vec<Vec<usize>>> {
    let longer = |s: &[usize]| s.iter().copied().filter(|&d| d != 1).collect::<Vec<_>>();
    if longer(from) != longer(to) {
        return None;
    }
    let mut kept = from
        .iter()
        .zip(chunks)
        .filter(|(&d, _)| d != 1)
        .map(|(_, c)| c.clone());
    Some(
        to.iter()
            .map(|&d| {
                if d == 1 {
                    vec![1]
                } else {
                    kept.next().expect("the same axes longer than 1")
                }
            })
            .collect(),
    )
}

/// The chunks of an array of shape `from` and `chunks` reshaped to `to` by regrouping
/// whole rows: the axes before the first that differs keep their chunks, that axis's
/// chunks are scaled, and every later axis must be one chunk (so each block reshapes on
/// its own). Otherwise an error suggesting chunks that would do.
fn regrouped_rows(
    from: &[usize],
    to: &[usize],
    chunks: &[Vec<usize>],
) -> Result<Vec<Vec<usize>>, ArrayError> {
    let p = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    let p = p
        .min(from.len().saturating_sub(1))
        .min(to.len().saturating_sub(1));
    let t_in: usize = from.get(p + 1..).map_or(1, |s| s.iter().product());
    let t_out: usize = to.get(p + 1..).map_or(1, |s| s.iter().product());
    let reject = || ArrayError::Reshape {
        from: Dims(from.to_vec()),
        to: Dims(to.to_vec()),
        chunks: chunks.to_vec(),
        suggestion: (0..from.len())
            .map(|a| {
                if a < p {
                    chunks[a].clone()
                } else {
                    vec![from[a]]
                }
            })
            .collect(),
    };
    if from.is_empty() || to.is_empty() {
        let blocks: usize = chunks.iter().map(Vec::len).product();
        if blocks != 1 {
            return Err(reject());
        }
        return Ok(to.iter().map(|&d| vec![d]).collect());
    }
    let trailing_whole = chunks[p + 1..].iter().all(|c| c.len() == 1);
    let rows_fit = t_out > 0 && chunks[p].iter().all(|&c| (c * t_in).is_multiple_of(t_out));
    if !trailing_whole || !rows_fit {
        return Err(reject());
    }
    Ok((0..to.len())
        .map(|a| {
            if a < p {
                chunks[a].clone()
            } else if a == p {
                chunks[p].iter().map(|&c| c * t_in / t_out).collect()
            } else {
                vec![to[a]]
            }
        })
        .collect())
}

/// A block with its axes permuted, in row-major order. A 2-D transpose is copied in
/// square tiles that fit the L1 cache: reading one matrix by columns as a whole would
/// miss the cache on almost every element once a block outgrows it.
fn permuted(block: &Block, perm: &[usize]) -> Block {
    const TILE: usize = 32;
    let contiguous = block
        .as_slice()
        .filter(|_| block.ndim() == 2 && perm == [1, 0]);
    let Some(src) = contiguous else {
        return block
            .view()
            .permuted_axes(IxDyn(perm))
            .as_standard_layout()
            .into_owned();
    };
    let (rows, cols) = (block.shape()[0], block.shape()[1]);
    let mut out = vec![0.0; rows * cols];
    for r0 in (0..rows).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(rows) {
                for c in c0..(c0 + TILE).min(cols) {
                    out[c * rows + r] = src[r * cols + c];
                }
            }
        }
    }
    ArrayD::from_shape_vec(IxDyn(&[cols, rows]), out).expect("a transposed block keeps its length")
}

/// `start..start + len` as a slice element.
fn range(start: usize, len: usize) -> SliceInfoElem {
    SliceInfoElem::Slice {
        start: start as isize,
        end: Some((start + len) as isize),
        step: 1,
    }
}

/// Part of an old chunk along one axis that goes into a new chunk.
#[derive(Debug, Clone, Copy, Hash)]
struct Piece {
    /// The old chunk.
    old: usize,
    /// Where the part starts in the old chunk.
    from: usize,
    /// Where it starts in the new chunk.
    to: usize,
    len: usize,
}

/// For each new chunk along an axis, the parts of old chunks it is made of. One pass
/// over both lists: scanning every old chunk for each new one took seconds to build a
/// rechunk of a few thousand blocks, and minutes for 2^16.
fn overlaps(old: &[usize], new: &[usize]) -> Vec<Vec<Piece>> {
    let mut out = Vec::with_capacity(new.len());
    // The old chunk `i`, which starts at `old_start`, is the first that ends after
    // `start`.
    let (mut i, mut old_start) = (0, 0);
    let mut start = 0;
    for &len in new {
        if len == 0 {
            // Only an empty axis has empty chunks: any old chunk gives nothing.
            out.push(vec![Piece {
                old: i.min(old.len() - 1),
                from: 0,
                to: 0,
                len: 0,
            }]);
            continue;
        }
        while old_start + old[i] <= start {
            old_start += old[i];
            i += 1;
        }
        let end = start + len;
        let mut parts = Vec::new();
        let (mut j, mut at) = (i, old_start);
        while at < end {
            let (lo, hi) = (start.max(at), end.min(at + old[j]));
            if lo < hi {
                parts.push(Piece {
                    old: j,
                    from: lo - at,
                    to: lo - start,
                    len: hi - lo,
                });
            }
            at += old[j];
            j += 1;
        }
        out.push(parts);
        start = end;
    }
    out
}

/// Every combination of one index below each count, in row-major order.
pub(crate) fn cartesian(counts: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new()];
    for &n in counts {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                (0..n).map(move |i| {
                    let mut v = prefix.clone();
                    v.push(i);
                    v
                })
            })
            .collect();
    }
    out
}

/// The arrays joined along an existing `axis`; the other axes must match (their chunks
/// follow the first array that is not empty along `axis`). No task is added: the blocks
/// are the inputs' blocks.
pub fn concatenate(arrays: &[Array], axis: usize) -> Array {
    if let Some(e) = arrays.iter().find_map(|a| a.error()) {
        return Array::invalid(e.clone());
    }
    let Some(first) = arrays.first() else {
        return Array::invalid(ArrayError::Invalid {
            op: "concatenate",
            shape: Dims(Vec::new()),
            why: "no arrays to join".into(),
        });
    };
    let body = first.body().expect("checked above");
    if axis >= body.shape.len() {
        return Array::invalid(ArrayError::AxisOutOfRange {
            op: "concatenate",
            axis,
            shape: Dims(body.shape.clone()),
        });
    }
    for other in &arrays[1..] {
        let s = other.shape();
        let same = s.len() == body.shape.len()
            && s.iter()
                .zip(&body.shape)
                .enumerate()
                .all(|(a, (x, y))| a == axis || x == y);
        if !same {
            return Array::invalid(ArrayError::ShapeMismatch {
                op: "concatenate",
                left: Dims(body.shape.clone()),
                right: Dims(s.to_vec()),
            });
        }
    }
    // Checked: the lengths of arrays that are empty on another axis may add up past
    // `usize` (a debug panic; wrapped around, a wrong shape).
    let Some(length) = arrays
        .iter()
        .try_fold(0usize, |n, a| n.checked_add(a.shape()[axis]))
    else {
        return Array::invalid(ArrayError::Invalid {
            op: "concatenate",
            shape: Dims(body.shape.clone()),
            why: format!("the lengths on axis {axis} add up to more than a usize holds"),
        });
    };
    let mut shape = body.shape.clone();
    shape[axis] = length;
    // Arrays empty along `axis` add nothing. Kept, they left a chunk of size 0 inside a
    // longer axis, which no later `rechunk` (to align operands of `+`, `matmul`, ...)
    // accepts: building those then panicked.
    let mut kept: Vec<&Array> = arrays.iter().filter(|a| a.shape()[axis] > 0).collect();
    if kept.is_empty() {
        kept.push(first);
    }
    let body = kept[0].body().expect("checked above");
    let aligned: Vec<Array> = kept
        .iter()
        .map(|a| {
            let mut want = body.chunks.clone();
            want[axis] = a.chunks()[axis].clone();
            if a.chunks() == want {
                (*a).clone()
            } else {
                a.rechunk(want)
            }
        })
        .collect();
    let mut chunks = body.chunks.clone();
    chunks[axis] = aligned
        .iter()
        .flat_map(|a| a.chunks()[axis].clone())
        .collect();
    if let Err(e) = super::limits::check_chunks("concatenate", &shape, &chunks) {
        return Array::invalid(e);
    }
    // Which input and which of its blocks each block along `axis` comes from.
    let owner: Vec<(usize, usize)> = aligned
        .iter()
        .enumerate()
        .flat_map(|(k, a)| (0..a.numblocks()[axis]).map(move |j| (k, j)))
        .collect();
    let out_body = super::Body::layout(shape.clone(), chunks.clone());
    let blocks = (0..out_body.block_count())
        .map(|b| {
            let mut idx = out_body.unravel(b);
            let (k, j) = owner[idx[axis]];
            idx[axis] = j;
            let src = aligned[k].body().expect("valid");
            aligned[k].blocks()[src.ravel(&idx)].clone()
        })
        .collect();
    Array::from_blocks(shape, chunks, blocks)
}

/// The arrays, all of one shape, stacked along a new `axis`.
pub fn stack(arrays: &[Array], axis: usize) -> Array {
    if let Some(e) = arrays.iter().find_map(|a| a.error()) {
        return Array::invalid(e.clone());
    }
    let Some(first) = arrays.first() else {
        return Array::invalid(ArrayError::Invalid {
            op: "stack",
            shape: Dims(Vec::new()),
            why: "no arrays to stack".into(),
        });
    };
    if axis > first.ndim() {
        return Array::invalid(ArrayError::AxisOutOfRange {
            op: "stack",
            axis,
            shape: Dims(first.shape().to_vec()),
        });
    }
    if let Some(other) = arrays.iter().find(|a| a.shape() != first.shape()) {
        return Array::invalid(ArrayError::ShapeMismatch {
            op: "stack",
            left: Dims(first.shape().to_vec()),
            right: Dims(other.shape().to_vec()),
        });
    }
    let expanded: Vec<Array> = arrays.iter().map(|a| a.expand_dims(axis)).collect();
    concatenate(&expanded, axis)
}
