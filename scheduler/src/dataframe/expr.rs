//! Expressions as data: what `filter` and `with_column` evaluate on each partition.
//!
//! An expression is a plain value (hashable, comparable, serializable), so the task that
//! evaluates it is pure: building the same query twice gives the same keys, and the
//! cluster backend or `dask::Memory` can key on it. Its type is checked against the
//! schema while the graph is built ([`Expr::data_type`]); evaluation uses Arrow's
//! kernels.

use std::cell::Cell;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, BooleanArray, Datum, RecordBatch, Scalar};
use arrow_schema::{ArrowError, DataType, Schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::convert::{CastType, TruncUnit};
use super::error::DataFrameError;

/// A literal value in an expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Lit {
    /// A missing value: compatible with every type.
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

// Floats hash by bit pattern, as pure `Delayed` arguments do: `-0.0` and `0.0` differ.
impl Hash for Lit {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Lit::Null => {}
            Lit::Bool(b) => b.hash(state),
            Lit::Int(i) => i.hash(state),
            Lit::Float(f) => f.to_bits().hash(state),
            Lit::Str(s) => s.hash(state),
        }
    }
}

impl From<bool> for Lit {
    fn from(v: bool) -> Self {
        Lit::Bool(v)
    }
}
impl From<i64> for Lit {
    fn from(v: i64) -> Self {
        Lit::Int(v)
    }
}
impl From<i32> for Lit {
    fn from(v: i32) -> Self {
        Lit::Int(v.into())
    }
}
impl From<f64> for Lit {
    fn from(v: f64) -> Self {
        Lit::Float(v)
    }
}
impl From<&str> for Lit {
    fn from(v: &str) -> Self {
        Lit::Str(v.to_string())
    }
}
impl From<String> for Lit {
    fn from(v: String) -> Self {
        Lit::Str(v)
    }
}

/// A binary operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    /// True division, as pandas: integers divide to `float64`.
    Div,
    Eq,
    NotEq,
    Lt,
    LtEq,
    Gt,
    GtEq,
    /// Kleene logic: `null and false` is `false`.
    And,
    Or,
}

impl BinOp {
    fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Eq => "==",
            BinOp::NotEq => "!=",
            BinOp::Lt => "<",
            BinOp::LtEq => "<=",
            BinOp::Gt => ">",
            BinOp::GtEq => ">=",
            BinOp::And => "&",
            BinOp::Or => "|",
        }
    }

    fn is_arithmetic(self) -> bool {
        matches!(self, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div)
    }

    fn is_logical(self) -> bool {
        matches!(self, BinOp::And | BinOp::Or)
    }
}

/// How deeply an expression may nest. Typing and evaluating it recurse once per level,
/// and an unoptimised build's evaluation takes about 10 KiB of stack a level: 200
/// levels overflowed a thread with Rust's default 2 MiB stack and aborted the process.
/// Deeper expressions are refused when they are used, and so are serializing and
/// deserializing them (serde's formats recurse once per level); `Debug` shows this many
/// levels. Dropping, cloning, comparing, hashing and `Display` take no stack per level.
/// Above SQL's own limit of 128 (`sql/frontend.rs`), so that a query it accepts, which
/// lowering may wrap in a cast or two, is never refused here.
pub(crate) const MAX_EXPR_DEPTH: usize = 150;

/// An expression over the columns of one row.
///
/// An expression may be built as deep as memory allows (a sum of a million terms built
/// in a loop): dropping, cloning, comparing (`==`), hashing, printing with `Display`
/// and [`columns`](Expr::columns) walk it without recursion, so they work at any depth
/// on any thread. Operations that type or evaluate it ([`data_type`](Expr::data_type),
/// `DataFrame::filter`, `with_column`, `assign`) refuse one nested deeper than 150
/// levels with an error; so do `Serialize` and `Deserialize`, whose formats recurse.
/// `Debug` prints the first 150 levels and `..` for the subexpressions below them.
///
/// `Expr` implements `Drop` (to free deep expressions without recursion), so a child
/// cannot be moved out of a variant by a pattern: match by reference and clone, or
/// move it out with `std::mem::replace`.
pub enum Expr {
    /// A column by name.
    Column(String),
    /// A constant.
    Literal(Lit),
    /// `left op right`.
    Binary {
        op: BinOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// Logical negation of a boolean expression.
    Not(Box<Expr>),
    /// Whether the value is missing (Arrow null).
    IsNull(Box<Expr>),
    /// The value of the first branch whose condition is true (null counts as false),
    /// else `otherwise` (null when absent): SQL's `CASE WHEN .. THEN .. ELSE .. END`.
    Case {
        branches: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    /// The value converted to another type (SQL's `CAST(x AS DOUBLE)`).
    Cast { expr: Box<Expr>, to: CastType },
    /// A timestamp rounded down to the start of its `unit` (SQL's `DATE_TRUNC`).
    DateTrunc { unit: TruncUnit, expr: Box<Expr> },
    /// Whether a string matches a SQL `LIKE` pattern (`%`: any run of characters, `_`:
    /// one character); null for a null string. `case_insensitive` is SQL's `ILIKE`.
    Like {
        expr: Box<Expr>,
        pattern: String,
        case_insensitive: bool,
    },
}

/// The column `name`.
pub fn col(name: impl Into<String>) -> Expr {
    Expr::Column(name.into())
}

/// A constant: `lit(0.0)`, `lit(3)`, `lit("Alice")`, `lit(true)`.
pub fn lit(value: impl Into<Lit>) -> Expr {
    Expr::Literal(value.into())
}

macro_rules! binary_methods {
    ($($(#[$doc:meta])* $name:ident => $op:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(self, other: Expr) -> Expr {
            self.binary(BinOp::$op, other)
        }
    )*};
}

impl Expr {
    fn binary(self, op: BinOp, other: Expr) -> Expr {
        Expr::Binary {
            op,
            left: Box::new(self),
            right: Box::new(other),
        }
    }

    binary_methods! {
        /// `self == other`.
        eq => Eq;
        /// `self != other`.
        neq => NotEq;
        /// `self < other`.
        lt => Lt;
        /// `self <= other`.
        lt_eq => LtEq;
        /// `self > other`.
        gt => Gt;
        /// `self >= other`.
        gt_eq => GtEq;
        /// Both true (Kleene logic for nulls).
        and => And;
        /// Either true (Kleene logic for nulls).
        or => Or;
    }

    /// Logical negation.
    #[allow(clippy::should_implement_trait)] // also `!expr`; the method reads as Dask's `~`
    pub fn not(self) -> Expr {
        Expr::Not(Box::new(self))
    }

    /// Whether the value is missing.
    pub fn is_null(self) -> Expr {
        Expr::IsNull(Box::new(self))
    }

    /// Whether the string matches the SQL `LIKE` pattern (`%`: any run of characters,
    /// `_`: one character), case counting: `col("name").like("A%")`.
    pub fn like(self, pattern: impl Into<String>) -> Expr {
        Expr::Like {
            expr: Box::new(self),
            pattern: pattern.into(),
            case_insensitive: false,
        }
    }

    /// The columns the expression reads, in order of appearance.
    pub fn columns(&self) -> Vec<&str> {
        let mut out = Vec::new();
        // Without recursion (see `MAX_EXPR_DEPTH`): children pushed last first, so that
        // they are visited in order.
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            if let Expr::Column(c) = e {
                out.push(c.as_str());
            }
            let first = stack.len();
            e.for_each_child(|c| stack.push(c));
            stack[first..].reverse();
        }
        out
    }

    /// Calls `f` on each expression this one is made of, in order.
    pub(crate) fn for_each_child<'a>(&'a self, mut f: impl FnMut(&'a Expr)) {
        match self {
            Expr::Column(_) | Expr::Literal(_) => {}
            Expr::Binary { left, right, .. } => {
                f(left);
                f(right);
            }
            Expr::Not(e)
            | Expr::IsNull(e)
            | Expr::Cast { expr: e, .. }
            | Expr::DateTrunc { expr: e, .. }
            | Expr::Like { expr: e, .. } => f(e),
            Expr::Case {
                branches,
                otherwise,
            } => {
                for (when, then) in branches {
                    f(when);
                    f(then);
                }
                if let Some(e) = otherwise {
                    f(e);
                }
            }
        }
    }

    /// [`for_each_child`](Self::for_each_child) with each child mutable.
    pub(crate) fn for_each_child_mut<'a>(&'a mut self, mut f: impl FnMut(&'a mut Expr)) {
        match self {
            Expr::Column(_) | Expr::Literal(_) => {}
            Expr::Binary { left, right, .. } => {
                f(left);
                f(right);
            }
            Expr::Not(e)
            | Expr::IsNull(e)
            | Expr::Cast { expr: e, .. }
            | Expr::DateTrunc { expr: e, .. }
            | Expr::Like { expr: e, .. } => f(e),
            Expr::Case {
                branches,
                otherwise,
            } => {
                for (when, then) in branches {
                    f(when);
                    f(then);
                }
                if let Some(e) = otherwise {
                    f(e);
                }
            }
        }
    }

    /// How many expressions this one is made of.
    fn child_count(&self) -> usize {
        match self {
            Expr::Column(_) | Expr::Literal(_) => 0,
            Expr::Binary { .. } => 2,
            Expr::Not(_)
            | Expr::IsNull(_)
            | Expr::Cast { .. }
            | Expr::DateTrunc { .. }
            | Expr::Like { .. } => 1,
            Expr::Case {
                branches,
                otherwise,
            } => 2 * branches.len() + usize::from(otherwise.is_some()),
        }
    }

    /// This expression, leaving in its place one that owns nothing (a null literal):
    /// how a child is moved out of its parent, which implements `Drop`.
    pub(crate) fn take(&mut self) -> Expr {
        std::mem::replace(self, Expr::Literal(Lit::Null))
    }

    /// The variant's index, which the derived `Hash` fed to the hasher first (as an
    /// `isize`) and serde's formats write.
    fn variant(&self) -> isize {
        match self {
            Expr::Column(_) => 0,
            Expr::Literal(_) => 1,
            Expr::Binary { .. } => 2,
            Expr::Not(_) => 3,
            Expr::IsNull(_) => 4,
            Expr::Case { .. } => 5,
            Expr::Cast { .. } => 6,
            Expr::DateTrunc { .. } => 7,
            Expr::Like { .. } => 8,
        }
    }

    /// Whether the two are the same kind of expression with the same values outside
    /// their children (and so the same number of children).
    fn same_node(&self, other: &Expr) -> bool {
        match (self, other) {
            (Expr::Column(a), Expr::Column(b)) => a == b,
            (Expr::Literal(a), Expr::Literal(b)) => a == b,
            (Expr::Binary { op: a, .. }, Expr::Binary { op: b, .. }) => a == b,
            (Expr::Not(_), Expr::Not(_)) | (Expr::IsNull(_), Expr::IsNull(_)) => true,
            (
                Expr::Case {
                    branches: a,
                    otherwise: x,
                },
                Expr::Case {
                    branches: b,
                    otherwise: y,
                },
            ) => a.len() == b.len() && x.is_some() == y.is_some(),
            (Expr::Cast { to: a, .. }, Expr::Cast { to: b, .. }) => a == b,
            (Expr::DateTrunc { unit: a, .. }, Expr::DateTrunc { unit: b, .. }) => a == b,
            (
                Expr::Like {
                    pattern: a,
                    case_insensitive: x,
                    ..
                },
                Expr::Like {
                    pattern: b,
                    case_insensitive: y,
                    ..
                },
            ) => a == b && x == y,
            _ => false,
        }
    }

    /// A copy of this expression's own values around `children`, the copies of its
    /// children in order ([`child_count`](Self::child_count) of them).
    fn copy_around(&self, children: &mut impl Iterator<Item = Expr>) -> Expr {
        let mut next = || Box::new(children.next().expect("a copy of every child"));
        match self {
            Expr::Column(c) => Expr::Column(c.clone()),
            Expr::Literal(l) => Expr::Literal(l.clone()),
            Expr::Binary { op, .. } => {
                let left = next();
                let right = next();
                Expr::Binary {
                    op: *op,
                    left,
                    right,
                }
            }
            Expr::Not(_) => Expr::Not(next()),
            Expr::IsNull(_) => Expr::IsNull(next()),
            Expr::Case {
                branches,
                otherwise,
            } => {
                let branches = branches
                    .iter()
                    .map(|_| {
                        let when = *next();
                        let then = *next();
                        (when, then)
                    })
                    .collect();
                let otherwise = otherwise.as_ref().map(|_| next());
                Expr::Case {
                    branches,
                    otherwise,
                }
            }
            Expr::Cast { to, .. } => Expr::Cast {
                expr: next(),
                to: *to,
            },
            Expr::DateTrunc { unit, .. } => Expr::DateTrunc {
                unit: *unit,
                expr: next(),
            },
            Expr::Like {
                pattern,
                case_insensitive,
                ..
            } => Expr::Like {
                expr: next(),
                pattern: pattern.clone(),
                case_insensitive: *case_insensitive,
            },
        }
    }

    /// The type of the expression's values over `schema`, or why it has none: an unknown
    /// column, operands that do not fit (`op` names the operation for the error), or
    /// nesting deeper than 150 levels.
    pub fn data_type(&self, schema: &Schema, op: &'static str) -> Result<DataType, DataFrameError> {
        // Checked before any recursive walk (typing, display, evaluation), each of which
        // would overflow the stack of a deep enough expression and abort the process.
        if let Some(depth) = self.depth_beyond(MAX_EXPR_DEPTH) {
            return Err(DataFrameError::Invalid {
                op,
                why: format!(
                    "the expression is nested {depth} or more levels deep; at most \
                     {MAX_EXPR_DEPTH} are allowed (fold long sums into a tree)"
                ),
            });
        }
        self.type_over(schema, op)
    }

    /// A depth greater than `limit` that some branch of the expression reaches, found
    /// without recursion; `None` when no branch is that deep.
    fn depth_beyond(&self, limit: usize) -> Option<usize> {
        let mut stack = vec![(self, 1usize)];
        while let Some((e, depth)) = stack.pop() {
            if depth > limit {
                return Some(depth);
            }
            e.for_each_child(|c| stack.push((c, depth + 1)));
        }
        None
    }

    fn type_over(&self, schema: &Schema, op: &'static str) -> Result<DataType, DataFrameError> {
        let mismatch = |why: String| DataFrameError::TypeMismatch {
            op,
            expr: self.to_string(),
            why,
            available: describe_columns(schema),
        };
        match self {
            Expr::Column(name) => match schema.field_with_name(name) {
                Ok(f) => Ok(f.data_type().clone()),
                Err(_) => Err(DataFrameError::UnknownColumn {
                    op,
                    column: name.clone(),
                    available: describe_columns(schema),
                }),
            },
            Expr::Literal(l) => Ok(lit_type(l)),
            Expr::Not(e) => match e.type_over(schema, op)? {
                DataType::Boolean | DataType::Null => Ok(DataType::Boolean),
                other => Err(mismatch(format!(
                    "`not` needs a boolean, not {}",
                    dtype_name(&other)
                ))),
            },
            Expr::IsNull(e) => e.type_over(schema, op).map(|_| DataType::Boolean),
            Expr::Case {
                branches,
                otherwise,
            } => {
                let mut out = DataType::Null;
                for (when, then) in branches {
                    let w = when.type_over(schema, op)?;
                    if !matches!(w, DataType::Boolean | DataType::Null) {
                        return Err(mismatch(format!(
                            "a `when` condition is {}, not bool",
                            dtype_name(&w)
                        )));
                    }
                    let t = then.type_over(schema, op)?;
                    out = common_type(&out, &t).ok_or_else(|| {
                        mismatch(format!(
                            "branches of {} and {} do not mix",
                            dtype_name(&out),
                            dtype_name(&t)
                        ))
                    })?;
                }
                if let Some(e) = otherwise {
                    let t = e.type_over(schema, op)?;
                    out = common_type(&out, &t).ok_or_else(|| {
                        mismatch(format!(
                            "branches of {} and {} do not mix",
                            dtype_name(&out),
                            dtype_name(&t)
                        ))
                    })?;
                }
                Ok(out)
            }
            Expr::Cast { expr, to } => {
                let from = expr.type_over(schema, op)?;
                if arrow_cast::can_cast_types(&from, &to.data_type()) {
                    Ok(to.data_type())
                } else {
                    Err(mismatch(format!(
                        "cannot cast {} to {to}",
                        dtype_name(&from)
                    )))
                }
            }
            Expr::Like { expr, .. } => match expr.type_over(schema, op)? {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
                    Ok(DataType::Boolean)
                }
                other => Err(mismatch(format!(
                    "LIKE needs a string, not {}",
                    dtype_name(&other)
                ))),
            },
            Expr::DateTrunc { expr, .. } => match expr.type_over(schema, op)? {
                t @ DataType::Timestamp(..) => Ok(t),
                other => Err(mismatch(format!(
                    "date_trunc needs a datetime, not {}",
                    dtype_name(&other)
                ))),
            },
            Expr::Binary {
                op: bin,
                left,
                right,
            } => {
                let l = left.type_over(schema, op)?;
                let r = right.type_over(schema, op)?;
                let fail = || {
                    mismatch(format!(
                        "`{}` between {} and {}",
                        bin.symbol(),
                        dtype_name(&l),
                        dtype_name(&r)
                    ))
                };
                if bin.is_logical() {
                    let ok = |t: &DataType| matches!(t, DataType::Boolean | DataType::Null);
                    return if ok(&l) && ok(&r) {
                        Ok(DataType::Boolean)
                    } else {
                        Err(fail())
                    };
                }
                let common = operand_type(left, &l, right, &r).ok_or_else(fail)?;
                if bin.is_arithmetic() {
                    if !(common.is_numeric() || common == DataType::Null) {
                        return Err(fail());
                    }
                    Ok(if *bin == BinOp::Div {
                        DataType::Float64
                    } else {
                        common
                    })
                } else {
                    Ok(DataType::Boolean)
                }
            }
        }
    }

    /// The expression's values on `batch`: one per row.
    pub(crate) fn evaluate(&self, batch: &RecordBatch) -> Result<ArrayRef, ArrowError> {
        Ok(match self.eval(batch)? {
            Value::Array(a) => a,
            Value::Scalar(s) => {
                let one = s.into_inner();
                let indices = arrow_array::UInt32Array::from(vec![0u32; batch.num_rows()]);
                arrow_select::take::take(one.as_ref(), &indices, None)?
            }
        })
    }

    fn eval(&self, batch: &RecordBatch) -> Result<Value, ArrowError> {
        Ok(match self {
            Expr::Column(name) => Value::Array(
                batch
                    .column_by_name(name)
                    .cloned()
                    .ok_or_else(|| ArrowError::SchemaError(format!("no column `{name}`")))?,
            ),
            Expr::Literal(l) => Value::Scalar(Scalar::new(lit_array(l))),
            Expr::Not(e) => {
                let v = e.eval(batch)?;
                v.map_bool(arrow_arith::boolean::not)?
            }
            Expr::IsNull(e) => {
                let v = e.eval(batch)?;
                let scalar = v.is_scalar();
                let out: ArrayRef = Arc::new(arrow_arith::boolean::is_null(v.array().as_ref())?);
                Value::wrap(out, scalar)
            }
            Expr::Case {
                branches,
                otherwise,
            } => {
                let to = self
                    .data_type(&batch.schema(), "case")
                    .map_err(|e| ArrowError::InvalidArgumentError(e.to_string()))?;
                let to = if to == DataType::Null {
                    DataType::Float64
                } else {
                    to
                };
                let evaluated = branches
                    .iter()
                    .map(|(when, then)| {
                        let mask = as_bool(&when.evaluate(batch)?)?;
                        let value = arrow_cast::cast(then.evaluate(batch)?.as_ref(), &to)?;
                        Ok((mask, value))
                    })
                    .collect::<Result<Vec<_>, ArrowError>>()?;
                let otherwise = match otherwise {
                    Some(e) => arrow_cast::cast(e.evaluate(batch)?.as_ref(), &to)?,
                    None => arrow_array::new_null_array(&to, batch.num_rows()),
                };
                Value::Array(super::convert::case(&evaluated, otherwise)?)
            }
            Expr::Cast { expr, to } => {
                Value::Array(super::convert::cast(&expr.evaluate(batch)?, *to)?)
            }
            Expr::DateTrunc { unit, expr } => {
                Value::Array(super::convert::date_trunc(&expr.evaluate(batch)?, *unit)?)
            }
            Expr::Like {
                expr,
                pattern,
                case_insensitive,
            } => Value::Array(
                super::like::Pattern::new(pattern, *case_insensitive)
                    .evaluate(&expr.evaluate(batch)?)?,
            ),
            Expr::Binary { op, left, right } => {
                let l = left.eval(batch)?;
                let r = right.eval(batch)?;
                let scalar = l.is_scalar() && r.is_scalar();
                let out: ArrayRef = if op.is_logical() {
                    let (la, ra) = (
                        as_bool(&l.broadcast_to(&r)?)?,
                        as_bool(&r.broadcast_to(&l)?)?,
                    );
                    Arc::new(match op {
                        BinOp::And => arrow_arith::boolean::and_kleene(&la, &ra)?,
                        _ => arrow_arith::boolean::or_kleene(&la, &ra)?,
                    })
                } else {
                    let target =
                        operand_type(left, l.array().data_type(), right, r.array().data_type())
                            .ok_or_else(|| {
                                ArrowError::InvalidArgumentError("operand types".into())
                            })?;
                    let target = if *op == BinOp::Div {
                        DataType::Float64
                    } else {
                        target
                    };
                    if target == DataType::Null && op.is_arithmetic() {
                        // Arithmetic of two null-typed operands (`null + null`, an
                        // all-null column): typed null, so its value is all nulls, as
                        // pandas' NaN + NaN. Arrow's kernels have no null arithmetic.
                        let rows = if l.is_scalar() {
                            r.array().len()
                        } else {
                            l.array().len()
                        };
                        let out: ArrayRef = Arc::new(arrow_array::NullArray::new(rows));
                        return Ok(Value::wrap(out, scalar));
                    }
                    let l = l.cast(&target)?;
                    let r = r.cast(&target)?;
                    let (ld, rd) = (l.datum(), r.datum());
                    use arrow_arith::numeric;
                    use arrow_ord::cmp;
                    match op {
                        BinOp::Add => numeric::add_wrapping(ld, rd)?,
                        BinOp::Sub => numeric::sub_wrapping(ld, rd)?,
                        BinOp::Mul => numeric::mul_wrapping(ld, rd)?,
                        BinOp::Div => numeric::div(ld, rd)?,
                        BinOp::Eq => nan_unequal(*op, cmp::eq(ld, rd)?, &l, &r)?,
                        BinOp::NotEq => nan_unequal(*op, cmp::neq(ld, rd)?, &l, &r)?,
                        BinOp::Lt => nan_unequal(*op, cmp::lt(ld, rd)?, &l, &r)?,
                        BinOp::LtEq => nan_unequal(*op, cmp::lt_eq(ld, rd)?, &l, &r)?,
                        BinOp::Gt => nan_unequal(*op, cmp::gt(ld, rd)?, &l, &r)?,
                        BinOp::GtEq => nan_unequal(*op, cmp::gt_eq(ld, rd)?, &l, &r)?,
                        BinOp::And | BinOp::Or => unreachable!("handled above"),
                    }
                };
                Value::wrap(out, scalar)
            }
        })
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// What is left to write, last first.
        enum Piece<'a> {
            Expr(&'a Expr),
            Text(&'static str),
            /// What follows the expression's first child: its operator and the rest.
            AfterFirst(&'a Expr),
        }
        // Without recursion (see `MAX_EXPR_DEPTH`); a chain of binary operations keeps
        // one piece a level here while its left side is written.
        let mut todo = vec![Piece::Expr(self)];
        while let Some(piece) = todo.pop() {
            let e = match piece {
                Piece::Expr(e) => e,
                Piece::Text(t) => {
                    f.write_str(t)?;
                    continue;
                }
                Piece::AfterFirst(e) => {
                    match e {
                        Expr::Binary { op, right, .. } => {
                            write!(f, " {} ", op.symbol())?;
                            todo.push(Piece::Text(")"));
                            todo.push(Piece::Expr(right));
                        }
                        Expr::IsNull(_) => f.write_str(".isnull()")?,
                        Expr::Cast { to, .. } => write!(f, " AS {to})")?,
                        Expr::DateTrunc { .. } => f.write_str(")")?,
                        Expr::Like {
                            pattern,
                            case_insensitive,
                            ..
                        } => {
                            let op = if *case_insensitive { "ILIKE" } else { "LIKE" };
                            write!(f, " {op} '{}')", pattern.replace('\'', "''"))?;
                        }
                        Expr::Column(_) | Expr::Literal(_) | Expr::Not(_) | Expr::Case { .. } => {}
                    }
                    continue;
                }
            };
            match e {
                Expr::Column(c) => f.write_str(c)?,
                Expr::Literal(Lit::Null) => f.write_str("null")?,
                Expr::Literal(Lit::Bool(b)) => write!(f, "{b}")?,
                Expr::Literal(Lit::Int(i)) => write!(f, "{i}")?,
                Expr::Literal(Lit::Float(x)) => write!(f, "{x:?}")?,
                Expr::Literal(Lit::Str(s)) => write!(f, "{s:?}")?,
                Expr::Not(e) => {
                    f.write_str("~")?;
                    todo.push(Piece::Expr(e));
                }
                Expr::Case {
                    branches,
                    otherwise,
                } => {
                    f.write_str("CASE")?;
                    todo.push(Piece::Text(" END"));
                    if let Some(e) = otherwise {
                        todo.push(Piece::Expr(e));
                        todo.push(Piece::Text(" ELSE "));
                    }
                    for (when, then) in branches.iter().rev() {
                        todo.push(Piece::Expr(then));
                        todo.push(Piece::Text(" THEN "));
                        todo.push(Piece::Expr(when));
                        todo.push(Piece::Text(" WHEN "));
                    }
                }
                Expr::Binary { left: first, .. }
                | Expr::IsNull(first)
                | Expr::Cast { expr: first, .. }
                | Expr::DateTrunc { expr: first, .. }
                | Expr::Like { expr: first, .. } => {
                    match e {
                        Expr::Binary { .. } | Expr::Like { .. } => f.write_str("(")?,
                        Expr::Cast { .. } => f.write_str("CAST(")?,
                        Expr::DateTrunc { unit, .. } => write!(f, "date_trunc('{unit}', ")?,
                        _ => {}
                    }
                    todo.push(Piece::AfterFirst(e));
                    todo.push(Piece::Expr(first));
                }
            }
        }
        Ok(())
    }
}

/// `Debug` as derived, to 150 levels (`MAX_EXPR_DEPTH`): a deeper subexpression other
/// than a column or a literal is shown as `..`. Derived, it recursed once per level
/// (and `{:#?}` of a deep expression is quadratic in its depth).
impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Shown {
            expr: self,
            levels: MAX_EXPR_DEPTH,
        }
        .fmt(f)
    }
}

/// An expression as `Debug` shows it, with `levels` levels left to show.
struct Shown<'a> {
    expr: &'a Expr,
    levels: usize,
}

impl<'a> Shown<'a> {
    fn below(&self, expr: &'a Expr) -> Shown<'a> {
        Shown {
            expr,
            levels: self.levels - 1,
        }
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.expr {
            Expr::Column(c) => f.debug_tuple("Column").field(c).finish(),
            Expr::Literal(l) => f.debug_tuple("Literal").field(l).finish(),
            _ if self.levels == 0 => f.write_str(".."),
            Expr::Binary { op, left, right } => f
                .debug_struct("Binary")
                .field("op", op)
                .field("left", &self.below(left))
                .field("right", &self.below(right))
                .finish(),
            Expr::Not(e) => f.debug_tuple("Not").field(&self.below(e)).finish(),
            Expr::IsNull(e) => f.debug_tuple("IsNull").field(&self.below(e)).finish(),
            Expr::Case {
                branches,
                otherwise,
            } => {
                let branches = ShownBranches {
                    branches,
                    levels: self.levels - 1,
                };
                f.debug_struct("Case")
                    .field("branches", &branches)
                    .field("otherwise", &otherwise.as_deref().map(|e| self.below(e)))
                    .finish()
            }
            Expr::Cast { expr, to } => f
                .debug_struct("Cast")
                .field("expr", &self.below(expr))
                .field("to", to)
                .finish(),
            Expr::DateTrunc { unit, expr } => f
                .debug_struct("DateTrunc")
                .field("unit", unit)
                .field("expr", &self.below(expr))
                .finish(),
            Expr::Like {
                expr,
                pattern,
                case_insensitive,
            } => f
                .debug_struct("Like")
                .field("expr", &self.below(expr))
                .field("pattern", pattern)
                .field("case_insensitive", case_insensitive)
                .finish(),
        }
    }
}

/// A `CASE`'s branches as `Debug` shows them: a list of pairs, as the derived `Debug`
/// of a `Vec<(Expr, Expr)>`.
struct ShownBranches<'a> {
    branches: &'a [(Expr, Expr)],
    levels: usize,
}

impl fmt::Debug for ShownBranches<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |expr| Shown {
            expr,
            levels: self.levels,
        };
        f.debug_list()
            .entries(self.branches.iter().map(|(w, t)| (shown(w), shown(t))))
            .finish()
    }
}

/// Frees the expression without recursion: children with children of their own are
/// moved onto a stack (left behind: a null literal) and taken apart from there. The
/// compiler's drop glue recursed once per level, and a sum of a million terms built in
/// a loop overflowed a 2 MiB stack when dropped. A shallow expression allocates nothing
/// here unless it has grandchildren.
impl Drop for Expr {
    fn drop(&mut self) {
        let mut stack: Vec<Expr> = Vec::new();
        let hollow = |e: &mut Expr, stack: &mut Vec<Expr>| {
            e.for_each_child_mut(|c| {
                if c.child_count() > 0 {
                    stack.push(c.take());
                }
            })
        };
        hollow(self, &mut stack);
        while let Some(mut e) = stack.pop() {
            hollow(&mut e, &mut stack);
        }
    }
}

/// A copy made without recursion: each node's copy is made once its children's are,
/// from a stack of finished copies.
impl Clone for Expr {
    fn clone(&self) -> Expr {
        // `(e, true)`: `e`'s children are copied, in order, on top of `done`.
        let mut todo = vec![(self, false)];
        let mut done: Vec<Expr> = Vec::new();
        while let Some((e, children_done)) = todo.pop() {
            let n = e.child_count();
            if children_done || n == 0 {
                let copy = e.copy_around(&mut done.drain(done.len() - n..));
                done.push(copy);
            } else {
                todo.push((e, true));
                let first = todo.len();
                e.for_each_child(|c| todo.push((c, false)));
                todo[first..].reverse();
            }
        }
        done.pop().expect("the copy of the whole")
    }
}

/// As derived (a NaN literal is unequal to itself), without recursion.
impl PartialEq for Expr {
    fn eq(&self, other: &Expr) -> bool {
        // Leaves and differing kinds, the common cases, without allocating.
        if !self.same_node(other) {
            return false;
        }
        if self.child_count() == 0 {
            return true;
        }
        let mut todo = vec![(self, other)];
        while let Some((a, b)) = todo.pop() {
            if !a.same_node(b) {
                return false;
            }
            // Pairs of children: `a`'s, then each matched with `b`'s in order.
            let first = todo.len();
            a.for_each_child(|c| todo.push((c, c)));
            let mut i = first;
            b.for_each_child(|c| {
                todo[i].1 = c;
                i += 1;
            });
        }
        true
    }
}

/// Feeds the hasher what the derived `Hash` fed it (so the keys of tasks built from an
/// expression are unchanged), without recursion.
impl Hash for Expr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        /// What is left to hash, last first.
        enum Step<'a> {
            Expr(&'a Expr),
            /// An `Option`'s discriminant, as derived `Hash` feeds it.
            Discriminant(isize),
            CastTo(CastType),
            LikeTail(&'a str, bool),
        }
        let mut todo = vec![Step::Expr(self)];
        while let Some(step) = todo.pop() {
            let e = match step {
                Step::Expr(e) => e,
                Step::Discriminant(d) => {
                    d.hash(state);
                    continue;
                }
                Step::CastTo(to) => {
                    to.hash(state);
                    continue;
                }
                Step::LikeTail(pattern, case_insensitive) => {
                    pattern.hash(state);
                    case_insensitive.hash(state);
                    continue;
                }
            };
            e.variant().hash(state);
            match e {
                Expr::Column(c) => c.hash(state),
                Expr::Literal(l) => l.hash(state),
                Expr::Binary { op, left, right } => {
                    op.hash(state);
                    todo.push(Step::Expr(right));
                    todo.push(Step::Expr(left));
                }
                Expr::Not(e) | Expr::IsNull(e) => todo.push(Step::Expr(e)),
                Expr::Case {
                    branches,
                    otherwise,
                } => {
                    // A slice's length prefix (`write_length_prefix`, by default
                    // `write_usize`), the pairs in order, then the `Option`.
                    state.write_usize(branches.len());
                    match otherwise {
                        Some(e) => {
                            todo.push(Step::Expr(e));
                            todo.push(Step::Discriminant(1));
                        }
                        None => todo.push(Step::Discriminant(0)),
                    }
                    for (when, then) in branches.iter().rev() {
                        todo.push(Step::Expr(then));
                        todo.push(Step::Expr(when));
                    }
                }
                Expr::Cast { expr, to } => {
                    todo.push(Step::CastTo(*to));
                    todo.push(Step::Expr(expr));
                }
                Expr::DateTrunc { unit, expr } => {
                    unit.hash(state);
                    todo.push(Step::Expr(expr));
                }
                Expr::Like {
                    expr,
                    pattern,
                    case_insensitive,
                } => {
                    todo.push(Step::LikeTail(pattern, *case_insensitive));
                    todo.push(Step::Expr(expr));
                }
            }
        }
    }
}

thread_local! {
    /// How many expressions this thread is serializing or deserializing, one inside
    /// the other.
    static SERDE_DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// One level of an expression being serialized or deserialized; refused beyond
/// [`MAX_EXPR_DEPTH`], as serde's formats recurse once per level.
struct SerdeLevel;

impl SerdeLevel {
    fn enter() -> Result<SerdeLevel, String> {
        SERDE_DEPTH.with(|depth| {
            if depth.get() >= MAX_EXPR_DEPTH {
                return Err(format!(
                    "the expression is nested more than {MAX_EXPR_DEPTH} levels deep; at most \
                     {MAX_EXPR_DEPTH} are allowed"
                ));
            }
            depth.set(depth.get() + 1);
            Ok(SerdeLevel)
        })
    }
}

impl Drop for SerdeLevel {
    fn drop(&mut self) {
        SERDE_DEPTH.with(|depth| depth.set(depth.get() - 1));
    }
}

/// An expression's variants as the derived `Serialize` wrote them (the same names,
/// order and fields), borrowing its values.
#[derive(Serialize)]
#[serde(rename = "Expr")]
enum SerExpr<'a> {
    Column(&'a str),
    Literal(&'a Lit),
    Binary {
        op: BinOp,
        left: &'a Expr,
        right: &'a Expr,
    },
    Not(&'a Expr),
    IsNull(&'a Expr),
    Case {
        branches: &'a [(Expr, Expr)],
        otherwise: Option<&'a Expr>,
    },
    Cast {
        expr: &'a Expr,
        to: CastType,
    },
    DateTrunc {
        unit: TruncUnit,
        expr: &'a Expr,
    },
    Like {
        expr: &'a Expr,
        pattern: &'a str,
        case_insensitive: bool,
    },
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let _level = SerdeLevel::enter().map_err(serde::ser::Error::custom)?;
        let borrowed = match self {
            Expr::Column(c) => SerExpr::Column(c),
            Expr::Literal(l) => SerExpr::Literal(l),
            Expr::Binary { op, left, right } => SerExpr::Binary {
                op: *op,
                left,
                right,
            },
            Expr::Not(e) => SerExpr::Not(e),
            Expr::IsNull(e) => SerExpr::IsNull(e),
            Expr::Case {
                branches,
                otherwise,
            } => SerExpr::Case {
                branches,
                otherwise: otherwise.as_deref(),
            },
            Expr::Cast { expr, to } => SerExpr::Cast { expr, to: *to },
            Expr::DateTrunc { unit, expr } => SerExpr::DateTrunc { unit: *unit, expr },
            Expr::Like {
                expr,
                pattern,
                case_insensitive,
            } => SerExpr::Like {
                expr,
                pattern,
                case_insensitive: *case_insensitive,
            },
        };
        borrowed.serialize(serializer)
    }
}

/// An expression's variants as the derived `Deserialize` read them; a child is read by
/// `Expr`'s own `Deserialize`, which counts the levels.
#[derive(Deserialize)]
#[serde(rename = "Expr")]
enum DeExpr {
    Column(String),
    Literal(Lit),
    Binary {
        op: BinOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Not(Box<Expr>),
    IsNull(Box<Expr>),
    Case {
        branches: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    Cast {
        expr: Box<Expr>,
        to: CastType,
    },
    DateTrunc {
        unit: TruncUnit,
        expr: Box<Expr>,
    },
    Like {
        expr: Box<Expr>,
        pattern: String,
        case_insensitive: bool,
    },
}

impl<'de> Deserialize<'de> for Expr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Expr, D::Error> {
        let _level = SerdeLevel::enter().map_err(serde::de::Error::custom)?;
        Ok(match DeExpr::deserialize(deserializer)? {
            DeExpr::Column(c) => Expr::Column(c),
            DeExpr::Literal(l) => Expr::Literal(l),
            DeExpr::Binary { op, left, right } => Expr::Binary { op, left, right },
            DeExpr::Not(e) => Expr::Not(e),
            DeExpr::IsNull(e) => Expr::IsNull(e),
            DeExpr::Case {
                branches,
                otherwise,
            } => Expr::Case {
                branches,
                otherwise,
            },
            DeExpr::Cast { expr, to } => Expr::Cast { expr, to },
            DeExpr::DateTrunc { unit, expr } => Expr::DateTrunc { unit, expr },
            DeExpr::Like {
                expr,
                pattern,
                case_insensitive,
            } => Expr::Like {
                expr,
                pattern,
                case_insensitive,
            },
        })
    }
}

macro_rules! arithmetic_operator {
    ($($trait:ident $method:ident $op:ident),*) => {$(
        impl std::ops::$trait for Expr {
            type Output = Expr;
            fn $method(self, rhs: Expr) -> Expr {
                self.binary(BinOp::$op, rhs)
            }
        }
    )*};
}
arithmetic_operator!(Add add Add, Sub sub Sub, Mul mul Mul, Div div Div);

impl std::ops::Not for Expr {
    type Output = Expr;
    fn not(self) -> Expr {
        Expr::Not(Box::new(self))
    }
}

/// A column list for error messages: `name: string, x: float64`.
pub(crate) fn describe_columns(schema: &Schema) -> Vec<String> {
    schema
        .fields()
        .iter()
        .map(|f| format!("{}: {}", f.name(), dtype_name(f.data_type())))
        .collect()
}

/// The pandas name of an Arrow type, as Dask prints dtypes.
pub(crate) fn dtype_name(t: &DataType) -> String {
    match t {
        DataType::Boolean => "bool".into(),
        DataType::Int8 => "int8".into(),
        DataType::Int16 => "int16".into(),
        DataType::Int32 => "int32".into(),
        DataType::Int64 => "int64".into(),
        DataType::UInt8 => "uint8".into(),
        DataType::UInt16 => "uint16".into(),
        DataType::UInt32 => "uint32".into(),
        DataType::UInt64 => "uint64".into(),
        DataType::Float32 => "float32".into(),
        DataType::Float64 => "float64".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Timestamp(unit, _) => format!(
            "datetime64[{}]",
            match unit {
                arrow_schema::TimeUnit::Second => "s",
                arrow_schema::TimeUnit::Millisecond => "ms",
                arrow_schema::TimeUnit::Microsecond => "us",
                arrow_schema::TimeUnit::Nanosecond => "ns",
            }
        ),
        DataType::Null => "null".into(),
        other => other.to_string(),
    }
}

fn lit_type(l: &Lit) -> DataType {
    match l {
        Lit::Null => DataType::Null,
        Lit::Bool(_) => DataType::Boolean,
        Lit::Int(_) => DataType::Int64,
        Lit::Float(_) => DataType::Float64,
        Lit::Str(_) => DataType::Utf8,
    }
}

fn lit_array(l: &Lit) -> ArrayRef {
    match l {
        Lit::Null => Arc::new(arrow_array::NullArray::new(1)),
        Lit::Bool(b) => Arc::new(BooleanArray::from(vec![*b])),
        Lit::Int(i) => Arc::new(arrow_array::Int64Array::from(vec![*i])),
        Lit::Float(x) => Arc::new(arrow_array::Float64Array::from(vec![*x])),
        Lit::Str(s) => Arc::new(arrow_array::StringArray::from(vec![s.as_str()])),
    }
}

/// The type both operands of a binary operator are brought to. As [`common_type`],
/// except that a non-negative integer literal beside an unsigned 64-bit column takes the
/// column's type (numpy's rule for Python integers): through `int64`, `u > 0` dropped
/// and `u + 1` nulled every value above `i64::MAX`.
fn operand_type(left: &Expr, l: &DataType, right: &Expr, r: &DataType) -> Option<DataType> {
    let unsigned_literal = |e: &Expr| matches!(e, Expr::Literal(Lit::Int(v)) if *v >= 0);
    match (l, r) {
        (DataType::UInt64, _) if unsigned_literal(right) => Some(DataType::UInt64),
        (_, DataType::UInt64) if unsigned_literal(left) => Some(DataType::UInt64),
        _ => common_type(l, r),
    }
}

/// A comparison's result as pandas has it where an operand is NaN: false, except for
/// `!=`, which is true. Arrow orders NaN above every number and equal to itself, so
/// `x > 100` held and `x == x` held for NaN. Nulls stay null. Operands without a NaN
/// (the common case) cost one scan that stops at the first NaN, and nothing else.
fn nan_unequal(
    op: BinOp,
    compared: BooleanArray,
    l: &Value,
    r: &Value,
) -> Result<ArrayRef, ArrowError> {
    let mut out = compared;
    for operand in [l, r] {
        let Some(nan) = nan_mask(operand.datum().get().0) else {
            continue;
        };
        let nan = if operand.is_scalar() {
            // A NaN literal: NaN beside every row.
            BooleanArray::new(arrow_buffer::BooleanBuffer::new_set(out.len()), None)
        } else {
            nan
        };
        out = if op == BinOp::NotEq {
            arrow_arith::boolean::or(&out, &nan)?
        } else {
            arrow_arith::boolean::and(&out, &arrow_arith::boolean::not(&nan)?)?
        };
    }
    Ok(Arc::new(out))
}

/// Where a floating-point array holds NaN (a null's slot may count; callers combine the
/// mask with null-propagating kernels), or `None` when it holds none or is not of a
/// floating-point type.
fn nan_mask(a: &dyn Array) -> Option<BooleanArray> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float16Type, Float32Type, Float64Type};
    fn mask<T: Copy>(values: &[T], is_nan: impl Fn(T) -> bool) -> Option<BooleanArray> {
        // Vectorised scan first: most columns hold no NaN, and then no mask is built.
        if !values.iter().any(|&v| is_nan(v)) {
            return None;
        }
        let bits = arrow_buffer::BooleanBuffer::collect_bool(values.len(), |i| is_nan(values[i]));
        Some(BooleanArray::new(bits, None))
    }
    match a.data_type() {
        DataType::Float64 => mask(a.as_primitive::<Float64Type>().values(), f64::is_nan),
        DataType::Float32 => mask(a.as_primitive::<Float32Type>().values(), f32::is_nan),
        // Two float16 operands are compared as float16: without this, `h == h` held
        // for NaN (Arrow's total order), as it did for the wider floats.
        DataType::Float16 => mask(a.as_primitive::<Float16Type>().values(), |v| v.is_nan()),
        _ => None,
    }
}

/// The type two operands are cast to before a kernel compares or combines them, or
/// `None` where they do not mix (a string and a number).
pub(crate) fn common_type(l: &DataType, r: &DataType) -> Option<DataType> {
    use DataType::*;
    let is_string = |t: &DataType| matches!(t, Utf8 | LargeUtf8 | Utf8View);
    Some(match (l, r) {
        _ if l == r => l.clone(),
        (Null, t) | (t, Null) => t.clone(),
        _ if l.is_floating() && r.is_numeric() || r.is_floating() && l.is_numeric() => Float64,
        _ if l.is_integer() && r.is_integer() => Int64,
        _ if is_string(l) && is_string(r) => Utf8,
        // A timestamp compared with an integer literal: nanoseconds since the epoch.
        (Timestamp(..), Int64) | (Int64, Timestamp(..)) => Int64,
        _ => return None,
    })
}

/// An evaluated operand: a column, or a literal kept as a scalar so that kernels
/// broadcast it without materializing a column of copies.
enum Value {
    Array(ArrayRef),
    Scalar(Scalar<ArrayRef>),
}

impl Value {
    fn wrap(a: ArrayRef, scalar: bool) -> Value {
        if scalar {
            Value::Scalar(Scalar::new(a))
        } else {
            Value::Array(a)
        }
    }

    fn is_scalar(&self) -> bool {
        matches!(self, Value::Scalar(_))
    }

    fn array(&self) -> ArrayRef {
        match self {
            Value::Array(a) => a.clone(),
            Value::Scalar(s) => s.get().0.slice(0, 1),
        }
    }

    fn datum(&self) -> &dyn Datum {
        match self {
            Value::Array(a) => a,
            Value::Scalar(s) => s,
        }
    }

    fn cast(&self, to: &DataType) -> Result<Value, ArrowError> {
        let a = self.array();
        if a.data_type() == to {
            return Ok(Value::wrap(a, self.is_scalar()));
        }
        // Not `safe`: a value the operands' common type cannot hold (a `uint64` above
        // `i64::MAX` beside an `int64`) is an error, not a null.
        let options = arrow_cast::CastOptions {
            safe: false,
            ..Default::default()
        };
        Ok(Value::wrap(
            arrow_cast::cast_with_options(a.as_ref(), to, &options)?,
            self.is_scalar(),
        ))
    }

    /// This operand as a column as long as `other` (a scalar repeated where `other` is a
    /// column), for the boolean kernels, which take no scalars.
    fn broadcast_to(&self, other: &Value) -> Result<ArrayRef, ArrowError> {
        match (self, other) {
            (Value::Scalar(s), Value::Array(o)) => {
                let indices = arrow_array::UInt32Array::from(vec![0u32; o.len()]);
                arrow_select::take::take(s.get().0, &indices, None)
            }
            _ => Ok(self.array()),
        }
    }

    fn map_bool(
        &self,
        f: impl Fn(&BooleanArray) -> Result<BooleanArray, ArrowError>,
    ) -> Result<Value, ArrowError> {
        let a = as_bool(&self.array())?;
        Ok(Value::wrap(Arc::new(f(&a)?), self.is_scalar()))
    }
}

fn as_bool(a: &ArrayRef) -> Result<BooleanArray, ArrowError> {
    let a = arrow_cast::cast(a.as_ref(), &DataType::Boolean)?;
    Ok(a.as_any()
        .downcast_ref::<BooleanArray>()
        .cloned()
        .expect("cast to Boolean gives a BooleanArray"))
}

#[cfg(test)]
mod tests {
    use std::hash::{Hash, Hasher};

    use super::{col, lit, BinOp, CastType, Expr, Lit, TruncUnit};

    /// `Expr` as it was, with the derived `Hash`.
    #[derive(Hash)]
    enum Derived {
        Column(String),
        Literal(Lit),
        Binary {
            op: BinOp,
            left: Box<Derived>,
            right: Box<Derived>,
        },
        Not(Box<Derived>),
        IsNull(Box<Derived>),
        Case {
            branches: Vec<(Derived, Derived)>,
            otherwise: Option<Box<Derived>>,
        },
        Cast {
            expr: Box<Derived>,
            to: CastType,
        },
        DateTrunc {
            unit: TruncUnit,
            expr: Box<Derived>,
        },
        Like {
            expr: Box<Derived>,
            pattern: String,
            case_insensitive: bool,
        },
    }

    fn derived(e: &Expr) -> Derived {
        let d = |e: &Expr| Box::new(derived(e));
        match e {
            Expr::Column(c) => Derived::Column(c.clone()),
            Expr::Literal(l) => Derived::Literal(l.clone()),
            Expr::Binary { op, left, right } => Derived::Binary {
                op: *op,
                left: d(left),
                right: d(right),
            },
            Expr::Not(e) => Derived::Not(d(e)),
            Expr::IsNull(e) => Derived::IsNull(d(e)),
            Expr::Case {
                branches,
                otherwise,
            } => Derived::Case {
                branches: branches
                    .iter()
                    .map(|(w, t)| (derived(w), derived(t)))
                    .collect(),
                otherwise: otherwise.as_deref().map(d),
            },
            Expr::Cast { expr, to } => Derived::Cast {
                expr: d(expr),
                to: *to,
            },
            Expr::DateTrunc { unit, expr } => Derived::DateTrunc {
                unit: *unit,
                expr: d(expr),
            },
            Expr::Like {
                expr,
                pattern,
                case_insensitive,
            } => Derived::Like {
                expr: d(expr),
                pattern: pattern.clone(),
                case_insensitive: *case_insensitive,
            },
        }
    }

    /// Every call a `Hash` makes, in order, with the method's name.
    #[derive(Default, PartialEq, Debug)]
    struct Recorder(Vec<String>);

    impl Hasher for Recorder {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.push(format!("bytes {bytes:?}"));
        }
        fn write_u8(&mut self, i: u8) {
            self.0.push(format!("u8 {i}"));
        }
        fn write_u64(&mut self, i: u64) {
            self.0.push(format!("u64 {i}"));
        }
        fn write_i64(&mut self, i: i64) {
            self.0.push(format!("i64 {i}"));
        }
        fn write_usize(&mut self, i: usize) {
            self.0.push(format!("usize {i}"));
        }
        fn write_isize(&mut self, i: isize) {
            self.0.push(format!("isize {i}"));
        }
    }

    fn calls(h: &impl Hash) -> Recorder {
        let mut r = Recorder::default();
        h.hash(&mut r);
        r
    }

    #[test]
    fn hashing_feeds_what_the_derived_hash_fed() {
        // So the keys of tasks built from an expression did not change with the
        // hand-written, non-recursive `Hash`.
        let cases = [
            col("a"),
            lit(1.5),
            (col("a") + lit(1)).gt(lit(0)).and(col("b").is_null().not()),
            Expr::Case {
                branches: vec![
                    (col("c"), lit("x")),
                    (col("d").lt_eq(lit(Lit::Null)), lit(true)),
                ],
                otherwise: Some(Box::new(Expr::Cast {
                    expr: Box::new(col("e")),
                    to: CastType::Int64,
                })),
            },
            Expr::Case {
                branches: Vec::new(),
                otherwise: None,
            },
            Expr::DateTrunc {
                unit: TruncUnit::Month,
                expr: Box::new(col("t")),
            }
            .eq(lit(0)),
            Expr::Like {
                expr: Box::new(col("s")),
                pattern: "a_%".into(),
                case_insensitive: true,
            },
        ];
        for e in &cases {
            let ours = calls(e);
            assert!(ours.0.len() > 1);
            assert_eq!(ours, calls(&derived(e)), "{e}");
        }
    }

    #[test]
    fn copies_and_comparisons_follow_every_child() {
        let e = Expr::Case {
            branches: vec![(col("a"), lit(1)), (col("b"), lit(2))],
            otherwise: Some(Box::new(col("c").like("x"))),
        };
        assert!(e.clone() == e);
        assert_eq!(e.clone().to_string(), e.to_string());
        // A difference in any child, or in a node's own values, is seen.
        let differing = [
            Expr::Case {
                branches: vec![(col("a"), lit(1)), (col("b"), lit(3))],
                otherwise: Some(Box::new(col("c").like("x"))),
            },
            Expr::Case {
                branches: vec![(col("a"), lit(1)), (col("b"), lit(2))],
                otherwise: Some(Box::new(col("c").like("y"))),
            },
            Expr::Case {
                branches: vec![(col("a"), lit(1)), (col("b"), lit(2))],
                otherwise: None,
            },
            Expr::Case {
                branches: vec![(col("a"), lit(1))],
                otherwise: Some(Box::new(col("c").like("x"))),
            },
        ];
        for d in &differing {
            assert!(*d != e, "{d}");
        }
        assert!(col("a") + lit(1) != col("a") - lit(1));
        assert!(col("a").not() != col("a").is_null());
    }
}
