//! Row-wise operations (filter, select, with_column, drop, rename): each partition is
//! transformed on its own, so a chain of them fuses into one task per partition.

use std::sync::Arc;

use arrow_array::{Array, BooleanArray, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use super::batch_with_rows;
use super::error::DataFrameError;
use super::expr::{describe_columns, dtype_name, Expr};

/// One row-wise step. Plain data, hashed into the key of the fused task.
#[derive(Debug, Clone, PartialEq, Hash)]
pub(crate) enum RowOp {
    /// Keep the rows where the predicate is true (null counts as false, as in pandas).
    Filter(Expr),
    /// Keep these columns, in this order (the index column is always kept).
    Select(Vec<String>),
    /// Add or replace a column.
    WithColumn(String, Expr),
    /// Remove these columns.
    Drop(Vec<String>),
    /// Rename columns: `(from, to)` pairs.
    Rename(Vec<(String, String)>),
    /// Adds the column `name`: the timestamp `column` rounded down to a multiple of
    /// `every` nanoseconds since the epoch (the bins of `resample`).
    FloorTime {
        column: String,
        every: i64,
        name: String,
    },
}

impl RowOp {
    /// The operation's name in errors and drawings.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            RowOp::Filter(_) => "filter",
            RowOp::Select(_) => "select",
            RowOp::WithColumn(..) => "with_column",
            RowOp::Drop(_) => "drop",
            RowOp::Rename(_) => "rename",
            RowOp::FloorTime { .. } => "resample-bin",
        }
    }

    /// The schema after this step on `schema`, or why the step does not fit it.
    pub(crate) fn output_schema(
        &self,
        schema: &Schema,
        index: Option<&str>,
    ) -> Result<SchemaRef, DataFrameError> {
        let op = self.name();
        let unknown = |c: &str| DataFrameError::UnknownColumn {
            op,
            column: c.to_string(),
            available: describe_columns(schema),
        };
        match self {
            RowOp::FloorTime {
                column,
                every,
                name,
            } => {
                let f = schema
                    .field_with_name(column)
                    .map_err(|_| unknown(column))?;
                let DataType::Timestamp(unit, _) = f.data_type() else {
                    return Err(DataFrameError::TypeMismatch {
                        op,
                        expr: column.clone(),
                        why: format!("the index is {}, not a datetime", dtype_name(f.data_type())),
                        available: describe_columns(schema),
                    });
                };
                if every % unit_nanos(unit) != 0 {
                    return Err(DataFrameError::Invalid {
                        op,
                        why: format!(
                            "a bin of {every} ns is not a whole number of the index's {unit:?}s"
                        ),
                    });
                }
                let mut fields: Vec<Field> =
                    schema.fields().iter().map(|f| f.as_ref().clone()).collect();
                fields.push(Field::new(name, f.data_type().clone(), true));
                Ok(Arc::new(Schema::new(fields)))
            }
            RowOp::Filter(pred) => match pred.data_type(schema, op)? {
                DataType::Boolean => Ok(Arc::new(schema.clone())),
                other => Err(DataFrameError::TypeMismatch {
                    op,
                    expr: pred.to_string(),
                    why: format!("the predicate is {}, not bool", dtype_name(&other)),
                    available: describe_columns(schema),
                }),
            },
            RowOp::Select(cols) => {
                let mut fields = Vec::new();
                if let Some(ix) = index.filter(|ix| !cols.iter().any(|c| c == ix)) {
                    fields.push(schema.field_with_name(ix).map_err(|_| unknown(ix))?.clone());
                }
                for c in cols {
                    let f = schema.field_with_name(c).map_err(|_| unknown(c))?;
                    if fields.iter().any(|g: &Field| g.name() == c) {
                        return Err(DataFrameError::Invalid {
                            op,
                            why: format!("column `{c}` is selected twice"),
                        });
                    }
                    fields.push(f.clone());
                }
                Ok(Arc::new(Schema::new(fields)))
            }
            RowOp::WithColumn(name, expr) => {
                let t = expr.data_type(schema, op)?;
                // A column of nulls alone has no useful type: give it float64, as pandas.
                let t = if t == DataType::Null {
                    DataType::Float64
                } else {
                    t
                };
                let field = Field::new(name, t, true);
                let mut fields: Vec<Field> =
                    schema.fields().iter().map(|f| f.as_ref().clone()).collect();
                match fields.iter().position(|f| f.name() == name) {
                    Some(i) => fields[i] = field,
                    None => fields.push(field),
                }
                Ok(Arc::new(Schema::new(fields)))
            }
            RowOp::Drop(cols) => {
                for c in cols {
                    schema.field_with_name(c).map_err(|_| unknown(c))?;
                    if Some(c.as_str()) == index {
                        return Err(DataFrameError::Invalid {
                            op,
                            why: format!("`{c}` is the index; it cannot be dropped"),
                        });
                    }
                }
                let fields: Vec<Field> = schema
                    .fields()
                    .iter()
                    .filter(|f| !cols.contains(f.name()))
                    .map(|f| f.as_ref().clone())
                    .collect();
                Ok(Arc::new(Schema::new(fields)))
            }
            RowOp::Rename(pairs) => {
                let mut fields: Vec<Field> =
                    schema.fields().iter().map(|f| f.as_ref().clone()).collect();
                for (from, to) in pairs {
                    let i = schema.index_of(from).map_err(|_| unknown(from))?;
                    fields[i] = fields[i].clone().with_name(to);
                }
                let mut names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
                names.sort_unstable();
                if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
                    return Err(DataFrameError::Invalid {
                        op,
                        why: format!("two columns would be named `{}`", w[0]),
                    });
                }
                Ok(Arc::new(Schema::new(fields)))
            }
        }
    }

    /// Applies the step to one partition; `schema` is the step's output schema.
    pub(crate) fn apply(
        &self,
        batch: &RecordBatch,
        schema: &SchemaRef,
    ) -> Result<RecordBatch, ArrowError> {
        match self {
            RowOp::Filter(pred) => {
                let mask = pred.evaluate(batch)?;
                let mask = mask
                    .as_any()
                    .downcast_ref::<BooleanArray>()
                    .ok_or_else(|| ArrowError::InvalidArgumentError("predicate".into()))?;
                arrow_select::filter::filter_record_batch(batch, mask)
            }
            RowOp::Select(_) | RowOp::Drop(_) => {
                let columns = schema
                    .fields()
                    .iter()
                    .map(|f| {
                        batch
                            .column(batch.schema().index_of(f.name()).unwrap_or(0))
                            .clone()
                    })
                    .collect();
                batch_with_rows(schema.clone(), columns, batch.num_rows())
            }
            RowOp::WithColumn(name, expr) => {
                let mut value = expr.evaluate(batch)?;
                let field = schema.field_with_name(name)?;
                if value.data_type() != field.data_type() {
                    value = arrow_cast::cast(value.as_ref(), field.data_type())?;
                }
                let mut columns = batch.columns().to_vec();
                match batch.schema().index_of(name) {
                    Ok(i) => columns[i] = value,
                    Err(_) => columns.push(value),
                }
                batch_with_rows(schema.clone(), columns, batch.num_rows())
            }
            RowOp::Rename(_) => {
                batch_with_rows(schema.clone(), batch.columns().to_vec(), batch.num_rows())
            }
            RowOp::FloorTime { column, every, .. } => {
                let ts = batch
                    .column_by_name(column)
                    .ok_or_else(|| ArrowError::SchemaError(format!("no column `{column}`")))?;
                let target = schema.field(schema.fields().len() - 1).data_type();
                let step = match target {
                    DataType::Timestamp(unit, _) => every / unit_nanos(unit),
                    _ => *every,
                };
                let raw = arrow_cast::cast(ts.as_ref(), &DataType::Int64)?;
                let raw = raw
                    .as_any()
                    .downcast_ref::<arrow_array::Int64Array>()
                    .ok_or_else(|| ArrowError::CastError("timestamp as int64".into()))?;
                // A sorted index stays in one bin for many rows: the bin of the row
                // before is tried first, so the division runs once a bin, not once a row.
                let (mut lo, mut hi) = (0i64, 0i64);
                let mut values: Vec<i64> = Vec::with_capacity(raw.len());
                for (i, &t) in raw.values().iter().enumerate() {
                    if t < lo || t >= hi {
                        // A time whose bin starts before the type's earliest time (near
                        // 1677 in nanoseconds) has no bin: a wrapped start put its rows
                        // in a bin in the far future.
                        match t.div_euclid(step).checked_mul(step) {
                            Some(start) => {
                                lo = start;
                                hi = lo.saturating_add(step);
                            }
                            // A null row's slot holds any value; it gets no bin anyway.
                            None if raw.is_null(i) => {
                                values.push(0);
                                continue;
                            }
                            None => {
                                return Err(ArrowError::ComputeError(format!(
                                    "resample: the {every} ns bin of `{column}` = {t} starts \
                                     before the earliest time its type can hold"
                                )))
                            }
                        }
                    }
                    values.push(lo);
                }
                let binned = arrow_array::Int64Array::new(values.into(), raw.nulls().cloned());
                let binned = arrow_cast::cast(&binned, target)?;
                let mut columns = batch.columns().to_vec();
                columns.push(binned);
                batch_with_rows(schema.clone(), columns, batch.num_rows())
            }
        }
    }
}

/// Nanoseconds in one `unit`.
pub(crate) fn unit_nanos(unit: &arrow_schema::TimeUnit) -> i64 {
    match unit {
        arrow_schema::TimeUnit::Second => 1_000_000_000,
        arrow_schema::TimeUnit::Millisecond => 1_000_000,
        arrow_schema::TimeUnit::Microsecond => 1_000,
        arrow_schema::TimeUnit::Nanosecond => 1,
    }
}

/// One pending row-wise step and the schema after it. Shared: each `DataFrame` of a
/// chain lists every step before its own, and copying the list per added step copied
/// every step's expression (16,000 chained filters took 28 s to build; a list of
/// shared steps copies a pointer per step).
pub(crate) type Step = Arc<(RowOp, SchemaRef)>;

/// Applies a chain of steps to one partition.
pub(crate) fn apply_chain(ops: &[Step], batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let mut out = projected(ops, batch).unwrap_or_else(|| batch.clone());
    for step in ops {
        let (op, schema) = &**step;
        out = op.apply(&out, schema)?;
    }
    Ok(out)
}

/// For a chain of filters and selects ending in a select, the batch cut down to the
/// columns the chain reads or keeps, so that a filter does not copy columns dropped
/// after it (`df[df.y > 0].x` filters `x` and `y` only, not `name`). `None` where the
/// chain holds other steps or nothing would be left out.
fn projected(ops: &[Step], batch: &RecordBatch) -> Option<RecordBatch> {
    let needed = columns_read(ops)?;
    let schema = batch.schema();
    let keep: Vec<usize> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| needed.contains(f.name()))
        .map(|(i, _)| i)
        .collect();
    if keep.len() == schema.fields().len() {
        return None;
    }
    batch.project(&keep).ok()
}

/// The columns a chain of filters and selects ending in a select reads or keeps (the
/// only columns its input needs to have), in order of first use. `None` where the
/// chain holds other steps: their recorded schemas name every column of the input, so
/// they need all of it.
pub(crate) fn columns_read(ops: &[Step]) -> Option<Vec<String>> {
    if !matches!(ops.last().map(|s| &s.0), Some(RowOp::Select(_))) {
        return None;
    }
    let mut needed: Vec<String> = Vec::new();
    let mut add = |c: &str| {
        if !needed.iter().any(|n| n == c) {
            needed.push(c.to_string());
        }
    };
    for step in ops {
        let (op, schema) = &**step;
        match op {
            RowOp::Filter(e) => e.columns().into_iter().for_each(&mut add),
            RowOp::Select(_) => schema.fields().iter().for_each(|f| add(f.name())),
            _ => return None,
        }
    }
    Some(needed)
}
