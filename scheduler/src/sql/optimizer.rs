//! Rewrites of the logical plan before lowering: filters move down to the scans (a
//! dataframe scan filters before anything else runs; a file scan filters as it reads and
//! a Parquet scan skips row groups by statistics), and each scan reads only the columns
//! something above it uses.

use std::collections::BTreeSet;

use super::plan::{JoinKind, Plan, Source};
use crate::dataframe::{BinOp, Expr};

/// The plan with filters pushed down and columns pruned.
pub(crate) fn optimize(plan: Plan) -> Plan {
    let plan = push(plan, Vec::new());
    prune(plan, None)
}

/// `plan` with `preds` (conjuncts that must hold on its output) applied as low as they go.
fn push(plan: Plan, mut preds: Vec<Expr>) -> Plan {
    match plan {
        Plan::Scan {
            table,
            columns,
            mut filters,
        } => {
            filters.append(&mut preds);
            Plan::Scan {
                table,
                columns,
                filters,
            }
        }
        Plan::Filter {
            input,
            predicate,
            having: false,
        } => {
            split(predicate, &mut preds);
            push(*input, preds)
        }
        Plan::Project { input, exprs } => {
            // A condition on renamed or passed-through columns holds below as well.
            let mut below = Vec::new();
            let mut above = Vec::new();
            for p in preds {
                match rename(&p, &exprs) {
                    Some(q) => below.push(q),
                    None => above.push(p),
                }
            }
            wrap(
                Plan::Project {
                    input: Box::new(push(*input, below)),
                    exprs,
                },
                above,
            )
        }
        Plan::Join {
            left,
            right,
            kind,
            on,
        } => {
            let names = |p: &Plan| -> BTreeSet<String> {
                p.schema()
                    .map(|s| s.fields().iter().map(|f| f.name().clone()).collect())
                    .unwrap_or_default()
            };
            let (ln, rn) = (names(&left), names(&right));
            let (mut lp, mut rp, mut above) = (Vec::new(), Vec::new(), Vec::new());
            for p in preds {
                // A side whose unmatched rows the join keeps may not be filtered below
                // it: a row the filter removes would come back null-extended.
                let cols: Vec<&str> = p.columns();
                if matches!(kind, JoinKind::Inner | JoinKind::Left)
                    && !cols.is_empty()
                    && cols.iter().all(|c| ln.contains(*c))
                {
                    lp.push(p);
                } else if matches!(kind, JoinKind::Inner | JoinKind::Right)
                    && !cols.is_empty()
                    && cols.iter().all(|c| rn.contains(*c))
                {
                    rp.push(p);
                } else {
                    above.push(p);
                }
            }
            wrap(
                Plan::Join {
                    left: Box::new(push(*left, lp)),
                    right: Box::new(push(*right, rp)),
                    kind,
                    on,
                },
                above,
            )
        }
        Plan::Filter {
            input,
            predicate,
            having: true,
        } => wrap(
            Plan::Filter {
                input: Box::new(push(*input, Vec::new())),
                predicate,
                having: true,
            },
            preds,
        ),
        Plan::Aggregate { input, keys, aggs } => wrap(
            Plan::Aggregate {
                input: Box::new(push(*input, Vec::new())),
                keys,
                aggs,
            },
            preds,
        ),
        Plan::Sort {
            input,
            keys,
            limit,
            offset,
        } => wrap(
            Plan::Sort {
                input: Box::new(push(*input, Vec::new())),
                keys,
                limit,
                offset,
            },
            preds,
        ),
        Plan::Limit { input, n, offset } => wrap(
            Plan::Limit {
                input: Box::new(push(*input, Vec::new())),
                n,
                offset,
            },
            preds,
        ),
        Plan::Distinct { input } => wrap(
            Plan::Distinct {
                input: Box::new(push(*input, Vec::new())),
            },
            preds,
        ),
        Plan::Union { inputs } => wrap(
            Plan::Union {
                inputs: inputs.into_iter().map(|p| push(p, Vec::new())).collect(),
            },
            preds,
        ),
    }
}

fn wrap(plan: Plan, preds: Vec<Expr>) -> Plan {
    match preds.into_iter().reduce(|a, b| a.and(b)) {
        Some(predicate) => Plan::Filter {
            input: Box::new(plan),
            predicate,
            having: false,
        },
        None => plan,
    }
}

/// The conjuncts of `e` appended to `out`, in order.
fn split(e: Expr, out: &mut Vec<Expr>) {
    let mut todo = vec![e];
    while let Some(mut e) = todo.pop() {
        match &mut e {
            Expr::Binary {
                op: BinOp::And,
                left,
                right,
            } => {
                todo.push(right.take());
                todo.push(left.take());
            }
            _ => out.push(e),
        }
    }
}

/// `p` over a projection's output rewritten over its input, where every column it reads
/// is a plain column of the input.
fn rename(p: &Expr, exprs: &[(Expr, String)]) -> Option<Expr> {
    let mut ok = true;
    let out = map_columns(p, &mut |c| match exprs.iter().find(|(_, n)| n == c) {
        Some((Expr::Column(src), _)) => src.clone(),
        _ => {
            ok = false;
            c.to_string()
        }
    });
    ok.then_some(out)
}

/// `e` with each column name replaced by `f(name)`, without recursion.
fn map_columns(e: &Expr, f: &mut dyn FnMut(&str) -> String) -> Expr {
    let mut out = e.clone();
    let mut todo = vec![&mut out];
    while let Some(x) = todo.pop() {
        if let Expr::Column(c) = x {
            *c = f(c);
        }
        x.for_each_child_mut(|c| todo.push(c));
    }
    out
}

/// `plan` reading only what produces `required` (all of its output when `None`).
fn prune(plan: Plan, required: Option<BTreeSet<String>>) -> Plan {
    let with = |mut need: BTreeSet<String>, e: &Expr| {
        need.extend(e.columns().into_iter().map(str::to_string));
        need
    };
    match plan {
        Plan::Scan {
            table,
            columns,
            filters,
        } => {
            let columns = match required {
                None => columns,
                Some(req) => {
                    let mut keep: Vec<String> = table
                        .schema
                        .fields()
                        .iter()
                        .map(|f| f.name().clone())
                        .filter(|n| req.contains(n))
                        .collect();
                    // A file scan needs a column to count rows by (a dataframe scan keeps
                    // its index).
                    let has_index =
                        matches!(table.source, Source::Frame(_)) && table.index.is_some();
                    if keep.is_empty() && !has_index {
                        keep.extend(table.schema.fields().first().map(|f| f.name().clone()));
                    }
                    Some(keep)
                }
            };
            Plan::Scan {
                table,
                columns,
                filters,
            }
        }
        Plan::Filter {
            input,
            predicate,
            having,
        } => {
            let need = required.map(|r| with(r, &predicate));
            Plan::Filter {
                input: Box::new(prune(*input, need)),
                predicate,
                having,
            }
        }
        Plan::Project { input, mut exprs } => {
            if let Some(req) = &required {
                let kept: Vec<(Expr, String)> = exprs
                    .iter()
                    .filter(|(_, n)| req.contains(n))
                    .cloned()
                    .collect();
                if !kept.is_empty() {
                    exprs = kept;
                }
            }
            let need = exprs.iter().fold(BTreeSet::new(), |n, (e, _)| with(n, e));
            Plan::Project {
                input: Box::new(prune(*input, Some(need))),
                exprs,
            }
        }
        Plan::Aggregate { input, keys, aggs } => {
            let mut need = keys.iter().fold(BTreeSet::new(), |n, (e, _)| with(n, e));
            for a in &aggs {
                if let Some(e) = &a.arg {
                    need = with(need, e);
                }
            }
            Plan::Aggregate {
                input: Box::new(prune(*input, Some(need))),
                keys,
                aggs,
            }
        }
        Plan::Sort {
            input,
            keys,
            limit,
            offset,
        } => {
            let need = required.map(|mut r| {
                r.extend(keys.iter().map(|k| k.column.clone()));
                r
            });
            Plan::Sort {
                input: Box::new(prune(*input, need)),
                keys,
                limit,
                offset,
            }
        }
        Plan::Limit { input, n, offset } => Plan::Limit {
            input: Box::new(prune(*input, required)),
            n,
            offset,
        },
        Plan::Distinct { input } => Plan::Distinct {
            input: Box::new(prune(*input, None)),
        },
        Plan::Union { inputs } => Plan::Union {
            inputs: inputs.into_iter().map(|p| prune(p, None)).collect(),
        },
        Plan::Join {
            left,
            right,
            kind,
            on,
        } => {
            let side = |p: &Plan, keys: Vec<&String>| -> Option<BTreeSet<String>> {
                let req = required.as_ref()?;
                let names: BTreeSet<String> = p
                    .schema()
                    .ok()?
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect();
                let mut need: BTreeSet<String> =
                    req.iter().filter(|n| names.contains(*n)).cloned().collect();
                need.extend(keys.into_iter().cloned());
                Some(need)
            };
            let ln = side(&left, on.iter().map(|(l, _)| l).collect());
            let rn = side(&right, on.iter().map(|(_, r)| r).collect());
            Plan::Join {
                left: Box::new(prune(*left, ln)),
                right: Box::new(prune(*right, rn)),
                kind,
                on,
            }
        }
    }
}
