//! `GROUP BY DATE_TRUNC(unit, ts)` where `ts` is the table's sorted datetime index,
//! lowered onto the dataframe's own `resample(rule)` instead of the generic group-by over
//! a computed key column: the same question the dataframe API answers with
//! `df.select([..]).resample("1h").mean()`, so the query costs what those calls cost.
//!
//! Taken only where one resample call answers the whole query, as one pass over the rows:
//! every aggregate the same function (`COUNT(*)` and `COUNT(x)` both counts). Two calls
//! joined on the bin measured no faster than the generic group-by, three 1.4x slower
//! (BENCHMARKS.md), so mixed functions keep the generic path.
//!
//! SQL's rules on top of resample's pandas rules: a bin without rows is no group
//! (resample leaves such bins out; the SQLite comparison tests hold it to that); `SUM` of
//! no values is null where pandas gives 0, so a `SUM` takes this path only over a column
//! that admits no nulls (a bin with rows then always has values); a null timestamp is a
//! group of its own in SQL that resample leaves out, so the index must admit no nulls;
//! `COUNT(*)` counts a constant column that is never null.

use arrow_schema::Schema;

use super::error::SqlError;
use super::lower::project;
use super::plan::{AggCall, AggKind, Plan, Source};
use crate::dataframe::{col, lit, DataFrame, Expr, Resample, TruncUnit};

/// The column `COUNT(*)` counts: a constant, never null.
const ONE: &str = "__sql_resample_one";

/// How an aggregate becomes one resample call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ResamplePlan<'a> {
    /// The resample rule (`"1h"`).
    pub(crate) rule: &'static str,
    /// The sorted datetime index the key truncates.
    pub(crate) index: &'a str,
    /// The resample function every aggregate is.
    func: Func,
}

/// A resample function SQL's aggregates map onto.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Func {
    Count,
    Sum,
    Mean,
    Min,
    Max,
}

impl Func {
    fn of(kind: AggKind) -> Option<Func> {
        Some(match kind {
            AggKind::CountStar | AggKind::Count => Func::Count,
            AggKind::Sum => Func::Sum,
            AggKind::Avg => Func::Mean,
            AggKind::Min => Func::Min,
            AggKind::Max => Func::Max,
            AggKind::CountDistinct | AggKind::Std | AggKind::Var => return None,
        })
    }

    fn apply(self, r: &Resample) -> DataFrame {
        match self {
            Func::Count => r.count(),
            Func::Sum => r.sum(),
            Func::Mean => r.mean(),
            Func::Min => r.min(),
            Func::Max => r.max(),
        }
    }
}

/// The resample call answering an aggregate over `input`, when there is one: one key,
/// `DATE_TRUNC` of a fixed-length unit (second to day) applied to the index of a
/// dataframe table whose divisions are known (so it is sorted) and whose field admits no
/// nulls, reached through scans and `WHERE` filters only; every aggregate of a plain
/// column other than the index (or `COUNT(*)`) and all of one resample function; a `SUM`
/// only of a column that admits no nulls. `None`: the generic group-by.
pub(crate) fn resample_rule<'a>(
    input: &'a Plan,
    keys: &[(Expr, String)],
    aggs: &[AggCall],
) -> Option<ResamplePlan<'a>> {
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
    let (index, schema) = sorted_index(input)?;
    let func = Func::of(aggs.first()?.kind)?;
    let fits = |a: &AggCall| {
        Func::of(a.kind) == Some(func)
            && match (a.kind, &a.arg) {
                (AggKind::CountStar, _) => true,
                (_, Some(Expr::Column(c))) => {
                    c != index
                        && (a.kind != AggKind::Sum
                            || schema.field_with_name(c).is_ok_and(|f| !f.is_nullable()))
                }
                _ => false,
            }
    };
    (index == ts && aggs.iter().all(fits)).then_some(ResamplePlan { rule, index, func })
}

/// The index column of the rows `plan` gives and their schema, when they are a dataframe
/// table's rows (maybe filtered) with the index kept, its divisions known and no null in
/// it.
fn sorted_index(plan: &Plan) -> Option<(&str, std::sync::Arc<Schema>)> {
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
            let schema = df.schema();
            // Arrow enforces a field's nullability, so a field that admits no nulls has
            // none.
            let no_nulls = schema
                .field_with_name(index)
                .is_ok_and(|f| !f.is_nullable());
            (kept && no_nulls && df.index() == Some(index) && df.divisions().is_some())
                .then_some((index, schema))
        }
        _ => None,
    }
}

/// The aggregate as one resample call on `df` (the lowered input of the plan `how` was
/// made for), projected to the key named `key` and the aggregates in plan order.
pub(crate) fn resample_aggregate(
    df: &DataFrame,
    how: ResamplePlan<'_>,
    key: &str,
    aggs: &[AggCall],
) -> Result<DataFrame, SqlError> {
    let arg = |a: &AggCall| match &a.arg {
        Some(Expr::Column(c)) if a.kind != AggKind::CountStar => c.clone(),
        _ => ONE.to_string(),
    };
    let mut columns: Vec<String> = Vec::new();
    for a in aggs {
        let c = arg(a);
        if !columns.contains(&c) {
            columns.push(c);
        }
    }
    let mut d = df.clone();
    if columns.iter().any(|c| c == ONE) {
        d = d.with_column(ONE, lit(true));
    }
    let binned = how.func.apply(&d.select(columns).resample(how.rule));
    if let Some(e) = binned.error() {
        return Err(e.clone().into());
    }
    let mut exprs: Vec<(Expr, String)> = vec![(col(how.index), key.to_string())];
    exprs.extend(aggs.iter().map(|a| (col(arg(a)), a.name.clone())));
    project(&binned, &exprs)
}
