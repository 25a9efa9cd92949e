//! Chunked arrays, the lecture's `dask.array`: a large `f64` array cut into blocks, each
//! block one node of the same graph that `#[delayed]` builds, so arrays and delayed
//! values mix in one [`compute`](crate::compute).
//!
//! ```
//! use dask::array::{self, Chunks};
//! let x = array::random::default_rng(42).random(1_000_000, 100_000); // 10 chunks
//! let m = x.powi(2).sqrt().mean();              // lazy, like da.sqrt(x**2).mean()
//! let v: f64 = m.compute().unwrap();
//! assert!((v - 0.5).abs() < 0.01);
//! let y = (&x + 1.0).rechunk(Chunks::Auto).compute().unwrap();
//! assert_eq!(y.shape(), &[1_000_000]);
//! ```
//!
//! An array is metadata known while building (shape, chunk sizes per axis) plus one node
//! per block. Elementwise operations fuse into one task per block (`blockwise`), and
//! operators between arrays broadcast as NumPy's do (`broadcast`); a reduction's first
//! step runs inside that task and partial results combine as a tree (`reduction`);
//! random values depend only on the seed and each element's position (`random`).
//! Invalid operations keep the builder chainable: the array carries the error, and
//! `compute`/`persist` return it as a [`dask::Error`](crate::Error) before any task
//! runs.

mod blockwise;
mod broadcast;
mod chunks;
mod creation;
mod elementwise;
mod error;
mod limits;
mod linalg;
mod measure;
pub mod random;
mod reduction;
mod shape;
mod simd;
mod slicing;
mod symmetric;

use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, OnceLock};

pub use ndarray;
use ndarray::{ArrayD, IxDyn, SliceInfoElem};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::compute::{OutputNodes, OutputReader, Outputs};
use crate::{Delayed, Error};

pub use chunks::{Chunks, Shape};
pub use creation::{arange, full, linspace, ones, zeros};
pub use error::{ArrayError, Dims};
pub use random::random;
pub use reduction::{Reduction, DEFAULT_SPLIT_EVERY};
pub use shape::{concatenate, stack};

use blockwise::{BlockInputs, BlockPlace, Expr};

/// One block's values.
pub(crate) type Block = ArrayD<f64>;

/// A lazy chunked `f64` array. Cloning is a reference count.
#[derive(Clone)]
#[must_use = "an array runs nothing until it is computed"]
pub struct Array(Arc<Inner>);

enum Inner {
    Invalid(ArrayError),
    Valid(Body),
}

pub(crate) struct Body {
    pub(crate) shape: Vec<usize>,
    pub(crate) chunks: Vec<Vec<usize>>,
    kind: Kind,
    blocks: OnceLock<Vec<Delayed<Block>>>,
    /// Where each chunk starts along its axis, summed once: summing the chunks before a
    /// block for every block made building 2^19 blocks take 48 s (quadratic).
    starts: OnceLock<Vec<Vec<usize>>>,
}

enum Kind {
    /// Every block is a node already.
    Blocks,
    /// A fused elementwise expression over `inputs`, whose blocks line up with this
    /// array's: their axes are this array's last axes, each with the same chunks, or of
    /// length 1 in one chunk where this array's is longer (an operand stretched by
    /// broadcasting, whose one block along the axis every block here reads). Its nodes
    /// are built only when something reads the blocks themselves; reductions and further
    /// elementwise operations read the expression instead.
    Fused { expr: Arc<Expr>, inputs: Vec<Array> },
}

impl Array {
    pub(crate) fn from_blocks(
        shape: Vec<usize>,
        chunks: Vec<Vec<usize>>,
        blocks: Vec<Delayed<Block>>,
    ) -> Array {
        debug_assert_eq!(blocks.len(), chunks.iter().map(Vec::len).product::<usize>());
        Array(Arc::new(Inner::Valid(Body {
            shape,
            chunks,
            kind: Kind::Blocks,
            blocks: OnceLock::from(blocks),
            starts: OnceLock::new(),
        })))
    }

    pub(crate) fn fused(
        shape: Vec<usize>,
        chunks: Vec<Vec<usize>>,
        expr: Arc<Expr>,
        inputs: Vec<Array>,
    ) -> Array {
        Array(Arc::new(Inner::Valid(Body {
            shape,
            chunks,
            kind: Kind::Fused { expr, inputs },
            blocks: OnceLock::new(),
            starts: OnceLock::new(),
        })))
    }

    pub(crate) fn invalid(error: ArrayError) -> Array {
        Array(Arc::new(Inner::Invalid(error)))
    }

    /// An array computed from element positions alone (`zeros`, `random`, ...).
    pub(crate) fn generated(
        op: &'static str,
        expr: Expr,
        shape: impl Into<Shape>,
        chunks: impl Into<Chunks>,
    ) -> Array {
        let shape = shape.into().0;
        match chunks.into().resolve(op, &shape) {
            Ok(chunks) => Array::fused(shape, chunks, Arc::new(expr), Vec::new()),
            Err(e) => Array::invalid(e),
        }
    }

    pub(crate) fn body(&self) -> Result<&Body, &ArrayError> {
        match &*self.0 {
            Inner::Valid(body) => Ok(body),
            Inner::Invalid(e) => Err(e),
        }
    }

    /// The error an invalid operation left in this array, if any.
    pub fn error(&self) -> Option<&ArrayError> {
        self.body().err()
    }

    /// The shape (empty for an invalid array).
    pub fn shape(&self) -> &[usize] {
        self.body().map(|b| b.shape.as_slice()).unwrap_or(&[])
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.shape().len()
    }

    /// The length of the first axis (0 for a 0-D or invalid array).
    pub fn len(&self) -> usize {
        self.shape().first().copied().unwrap_or(0)
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.shape().iter().product::<usize>() == 0
    }

    /// The chunk sizes along each axis (Dask's `.chunks`).
    pub fn chunks(&self) -> Vec<Vec<usize>> {
        self.body().map(|b| b.chunks.clone()).unwrap_or_default()
    }

    /// The number of blocks along each axis.
    pub fn numblocks(&self) -> Vec<usize> {
        self.body()
            .map(|b| b.chunks.iter().map(Vec::len).collect())
            .unwrap_or_default()
    }

    /// One node per block, in row-major block order (built on first use for fused
    /// arrays; none for an invalid array).
    pub(crate) fn blocks(&self) -> &[Delayed<Block>] {
        let Ok(body) = self.body() else { return &[] };
        body.blocks.get_or_init(|| match &body.kind {
            Kind::Blocks => unreachable!("a block array is built with its nodes"),
            Kind::Fused { expr, inputs } => (0..body.block_count())
                .map(|b| {
                    let idx = body.unravel(b);
                    let (nodes, place) = body.fused_block_inputs(inputs, &idx);
                    let run = Arc::clone(expr);
                    let tag = ("blockwise", &**expr, &place);
                    let keep = place.clone();
                    try_task(expr.name(), tag, &nodes, move |ins: &[&Block]| {
                        with_block_inputs(ins, &keep, |block| run.eval_block(block))
                    })
                })
                .collect(),
        })
    }

    /// The array as an expression over inputs whose blocks line up with its own.
    pub(crate) fn view(&self) -> (Arc<Expr>, Vec<Array>) {
        match self.body().map(|b| &b.kind) {
            Ok(Kind::Fused { expr, inputs }) => (Arc::clone(expr), inputs.clone()),
            _ => (Arc::new(Expr::Input(0)), vec![self.clone()]),
        }
    }

    /// The blocks as delayed values, in row-major block order (Dask's `to_delayed`).
    /// An invalid array gives one node that fails every computation with its error.
    pub fn to_delayed(&self) -> Vec<Delayed<ArrayD<f64>>> {
        match self.body() {
            Ok(_) => self.blocks().to_vec(),
            Err(e) => vec![invalid_node("to_delayed", e)],
        }
    }

    /// An array from one delayed block per chunk, in row-major block order (as
    /// [`to_delayed`](Self::to_delayed) gives them); `shapes` are the chunk sizes along
    /// each axis (as [`chunks`](Self::chunks) gives them). A block whose computed shape
    /// differs from the one `shapes` gives it fails the computation with both shapes.
    pub fn from_delayed(blocks: Vec<Delayed<ArrayD<f64>>>, shapes: Vec<Vec<usize>>) -> Array {
        let Some(shape) = shapes
            .iter()
            .map(|c| c.iter().try_fold(0usize, |total, &s| total.checked_add(s)))
            .collect::<Option<Vec<usize>>>()
        else {
            return Array::invalid(ArrayError::BadChunks {
                op: "from_delayed",
                shape: Dims(Vec::new()),
                chunks: shapes,
                why: "the chunk sizes of an axis add up to more than a usize holds".into(),
            });
        };
        if let Err(e) = Chunks::Explicit(shapes.clone()).resolve("from_delayed", &shape) {
            return Array::invalid(e);
        }
        let expected: usize = shapes.iter().map(Vec::len).product();
        if blocks.len() != expected {
            return Array::invalid(ArrayError::Invalid {
                op: "from_delayed",
                shape: Dims(shape),
                why: format!(
                    "{} blocks given for chunks {shapes:?} ({expected} blocks)",
                    blocks.len()
                ),
            });
        }
        let body = Body::layout(shape.clone(), shapes.clone());
        let checked = blocks
            .iter()
            .enumerate()
            .map(|(b, d)| {
                let want: Vec<usize> = body.block_shape(&body.unravel(b));
                let tag = ("from_delayed", want.clone());
                try_task(
                    "from_delayed",
                    tag,
                    std::slice::from_ref(d),
                    move |ins: &[&Block]| {
                        if ins[0].shape() == want.as_slice() {
                            Ok(ins[0].clone())
                        } else {
                            Err(ArrayError::Invalid {
                                op: "from_delayed",
                                shape: Dims(ins[0].shape().to_vec()),
                                why: format!(
                                    "the block was declared with shape {}",
                                    Dims(want.clone())
                                ),
                            })
                        }
                    },
                )
            })
            .collect();
        Array::from_blocks(shape, shapes, checked)
    }

    /// Computes the whole array on the default scheduler.
    pub fn compute(&self) -> Result<ArrayD<f64>, Error> {
        crate::compute(self)
    }

    /// [`compute`](Self::compute) with options.
    pub fn compute_with(&self, config: &crate::Config) -> Result<ArrayD<f64>, Error> {
        crate::compute_with(self, config)
    }

    /// Computes the blocks and returns an array holding them (Dask's `persist`): arrays
    /// built on it later start from the held blocks. Keys are kept.
    pub fn persist(&self) -> Result<Array, Error> {
        let body = self.body().map_err(|e| Error::Array(e.clone()))?;
        let held = crate::persist(self.blocks())?;
        Ok(Array::from_blocks(
            body.shape.clone(),
            body.chunks.clone(),
            held,
        ))
    }

    /// Writes the graph of the array's blocks to `path` (`.svg`, `.dot` or `.json`; see
    /// [`Delayed::visualize`]). Large graphs are drawn collapsed by operation.
    pub fn visualize(&self, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
        self.body().map_err(|e| Error::Array(e.clone()))?;
        crate::graph(self).save(path)?;
        Ok(())
    }

    /// The elements selected by an `ndarray::s![..]` slice (Dask's `x[:10, 5]`).
    pub fn slice<S: AsRef<[SliceInfoElem]>>(&self, info: S) -> Array {
        slicing::slice(self, info.as_ref())
    }
}

impl Body {
    /// Shape and chunks alone, for block arithmetic while building.
    pub(crate) fn layout(shape: Vec<usize>, chunks: Vec<Vec<usize>>) -> Body {
        Body {
            shape,
            chunks,
            kind: Kind::Blocks,
            blocks: OnceLock::new(),
            starts: OnceLock::new(),
        }
    }

    pub(crate) fn block_count(&self) -> usize {
        self.chunks.iter().map(Vec::len).product()
    }

    /// The block index along each axis of row-major block number `b`.
    pub(crate) fn unravel(&self, mut b: usize) -> Vec<usize> {
        let mut idx = vec![0; self.chunks.len()];
        for axis in (0..self.chunks.len()).rev() {
            let n = self.chunks[axis].len();
            idx[axis] = b % n;
            b /= n;
        }
        idx
    }

    /// Row-major block number of a block index.
    pub(crate) fn ravel(&self, idx: &[usize]) -> usize {
        idx.iter()
            .zip(&self.chunks)
            .fold(0, |acc, (&i, c)| acc * c.len() + i)
    }

    pub(crate) fn block_shape(&self, idx: &[usize]) -> Vec<usize> {
        idx.iter().zip(&self.chunks).map(|(&i, c)| c[i]).collect()
    }

    /// Where the block at `idx` starts along each axis.
    pub(crate) fn block_offset(&self, idx: &[usize]) -> Vec<usize> {
        let starts = self.starts.get_or_init(|| {
            self.chunks
                .iter()
                .map(|c| {
                    c.iter()
                        .scan(0usize, |at, &len| {
                            let start = *at;
                            *at += len;
                            Some(start)
                        })
                        .collect()
                })
                .collect()
        });
        idx.iter().zip(starts).map(|(&i, s)| s[i]).collect()
    }

    pub(crate) fn place(&self, idx: &[usize]) -> BlockPlace {
        BlockPlace {
            shape: self.block_shape(idx),
            offset: self.block_offset(idx),
            strides: BlockPlace::row_major(&self.shape),
        }
    }

    /// The input blocks a fused block reads: each input's block at the trailing part of
    /// the block index, at index 0 along the axes the input is stretched on.
    pub(crate) fn fused_block_inputs(
        &self,
        inputs: &[Array],
        idx: &[usize],
    ) -> (Vec<Delayed<Block>>, BlockPlace) {
        let nodes = inputs
            .iter()
            .map(|input| {
                let body = input.body().expect("inputs of a valid array are valid");
                let own = broadcast::operand_block(&body.shape, &body.chunks, &self.shape, idx);
                input.blocks()[own].clone()
            })
            .collect();
        (nodes, self.place(idx))
    }
}

/// Runs `f` on a block's inputs as contiguous slices of the block's shape (inputs of
/// fewer axes, or of length 1 along an axis, are broadcast; non-contiguous ones copied).
pub(crate) fn with_block_inputs<R>(
    ins: &[&Block],
    place: &BlockPlace,
    f: impl FnOnce(&BlockInputs<'_>) -> R,
) -> Result<R, ArrayError> {
    let prepared = ins
        .iter()
        .map(|a| {
            if a.shape() == place.shape.as_slice() && a.is_standard_layout() {
                Ok(std::borrow::Cow::Borrowed(*a))
            } else {
                a.broadcast(IxDyn(&place.shape))
                    .map(|v| std::borrow::Cow::Owned(v.as_standard_layout().into_owned()))
                    .ok_or_else(|| ArrayError::ShapeMismatch {
                        op: "blockwise",
                        left: Dims(a.shape().to_vec()),
                        right: Dims(place.shape.clone()),
                    })
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let inputs = prepared
        .iter()
        .map(|a| a.as_slice().expect("standard layout is contiguous"))
        .collect();
    Ok(f(&BlockInputs {
        inputs,
        place: place.clone(),
    }))
}

/// Bumped when a kernel's results change, so that caches of array tasks on disk
/// ([`Memory`](crate::Memory)) do not return blocks computed by an older version.
const KERNELS_VERSION: u32 = 3;

/// A pure array task over `inputs`, keyed by `tag` and the inputs' keys, whose result
/// can cross processes on the cluster backend.
pub(crate) fn task<T, U, F>(
    name: &'static str,
    tag: impl Hash,
    inputs: &[Delayed<T>],
    f: F,
) -> Delayed<U>
where
    T: Send + Sync + 'static,
    U: Serialize + DeserializeOwned + Send + Sync + 'static,
    F: Fn(&[&T]) -> U + Send + Sync + 'static,
{
    let tag = (KERNELS_VERSION, tag);
    crate::combine::pure_task(
        name,
        tag,
        inputs,
        f,
        crate::codec::serde_codec::<U>,
        measure::BlockSize,
    )
}

/// [`task`] for a kernel that can fail.
pub(crate) fn try_task<T, U, E, F>(
    name: &'static str,
    tag: impl Hash,
    inputs: &[Delayed<T>],
    f: F,
) -> Delayed<U>
where
    T: Send + Sync + 'static,
    U: Serialize + DeserializeOwned + Send + Sync + 'static,
    E: Into<crate::BoxError>,
    F: Fn(&[&T]) -> Result<U, E> + Send + Sync + 'static,
{
    let tag = (KERNELS_VERSION, tag);
    crate::combine::try_pure_task(
        name,
        tag,
        inputs,
        f,
        crate::codec::serde_codec::<U>,
        measure::BlockSize,
    )
}

/// A node failing every computation that reads it with `error`, before any task runs.
pub(crate) fn invalid_node<T>(name: &'static str, error: &ArrayError) -> Delayed<T> {
    let error = error.clone();
    crate::deferred::invalid(name, Arc::new(move || Error::Array(error.clone())))
}

impl Outputs for &Array {
    type Values = ArrayD<f64>;

    fn collect<'s>(&'s self, nodes: &mut OutputNodes<'_, 's>) {
        for block in self.blocks() {
            nodes.push(block);
        }
    }

    fn extract(&self, results: &mut OutputReader<'_, '_>) -> Result<ArrayD<f64>, Error> {
        let body = self.body().map_err(|e| Error::Array(e.clone()))?;
        let mut out = ArrayD::zeros(IxDyn(&body.shape));
        for b in 0..body.block_count() {
            let idx = body.unravel(b);
            let block: Block = results.take()?;
            let region: Vec<SliceInfoElem> = body
                .block_offset(&idx)
                .iter()
                .zip(body.block_shape(&idx))
                .map(|(&start, len)| SliceInfoElem::Slice {
                    start: start as isize,
                    end: Some((start + len) as isize),
                    step: 1,
                })
                .collect();
            out.slice_mut(region.as_slice()).assign(&block);
        }
        Ok(out)
    }

    fn check(&self) -> Result<(), Error> {
        let body = self.body().map_err(|e| Error::Array(e.clone()))?;
        limits::check_gather(&body.shape).map_err(Error::Array)
    }
}

impl fmt::Display for Array {
    /// Dask's summary: `dask.array<sqrt, shape=(1000,), dtype=f64, chunksize=(100,),
    /// chunks=10, tasks=10>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.body() {
            Err(e) => write!(f, "dask.array<invalid: {e}>"),
            Ok(body) => {
                let chunksize: Vec<usize> = body
                    .chunks
                    .iter()
                    .map(|c| c.iter().copied().max().unwrap_or(0))
                    .collect();
                let name = self.blocks().first().map(|d| d.name()).unwrap_or("empty");
                write!(
                    f,
                    "dask.array<{name}, shape={}, dtype=f64, chunksize={}, chunks={}, tasks={}>",
                    Dims(body.shape.clone()),
                    Dims(chunksize),
                    body.block_count(),
                    crate::graph(self).len()
                )
            }
        }
    }
}

impl fmt::Debug for Array {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
