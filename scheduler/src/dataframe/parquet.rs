//! Parquet files, one partition each: `read_parquet(dir or file)` and
//! `DataFrame::to_parquet(dir)` through parquet's arrow reader and writer.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use arrow_schema::{DataType, Schema, SchemaRef};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;
use parquet::file::statistics::Statistics;

use super::error::DataFrameError;
use super::files::{glob, write_atomic};
use super::DataFrame;
use crate::Error;

/// The file metadata key naming the index column (what pandas keeps in its own
/// `pandas` metadata; ours is simpler).
const INDEX_KEY: &str = "dask.index";

/// Reads a Parquet file, or every `*.parquet` file of a directory (one partition each,
/// in natural order). The schema comes from the first file's metadata. Files written by
/// [`DataFrame::to_parquet`] keep their index, and where the index is an integer or
/// datetime column whose per-file statistics are in order, the divisions come from them
/// (each file's smallest value, then the last file's largest), as Dask's do.
///
/// A file naming two columns alike is refused with [`DataFrameError::Invalid`] naming
/// the file, the name and the columns' positions: unlike a CSV header, whose repeated
/// names `read_csv` renames as pandas does, a Parquet file's names are its typed schema,
/// and pandas itself reads them unchanged (as duplicate columns, which a dataframe
/// here cannot have: a lookup by name would find only the first).
pub fn read_parquet(path: impl AsRef<Path>) -> Result<DataFrame, Error> {
    let op = "read_parquet";
    let path = path.as_ref();
    let files = if path.is_dir() {
        glob(op, &path.join("*.parquet").to_string_lossy())?
    } else {
        glob(op, &path.to_string_lossy())?
    };
    let io = |p: &Path, why: String| DataFrameError::Io {
        op,
        path: p.display().to_string(),
        why,
    };
    let first = std::fs::File::open(&files[0]).map_err(|e| io(&files[0], e.to_string()))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(first)
        .map_err(|e| io(&files[0], e.to_string()))?;
    // Without the file's key-value metadata: partitions of one table compare equal
    // however they were loaded.
    let schema: SchemaRef = Arc::new(Schema::new(builder.schema().fields().clone()));
    if let Some(why) = super::repeated_column(&schema) {
        return Err(DataFrameError::Invalid {
            op,
            why: format!("{}: {why}", files[0].display()),
        }
        .into());
    }
    let index = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|kv| kv.key == INDEX_KEY))
        .and_then(|kv| kv.value.clone())
        .filter(|name| schema.field_with_name(name).is_ok());
    let divisions = match &index {
        Some(name) => divisions(&files, &schema, name),
        None => None,
    };
    let parts = files
        .into_iter()
        .map(|file| {
            let schema = schema.clone();
            let key = file.display().to_string();
            super::task::try_task::<(), _, _, _>("read-parquet", key, &[], move |_| {
                read_one(&file, &schema)
            })
        })
        .collect();
    Ok(DataFrame::from_parts(
        parts,
        schema,
        index,
        divisions,
        "read-parquet",
    ))
}

/// The divisions of `column` from each file's statistics, when every file has them and
/// they are in order.
fn divisions(files: &[PathBuf], schema: &SchemaRef, column: &str) -> Option<ArrayRef> {
    let at = schema.index_of(column).ok()?;
    let target = schema.field(at).data_type().clone();
    if !(target.is_integer() || matches!(target, DataType::Timestamp(..))) {
        return None;
    }
    let mut bounds: Vec<(i64, i64)> = Vec::new();
    for file in files {
        let meta =
            ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(file).ok()?).ok()?;
        let mut lo_hi: Option<(i64, i64)> = None;
        for rg in meta.metadata().row_groups() {
            let (lo, hi) = match rg.column(at).statistics()? {
                Statistics::Int64(s) => (*s.min_opt()?, *s.max_opt()?),
                Statistics::Int32(s) => (i64::from(*s.min_opt()?), i64::from(*s.max_opt()?)),
                _ => return None,
            };
            lo_hi = Some(lo_hi.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
        }
        bounds.push(lo_hi?);
    }
    if bounds.windows(2).any(|w| w[0].1 > w[1].0) {
        return None;
    }
    let mut values: Vec<i64> = bounds.iter().map(|b| b.0).collect();
    values.push(bounds.last()?.1);
    arrow_cast::cast(&Int64Array::from(values), &target).ok()
}

fn read_one(path: &Path, schema: &SchemaRef) -> Result<RecordBatch, String> {
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let file = std::fs::File::open(path).map_err(|e| fail(&e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| fail(&e))?
        .build()
        .map_err(|e| fail(&e))?;
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(&e))?;
    if let Some(b) = batches.first() {
        if b.schema().fields() != schema.fields() {
            return Err(fail(&"the columns differ from the first file's"));
        }
    }
    arrow_select::concat::concat_batches(schema, &batches).map_err(|e| fail(&e))
}

impl DataFrame {
    /// Writes one Parquet file per partition into the directory `dir`
    /// (`part.0.parquet`, ...; Snappy-compressed), each under a temporary name renamed
    /// into place. Returns the paths.
    ///
    /// A dataframe of no columns (every column dropped) is refused before anything is
    /// written: parquet's writer counts a row group's rows from its columns, so the
    /// files would read back with no rows.
    pub fn to_parquet(&self, dir: impl AsRef<Path>) -> Result<Vec<PathBuf>, Error> {
        let dir = dir.as_ref();
        if self.frame()?.schema.fields().is_empty() {
            return Err(DataFrameError::Invalid {
                op: "to_parquet",
                why: "the dataframe has no columns; parquet's writer keeps no row count \
                      without a column, so its rows would be lost: keep or add a column \
                      first"
                    .into(),
            }
            .into());
        }
        std::fs::create_dir_all(dir).map_err(|e| DataFrameError::Io {
            op: "to_parquet",
            path: dir.display().to_string(),
            why: e.to_string(),
        })?;
        let writes: Vec<_> = self
            .to_delayed()
            .iter()
            .enumerate()
            .map(|(i, part)| {
                let target = dir.join(format!("part.{i}.parquet"));
                let index = self.index().map(str::to_string);
                super::task::try_task(
                    "to-parquet",
                    target.display().to_string(),
                    std::slice::from_ref(part),
                    move |b: &[&RecordBatch]| {
                        write_atomic(&target, |file| {
                            let props = parquet::file::properties::WriterProperties::builder()
                                .set_compression(parquet::basic::Compression::SNAPPY)
                                .set_key_value_metadata(
                                    index
                                        .clone()
                                        .map(|ix| vec![KeyValue::new(INDEX_KEY.to_string(), ix)]),
                                )
                                .build();
                            let fail =
                                |e: &dyn std::fmt::Display| format!("{}: {e}", target.display());
                            let mut w =
                                ArrowWriter::try_new(file, Arc::clone(&b[0].schema()), Some(props))
                                    .map_err(|e| fail(&e))?;
                            w.write(b[0]).map_err(|e| fail(&e))?;
                            w.close().map(|_| ()).map_err(|e| fail(&e))
                        })
                        .map(|()| target.clone())
                    },
                )
            })
            .collect();
        crate::compute(&writes)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
    use parquet::arrow::ArrowWriter;

    #[test]
    fn a_file_naming_two_columns_alike_is_refused_naming_them() {
        // `from_batches` refuses such batches, so `to_parquet` cannot write this file;
        // other writers can (Parquet itself does not forbid it).
        let dir = std::env::temp_dir().join(format!("dask-pq-dup-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("dup.parquet");
        let batch = RecordBatch::try_from_iter([
            ("a", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
            ("b", Arc::new(Int64Array::from(vec![3, 4])) as ArrayRef),
            (
                "a",
                Arc::new(Float64Array::from(vec![0.5, 1.5])) as ArrayRef,
            ),
        ])
        .unwrap();
        let file = std::fs::File::create(&path).unwrap();
        let mut w = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let err = super::read_parquet(&path).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "`read_parquet`: {}: columns 0 and 2 are both named `a`; a dataframe's \
                 column names must be unique",
                path.display()
            )
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
