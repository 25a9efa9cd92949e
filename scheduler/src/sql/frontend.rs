//! The front end: sqlparser's syntax tree of one query turned into a [`Plan`], with names
//! resolved against the registered tables and every expression type-checked.

use std::collections::BTreeMap;
use std::sync::Arc;

use sqlparser::ast;

use super::error::SqlError;
use super::plan::{AggCall, AggKind, JoinKind, Plan, SortKey, Table};
use crate::dataframe::{CastType, Expr, Lit, TruncUnit};

/// How deeply expressions and subqueries may nest: deeper input is an error, so that
/// no walk over a plan can run out of stack.
const MAX_DEPTH: usize = 128;

/// A column visible to expressions: `qualifier.name`, stored as `physical`.
#[derive(Clone, Debug)]
struct ScopeColumn {
    qualifier: Option<String>,
    name: String,
    physical: String,
}

/// The columns an expression may name.
#[derive(Clone, Debug, Default)]
struct Scope {
    columns: Vec<ScopeColumn>,
}

impl Scope {
    fn names(&self) -> Vec<String> {
        self.columns
            .iter()
            .map(|c| match &c.qualifier {
                Some(q) => format!("{q}.{}", c.name),
                None => c.name.clone(),
            })
            .collect()
    }

    /// The physical name of `qualifier.name` (exact spelling first, then ignoring case).
    fn resolve(&self, qualifier: Option<&str>, name: &str) -> Result<String, SqlError> {
        let find = |exact: bool| -> Vec<&ScopeColumn> {
            let same = |a: &str, b: &str| {
                if exact {
                    a == b
                } else {
                    a.eq_ignore_ascii_case(b)
                }
            };
            self.columns
                .iter()
                .filter(|c| same(&c.name, name))
                .filter(|c| match qualifier {
                    Some(q) => c.qualifier.as_deref().is_some_and(|cq| same(cq, q)),
                    None => true,
                })
                .collect()
        };
        let mut hits = find(true);
        if hits.is_empty() {
            hits = find(false);
        }
        let shown = || match qualifier {
            Some(q) => format!("{q}.{name}"),
            None => name.to_string(),
        };
        match hits.as_slice() {
            [one] => Ok(one.physical.clone()),
            [] => Err(SqlError::UnknownColumn {
                name: shown(),
                ambiguous: false,
                available: self.names(),
            }),
            _ => Err(SqlError::UnknownColumn {
                name: shown(),
                ambiguous: true,
                available: self.names(),
            }),
        }
    }
}

/// Aggregates met while translating the expressions of a grouped `SELECT`.
struct Grouping {
    keys: Vec<(Expr, String)>,
    aggs: Vec<AggCall>,
}

/// A common table expression in scope (`WITH name AS (query)`): its plan and output
/// column names, planned once where it is defined.
struct Cte {
    name: String,
    plan: Plan,
    names: Vec<String>,
}

/// `LIMIT` and `OFFSET`: at most `limit` rows after the first `offset`.
#[derive(Clone, Copy, Debug, Default)]
struct Slice {
    limit: Option<usize>,
    offset: usize,
}

/// Translates statements against the registered tables.
pub(crate) struct Planner<'a> {
    tables: &'a BTreeMap<String, Arc<Table>>,
    /// The common table expressions in scope, innermost last: a name in `FROM` is looked
    /// up here before the tables.
    ctes: Vec<Cte>,
    depth: usize,
}

impl<'a> Planner<'a> {
    pub(crate) fn new(tables: &'a BTreeMap<String, Arc<Table>>) -> Planner<'a> {
        Planner {
            tables,
            ctes: Vec::new(),
            depth: 0,
        }
    }

    /// The plan of a query and its output column names.
    pub(crate) fn query(&mut self, q: &ast::Query) -> Result<Plan, SqlError> {
        self.enter()?;
        let out = self.query_inner(q).map(|(p, _)| p);
        self.depth -= 1;
        out
    }

    fn enter(&mut self) -> Result<(), SqlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SqlError::invalid(format!(
                "the statement nests more than {MAX_DEPTH} levels deep"
            )));
        }
        Ok(())
    }

    /// A query with its `WITH` definitions in scope for its body (and only there).
    fn query_inner(&mut self, q: &ast::Query) -> Result<(Plan, Vec<String>), SqlError> {
        let before = self.ctes.len();
        let out = self.with(q.with.as_ref()).and_then(|()| self.query_body(q));
        self.ctes.truncate(before);
        out
    }

    /// Plans each common table expression of `WITH` and brings it into scope, in order:
    /// each may read the ones before it (not itself: recursion is unsupported).
    fn with(&mut self, with: Option<&ast::With>) -> Result<(), SqlError> {
        let Some(with) = with else {
            return Ok(());
        };
        if with.recursive {
            return Err(SqlError::unsupported(
                "WITH RECURSIVE (recursive common table expressions)",
            ));
        }
        for (i, cte) in with.cte_tables.iter().enumerate() {
            check_alias(&cte.alias)?;
            if cte.from.is_some() || cte.materialized.is_some() {
                return Err(SqlError::unsupported(format!(
                    "`{}` (MATERIALIZED or FROM in a common table expression)",
                    cte.alias
                )));
            }
            let name = cte.alias.name.value.clone();
            if with.cte_tables[..i]
                .iter()
                .any(|c| c.alias.name.value.eq_ignore_ascii_case(&name))
            {
                return Err(SqlError::invalid(format!("WITH defines `{name}` twice")));
            }
            self.enter()?;
            let planned = self.query_inner(&cte.query);
            self.depth -= 1;
            let (plan, names) = planned?;
            self.ctes.push(Cte { name, plan, names });
        }
        Ok(())
    }

    fn query_body(&mut self, q: &ast::Query) -> Result<(Plan, Vec<String>), SqlError> {
        if q.fetch.is_some() || !q.locks.is_empty() || q.for_clause.is_some() {
            return Err(SqlError::unsupported("FETCH, FOR or locking clauses"));
        }
        let limit = self.limit(q.limit_clause.as_ref())?;
        let order_by: &[ast::OrderByExpr] = match &q.order_by {
            None => &[],
            Some(ob) => match &ob.kind {
                ast::OrderByKind::Expressions(e) => e,
                ast::OrderByKind::All(_) => return Err(SqlError::unsupported("ORDER BY ALL")),
            },
        };
        if let ast::SetExpr::Select(s) = q.body.as_ref() {
            return self.select(s, order_by, limit);
        }
        let (plan, names) = self.set_expr(&q.body)?;
        // ORDER BY over a union names its output columns (or their positions).
        let scope = Scope {
            columns: names
                .iter()
                .map(|n| ScopeColumn {
                    qualifier: None,
                    name: n.clone(),
                    physical: n.clone(),
                })
                .collect(),
        };
        let mut keys = Vec::new();
        for o in order_by {
            let column = match self.position(&o.expr, &names)? {
                Some(c) => c,
                None => match &self.expr(&o.expr, &scope, None)? {
                    Expr::Column(c) => c.clone(),
                    other => {
                        return Err(SqlError::unsupported(format!(
                            "ORDER BY expression `{other}` over a UNION (name an output column)"
                        )))
                    }
                },
            };
            keys.push(sort_key(column, o));
        }
        Ok((finish_order(plan, keys, limit), names))
    }

    fn limit(&mut self, clause: Option<&ast::LimitClause>) -> Result<Slice, SqlError> {
        let Some(clause) = clause else {
            return Ok(Slice::default());
        };
        match clause {
            ast::LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
            } => {
                if !limit_by.is_empty() {
                    return Err(SqlError::unsupported("LIMIT BY"));
                }
                Ok(Slice {
                    limit: match limit {
                        None => None,
                        Some(e) => count("LIMIT", e)?,
                    },
                    offset: match offset {
                        None => 0,
                        Some(o) => count("OFFSET", &o.value)?.unwrap_or(0),
                    },
                })
            }
            // `LIMIT m, k` (MySQL, SQLite): `LIMIT k OFFSET m`.
            ast::LimitClause::OffsetCommaLimit { offset, limit } => Ok(Slice {
                limit: count("LIMIT", limit)?,
                offset: count("OFFSET", offset)?.unwrap_or(0),
            }),
        }
    }

    fn set_expr(&mut self, body: &ast::SetExpr) -> Result<(Plan, Vec<String>), SqlError> {
        self.enter()?;
        let out = match body {
            ast::SetExpr::Select(s) => self.select(s, &[], Slice::default()),
            ast::SetExpr::Query(q) => self.query_inner(q),
            ast::SetExpr::SetOperation {
                left,
                op,
                set_quantifier,
                right,
            } => {
                if !matches!(op, ast::SetOperator::Union)
                    || !matches!(set_quantifier, ast::SetQuantifier::All)
                {
                    return Err(SqlError::unsupported(format!(
                        "{op} {set_quantifier} (only UNION ALL)"
                    )));
                }
                let (l, names) = self.set_expr(left)?;
                let (r, right_names) = self.set_expr(right)?;
                if names.len() != right_names.len() {
                    return Err(SqlError::invalid(format!(
                        "UNION ALL of {} and {} columns",
                        names.len(),
                        right_names.len()
                    )));
                }
                let mut inputs = Vec::new();
                for p in [l, r] {
                    match p {
                        Plan::Union { inputs: more } => inputs.extend(more),
                        other => inputs.push(other),
                    }
                }
                Ok((Plan::Union { inputs }, names))
            }
            other => Err(SqlError::unsupported(format!("`{other}` as a query"))),
        };
        self.depth -= 1;
        out
    }

    /// A `SELECT` with the query's ORDER BY and LIMIT (which may name columns the
    /// select list leaves out).
    fn select(
        &mut self,
        s: &ast::Select,
        order_by: &[ast::OrderByExpr],
        limit: Slice,
    ) -> Result<(Plan, Vec<String>), SqlError> {
        if s.top.is_some() || s.into.is_some() || !s.lateral_views.is_empty() {
            return Err(SqlError::unsupported("TOP, INTO or LATERAL VIEW"));
        }
        if s.qualify.is_some() || !s.named_window.is_empty() {
            return Err(SqlError::unsupported("window functions (QUALIFY, WINDOW)"));
        }
        if !s.cluster_by.is_empty() || !s.distribute_by.is_empty() || !s.sort_by.is_empty() {
            return Err(SqlError::unsupported(
                "CLUSTER BY, DISTRIBUTE BY or SORT BY",
            ));
        }
        let distinct = match &s.distinct {
            None | Some(ast::Distinct::All) => false,
            Some(ast::Distinct::Distinct) => true,
            Some(ast::Distinct::On(_)) => return Err(SqlError::unsupported("DISTINCT ON")),
        };
        let (mut plan, scope) = match s.from.as_slice() {
            [] => return Err(SqlError::unsupported("SELECT without FROM")),
            [one] => self.from(one)?,
            _ => {
                return Err(SqlError::unsupported(
                    "several tables in FROM (a cross join); use JOIN .. ON",
                ))
            }
        };
        if let Some(w) = &s.selection {
            let predicate = self.expr(w, &scope, None)?;
            plan = Plan::Filter {
                input: Box::new(plan),
                predicate,
                having: false,
            };
        }
        let group_by: &[ast::Expr] = match &s.group_by {
            ast::GroupByExpr::Expressions(e, mods) if mods.is_empty() => e,
            _ => return Err(SqlError::unsupported("GROUP BY ALL or GROUP BY modifiers")),
        };
        let aggregating = !group_by.is_empty()
            || s.having.is_some()
            || s.projection.iter().any(|item| match item {
                ast::SelectItem::UnnamedExpr(e)
                | ast::SelectItem::ExprWithAlias { expr: e, .. } => has_aggregate(e),
                _ => false,
            })
            || order_by.iter().any(|o| has_aggregate(&o.expr));
        let mut grouping = if aggregating {
            let mut keys = Vec::new();
            for (i, g) in group_by.iter().enumerate() {
                let g = group_alias(g, &s.projection, &scope)?;
                let e = self.expr(g, &scope, None)?;
                let name = match &e {
                    Expr::Column(c) => c.clone(),
                    _ => format!("__key{i}"),
                };
                keys.push((e, name));
            }
            Some(Grouping {
                keys,
                aggs: Vec::new(),
            })
        } else {
            None
        };
        // The select list.
        let mut exprs: Vec<(Expr, String)> = Vec::new();
        for item in &s.projection {
            match item {
                ast::SelectItem::UnnamedExpr(e) => {
                    // Translated first: an expression too deep to translate is an error
                    // before its text (a recursive walk) is made.
                    let x = self.grouped_expr(e, &scope, grouping.as_mut())?;
                    let name = match e {
                        ast::Expr::Identifier(i) => i.value.clone(),
                        ast::Expr::CompoundIdentifier(parts) => {
                            parts.last().map(|i| i.value.clone()).unwrap_or_default()
                        }
                        other => other.to_string(),
                    };
                    exprs.push((x, name));
                }
                ast::SelectItem::ExprWithAlias { expr, alias } => {
                    let x = self.grouped_expr(expr, &scope, grouping.as_mut())?;
                    exprs.push((x, alias.value.clone()));
                }
                ast::SelectItem::Wildcard(opts) => {
                    check_wildcard(opts)?;
                    if grouping.is_some() {
                        return Err(SqlError::unsupported("SELECT * with GROUP BY"));
                    }
                    for c in &scope.columns {
                        exprs.push((Expr::Column(c.physical.clone()), c.name.clone()));
                    }
                }
                ast::SelectItem::QualifiedWildcard(kind, opts) => {
                    check_wildcard(opts)?;
                    if grouping.is_some() {
                        return Err(SqlError::unsupported("SELECT t.* with GROUP BY"));
                    }
                    let q = kind.to_string();
                    let q = q.trim_end_matches(".*");
                    let before = exprs.len();
                    for c in &scope.columns {
                        if c.qualifier
                            .as_deref()
                            .is_some_and(|cq| cq.eq_ignore_ascii_case(q))
                        {
                            exprs.push((Expr::Column(c.physical.clone()), c.name.clone()));
                        }
                    }
                    if exprs.len() == before {
                        return Err(SqlError::UnknownTable {
                            name: q.to_string(),
                            available: qualifiers(&scope),
                        });
                    }
                }
                ast::SelectItem::ExprWithAliases { .. } => {
                    return Err(SqlError::unsupported("several aliases for one expression"))
                }
            }
        }
        dedupe_names(&mut exprs);
        let names: Vec<String> = exprs.iter().map(|(_, n)| n.clone()).collect();
        let having = match &s.having {
            Some(h) => Some(self.grouped_expr(h, &scope, grouping.as_mut())?),
            None => None,
        };
        // ORDER BY: an output column by position or name, else an expression over the
        // input, computed as a hidden column.
        let mut keys = Vec::new();
        let mut hidden = 0;
        for o in order_by {
            let column = match self.position(&o.expr, &names)? {
                Some(c) => c,
                None => {
                    let x = self.grouped_expr(&o.expr, &scope, grouping.as_mut())?;
                    match exprs.iter().find(|(e, _)| *e == x) {
                        Some((_, n)) => n.clone(),
                        None if distinct => {
                            return Err(SqlError::invalid(format!(
                                "with SELECT DISTINCT, ORDER BY `{}` must be in the select list",
                                o.expr
                            )))
                        }
                        None => {
                            let n = format!("__order{hidden}");
                            hidden += 1;
                            exprs.push((x, n.clone()));
                            n
                        }
                    }
                }
            };
            keys.push(sort_key(column, o));
        }
        if let Some(g) = grouping {
            plan = Plan::Aggregate {
                input: Box::new(plan),
                keys: g.keys,
                aggs: g.aggs,
            };
            if let Some(predicate) = having {
                plan = Plan::Filter {
                    input: Box::new(plan),
                    predicate,
                    having: true,
                };
            }
        }
        plan = Plan::Project {
            input: Box::new(plan),
            exprs,
        };
        if distinct {
            plan = Plan::Distinct {
                input: Box::new(plan),
            };
        }
        plan = finish_order(plan, keys, limit);
        if hidden > 0 {
            plan = Plan::Project {
                input: Box::new(plan),
                exprs: names
                    .iter()
                    .map(|n| (Expr::Column(n.clone()), n.clone()))
                    .collect(),
            };
        }
        Ok((plan, names))
    }

    /// An ORDER BY item that is a position (`ORDER BY 2`) or an output name.
    fn position(&self, e: &ast::Expr, names: &[String]) -> Result<Option<String>, SqlError> {
        match e {
            ast::Expr::Value(v) => {
                if let ast::Value::Number(n, _) = &v.value {
                    return match n.parse::<usize>() {
                        Ok(i) if i >= 1 && i <= names.len() => Ok(Some(names[i - 1].clone())),
                        _ => Err(SqlError::invalid(format!(
                            "ORDER BY {n}: there are {} output columns",
                            names.len()
                        ))),
                    };
                }
                Ok(None)
            }
            ast::Expr::Identifier(i) => Ok(names
                .iter()
                .find(|n| **n == i.value)
                .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(&i.value)))
                .cloned()),
            _ => Ok(None),
        }
    }

    /// An expression of a grouped query: aggregates become columns of the `Aggregate`
    /// node, group keys become key columns, and any other column is an error.
    fn grouped_expr(
        &mut self,
        e: &ast::Expr,
        scope: &Scope,
        grouping: Option<&mut Grouping>,
    ) -> Result<Expr, SqlError> {
        let Some(g) = grouping else {
            return self.expr(e, scope, None);
        };
        let x = self.expr(e, scope, Some(&mut *g))?;
        let x = replace_keys(x, &g.keys);
        let allowed: Vec<&str> = g
            .keys
            .iter()
            .map(|(_, n)| n.as_str())
            .chain(g.aggs.iter().map(|a| a.name.as_str()))
            .collect();
        if let Some(c) = x.columns().into_iter().find(|c| !allowed.contains(c)) {
            return Err(SqlError::invalid(format!(
                "column `{c}` in `{e}` must be in GROUP BY or inside an aggregate"
            )));
        }
        Ok(x)
    }

    fn from(&mut self, t: &ast::TableWithJoins) -> Result<(Plan, Scope), SqlError> {
        let (mut plan, mut scope) = self.relation(&t.relation)?;
        for j in &t.joins {
            let (kind, constraint) = match &j.join_operator {
                ast::JoinOperator::Join(c) | ast::JoinOperator::Inner(c) => (JoinKind::Inner, c),
                ast::JoinOperator::Left(c) | ast::JoinOperator::LeftOuter(c) => (JoinKind::Left, c),
                ast::JoinOperator::Right(c) | ast::JoinOperator::RightOuter(c) => {
                    (JoinKind::Right, c)
                }
                ast::JoinOperator::FullOuter(c) => (JoinKind::Full, c),
                other => {
                    let text = format!("{other:?}");
                    let name = text.split('(').next().unwrap_or("this").to_string();
                    return Err(SqlError::unsupported(format!(
                        "{name} join (only INNER, LEFT, RIGHT and FULL OUTER joins)"
                    )));
                }
            };
            let (right, right_scope) = self.relation(&j.relation)?;
            // The right side's columns are renamed where the left has the name, so that
            // the joined table's names are unique; qualified names still find them.
            let left_names: Vec<String> = plan
                .schema()?
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            let mut renamed = Vec::new();
            let mut exprs = Vec::new();
            for c in &right_scope.columns {
                let mut physical = c.physical.clone();
                if left_names.contains(&physical) {
                    physical = format!("{}.{}", c.qualifier.as_deref().unwrap_or("right"), c.name);
                    while left_names.contains(&physical) {
                        physical.push('_');
                    }
                }
                exprs.push((Expr::Column(c.physical.clone()), physical.clone()));
                renamed.push(ScopeColumn {
                    physical,
                    ..c.clone()
                });
            }
            let right = Plan::Project {
                input: Box::new(right),
                exprs,
            };
            let right_scope = Scope { columns: renamed };
            let ast::JoinConstraint::On(on) = constraint else {
                return Err(SqlError::unsupported(
                    "a join without ON (USING, NATURAL or none)",
                ));
            };
            let mut pairs = Vec::new();
            for part in conjuncts(on) {
                let ast::Expr::BinaryOp {
                    left: a,
                    op: ast::BinaryOperator::Eq,
                    right: b,
                } = part
                else {
                    return Err(SqlError::unsupported(format!(
                        "join condition `{part}` (only equalities of columns joined by AND)"
                    )));
                };
                let side = |e: &ast::Expr, s: &Scope| -> Option<String> {
                    let (q, n) = ident(e)?;
                    s.resolve(q.as_deref(), &n).ok()
                };
                let pair = match (
                    side(a, &scope),
                    side(b, &right_scope),
                    side(b, &scope),
                    side(a, &right_scope),
                ) {
                    (Some(l), Some(r), _, _) | (_, _, Some(l), Some(r)) => (l, r),
                    _ => {
                        // Name the column that does not resolve, with what exists.
                        let both = Scope {
                            columns: scope
                                .columns
                                .iter()
                                .chain(&right_scope.columns)
                                .cloned()
                                .collect(),
                        };
                        for e in [a, b] {
                            match ident(e) {
                                Some((q, n)) => {
                                    both.resolve(q.as_deref(), &n)?;
                                }
                                None => {
                                    return Err(SqlError::unsupported(format!(
                                        "join on `{e}` (only columns)"
                                    )))
                                }
                            }
                        }
                        return Err(SqlError::invalid(format!(
                            "join condition `{part}` must compare a column of each side"
                        )));
                    }
                };
                pairs.push(pair);
            }
            plan = Plan::Join {
                left: Box::new(plan),
                right: Box::new(right),
                kind,
                on: pairs,
            };
            scope.columns.extend(right_scope.columns);
        }
        Ok((plan, scope))
    }

    fn relation(&mut self, factor: &ast::TableFactor) -> Result<(Plan, Scope), SqlError> {
        match factor {
            ast::TableFactor::Table {
                name, alias, args, ..
            } => {
                if args.is_some() {
                    return Err(SqlError::unsupported("table functions"));
                }
                if let Some((plan, names, cte_name)) = self.cte(name) {
                    let qualifier = match alias {
                        Some(a) => {
                            check_alias(a)?;
                            a.name.value.clone()
                        }
                        None => cte_name,
                    };
                    let scope = Scope {
                        columns: names
                            .into_iter()
                            .map(|n| ScopeColumn {
                                qualifier: Some(qualifier.clone()),
                                name: n.clone(),
                                physical: n,
                            })
                            .collect(),
                    };
                    return Ok((plan, scope));
                }
                let table = self.table(name)?;
                let qualifier = match alias {
                    Some(a) => {
                        check_alias(a)?;
                        a.name.value.clone()
                    }
                    None => table.name.clone(),
                };
                let scope = Scope {
                    columns: table
                        .schema
                        .fields()
                        .iter()
                        .map(|f| ScopeColumn {
                            qualifier: Some(qualifier.clone()),
                            name: f.name().clone(),
                            physical: f.name().clone(),
                        })
                        .collect(),
                };
                Ok((
                    Plan::Scan {
                        table,
                        columns: None,
                        filters: Vec::new(),
                    },
                    scope,
                ))
            }
            ast::TableFactor::Derived {
                lateral,
                subquery,
                alias,
                ..
            } => {
                if *lateral {
                    return Err(SqlError::unsupported("LATERAL subqueries"));
                }
                self.enter()?;
                let out = self.query_inner(subquery);
                self.depth -= 1;
                let (plan, names) = out?;
                let qualifier = match alias {
                    Some(a) => {
                        check_alias(a)?;
                        Some(a.name.value.clone())
                    }
                    None => None,
                };
                let scope = Scope {
                    columns: names
                        .iter()
                        .map(|n| ScopeColumn {
                            qualifier: qualifier.clone(),
                            name: n.clone(),
                            physical: n.clone(),
                        })
                        .collect(),
                };
                Ok((plan, scope))
            }
            ast::TableFactor::NestedJoin {
                table_with_joins,
                alias: None,
            } => {
                self.enter()?;
                let out = self.from(table_with_joins);
                self.depth -= 1;
                out
            }
            other => Err(SqlError::unsupported(format!("`{other}` in FROM"))),
        }
    }

    /// The common table expression `name` in scope (the innermost; exact spelling first,
    /// then ignoring case): its plan, column names and name.
    fn cte(&self, name: &ast::ObjectName) -> Option<(Plan, Vec<String>, String)> {
        let name = object_name(name).ok()?;
        let found = self
            .ctes
            .iter()
            .rev()
            .find(|c| c.name == name)
            .or_else(|| {
                self.ctes
                    .iter()
                    .rev()
                    .find(|c| c.name.eq_ignore_ascii_case(&name))
            })?;
        Some((found.plan.clone(), found.names.clone(), found.name.clone()))
    }

    /// The registered table `name` (exact spelling first, then ignoring case).
    pub(crate) fn table(&self, name: &ast::ObjectName) -> Result<Arc<Table>, SqlError> {
        let name = object_name(name)?;
        lookup(self.tables, &name)
    }

    /// An expression over `scope`. With `grouping`, aggregate calls are collected into
    /// it and replaced by their output column; without, they are an error.
    fn expr(
        &mut self,
        e: &ast::Expr,
        scope: &Scope,
        mut grouping: Option<&mut Grouping>,
    ) -> Result<Expr, SqlError> {
        self.enter()?;
        let out = self.expr_inner(e, scope, &mut grouping);
        self.depth -= 1;
        out
    }

    fn expr_inner(
        &mut self,
        e: &ast::Expr,
        scope: &Scope,
        grouping: &mut Option<&mut Grouping>,
    ) -> Result<Expr, SqlError> {
        use ast::Expr as A;
        let mut sub = |me: &mut Self, x: &ast::Expr| me.expr(x, scope, grouping.as_deref_mut());
        Ok(match e {
            A::Identifier(_) | A::CompoundIdentifier(_) => {
                let (q, n) = ident(e).ok_or_else(|| {
                    SqlError::unsupported(format!("the name `{e}` (at most table.column)"))
                })?;
                Expr::Column(scope.resolve(q.as_deref(), &n)?)
            }
            A::Value(v) => Expr::Literal(literal(&v.value)?),
            A::Nested(inner) => sub(self, inner)?,
            A::UnaryOp { op, expr } => {
                let x = sub(self, expr)?;
                match op {
                    ast::UnaryOperator::Not => x.not(),
                    ast::UnaryOperator::Plus => x,
                    ast::UnaryOperator::Minus => match x {
                        Expr::Literal(Lit::Int(i)) => match i.checked_neg() {
                            Some(n) => Expr::Literal(Lit::Int(n)),
                            None => return Err(SqlError::invalid(format!("`{e}` overflows"))),
                        },
                        Expr::Literal(Lit::Float(f)) => Expr::Literal(Lit::Float(-f)),
                        other => Expr::Literal(Lit::Int(0)) - other,
                    },
                    other => return Err(SqlError::unsupported(format!("operator {other}"))),
                }
            }
            A::BinaryOp { left, op, right } => {
                let l = sub(self, left)?;
                let r = sub(self, right)?;
                use ast::BinaryOperator as B;
                match op {
                    B::Plus => l + r,
                    B::Minus => l - r,
                    B::Multiply => l * r,
                    B::Divide => l / r,
                    B::Eq => l.eq(r),
                    B::NotEq => l.neq(r),
                    B::Lt => l.lt(r),
                    B::LtEq => l.lt_eq(r),
                    B::Gt => l.gt(r),
                    B::GtEq => l.gt_eq(r),
                    B::And => l.and(r),
                    B::Or => l.or(r),
                    other => return Err(SqlError::unsupported(format!("operator {other}"))),
                }
            }
            A::Like {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            }
            | A::ILike {
                negated,
                any,
                expr,
                pattern,
                escape_char,
            } => {
                if *any || escape_char.is_some() {
                    return Err(SqlError::unsupported(format!(
                        "`{e}` (LIKE ANY and ESCAPE)"
                    )));
                }
                let pattern = match pattern.as_ref() {
                    ast::Expr::Value(v) => match &v.value {
                        ast::Value::SingleQuotedString(s) => Some(s.clone()),
                        _ => None,
                    },
                    _ => None,
                }
                .ok_or_else(|| {
                    SqlError::unsupported(format!("`{e}` (the pattern must be a string literal)"))
                })?;
                let like = Expr::Like {
                    expr: Box::new(sub(self, expr)?),
                    pattern,
                    case_insensitive: matches!(e, A::ILike { .. }),
                };
                if *negated {
                    like.not()
                } else {
                    like
                }
            }
            A::IsNull(x) => sub(self, x)?.is_null(),
            A::IsNotNull(x) => sub(self, x)?.is_null().not(),
            A::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let x = sub(self, expr)?;
                let b = x
                    .clone()
                    .gt_eq(sub(self, low)?)
                    .and(x.lt_eq(sub(self, high)?));
                if *negated {
                    b.not()
                } else {
                    b
                }
            }
            A::In {
                expr,
                target,
                negated,
                ..
            } => {
                let ast::InTarget::List(list) = target else {
                    return Err(SqlError::unsupported(format!(
                        "subqueries in expressions: `{e}` (IN takes a list of values)"
                    )));
                };
                let x = sub(self, expr)?;
                let mut any: Option<Expr> = None;
                for item in list {
                    let eq = x.clone().eq(sub(self, item)?);
                    any = Some(match any {
                        Some(a) => a.or(eq),
                        None => eq,
                    });
                }
                let any = any.ok_or_else(|| SqlError::invalid("IN () with no values"))?;
                if *negated {
                    any.not()
                } else {
                    any
                }
            }
            A::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                let operand = match operand {
                    Some(o) => Some(sub(self, o)?),
                    None => None,
                };
                let mut branches = Vec::new();
                for w in conditions {
                    let c = sub(self, &w.condition)?;
                    let c = match &operand {
                        Some(o) => o.clone().eq(c),
                        None => c,
                    };
                    branches.push((c, sub(self, &w.result)?));
                }
                let otherwise = match else_result {
                    Some(x) => Some(Box::new(sub(self, x)?)),
                    None => None,
                };
                Expr::Case {
                    branches,
                    otherwise,
                }
            }
            A::Cast {
                kind,
                expr,
                data_type,
                format,
            } => {
                if format.is_some() || !matches!(kind, ast::CastKind::Cast) {
                    return Err(SqlError::unsupported(format!(
                        "`{e}` (only CAST(x AS type))"
                    )));
                }
                Expr::Cast {
                    expr: Box::new(sub(self, expr)?),
                    to: cast_type(data_type)?,
                }
            }
            A::TypedString(t) => {
                let text = match &t.value.value {
                    ast::Value::SingleQuotedString(s) => s.clone(),
                    other => return Err(SqlError::unsupported(format!("typed literal {other}"))),
                };
                Expr::Cast {
                    expr: Box::new(Expr::Literal(Lit::Str(text))),
                    to: cast_type(&t.data_type)?,
                }
            }
            A::Function(f) => self.function(f, e, scope, grouping)?,
            A::Subquery(_) | A::Exists { .. } => {
                return Err(SqlError::unsupported(format!(
                    "subqueries in expressions (scalar, IN or EXISTS subqueries, correlated or not): `{e}`; a subquery in FROM or a JOIN may do"
                )));
            }
            other => {
                return Err(SqlError::unsupported(format!("the expression `{other}`")));
            }
        })
    }

    fn function(
        &mut self,
        f: &ast::Function,
        whole: &ast::Expr,
        scope: &Scope,
        grouping: &mut Option<&mut Grouping>,
    ) -> Result<Expr, SqlError> {
        let name = object_name(&f.name)?.to_ascii_lowercase();
        if f.over.is_some() || f.filter.is_some() || !f.within_group.is_empty() {
            return Err(SqlError::unsupported(format!(
                "`{whole}` (window functions, FILTER and WITHIN GROUP)"
            )));
        }
        let (args, distinct) = match &f.args {
            ast::FunctionArguments::None => (Vec::new(), false),
            ast::FunctionArguments::List(list) => {
                if !list.clauses.is_empty() {
                    return Err(SqlError::unsupported(format!("clauses inside `{whole}`")));
                }
                let distinct = matches!(
                    list.duplicate_treatment,
                    Some(ast::DuplicateTreatment::Distinct)
                );
                let mut args = Vec::new();
                for a in &list.args {
                    match a {
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) => {
                            args.push(Some(x))
                        }
                        ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard) => {
                            args.push(None)
                        }
                        _ => {
                            return Err(SqlError::unsupported(format!(
                                "the argument `{a}` of `{whole}`"
                            )))
                        }
                    }
                }
                (args, distinct)
            }
            ast::FunctionArguments::Subquery(_) => {
                return Err(SqlError::unsupported("subqueries as function arguments"))
            }
        };
        let kind = match name.as_str() {
            "count" => Some(AggKind::Count),
            "sum" => Some(AggKind::Sum),
            "avg" | "mean" => Some(AggKind::Avg),
            "min" => Some(AggKind::Min),
            "max" => Some(AggKind::Max),
            "stddev" | "stddev_samp" | "std" => Some(AggKind::Std),
            "variance" | "var_samp" | "var" => Some(AggKind::Var),
            _ => None,
        };
        if let Some(kind) = kind {
            let Some(g) = grouping.as_deref_mut() else {
                return Err(SqlError::invalid(format!(
                    "aggregate `{whole}` is not allowed here (only in SELECT, HAVING and ORDER BY)"
                )));
            };
            let (kind, arg) = match (kind, args.as_slice(), distinct) {
                (AggKind::Count, [None], false) => (AggKind::CountStar, None),
                (AggKind::Count, [Some(x)], true) => {
                    (AggKind::CountDistinct, Some(self.expr(x, scope, None)?))
                }
                (_, [Some(x)], false) => (kind, Some(self.expr(x, scope, None)?)),
                (_, _, true) => {
                    return Err(SqlError::unsupported(format!(
                        "`{whole}` (DISTINCT only inside COUNT)"
                    )))
                }
                _ => return Err(SqlError::invalid(format!("`{whole}` takes one argument"))),
            };
            if let Some(a) = g.aggs.iter().find(|a| a.kind == kind && a.arg == arg) {
                return Ok(Expr::Column(a.name.clone()));
            }
            let name = format!("__agg{}", g.aggs.len());
            g.aggs.push(AggCall {
                kind,
                arg,
                name: name.clone(),
            });
            return Ok(Expr::Column(name));
        }
        if distinct {
            return Err(SqlError::unsupported(format!("DISTINCT in `{whole}`")));
        }
        match (name.as_str(), args.as_slice()) {
            ("date_trunc", [Some(unit), Some(x)]) => {
                let unit = match unit {
                    ast::Expr::Value(v) => match &v.value {
                        ast::Value::SingleQuotedString(s) => TruncUnit::parse(s),
                        _ => None,
                    },
                    _ => None,
                }
                .ok_or_else(|| {
                    SqlError::unsupported(format!(
                        "`{whole}`: the unit must be one of 'second', 'minute', 'hour', 'day', 'month', 'year'"
                    ))
                })?;
                let x = self.expr(x, scope, grouping.as_deref_mut())?;
                Ok(Expr::DateTrunc {
                    unit,
                    expr: Box::new(x),
                })
            }
            ("coalesce", [_, ..]) if args.iter().all(Option::is_some) => {
                let mut branches = Vec::new();
                for x in args.iter().flatten() {
                    let v = self.expr(x, scope, grouping.as_deref_mut())?;
                    branches.push((v.clone().is_null().not(), v));
                }
                Ok(Expr::Case {
                    branches,
                    otherwise: None,
                })
            }
            _ => Err(SqlError::unsupported(format!("the function `{whole}`"))),
        }
    }
}

/// The registered table `name`, or an error listing those that exist.
pub(crate) fn lookup(
    tables: &BTreeMap<String, Arc<Table>>,
    name: &str,
) -> Result<Arc<Table>, SqlError> {
    if let Some(t) = tables.get(name) {
        return Ok(t.clone());
    }
    let folded: Vec<&Arc<Table>> = tables
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, t)| t)
        .collect();
    match folded.as_slice() {
        [one] => Ok((*one).clone()),
        _ => Err(SqlError::UnknownTable {
            name: name.to_string(),
            available: tables.keys().cloned().collect(),
        }),
    }
}

/// A table name: one identifier (no schema or catalog).
pub(crate) fn object_name(name: &ast::ObjectName) -> Result<String, SqlError> {
    match name.0.as_slice() {
        [ast::ObjectNamePart::Identifier(i)] => Ok(i.value.clone()),
        _ => Err(SqlError::unsupported(format!(
            "the name `{name}` (schemas and catalogs)"
        ))),
    }
}

/// `name` or `qualifier.name`.
fn ident(e: &ast::Expr) -> Option<(Option<String>, String)> {
    match e {
        ast::Expr::Identifier(i) => Some((None, i.value.clone())),
        ast::Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [q, n] => Some((Some(q.value.clone()), n.value.clone())),
            _ => None,
        },
        ast::Expr::Nested(inner) => ident(inner),
        _ => None,
    }
}

fn literal(v: &ast::Value) -> Result<Lit, SqlError> {
    Ok(match v {
        ast::Value::Number(n, _) => match n.parse::<i64>() {
            Ok(i) => Lit::Int(i),
            Err(_) => match n.parse::<f64>() {
                Ok(f) if f.is_finite() => Lit::Float(f),
                _ => return Err(SqlError::invalid(format!("the number {n} is out of range"))),
            },
        },
        ast::Value::SingleQuotedString(s) => Lit::Str(s.clone()),
        ast::Value::Boolean(b) => Lit::Bool(*b),
        ast::Value::Null => Lit::Null,
        other => return Err(SqlError::unsupported(format!("the literal {other}"))),
    })
}

fn cast_type(t: &ast::DataType) -> Result<CastType, SqlError> {
    let name = t.to_string().to_ascii_uppercase();
    let base = name.split('(').next().unwrap_or("").trim().to_string();
    Ok(match base.as_str() {
        "BOOLEAN" | "BOOL" => CastType::Boolean,
        "INT" | "INTEGER" | "BIGINT" | "SMALLINT" | "TINYINT" | "INT64" | "INT8" | "INT4" => {
            CastType::Int64
        }
        "FLOAT" | "DOUBLE" | "DOUBLE PRECISION" | "REAL" | "DECIMAL" | "NUMERIC" | "FLOAT64"
        | "FLOAT8" => CastType::Float64,
        "VARCHAR" | "TEXT" | "STRING" | "CHAR" | "CHARACTER VARYING" => CastType::Utf8,
        "TIMESTAMP" | "DATETIME" | "DATE" => CastType::Timestamp,
        _ => return Err(SqlError::unsupported(format!("CAST to {t}"))),
    })
}

fn check_alias(a: &ast::TableAlias) -> Result<(), SqlError> {
    if a.columns.is_empty() {
        Ok(())
    } else {
        Err(SqlError::unsupported(format!("column aliases in `{a}`")))
    }
}

fn check_wildcard(opts: &ast::WildcardAdditionalOptions) -> Result<(), SqlError> {
    let plain = opts.opt_exclude.is_none()
        && opts.opt_except.is_none()
        && opts.opt_replace.is_none()
        && opts.opt_rename.is_none()
        && opts.opt_ilike.is_none();
    if plain {
        Ok(())
    } else {
        Err(SqlError::unsupported(format!("wildcard options `*{opts}`")))
    }
}

fn qualifiers(scope: &Scope) -> Vec<String> {
    let mut q: Vec<String> = scope
        .columns
        .iter()
        .filter_map(|c| c.qualifier.clone())
        .collect();
    q.dedup();
    q
}

/// Whether `e` calls an aggregate function (outside a subquery).
fn has_aggregate(e: &ast::Expr) -> bool {
    let mut found = false;
    let _ = visit(
        e,
        &mut |x| {
            // A window function (`SUM(x) OVER ..`) does not make the query an aggregate:
            // it is named as unsupported where it is translated.
            if let ast::Expr::Function(f) = x {
                if let (Ok(n), None) = (object_name(&f.name), &f.over) {
                    found |= matches!(
                        n.to_ascii_lowercase().as_str(),
                        "count"
                            | "sum"
                            | "avg"
                            | "mean"
                            | "min"
                            | "max"
                            | "stddev"
                            | "stddev_samp"
                            | "std"
                            | "variance"
                            | "var_samp"
                            | "var"
                    );
                }
            }
        },
        0,
    );
    found
}

/// Calls `f` on `e` and the expressions under it, to a bounded depth.
fn visit(e: &ast::Expr, f: &mut dyn FnMut(&ast::Expr), depth: usize) -> Result<(), ()> {
    if depth > MAX_DEPTH {
        return Err(());
    }
    f(e);
    use ast::Expr as A;
    let d = depth + 1;
    match e {
        A::Nested(x) | A::UnaryOp { expr: x, .. } | A::IsNull(x) | A::IsNotNull(x) => {
            visit(x, f, d)
        }
        A::Cast { expr, .. } => visit(expr, f, d),
        A::Like { expr, .. } | A::ILike { expr, .. } => visit(expr, f, d),
        A::BinaryOp { left, right, .. } => {
            visit(left, f, d)?;
            visit(right, f, d)
        }
        A::Between {
            expr, low, high, ..
        } => {
            visit(expr, f, d)?;
            visit(low, f, d)?;
            visit(high, f, d)
        }
        A::In { expr, target, .. } => {
            visit(expr, f, d)?;
            match target {
                ast::InTarget::List(list) => list.iter().try_for_each(|x| visit(x, f, d)),
                _ => Ok(()),
            }
        }
        A::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            if let Some(o) = operand {
                visit(o, f, d)?;
            }
            for w in conditions {
                visit(&w.condition, f, d)?;
                visit(&w.result, f, d)?;
            }
            if let Some(x) = else_result {
                visit(x, f, d)?;
            }
            Ok(())
        }
        A::Function(func) => {
            if let ast::FunctionArguments::List(list) = &func.args {
                for a in &list.args {
                    if let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) = a {
                        visit(x, f, d)?;
                    }
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The parts of `a AND b AND ..`.
fn conjuncts(e: &ast::Expr) -> Vec<&ast::Expr> {
    match e {
        ast::Expr::BinaryOp {
            left,
            op: ast::BinaryOperator::And,
            right,
        } => {
            let mut out = conjuncts(left);
            out.extend(conjuncts(right));
            out
        }
        ast::Expr::Nested(inner) => conjuncts(inner),
        other => vec![other],
    }
}

/// `x` with every subexpression equal to a group key replaced by the key's column.
fn replace_keys(mut x: Expr, keys: &[(Expr, String)]) -> Expr {
    let mut todo = vec![&mut x];
    while let Some(e) = todo.pop() {
        match keys.iter().find(|(k, _)| k == e) {
            Some((_, name)) => *e = Expr::Column(name.clone()),
            None => e.for_each_child_mut(|c| todo.push(c)),
        }
    }
    x
}

fn sort_key(column: String, o: &ast::OrderByExpr) -> SortKey {
    let descending = matches!(o.options.sort, Some(ast::OrderBySort::Desc));
    SortKey {
        column,
        descending,
        // SQLite's order: nulls are the smallest values.
        nulls_first: o.options.nulls_first.unwrap_or(!descending),
    }
}

fn finish_order(plan: Plan, keys: Vec<SortKey>, slice: Slice) -> Plan {
    if !keys.is_empty() {
        Plan::Sort {
            input: Box::new(plan),
            keys,
            limit: slice.limit,
            offset: slice.offset,
        }
    } else if slice.limit.is_some() || slice.offset > 0 {
        Plan::Limit {
            input: Box::new(plan),
            n: slice.limit.unwrap_or(usize::MAX),
            offset: slice.offset,
        }
    } else {
        plan
    }
}

/// The count of `LIMIT` or `OFFSET` (`what`): a whole number, or `NULL` for none.
fn count(what: &str, e: &ast::Expr) -> Result<Option<usize>, SqlError> {
    match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => n
                .parse::<usize>()
                .map(Some)
                .map_err(|_| SqlError::invalid(format!("{what} {n}: not a count"))),
            ast::Value::Null => Ok(None),
            other => Err(SqlError::invalid(format!("{what} {other}: not a count"))),
        },
        other => Err(SqlError::unsupported(format!(
            "{what} with an expression (`{other}`)"
        ))),
    }
}

/// Output names made unique (`x`, `x_1`), as a table needs.
fn dedupe_names(exprs: &mut [(Expr, String)]) {
    for i in 1..exprs.len() {
        let mut n = 0;
        let base = exprs[i].1.clone();
        while exprs[..i].iter().any(|(_, m)| *m == exprs[i].1) {
            n += 1;
            exprs[i].1 = format!("{base}_{n}");
        }
    }
}

/// A GROUP BY item that names a select-list alias (`GROUP BY hour`) or position
/// (`GROUP BY 1`) as the expression it stands for; any other item as itself.
fn group_alias<'q>(
    g: &'q ast::Expr,
    projection: &'q [ast::SelectItem],
    scope: &Scope,
) -> Result<&'q ast::Expr, SqlError> {
    let item = |i: usize| match projection.get(i) {
        Some(ast::SelectItem::UnnamedExpr(e))
        | Some(ast::SelectItem::ExprWithAlias { expr: e, .. }) => Ok(e),
        _ => Err(SqlError::invalid(format!(
            "GROUP BY {}: no such select-list expression",
            i + 1
        ))),
    };
    match g {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => match n.parse::<usize>() {
                Ok(i) if i >= 1 => item(i - 1),
                _ => Err(SqlError::invalid(format!("GROUP BY {n}: not a position"))),
            },
            _ => Ok(g),
        },
        ast::Expr::Identifier(id) if scope.resolve(None, &id.value).is_err() => {
            for p in projection {
                if let ast::SelectItem::ExprWithAlias { expr, alias } = p {
                    if alias.value.eq_ignore_ascii_case(&id.value) {
                        return Ok(expr);
                    }
                }
            }
            Ok(g)
        }
        _ => Ok(g),
    }
}
