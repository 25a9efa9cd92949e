//! NumPy's broadcasting rule for the elementwise operators between arrays: the shape and
//! chunks of `a op b`, and how each operand's blocks line up with the result's.
//!
//! Shapes are aligned from the right; an axis one operand lacks counts as length 1; an
//! axis of length 1 stretches to the other operand's length (0 included); the result's
//! length along each axis is the longer one, and any other pair of lengths is an error.
//! Along each axis the result takes the chunks of an operand that is not stretched there
//! (if both are not, the operand of more axes wins, the left one on a tie, and the other
//! is rechunked to match). A stretched operand keeps its single chunk of 1 along the
//! axis: every block of the result along it reads that one block (block index 0), which
//! ndarray broadcasts when the block is evaluated (`with_block_inputs`).

use super::error::{ArrayError, Dims};
use super::limits;

/// The length of axis `axis` of an array of `ndim` axes as `shape` lines up with it
/// from the right: `None` where `shape` has no such axis.
fn aligned(shape: &[usize], ndim: usize, axis: usize) -> Option<usize> {
    (axis + shape.len()).checked_sub(ndim).map(|own| shape[own])
}

/// The shape of `left op right` under NumPy's rule, or `ShapeMismatch` naming `op` and
/// both shapes.
pub(crate) fn shape(
    op: &'static str,
    left: &[usize],
    right: &[usize],
) -> Result<Vec<usize>, ArrayError> {
    let ndim = left.len().max(right.len());
    (0..ndim)
        .map(|axis| {
            let a = aligned(left, ndim, axis).unwrap_or(1);
            let b = aligned(right, ndim, axis).unwrap_or(1);
            match (a, b) {
                _ if a == b => Ok(a),
                (1, n) | (n, 1) => Ok(n),
                _ => Err(ArrayError::ShapeMismatch {
                    op,
                    left: Dims(left.to_vec()),
                    right: Dims(right.to_vec()),
                }),
            }
        })
        .collect()
}

/// The chunks of `left op right`, whose broadcast shape is `out` (from [`shape`]),
/// checked against the size [`limits`] as any new array's are: stretching `(2^40, 1)`
/// against `(1, 2^40)` is an error here, not an allocation that aborts.
pub(crate) fn chunks(
    op: &'static str,
    out: &[usize],
    left: (&[usize], &[Vec<usize>]),
    right: (&[usize], &[Vec<usize>]),
) -> Result<Vec<Vec<usize>>, ArrayError> {
    let ndim = out.len();
    // On axes where neither operand is stretched, the chunks of the operand of more axes
    // (the left one on a tie), as before broadcasting went beyond rows.
    let (first, second) = if left.0.len() >= right.0.len() {
        (left, right)
    } else {
        (right, left)
    };
    let chunks: Vec<Vec<usize>> = (0..ndim)
        .map(|axis| {
            [first, second]
                .into_iter()
                .find_map(|(shape, chunks)| {
                    let own = (axis + shape.len()).checked_sub(ndim)?;
                    (shape[own] == out[axis]).then(|| chunks[own].clone())
                })
                // Unreachable for shapes from `shape`: some operand has every length.
                .unwrap_or_else(|| vec![out[axis]])
        })
        .collect();
    limits::check_chunks(op, out, &chunks)?;
    Ok(chunks)
}

/// The chunks an operand of `shape` and `chunks` must have to line up with a result of
/// `out_shape` and `out_chunks`: the result's along the axes it is not stretched on, its
/// own single chunk of 1 where it is.
pub(crate) fn operand_chunks(
    shape: &[usize],
    chunks: &[Vec<usize>],
    out_shape: &[usize],
    out_chunks: &[Vec<usize>],
) -> Vec<Vec<usize>> {
    let offset = out_shape.len() - shape.len();
    shape
        .iter()
        .zip(chunks)
        .enumerate()
        .map(|(own, (&len, chunks))| {
            if len == out_shape[offset + own] {
                out_chunks[offset + own].clone()
            } else {
                chunks.clone()
            }
        })
        .collect()
}

/// Row-major number of the block of an operand (`shape`, `chunks`) that the result's
/// block at `idx` (of a result of `out_shape`) reads: the operand's axes are the last
/// ones of the result, and along an axis it is stretched on, its only block (index 0).
pub(crate) fn operand_block(
    shape: &[usize],
    chunks: &[Vec<usize>],
    out_shape: &[usize],
    idx: &[usize],
) -> usize {
    let offset = idx.len() - chunks.len();
    idx[offset..]
        .iter()
        .zip(chunks)
        .zip(shape.iter().zip(&out_shape[offset..]))
        .fold(0, |acc, ((&i, c), (&len, &out))| {
            acc * c.len() + if len == out { i } else { 0 }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_broadcast_as_numpy() {
        let ok = |a: &[usize], b: &[usize]| shape("add", a, b).unwrap();
        assert_eq!(ok(&[3, 4], &[3, 1]), [3, 4]);
        assert_eq!(ok(&[3, 1], &[1, 4]), [3, 4]);
        assert_eq!(ok(&[5, 1, 4], &[3, 1]), [5, 3, 4]);
        assert_eq!(ok(&[], &[2, 3]), [2, 3]);
        assert_eq!(ok(&[], &[]), [] as [usize; 0]);
        assert_eq!(ok(&[0, 1], &[1, 3]), [0, 3]);
        assert_eq!(ok(&[1], &[0]), [0]);
        let e = shape("mul", &[0], &[3]).unwrap_err();
        assert_eq!(e.to_string(), "`mul`: shapes (0,) and (3,) do not match");
    }

    #[test]
    fn chunks_follow_the_operand_that_is_not_stretched() {
        let c = chunks(
            "add",
            &[3, 4],
            (&[3, 1], &[vec![2, 1], vec![1]]),
            (&[1, 4], &[vec![1], vec![3, 1]]),
        )
        .unwrap();
        assert_eq!(c, [vec![2, 1], vec![3, 1]]);
        // Neither stretched: the operand of more axes.
        let c = chunks(
            "add",
            &[2, 4],
            (&[4], &[vec![1, 3]]),
            (&[2, 4], &[vec![2], vec![2, 2]]),
        )
        .unwrap();
        assert_eq!(c, [vec![2], vec![2, 2]]);
        assert_eq!(
            operand_chunks(&[4], &[vec![1, 3]], &[2, 4], &c),
            [vec![2, 2]]
        );
        // The block a result block reads: index 0 along stretched axes.
        let (shape, own) = ([3, 1], [vec![1, 2], vec![1]]);
        assert_eq!(operand_block(&shape, &own, &[2, 3, 4], &[1, 1, 3]), 1);
        assert_eq!(operand_block(&shape, &own, &[2, 3, 4], &[0, 0, 2]), 0);
    }

    #[test]
    fn a_result_too_big_is_an_error() {
        let big = 1usize << 40;
        let e = chunks(
            "add",
            &[big, big],
            (&[big, 1], &[vec![big], vec![1]]),
            (&[1, big], &[vec![1], vec![big]]),
        )
        .unwrap_err();
        assert!(matches!(e, ArrayError::Invalid { op: "add", .. }), "{e}");
    }
}
