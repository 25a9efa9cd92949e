//! Fused elementwise operations: one task per block whatever the length of the chain.
//!
//! An elementwise array is an [`Expr`] over input arrays that share its blocks (or, where
//! broadcasting stretches an input along an axis of length 1, whose one block along it
//! every block reads, broadcast by ndarray before the expression runs). Each new
//! operation extends the expression instead of adding tasks, so `x.powi(2).sqrt()` runs
//! as one task per block (Dask's blockwise fusion), and a reduction's first step
//! evaluates the expression itself (see `reduction`). The expression is plain data
//! (hashable, serializable), which keys the tasks by content: equal arrays built twice
//! are the same nodes.
//!
//! Blocks are evaluated in tiles of [`TILE`] elements, one operation at a time over a
//! tile (a tight loop over a slice per operation, which the compiler vectorizes), so a
//! long chain stays in the L1 cache whatever the chunk size.

use ndarray::{ArrayD, IxDyn};
use serde::{Deserialize, Serialize};

use super::random::Distribution;
use super::simd::{vectorized, Kernel};

/// Elements evaluated together: 32 KiB of `f64`, a typical L1 data cache.
pub(crate) const TILE: usize = 4096;

/// An `f64` parameter hashed by its bit pattern (so `-0.0` and `0.0` differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scalar(u64);

impl Scalar {
    pub fn new(v: f64) -> Self {
        Scalar(v.to_bits())
    }

    pub fn get(self) -> f64 {
        f64::from_bits(self.0)
    }
}

/// An operation on each element, with its scalar parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UnaryOp {
    Neg,
    Abs,
    Sqrt,
    Exp,
    Ln,
    Log10,
    Sin,
    Cos,
    Tan,
    Powi(i32),
    Powf(Scalar),
    /// `x + c`
    AddScalar(Scalar),
    /// `x - c`
    SubScalar(Scalar),
    /// `c - x`
    ScalarSub(Scalar),
    /// `x * c`
    MulScalar(Scalar),
    /// `x / c`
    DivScalar(Scalar),
    /// `c / x`
    ScalarDiv(Scalar),
    Clip(Scalar, Scalar),
}

/// An operation between two arrays' elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
}

/// Values computed from each element's position alone (no input block).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Generator {
    /// Every element `value`.
    Full(Scalar),
    /// `start + step * i` for the element's flat index `i`.
    Ramp { start: Scalar, step: Scalar },
    /// `num` values from `start` to `stop` (NumPy's `linspace`): `start + i * step`,
    /// but the last one `stop` itself, as NumPy sets it. The product rounds: as a plain
    /// ramp, 6 of the first 200 `linspace(0.1, 0.7, n)` ended a little off 0.7.
    Linspace {
        start: Scalar,
        stop: Scalar,
        num: u64,
    },
    /// Counter-based random values (see `random`).
    Random(Distribution),
}

/// A fused elementwise computation of one block.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Expr {
    /// The block of the `n`-th input array.
    Input(usize),
    Generate(Generator),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// A transpose of an expression without inputs, evaluated in place: each element is
    /// generated at the position it comes from, whose flat index along each output axis
    /// advances by `strides` (so `x + x.T` of a random `x` holds no block).
    Permuted {
        strides: Vec<u64>,
        inner: Box<Expr>,
    },
}

impl UnaryOp {
    /// The display name of a task ending in this operation.
    pub(crate) fn name(self) -> &'static str {
        match self {
            UnaryOp::Neg => "neg",
            UnaryOp::Abs => "abs",
            UnaryOp::Sqrt => "sqrt",
            UnaryOp::Exp => "exp",
            UnaryOp::Ln => "ln",
            UnaryOp::Log10 => "log10",
            UnaryOp::Sin => "sin",
            UnaryOp::Cos => "cos",
            UnaryOp::Tan => "tan",
            UnaryOp::Powi(_) => "powi",
            UnaryOp::Powf(_) => "powf",
            UnaryOp::AddScalar(_) => "add",
            UnaryOp::SubScalar(_) | UnaryOp::ScalarSub(_) => "sub",
            UnaryOp::MulScalar(_) => "mul",
            UnaryOp::DivScalar(_) | UnaryOp::ScalarDiv(_) => "div",
            UnaryOp::Clip(..) => "clip",
        }
    }

    /// Applies the operation to every element. One loop per operation, each simple
    /// enough to vectorize where the operation has a vector instruction.
    pub(crate) fn apply(self, x: &mut [f64]) {
        fn each(x: &mut [f64], f: impl Fn(f64) -> f64) {
            vectorized(Map(x, f))
        }
        match self {
            UnaryOp::Neg => each(x, |v| -v),
            UnaryOp::Abs => each(x, f64::abs),
            UnaryOp::Sqrt => each(x, f64::sqrt),
            UnaryOp::Exp => each(x, f64::exp),
            UnaryOp::Ln => each(x, f64::ln),
            UnaryOp::Log10 => each(x, f64::log10),
            UnaryOp::Sin => each(x, f64::sin),
            UnaryOp::Cos => each(x, f64::cos),
            UnaryOp::Tan => each(x, f64::tan),
            UnaryOp::Powi(0) => each(x, |_| 1.0),
            UnaryOp::Powi(1) => {}
            UnaryOp::Powi(2) => each(x, |v| v * v),
            UnaryOp::Powi(3) => each(x, |v| v * v * v),
            UnaryOp::Powi(n) => each(x, |v| v.powi(n)),
            UnaryOp::Powf(p) => {
                let p = p.get();
                each(x, |v| v.powf(p))
            }
            UnaryOp::AddScalar(c) => {
                let c = c.get();
                each(x, |v| v + c)
            }
            UnaryOp::SubScalar(c) => {
                let c = c.get();
                each(x, |v| v - c)
            }
            UnaryOp::ScalarSub(c) => {
                let c = c.get();
                each(x, |v| c - v)
            }
            UnaryOp::MulScalar(c) => {
                let c = c.get();
                each(x, |v| v * c)
            }
            UnaryOp::DivScalar(c) => {
                let c = c.get();
                each(x, |v| v / c)
            }
            UnaryOp::ScalarDiv(c) => {
                let c = c.get();
                each(x, |v| c / v)
            }
            UnaryOp::Clip(lo, hi) => {
                let (lo, hi) = (lo.get(), hi.get());
                if lo.is_nan() || hi.is_nan() {
                    // NumPy: a NaN bound makes every element NaN.
                    x.fill(f64::NAN);
                } else {
                    // `f64::max` ignores a NaN operand, which turned NaN elements into
                    // `lo`; NumPy keeps them NaN.
                    each(x, |v| if v.is_nan() { v } else { v.max(lo).min(hi) })
                }
            }
        }
    }
}

/// `x[i] = f(x[i])`, one loop over a tile.
struct Map<'a, F>(&'a mut [f64], F);

impl<F: Fn(f64) -> f64> Kernel for Map<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        for v in self.0.iter_mut() {
            *v = (self.1)(*v);
        }
    }
}

/// `out[i] = f(out[i], rhs[i])`, one loop over a tile.
struct Zip<'a, F>(&'a mut [f64], &'a [f64], F);

impl<F: Fn(f64, f64) -> f64> Kernel for Zip<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        for (o, &r) in self.0.iter_mut().zip(self.1) {
            *o = (self.2)(*o, r);
        }
    }
}

/// `out[i] = f(i)`, one loop over a run of a tile.
struct Indexed<'a, F>(&'a mut [f64], F);

impl<F: Fn(usize) -> f64> Kernel for Indexed<'_, F> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        for (i, v) in self.0.iter_mut().enumerate() {
            *v = (self.1)(i);
        }
    }
}

impl BinaryOp {
    pub(crate) fn name(self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
        }
    }

    /// `out[i] = out[i] op rhs[i]`.
    pub(crate) fn apply(self, out: &mut [f64], rhs: &[f64]) {
        fn each(out: &mut [f64], rhs: &[f64], f: impl Fn(f64, f64) -> f64) {
            vectorized(Zip(out, rhs, f))
        }
        match self {
            BinaryOp::Add => each(out, rhs, |a, b| a + b),
            BinaryOp::Sub => each(out, rhs, |a, b| a - b),
            BinaryOp::Mul => each(out, rhs, |a, b| a * b),
            BinaryOp::Div => each(out, rhs, |a, b| a / b),
        }
    }
}

impl Expr {
    /// The display name of a task computing this expression.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Expr::Input(_) => "copy",
            Expr::Generate(Generator::Full(_)) => "full",
            Expr::Generate(Generator::Ramp { .. }) => "arange",
            Expr::Generate(Generator::Linspace { .. }) => "linspace",
            Expr::Generate(Generator::Random(d)) => d.name(),
            Expr::Unary(op, _) => op.name(),
            Expr::Binary(op, ..) => op.name(),
            Expr::Permuted { .. } => "transpose",
        }
    }

    /// Whether the expression reads input blocks or transposes (which a transpose
    /// cannot be evaluated through in place).
    pub(crate) fn generated_only(&self) -> bool {
        match self {
            Expr::Input(_) | Expr::Permuted { .. } => false,
            Expr::Generate(_) => true,
            Expr::Unary(_, e) => e.generated_only(),
            Expr::Binary(_, a, b) => a.generated_only() && b.generated_only(),
        }
    }

    /// Whether some element's value depends on its position in the array (a ramp, random
    /// values, a transpose of them): such an expression is evaluated at the place of the
    /// block it is part of, so it cannot be inlined into an array it is broadcast to.
    pub(crate) fn reads_position(&self) -> bool {
        match self {
            Expr::Input(_) | Expr::Generate(Generator::Full(_)) => false,
            Expr::Generate(_) | Expr::Permuted { .. } => true,
            Expr::Unary(_, e) => e.reads_position(),
            Expr::Binary(_, a, b) => a.reads_position() || b.reads_position(),
        }
    }

    /// The same expression reading input `n + shift` where it read input `n`.
    pub(crate) fn shift_inputs(&self, shift: usize) -> Expr {
        match self {
            Expr::Input(n) => Expr::Input(n + shift),
            Expr::Generate(g) => Expr::Generate(*g),
            Expr::Unary(op, e) => Expr::Unary(*op, Box::new(e.shift_inputs(shift))),
            Expr::Binary(op, a, b) => Expr::Binary(
                *op,
                Box::new(a.shift_inputs(shift)),
                Box::new(b.shift_inputs(shift)),
            ),
            Expr::Permuted { .. } => self.clone(),
        }
    }
}

/// Where a block sits in its array, for generators.
#[derive(Debug, Clone, Hash)]
pub(crate) struct BlockPlace {
    pub(crate) shape: Vec<usize>,
    pub(crate) offset: Vec<usize>,
    /// How far apart consecutive elements along each axis are in the flat index that
    /// generators read: row-major strides of the array, or of the array a transpose
    /// reads (see `Expr::Permuted`).
    pub(crate) strides: Vec<u64>,
}

impl BlockPlace {
    pub(crate) fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Row-major strides of a shape.
    pub(crate) fn row_major(shape: &[usize]) -> Vec<u64> {
        let mut strides = vec![1u64; shape.len()];
        for axis in (0..shape.len().saturating_sub(1)).rev() {
            strides[axis] = strides[axis + 1] * shape[axis + 1] as u64;
        }
        strides
    }

    /// The flat index (through `strides`) of the block's element at flat index `local`.
    pub(crate) fn global_index(&self, mut local: usize) -> u64 {
        let mut global = 0u64;
        for axis in (0..self.shape.len()).rev() {
            let (dim, i) = (self.shape[axis], local % self.shape[axis].max(1));
            local /= dim.max(1);
            global += (self.offset[axis] + i) as u64 * self.strides[axis];
        }
        global
    }

    /// Calls `f(out_range_start, run_len, global_start, step)` for each run of the
    /// block's elements `[start, start + len)` along its last axis, whose flat indices
    /// are `global_start + k * step`.
    fn runs(&self, start: usize, len: usize, mut f: impl FnMut(usize, usize, u64, u64)) {
        let row = self.shape.last().copied().unwrap_or(1).max(1);
        let step = self.strides.last().copied().unwrap_or(1);
        let mut at = start;
        while at < start + len {
            let in_row = row - at % row;
            let run = in_row.min(start + len - at);
            f(at - start, run, self.global_index(at), step);
            at += run;
        }
    }
}

impl Generator {
    /// Writes the generated elements `[start, start + out.len())` of the block.
    pub(crate) fn fill(self, place: &BlockPlace, start: usize, out: &mut [f64]) {
        match self {
            Generator::Full(v) => out.fill(v.get()),
            Generator::Ramp { start: a, step } => {
                let (a, step) = (a.get(), step.get());
                place.runs(start, out.len(), |at, run, global, stride| {
                    let ramp = |i: usize| a + step * (global + i as u64 * stride) as f64;
                    vectorized(Indexed(&mut out[at..at + run], ramp));
                });
            }
            Generator::Linspace {
                start: a,
                stop,
                num,
            } => {
                let (a, stop) = (a.get(), stop.get());
                let (last, div) = (num.saturating_sub(1), num.saturating_sub(1) as f64);
                let delta = stop - a;
                let step = delta / div;
                place.runs(start, out.len(), |at, run, global, stride| {
                    let value = |i: usize| {
                        let n = global + i as u64 * stride;
                        if num <= 1 {
                            a
                        } else if n == last {
                            stop
                        } else if step == 0.0 {
                            // NumPy's way when the step underflows to 0 (but the
                            // span does not).
                            a + n as f64 / div * delta
                        } else {
                            a + n as f64 * step
                        }
                    };
                    vectorized(Indexed(&mut out[at..at + run], value));
                });
            }
            Generator::Random(dist) => place.runs(start, out.len(), |at, run, global, stride| {
                dist.fill(global, stride, &mut out[at..at + run])
            }),
        }
    }
}

/// One block's inputs, as contiguous slices of the block's shape.
pub(crate) struct BlockInputs<'a> {
    pub(crate) inputs: Vec<&'a [f64]>,
    pub(crate) place: BlockPlace,
}

/// Reusable buffers for the right operands of binary operations.
#[derive(Default)]
pub(crate) struct Scratch(Vec<Vec<f64>>);

impl Expr {
    /// Writes the expression's elements `[start, start + out.len())` of the block.
    pub(crate) fn eval_tile(
        &self,
        block: &BlockInputs<'_>,
        start: usize,
        out: &mut [f64],
        scratch: &mut Scratch,
    ) {
        match self {
            Expr::Input(n) => out.copy_from_slice(&block.inputs[*n][start..start + out.len()]),
            Expr::Generate(g) => g.fill(&block.place, start, out),
            Expr::Unary(op, e) => {
                e.eval_tile(block, start, out, scratch);
                op.apply(out);
            }
            Expr::Binary(op, a, b) => {
                a.eval_tile(block, start, out, scratch);
                let mut rhs = scratch.0.pop().unwrap_or_default();
                rhs.resize(out.len(), 0.0);
                b.eval_tile(block, start, &mut rhs, scratch);
                op.apply(out, &rhs);
                scratch.0.push(rhs);
            }
            Expr::Permuted { strides, inner } => {
                let place = BlockPlace {
                    shape: block.place.shape.clone(),
                    offset: block.place.offset.clone(),
                    strides: strides.clone(),
                };
                let permuted = BlockInputs {
                    inputs: Vec::new(),
                    place,
                };
                inner.eval_tile(&permuted, start, out, scratch);
            }
        }
    }

    /// Calls `f(start, tile)` with the expression's values tile after tile.
    pub(crate) fn for_each_tile(&self, block: &BlockInputs<'_>, mut f: impl FnMut(usize, &[f64])) {
        let len = block.place.len();
        let mut tile = vec![0.0; TILE.min(len)];
        let mut scratch = Scratch::default();
        let mut start = 0;
        while start < len {
            let n = TILE.min(len - start);
            self.eval_tile(block, start, &mut tile[..n], &mut scratch);
            f(start, &tile[..n]);
            start += n;
        }
    }

    /// The whole block. Tiles are appended to the output as they are computed, so the
    /// output is written once (zeroing it first would write it twice).
    pub(crate) fn eval_block(&self, block: &BlockInputs<'_>) -> ArrayD<f64> {
        let len = block.place.len();
        let mut out = Vec::with_capacity(len);
        self.for_each_tile(block, |_, tile| out.extend_from_slice(tile));
        ArrayD::from_shape_vec(IxDyn(&block.place.shape), out)
            .expect("a block's buffer has its shape's length")
    }
}
