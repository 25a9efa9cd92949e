//! What can be wrong with an array operation, found from shapes and chunks alone while
//! the graph is built.

use std::fmt;

/// An invalid `dask::array` operation. Builders stay chainable: the error travels with
/// the array and `compute`/`persist` return it (as [`dask::Error::Array`](crate::Error))
/// before any task runs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ArrayError {
    /// Two operands whose shapes neither match nor broadcast.
    #[error("`{op}`: shapes {left} and {right} do not match")]
    ShapeMismatch {
        op: &'static str,
        left: Dims,
        right: Dims,
    },
    /// Explicit chunk sizes that do not add up to the shape, or are empty or zero.
    #[error("`{op}`: chunks {chunks:?} do not fit shape {shape}: {why}")]
    BadChunks {
        op: &'static str,
        shape: Dims,
        chunks: Vec<Vec<usize>>,
        why: String,
    },
    /// An axis that the array does not have.
    #[error("`{op}`: axis {axis} is out of range for an array of shape {shape} ({} axes)", shape.0.len())]
    AxisOutOfRange {
        op: &'static str,
        axis: usize,
        shape: Dims,
    },
    /// A slice or index past the end of an axis, or a step of zero.
    #[error("`slice`: {what} on axis {axis} of an array of shape {shape}")]
    SliceOutOfBounds {
        axis: usize,
        what: String,
        shape: Dims,
    },
    /// A reshape the chunks cannot express without moving data between chunks.
    #[error("`reshape` from {from} to {to}: the chunks {chunks:?} cannot be reshaped chunk by chunk; rechunk first, e.g. `.rechunk({suggestion:?})`")]
    Reshape {
        from: Dims,
        to: Dims,
        chunks: Vec<Vec<usize>>,
        suggestion: Vec<Vec<usize>>,
    },
    /// Any other operation its inputs do not allow (said in `why`).
    #[error("`{op}` on shape {shape}: {why}")]
    Invalid {
        op: &'static str,
        shape: Dims,
        why: String,
    },
}

/// A shape, printed as NumPy prints one: `(3, 4)`, `(5,)`, `()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dims(pub Vec<usize>);

impl fmt::Display for Dims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "({one},)"),
            dims => {
                let parts: Vec<String> = dims.iter().map(ToString::to_string).collect();
                write!(f, "({})", parts.join(", "))
            }
        }
    }
}

impl From<&[usize]> for Dims {
    fn from(dims: &[usize]) -> Self {
        Dims(dims.to_vec())
    }
}
