//! Reductions as trees of partial states.
//!
//! Each block's partial state is computed in the block's own task, straight from the
//! fused elementwise expression (so `x.powi(2).sqrt().mean()` has one task per block
//! before the tree, and never builds the squared array), tile by tile in the cache.
//! States are merged `split_every` at a time until one is left, which gives the result:
//! - `sum`: a compensated sum (Kahan in 32 lanes within a tile, then exact two-sums).
//! - `mean`: the compensated sum, divided by the element count known from the shape.
//! - `var`, `std`: count, mean and sum of squared deviations (M2), each tile's taken in
//!   two passes and merged with Chan's formula: no catastrophic cancellation for values
//!   with a large mean, unlike `E[x²] - E[x]²`.
//! - `min`, `max`, `argmin`, `argmax`: the value and its flat index; NaN wins (NumPy
//!   propagates NaN), ties go to the first index.
//!
//! `x.sum()` and `x.mean()` share their partial states, and so do `x.var()` and
//! `x.std()`: computed together they are one tree. Sums and moments of `x op x.T` over
//! generated values take blocks (i, j) and (j, i) in one task (see `symmetric`).

use std::sync::Arc;

use ndarray::Axis;

use super::blockwise::{Expr, Scalar, UnaryOp};
use super::error::{ArrayError, Dims};
use super::simd::{vectorized, Kernel};
use super::symmetric::Symmetric;
use super::{invalid_node, with_block_inputs, Array, Block};
use crate::Delayed;

/// The fan-in of reduction trees unless told otherwise: partial states are a few bytes,
/// so merging 8 costs little, and 100 blocks need 3 levels.
pub const DEFAULT_SPLIT_EVERY: usize = 8;

/// Which partial state a reduction keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum StateKind {
    Sum,
    Moments,
    Min,
    Max,
}

/// A partial result of a reduction over some blocks.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
enum Partial {
    /// `hi + lo` is the sum, `lo` the rounding error of `hi`.
    Sum { hi: f64, lo: f64 },
    /// Count, mean, and sum of squared deviations from the mean.
    Moments { n: f64, mean: f64, m2: f64 },
    /// The extreme value and the flat index of its first occurrence (`n` = 0: none).
    Extreme { value: f64, index: u64, n: u64 },
}

/// `a + b` as a rounded sum and its exact error (Knuth's two-sum).
#[inline(always)]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// Independent lanes of a tile's compensated sum. Each lane's Kahan step is a chain of
/// four dependent additions, so few lanes leave the adders waiting; and LLVM turns the
/// lane loop into full AVX2 vectors at 32 lanes, while at 8 or 16 it packs them by two
/// or not at all. Measured on one 4,096-element tile with AVX2: 0.53 ns per element
/// with 8 lanes, 0.46 with 16, 0.23 with 32.
const LANES: usize = 32;

/// A compensated sum of a tile: Kahan summation in [`LANES`] independent lanes, then the
/// lanes' sums and errors added exactly.
#[inline(always)]
fn tile_sum(tile: &[f64]) -> (f64, f64) {
    let mut sum = [0.0f64; LANES];
    let mut err = [0.0f64; LANES];
    let mut lanes = tile.chunks_exact(LANES);
    for chunk in &mut lanes {
        for k in 0..LANES {
            let y = chunk[k] - err[k];
            let t = sum[k] + y;
            err[k] = (t - sum[k]) - y;
            sum[k] = t;
        }
    }
    let (mut hi, mut lo) = (0.0, 0.0);
    for k in 0..LANES {
        let (s, e) = two_sum(hi, sum[k]);
        hi = s;
        lo += e - err[k];
    }
    for &v in lanes.remainder() {
        let (s, e) = two_sum(hi, v);
        hi = s;
        lo += e;
    }
    if !(hi.is_finite() && lo.is_finite()) {
        // An infinity, or a sum past f64::MAX: its error term is `inf - inf`, NaN,
        // which made the sum NaN where NumPy's is ±inf. Here the plain sum is exact.
        return (tile.iter().sum(), 0.0);
    }
    (hi, lo)
}

impl Partial {
    fn empty(kind: StateKind) -> Partial {
        match kind {
            StateKind::Sum => Partial::Sum { hi: 0.0, lo: 0.0 },
            StateKind::Moments => Partial::Moments {
                n: 0.0,
                mean: 0.0,
                m2: 0.0,
            },
            StateKind::Min | StateKind::Max => Partial::Extreme {
                value: f64::NAN,
                index: 0,
                n: 0,
            },
        }
    }

    /// Folds in a tile whose first element has flat index `index_of(0)`.
    fn add_tile(&mut self, kind: StateKind, tile: &[f64], index_of: impl Fn(usize) -> u64) {
        let tile_state = vectorized(TileState {
            kind,
            tile,
            index_of,
        });
        *self = self.merge(tile_state, kind);
    }

    fn merge(self, other: Partial, kind: StateKind) -> Partial {
        match (self, other) {
            (Partial::Sum { hi: a, lo: la }, Partial::Sum { hi: b, lo: lb }) => {
                let (hi, e) = two_sum(a, b);
                // No error term beside an infinite sum (see `tile_sum`).
                let lo = if hi.is_finite() { la + lb + e } else { 0.0 };
                Partial::Sum { hi, lo }
            }
            (
                Partial::Moments {
                    n: na,
                    mean: ma,
                    m2: qa,
                },
                Partial::Moments {
                    n: nb,
                    mean: mb,
                    m2: qb,
                },
            ) => {
                if na == 0.0 {
                    return other;
                }
                if nb == 0.0 {
                    return self;
                }
                let n = na + nb;
                let delta = mb - ma;
                Partial::Moments {
                    n,
                    mean: ma + delta * (nb / n),
                    m2: qa + qb + delta * delta * (na * nb / n),
                }
            }
            (
                Partial::Extreme {
                    value: va,
                    index: ia,
                    n: na,
                },
                Partial::Extreme {
                    value: vb,
                    index: ib,
                    n: nb,
                },
            ) => {
                if na == 0 {
                    return other;
                }
                if nb == 0 {
                    return self;
                }
                let first_b = ib < ia;
                let b_wins = match (va.is_nan(), vb.is_nan()) {
                    (true, true) => first_b,
                    (true, false) => false,
                    (false, true) => true,
                    (false, false) => {
                        let better = if kind == StateKind::Min {
                            vb < va
                        } else {
                            vb > va
                        };
                        better || (vb == va && first_b)
                    }
                };
                let (value, index) = if b_wins { (vb, ib) } else { (va, ia) };
                Partial::Extreme {
                    value,
                    index,
                    n: na + nb,
                }
            }
            _ => self,
        }
    }
}

/// The partial state of one tile, compiled for the CPU (see `simd`).
struct TileState<'a, I> {
    kind: StateKind,
    tile: &'a [f64],
    index_of: I,
}

impl<I: Fn(usize) -> u64> Kernel for TileState<'_, I> {
    type Output = Partial;
    #[inline(always)]
    fn run(self) -> Partial {
        let TileState {
            kind,
            tile,
            index_of,
        } = self;
        match kind {
            StateKind::Sum => {
                let (hi, lo) = tile_sum(tile);
                Partial::Sum { hi, lo }
            }
            StateKind::Moments => {
                let n = tile.len() as f64;
                let (hi, lo) = tile_sum(tile);
                let mean = (hi + lo) / n;
                let mut m2 = [0.0f64; LANES];
                let mut lanes = tile.chunks_exact(LANES);
                for chunk in &mut lanes {
                    for k in 0..LANES {
                        let d = chunk[k] - mean;
                        m2[k] += d * d;
                    }
                }
                let rest: f64 = lanes
                    .remainder()
                    .iter()
                    .map(|v| (v - mean) * (v - mean))
                    .sum();
                Partial::Moments {
                    n,
                    mean,
                    m2: m2.iter().sum::<f64>() + rest,
                }
            }
            StateKind::Min | StateKind::Max => {
                let position = if let Some(p) = tile.iter().position(|v| v.is_nan()) {
                    p
                } else if kind == StateKind::Min {
                    let m = tile.iter().copied().fold(f64::INFINITY, f64::min);
                    tile.iter().position(|&v| v == m).unwrap_or(0)
                } else {
                    let m = tile.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    tile.iter().position(|&v| v == m).unwrap_or(0)
                };
                Partial::Extreme {
                    value: tile[position],
                    index: index_of(position),
                    n: tile.len() as u64,
                }
            }
        }
    }
}

/// What a scalar reduction returns from its final state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Finish {
    Sum,
    /// The sum over this many elements, divided by their count (known while building).
    Mean(u64),
    Var,
    Std,
    Value,
    Index,
}

impl Finish {
    fn apply(self, p: &Partial) -> f64 {
        match (self, *p) {
            (Finish::Sum, Partial::Sum { hi, lo }) => hi + lo,
            (Finish::Mean(n), Partial::Sum { hi, lo }) if n > 0 => (hi + lo) / n as f64,
            (Finish::Var, Partial::Moments { n, m2, .. }) if n > 0.0 => m2 / n,
            (Finish::Std, Partial::Moments { n, m2, .. }) if n > 0.0 => (m2 / n).sqrt(),
            (Finish::Value, Partial::Extreme { value, .. }) => value,
            (Finish::Index, Partial::Extreme { index, .. }) => index as f64,
            _ => f64::NAN,
        }
    }
}

/// Reductions of an array with a chosen tree fan-in (Dask's `split_every`); from
/// [`Array::split_every`]. The methods of the same names on [`Array`] use
/// [`DEFAULT_SPLIT_EVERY`].
#[derive(Clone)]
pub struct Reduction {
    array: Array,
    split_every: usize,
}

impl Array {
    /// Reductions whose trees merge `n` partial results per task (at least 2).
    pub fn split_every(&self, n: usize) -> Reduction {
        Reduction {
            array: self.clone(),
            split_every: n.max(2),
        }
    }

    fn default_reduction(&self) -> Reduction {
        self.split_every(DEFAULT_SPLIT_EVERY)
    }

    /// The sum of all elements.
    pub fn sum(&self) -> Delayed<f64> {
        self.default_reduction().sum()
    }
    /// The mean of all elements (NaN for an empty array).
    pub fn mean(&self) -> Delayed<f64> {
        self.default_reduction().mean()
    }
    /// The variance, with ddof 0 as NumPy's default.
    pub fn var(&self) -> Delayed<f64> {
        self.default_reduction().var()
    }
    /// The standard deviation, with ddof 0 as NumPy's default.
    pub fn std(&self) -> Delayed<f64> {
        self.default_reduction().std()
    }
    /// The smallest element (NaN if any element is NaN).
    pub fn min(&self) -> Delayed<f64> {
        self.default_reduction().min()
    }
    /// The largest element (NaN if any element is NaN).
    pub fn max(&self) -> Delayed<f64> {
        self.default_reduction().max()
    }
    /// The flat (row-major) index of the first smallest element.
    pub fn argmin(&self) -> Delayed<usize> {
        self.default_reduction().argmin()
    }
    /// The flat (row-major) index of the first largest element.
    pub fn argmax(&self) -> Delayed<usize> {
        self.default_reduction().argmax()
    }
    /// Sums along `axis`, which the result no longer has.
    pub fn sum_axis(&self, axis: usize) -> Array {
        self.default_reduction().sum_axis(axis)
    }
    /// Means along `axis`, which the result no longer has.
    pub fn mean_axis(&self, axis: usize) -> Array {
        self.default_reduction().mean_axis(axis)
    }
    /// Minima along `axis`, which the result no longer has.
    pub fn min_axis(&self, axis: usize) -> Array {
        self.default_reduction().min_axis(axis)
    }
    /// Maxima along `axis`, which the result no longer has.
    pub fn max_axis(&self, axis: usize) -> Array {
        self.default_reduction().max_axis(axis)
    }
}

impl Reduction {
    /// See [`Array::sum`].
    pub fn sum(&self) -> Delayed<f64> {
        self.scalar("sum", StateKind::Sum, Finish::Sum)
    }
    /// See [`Array::mean`].
    pub fn mean(&self) -> Delayed<f64> {
        let n = self.array.shape().iter().product::<usize>() as u64;
        self.scalar("mean", StateKind::Sum, Finish::Mean(n))
    }
    /// See [`Array::var`].
    pub fn var(&self) -> Delayed<f64> {
        self.scalar("var", StateKind::Moments, Finish::Var)
    }
    /// See [`Array::std`].
    pub fn std(&self) -> Delayed<f64> {
        self.scalar("std", StateKind::Moments, Finish::Std)
    }
    /// See [`Array::min`].
    pub fn min(&self) -> Delayed<f64> {
        self.scalar("min", StateKind::Min, Finish::Value)
    }
    /// See [`Array::max`].
    pub fn max(&self) -> Delayed<f64> {
        self.scalar("max", StateKind::Max, Finish::Value)
    }
    /// See [`Array::argmin`].
    pub fn argmin(&self) -> Delayed<usize> {
        self.scalar_index("argmin", StateKind::Min)
    }
    /// See [`Array::argmax`].
    pub fn argmax(&self) -> Delayed<usize> {
        self.scalar_index("argmax", StateKind::Max)
    }

    fn scalar_index(&self, name: &'static str, kind: StateKind) -> Delayed<usize> {
        match self.root(name, kind) {
            Err(e) => invalid_node(name, &e),
            Ok(root) => super::task(name, ("finish", name), &[root], |p: &[&Partial]| {
                Finish::Index.apply(p[0]) as usize
            }),
        }
    }

    fn scalar(&self, name: &'static str, kind: StateKind, finish: Finish) -> Delayed<f64> {
        match self.root(name, kind) {
            Err(e) => invalid_node(name, &e),
            Ok(root) => super::task(name, ("finish", name), &[root], move |p: &[&Partial]| {
                finish.apply(p[0])
            }),
        }
    }

    /// The final partial state over every block.
    fn root(&self, name: &'static str, kind: StateKind) -> Result<Delayed<Partial>, ArrayError> {
        let body = self.array.body().map_err(Clone::clone)?;
        if matches!(kind, StateKind::Min | StateKind::Max)
            && body.shape.iter().product::<usize>() == 0
        {
            return Err(ArrayError::Invalid {
                op: name,
                shape: Dims(body.shape.clone()),
                why: "a reduction with no identity over an empty array".into(),
            });
        }
        let (expr, inputs) = self.array.view();
        // Sums and moments do not depend on the order of the elements: blocks (i, j)
        // and (j, i) of `x op x.T` can be reduced together (extremes keep an index).
        let symmetric = matches!(kind, StateKind::Sum | StateKind::Moments)
            .then(|| Symmetric::detect(&expr, !inputs.is_empty(), &body.shape, &body.chunks))
            .flatten();
        let leaves: Vec<Delayed<Partial>> = (0..body.block_count())
            .filter_map(|b| {
                let idx = body.unravel(b);
                if let Some(pairs) = &symmetric {
                    if idx[0] > idx[1] {
                        return None; // reduced with its mirror (idx[1], idx[0])
                    }
                    if idx[0] < idx[1] {
                        let place = body.place(&idx);
                        let tag = ("symmetric-partial", kind, &*expr, &place);
                        let (pairs, keep) = (pairs.clone(), place.clone());
                        let none: &[Delayed<Block>] = &[];
                        return Some(super::task(partial_name(kind), tag, none, move |_| {
                            let (mut p, mut q) = (Partial::empty(kind), Partial::empty(kind));
                            pairs.for_each_tile_pair(&keep, |tp, tq| {
                                p.add_tile(kind, tp, |_| 0);
                                q.add_tile(kind, tq, |_| 0);
                            });
                            p.merge(q, kind)
                        }));
                    }
                }
                let (nodes, place) = body.fused_block_inputs(&inputs, &idx);
                let tag = ("partial", kind, &*expr, &place);
                let (expr, keep) = (Arc::clone(&expr), place.clone());
                Some(super::try_task(
                    partial_name(kind),
                    tag,
                    &nodes,
                    move |ins: &[&Block]| {
                        with_block_inputs(ins, &keep, |block| {
                            let mut state = Partial::empty(kind);
                            expr.for_each_tile(block, |start, tile| {
                                state.add_tile(kind, tile, |i| block.place.global_index(start + i))
                            });
                            state
                        })
                    },
                ))
            })
            .collect();
        Ok(tree(
            leaves,
            self.split_every,
            combine_name(kind),
            kind,
            move |a, b| a.merge(*b, kind),
        ))
    }

    /// See [`Array::sum_axis`].
    pub fn sum_axis(&self, axis: usize) -> Array {
        self.along_axis("sum_axis", axis, AxisOp::Sum)
    }

    /// See [`Array::mean_axis`].
    pub fn mean_axis(&self, axis: usize) -> Array {
        let n = self.array.shape().get(axis).copied().unwrap_or(1);
        let sums = self.along_axis("mean_axis", axis, AxisOp::Sum);
        // The division fuses into the blocks that read the sums.
        let (expr, inputs) = sums.view();
        match sums.body() {
            Err(_) => sums.clone(),
            Ok(b) => Array::fused(
                b.shape.clone(),
                b.chunks.clone(),
                Arc::new(Expr::Unary(
                    UnaryOp::DivScalar(Scalar::new(n as f64)),
                    Box::new((*expr).clone()),
                )),
                inputs,
            ),
        }
    }

    /// See [`Array::min_axis`].
    pub fn min_axis(&self, axis: usize) -> Array {
        self.along_axis("min_axis", axis, AxisOp::Min)
    }

    /// See [`Array::max_axis`].
    pub fn max_axis(&self, axis: usize) -> Array {
        self.along_axis("max_axis", axis, AxisOp::Max)
    }

    /// A reduction along one axis: each block reduced along it in its own task (fused
    /// with the elementwise expression), then the partial blocks of each row of blocks
    /// merged as a tree.
    fn along_axis(&self, op: &'static str, axis: usize, how: AxisOp) -> Array {
        let body = match self.array.body() {
            Err(_) => return self.array.clone(),
            Ok(b) => b,
        };
        if axis >= body.shape.len() {
            return Array::invalid(ArrayError::AxisOutOfRange {
                op,
                axis,
                shape: Dims(body.shape.clone()),
            });
        }
        if how != AxisOp::Sum && body.shape[axis] == 0 {
            return Array::invalid(ArrayError::Invalid {
                op,
                shape: Dims(body.shape.clone()),
                why: format!("axis {axis} is empty and the reduction has no identity"),
            });
        }
        let (expr, inputs) = self.array.view();
        let mut out_shape = body.shape.clone();
        out_shape.remove(axis);
        let mut out_chunks = body.chunks.clone();
        out_chunks.remove(axis);
        // An array empty along `axis` alone holds nothing, but its reduction is full:
        // `(0, 2^20, 2^20)` summed along 0 is 2^40 zeros, one chunk that aborted the
        // process when its task allocated it.
        if let Err(e) = super::limits::check_chunks(op, &out_shape, &out_chunks) {
            return Array::invalid(e);
        }
        let out_count: usize = out_chunks.iter().map(Vec::len).product();
        let along = body.chunks[axis].len();
        let blocks = (0..out_count)
            .map(|o| {
                // The output block index, as an input block index with `axis` to fill.
                let mut idx = Vec::with_capacity(body.shape.len());
                let mut rest = o;
                for c in out_chunks.iter().rev() {
                    idx.push(rest % c.len());
                    rest /= c.len();
                }
                idx.reverse();
                idx.insert(axis, 0);
                let leaves: Vec<Delayed<Block>> = (0..along)
                    .map(|j| {
                        idx[axis] = j;
                        let (nodes, place) = body.fused_block_inputs(&inputs, &idx);
                        let tag = ("axis-partial", how, axis, &*expr, &place);
                        let (expr, keep) = (Arc::clone(&expr), place.clone());
                        super::try_task(how.partial_name(), tag, &nodes, move |ins: &[&Block]| {
                            with_block_inputs(ins, &keep, |block| {
                                how.reduce(&expr.eval_block(block), axis)
                            })
                        })
                    })
                    .collect();
                tree(
                    leaves,
                    self.split_every,
                    how.combine_name(),
                    how,
                    move |a, b| how.merge(a, b),
                )
            })
            .collect();
        Array::from_blocks(out_shape, out_chunks, blocks)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum AxisOp {
    Sum,
    Min,
    Max,
}

impl AxisOp {
    fn partial_name(self) -> &'static str {
        match self {
            AxisOp::Sum => "sum_axis-partial",
            AxisOp::Min => "min_axis-partial",
            AxisOp::Max => "max_axis-partial",
        }
    }

    fn combine_name(self) -> &'static str {
        match self {
            AxisOp::Sum => "sum_axis-combine",
            AxisOp::Min => "min_axis-combine",
            AxisOp::Max => "max_axis-combine",
        }
    }

    fn reduce(self, block: &Block, axis: usize) -> Block {
        match self {
            AxisOp::Sum => block.sum_axis(Axis(axis)),
            AxisOp::Min => block.fold_axis(Axis(axis), f64::INFINITY, |&a, &b| nan_min(a, b)),
            AxisOp::Max => block.fold_axis(Axis(axis), f64::NEG_INFINITY, |&a, &b| nan_max(a, b)),
        }
    }

    fn merge(self, a: Block, b: &Block) -> Block {
        let mut a = a;
        match self {
            AxisOp::Sum => a += b,
            AxisOp::Min => a.zip_mut_with(b, |x, &y| *x = nan_min(*x, y)),
            AxisOp::Max => a.zip_mut_with(b, |x, &y| *x = nan_max(*x, y)),
        }
        a
    }
}

/// `min` that propagates NaN, as NumPy's.
fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

fn partial_name(kind: StateKind) -> &'static str {
    match kind {
        StateKind::Sum => "sum-partial",
        StateKind::Moments => "moments-partial",
        StateKind::Min => "min-partial",
        StateKind::Max => "max-partial",
    }
}

fn combine_name(kind: StateKind) -> &'static str {
    match kind {
        StateKind::Sum => "sum-combine",
        StateKind::Moments => "moments-combine",
        StateKind::Min => "min-combine",
        StateKind::Max => "max-combine",
    }
}

/// Merges `level` nodes `split_every` at a time until one is left.
fn tree<S, K>(
    mut level: Vec<Delayed<S>>,
    split_every: usize,
    name: &'static str,
    kind: K,
    merge: impl Fn(S, &S) -> S + Clone + Send + Sync + 'static,
) -> Delayed<S>
where
    S: Clone + serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    K: std::hash::Hash + Copy,
{
    while level.len() > 1 {
        level = level
            .chunks(split_every)
            .map(|group| {
                if group.len() == 1 {
                    return group[0].clone();
                }
                let merge = merge.clone();
                super::task(name, ("combine", kind), group, move |parts: &[&S]| {
                    parts[1..]
                        .iter()
                        .fold(parts[0].clone(), |acc, p| merge(acc, p))
                })
            })
            .collect();
    }
    level.pop().expect("an array has at least one block")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_sum_is_compensated() {
        let tile: Vec<f64> = (0..4099).map(|i| 1e9 + (i % 7) as f64 / 1024.0).collect();
        let exact: i128 = (0..4099)
            .map(|i| 1_000_000_000i128 * 1024 + (i % 7) as i128)
            .sum();
        let (hi, lo) = tile_sum(&tile);
        assert_eq!(hi + lo, exact as f64 / 1024.0);
    }

    #[test]
    fn moments_merge_as_one_pass_would() {
        let data: Vec<f64> = (0..1000).map(|i| 1e9 + (i as f64).sin()).collect();
        let mut whole = Partial::empty(StateKind::Moments);
        whole.add_tile(StateKind::Moments, &data, |i| i as u64);
        let mut parts = Partial::empty(StateKind::Moments);
        for c in data.chunks(37) {
            let mut p = Partial::empty(StateKind::Moments);
            p.add_tile(StateKind::Moments, c, |i| i as u64);
            parts = parts.merge(p, StateKind::Moments);
        }
        let (Partial::Moments { m2: a, .. }, Partial::Moments { m2: b, .. }) = (whole, parts)
        else {
            panic!("moments")
        };
        assert!((a - b).abs() / a < 1e-9, "{a} {b}");
    }
}
