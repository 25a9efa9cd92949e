//! Reads of registered CSV and Parquet files with the optimizer's pushdowns: only the
//! columns the query uses are decoded, filters run in the read task, and a Parquet row
//! group whose min/max statistics rule a filter out is not read at all.
//!
//! `dask::dataframe::read_csv` narrows to the columns a fused select reads, but neither
//! it nor `read_parquet` takes a predicate or skips row groups, so SQL scans of files use
//! these readers of their own; a table registered from a dataframe is scanned with
//! `filter` and `select` instead.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Array, BooleanArray, RecordBatch};
use arrow_schema::{ArrowError, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use parquet::file::metadata::ParquetMetaData;
use parquet::file::statistics::Statistics;

use super::error::SqlError;
use crate::dataframe::{BinOp, DataFrame, Expr, Lit};

/// The file format of a scan.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub(crate) enum Format {
    Csv,
    Parquet,
}

/// A dataframe over `files` (one partition each) with `columns` of `schema` (table
/// order), keeping the rows where every filter holds.
pub(crate) fn scan(
    format: Format,
    files: &[PathBuf],
    schema: &SchemaRef,
    columns: &[String],
    filters: &[Expr],
) -> Result<DataFrame, SqlError> {
    // Decode the output columns and those the filters read, in file order.
    let read: Vec<usize> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            columns.contains(f.name())
                || filters
                    .iter()
                    .any(|e| e.columns().contains(&f.name().as_str()))
        })
        .map(|(i, _)| i)
        .collect();
    let read_schema: SchemaRef = Arc::new(
        schema
            .project(&read)
            .map_err(|e| SqlError::invalid(e.to_string()))?,
    );
    let out: Vec<usize> = read
        .iter()
        .enumerate()
        .filter(|(_, &i)| columns.contains(schema.field(i).name()))
        .map(|(j, _)| j)
        .collect();
    let out_schema: SchemaRef = Arc::new(
        read_schema
            .project(&out)
            .map_err(|e| SqlError::invalid(e.to_string()))?,
    );
    for e in filters {
        e.data_type(&read_schema, "sql scan")?;
    }
    let parts = files
        .iter()
        .map(|path| {
            let (path, read, read_schema, out, filters, full) = (
                path.clone(),
                read.clone(),
                read_schema.clone(),
                out.clone(),
                filters.to_vec(),
                schema.clone(),
            );
            let key = (
                path.display().to_string(),
                format,
                read.clone(),
                out.clone(),
                filters.clone(),
            );
            let name = match format {
                Format::Csv => "sql-read-csv",
                Format::Parquet => "sql-read-parquet",
            };
            crate::try_map_many_pure::<(), _, _, _>(name, key, &[], move |_| {
                let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
                let batch = match format {
                    Format::Csv => read_csv(&path, &full, &read, &read_schema),
                    Format::Parquet => read_parquet(&path, &read, &read_schema, &filters),
                }
                .map_err(|e| fail(&e))?;
                let batch = apply_filters(&batch, &filters).map_err(|e| fail(&e))?;
                batch.project(&out).map_err(|e| fail(&e))
            })
        })
        .collect();
    let label = match format {
        Format::Csv => "sql-read-csv",
        Format::Parquet => "sql-read-parquet",
    };
    Ok(DataFrame::from_parts(parts, out_schema, None, None, label))
}

fn apply_filters(batch: &RecordBatch, filters: &[Expr]) -> Result<RecordBatch, ArrowError> {
    let mut out = batch.clone();
    for e in filters {
        let mask = e.evaluate(&out)?;
        let mask = mask
            .as_any()
            .downcast_ref::<BooleanArray>()
            .ok_or_else(|| ArrowError::InvalidArgumentError(format!("`{e}` is not boolean")))?
            .clone();
        out = arrow_select::filter::filter_record_batch(&out, &mask)?;
    }
    Ok(out)
}

fn read_csv(
    path: &Path,
    full: &SchemaRef,
    read: &[usize],
    read_schema: &SchemaRef,
) -> Result<RecordBatch, ArrowError> {
    let file = std::fs::File::open(path).map_err(|e| ArrowError::IoError(e.to_string(), e))?;
    // The reader is given the whole file's schema and decodes only the projection.
    let reader = arrow_csv::ReaderBuilder::new(full.clone())
        .with_header(true)
        .with_projection(read.to_vec())
        .build(file)?;
    let batches = reader.collect::<Result<Vec<_>, _>>()?;
    let batches: Vec<RecordBatch> = batches
        .into_iter()
        .map(|b| RecordBatch::try_new(read_schema.clone(), b.columns().to_vec()))
        .collect::<Result<_, _>>()?;
    arrow_select::concat::concat_batches(read_schema, &batches)
}

fn read_parquet(
    path: &Path,
    read: &[usize],
    read_schema: &SchemaRef,
    filters: &[Expr],
) -> Result<RecordBatch, ArrowError> {
    let file = std::fs::File::open(path).map_err(|e| ArrowError::IoError(e.to_string(), e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| ArrowError::ExternalError(Box::new(e)))?;
    let keep = row_groups(builder.metadata(), &builder.schema().clone(), filters);
    let mask = ProjectionMask::roots(builder.parquet_schema(), read.iter().copied());
    let reader = builder
        .with_projection(mask)
        .with_row_groups(keep)
        .build()
        .map_err(|e| ArrowError::ExternalError(Box::new(e)))?;
    let batches = reader.collect::<Result<Vec<_>, _>>()?;
    let batches: Vec<RecordBatch> = batches
        .into_iter()
        .map(|b| RecordBatch::try_new(read_schema.clone(), b.columns().to_vec()))
        .collect::<Result<_, _>>()?;
    arrow_select::concat::concat_batches(read_schema, &batches)
}

/// The row groups of a Parquet file that may hold rows passing `filters`: a group is
/// skipped when a conjunct `column op number` cannot hold for any value between the
/// column's min and max in that group.
pub(crate) fn row_groups(
    meta: &ParquetMetaData,
    schema: &SchemaRef,
    filters: &[Expr],
) -> Vec<usize> {
    (0..meta.num_row_groups())
        .filter(|&g| {
            let rg = meta.row_group(g);
            filters.iter().all(|e| {
                let Some((column, op, value)) = comparison(e) else {
                    return true;
                };
                let Ok(i) = schema.index_of(column) else {
                    return true;
                };
                let Some((lo, hi)) = rg
                    .columns()
                    .get(i)
                    .and_then(|c| c.statistics())
                    .and_then(min_max)
                else {
                    return true;
                };
                match op {
                    BinOp::Gt => hi > value,
                    BinOp::GtEq => hi >= value,
                    BinOp::Lt => lo < value,
                    BinOp::LtEq => lo <= value,
                    BinOp::Eq => lo <= value && value <= hi,
                    _ => true,
                }
            })
        })
        .collect()
}

/// `column op number`, with the comparison turned around when the number is on the left.
fn comparison(e: &Expr) -> Option<(&str, BinOp, f64)> {
    let Expr::Binary { op, left, right } = e else {
        return None;
    };
    let num = |l: &Lit| match l {
        Lit::Int(i) => Some(*i as f64),
        Lit::Float(f) => Some(*f),
        _ => None,
    };
    match (left.as_ref(), right.as_ref()) {
        (Expr::Column(c), Expr::Literal(l)) => Some((c, *op, num(l)?)),
        (Expr::Literal(l), Expr::Column(c)) => {
            let flipped = match op {
                BinOp::Gt => BinOp::Lt,
                BinOp::GtEq => BinOp::LtEq,
                BinOp::Lt => BinOp::Gt,
                BinOp::LtEq => BinOp::GtEq,
                other => *other,
            };
            Some((c, flipped, num(l)?))
        }
        _ => None,
    }
}

fn min_max(s: &Statistics) -> Option<(f64, f64)> {
    Some(match s {
        Statistics::Int32(s) => (f64::from(*s.min_opt()?), f64::from(*s.max_opt()?)),
        Statistics::Int64(s) => (*s.min_opt()? as f64, *s.max_opt()? as f64),
        Statistics::Float(s) => (f64::from(*s.min_opt()?), f64::from(*s.max_opt()?)),
        Statistics::Double(s) => (*s.min_opt()?, *s.max_opt()?),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataframe::{col, lit};
    use arrow_array::{ArrayRef, Int64Array};
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;

    /// A Parquet file of `v` = 0..100 in row groups of 10, and its reader's metadata.
    fn file(name: &str) -> (PathBuf, ParquetMetaData, SchemaRef) {
        let path =
            std::env::temp_dir().join(format!("dask-sql-rg-{name}-{}.parquet", std::process::id()));
        let batch = RecordBatch::try_from_iter([(
            "v",
            Arc::new(Int64Array::from_iter_values(0..100)) as ArrayRef,
        )])
        .unwrap();
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(10))
            .build();
        let mut w = ArrowWriter::try_new(
            std::fs::File::create(&path).unwrap(),
            batch.schema(),
            Some(props),
        )
        .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let b =
            ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap()).unwrap();
        let (meta, schema) = (b.metadata().as_ref().clone(), b.schema().clone());
        (path, meta, schema)
    }

    #[test]
    fn row_groups_ruled_out_by_statistics_are_skipped() {
        let (path, meta, schema) = file("skip");
        assert_eq!(meta.num_row_groups(), 10);
        assert_eq!(
            row_groups(&meta, &schema, &[col("v").gt_eq(lit(85))]),
            vec![8, 9]
        );
        assert_eq!(
            row_groups(&meta, &schema, &[lit(15).gt(col("v"))]),
            vec![0, 1]
        );
        assert_eq!(
            row_groups(
                &meta,
                &schema,
                &[col("v").eq(lit(42)), col("v").lt(lit(50))]
            ),
            vec![4]
        );
        assert!(row_groups(&meta, &schema, &[col("v").gt(lit(1000))]).is_empty());
        // What the statistics cannot decide keeps every group.
        assert_eq!(
            row_groups(&meta, &schema, &[col("v").neq(lit(3))]).len(),
            10
        );
        // And the scan reads only the groups kept: 5 rows of group 9.
        let df = scan(
            Format::Parquet,
            std::slice::from_ref(&path),
            &schema,
            &["v".to_string()],
            &[col("v").gt(lit(94))],
        )
        .unwrap();
        assert_eq!(df.compute().unwrap().num_rows(), 5);
        let _ = std::fs::remove_file(&path);
    }
}
