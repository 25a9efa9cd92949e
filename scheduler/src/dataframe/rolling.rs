//! `rolling(window)`: moving-window aggregates that are exact across partition edges.
//!
//! Each partition's task also reads a carry: the rows of the earlier partitions its
//! first windows reach back to (the last `n - 1` rows for an `n`-row window, the rows
//! within the window's duration of the last timestamp for a time window). Carries form
//! a chain of small tasks, so a window may span any number of partitions, empty or
//! short ones included (Dask's `map_overlap` reaches one partition back only:
//! dask#4248).

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use super::error::DataFrameError;
use super::expr::{describe_columns, dtype_name};
use super::freq::parse_freq;
use super::rowwise::unit_nanos;
use super::DataFrame;

/// A rolling window: a number of rows, or a duration of the datetime index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Window {
    /// The current row and the `n - 1` before it; a window with fewer than `n` values
    /// gives null (pandas' `min_periods` = window).
    Rows(usize),
    /// The rows whose index lies in `(t - duration, t]` (`"1min"`); at least one value.
    Time(String),
}

impl From<usize> for Window {
    fn from(n: usize) -> Window {
        Window::Rows(n)
    }
}

impl From<&str> for Window {
    fn from(d: &str) -> Window {
        Window::Time(d.to_string())
    }
}

/// A dataframe waiting for its rolling aggregate (Dask's `Rolling`).
#[derive(Clone, Debug)]
pub struct Rolling {
    frame: DataFrame,
    window: Window,
}

impl DataFrame {
    /// Moving windows over the rows in index order (`rolling(5)`, `rolling("1min")`):
    /// every non-index column is aggregated over the window ending at each row. The
    /// result has this dataframe's partitions and index; its columns are `float64`.
    pub fn rolling(&self, window: impl Into<Window>) -> Rolling {
        Rolling {
            frame: self.clone(),
            window: window.into(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Func {
    Mean,
    Sum,
    Min,
    Max,
    Std,
}

/// The window as the tasks use it: rows, or a span in the index's unit.
#[derive(Clone, Copy, Debug, Hash)]
enum Span {
    Rows(usize),
    Time(i64),
}

impl Rolling {
    /// The mean over each window.
    pub fn mean(&self) -> DataFrame {
        self.build(Func::Mean)
    }
    /// The sum over each window.
    pub fn sum(&self) -> DataFrame {
        self.build(Func::Sum)
    }
    /// The smallest value of each window.
    pub fn min(&self) -> DataFrame {
        self.build(Func::Min)
    }
    /// The largest value of each window.
    pub fn max(&self) -> DataFrame {
        self.build(Func::Max)
    }
    /// The sample standard deviation (ddof 1) over each window.
    pub fn std(&self) -> DataFrame {
        self.build(Func::Std)
    }

    fn build(&self, func: Func) -> DataFrame {
        match self.plan() {
            Ok((span, out_schema)) => self.tasks(func, span, out_schema),
            Err(e) => DataFrame::invalid(e),
        }
    }

    fn plan(&self) -> Result<(Span, SchemaRef), DataFrameError> {
        let op = "rolling";
        if let Some(e) = self.frame.error() {
            return Err(e.clone());
        }
        let schema = self.frame.schema();
        let index = self.frame.index();
        let span = match &self.window {
            Window::Rows(0) => {
                return Err(DataFrameError::Invalid {
                    op,
                    why: "a window of 0 rows".into(),
                })
            }
            Window::Rows(n) => Span::Rows(*n),
            Window::Time(d) => {
                let ns = parse_freq(op, d)?;
                let ix = index.ok_or_else(|| DataFrameError::Invalid {
                    op,
                    why: format!(
                        "a time window ({d:?}) needs a datetime index; this dataframe has none"
                    ),
                })?;
                match schema.field_with_name(ix).map(|f| f.data_type().clone()) {
                    Ok(DataType::Timestamp(unit, _)) => Span::Time((ns / unit_nanos(&unit)).max(1)),
                    other => {
                        return Err(DataFrameError::TypeMismatch {
                            op,
                            expr: ix.to_string(),
                            why: format!(
                                "the index is {}, not a datetime",
                                other.map(|t| dtype_name(&t)).unwrap_or_default()
                            ),
                            available: describe_columns(&schema),
                        })
                    }
                }
            }
        };
        let mut fields = Vec::new();
        for f in schema.fields() {
            if Some(f.name().as_str()) == index {
                fields.push(f.as_ref().clone());
            } else if f.data_type().is_numeric() || f.data_type() == &DataType::Boolean {
                fields.push(Field::new(f.name(), DataType::Float64, true));
            } else {
                return Err(DataFrameError::TypeMismatch {
                    op,
                    expr: f.name().clone(),
                    why: format!(
                        "cannot take a rolling aggregate of a {} column",
                        dtype_name(f.data_type())
                    ),
                    available: describe_columns(&schema),
                });
            }
        }
        Ok((span, Arc::new(Schema::new(fields))))
    }

    fn tasks(&self, func: Func, span: Span, out_schema: SchemaRef) -> DataFrame {
        let parts = self.frame.to_delayed();
        let schema = self.frame.schema();
        let index = self.frame.index().map(str::to_string);
        let tag = (format!("{:?}", self.window), format!("{func:?}"));
        let empty = RecordBatch::new_empty(schema.clone());
        let mut carry =
            super::task::task::<RecordBatch, _, _>("rolling-carry", &tag, &[], move |_| {
                empty.clone()
            });
        let mut outputs = Vec::with_capacity(parts.len());
        for part in &parts {
            let inputs = [carry.clone(), part.clone()];
            let (s, ix, out) = (schema.clone(), index.clone(), out_schema.clone());
            outputs.push(super::task::try_task(
                "rolling",
                &tag,
                &inputs,
                move |b: &[&RecordBatch]| {
                    window_part(b[0], b[1], &s, ix.as_deref(), span, func, &out)
                },
            ));
            let (s, ix) = (schema.clone(), index.clone());
            carry = super::task::try_task(
                "rolling-carry",
                &tag,
                &inputs,
                move |b: &[&RecordBatch]| next_carry(b[0], b[1], &s, ix.as_deref(), span),
            );
        }
        DataFrame::from_parts(
            outputs,
            out_schema,
            index,
            self.frame.divisions(),
            "rolling",
        )
    }
}

fn ints(batch: &RecordBatch, column: &str) -> Result<Vec<i64>, ArrowError> {
    let c = batch
        .column_by_name(column)
        .ok_or_else(|| ArrowError::SchemaError(format!("no column `{column}`")))?;
    let c = arrow_cast::cast(c.as_ref(), &DataType::Int64)?;
    let c = c
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or_else(|| ArrowError::CastError("index as int64".into()))?;
    Ok(c.iter().map(|v| v.unwrap_or(i64::MIN)).collect())
}

/// The rows of `carry` then `part` that later windows can still reach.
fn next_carry(
    carry: &RecordBatch,
    part: &RecordBatch,
    schema: &SchemaRef,
    index: Option<&str>,
    span: Span,
) -> Result<RecordBatch, ArrowError> {
    let all = arrow_select::concat::concat_batches(schema, [carry, part])?;
    let n = all.num_rows();
    let keep_from = match span {
        Span::Rows(w) => n.saturating_sub(w - 1),
        Span::Time(d) => {
            let ts = ints(&all, index.unwrap_or_default())?;
            match ts.last() {
                Some(&last) => ts.partition_point(|&t| t <= last.saturating_sub(d)),
                None => n,
            }
        }
    };
    Ok(all.slice(keep_from, n - keep_from))
}

fn window_part(
    carry: &RecordBatch,
    part: &RecordBatch,
    schema: &SchemaRef,
    index: Option<&str>,
    span: Span,
    func: Func,
    out_schema: &SchemaRef,
) -> Result<RecordBatch, ArrowError> {
    let all = arrow_select::concat::concat_batches(schema, [carry, part])?;
    let offset = carry.num_rows();
    let n = all.num_rows();
    // The first row of each output row's window, and how many values it needs.
    let (starts, min_values): (Vec<usize>, usize) = match span {
        Span::Rows(w) => ((offset..n).map(|i| (i + 1).saturating_sub(w)).collect(), w),
        Span::Time(d) => {
            let ts = ints(&all, index.unwrap_or_default())?;
            if let Some(w) = ts.windows(2).find(|w| w[1] < w[0]) {
                return Err(ArrowError::InvalidArgumentError(format!(
                    "rolling: the index is not sorted ({} after {}); a time window needs a sorted index",
                    w[1], w[0]
                )));
            }
            let mut start = 0;
            let starts = (0..n)
                .map(|i| {
                    while ts[start] <= ts[i].saturating_sub(d) {
                        start += 1;
                    }
                    start
                })
                .skip(offset)
                .collect();
            (starts, 1)
        }
    };
    let mut columns: Vec<ArrayRef> = Vec::new();
    for f in out_schema.fields() {
        let c = all
            .column_by_name(f.name())
            .ok_or_else(|| ArrowError::SchemaError(format!("no column `{}`", f.name())))?;
        if Some(f.name().as_str()) == index {
            columns.push(c.slice(offset, n - offset));
            continue;
        }
        let c = arrow_cast::cast(c.as_ref(), &DataType::Float64)?;
        let values = c
            .as_any()
            .downcast_ref::<Float64Array>()
            .ok_or_else(|| ArrowError::CastError("float64".into()))?;
        let out = slide(values, &starts, offset, min_values, func);
        columns.push(Arc::new(out));
    }
    RecordBatch::try_new(out_schema.clone(), columns)
}

/// The aggregate of every window `[starts[k], offset + k]` of `values`, in one pass: the
/// window slides forward (both ends only move on), so each value is added once and
/// removed once. Sums are compensated (Neumaier), the variance is Welford's with
/// removal, min and max come from a monotonic queue of positions. NaN and nulls are
/// missing, as in pandas: not values of the window.
fn slide(
    values: &Float64Array,
    starts: &[usize],
    offset: usize,
    min_values: usize,
    func: Func,
) -> Float64Array {
    let present = |j: usize| values.is_valid(j) && !values.value(j).is_nan();
    let mut w = Running::default();
    let mut queue: std::collections::VecDeque<usize> = std::collections::VecDeque::new();
    let (mut lo, mut hi) = (
        starts.first().copied().unwrap_or(0),
        starts.first().copied().unwrap_or(0),
    );
    let keep = |a: f64, b: f64| match func {
        // Positions whose value a later one beats leave the queue's back.
        Func::Min => a < b,
        _ => a > b,
    };
    starts
        .iter()
        .enumerate()
        .map(|(k, &start)| {
            let end = offset + k;
            while hi <= end {
                if present(hi) {
                    let v = values.value(hi);
                    w.add(v);
                    if matches!(func, Func::Min | Func::Max) {
                        while queue.back().is_some_and(|&b| !keep(values.value(b), v)) {
                            queue.pop_back();
                        }
                        queue.push_back(hi);
                    }
                }
                hi += 1;
            }
            while lo < start {
                if present(lo) {
                    w.remove(values.value(lo));
                }
                lo += 1;
            }
            while queue.front().is_some_and(|&f| f < start) {
                queue.pop_front();
            }
            if w.count == 0 || w.count < min_values {
                return None;
            }
            let n = w.count as f64;
            match func {
                Func::Sum => Some(w.sum()),
                Func::Mean => Some(w.sum() / n),
                Func::Min | Func::Max => queue.front().map(|&f| values.value(f)),
                Func::Std => (w.count > 1).then(|| (w.m2.max(0.0) / (n - 1.0)).sqrt()),
            }
        })
        .collect()
}

/// The running state of one window.
#[derive(Default)]
struct Running {
    count: usize,
    /// Neumaier's compensated sum: `total + compensation`.
    total: f64,
    compensation: f64,
    mean: f64,
    m2: f64,
}

impl Running {
    fn sum(&self) -> f64 {
        self.total + self.compensation
    }

    fn accumulate(&mut self, v: f64) {
        let t = self.total + v;
        if self.total.abs() >= v.abs() {
            self.compensation += (self.total - t) + v;
        } else {
            self.compensation += (v - t) + self.total;
        }
        self.total = t;
    }

    fn add(&mut self, v: f64) {
        self.count += 1;
        self.accumulate(v);
        let delta = v - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (v - self.mean);
    }

    fn remove(&mut self, v: f64) {
        self.count -= 1;
        if self.count == 0 {
            // Nothing left: start clean, with no residue of rounding.
            *self = Running::default();
            return;
        }
        self.accumulate(-v);
        let delta = v - self.mean;
        self.mean -= delta / self.count as f64;
        self.m2 -= delta * (v - self.mean);
    }
}
