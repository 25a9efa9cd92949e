//! `rolling(window)`: moving-window aggregates that are exact across partition edges.
//!
//! Each partition's task also reads a carry: the rows of the earlier partitions its
//! first windows reach back to (the last `n - 1` rows for an `n`-row window, the rows
//! within the window's duration of the last timestamp for a time window). Carries form
//! a chain of small tasks, so a window may span any number of partitions, empty or
//! short ones included (Dask's `map_overlap` reaches one partition back only:
//! dask#4248). A task copies only the index and the one column it aggregates into a
//! contiguous run (the sliding loop reads it twice a row; reading two slices with a
//! branch per read cost more than the copy), never the whole batches; a carry is a
//! slice of the partition unless the partition is shorter than the window.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch};
use arrow_buffer::{BooleanBufferBuilder, NullBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use super::error::DataFrameError;
use super::expr::{describe_columns, dtype_name};
use super::freq::parse_freq;
use super::rowwise::unit_nanos;
use super::slide::{slide, slide_sum, Extreme, RowStarts, Std, Sum, TimeStarts};
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
            let (ix, out) = (index.clone(), out_schema.clone());
            outputs.push(super::task::try_task(
                "rolling",
                &tag,
                &inputs,
                move |b: &[&RecordBatch]| window_part(b[0], b[1], ix.as_deref(), span, func, &out),
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

/// The index of `batch` as integers (the column's own values, not a copy). A null time
/// is an error: no window can end or start at it.
fn stamps(batch: &RecordBatch, column: &str) -> Result<Int64Array, ArrowError> {
    let c = batch
        .column_by_name(column)
        .ok_or_else(|| ArrowError::SchemaError(format!("no column `{column}`")))?;
    let c = arrow_cast::cast(c.as_ref(), &DataType::Int64)?;
    let c = c
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or_else(|| ArrowError::CastError("index as int64".into()))?;
    if let Some(row) = c.nulls().and_then(|n| n.iter().position(|valid| !valid)) {
        return Err(ArrowError::InvalidArgumentError(format!(
            "rolling: the index `{column}` is null at row {row} of a partition; a time window needs a time on every row"
        )));
    }
    Ok(c.clone())
}

/// The rows of `carry` then `part` that later windows can still reach. Where they all
/// lie in `part` (the common case: a partition longer than the window) the carry is a
/// slice of `part`, not a copy; only a part shorter than the window is concatenated
/// behind the end of the carry it extends.
fn next_carry(
    carry: &RecordBatch,
    part: &RecordBatch,
    schema: &SchemaRef,
    index: Option<&str>,
    span: Span,
) -> Result<RecordBatch, ArrowError> {
    let (c, n) = (carry.num_rows(), part.num_rows());
    // Where the kept rows start in `part`, and, when `part` alone is too short, in `carry`.
    let (from_part, from_carry) = match span {
        Span::Rows(w) => {
            let want = w - 1;
            if n >= want {
                (n - want, c)
            } else {
                (0, c.saturating_sub(want - n))
            }
        }
        Span::Time(d) => {
            let ix = index.unwrap_or_default();
            let part_ts = stamps(part, ix)?;
            let carry_ts = stamps(carry, ix)?;
            let Some(&last) = part_ts.values().last().or(carry_ts.values().last()) else {
                return Ok(carry.clone());
            };
            // Reaching back past the earliest time: every row may still be reached.
            let Some(cut) = last.checked_sub(d) else {
                return arrow_select::concat::concat_batches(schema, [carry, part]);
            };
            match part_ts.values().partition_point(|&t| t <= cut) {
                0 => (0, carry_ts.values().partition_point(|&t| t <= cut)),
                k => (k, c),
            }
        }
    };
    if from_carry == c {
        return Ok(part.slice(from_part, n - from_part));
    }
    let kept = carry.slice(from_carry, c - from_carry);
    arrow_select::concat::concat_batches(schema, [&kept, part])
}

/// The column `name` of `carry` then `part` as one run of floats, nulls read as NaN
/// (both are missing to every aggregate, as in pandas).
fn floats(carry: &RecordBatch, part: &RecordBatch, name: &str) -> Result<Vec<f64>, ArrowError> {
    let mut out = Vec::with_capacity(carry.num_rows() + part.num_rows());
    for batch in [carry, part] {
        let c = batch
            .column_by_name(name)
            .ok_or_else(|| ArrowError::SchemaError(format!("no column `{name}`")))?;
        let c = arrow_cast::cast(c.as_ref(), &DataType::Float64)?;
        let c = c
            .as_any()
            .downcast_ref::<Float64Array>()
            .ok_or_else(|| ArrowError::CastError("float64".into()))?;
        if c.null_count() == 0 {
            out.extend_from_slice(c.values());
        } else {
            out.extend(c.iter().map(|v| v.unwrap_or(f64::NAN)));
        }
    }
    Ok(out)
}

/// The windows ending at each row of `part`, reading back into `carry`: the batches are
/// never concatenated. A sum or mean of a float column without missing values reads the
/// two batches' values where they lie ([`slide_sum`]); other columns and aggregates copy
/// the carry's and the partition's values into one run first ([`floats`]).
fn window_part(
    carry: &RecordBatch,
    part: &RecordBatch,
    index: Option<&str>,
    span: Span,
    func: Func,
    out_schema: &SchemaRef,
) -> Result<RecordBatch, ArrowError> {
    let offset = carry.num_rows();
    // The index of carry and partition, for a time window: read in place, checked sorted.
    let (carry_ts, part_ts) = match span {
        Span::Rows(_) => (
            Int64Array::from(Vec::<i64>::new()),
            Int64Array::from(Vec::<i64>::new()),
        ),
        Span::Time(_) => {
            let ix = index.unwrap_or_default();
            let (c, p) = (stamps(carry, ix)?, stamps(part, ix)?);
            let junction = c.values().last().zip(p.values().first());
            let unsorted = c
                .values()
                .windows(2)
                .chain(p.values().windows(2))
                .map(|w| (w[0], w[1]))
                .chain(junction.map(|(&a, &b)| (a, b)))
                .find(|&(a, b)| b < a);
            if let Some((a, b)) = unsorted {
                return Err(ArrowError::InvalidArgumentError(format!(
                    "rolling: the index is not sorted ({b} after {a}); a time window needs a sorted index"
                )));
            }
            (c, p)
        }
    };
    let (carry_ts, part_ts) = (carry_ts.values(), part_ts.values());
    // The time of joined row `i` (carry then partition).
    let time = |i: usize| {
        if i < offset {
            carry_ts[i]
        } else {
            part_ts[i - offset]
        }
    };
    let mut columns: Vec<ArrayRef> = Vec::new();
    for f in out_schema.fields() {
        if Some(f.name().as_str()) == index {
            let c = part
                .column_by_name(f.name())
                .ok_or_else(|| ArrowError::SchemaError(format!("no column `{}`", f.name())))?;
            columns.push(c.clone());
            continue;
        }
        // The window's start for the row `i`, and the fewest values a window needs.
        let (rows_start, min_values) = match span {
            Span::Rows(w) => (w, w),
            Span::Time(_) => (0, 1),
        };
        let by_rows = move |i: usize| (i + 1).saturating_sub(rows_start);
        // The rows in `(t - d, t]`, at least one value: the start only moves on as the
        // (sorted) index does.
        let mut start = 0;
        let by_time = |i: usize| {
            let Span::Time(d) = span else { return 0 };
            // As `TimeStarts::start`: past the earliest time, no row leaves the window.
            let Some(cut) = time(i).checked_sub(d) else {
                return start;
            };
            while time(start) <= cut {
                start += 1;
            }
            start
        };
        if matches!(func, Func::Sum | Func::Mean) {
            if let Some((c, p)) = complete_floats(carry, part, f.name())? {
                let mean = func == Func::Mean;
                let sums = match span {
                    Span::Rows(w) => slide_sum(c, p, mean, RowStarts(w)),
                    Span::Time(d) => slide_sum(
                        c,
                        p,
                        mean,
                        TimeStarts {
                            carry: carry_ts,
                            part: part_ts,
                            span: d,
                            start: 0,
                        },
                    ),
                };
                // Without missing values, a window is short only at the start of the
                // data, where fewer than `min_values` rows precede it.
                let short = (offset + 1..min_values).take_while(|&rows| rows <= offset + p.len());
                let nulls = (short.clone().count() > 0).then(|| {
                    let mut valid = BooleanBufferBuilder::new(p.len());
                    valid.append_n(p.len(), true);
                    for rows in short {
                        valid.set_bit(rows - offset - 1, false);
                    }
                    NullBuffer::new(valid.finish())
                });
                columns.push(Arc::new(Float64Array::new(sums.into(), nulls)));
                continue;
            }
        }
        let values = floats(carry, part, f.name())?;
        let out = match span {
            Span::Rows(_) => slide_with(func, &values, offset, min_values, by_rows),
            Span::Time(_) => slide_with(func, &values, offset, min_values, by_time),
        };
        columns.push(Arc::new(out));
    }
    super::batch_with_rows(out_schema.clone(), columns, part.num_rows())
}

/// A column's values in the carry, then in the partition.
type CarryAndPart<'a> = (&'a [f64], &'a [f64]);

/// The column `name` of `carry` and of `part` as they lie, where both are float64
/// without a null or a NaN (the case [`slide_sum`] serves); `None` otherwise.
fn complete_floats<'a>(
    carry: &'a RecordBatch,
    part: &'a RecordBatch,
    name: &str,
) -> Result<Option<CarryAndPart<'a>>, ArrowError> {
    let complete = |batch: &'a RecordBatch| -> Result<Option<&'a [f64]>, ArrowError> {
        let c = batch
            .column_by_name(name)
            .ok_or_else(|| ArrowError::SchemaError(format!("no column `{name}`")))?;
        Ok(c.as_any()
            .downcast_ref::<Float64Array>()
            .filter(|a| a.null_count() == 0 && !a.values().iter().any(|v| v.is_nan()))
            .map(|a| &a.values()[..]))
    };
    Ok(complete(carry)?.zip(complete(part)?))
}

/// [`slide`] with the accumulator of `func`.
fn slide_with(
    func: Func,
    values: &[f64],
    offset: usize,
    min_values: usize,
    start_of: impl FnMut(usize) -> usize,
) -> Float64Array {
    match func {
        Func::Sum => slide::<Sum<false>>(values, offset, min_values, start_of),
        Func::Mean => slide::<Sum<true>>(values, offset, min_values, start_of),
        Func::Min => slide::<Extreme<true>>(values, offset, min_values, start_of),
        Func::Max => slide::<Extreme<false>>(values, offset, min_values, start_of),
        Func::Std => slide::<Std>(values, offset, min_values, start_of),
    }
}
