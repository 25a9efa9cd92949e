//! `GROUP BY DATE_TRUNC(unit, ts)` where `ts` is the table's sorted datetime index,
//! lowered onto the dataframe's own `resample(rule)` instead of the generic group-by over
//! a computed key column: the same question the dataframe API answers with
//! `df.select([..]).resample("1h").mean()`, so the query costs what those calls cost.
//!
//! SQL's rules are kept on top of resample's pandas rules: a bin without rows is no group
//! (resample leaves such bins out; the SQLite comparison tests hold it to that), `SUM` of
//! no values is null where pandas gives 0 (the sum is paired with the count of its column
//! and nulled where that count is 0), and `COUNT(*)` counts a constant column that is
//! never null.

use std::collections::BTreeMap;

use super::error::SqlError;
use super::join::join_groups;
use super::lower::project;
use super::plan::{AggCall, AggKind, Plan, Source};
use crate::dataframe::{col, lit, DataFrame, Expr, TruncUnit};

/// The column `COUNT(*)` counts: a constant, never null.
const ONE: &str = "__sql_resample_one";

/// The `resample` rule and the index column when an aggregate over `input` can be
/// lowered onto `resample`: one key, `DATE_TRUNC` of a fixed-length unit (second to day)
/// applied to the index of a dataframe table whose divisions are known (so it is
/// sorted) and whose field admits no nulls, reached through scans and `WHERE` filters only, and every aggregate one that
/// resample computes (`COUNT(*)`, `COUNT`, `SUM`, `AVG`, `MIN`, `MAX`) of a plain column
/// other than the index. `None`: the generic group-by.
pub(crate) fn resample_rule<'a>(
    input: &'a Plan,
    keys: &[(Expr, String)],
    aggs: &[AggCall],
) -> Option<(&'static str, &'a str)> {
    let [(Expr::DateTrunc { unit, expr }, _)] = keys else {
        return None;
    };
    let Expr::Column(ts) = expr.as_ref() else {
        return None;
    };
    // Months and years have no fixed length: resample's bins cannot express them.
    let rule = match unit {
        TruncUnit::Second => "1s",
        TruncUnit::Minute => "1min",
        TruncUnit::Hour => "1h",
        TruncUnit::Day => "1D",
        TruncUnit::Month | TruncUnit::Year => return None,
    };
    let index = sorted_index(input)?;
    if index != ts || aggs.is_empty() {
        return None;
    }
    let supported = aggs.iter().all(|a| match (a.kind, &a.arg) {
        (AggKind::CountStar, _) => true,
        (
            AggKind::Count | AggKind::Sum | AggKind::Avg | AggKind::Min | AggKind::Max,
            Some(Expr::Column(c)),
        ) => c != index,
        _ => false,
    });
    supported.then_some((rule, index))
}

/// The index column of the rows `plan` gives, when they are a dataframe table's rows
/// (maybe filtered) with the index kept, its divisions known and no null in it.
fn sorted_index(plan: &Plan) -> Option<&str> {
    match plan {
        Plan::Filter {
            input,
            having: false,
            ..
        } => sorted_index(input),
        Plan::Scan { table, columns, .. } => {
            let Source::Frame(df) = &table.source else {
                return None;
            };
            let index = table.index.as_deref()?;
            let kept = columns
                .as_ref()
                .is_none_or(|c| c.iter().any(|n| n == index));
            // A null timestamp is a group of SQL's own that resample leaves out: only an
            // index that cannot hold nulls (Arrow enforces a field's nullability).
            let no_nulls = df
                .schema()
                .field_with_name(index)
                .is_ok_and(|f| !f.is_nullable());
            (kept && no_nulls && df.index() == Some(index) && df.divisions().is_some())
                .then_some(index)
        }
        _ => None,
    }
}

/// The resample function computing an aggregate kind, by its name in column names.
fn func_of(kind: AggKind) -> &'static str {
    match kind {
        AggKind::CountStar | AggKind::Count => "count",
        AggKind::Sum => "sum",
        AggKind::Avg => "mean",
        AggKind::Min => "min",
        AggKind::Max => "max",
        _ => unreachable!("resample_rule admits only these"),
    }
}

/// The column holding `func` of `column` once the resamples are joined.
fn result_name(func: &str, column: &str) -> String {
    format!("__sql_{func}_{column}")
}

/// The aggregate as resamples of `df` (indexed by `index`, the `rule` from
/// [`resample_rule`]): one resample per function over the columns it aggregates, joined
/// on the bin when there are several, then projected to the key named `key` and the
/// aggregates in plan order.
pub(crate) fn resample_aggregate(
    df: &DataFrame,
    rule: &str,
    index: &str,
    key: &str,
    aggs: &[AggCall],
) -> Result<DataFrame, SqlError> {
    // The columns each function aggregates, in first-use order within a function.
    let mut wanted: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut want = |func: &'static str, column: &str| {
        let cols = wanted.entry(func).or_default();
        if !cols.iter().any(|c| c == column) {
            cols.push(column.to_string());
        }
    };
    let mut d = df.clone();
    for a in aggs {
        match (a.kind, &a.arg) {
            (AggKind::CountStar, _) => want("count", ONE),
            (kind, Some(Expr::Column(c))) => {
                want(func_of(kind), c);
                if kind == AggKind::Sum {
                    // Where the count is 0 the SQL sum is null.
                    want("count", c);
                }
            }
            _ => unreachable!("resample_rule admits only plain columns"),
        }
    }
    if aggs.iter().any(|a| a.kind == AggKind::CountStar) {
        d = d.with_column(ONE, lit(true));
    }
    let mut out: Option<DataFrame> = None;
    for (i, (func, columns)) in wanted.iter().enumerate() {
        let r = d.select(columns.iter().cloned()).resample(rule);
        let binned = match *func {
            "count" => r.count(),
            "sum" => r.sum(),
            "mean" => r.mean(),
            "min" => r.min(),
            _ => r.max(),
        };
        let bin = if i == 0 {
            index.to_string()
        } else {
            format!("__sql_bin{i}")
        };
        let mut renames: Vec<(String, String)> = columns
            .iter()
            .map(|c| (c.clone(), result_name(func, c)))
            .collect();
        if i > 0 {
            renames.push((index.to_string(), bin.clone()));
        }
        let binned = binned.rename(renames);
        if let Some(e) = binned.error() {
            return Err(e.clone().into());
        }
        out = Some(match out {
            None => binned,
            Some(left) => join_groups(&left, &binned, &[(index.to_string(), bin)])?,
        });
    }
    let out = out.expect("resample_rule admits only a non-empty aggregate list");
    let mut exprs: Vec<(Expr, String)> = vec![(col(index), key.to_string())];
    for a in aggs {
        let e = match (a.kind, &a.arg) {
            (AggKind::CountStar, _) => col(result_name("count", ONE)),
            (AggKind::Sum, Some(Expr::Column(c))) => Expr::Case {
                branches: vec![(
                    col(result_name("count", c)).gt(lit(0i64)),
                    col(result_name("sum", c)),
                )],
                otherwise: None,
            },
            (kind, Some(Expr::Column(c))) => col(result_name(func_of(kind), c)),
            _ => unreachable!("resample_rule admits only plain columns"),
        };
        exprs.push((e, a.name.clone()));
    }
    project(&out, &exprs)
}
