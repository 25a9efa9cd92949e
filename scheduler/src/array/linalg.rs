//! Matrix products: `dot`/`matmul` and `tensordot`. Each output block is one task that
//! sums the products of the blocks along the contracted axes (`ndarray`'s `dot`, which
//! runs the pure-Rust `matrixmultiply` kernels: no BLAS library needed).

use ndarray::{Array2, ArrayD, CowArray, Ix2, IxDyn};

use super::error::{ArrayError, Dims};
use super::shape::cartesian;
use super::{Array, Block};

impl Array {
    /// The matrix product of two 2-D arrays (NumPy's `a @ b`).
    pub fn matmul(&self, other: &Array) -> Array {
        for a in [self, other] {
            if a.error().is_none() && a.ndim() != 2 {
                return Array::invalid(ArrayError::Invalid {
                    op: "matmul",
                    shape: Dims(a.shape().to_vec()),
                    why: "matmul takes 2-D arrays (tensordot takes any)".into(),
                });
            }
        }
        self.contract("matmul", other, &[1], &[0])
    }

    /// The same as [`matmul`](Self::matmul).
    pub fn dot(&self, other: &Array) -> Array {
        self.matmul(other)
    }

    /// Sums products over pairs of axes, `axes.0[i]` of `self` with `axes.1[i]` of
    /// `other` (NumPy's `tensordot(a, b, axes=(..., ...))`). The result's axes are the
    /// free axes of `self`, then those of `other`.
    pub fn tensordot(
        &self,
        other: &Array,
        axes: (impl Into<Vec<usize>>, impl Into<Vec<usize>>),
    ) -> Array {
        self.contract("tensordot", other, &axes.0.into(), &axes.1.into())
    }

    fn contract(&self, op: &'static str, other: &Array, ca: &[usize], cb: &[usize]) -> Array {
        let (a, b) = match (self.body(), other.body()) {
            (Err(_), _) => return self.clone(),
            (_, Err(_)) => return other.clone(),
            (Ok(a), Ok(b)) => (a, b),
        };
        let mismatch = || {
            Array::invalid(ArrayError::ShapeMismatch {
                op,
                left: Dims(a.shape.clone()),
                right: Dims(b.shape.clone()),
            })
        };
        if ca.len() != cb.len() {
            return mismatch();
        }
        for (&i, &j) in ca.iter().zip(cb) {
            if i >= a.shape.len() {
                return Array::invalid(ArrayError::AxisOutOfRange {
                    op,
                    axis: i,
                    shape: Dims(a.shape.clone()),
                });
            }
            if j >= b.shape.len() {
                return Array::invalid(ArrayError::AxisOutOfRange {
                    op,
                    axis: j,
                    shape: Dims(b.shape.clone()),
                });
            }
            if a.shape[i] != b.shape[j] {
                return mismatch();
            }
        }
        let distinct = |v: &[usize]| v.iter().enumerate().all(|(k, x)| !v[..k].contains(x));
        if !distinct(ca) || !distinct(cb) {
            return Array::invalid(ArrayError::Invalid {
                op,
                shape: Dims(a.shape.clone()),
                why: "an axis is contracted twice".into(),
            });
        }
        let free_a: Vec<usize> = (0..a.shape.len()).filter(|x| !ca.contains(x)).collect();
        let free_b: Vec<usize> = (0..b.shape.len()).filter(|x| !cb.contains(x)).collect();
        // `other`'s contracted axes take `self`'s chunks.
        let mut want = b.chunks.clone();
        for (&i, &j) in ca.iter().zip(cb) {
            want[j] = a.chunks[i].clone();
        }
        let other = if want == b.chunks {
            other.clone()
        } else {
            other.rechunk(want)
        };
        let b = other.body().expect("valid");
        let shape: Vec<usize> = free_a
            .iter()
            .map(|&x| a.shape[x])
            .chain(free_b.iter().map(|&x| b.shape[x]))
            .collect();
        let chunks: Vec<Vec<usize>> = free_a
            .iter()
            .map(|&x| a.chunks[x].clone())
            .chain(free_b.iter().map(|&x| b.chunks[x].clone()))
            .collect();
        if let Err(e) = super::limits::check_chunks(op, &shape, &chunks) {
            return Array::invalid(e);
        }
        let combos = cartesian(&ca.iter().map(|&x| a.chunks[x].len()).collect::<Vec<_>>());
        let out_body = super::Body::layout(shape.clone(), chunks.clone());
        // Axis orders that put the contracted axes last in `self`'s blocks and first in
        // `other`'s, so that each block pair is one matrix product.
        let perm_a: Vec<usize> = free_a.iter().chain(ca).copied().collect();
        let perm_b: Vec<usize> = cb.iter().chain(&free_b).copied().collect();
        let blocks = (0..out_body.block_count())
            .map(|o| {
                let idx = out_body.unravel(o);
                let (ia, ib) = idx.split_at(free_a.len());
                let mut inputs = Vec::with_capacity(2 * combos.len());
                for combo in &combos {
                    let mut sa = vec![0; a.shape.len()];
                    let mut sb = vec![0; b.shape.len()];
                    for (k, &x) in free_a.iter().enumerate() {
                        sa[x] = ia[k];
                    }
                    for (k, &x) in free_b.iter().enumerate() {
                        sb[x] = ib[k];
                    }
                    for (k, (&x, &y)) in ca.iter().zip(cb).enumerate() {
                        sa[x] = combo[k];
                        sb[y] = combo[k];
                    }
                    inputs.push(self.blocks()[a.ravel(&sa)].clone());
                    inputs.push(other.blocks()[b.ravel(&sb)].clone());
                }
                let out_shape = out_body.block_shape(&idx);
                let (pa, pb, nfa) = (perm_a.clone(), perm_b.clone(), free_a.len());
                let contracted_a = ca.to_vec();
                let tag = (op, perm_a.clone(), perm_b.clone(), out_shape.clone());
                super::task(op, tag, &inputs, move |ins: &[&Block]| {
                    let rows: usize = out_shape[..nfa].iter().product();
                    let cols: usize = out_shape[nfa..].iter().product();
                    let mut acc = Array2::<f64>::zeros((rows, cols));
                    for pair in ins.chunks(2) {
                        // The contracted length from the block's own shape: derived by
                        // division, a zero-length axis made it 0 x 0 (a panic).
                        let inner: usize =
                            contracted_a.iter().map(|&x| pair[0].shape()[x]).product();
                        let x = as_matrix(pair[0], &pa, rows, inner);
                        let y = as_matrix(pair[1], &pb, inner, cols);
                        ndarray::linalg::general_mat_mul(1.0, &x, &y, 1.0, &mut acc);
                    }
                    ArrayD::from_shape_vec(IxDyn(&out_shape), acc.into_raw_vec_and_offset().0)
                        .expect("the product has the block's element count")
                })
            })
            .collect();
        Array::from_blocks(shape, chunks, blocks)
    }
}

/// A block with its axes permuted, as a `rows` x `cols` matrix: a view of the block
/// itself when it is already in that order, else a row-major copy.
fn as_matrix<'a>(
    block: &'a Block,
    perm: &[usize],
    rows: usize,
    cols: usize,
) -> CowArray<'a, f64, Ix2> {
    let in_order = perm.iter().enumerate().all(|(i, &p)| i == p);
    if in_order && block.is_standard_layout() {
        if let Ok(view) = block.view().into_shape_with_order((rows, cols)) {
            return CowArray::from(view);
        }
    }
    let permuted = block.view().permuted_axes(IxDyn(perm));
    let values: Vec<f64> = permuted.iter().copied().collect();
    CowArray::from(Array2::from_shape_vec((rows, cols), values).expect("rows divide the block"))
}
