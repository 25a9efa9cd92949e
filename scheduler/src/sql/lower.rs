//! Lowering: each logical plan node becomes dataframe operations, so a query is a lazy
//! [`DataFrame`] whose graph is the same kind of graph the dataframe API builds.
//!
//! | plan node | dataframe operations |
//! | --- | --- |
//! | Scan of a dataframe | `filter(pushed filters)`, `select(pushed columns)` |
//! | Scan of files | one read task per file, decoding only the needed columns |
//! | Filter, Having | `filter` |
//! | Project | one fused task per partition computing the columns |
//! | Aggregate by `DATE_TRUNC(unit, the sorted index)`, all one function | `resample(rule).mean()` (or `sum`, `count`, ..; see `resample`) |
//! | Aggregate | `with_column` for computed keys and arguments, `groupby(keys).agg(..)`; `COUNT(DISTINCT x)` is a `groupby(keys + [x])` then a count per key, joined to the rest |
//! | Sort with LIMIT k (OFFSET m) | per-partition top-(k + m), merged as a tree, m skipped |
//! | Sort, Limit, Offset | gathered into one partition |
//! | Join | broadcast or hash-partitioned (see `join`) |
//! | Union | the inputs' partitions, one after the other, cast to the common types |
//! | Distinct | `groupby(all columns)` |
//!
//! Every `groupby` here has SQL's keys (see `sql_groupby`).

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use super::error::SqlError;
use super::join::{join, join_groups};
use super::plan::{union_schema, value_type, AggCall, AggKind, Plan, Source};
use super::resample::{resample_aggregate, resample_rule};
use super::scan::{scan, Format};
use super::sort::{limit, sort};
use crate::dataframe::{agg, col, lit, Agg, CastType, DataFrame, Expr, GroupBy};

/// The dataframe computing `plan`.
pub(crate) fn lower(plan: &Plan) -> Result<DataFrame, SqlError> {
    let df = match plan {
        Plan::Scan {
            table,
            columns,
            filters,
        } => match &table.source {
            Source::Frame(df) => {
                let mut df = df.clone();
                if let Some(p) = filters.iter().cloned().reduce(|a, b| a.and(b)) {
                    df = df.filter(p);
                }
                if let Some(c) = columns {
                    df = df.select(c.iter().cloned());
                }
                df
            }
            Source::Csv(files) | Source::Parquet(files) => {
                let format = match table.source {
                    Source::Csv(_) => Format::Csv,
                    _ => Format::Parquet,
                };
                let all: Vec<String> = table
                    .schema
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect();
                scan(
                    format,
                    files,
                    &table.schema,
                    columns.as_ref().unwrap_or(&all),
                    filters,
                )?
            }
        },
        Plan::Filter {
            input, predicate, ..
        } => lower(input)?.filter(predicate.clone()),
        Plan::Project { input, exprs } => project(&lower(input)?, exprs)?,
        Plan::Aggregate { input, keys, aggs } => match resample_rule(input, keys, aggs) {
            Some(how) => resample_aggregate(&lower(input)?, how, &keys[0].1, aggs)?,
            None => aggregate(&lower(input)?, keys, aggs)?,
        },
        Plan::Sort {
            input,
            keys,
            limit: k,
            offset,
        } => sort(&lower(input)?, keys, *k, *offset)?,
        Plan::Limit { input, n, offset } => limit(&lower(input)?, *n, *offset)?,
        Plan::Join {
            left,
            right,
            kind,
            on,
        } => join(&lower(left)?, &lower(right)?, *kind, on)?,
        Plan::Union { inputs } => union(inputs)?,
        Plan::Distinct { input } => distinct(&lower(input)?)?,
    };
    if let Some(e) = df.error() {
        return Err(e.clone().into());
    }
    Ok(df)
}

/// Exactly the columns `exprs` computes, in one task per partition (fused with the
/// pending row-wise steps). The index is kept when it passes through unchanged.
pub(crate) fn project(df: &DataFrame, exprs: &[(Expr, String)]) -> Result<DataFrame, SqlError> {
    if let Some(e) = df.error() {
        return Err(e.clone().into());
    }
    let input = df.schema();
    let fields = exprs
        .iter()
        .map(|(e, name)| {
            Ok(Field::new(
                name,
                value_type(e.data_type(&input, "sql")?),
                true,
            ))
        })
        .collect::<Result<Vec<_>, SqlError>>()?;
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let index = df
        .index()
        .filter(|ix| exprs.iter().any(|(e, n)| n == ix && *e == col(*ix)))
        .map(str::to_string);
    let divisions = index.as_ref().and_then(|_| df.divisions());
    let (s, ex) = (schema.clone(), exprs.to_vec());
    let parts = df.map_partitions("sql-project", exprs.to_vec(), move |b| {
        project_batch(b, &ex, &s)
    })?;
    Ok(DataFrame::from_parts(
        parts,
        schema,
        index,
        divisions,
        "sql-project",
    ))
}

fn project_batch(
    batch: &RecordBatch,
    exprs: &[(Expr, String)],
    schema: &SchemaRef,
) -> Result<RecordBatch, ArrowError> {
    let columns = exprs
        .iter()
        .zip(schema.fields())
        .map(|((e, _), f)| {
            let v = e.evaluate(batch)?;
            if v.data_type() == f.data_type() {
                Ok(v)
            } else {
                arrow_cast::cast(v.as_ref(), f.data_type())
            }
        })
        .collect::<Result<Vec<_>, ArrowError>>()?;
    RecordBatch::try_new_with_options(
        schema.clone(),
        columns,
        &arrow_array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
}

/// A `GROUP BY` (or a whole-table aggregate) on `groupby(..).agg(..)`: keys, then the
/// aggregates, in plan order, with SQL's nulls: a null key is a group of its own, `SUM`
/// of no values is null (pandas: 0), and a whole-table aggregate gives one row even over
/// no rows.
fn aggregate(
    df: &DataFrame,
    keys: &[(Expr, String)],
    aggs: &[AggCall],
) -> Result<DataFrame, SqlError> {
    if keys.is_empty() && !aggs.is_empty() && aggs.iter().all(|a| a.kind == AggKind::CountStar) {
        return count_rows(df, aggs);
    }
    let mut d = df.clone();
    let mut key_names = Vec::new();
    for (e, name) in keys {
        if *e != col(name.as_str()) {
            d = d.with_column(name.clone(), e.clone());
        }
        key_names.push(name.clone());
    }
    let whole_table = key_names.is_empty();
    if whole_table {
        // One group: a constant key.
        d = d.with_column("__all", lit(0i64));
        key_names.push("__all".to_string());
    }
    // `COUNT(*)` counts a column that is never null: the constant key of a whole-table
    // aggregate, else a constant added for it (a group key may be null).
    let star = if whole_table {
        "__all".to_string()
    } else if aggs.iter().any(|a| a.kind == AggKind::CountStar) {
        d = d.with_column("__one", lit(true));
        "__one".to_string()
    } else {
        String::new()
    };
    // Each computed argument becomes a column.
    let mut args = Vec::new();
    for (i, a) in aggs.iter().enumerate() {
        args.push(match &a.arg {
            None => star.clone(),
            Some(Expr::Column(c)) => c.clone(),
            Some(e) => {
                let n = format!("__arg{i}");
                d = d.with_column(n.clone(), e.clone());
                n
            }
        });
    }
    let simple: Vec<Agg> = aggs
        .iter()
        .zip(&args)
        .filter(|(a, _)| a.kind != AggKind::CountDistinct)
        .map(|(a, c)| {
            let c = c.as_str();
            match a.kind {
                AggKind::CountStar | AggKind::Count => agg::count(c),
                AggKind::Sum => agg::sum(c),
                AggKind::Avg => agg::mean(c),
                AggKind::Min => agg::min(c),
                AggKind::Max => agg::max(c),
                AggKind::Std => agg::std(c),
                AggKind::Var => agg::var(c),
                AggKind::CountDistinct => unreachable!("filtered out"),
            }
            .alias(a.name.clone())
        })
        .collect();
    let mut parts: Vec<DataFrame> = Vec::new();
    if !simple.is_empty() {
        // SQL's SUM of no values is null (pandas: 0).
        parts.push(
            sql_groupby(&d, key_names.clone())
                .null_empty_sums()
                .agg(simple),
        );
    }
    for (a, c) in aggs.iter().zip(&args) {
        if a.kind != AggKind::CountDistinct {
            continue;
        }
        // The distinct (keys, value) pairs as groups (a null value among them), then
        // their count of values per key: both steps tree reductions.
        let mut pair = key_names.clone();
        pair.push(c.clone());
        let distinct = sql_groupby(&d, pair).agg([agg::count(c.as_str()).alias("__n")]);
        parts.push(
            sql_groupby(&distinct, key_names.clone())
                .agg([agg::count(c.as_str()).alias(a.name.clone())]),
        );
    }
    for p in &parts {
        if let Some(e) = p.error() {
            return Err(e.clone().into());
        }
    }
    let mut single = parts.len() == 1 && !whole_table;
    if parts.is_empty() {
        // Keys alone (`SELECT k FROM t GROUP BY k`): the groups, with a count dropped below.
        parts.push(
            sql_groupby(&d, key_names.clone())
                .agg([agg::count(key_names[0].as_str()).alias("__n")]),
        );
        single = false;
    }
    if let Some(e) = parts[0].error() {
        return Err(e.clone().into());
    }
    let mut out = parts.remove(0);
    for (i, p) in parts.into_iter().enumerate() {
        // Later parts' key columns renamed, joined to the first on the keys.
        let renamed: Vec<(String, String)> = key_names
            .iter()
            .map(|k| (k.clone(), format!("__k{i}_{k}")))
            .collect();
        let p = p.rename(renamed.clone());
        let on: Vec<(String, String)> = renamed.into_iter().collect();
        out = join_groups(&out, &p, &on)?;
    }
    if single {
        return Ok(out);
    }
    let mut exprs: Vec<(Expr, String)> = keys
        .iter()
        .map(|(_, n)| (col(n.as_str()), n.clone()))
        .collect();
    exprs.extend(aggs.iter().map(|a| (col(a.name.as_str()), a.name.clone())));
    let out = project(&out, &exprs)?;
    if whole_table {
        return one_row_at_least(&out, aggs);
    }
    Ok(out)
}

/// `df.groupby(keys)` with SQL's keys: a null key is a group (sorted first), and NaN is
/// a value, not missing, so all NaNs are one group apart from the null one (sorted after
/// every number, as PostgreSQL orders NaN). The dataframe API keeps pandas' rule, where
/// both are missing and dropped.
fn sql_groupby(df: &DataFrame, keys: Vec<String>) -> GroupBy {
    df.groupby(keys).keep_null_keys().nan_keys_apart()
}

/// A whole-table aggregate's result, with SQL's one row where there were no rows to
/// group: counts 0, every other aggregate null.
fn one_row_at_least(df: &DataFrame, aggs: &[AggCall]) -> Result<DataFrame, SqlError> {
    let schema = df.schema();
    let counts: Vec<bool> = schema
        .fields()
        .iter()
        .map(|f| {
            aggs.iter().any(|a| {
                a.name == *f.name()
                    && matches!(
                        a.kind,
                        AggKind::CountStar | AggKind::Count | AggKind::CountDistinct
                    )
            })
        })
        .collect();
    let s = schema.clone();
    let node = crate::try_map_many_pure(
        "sql-one-row",
        counts.clone(),
        &df.to_delayed(),
        move |b: &[&RecordBatch]| {
            let all = arrow_select::concat::concat_batches(&s, b.iter().copied())?;
            if all.num_rows() > 0 {
                return Ok(all);
            }
            let columns = s
                .fields()
                .iter()
                .zip(&counts)
                .map(|(f, &count)| {
                    if count {
                        Arc::new(arrow_array::Int64Array::from(vec![0i64])) as arrow_array::ArrayRef
                    } else {
                        arrow_array::new_null_array(f.data_type(), 1)
                    }
                })
                .collect();
            RecordBatch::try_new(s.clone(), columns)
        },
    );
    Ok(DataFrame::from_parts(
        vec![node],
        schema,
        None,
        None,
        "sql-aggregate",
    ))
}

/// Each distinct row once: a `groupby` over every column (rows with nulls grouped too).
fn distinct(df: &DataFrame) -> Result<DataFrame, SqlError> {
    let schema = df.schema();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let Some(first) = names.first() else {
        return Ok(df.clone());
    };
    let grouped = sql_groupby(df, names.clone()).agg([agg::count(first.as_str()).alias("__n")]);
    let exprs: Vec<(Expr, String)> = names.iter().map(|n| (col(n.as_str()), n.clone())).collect();
    project(&grouped, &exprs)
}

/// The inputs' partitions one after another, each column converted to the type the
/// inputs have in common (checked when the plan was typed: see `union_schema`).
fn union(inputs: &[Plan]) -> Result<DataFrame, SqlError> {
    let target = union_schema(inputs)?;
    let mut parts = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let f = lower(input)?;
        let s = f.schema();
        if s.fields().len() != target.fields().len() {
            return Err(SqlError::invalid(format!(
                "UNION ALL: input {} has {} columns, the first {}",
                i + 1,
                s.fields().len(),
                target.fields().len()
            )));
        }
        let mut exprs = Vec::new();
        for (a, b) in target.fields().iter().zip(s.fields()) {
            let mut e = col(b.name().as_str());
            if a.data_type() != b.data_type() {
                e = Expr::Cast {
                    expr: Box::new(e),
                    to: cast_type(a.data_type()).ok_or_else(|| SqlError::Type {
                        expr: format!("UNION ALL column `{}`", a.name()),
                        why: format!("no conversion from {} to {}", b.data_type(), a.data_type()),
                    })?,
                };
            }
            exprs.push((e, a.name().clone()));
        }
        parts.extend(project(&f, &exprs)?.to_delayed());
    }
    Ok(DataFrame::from_parts(
        parts,
        target,
        None,
        None,
        "sql-union",
    ))
}

/// The cast giving values of type `t`: each type `union_type` converts to has one.
fn cast_type(t: &DataType) -> Option<CastType> {
    [
        CastType::Boolean,
        CastType::Int64,
        CastType::Float64,
        CastType::Utf8,
        CastType::Timestamp,
    ]
    .into_iter()
    .find(|c| c.data_type() == *t)
}

/// `SELECT COUNT(*) FROM ..`: the partitions' row counts summed (`DataFrame::len`), no
/// grouping; one row, also over no rows.
fn count_rows(df: &DataFrame, aggs: &[AggCall]) -> Result<DataFrame, SqlError> {
    if let Some(e) = df.error() {
        return Err(e.clone().into());
    }
    let fields: Vec<Field> = aggs
        .iter()
        .map(|a| Field::new(&a.name, arrow_schema::DataType::Int64, true))
        .collect();
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let s = schema.clone();
    let node = crate::try_map_many_pure(
        "sql-count",
        aggs.iter().map(|a| a.name.clone()).collect::<Vec<_>>(),
        &[df.len()],
        move |n: &[&usize]| {
            let n = i64::try_from(*n[0]).map_err(|e| ArrowError::ComputeError(e.to_string()))?;
            let columns = s
                .fields()
                .iter()
                .map(|_| Arc::new(arrow_array::Int64Array::from(vec![n])) as arrow_array::ArrayRef)
                .collect();
            RecordBatch::try_new(s.clone(), columns)
        },
    );
    Ok(DataFrame::from_parts(
        vec![node],
        schema,
        None,
        None,
        "sql-count",
    ))
}
