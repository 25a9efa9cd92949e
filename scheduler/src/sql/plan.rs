//! The logical plan: what a query computes, as a small tree of relational operators over
//! named columns. The front end builds it, the optimizer rewrites it, `lower` turns it
//! into dataframe operations, and `explain` prints it.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::error::SqlError;
use crate::dataframe::expr::dtype_name;
use crate::dataframe::{CastType, DataFrame, Expr};

/// Where a registered table's rows come from.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    /// A dataframe given to `create_table` (or made by `CREATE TABLE .. AS`).
    Frame(DataFrame),
    /// CSV files, one partition each: read by the scan itself, so that it reads only the
    /// needed columns.
    Csv(Vec<PathBuf>),
    /// Parquet files, one partition each: the scan reads only the needed columns and
    /// skips row groups whose statistics rule the filters out.
    Parquet(Vec<PathBuf>),
}

/// A registered table.
#[derive(Clone, Debug)]
pub(crate) struct Table {
    pub(crate) name: String,
    pub(crate) source: Source,
    pub(crate) schema: SchemaRef,
    /// The dataframe's index column (kept by a dataframe scan's column selection).
    pub(crate) index: Option<String>,
}

/// An aggregate function of SQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum AggKind {
    CountStar,
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    Std,
    Var,
}

impl AggKind {
    fn name(self) -> &'static str {
        match self {
            AggKind::CountStar | AggKind::Count => "count",
            AggKind::CountDistinct => "count_distinct",
            AggKind::Sum => "sum",
            AggKind::Avg => "avg",
            AggKind::Min => "min",
            AggKind::Max => "max",
            AggKind::Std => "stddev",
            AggKind::Var => "variance",
        }
    }
}

/// One aggregate of an `Aggregate` node, named `name` in its output.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AggCall {
    pub(crate) kind: AggKind,
    /// The argument (none for `COUNT(*)`).
    pub(crate) arg: Option<Expr>,
    pub(crate) name: String,
}

/// One key of a `Sort` node: an output column.
#[derive(Clone, Debug, PartialEq, Hash)]
pub(crate) struct SortKey {
    pub(crate) column: String,
    pub(crate) descending: bool,
    pub(crate) nulls_first: bool,
}

/// Which rows without a match a join keeps (with nulls for the other side's columns).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum JoinKind {
    Inner,
    /// Every left row.
    Left,
    /// Every right row.
    Right,
    /// Every row of both sides.
    Full,
}

/// A logical plan node.
#[derive(Clone, Debug)]
pub(crate) enum Plan {
    /// A table's rows; `columns` (in table order) and `filters` are what the optimizer
    /// pushed into the read. `None`: every column.
    Scan {
        table: Arc<Table>,
        columns: Option<Vec<String>>,
        filters: Vec<Expr>,
    },
    /// The rows where `predicate` is true; `having` when it filters groups.
    Filter {
        input: Box<Plan>,
        predicate: Expr,
        having: bool,
    },
    /// Exactly these columns, each computed by its expression.
    Project {
        input: Box<Plan>,
        exprs: Vec<(Expr, String)>,
    },
    /// Groups by `keys` (none: one group) with one row per group: the keys, then the
    /// aggregates.
    Aggregate {
        input: Box<Plan>,
        keys: Vec<(Expr, String)>,
        aggs: Vec<AggCall>,
    },
    /// Rows in order of `keys`, the first `offset` skipped; with `limit`, only the first
    /// `limit` rows after those (a top-k of `offset + limit`).
    Sort {
        input: Box<Plan>,
        keys: Vec<SortKey>,
        limit: Option<usize>,
        offset: usize,
    },
    /// The first `n` rows in partition order after the first `offset`.
    Limit {
        input: Box<Plan>,
        n: usize,
        offset: usize,
    },
    /// Rows of `left` and `right` whose `on` columns are equal: left's columns, then
    /// right's (whose names differ from left's).
    Join {
        left: Box<Plan>,
        right: Box<Plan>,
        kind: JoinKind,
        on: Vec<(String, String)>,
    },
    /// `UNION ALL`: the rows of every input, named as the first, each column of the type
    /// the inputs have in common (see [`union_schema`]).
    Union { inputs: Vec<Plan> },
    /// Each distinct row once.
    Distinct { input: Box<Plan> },
}

/// The operation name the type checker's errors carry.
const OP: &str = "sql";

impl Plan {
    /// The columns the node produces, with their types; or the first type error.
    pub(crate) fn schema(&self) -> Result<SchemaRef, SqlError> {
        Ok(match self {
            Plan::Scan { table, columns, .. } => {
                let Some(columns) = columns else {
                    return Ok(table.schema.clone());
                };
                let mut fields = Vec::new();
                if let Some(ix) = &table.index {
                    if matches!(table.source, Source::Frame(_)) && !columns.contains(ix) {
                        fields.push(field_of(&table.schema, ix)?);
                    }
                }
                for c in columns {
                    fields.push(field_of(&table.schema, c)?);
                }
                Arc::new(Schema::new(fields))
            }
            Plan::Filter {
                input, predicate, ..
            } => {
                let schema = input.schema()?;
                match predicate.data_type(&schema, OP)? {
                    DataType::Boolean | DataType::Null => schema,
                    other => {
                        return Err(SqlError::Type {
                            expr: predicate.to_string(),
                            why: format!("a condition must be boolean, not {other}"),
                        })
                    }
                }
            }
            Plan::Project { input, exprs } => {
                let schema = input.schema()?;
                let fields = exprs
                    .iter()
                    .map(|(e, name)| {
                        let t = e.data_type(&schema, OP)?;
                        Ok(Field::new(name, value_type(t), true))
                    })
                    .collect::<Result<Vec<_>, SqlError>>()?;
                Arc::new(Schema::new(fields))
            }
            Plan::Aggregate { input, keys, aggs } => {
                let schema = input.schema()?;
                let mut fields = Vec::new();
                for (e, name) in keys {
                    fields.push(Field::new(name, e.data_type(&schema, OP)?, true));
                }
                for a in aggs {
                    let arg = match &a.arg {
                        Some(e) => e.data_type(&schema, OP)?,
                        None => DataType::Int64,
                    };
                    let numeric = arg.is_numeric() || arg == DataType::Boolean;
                    let t = match a.kind {
                        AggKind::CountStar | AggKind::Count | AggKind::CountDistinct => {
                            DataType::Int64
                        }
                        AggKind::Sum if arg.is_integer() || arg == DataType::Boolean => {
                            DataType::Int64
                        }
                        AggKind::Sum | AggKind::Avg | AggKind::Std | AggKind::Var if numeric => {
                            DataType::Float64
                        }
                        AggKind::Min | AggKind::Max => arg,
                        _ => {
                            return Err(SqlError::Type {
                                expr: format!(
                                    "{}({})",
                                    a.kind.name(),
                                    a.arg.as_ref().map(|e| e.to_string()).unwrap_or_default()
                                ),
                                why: format!("`{}` of a {arg} value", a.kind.name()),
                            })
                        }
                    };
                    fields.push(Field::new(&a.name, t, true));
                }
                Arc::new(Schema::new(fields))
            }
            Plan::Sort { input, .. } | Plan::Limit { input, .. } | Plan::Distinct { input } => {
                input.schema()?
            }
            Plan::Join { left, right, .. } => {
                let (l, r) = (left.schema()?, right.schema()?);
                let fields: Vec<Field> = l
                    .fields()
                    .iter()
                    .chain(r.fields().iter())
                    .map(|f| f.as_ref().clone().with_nullable(true))
                    .collect();
                Arc::new(Schema::new(fields))
            }
            Plan::Union { inputs } => union_schema(inputs)?,
        })
    }

    /// The plan as an indented tree, one node a line.
    fn write(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        let pad = "  ".repeat(depth);
        let list = |exprs: &[(Expr, String)]| {
            exprs
                .iter()
                .map(|(e, n)| match e {
                    Expr::Column(c) if c == n => n.clone(),
                    _ => format!("{e} AS {n}"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Plan::Scan {
                table,
                columns,
                filters,
            } => {
                let kind = match table.source {
                    Source::Frame(_) => "dataframe",
                    Source::Csv(_) => "csv",
                    Source::Parquet(_) => "parquet",
                };
                write!(f, "{pad}Scan: {} ({kind})", table.name)?;
                match columns {
                    Some(c) => write!(f, " columns=[{}]", c.join(", "))?,
                    None => write!(f, " columns=all")?,
                }
                if !filters.is_empty() {
                    let shown: Vec<String> = filters.iter().map(|e| e.to_string()).collect();
                    write!(f, " filters=[{}]", shown.join(", "))?;
                    if matches!(table.source, Source::Parquet(_)) {
                        write!(f, " (row groups skipped by min/max statistics)")?;
                    }
                }
                writeln!(f)
            }
            Plan::Filter {
                input,
                predicate,
                having,
            } => {
                let name = if *having { "Having" } else { "Filter" };
                writeln!(f, "{pad}{name}: {predicate}")?;
                input.write(f, depth + 1)
            }
            Plan::Project { input, exprs } => {
                writeln!(f, "{pad}Project: {}", list(exprs))?;
                input.write(f, depth + 1)
            }
            Plan::Aggregate { input, keys, aggs } => {
                let aggs_in = aggs;
                let aggs: Vec<String> = aggs
                    .iter()
                    .map(|a| {
                        let arg = match (&a.arg, a.kind) {
                            (_, AggKind::CountStar) => "*".to_string(),
                            (Some(e), AggKind::CountDistinct) => format!("DISTINCT {e}"),
                            (Some(e), _) => e.to_string(),
                            (None, _) => String::new(),
                        };
                        let kind = match a.kind {
                            AggKind::CountDistinct => "count",
                            k => k.name(),
                        };
                        format!("{kind}({arg}) AS {}", a.name)
                    })
                    .collect();
                let how = match super::resample::resample_rule(input, keys, aggs_in) {
                    Some(how) => {
                        format!("resample('{}') of the sorted index {}", how.rule, how.index)
                    }
                    None => "per-partition chunk, tree combine".to_string(),
                };
                writeln!(
                    f,
                    "{pad}Aggregate: keys=[{}] aggs=[{}] ({how})",
                    list(keys),
                    aggs.join(", ")
                )?;
                input.write(f, depth + 1)
            }
            Plan::Sort {
                input,
                keys,
                limit,
                offset,
            } => {
                let keys: Vec<String> = keys
                    .iter()
                    .map(|k| format!("{} {}", k.column, if k.descending { "DESC" } else { "ASC" }))
                    .collect();
                let skip = if *offset > 0 {
                    format!(" OFFSET {offset}")
                } else {
                    String::new()
                };
                match limit {
                    Some(k) => {
                        let top = k.saturating_add(*offset);
                        writeln!(
                            f,
                            "{pad}TopK: {k}{skip} by [{}] (per-partition top-{top}, then merged)",
                            keys.join(", ")
                        )?
                    }
                    None => writeln!(
                        f,
                        "{pad}Sort: [{}]{skip} (into one partition)",
                        keys.join(", ")
                    )?,
                }
                input.write(f, depth + 1)
            }
            Plan::Limit { input, n, offset } => {
                match (*n, *offset) {
                    (usize::MAX, o) => writeln!(f, "{pad}Offset: {o}")?,
                    (n, 0) => writeln!(f, "{pad}Limit: {n}")?,
                    (n, o) => writeln!(f, "{pad}Limit: {n} OFFSET {o}")?,
                }
                input.write(f, depth + 1)
            }
            Plan::Join {
                left,
                right,
                kind,
                on,
            } => {
                let on: Vec<String> = on.iter().map(|(l, r)| format!("{l} = {r}")).collect();
                let kind = match kind {
                    JoinKind::Inner => "Inner",
                    JoinKind::Left => "Left",
                    JoinKind::Right => "Right",
                    JoinKind::Full => "Full",
                };
                writeln!(f, "{pad}{kind}Join: on [{}]", on.join(" AND "))?;
                left.write(f, depth + 1)?;
                right.write(f, depth + 1)
            }
            Plan::Union { inputs } => {
                writeln!(f, "{pad}UnionAll")?;
                inputs.iter().try_for_each(|p| p.write(f, depth + 1))
            }
            Plan::Distinct { input } => {
                writeln!(f, "{pad}Distinct")?;
                input.write(f, depth + 1)
            }
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, 0)
    }
}

/// The columns of a `UNION ALL` of `inputs`: named as the first input's, each of the
/// type its inputs have in common (see [`union_type`]), or a type error naming the
/// column's position and two inputs whose types do not mix. Checked when the plan is
/// typed, so that a mismatch fails `Context::sql`, not the computation.
pub(crate) fn union_schema(inputs: &[Plan]) -> Result<SchemaRef, SqlError> {
    let Some(first) = inputs.first() else {
        return Err(SqlError::invalid("UNION ALL of nothing"));
    };
    let names = first.schema()?;
    let types = inputs
        .iter()
        .map(output_types)
        .collect::<Result<Vec<_>, _>>()?;
    let fields = names
        .fields()
        .iter()
        .enumerate()
        .map(|(c, f)| {
            let mut common = DataType::Null;
            for (i, t) in types.iter().enumerate() {
                let t = t.get(c).ok_or_else(|| {
                    SqlError::invalid(format!(
                        "UNION ALL: input {} has {} columns, the first {}",
                        i + 1,
                        t.len(),
                        names.fields().len()
                    ))
                })?;
                common = union_type(&common, t).ok_or_else(|| {
                    // The common type so far is that of an earlier input that does not
                    // mix with this one (a null column mixes with every type).
                    let j = types[..i]
                        .iter()
                        .position(|u| union_type(&u[c], t).is_none())
                        .unwrap_or(0);
                    SqlError::Type {
                        expr: format!("UNION ALL column {} (`{}`)", c + 1, f.name()),
                        why: format!(
                            "input {} gives {} and input {} gives {}, which have no common type",
                            j + 1,
                            dtype_name(&types[j][c]),
                            i + 1,
                            dtype_name(t)
                        ),
                    }
                })?;
            }
            Ok(Field::new(f.name(), value_type(common), true))
        })
        .collect::<Result<Vec<_>, SqlError>>()?;
    Ok(Arc::new(Schema::new(fields)))
}

/// The types of a plan's output columns, where a column of `NULL`s alone (`SELECT NULL`)
/// stays of the null type rather than float64 (its type in the schema), so that a
/// `UNION ALL` gives it the other inputs' type.
fn output_types(plan: &Plan) -> Result<Vec<DataType>, SqlError> {
    match plan {
        Plan::Project { input, exprs } => {
            let schema = input.schema()?;
            exprs
                .iter()
                .map(|(e, _)| Ok(e.data_type(&schema, OP)?))
                .collect()
        }
        Plan::Filter { input, .. }
        | Plan::Sort { input, .. }
        | Plan::Limit { input, .. }
        | Plan::Distinct { input } => output_types(input),
        other => Ok(other
            .schema()?
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect()),
    }
}

/// The type a `UNION ALL` column takes from two inputs' types, as PostgreSQL and DuckDB
/// widen: integers to int64 (the widest integer a cast here gives), integers with floats
/// to float64, strings to string, datetimes of different units (and dates) to
/// `datetime64[ns]`; a null column takes the other's type. `None` where the types have
/// nothing in common (a number and a string: PostgreSQL refuses it too).
fn union_type(a: &DataType, b: &DataType) -> Option<DataType> {
    use DataType::*;
    let string = |t: &DataType| matches!(t, Utf8 | LargeUtf8 | Utf8View);
    Some(match (a, b) {
        _ if a == b => a.clone(),
        (Null, t) | (t, Null) => t.clone(),
        _ if a.is_integer() && b.is_integer() => Int64,
        _ if a.is_numeric() && b.is_numeric() => Float64,
        _ if string(a) && string(b) => Utf8,
        _ if is_naive_datetime(a) && is_naive_datetime(b) => CastType::Timestamp.data_type(),
        _ => return None,
    })
}

/// A timestamp without a time zone, or a date: the values SQL's `TIMESTAMP '..'`
/// literals compare with (a date as its midnight).
pub(crate) fn is_naive_datetime(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Timestamp(_, None) | DataType::Date32 | DataType::Date64
    )
}

/// A column of nulls alone gets float64, as `with_column` gives it.
pub(crate) fn value_type(t: DataType) -> DataType {
    if t == DataType::Null {
        DataType::Float64
    } else {
        t
    }
}

fn field_of(schema: &Schema, name: &str) -> Result<Field, SqlError> {
    schema
        .field_with_name(name)
        .cloned()
        .map_err(|_| SqlError::UnknownColumn {
            name: name.to_string(),
            ambiguous: false,
            available: schema.fields().iter().map(|f| f.name().clone()).collect(),
        })
}
