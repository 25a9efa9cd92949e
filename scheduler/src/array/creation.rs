//! Arrays made from nothing (`zeros`, `arange`, ...) or from data (`from_array`).

use std::hash::Hasher;
use std::sync::Arc;

use ndarray::{ArrayD, SliceInfoElem};

use super::blockwise::{Expr, Generator, Scalar};
use super::chunks::{Chunks, Shape};
use super::{Array, Block};

/// An array of zeros.
pub fn zeros(shape: impl Into<Shape>, chunks: impl Into<Chunks>) -> Array {
    full(shape, 0.0, chunks)
}

/// An array of ones.
pub fn ones(shape: impl Into<Shape>, chunks: impl Into<Chunks>) -> Array {
    full(shape, 1.0, chunks)
}

/// An array whose elements are all `value`.
pub fn full(shape: impl Into<Shape>, value: f64, chunks: impl Into<Chunks>) -> Array {
    Array::generated(
        "full",
        Expr::Generate(Generator::Full(Scalar::new(value))),
        shape,
        chunks,
    )
}

/// `0, 1, ..., n - 1` (NumPy's `arange(n)`).
pub fn arange(n: usize, chunks: impl Into<Chunks>) -> Array {
    let g = Generator::Ramp {
        start: Scalar::new(0.0),
        step: Scalar::new(1.0),
    };
    Array::generated("arange", Expr::Generate(g), n, chunks)
}

/// `num` values evenly spaced from `start` to `stop`, both included (NumPy's
/// `linspace`).
pub fn linspace(start: f64, stop: f64, num: usize, chunks: impl Into<Chunks>) -> Array {
    let g = Generator::Linspace {
        start: Scalar::new(start),
        stop: Scalar::new(stop),
        num: num as u64,
    };
    Array::generated("linspace", Expr::Generate(g), num, chunks)
}

impl Array {
    /// An array cut from in-memory data. Each block task copies its part out of the
    /// shared data when it runs; the tasks are keyed by a hash of the data, so equal
    /// data given twice is the same nodes.
    pub fn from_array(data: ArrayD<f64>, chunks: impl Into<Chunks>) -> Array {
        let shape = data.shape().to_vec();
        let chunks = match chunks.into().resolve("from_array", &shape) {
            Ok(c) => c,
            Err(e) => return Array::invalid(e),
        };
        let data = Arc::new(data.as_standard_layout().into_owned());
        let content = content_hash(&data);
        let body = super::Body::layout(shape.clone(), chunks.clone());
        let blocks = (0..body.block_count())
            .map(|b| {
                let idx = body.unravel(b);
                let region: Vec<SliceInfoElem> = body
                    .block_offset(&idx)
                    .iter()
                    .zip(body.block_shape(&idx))
                    .map(|(&s, len)| SliceInfoElem::Slice {
                        start: s as isize,
                        end: Some((s + len) as isize),
                        step: 1,
                    })
                    .collect();
                let data = Arc::clone(&data);
                let tag = (
                    "from_array",
                    content,
                    &shape,
                    body.block_offset(&idx),
                    body.block_shape(&idx),
                );
                super::task(
                    "array",
                    tag,
                    &[] as &[crate::Delayed<Block>],
                    move |_: &[&Block]| data.slice(region.as_slice()).to_owned(),
                )
            })
            .collect();
        Array::from_blocks(shape, chunks, blocks)
    }
}

/// The data's identity for keys: its shape and every element's bits.
fn content_hash(data: &ArrayD<f64>) -> u128 {
    let mut hasher = crate::key::StableHasher::new();
    for &d in data.shape() {
        hasher.write_usize(d);
    }
    for v in data.iter() {
        hasher.write_u64(v.to_bits());
    }
    hasher.finish128()
}
