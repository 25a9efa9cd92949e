//! `ORDER BY`, `ORDER BY .. LIMIT k` and `LIMIT` over partitions. A top-k sorts each
//! partition and keeps its first k rows, then merges those as a tree (each merge keeps
//! k), so no task ever holds more than `SPLIT_EVERY * k` rows; a full sort gathers the
//! partitions into one.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_ord::sort::{lexsort_to_indices, SortColumn, SortOptions};
use arrow_schema::{ArrowError, SchemaRef};

use super::error::SqlError;
use super::plan::SortKey;
use crate::dataframe::reduce::try_tree;
use crate::dataframe::DataFrame;

/// The rows of `batch` in the order of `keys`.
pub(crate) fn sort_batch(batch: &RecordBatch, keys: &[SortKey]) -> Result<RecordBatch, ArrowError> {
    if batch.num_rows() < 2 {
        return Ok(batch.clone());
    }
    let columns = keys
        .iter()
        .map(|k| {
            let values = batch
                .column_by_name(&k.column)
                .ok_or_else(|| ArrowError::SchemaError(format!("no column `{}`", k.column)))?;
            Ok(SortColumn {
                values: values.clone(),
                options: Some(SortOptions {
                    descending: k.descending,
                    nulls_first: k.nulls_first,
                }),
            })
        })
        .collect::<Result<Vec<_>, ArrowError>>()?;
    let order = lexsort_to_indices(&columns, None)?;
    arrow_select::take::take_record_batch(batch, &order)
}

/// One batch of `batches` (all of `schema`).
fn concat(schema: &SchemaRef, batches: &[&RecordBatch]) -> Result<RecordBatch, ArrowError> {
    arrow_select::concat::concat_batches(schema, batches.iter().copied())
}

/// The rows of `batch` from `offset` on, at most `n` of them.
fn window(batch: &RecordBatch, offset: usize, n: usize) -> RecordBatch {
    let start = offset.min(batch.num_rows());
    batch.slice(start, n.min(batch.num_rows() - start))
}

/// `df` sorted by `keys`, the first `offset` rows skipped and cut to the next `limit`
/// rows when given: one partition.
pub(crate) fn sort(
    df: &DataFrame,
    keys: &[SortKey],
    limit: Option<usize>,
    offset: usize,
) -> Result<DataFrame, SqlError> {
    let schema = df.schema();
    let keys: Arc<Vec<SortKey>> = Arc::new(keys.to_vec());
    let node = match limit {
        Some(limit) => {
            // The rows skipped are among the top ones: each partition keeps them too.
            let k = limit.saturating_add(offset);
            let ks = keys.clone();
            let tops = df.map_partitions("sql-topk", ((*keys).clone(), k), move |b| {
                let sorted = sort_batch(b, &ks)?;
                Ok(sorted.slice(0, k.min(sorted.num_rows())))
            })?;
            let (ks, s) = (keys.clone(), schema.clone());
            let merged = try_tree(
                "sql-topk-merge",
                ((*keys).clone(), k),
                tops,
                move |parts: &[&RecordBatch]| {
                    let sorted = sort_batch(&concat(&s, parts)?, &ks)?;
                    Ok::<_, ArrowError>(sorted.slice(0, k.min(sorted.num_rows())))
                },
            );
            if offset == 0 {
                merged
            } else {
                crate::try_map_many_pure(
                    "sql-offset",
                    (offset, limit),
                    &[merged],
                    move |b: &[&RecordBatch]| Ok::<_, ArrowError>(window(b[0], offset, limit)),
                )
            }
        }
        None => {
            let (ks, s) = (keys.clone(), schema.clone());
            let parts = df.to_delayed();
            crate::try_map_many_pure(
                "sql-sort",
                ((*keys).clone(), offset),
                &parts,
                move |b: &[&RecordBatch]| {
                    let sorted = sort_batch(&concat(&s, b)?, &ks)?;
                    Ok::<_, ArrowError>(window(&sorted, offset, usize::MAX))
                },
            )
        }
    };
    Ok(DataFrame::from_parts(
        vec![node],
        schema,
        None,
        None,
        "sql-sort",
    ))
}

/// The first `n` rows of `df` in partition order after the first `offset`: one
/// partition.
pub(crate) fn limit(df: &DataFrame, n: usize, offset: usize) -> Result<DataFrame, SqlError> {
    let schema = df.schema();
    let head = n.saturating_add(offset);
    let heads = df.map_partitions("sql-limit-chunk", head, move |b| {
        Ok(b.slice(0, head.min(b.num_rows())))
    })?;
    let s = schema.clone();
    let node = crate::try_map_many_pure(
        "sql-limit",
        (n, offset),
        &heads,
        move |b: &[&RecordBatch]| Ok::<_, ArrowError>(window(&concat(&s, b)?, offset, n)),
    );
    Ok(DataFrame::from_parts(
        vec![node],
        schema,
        None,
        None,
        "sql-limit",
    ))
}
