//! `x op x.T` over a square array of generated values (`(x + x.T).sum()` of a random
//! matrix): a reduction computes blocks (i, j) and (j, i) in one task, generating each
//! value once.
//!
//! A transpose of generated values is generated in place (`Expr::Permuted`), so
//! `x + x.T` holds no block, but each of its elements generates two values: `x[u, v]`
//! and `x[v, u]`. Blocks (i, j) and (j, i) read the same values, transposed. Their
//! pair task walks both blocks in square tiles: it generates the tile of `x` at (u, v)
//! and the one at (v, u) once, transposes each in the cache, and hands both output
//! tiles to the reduction. Every element is still computed and reduced as in the
//! unpaired evaluation (Dask generates each value of `x` once too: it holds the blocks).

use super::blockwise::{BinaryOp, BlockInputs, BlockPlace, Expr, Scratch};

/// Edge of the square tiles a pair is walked in: four 32 × 32 tiles of `f64` (8 KiB
/// each) stay in the L1 cache while they are transposed.
const EDGE: usize = 32;

/// `x op x.T` (or `x.T op x`) of a generated `x`.
#[derive(Debug, Clone)]
pub(crate) struct Symmetric {
    op: BinaryOp,
    x: Expr,
    /// `x.T op x` rather than `x op x.T`.
    swapped: bool,
}

impl Symmetric {
    /// The pairing of an expression over a square array with the same chunks on both
    /// axes, if it is `x op x.T` of values generated from positions alone.
    pub(crate) fn detect(
        expr: &Expr,
        has_inputs: bool,
        shape: &[usize],
        chunks: &[Vec<usize>],
    ) -> Option<Symmetric> {
        if has_inputs || shape.len() != 2 || shape[0] != shape[1] || chunks[0] != chunks[1] {
            return None;
        }
        let Expr::Binary(op, left, right) = expr else {
            return None;
        };
        let transposed = [1, shape[1] as u64];
        let is_transpose_of = |e: &Expr, of: &Expr| {
            matches!(e, Expr::Permuted { strides, inner }
                if strides.as_slice() == transposed && **inner == *of)
        };
        let (x, swapped) = if left.generated_only() && is_transpose_of(right, left) {
            (left, false)
        } else if right.generated_only() && is_transpose_of(left, right) {
            (right, true)
        } else {
            return None;
        };
        Some(Symmetric {
            op: *op,
            x: (**x).clone(),
            swapped,
        })
    }

    /// Calls `f(p, q)` for each pair of tiles: `p` of the block at `place`, `q` the tile
    /// of the mirrored block (offsets swapped) at the mirrored position, each the
    /// expression's values in row-major order. Together the calls cover both blocks once.
    pub(crate) fn for_each_tile_pair(&self, place: &BlockPlace, mut f: impl FnMut(&[f64], &[f64])) {
        let (rows, cols) = (place.shape[0], place.shape[1]);
        let (row0, col0) = (place.offset[0], place.offset[1]);
        let mut scratch = Scratch::default();
        let mut tiles = [[0.0; EDGE * EDGE]; 4];
        for r in (0..rows).step_by(EDGE) {
            let tr = EDGE.min(rows - r);
            for c in (0..cols).step_by(EDGE) {
                let tc = EDGE.min(cols - c);
                let len = tr * tc;
                let [a, b, at, bt] = &mut tiles;
                // a: x at (u, v) for the tile's rows u and columns v; b: x at (v, u).
                self.generate(
                    [tr, tc],
                    [row0 + r, col0 + c],
                    place,
                    &mut a[..len],
                    &mut scratch,
                );
                self.generate(
                    [tc, tr],
                    [col0 + c, row0 + r],
                    place,
                    &mut b[..len],
                    &mut scratch,
                );
                transpose(&a[..len], tr, tc, &mut at[..len]);
                transpose(&b[..len], tc, tr, &mut bt[..len]);
                // The tile of block (i, j) holds x(u, v) op x(v, u) = a op bt, the
                // mirrored tile x(v, u) op x(u, v) = b op at (operands swapped for
                // x.T op x).
                if self.swapped {
                    self.op.apply(&mut bt[..len], &a[..len]);
                    self.op.apply(&mut at[..len], &b[..len]);
                    f(&bt[..len], &at[..len]);
                } else {
                    self.op.apply(&mut a[..len], &bt[..len]);
                    self.op.apply(&mut b[..len], &at[..len]);
                    f(&a[..len], &b[..len]);
                }
            }
        }
    }

    /// `x`'s values over the rectangle at `offset` of this `shape`, row-major.
    fn generate(
        &self,
        shape: [usize; 2],
        offset: [usize; 2],
        array: &BlockPlace,
        out: &mut [f64],
        scratch: &mut Scratch,
    ) {
        let place = BlockPlace {
            shape: shape.to_vec(),
            offset: offset.to_vec(),
            strides: array.strides.clone(),
        };
        let inputs = BlockInputs {
            inputs: Vec::new(),
            place,
        };
        self.x.eval_tile(&inputs, 0, out, scratch);
    }
}

/// `out` (cols × rows) = the transpose of `a` (rows × cols), both row-major.
fn transpose(a: &[f64], rows: usize, cols: usize, out: &mut [f64]) {
    for (r, row) in a.chunks_exact(cols).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            out[c * rows + r] = v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_of_a_rectangle() {
        let a: Vec<f64> = (0..6).map(f64::from).collect(); // 2 x 3
        let mut out = vec![0.0; 6];
        transpose(&a, 2, 3, &mut out);
        assert_eq!(out, [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]);
    }
}
