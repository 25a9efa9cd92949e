//! Implicit conversions SQL makes that the dataframe expressions do not: a comparison
//! between datetimes of different units (or a date and a datetime) compares them in one
//! unit.
//!
//! A `TIMESTAMP '2024-01-02 03:04:05'` literal is a `datetime64[ns]` (the one timestamp
//! type `CAST` gives), while a CSV reader infers seconds for such text and Parquet keeps
//! the file's milliseconds or microseconds; the expressions compare only equal types, so
//! `t > TIMESTAMP '..'` was a type error. Here the side that is not in nanoseconds is
//! cast to nanoseconds: exact for every value (a literal's fraction of a second is kept,
//! so `t >= TIMESTAMP '..05.5'` is not `t >= ..05`), and the column keeps its own unit
//! outside the comparison. A value beyond nanoseconds' range (before 1677 or after 2262)
//! fails the computation rather than comparing wrongly. Time zones are left alone: a
//! zoned and a naive timestamp stay a type error.

use arrow_schema::{DataType, Schema};

use super::plan::{is_naive_datetime, AggCall, Plan};
use crate::dataframe::expr::MAX_EXPR_DEPTH;
use crate::dataframe::{BinOp, CastType, Expr};

/// `plan` with every comparison of datetimes of different units converted (see the module
/// docs). Expressions whose types cannot be found are left as they are, for the type
/// check that follows to report.
pub(crate) fn coerce(plan: Plan) -> Plan {
    let schema_of = |p: &Plan| p.schema().ok();
    match plan {
        Plan::Scan { .. } => plan,
        Plan::Filter {
            input,
            predicate,
            having,
        } => {
            let input = coerce(*input);
            let predicate = match schema_of(&input) {
                Some(s) => comparisons(predicate, &s, 0),
                None => predicate,
            };
            Plan::Filter {
                input: Box::new(input),
                predicate,
                having,
            }
        }
        Plan::Project { input, exprs } => {
            let input = coerce(*input);
            let exprs = match schema_of(&input) {
                Some(s) => exprs
                    .into_iter()
                    .map(|(e, n)| (comparisons(e, &s, 0), n))
                    .collect(),
                None => exprs,
            };
            Plan::Project {
                input: Box::new(input),
                exprs,
            }
        }
        Plan::Aggregate { input, keys, aggs } => {
            let input = coerce(*input);
            let (keys, aggs) = match schema_of(&input) {
                Some(s) => (
                    keys.into_iter()
                        .map(|(e, n)| (comparisons(e, &s, 0), n))
                        .collect(),
                    aggs.into_iter()
                        .map(|a| AggCall {
                            arg: a.arg.map(|e| comparisons(e, &s, 0)),
                            ..a
                        })
                        .collect(),
                ),
                None => (keys, aggs),
            };
            Plan::Aggregate {
                input: Box::new(input),
                keys,
                aggs,
            }
        }
        Plan::Sort {
            input,
            keys,
            limit,
            offset,
        } => Plan::Sort {
            input: Box::new(coerce(*input)),
            keys,
            limit,
            offset,
        },
        Plan::Limit { input, n, offset } => Plan::Limit {
            input: Box::new(coerce(*input)),
            n,
            offset,
        },
        Plan::Join {
            left,
            right,
            kind,
            on,
        } => Plan::Join {
            left: Box::new(coerce(*left)),
            right: Box::new(coerce(*right)),
            kind,
            on,
        },
        Plan::Union { inputs } => Plan::Union {
            inputs: inputs.into_iter().map(coerce).collect(),
        },
        Plan::Distinct { input } => Plan::Distinct {
            input: Box::new(coerce(*input)),
        },
    }
}

/// `e` with the datetime operands of each comparison in it brought to nanoseconds where
/// the two sides' types differ. Beyond the expressions' depth limit nothing is changed
/// (typing refuses such an expression anyway), so this recursion is bounded.
fn comparisons(mut e: Expr, schema: &Schema, depth: usize) -> Expr {
    convert(&mut e, schema, depth);
    e
}

/// [`comparisons`] in place: the children first, so that a comparison's operands are
/// typed as converted.
fn convert(e: &mut Expr, schema: &Schema, depth: usize) {
    if depth > MAX_EXPR_DEPTH {
        return;
    }
    e.for_each_child_mut(|c| convert(c, schema, depth + 1));
    let Expr::Binary { op, left, right } = e else {
        return;
    };
    if !is_comparison(*op) {
        return;
    }
    let types = (
        left.data_type(schema, "sql"),
        right.data_type(schema, "sql"),
    );
    if let (Ok(l), Ok(r)) = types {
        if l != r && is_naive_datetime(&l) && is_naive_datetime(&r) {
            in_nanoseconds(left, &l);
            in_nanoseconds(right, &r);
        }
    }
}

fn is_comparison(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq | BinOp::NotEq | BinOp::Lt | BinOp::LtEq | BinOp::Gt | BinOp::GtEq
    )
}

/// A datetime operand of type `t` made `datetime64[ns]` (unchanged where it is already).
fn in_nanoseconds(e: &mut Expr, t: &DataType) {
    if *t != CastType::Timestamp.data_type() {
        let operand = e.take();
        *e = Expr::Cast {
            expr: Box::new(operand),
            to: CastType::Timestamp,
        };
    }
}
