//! Reductions of one column ([`Series`]): each partition reduces to a small mergeable
//! state (count, mean, M2, sum, min, max), states merge as a tree, and the root gives the
//! statistic. `std` merges M2 by Chan et al.'s pairwise update, which stays exact where
//! the naive sum of squares cancels (values around 1e9; dask#5725).

use std::hash::Hash;

use arrow_array::{Array, Float64Array, RecordBatch};
use arrow_schema::{ArrowError, DataType};

use super::error::DataFrameError;
use super::expr::{describe_columns, dtype_name};
use super::{invalid_node, DataFrame};
use crate::Delayed;

/// How many partial results one combine task merges (Dask's `split_every`).
pub(crate) const SPLIT_EVERY: usize = 8;

/// One column of a [`DataFrame`], for reductions (Dask's `Series`). Missing values are
/// skipped as pandas skips them (`skipna=True`): nulls and NaN alike, so `count` counts
/// the values that are neither, and a column with none gives NaN (`sum`: 0).
#[derive(Clone, Debug)]
pub struct Series {
    frame: DataFrame,
    name: String,
}

/// The mergeable state of a numeric column's reduction.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Moments {
    pub(crate) count: u64,
    pub(crate) mean: f64,
    /// Sum of squared deviations from `mean`.
    pub(crate) m2: f64,
    pub(crate) sum: f64,
    pub(crate) min: f64,
    pub(crate) max: f64,
}

/// The smallest and largest of `values`, NaN skipped (`f64::min` and `max` return the
/// other operand of a NaN), in four lanes; infinities where none is present.
fn min_max(values: &[f64]) -> (f64, f64) {
    let mut low = [f64::INFINITY; 4];
    let mut high = [f64::NEG_INFINITY; 4];
    let mut chunks = values.chunks_exact(4);
    for c in &mut chunks {
        for k in 0..4 {
            low[k] = low[k].min(c[k]);
            high[k] = high[k].max(c[k]);
        }
    }
    for &v in chunks.remainder() {
        low[0] = low[0].min(v);
        high[0] = high[0].max(v);
    }
    (
        low.into_iter().fold(f64::INFINITY, f64::min),
        high.into_iter().fold(f64::NEG_INFINITY, f64::max),
    )
}

impl Moments {
    pub(crate) const EMPTY: Moments = Moments {
        count: 0,
        mean: 0.0,
        m2: 0.0,
        sum: 0.0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
    };

    /// The state of `values` (nulls and NaN skipped, as pandas' `skipna`), in two
    /// passes: the mean, then the squared deviations from it.
    pub(crate) fn of(values: &Float64Array) -> Moments {
        if values.null_count() == 0 {
            // No nulls (a filter's output, a generated column): the values as one slice,
            // in passes of four independent lanes rather than one fold value by value.
            let v = values.values();
            let mut m = Moments::of_floats(v);
            if m.count > 0 {
                (m.min, m.max) = min_max(v);
            }
            return m;
        }
        let present = || values.iter().flatten().filter(|v| !v.is_nan());
        let mut m = Moments::EMPTY;
        for v in present() {
            m.count += 1;
            m.sum += v;
            m.min = m.min.min(v);
            m.max = m.max.max(v);
        }
        if m.count == 0 {
            return m;
        }
        m.mean = m.sum / m.count as f64;
        m.m2 = present().map(|v| (v - m.mean) * (v - m.mean)).sum();
        m
    }

    /// The state of a run of values (NaN skipped), in two passes as [`of`](Self::of),
    /// each with four running sums so the additions do not wait on one another: the
    /// grouped aggregates feed it the rows of one group that lie together (a time bin of
    /// a sorted index), and merge the result into the group. `min` and `max` are left
    /// empty, as [`push`](Self::push) leaves them: the grouped aggregates never read them.
    pub(crate) fn of_floats(values: &[f64]) -> Moments {
        let mut sums = [0.0f64; 4];
        let mut counts = [0u64; 4];
        let mut chunks = values.chunks_exact(4);
        for c in &mut chunks {
            for k in 0..4 {
                let present = !c[k].is_nan();
                sums[k] += if present { c[k] } else { 0.0 };
                counts[k] += u64::from(present);
            }
        }
        for &v in chunks.remainder() {
            let present = !v.is_nan();
            sums[0] += if present { v } else { 0.0 };
            counts[0] += u64::from(present);
        }
        let count: u64 = counts.iter().sum();
        if count == 0 {
            return Moments::EMPTY;
        }
        let sum = (sums[0] + sums[1]) + (sums[2] + sums[3]);
        let mean = sum / count as f64;
        let mut squares = [0.0f64; 4];
        let mut chunks = values.chunks_exact(4);
        for c in &mut chunks {
            for k in 0..4 {
                let d = c[k] - mean;
                squares[k] += if c[k].is_nan() { 0.0 } else { d * d };
            }
        }
        for &v in chunks.remainder() {
            let d = v - mean;
            squares[0] += if v.is_nan() { 0.0 } else { d * d };
        }
        Moments {
            count,
            mean,
            m2: (squares[0] + squares[1]) + (squares[2] + squares[3]),
            sum,
            ..Moments::EMPTY
        }
    }

    /// Adds one value (Welford's update: stable without a second pass).
    pub(crate) fn push(&mut self, v: f64) {
        self.count += 1;
        self.sum += v;
        let delta = v - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (v - self.mean);
    }

    /// Both states as one (Chan, Golub and LeVeque's pairwise update).
    pub(crate) fn merge(&self, other: &Moments) -> Moments {
        if self.count == 0 {
            return *other;
        }
        if other.count == 0 {
            return *self;
        }
        let (na, nb) = (self.count as f64, other.count as f64);
        let n = na + nb;
        let delta = other.mean - self.mean;
        let nan_aware = |a: f64, b: f64, f: fn(f64, f64) -> f64| {
            if a.is_nan() || b.is_nan() {
                f64::NAN
            } else {
                f(a, b)
            }
        };
        Moments {
            count: self.count + other.count,
            mean: self.mean + delta * nb / n,
            m2: self.m2 + other.m2 + delta * delta * na * nb / n,
            sum: self.sum + other.sum,
            min: nan_aware(self.min, other.min, f64::min),
            max: nan_aware(self.max, other.max, f64::max),
        }
    }

    pub(crate) fn mean(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.mean
        }
    }

    /// The variance with `ddof` delta degrees of freedom (pandas: 1); NaN when there are
    /// not more values than `ddof`.
    pub(crate) fn var(&self, ddof: u64) -> f64 {
        if self.count <= ddof {
            f64::NAN
        } else {
            self.m2 / (self.count - ddof) as f64
        }
    }
}

/// Merges `level` as a tree of `SPLIT_EVERY`-wide tasks into one node.
pub(crate) fn tree<T, F>(
    name: &'static str,
    tag: impl Hash + Clone,
    level: Vec<Delayed<T>>,
    merge: F,
) -> Delayed<T>
where
    T: super::task::Shippable,
    F: Fn(&[&T]) -> T + Clone + Send + Sync + 'static,
{
    try_tree(name, tag, level, move |parts: &[&T]| {
        Ok::<T, std::convert::Infallible>(merge(parts))
    })
}

/// [`tree`] with a merge that can fail: an `Err` fails the computation naming the node.
/// No parts at all (a dataframe of no partitions, as `from_delayed(vec![], ..)` makes)
/// give one task merging none, so `merge(&[])` must be the empty state: the reduction
/// of nothing (a sum of 0, a mean of NaN, no groups), as pandas gives for an empty frame.
pub(crate) fn try_tree<T, E, F>(
    name: &'static str,
    tag: impl Hash + Clone,
    mut level: Vec<Delayed<T>>,
    merge: F,
) -> Delayed<T>
where
    T: super::task::Shippable,
    E: Into<crate::BoxError>,
    F: Fn(&[&T]) -> Result<T, E> + Clone + Send + Sync + 'static,
{
    if level.len() == 1 {
        return level.remove(0);
    }
    if level.is_empty() {
        return super::task::try_task(name, (tag, "empty"), &[], merge);
    }
    let mut depth = 0usize;
    loop {
        level = level
            .chunks(SPLIT_EVERY)
            .map(|group| super::task::try_task(name, (tag.clone(), depth), group, merge.clone()))
            .collect();
        if level.len() <= 1 {
            return level.remove(0);
        }
        depth += 1;
    }
}

impl Series {
    pub(crate) fn new(frame: DataFrame, name: &str) -> Series {
        Series {
            frame,
            name: name.to_string(),
        }
    }

    /// The column's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The dataframe of this column (and the index).
    pub fn to_frame(&self) -> DataFrame {
        self.frame.clone()
    }

    /// The merged state of the column, or why the column cannot be reduced.
    fn moments(&self, op: &'static str) -> Result<Delayed<Moments>, DataFrameError> {
        if let Some(e) = self.frame.error() {
            return Err(e.clone());
        }
        let schema = self.frame.schema();
        let field =
            schema
                .field_with_name(&self.name)
                .map_err(|_| DataFrameError::UnknownColumn {
                    op,
                    column: self.name.clone(),
                    available: describe_columns(&schema),
                })?;
        if !(field.data_type().is_numeric() || field.data_type() == &DataType::Boolean) {
            return Err(DataFrameError::TypeMismatch {
                op,
                expr: self.name.clone(),
                why: format!(
                    "cannot reduce a {} column numerically",
                    dtype_name(field.data_type())
                ),
                available: describe_columns(&schema),
            });
        }
        let name = self.name.clone();
        let chunks = self.frame.map_partitions(
            "series-chunk",
            ("moments", self.name.clone()),
            move |b| column_moments(b, &name),
        )?;
        Ok(tree(
            "series-combine",
            ("moments", self.name.clone()),
            chunks,
            |parts: &[&Moments]| parts.iter().fold(Moments::EMPTY, |acc, m| acc.merge(m)),
        ))
    }

    fn finish(&self, op: &'static str, f: fn(&Moments) -> f64) -> Delayed<f64> {
        match self.moments(op) {
            Ok(m) => super::task::task(op, op, &[m], move |m: &[&Moments]| f(m[0])),
            Err(e) => invalid_node(op, &e),
        }
    }

    /// The sum of the values (0 when there are none). Integers are summed as `f64`.
    pub fn sum(&self) -> Delayed<f64> {
        self.finish("sum", |m| m.sum)
    }

    /// The mean (NaN when there are no values).
    pub fn mean(&self) -> Delayed<f64> {
        self.finish("mean", Moments::mean)
    }

    /// The sample variance (ddof 1, as pandas).
    pub fn var(&self) -> Delayed<f64> {
        self.finish("var", |m| m.var(1))
    }

    /// The sample standard deviation (ddof 1, as pandas).
    pub fn std(&self) -> Delayed<f64> {
        self.finish("std", |m| m.var(1).sqrt())
    }

    /// The smallest value (NaN when there are none).
    pub fn min(&self) -> Delayed<f64> {
        self.finish("min", |m| if m.count == 0 { f64::NAN } else { m.min })
    }

    /// The largest value (NaN when there are none).
    pub fn max(&self) -> Delayed<f64> {
        self.finish("max", |m| if m.count == 0 { f64::NAN } else { m.max })
    }

    /// How many values are not null.
    pub fn count(&self) -> Delayed<usize> {
        match self.moments("count") {
            Ok(m) => {
                super::task::task("count", "count", &[m], |m: &[&Moments]| m[0].count as usize)
            }
            Err(e) => invalid_node("count", &e),
        }
    }
}

impl Series {
    /// How many distinct values that are not null (Dask's `nunique`): a grouped count
    /// over the column, reduced as a tree, then counted.
    pub fn nunique(&self) -> Delayed<usize> {
        self.counts().len()
    }

    /// How many times each value appears (nulls left out), most frequent first and
    /// equal counts by value (Dask's `value_counts`): a one-partition dataframe with
    /// the column (its index) and `count`. The counts of a column itself named `count`
    /// are named `count_count` (as `groupby` names an aggregation beside its column),
    /// where pandas names its result Series `count`, indexed by the values.
    pub fn value_counts(&self) -> DataFrame {
        let counts = self.counts();
        let parts = counts.to_delayed();
        if counts.error().is_some() || parts.len() != 1 {
            return counts;
        }
        let schema = counts.schema();
        let sorted = super::task::try_task(
            "value-counts-sort",
            "count desc, value asc",
            &parts,
            |b: &[&RecordBatch]| {
                let batch = b[0];
                let order = arrow_ord::sort::lexsort_to_indices(
                    &[
                        arrow_ord::sort::SortColumn {
                            values: batch.column(1).clone(),
                            options: Some(arrow_schema::SortOptions {
                                descending: true,
                                nulls_first: false,
                            }),
                        },
                        arrow_ord::sort::SortColumn {
                            values: batch.column(0).clone(),
                            options: None,
                        },
                    ],
                    None,
                )?;
                arrow_select::take::take_record_batch(batch, &order)
            },
        );
        DataFrame::from_parts(
            vec![sorted],
            schema,
            Some(self.name.clone()),
            None,
            "value-counts",
        )
    }

    fn counts(&self) -> DataFrame {
        // The grouped column keeps its name: the counts of a column named `count`
        // cannot take it too.
        let counts = if self.name == "count" {
            "count_count"
        } else {
            "count"
        };
        self.frame
            .groupby([self.name.as_str()])
            .agg([super::agg::count(self.name.as_str()).alias(counts)])
    }
}

fn column_moments(batch: &RecordBatch, name: &str) -> Result<Moments, ArrowError> {
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| ArrowError::SchemaError(format!("no column `{name}`")))?;
    let values = arrow_cast::cast(column.as_ref(), &DataType::Float64)?;
    let values = values
        .as_any()
        .downcast_ref::<Float64Array>()
        .ok_or_else(|| ArrowError::CastError("not float64 after a cast to float64".into()))?;
    Ok(Moments::of(values))
}

#[cfg(test)]
mod tests {
    use super::Moments;

    #[test]
    fn moments_of_a_column_without_nulls_agree_with_the_value_by_value_fold() {
        // The lane passes (no nulls) against the fold (a null forces it): count, sums,
        // spread, min and max alike, NaN skipped by both; an all-NaN column is empty.
        use arrow_array::Float64Array;
        let values = [3.5, -1.0, f64::NAN, 2.25, 1e8, -7.0, 0.5, -0.25, 9.0];
        let lanes = Moments::of(&Float64Array::from(values.to_vec()));
        let mut with_null: Vec<Option<f64>> = values.iter().copied().map(Some).collect();
        with_null.push(None);
        let fold = Moments::of(&Float64Array::from(with_null));
        assert_eq!(lanes.count, 8);
        assert_eq!(lanes.count, fold.count);
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(1.0);
        assert!(close(lanes.sum, fold.sum) && close(lanes.mean, fold.mean));
        assert!(close(lanes.m2, fold.m2));
        assert_eq!((lanes.min, lanes.max), (-7.0, 1e8));
        assert_eq!((lanes.min, lanes.max), (fold.min, fold.max));
        let empty = Moments::of(&Float64Array::from(vec![f64::NAN, f64::NAN]));
        assert_eq!(empty.count, 0);
    }

    #[test]
    fn moments_of_a_run_agree_with_one_value_at_a_time() {
        // Seven values (one chunk of four and a remainder), a NaN among them skipped.
        let values = [3.5, -1.0, f64::NAN, 2.25, 1e8, -7.0, 0.5];
        let run = Moments::of_floats(&values);
        let mut one_by_one = Moments::EMPTY;
        for v in values.iter().filter(|v| !v.is_nan()) {
            one_by_one.push(*v);
        }
        assert_eq!(run.count, 6);
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(1.0);
        assert!(close(run.sum, one_by_one.sum));
        assert!(close(run.mean, one_by_one.mean));
        assert!(close(run.m2, one_by_one.m2), "{} {}", run.m2, one_by_one.m2);
        assert_eq!(Moments::of_floats(&[f64::NAN, f64::NAN]).count, 0);
        assert_eq!(Moments::of_floats(&[]).count, 0);
    }
}
