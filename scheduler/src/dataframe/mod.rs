//! Partitioned dataframes (Dask's `dask.dataframe`): a table cut into partitions along
//! its index, each partition an Arrow [`RecordBatch`] produced by one node of the graph.
//!
//! A [`DataFrame`] is metadata known while the graph is built (schema, npartitions,
//! divisions when known, index column) plus one node per partition. Row-wise operations
//! (`filter`, `select`, `with_column`, `drop`, `rename`, `assign`) are recorded, not run:
//! a chain of them becomes one task per partition. Column and type errors are found from
//! the schema at once; the builders stay chainable and `compute`, `persist` and `head`
//! return the error before any task runs.
//!
//! The index is a column of the batch (Arrow has no index): the first column of
//! [`DataFrame::compute`]'s batch, kept by `select`, named by [`DataFrame::index`].
//!
//! ```
//! use dask::dataframe::{col, lit, agg};
//! use dask::datasets::{timeseries, TimeseriesOptions};
//!
//! // Dask's demo table is `timeseries(Default::default())`: 30 days, a row per second.
//! let df = timeseries(TimeseriesOptions { freq: "1min".into(), ..Default::default() });
//! assert_eq!(df.npartitions(), 30);
//! let sd = df.filter(col("y").gt(lit(0.0))).select(["name", "x"]).column("x").std();
//! let by_name = df.groupby(["name"]).agg([agg::sum("x"), agg::max("y")]);
//! let (sd, table) = dask::compute((&sd, &by_name)).unwrap();
//! assert!((sd - 0.577).abs() < 0.01);
//! assert_eq!(table.num_rows(), 26);
//! ```

pub mod arrow;
mod convert;
mod csv;
mod datasets;
mod error;
mod explain;
pub(crate) mod expr;
pub(crate) mod files;
mod freq;
pub mod groupby;
mod like;
mod limits;
mod parquet;
mod pretty;
pub(crate) mod reduce;
mod resample;
mod rolling;
mod rowwise;
mod shuffle;
mod slide;
mod split;
mod task;

use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, OnceLock};

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, Field, Schema, SchemaRef};

use crate::compute::{OutputNodes, OutputReader, Outputs};
use crate::{Delayed, Error};

pub use convert::{CastType, TruncUnit};
pub use csv::{read_csv, read_csv_with, CsvOptions};
pub use datasets::{timeseries, TimeseriesOptions};
pub use error::DataFrameError;
pub use expr::{col, lit, BinOp, Expr, Lit};
pub use groupby::{agg, Agg, GroupBy};
pub use parquet::read_parquet;
pub use pretty::pretty;
pub use reduce::Series;
pub use resample::Resample;
pub use rolling::{Rolling, Window};

use rowwise::{apply_chain, RowOp};

/// A lazy partitioned table (Dask's `dask.dataframe.DataFrame`). Cheap to clone.
#[derive(Clone)]
pub struct DataFrame(Result<Arc<Frame>, DataFrameError>);

#[derive(Clone)]
pub(crate) struct Frame {
    /// The partitions the pending row-wise steps start from.
    base: Arc<Vec<Delayed<RecordBatch>>>,
    /// Pending row-wise steps, each with the schema after it: run fused, one task per
    /// partition.
    ops: Arc<Vec<rowwise::Step>>,
    /// The schema after the last step.
    schema: SchemaRef,
    index: Option<String>,
    /// `npartitions + 1` sorted index values when known (Dask's divisions).
    divisions: Option<ArrayRef>,
    /// What produced the partitions (Dask's name: `make-timeseries`, `from-batches`).
    label: &'static str,
    /// The partition nodes with the steps fused in, built once: `Outputs` lends them
    /// to the computation by reference.
    parts: OnceLock<Vec<Delayed<RecordBatch>>>,
    /// For partitions read from files that can skip columns (CSV): the partitions
    /// with only the named columns, or `None` where that would skip none. Used when
    /// the pending steps read fewer columns than the files hold, so a file's unused
    /// columns are never parsed.
    narrow: Option<Narrow>,
}

/// Partition nodes reading only the named columns of the base schema (in its order).
pub(crate) type Narrow = Arc<dyn Fn(&[String]) -> Option<Vec<Delayed<RecordBatch>>> + Send + Sync>;

impl DataFrame {
    /// A dataframe over existing partition nodes, each producing a batch of `schema`.
    pub(crate) fn from_parts(
        parts: Vec<Delayed<RecordBatch>>,
        schema: SchemaRef,
        index: Option<String>,
        divisions: Option<ArrayRef>,
        label: &'static str,
    ) -> DataFrame {
        DataFrame(Ok(Arc::new(Frame {
            base: Arc::new(parts),
            ops: Arc::new(Vec::new()),
            schema,
            index,
            divisions,
            label,
            parts: OnceLock::new(),
            narrow: None,
        })))
    }

    /// This dataframe, whose partitions can also be read with fewer columns through
    /// `narrow`.
    pub(crate) fn with_narrow(self, narrow: Narrow) -> DataFrame {
        match self.0 {
            Ok(frame) => {
                let mut next = (*frame).clone();
                next.narrow = Some(narrow);
                DataFrame(Ok(Arc::new(next)))
            }
            Err(_) => self,
        }
    }

    /// Only `columns` (and the index), where the partitions come from files that can
    /// skip the others unparsed: a consumer that reads a few columns (a groupby) says
    /// so, and the reader skips the rest. Elsewhere the dataframe itself, unchanged
    /// (its task keys too).
    pub(crate) fn reading_only(&self, columns: &[String]) -> DataFrame {
        match &self.0 {
            Ok(frame) if frame.narrow.is_some() => {
                let mut unique: Vec<&String> = Vec::new();
                for c in columns {
                    if !unique.contains(&c) {
                        unique.push(c);
                    }
                }
                if unique.len() >= frame.schema.fields().len() {
                    return self.clone();
                }
                self.select(unique.into_iter().cloned())
            }
            _ => self.clone(),
        }
    }

    pub(crate) fn invalid(error: DataFrameError) -> DataFrame {
        DataFrame(Err(error))
    }

    pub(crate) fn frame(&self) -> Result<&Frame, Error> {
        self.0.as_deref().map_err(|e| Error::DataFrame(e.clone()))
    }

    /// The error an invalid operation left in this dataframe, if any.
    pub fn error(&self) -> Option<&DataFrameError> {
        self.0.as_ref().err()
    }

    /// A dataframe of in-memory batches, one partition each (all of one schema). No
    /// index, divisions unknown. Batches naming two columns alike are refused.
    pub fn from_batches(batches: Vec<RecordBatch>) -> Result<DataFrame, Error> {
        let Some(first) = batches.first() else {
            return Err(Error::DataFrame(DataFrameError::Invalid {
                op: "from_batches",
                why: "no batches: at least one (possibly empty) batch gives the schema".into(),
            }));
        };
        if let Some(why) = repeated_column(&first.schema()) {
            return Err(Error::DataFrame(DataFrameError::Invalid {
                op: "from_batches",
                why,
            }));
        }
        // Batches built from data may differ in nullability alone: the schema of the
        // whole admits nulls where any batch does.
        let mut fields: Vec<Field> = first
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        for (i, b) in batches.iter().enumerate() {
            if !same_columns(&b.schema(), &first.schema()) {
                return Err(Error::DataFrame(DataFrameError::Invalid {
                    op: "from_batches",
                    why: format!(
                        "batch {i} has columns {}, batch 0 has {}",
                        expr::describe_columns(&b.schema()).join(", "),
                        expr::describe_columns(&first.schema()).join(", ")
                    ),
                }));
            }
            for (f, g) in fields.iter_mut().zip(b.schema().fields()) {
                if g.is_nullable() {
                    f.set_nullable(true);
                }
            }
        }
        let schema: SchemaRef = Arc::new(Schema::new(fields));
        let batches = batches
            .into_iter()
            .map(|b| batch_with_rows(schema.clone(), b.columns().to_vec(), b.num_rows()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                Error::DataFrame(DataFrameError::Invalid {
                    op: "from_batches",
                    why: e.to_string(),
                })
            })?;
        let parts = batches.into_iter().map(crate::delayed).collect();
        Ok(DataFrame::from_parts(
            parts,
            schema,
            None,
            None,
            "from-batches",
        ))
    }

    /// A dataframe over partitions computed by `parts` (Dask's `from_delayed`): each
    /// must produce a batch of `schema`, which is checked when it runs. A schema naming
    /// two columns alike makes an invalid dataframe.
    pub fn from_delayed(parts: Vec<Delayed<RecordBatch>>, schema: SchemaRef) -> DataFrame {
        if let Some(why) = repeated_column(&schema) {
            return DataFrame::invalid(DataFrameError::Invalid {
                op: "from_delayed",
                why,
            });
        }
        let checked = parts
            .iter()
            .map(|p| {
                let expected = schema.clone();
                task::try_task(
                    "from-delayed",
                    "check schema",
                    std::slice::from_ref(p),
                    move |b: &[&RecordBatch]| {
                        if !same_columns(&b[0].schema(), &expected) {
                            return Err(ArrowError::SchemaError(format!(
                                "from_delayed: a partition has columns {}, the schema given has {}",
                                expr::describe_columns(&b[0].schema()).join(", "),
                                expr::describe_columns(&expected).join(", ")
                            )));
                        }
                        batch_with_rows(expected.clone(), b[0].columns().to_vec(), b[0].num_rows())
                    },
                )
            })
            .collect();
        DataFrame::from_parts(checked, schema, None, None, "from-delayed")
    }

    /// One node per partition, each producing its batch (Dask's `to_delayed`): with the
    /// pending row-wise steps fused in. An invalid dataframe gives one node that fails
    /// every computation reading it.
    pub fn to_delayed(&self) -> Vec<Delayed<RecordBatch>> {
        match &self.0 {
            Ok(frame) => frame.partitions(),
            Err(e) => vec![invalid_node("invalid-dataframe", e)],
        }
    }

    /// How many partitions.
    pub fn npartitions(&self) -> usize {
        self.0.as_ref().map(|f| f.base.len()).unwrap_or(0)
    }

    /// The index values at the partition boundaries (`npartitions + 1`) when known.
    pub fn divisions(&self) -> Option<ArrayRef> {
        self.0.as_ref().ok().and_then(|f| f.divisions.clone())
    }

    /// The index column's name, if the dataframe has an index.
    pub fn index(&self) -> Option<&str> {
        self.0.as_ref().ok().and_then(|f| f.index.as_deref())
    }

    /// The schema of every partition (the index column included). Empty when invalid.
    pub fn schema(&self) -> SchemaRef {
        match &self.0 {
            Ok(f) => f.schema.clone(),
            Err(_) => Arc::new(Schema::empty()),
        }
    }

    /// The column names, the index left out (as pandas lists `df.columns`).
    pub fn columns(&self) -> Vec<String> {
        self.dtypes().into_iter().map(|(n, _)| n).collect()
    }

    /// Each column's name and pandas dtype name (`float64`, `string`), index left out.
    pub fn dtypes(&self) -> Vec<(String, String)> {
        let index = self.index().map(str::to_string);
        self.schema()
            .fields()
            .iter()
            .filter(|f| Some(f.name()) != index.as_ref())
            .map(|f| (f.name().clone(), expr::dtype_name(f.data_type())))
            .collect()
    }

    pub(crate) fn then(&self, op: RowOp) -> DataFrame {
        let frame = match &self.0 {
            Ok(f) => f,
            Err(_) => return self.clone(),
        };
        let schema = match op.output_schema(&frame.schema, frame.index.as_deref()) {
            Ok(s) => s,
            Err(e) => return DataFrame::invalid(e),
        };
        let mut next = (**frame).clone();
        next.parts = OnceLock::new();
        if let RowOp::WithColumn(name, _) = &op {
            if Some(name) == frame.index.as_ref() {
                next.divisions = None;
            }
        }
        if let RowOp::Rename(pairs) = &op {
            if let Some((_, to)) = pairs
                .iter()
                .find(|(from, _)| Some(from) == frame.index.as_ref())
            {
                next.index = Some(to.clone());
            }
        }
        let mut ops = (*frame.ops).clone();
        ops.push(Arc::new((op, schema.clone())));
        next.ops = Arc::new(ops);
        next.schema = schema;
        DataFrame(Ok(Arc::new(next)))
    }

    /// This dataframe with `column` as its index, declared sorted across the partitions
    /// in order (as after a time-ordered load); divisions unknown. Windows over the index
    /// (`rolling` with a duration) check the order when they run. This is not
    /// `set_index`, which sorts.
    pub fn with_sorted_index(&self, column: &str) -> DataFrame {
        let frame = match &self.0 {
            Ok(f) => f,
            Err(_) => return self.clone(),
        };
        if frame.schema.field_with_name(column).is_err() {
            return DataFrame::invalid(DataFrameError::UnknownColumn {
                op: "with_sorted_index",
                column: column.to_string(),
                available: expr::describe_columns(&frame.schema),
            });
        }
        let mut next = (**frame).clone();
        next.index = Some(column.to_string());
        next.divisions = None;
        DataFrame(Ok(Arc::new(next)))
    }

    /// The same rows, in order, in `n` partitions (Dask's `repartition(npartitions=n)`).
    /// Towards fewer, each is the concatenation of neighbouring ones and divisions keep
    /// the boundaries that remain; towards more, each partition is cut into pieces: by
    /// index ranges interpolated between known integer or datetime divisions (which
    /// stay known), otherwise by row counts (divisions become unknown).
    pub fn repartition(&self, n: usize) -> DataFrame {
        let frame = match &self.0 {
            Ok(f) => f,
            Err(_) => return self.clone(),
        };
        let have = frame.base.len();
        if n == 0 {
            return DataFrame::invalid(DataFrameError::Invalid {
                op: "repartition",
                why: format!("0 partitions from {have}: at least 1"),
            });
        }
        if let Err(e) = limits::check_partitions("repartition", "asked for", n as u128) {
            return DataFrame::invalid(e);
        }
        if n > have {
            return split::split(frame, n);
        }
        // Group boundaries spread evenly over the existing partitions.
        let cuts: Vec<usize> = (0..=n).map(|i| i * have / n).collect();
        let parts = frame.output_parts();
        let schema = frame.schema.clone();
        let merged = cuts
            .windows(2)
            .map(|w| {
                let schema = schema.clone();
                task::try_task(
                    "repartition",
                    (w[1] - w[0], n),
                    &parts[w[0]..w[1]],
                    move |b: &[&RecordBatch]| {
                        arrow_select::concat::concat_batches(&schema, b.iter().copied())
                    },
                )
            })
            .collect();
        let divisions = frame.divisions.as_ref().map(|d| {
            let at =
                arrow_array::UInt32Array::from(cuts.iter().map(|&c| c as u32).collect::<Vec<_>>());
            arrow_select::take::take(d.as_ref(), &at, None).unwrap_or_else(|_| d.clone())
        });
        DataFrame::from_parts(
            merged,
            frame.schema.clone(),
            frame.index.clone(),
            divisions,
            "repartition",
        )
    }

    /// The rows where `predicate` is true (Dask's `df[df.y > 0]`); null counts as false.
    pub fn filter(&self, predicate: Expr) -> DataFrame {
        self.then(RowOp::Filter(predicate))
    }

    /// These columns, in this order (Dask's `df[["name", "x"]]`); the index is kept.
    pub fn select<S: Into<String>>(&self, columns: impl IntoIterator<Item = S>) -> DataFrame {
        self.then(RowOp::Select(columns.into_iter().map(Into::into).collect()))
    }

    /// Adds the column `name` computed by `expr`, or replaces it.
    pub fn with_column(&self, name: impl Into<String>, expr: Expr) -> DataFrame {
        self.then(RowOp::WithColumn(name.into(), expr))
    }

    /// Several [`with_column`](Self::with_column)s in order (Dask's `assign`).
    pub fn assign<S: Into<String>>(
        &self,
        columns: impl IntoIterator<Item = (S, Expr)>,
    ) -> DataFrame {
        columns
            .into_iter()
            .fold(self.clone(), |df, (name, e)| df.with_column(name, e))
    }

    /// Without these columns.
    pub fn drop<S: Into<String>>(&self, columns: impl IntoIterator<Item = S>) -> DataFrame {
        self.then(RowOp::Drop(columns.into_iter().map(Into::into).collect()))
    }

    /// Renames columns: `(from, to)` pairs.
    pub fn rename<A: Into<String>, B: Into<String>>(
        &self,
        pairs: impl IntoIterator<Item = (A, B)>,
    ) -> DataFrame {
        self.then(RowOp::Rename(
            pairs
                .into_iter()
                .map(|(a, b)| (a.into(), b.into()))
                .collect(),
        ))
    }

    /// The column `name` as a [`Series`] (for reductions).
    pub fn column(&self, name: &str) -> Series {
        Series::new(self.then(RowOp::Select(vec![name.to_string()])), name)
    }

    /// Groups rows by the values of `keys` (Dask's `df.groupby(keys)`).
    pub fn groupby<S: Into<String>>(&self, keys: impl IntoIterator<Item = S>) -> GroupBy {
        GroupBy::new(self.clone(), keys.into_iter().map(Into::into).collect())
    }

    /// The partitions concatenated into one batch.
    pub fn compute(&self) -> Result<RecordBatch, Error> {
        crate::compute(self)
    }

    /// [`compute`](Self::compute) with options.
    pub fn compute_with(&self, config: &crate::Config) -> Result<RecordBatch, Error> {
        crate::compute_with(self, config)
    }

    /// Computes the partitions and returns a dataframe holding them (Dask's `persist`):
    /// queries on it start from the held batches. Metadata is kept.
    pub fn persist(&self) -> Result<DataFrame, Error> {
        let frame = self.frame()?;
        let held = crate::persist(&frame.partitions())?;
        Ok(DataFrame::from_parts(
            held,
            frame.schema.clone(),
            frame.index.clone(),
            frame.divisions.clone(),
            frame.label,
        ))
    }

    /// The first `n` rows, computing partitions in order only until there are enough.
    pub fn head(&self, n: usize) -> Result<RecordBatch, Error> {
        let frame = self.frame()?;
        let mut got = Vec::new();
        let mut rows = 0;
        for part in frame.partitions() {
            if rows >= n {
                break;
            }
            let b = part.compute()?;
            rows += b.num_rows();
            got.push(b);
        }
        let all = concat(&frame.schema, &got)?;
        Ok(all.slice(0, n.min(all.num_rows())))
    }

    /// The number of rows, as a lazy value.
    pub fn len(&self) -> Delayed<usize> {
        let counts = self.map_partitions("len-chunk", "len", |b| Ok(b.num_rows()));
        match counts {
            Ok(counts) => task::task("len-agg", "len", &counts, |c: &[&usize]| {
                c.iter().copied().sum()
            }),
            Err(e) => invalid_node("len", &e),
        }
    }

    /// Writes the graph of the partitions to `path` (`.svg`, `.dot` or `.json`; see
    /// [`Delayed::visualize`]).
    pub fn visualize(&self, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
        self.frame()?;
        crate::graph(self).save(path)?;
        Ok(())
    }

    /// `f` on every partition after the pending row-wise steps, fused into one task per
    /// partition keyed by `name`, `tag` (what `f` does) and the steps.
    pub(crate) fn map_partitions<U, F>(
        &self,
        name: &'static str,
        tag: impl Hash + Clone,
        f: F,
    ) -> Result<Vec<Delayed<U>>, DataFrameError>
    where
        U: task::Shippable,
        F: Fn(&RecordBatch) -> Result<U, ArrowError> + Clone + Send + Sync + 'static,
    {
        let frame = self.0.as_ref().map_err(Clone::clone)?;
        Ok(frame.fused(name, tag, f))
    }
}

impl Frame {
    /// The partitions with the pending steps applied.
    fn partitions(&self) -> Vec<Delayed<RecordBatch>> {
        self.output_parts().clone()
    }

    fn output_parts(&self) -> &Vec<Delayed<RecordBatch>> {
        self.parts.get_or_init(|| {
            if self.ops.is_empty() {
                return (*self.base).clone();
            }
            let name = self
                .ops
                .last()
                .map(|step| step.0.name())
                .unwrap_or("rowwise");
            self.fused(name, (), |b| Ok(b.clone()))
        })
    }

    fn fused<U, F>(&self, name: &'static str, tag: impl Hash + Clone, f: F) -> Vec<Delayed<U>>
    where
        U: task::Shippable,
        F: Fn(&RecordBatch) -> Result<U, ArrowError> + Clone + Send + Sync + 'static,
    {
        let steps: Vec<&RowOp> = self.ops.iter().map(|step| &step.0).collect();
        let narrowed = self
            .narrow
            .as_ref()
            .zip(rowwise::columns_read(&self.ops))
            .and_then(|(narrow, columns)| narrow(&columns));
        narrowed
            .as_ref()
            .unwrap_or(&self.base)
            .iter()
            .map(|part| {
                let ops = self.ops.clone();
                let f = f.clone();
                task::try_task(
                    name,
                    (&steps, tag.clone()),
                    std::slice::from_ref(part),
                    move |b: &[&RecordBatch]| {
                        if ops.is_empty() {
                            return f(b[0]);
                        }
                        f(&apply_chain(&ops, b[0])?)
                    },
                )
            })
            .collect()
    }
}

/// Whether the schemas have the same column names and types (nullability aside).
fn same_columns(a: &Schema, b: &Schema) -> bool {
    a.fields().len() == b.fields().len()
        && a.fields()
            .iter()
            .zip(b.fields())
            .all(|(f, g)| f.name() == g.name() && f.data_type() == g.data_type())
}

/// From this many bytes of partitions on, [`concat`] copies its columns on threads of
/// their own: the copy of a large result is mostly first touches of fresh pages (page
/// faults), which run side by side on separate cores; below it a thread costs more than
/// it saves.
const PARALLEL_CONCAT_BYTES: usize = 8 << 20;

/// The batches as one, of `schema` (also when there are none). A large result of
/// several columns is copied a column per thread (see [`PARALLEL_CONCAT_BYTES`]).
pub(crate) fn concat(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<RecordBatch, Error> {
    let invalid = |e: arrow_schema::ArrowError| {
        Error::DataFrame(DataFrameError::Invalid {
            op: "concat",
            why: e.to_string(),
        })
    };
    let bytes: usize = batches.iter().map(|b| b.get_array_memory_size()).sum();
    let width = schema.fields().len();
    if bytes < PARALLEL_CONCAT_BYTES
        || width < 2
        || batches.len() < 2
        || batches.iter().any(|b| b.schema() != *schema)
    {
        return arrow_select::concat::concat_batches(schema, batches).map_err(invalid);
    }
    let column = |j: usize| {
        let arrays: Vec<&dyn arrow_array::Array> =
            batches.iter().map(|b| b.column(j).as_ref()).collect();
        arrow_select::concat::concat(&arrays)
    };
    let columns = std::thread::scope(|scope| {
        let others: Vec<_> = (1..width).map(|j| scope.spawn(move || column(j))).collect();
        let first = column(0);
        std::iter::once(first)
            .chain(others.into_iter().map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(arrow_schema::ArrowError::ComputeError(
                        "a column's concatenation panicked".into(),
                    ))
                })
            }))
            .collect::<Result<Vec<_>, _>>()
    })
    .map_err(invalid)?;
    RecordBatch::try_new(schema.clone(), columns).map_err(invalid)
}

/// A batch of `schema` holding `columns` and `rows` rows. Unlike `RecordBatch::try_new`,
/// which takes the row count from the first column, this also builds a batch of no
/// columns (after `select([])` or dropping every column): it keeps its row count, as
/// pandas' empty-columns frame keeps its index.
pub(crate) fn batch_with_rows(
    schema: SchemaRef,
    columns: Vec<ArrayRef>,
    rows: usize,
) -> Result<RecordBatch, ArrowError> {
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(schema, columns, &options)
}

/// Why `schema` cannot be a dataframe's, where two of its columns share a name: a
/// lookup by name would find only the first of them.
pub(crate) fn repeated_column(schema: &Schema) -> Option<String> {
    // A table of names seen, not a scan per column: wide schemas stay linear.
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    schema.fields().iter().enumerate().find_map(|(j, f)| {
        let name = f.name().as_str();
        let i = *seen.entry(name).or_insert(j);
        (i != j).then(|| {
            format!(
                "columns {i} and {j} are both named `{name}`; a dataframe's column names must \
                 be unique"
            )
        })
    })
}

/// A node failing every computation that reads it with `error`, before any task runs.
pub(crate) fn invalid_node<T>(name: &'static str, error: &DataFrameError) -> Delayed<T> {
    let error = error.clone();
    crate::deferred::invalid(name, Arc::new(move || Error::DataFrame(error.clone())))
}

impl Outputs for &DataFrame {
    type Values = RecordBatch;

    fn collect<'s>(&'s self, nodes: &mut OutputNodes<'_, 's>) {
        if let Ok(frame) = &self.0 {
            for part in frame.output_parts() {
                nodes.push(part);
            }
        }
    }

    fn extract(&self, results: &mut OutputReader<'_, '_>) -> Result<RecordBatch, Error> {
        let frame = self.frame()?;
        let batches = frame
            .output_parts()
            .iter()
            .map(|_| results.take::<RecordBatch>())
            .collect::<Result<Vec<_>, _>>()?;
        concat(&frame.schema, &batches)
    }

    fn check(&self) -> Result<(), Error> {
        self.frame().map(|_| ())
    }
}

impl fmt::Display for DataFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Ok(frame) => pretty::structure(f, frame),
            Err(e) => write!(f, "Dask DataFrame (invalid): {e}"),
        }
    }
}

impl fmt::Debug for DataFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};

    #[test]
    fn a_large_result_concatenated_a_column_per_thread_equals_arrows_concatenation() {
        // Over PARALLEL_CONCAT_BYTES (three columns, 400,000 rows in five batches, one
        // empty and one sliced), with nulls and strings: the same batch as Arrow's
        // `concat_batches`, columns in order.
        let schema = Arc::new(Schema::new(vec![
            Field::new("i", DataType::Int64, false),
            Field::new("x", DataType::Float64, true),
            Field::new("s", DataType::Utf8, false),
        ]));
        let batch = |from: i64, n: i64| {
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from_iter_values(from..from + n)) as _,
                    Arc::new(Float64Array::from_iter(
                        (from..from + n).map(|v| (v % 7 != 0).then_some(v as f64 * 0.5)),
                    )) as _,
                    Arc::new(StringArray::from_iter_values(
                        (from..from + n).map(|v| format!("k{}", v % 13)),
                    )) as _,
                ],
            )
            .unwrap()
        };
        let batches = vec![
            batch(0, 100_000),
            batch(100_000, 0),
            batch(100_000, 150_000).slice(1_000, 100_000),
            batch(250_000, 1),
            batch(250_001, 199_999),
        ];
        let bytes: usize = batches.iter().map(|b| b.get_array_memory_size()).sum();
        assert!(
            bytes >= super::PARALLEL_CONCAT_BYTES,
            "{bytes} bytes: too small a test"
        );
        let ours = super::concat(&schema, &batches).unwrap();
        let arrows = arrow_select::concat::concat_batches(&schema, &batches).unwrap();
        assert_eq!(ours.num_rows(), 400_000);
        assert_eq!(ours, arrows);
    }
}
