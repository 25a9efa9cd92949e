//! CSV files, one partition each: `read_csv(glob)` and `DataFrame::to_csv(pattern)`
//! through arrow-csv.
//!
//! The schema is inferred from a sample of the first file (as pandas and Dask do) and
//! then imposed on every file: a cell that does not parse fails the partition's task
//! with the file, line and column, and says how to override the column's type.
//!
//! Column names are the first file's header made unique as pandas makes them
//! (`a,b,a` gives `a`, `b`, `a.1`; see `csv_names.rs`). Every other file's header must
//! be the first file's, word for word: the raw headers are compared, never the renamed
//! ones, so a file naming `a.1` where the first file repeats `a` is refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_csv::reader::Format;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use super::error::DataFrameError;
use super::files::{glob, partition_paths, write_atomic};
use super::DataFrame;
use crate::Delayed;

#[path = "csv_divisions.rs"]
mod divisions;
#[path = "csv_names.rs"]
mod names;
#[path = "csv_plain.rs"]
mod plain;
use crate::Error;

/// Rows of the first file read to infer the schema.
const SAMPLE_ROWS: usize = 1000;

/// Options of [`read_csv_with`].
#[derive(Debug, Clone, Default)]
pub struct CsvOptions {
    /// Column types to use instead of the inferred ones (pandas' `dtype`).
    pub dtype: Vec<(String, DataType)>,
    /// The column to use as the index (pandas' `index_col`), for files sorted by it, each
    /// starting after the previous one ends (as `to_csv` writes a dataframe with known
    /// divisions). The divisions are then known: each file's first value, then the last
    /// file's last value, read from the ends of the files. Each partition's task checks
    /// that its file keeps to them, and fails naming the file where it does not. Where
    /// the first values are not in order, the index is set and divisions are unknown.
    pub index: Option<String>,
}

/// Reads the CSV files matching `glob` (a `*` in the file name), one partition per file
/// in natural order, each with a header row. The schema comes from the first
/// 1000 rows of the first file.
///
/// Column names are made unique as pandas' `read_csv` makes them: a name the header
/// repeats is kept by its first column, and the later ones are named `name.1`,
/// `name.2`, ... (skipping a suffix the header already uses: `a,a,a.1` gives `a`, `a.2`,
/// `a.1`); an empty name becomes `Unnamed: {position}`. Every file must have the first
/// file's header exactly.
pub fn read_csv(glob: &str) -> Result<DataFrame, Error> {
    read_csv_with(glob, CsvOptions::default())
}

/// [`read_csv`] with column type overrides.
pub fn read_csv_with(pattern: &str, options: CsvOptions) -> Result<DataFrame, Error> {
    let op = "read_csv";
    let files = glob(op, pattern)?;
    let io = |path: &Path, why: String| DataFrameError::Io {
        op,
        path: path.display().to_string(),
        why,
    };
    let first = std::fs::File::open(&files[0]).map_err(|e| io(&files[0], e.to_string()))?;
    let (inferred, rows_read) = Format::default()
        .with_header(true)
        .infer_schema(first, Some(SAMPLE_ROWS))
        .map_err(|e| io(&files[0], e.to_string()))?;
    // A column with no value in the sample is inferred as Arrow's null type, which keeps
    // no value: the values of later rows and files were lost without a word. Typed as
    // pandas types it instead: float64 (all NaN) when the sample had rows, so that a
    // later value that is not a number fails naming the cell and the `dtype` fix, as in
    // Dask; object (here strings) when it had none (a header-only file).
    let empty_column_type = if rows_read == 0 {
        DataType::Utf8
    } else {
        DataType::Float64
    };
    let header: Vec<String> = inferred.fields().iter().map(|f| f.name().clone()).collect();
    let unique = names::unique(&header);
    let mut fields: Vec<Field> = inferred
        .fields()
        .iter()
        .zip(&unique)
        .map(|(f, name)| match f.data_type() {
            DataType::Null => Field::new(name, empty_column_type.clone(), true),
            _ => f.as_ref().clone().with_name(name),
        })
        .collect();
    let named = Schema::new(
        inferred
            .fields()
            .iter()
            .zip(&unique)
            .map(|(f, name)| f.as_ref().clone().with_name(name))
            .collect::<Vec<_>>(),
    );
    for (name, t) in &options.dtype {
        match fields.iter_mut().find(|f| f.name() == name) {
            Some(f) => *f = Field::new(name, t.clone(), true),
            None => {
                return Err(DataFrameError::UnknownColumn {
                    op,
                    column: name.clone(),
                    available: super::expr::describe_columns(&named),
                }
                .into())
            }
        }
    }
    // As pandas: a type given for a repeated name also applies to its renamed
    // duplicates (`a.1`), unless they are given one of their own.
    for (i, f) in fields.iter_mut().enumerate() {
        if header[i] == unique[i] || options.dtype.iter().any(|(n, _)| n == &unique[i]) {
            continue;
        }
        let old = if header[i].is_empty() {
            format!("Unnamed: {i}")
        } else {
            header[i].clone()
        };
        if let Some((_, t)) = options.dtype.iter().find(|(n, _)| *n == old) {
            *f = Field::new(f.name(), t.clone(), true);
        }
    }
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    if let Some(ix) = &options.index {
        if schema.field_with_name(ix).is_err() {
            return Err(DataFrameError::UnknownColumn {
                op,
                column: ix.clone(),
                available: super::expr::describe_columns(&schema),
            }
            .into());
        }
    }
    let bounds = options
        .index
        .as_deref()
        .and_then(|ix| divisions::from_file_ends(&files, &schema, ix));
    let source = Arc::new(Source {
        files,
        header,
        schema: schema.clone(),
        index: options.index.clone(),
        bounds: bounds.clone(),
    });
    let parts = source.parts(None);
    let narrow: super::Narrow = Arc::new(move |columns: &[String]| {
        let keep: Vec<usize> = (0..source.schema.fields().len())
            .filter(|&i| columns.contains(source.schema.field(i).name()))
            .collect();
        (keep.len() < source.schema.fields().len()).then(|| source.parts(Some(keep)))
    });
    Ok(
        DataFrame::from_parts(parts, schema, options.index.clone(), bounds, "read-csv")
            .with_narrow(narrow),
    )
}

/// The files of a `read_csv` and what every partition's task imposes on its file.
struct Source {
    files: Vec<PathBuf>,
    /// The first file's header as written (before names are made unique): every file's
    /// header must be this one.
    header: Vec<String>,
    schema: SchemaRef,
    index: Option<String>,
    bounds: Option<arrow_array::ArrayRef>,
}

impl Source {
    /// One task per file, parsing the columns at `projection` (indices into the
    /// schema, in its order) or all of them. The columns left out are not parsed, so a
    /// bad cell there is not found (as pandas' `usecols`); the header and each row's
    /// number of fields are still checked against the whole schema.
    fn parts(&self, projection: Option<Vec<usize>>) -> Vec<Delayed<RecordBatch>> {
        let read_schema: SchemaRef = match &projection {
            Some(p) => Arc::new(
                self.schema
                    .project(p)
                    .unwrap_or_else(|_| self.schema.as_ref().clone()),
            ),
            None => self.schema.clone(),
        };
        self.files
            .iter()
            .enumerate()
            .map(|(i, path)| {
                let (path, schema) = (path.clone(), self.schema.clone());
                let header = self.header.clone();
                let (projection, read_schema) = (projection.clone(), read_schema.clone());
                let tag = (
                    path.display().to_string(),
                    self.index.clone(),
                    projection.clone(),
                );
                let check = match (&self.bounds, &self.index) {
                    (Some(d), Some(ix)) => Some(divisions::Check {
                        index: ix.clone(),
                        lo: d.slice(i, 1),
                        hi: d.slice(i + 1, 1),
                        last: i + 2 == d.len(),
                    }),
                    _ => None,
                };
                super::task::try_task::<(), _, _, _>("read-csv", tag, &[], move |_| {
                    let batch =
                        read_one(&path, &header, &schema, projection.as_deref(), &read_schema)?;
                    if let Some(check) = &check {
                        check.holds(&path, &batch)?;
                    }
                    Ok::<_, String>(batch)
                })
            })
            .collect()
    }
}

/// Bytes asked of the file at a time: larger reads than `BufReader`'s 8 KiB default
/// mean fewer system calls, and stay small beside a partition.
const READ_BUFFER: usize = 256 * 1024;

/// The columns at `projection` (all when `None`) of the file at `path`, whose header
/// must be `header`, as a batch of `read_schema`.
fn read_one(
    path: &Path,
    header: &[String],
    schema: &SchemaRef,
    projection: Option<&[usize]>,
    read_schema: &SchemaRef,
) -> Result<RecordBatch, String> {
    match plain::read(path, header, schema, projection, read_schema) {
        Ok(Some(batch)) => return Ok(batch),
        Ok(None) => {}
        Err(plain::Failure::Cell { field, line, text }) => {
            let what = format!(
                "cannot parse '{text}' as {} at line {line} of the file",
                field.data_type()
            );
            return Err(with_override(path, &what, &field));
        }
        Err(plain::Failure::Other(why)) => return Err(format!("{}: {why}", path.display())),
    }
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // Not plain (quotes, carriage returns) or a type the fast path leaves alone:
    // arrow-csv's reader, with its default batches (1024 rows): larger ones preallocate builders and
    // raised the peak memory of a groupby over the files past (workers + 2) partitions
    // without making reading faster (BENCHMARKS.md).
    // Read under the header's own names, which arrow-csv checks the file's header
    // against: the schema's names may have been made unique, the file's are not.
    let as_written: SchemaRef = Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .zip(header)
            .map(|(f, name)| f.as_ref().clone().with_name(name))
            .collect::<Vec<_>>(),
    ));
    let mut builder = arrow_csv::ReaderBuilder::new(as_written)
        .with_header(true)
        // Every file's header must name the first file's columns in order: a file with
        // its columns in another order is an error, not a silent mix-up of columns.
        .with_header_validation(true);
    if let Some(p) = projection {
        builder = builder.with_projection(p.to_vec());
    }
    let reader = builder
        .build_buffered(std::io::BufReader::with_capacity(READ_BUFFER, file))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let batches = reader
        .collect::<Result<Vec<_>, ArrowError>>()
        .map_err(|e| explain(path, schema, &e))?;
    let batch = match <[RecordBatch; 1]>::try_from(batches) {
        Ok([one]) => one,
        Err(batches) => arrow_select::concat::concat_batches(
            batches.first().map_or(read_schema, |b| b.schema_ref()),
            &batches,
        )
        .map_err(|e| format!("{}: {e}", path.display()))?,
    };
    // Under the schema's (unique) names; with the row count, which a batch of no
    // columns (nothing asked for but the rows) has no other way to keep.
    super::batch_with_rows(
        read_schema.clone(),
        batch.columns().to_vec(),
        batch.num_rows(),
    )
    .map_err(|e| format!("{}: {e}", path.display()))
}

/// Arrow's parse error with the file and the column's name, and the override to use.
fn explain(path: &Path, schema: &Schema, e: &ArrowError) -> String {
    let mut text = e.to_string();
    // Arrow counts data rows from 1; in the file, the header is line 1.
    if let Some(n) = text
        .split(" at line ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<usize>().ok())
    {
        text = text.replacen(
            &format!(" at line {n}"),
            &format!(" at line {} of the file", n + 1),
            1,
        );
    }
    // Arrow names the column by its number: "for column 3" in a number's error,
    // "parsing column 3" in a timestamp's.
    let column = ["for column ", "parsing column "]
        .iter()
        .find_map(|m| text.split(m).nth(1))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|i| i.parse::<usize>().ok())
        .and_then(|i| schema.fields().get(i));
    match column {
        Some(f) => with_override(path, &text, f),
        None => format!("{}: {text}", path.display()),
    }
}

/// A cell's error `text` with the file, the column's name and type, and the override.
fn with_override(path: &Path, text: &str, f: &Field) -> String {
    format!(
        "{}: {text} (column `{}`, read as {}); if the column is not all {}, pass \
         `CsvOptions {{ dtype: vec![(\"{}\".into(), DataType::Utf8)], ..Default::default() }}` \
         to `read_csv_with`",
        path.display(),
        f.name(),
        f.data_type(),
        f.data_type(),
        f.name()
    )
}

impl DataFrame {
    /// Writes one CSV file per partition (Dask's `to_csv`), with a header row: the `*`
    /// of `pattern` is replaced by the partition's number. Each file is written under a
    /// temporary name and renamed, so a failure leaves no partial file. Returns the paths.
    pub fn to_csv(&self, pattern: &str) -> Result<Vec<PathBuf>, Error> {
        self.to_csv_with(pattern, |i| i.to_string())
    }

    /// [`to_csv`](Self::to_csv) with the partition's name given by `name_function` of its
    /// number (Dask's `name_function`). Each name must be a file name (no `/`) and differ
    /// from the others; otherwise nothing is written and the error says which.
    ///
    /// A dataframe of no columns (every column dropped) is refused before anything is
    /// written: its rows would be empty lines, which `read_csv` cannot read back as rows.
    pub fn to_csv_with(
        &self,
        pattern: &str,
        name_function: impl Fn(usize) -> String,
    ) -> Result<Vec<PathBuf>, Error> {
        let paths = partition_paths("to_csv", pattern, self.npartitions(), name_function)?;
        if self.0.as_ref().is_ok_and(|f| f.schema.fields().is_empty()) {
            return Err(DataFrameError::Invalid {
                op: "to_csv",
                why: "the dataframe has no columns; a CSV file of no columns cannot keep \
                      its rows (each would be an empty line): keep or add a column first"
                    .into(),
            }
            .into());
        }
        let writes: Vec<_> = self
            .to_delayed()
            .iter()
            .zip(&paths)
            .map(|(part, path)| {
                let target = path.clone();
                super::task::try_task(
                    "to-csv",
                    path.display().to_string(),
                    std::slice::from_ref(part),
                    move |b: &[&RecordBatch]| {
                        write_atomic(&target, |file| {
                            let mut w = arrow_csv::WriterBuilder::new()
                                .with_header(true)
                                .build(file);
                            w.write(b[0])
                                .map_err(|e| format!("{}: {e}", target.display()))
                        })
                        .map(|()| target.clone())
                    },
                )
            })
            .collect();
        if let Some(dir) = paths
            .first()
            .and_then(|p| p.parent())
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| DataFrameError::Io {
                op: "to_csv",
                path: dir.display().to_string(),
                why: e.to_string(),
            })?;
        }
        self.frame()?;
        crate::compute(&writes)
    }
}
