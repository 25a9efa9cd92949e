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
fn comparisons(e: Expr, schema: &Schema, depth: usize) -> Expr {
    if depth > MAX_EXPR_DEPTH {
        return e;
    }
    let sub = |x: Expr| comparisons(x, schema, depth + 1);
    let boxed = |x: Box<Expr>| Box::new(comparisons(*x, schema, depth + 1));
    match e {
        Expr::Column(_) | Expr::Literal(_) => e,
        Expr::Binary { op, left, right } => {
            let (left, right) = (boxed(left), boxed(right));
            if !is_comparison(op) {
                return Expr::Binary { op, left, right };
            }
            let types = (
                left.data_type(schema, "sql"),
                right.data_type(schema, "sql"),
            );
            let (left, right) = match types {
                (Ok(l), Ok(r)) if l != r && is_naive_datetime(&l) && is_naive_datetime(&r) => {
                    (in_nanoseconds(left, &l), in_nanoseconds(right, &r))
                }
                _ => (left, right),
            };
            Expr::Binary { op, left, right }
        }
        Expr::Not(x) => Expr::Not(boxed(x)),
        Expr::IsNull(x) => Expr::IsNull(boxed(x)),
        Expr::Case {
            branches,
            otherwise,
        } => Expr::Case {
            branches: branches
                .into_iter()
                .map(|(when, then)| (sub(when), sub(then)))
                .collect(),
            otherwise: otherwise.map(boxed),
        },
        Expr::Cast { expr, to } => Expr::Cast {
            expr: boxed(expr),
            to,
        },
        Expr::DateTrunc { unit, expr } => Expr::DateTrunc {
            unit,
            expr: boxed(expr),
        },
        Expr::Like {
            expr,
            pattern,
            case_insensitive,
        } => Expr::Like {
            expr: boxed(expr),
            pattern,
            case_insensitive,
        },
    }
}

fn is_comparison(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq | BinOp::NotEq | BinOp::Lt | BinOp::LtEq | BinOp::Gt | BinOp::GtEq
    )
}

/// A datetime operand of type `t` as `datetime64[ns]` (unchanged where it is already).
fn in_nanoseconds(e: Box<Expr>, t: &DataType) -> Box<Expr> {
    if *t == CastType::Timestamp.data_type() {
        e
    } else {
        Box::new(Expr::Cast {
            expr: e,
            to: CastType::Timestamp,
        })
    }
}
