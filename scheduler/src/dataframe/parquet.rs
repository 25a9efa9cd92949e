//! Parquet files, one partition each: `read_parquet(dir or file)` and
//! `DataFrame::to_parquet(dir)` through parquet's arrow reader and writer.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;

use super::error::DataFrameError;
use super::files::{glob, write_atomic};
use super::DataFrame;
use crate::Error;

/// Reads a Parquet file, or every `*.parquet` file of a directory (one partition each,
/// in natural order). The schema comes from the first file's metadata.
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
    let schema: SchemaRef = ParquetRecordBatchReaderBuilder::try_new(first)
        .map_err(|e| io(&files[0], e.to_string()))?
        .schema()
        .clone();
    let parts = files
        .into_iter()
        .map(|file| {
            let schema = schema.clone();
            let key = file.display().to_string();
            crate::try_map_many_pure::<(), _, _, _>("read-parquet", key, &[], move |_| {
                read_one(&file, &schema)
            })
        })
        .collect();
    Ok(DataFrame::from_parts(
        parts,
        schema,
        None,
        None,
        "read-parquet",
    ))
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
    pub fn to_parquet(&self, dir: impl AsRef<Path>) -> Result<Vec<PathBuf>, Error> {
        let dir = dir.as_ref();
        self.frame()?;
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
                crate::try_map_many_pure(
                    "to-parquet",
                    target.display().to_string(),
                    std::slice::from_ref(part),
                    move |b: &[&RecordBatch]| {
                        write_atomic(&target, |file| {
                            let props = parquet::file::properties::WriterProperties::builder()
                                .set_compression(parquet::basic::Compression::SNAPPY)
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
