//! Sorting across partitions: `sort_values(by)` and `set_index(column)`, a range
//! shuffle as Dask does it. Each partition is sorted on its own; a sample of each sorted
//! partition gives approximate quantiles of the first sort key, which cut the key's range
//! into output ranges; output partition `j` gathers its range from every sorted
//! partition (a binary search in each, so a slice, not a scan) and sorts the pieces.
//! Equal keys never straddle two outputs. Nulls sort last, as pandas' `na_position`.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch};
use arrow_ord::sort::{lexsort_to_indices, SortColumn};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, SortOptions};

use super::error::DataFrameError;
use super::expr::describe_columns;
use super::task::try_task;
use super::DataFrame;
use crate::{Delayed, Error};

/// Sample values taken from each sorted partition for the quantiles.
const SAMPLES: usize = 1000;

/// One sort key: a column and its direction.
#[derive(Clone, Debug, Hash)]
struct Key {
    column: String,
    descending: bool,
}

impl Key {
    fn options(&self) -> SortOptions {
        SortOptions {
            descending: self.descending,
            nulls_first: false,
        }
    }
}

impl DataFrame {
    /// The rows sorted by the columns `by` (ascending; nulls last), across partitions
    /// (Dask's `sort_values`): as many partitions as now, in order, each sorted. Lazy:
    /// the quantiles that cut the ranges are a task of the graph. The index column stays
    /// a column; divisions become unknown.
    pub fn sort_values<S: Into<String>>(&self, by: impl IntoIterator<Item = S>) -> DataFrame {
        self.sort_values_by(by.into_iter().map(|c| (c, true)))
    }

    /// [`sort_values`](Self::sort_values) with a direction per column: `(column,
    /// ascending)` pairs (SQL's `ORDER BY a, b DESC`).
    pub fn sort_values_by<S: Into<String>>(
        &self,
        by: impl IntoIterator<Item = (S, bool)>,
    ) -> DataFrame {
        let keys: Vec<Key> = by
            .into_iter()
            .map(|(c, ascending)| Key {
                column: c.into(),
                descending: !ascending,
            })
            .collect();
        let frame = match self.frame() {
            Ok(f) => f,
            Err(_) => return self.clone(),
        };
        let n = frame.base.len();
        if let Err(e) = check_keys("sort_values", &frame.schema, &keys)
            .and_then(|()| super::limits::check_sorted_partitions("sort_values", n))
        {
            return DataFrame::invalid(e);
        }
        let sorted = sorted_parts(frame.output_parts(), &keys);
        let bounds = boundaries(&sorted, &keys, n, &frame.schema);
        let parts = gather(&sorted, &bounds, &keys, n, &frame.schema);
        DataFrame::from_parts(
            parts,
            frame.schema.clone(),
            frame.index.clone(),
            None,
            "sort-values",
        )
    }

    /// This dataframe indexed by `column`, sorted by it across partitions, with known
    /// divisions (Dask's `set_index`): the column moves first and becomes the index. As
    /// in Dask, the divisions are computed now (the quantiles of the column, one pass
    /// over the partitions); the shuffle itself stays lazy. As many partitions as now,
    /// fewer when the column has fewer distinct values. Rows whose value is null sort
    /// last, into the last partition.
    pub fn set_index(&self, column: &str) -> Result<DataFrame, Error> {
        let frame = self.frame()?;
        let keys = vec![Key {
            column: column.to_string(),
            descending: false,
        }];
        check_keys("set_index", &frame.schema, &keys)?;
        // The index first, as pandas shows it.
        let index_field = frame
            .schema
            .field(frame.schema.index_of(column).unwrap_or(0));
        let mut fields: Vec<Field> = vec![index_field.clone()];
        fields.extend(
            frame
                .schema
                .fields()
                .iter()
                .filter(|f| f.name() != column)
                .map(|f| f.as_ref().clone()),
        );
        let schema: SchemaRef = Arc::new(Schema::new(fields));
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let reordered = self.select(names);
        let frame = reordered.frame()?;
        let n = frame.base.len();
        super::limits::check_sorted_partitions("set_index", n)?;
        let sorted = sorted_parts(frame.output_parts(), &keys);
        let bounds = boundaries(&sorted, &keys, n, &schema).compute()?;
        if bounds.num_rows() == 0 {
            // No value at all: one partition, divisions unknown.
            let parts = gather(&sorted, &crate::delayed(bounds), &keys, 1, &schema);
            return Ok(DataFrame::from_parts(
                parts,
                schema,
                Some(column.to_string()),
                None,
                "set-index",
            ));
        }
        let divisions = bounds.column(0).clone();
        let outputs = divisions.len() - 1;
        let parts = gather(&sorted, &crate::delayed(bounds), &keys, outputs, &schema);
        Ok(DataFrame::from_parts(
            parts,
            schema,
            Some(column.to_string()),
            Some(divisions),
            "set-index",
        ))
    }
}

/// The keys exist and can be sorted.
fn check_keys(op: &'static str, schema: &Schema, keys: &[Key]) -> Result<(), DataFrameError> {
    if keys.is_empty() {
        return Err(DataFrameError::Invalid {
            op,
            why: "no column to sort by".into(),
        });
    }
    for k in keys {
        let f = schema
            .field_with_name(&k.column)
            .map_err(|_| DataFrameError::UnknownColumn {
                op,
                column: k.column.clone(),
                available: describe_columns(schema),
            })?;
        let t = f.data_type();
        let sortable = t.is_primitive()
            || matches!(
                t,
                DataType::Boolean | DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            );
        if !sortable {
            return Err(DataFrameError::TypeMismatch {
                op,
                expr: k.column.clone(),
                why: format!("cannot sort by a {} column", super::expr::dtype_name(t)),
                available: describe_columns(schema),
            });
        }
    }
    Ok(())
}

fn sort_columns(batch: &RecordBatch, keys: &[Key]) -> Result<Vec<SortColumn>, ArrowError> {
    keys.iter()
        .map(|k| {
            let values = batch
                .column_by_name(&k.column)
                .ok_or_else(|| ArrowError::SchemaError(format!("no column `{}`", k.column)))?
                .clone();
            Ok(SortColumn {
                values,
                options: Some(k.options()),
            })
        })
        .collect()
}

fn sort_batch(batch: &RecordBatch, keys: &[Key]) -> Result<RecordBatch, ArrowError> {
    if batch.num_rows() < 2 {
        return Ok(batch.clone());
    }
    let order = lexsort_to_indices(&sort_columns(batch, keys)?, None)?;
    arrow_select::take::take_record_batch(batch, &order)
}

/// Each partition sorted by the keys.
fn sorted_parts(parts: &[Delayed<RecordBatch>], keys: &[Key]) -> Vec<Delayed<RecordBatch>> {
    parts
        .iter()
        .map(|p| {
            let k = keys.to_vec();
            try_task(
                "sort-partition",
                keys,
                std::slice::from_ref(p),
                move |b: &[&RecordBatch]| sort_batch(b[0], &k),
            )
        })
        .collect()
}

/// The first key's cut values as a one-column batch: the smallest value, the values
/// that cut it into `n` ranges of about equal row counts (strictly increasing), and the
/// largest value. Empty when the column has no value (or there are no partitions).
fn boundaries(
    sorted: &[Delayed<RecordBatch>],
    keys: &[Key],
    n: usize,
    schema: &Schema,
) -> Delayed<RecordBatch> {
    let first = keys[0].clone();
    // The cut values' type from the schema, not from a sample: a dataframe of no
    // partitions has no sample to read it from.
    let value_type = schema
        .field_with_name(&first.column)
        .map(|f| f.data_type().clone())
        .unwrap_or(DataType::Null);
    let samples: Vec<Delayed<RecordBatch>> = sorted
        .iter()
        .map(|p| {
            let k = first.clone();
            try_task(
                "sort-sample",
                (&first, SAMPLES),
                std::slice::from_ref(p),
                move |b: &[&RecordBatch]| sample(b[0], &k),
            )
        })
        .collect();
    let tag = (first.clone(), n);
    try_task(
        "sort-quantiles",
        tag,
        &samples,
        move |b: &[&RecordBatch]| quantiles(b, &first, n, &value_type),
    )
}

/// Up to [`SAMPLES`] values of a sorted partition's non-null key, evenly spaced with its
/// first and last, each weighted by the rows it stands for.
fn sample(batch: &RecordBatch, key: &Key) -> Result<RecordBatch, ArrowError> {
    let column = batch
        .column_by_name(&key.column)
        .ok_or_else(|| ArrowError::SchemaError(format!("no column `{}`", key.column)))?;
    // Nulls are last: the values are the first `valid` rows.
    let valid = column.len() - column.null_count();
    let take = valid.min(SAMPLES);
    let positions: Vec<u32> = (0..take)
        .map(|i| {
            if take == 1 {
                0
            } else {
                (i * (valid - 1) / (take - 1)) as u32
            }
        })
        .collect();
    let values = arrow_select::take::take(
        column.as_ref(),
        &arrow_array::UInt32Array::from(positions),
        None,
    )?;
    let weight = if take == 0 {
        0.0
    } else {
        valid as f64 / take as f64
    };
    let weights = Float64Array::from(vec![weight; take]);
    let schema = Arc::new(Schema::new(vec![
        Field::new("value", column.data_type().clone(), true),
        Field::new("weight", DataType::Float64, false),
    ]));
    RecordBatch::try_new(schema, vec![values, Arc::new(weights)])
}

/// The cut values of the samples of every partition (see [`boundaries`]); none, of
/// `value_type`, where there are no samples.
fn quantiles(
    samples: &[&RecordBatch],
    key: &Key,
    n: usize,
    value_type: &DataType,
) -> Result<RecordBatch, ArrowError> {
    let Some(first) = samples.first() else {
        let field = Field::new("value", value_type.clone(), true);
        return Ok(RecordBatch::new_empty(Arc::new(Schema::new(vec![field]))));
    };
    // Typed as the samples are when there are some: as before, whatever the schema says.
    let schema = first.schema();
    let all = arrow_select::concat::concat_batches(&schema, samples.iter().copied())?;
    let out_schema = Arc::new(Schema::new(vec![schema.field(0).clone()]));
    if all.num_rows() == 0 {
        return Ok(RecordBatch::new_empty(out_schema));
    }
    let order = lexsort_to_indices(
        &[SortColumn {
            values: all.column(0).clone(),
            options: Some(key.options()),
        }],
        None,
    )?;
    let values = arrow_select::take::take(all.column(0).as_ref(), &order, None)?;
    let weights = arrow_select::take::take(all.column(1).as_ref(), &order, None)?;
    let weights = weights
        .as_any()
        .downcast_ref::<Float64Array>()
        .ok_or_else(|| ArrowError::CastError("weights".into()))?;
    let total: f64 = weights.values().iter().sum();
    let cmp = arrow_ord::ord::make_comparator(values.as_ref(), values.as_ref(), key.options())?;
    // Positions in `values`: the first, the cuts, then the last.
    let mut picks: Vec<u32> = vec![0];
    let mut seen = 0.0;
    let mut q = 1;
    for (i, w) in weights.values().iter().enumerate() {
        while q < n && seen >= total * q as f64 / n as f64 {
            let last = *picks.last().unwrap_or(&0) as usize;
            if cmp(i, last).is_gt() {
                picks.push(i as u32);
            }
            q += 1;
        }
        seen += w;
    }
    picks.push((values.len() - 1) as u32);
    let picked = arrow_select::take::take(
        values.as_ref(),
        &arrow_array::UInt32Array::from(picks),
        None,
    )?;
    RecordBatch::try_new(out_schema, vec![picked])
}

/// `n` outputs: output `j` holds the rows of every sorted partition whose first key lies
/// between cut `j` (included) and cut `j + 1` (excluded), sorted; the last takes the rest.
fn gather(
    sorted: &[Delayed<RecordBatch>],
    bounds: &Delayed<RecordBatch>,
    keys: &[Key],
    n: usize,
    schema: &SchemaRef,
) -> Vec<Delayed<RecordBatch>> {
    let mut inputs = vec![bounds.clone()];
    inputs.extend(sorted.iter().cloned());
    (0..n)
        .map(|j| {
            let (k, s) = (keys.to_vec(), schema.clone());
            try_task(
                "sort-gather",
                (keys, j, n),
                &inputs,
                move |b: &[&RecordBatch]| gather_one(b[0], &b[1..], &k, j, n, &s),
            )
        })
        .collect()
}

fn gather_one(
    bounds: &RecordBatch,
    sorted: &[&RecordBatch],
    keys: &[Key],
    j: usize,
    n: usize,
    schema: &SchemaRef,
) -> Result<RecordBatch, ArrowError> {
    // Bound rows: the smallest value, cuts 1..=m, the largest. There are at most
    // `n - 1` cuts, fewer where values repeat: outputs past cut `m` stay empty.
    let m = bounds.num_rows().saturating_sub(2).min(n - 1);
    if j > m {
        return Ok(RecordBatch::new_empty(schema.clone()));
    }
    let cut = |c: usize| bounds.column(0).slice(c, 1);
    let mut pieces = Vec::with_capacity(sorted.len());
    for batch in sorted {
        let column = batch
            .column_by_name(&keys[0].column)
            .ok_or_else(|| ArrowError::SchemaError(format!("no column `{}`", keys[0].column)))?;
        let start = if j == 0 {
            0
        } else {
            first_not_before(column, &cut(j), &keys[0])?
        };
        let end = if j < m {
            first_not_before(column, &cut(j + 1), &keys[0])?
        } else {
            column.len()
        };
        if end > start {
            pieces.push(batch.slice(start, end - start));
        }
    }
    let all = arrow_select::concat::concat_batches(schema, &pieces)?;
    sort_batch(&all, keys)
}

/// The first row of a column sorted by `key` that does not sort before `value`.
fn first_not_before(column: &ArrayRef, value: &ArrayRef, key: &Key) -> Result<usize, ArrowError> {
    let cmp = arrow_ord::ord::make_comparator(column.as_ref(), value.as_ref(), key.options())?;
    let (mut lo, mut hi) = (0, column.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if cmp(mid, 0).is_lt() {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Int64Array;

    fn ints(v: Vec<Option<i64>>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, true)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(v))]).unwrap()
    }

    #[test]
    fn quantiles_cut_into_strictly_increasing_ranges() {
        let key = Key {
            column: "k".into(),
            descending: false,
        };
        let a = sample(&ints((0..100).map(Some).collect()), &key).unwrap();
        let b = sample(&ints(vec![Some(5); 100]), &key).unwrap();
        let q = quantiles(&[&a, &b], &key, 4, &DataType::Int64).unwrap();
        let v: Vec<i64> = q
            .column(0)
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .values()
            .to_vec();
        assert_eq!(v.first(), Some(&0));
        assert_eq!(v.last(), Some(&99));
        assert!(v[..v.len() - 1].windows(2).all(|w| w[0] < w[1]), "{v:?}");
        // Nulls are not values.
        let c = sample(&ints(vec![Some(1), None, None]), &key).unwrap();
        assert_eq!(c.num_rows(), 1);
    }
}
