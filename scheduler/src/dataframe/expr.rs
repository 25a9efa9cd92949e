//! Expressions as data: what `filter` and `with_column` evaluate on each partition.
//!
//! An expression is a plain value (hashable, comparable, serializable), so the task that
//! evaluates it is pure: building the same query twice gives the same keys, and the
//! cluster backend or `dask::Memory` can key on it. Its type is checked against the
//! schema while the graph is built ([`Expr::data_type`]); evaluation uses Arrow's
//! kernels.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, BooleanArray, Datum, RecordBatch, Scalar};
use arrow_schema::{ArrowError, DataType, Schema};
use serde::{Deserialize, Serialize};

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

/// How deeply an expression may nest. Typing, printing and evaluating it recurse once
/// per level, and an unoptimised build's evaluation takes about 10 KiB of stack a
/// level: 200 levels overflowed a thread with Rust's default 2 MiB stack and aborted
/// the process. Deeper expressions are refused when they are used. Above SQL's own
/// limit of 128 (`sql/frontend.rs`), so that a query it accepts, which lowering may wrap
/// in a cast or two, is never refused here.
pub(crate) const MAX_EXPR_DEPTH: usize = 150;

/// An expression over the columns of one row.
#[derive(Debug, Clone, PartialEq, Hash, Serialize, Deserialize)]
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
            stack.extend(e.children().into_iter().rev());
        }
        out
    }

    /// The expressions this one is made of, in order.
    fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Column(_) | Expr::Literal(_) => Vec::new(),
            Expr::Binary { left, right, .. } => vec![left, right],
            Expr::Not(e)
            | Expr::IsNull(e)
            | Expr::Cast { expr: e, .. }
            | Expr::DateTrunc { expr: e, .. }
            | Expr::Like { expr: e, .. } => vec![e],
            Expr::Case {
                branches,
                otherwise,
            } => branches
                .iter()
                .flat_map(|(when, then)| [when, then])
                .chain(otherwise.as_deref())
                .collect(),
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
            stack.extend(e.children().into_iter().map(|c| (c, depth + 1)));
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
        match self {
            Expr::Column(c) => write!(f, "{c}"),
            Expr::Literal(Lit::Null) => write!(f, "null"),
            Expr::Literal(Lit::Bool(b)) => write!(f, "{b}"),
            Expr::Literal(Lit::Int(i)) => write!(f, "{i}"),
            Expr::Literal(Lit::Float(x)) => write!(f, "{x:?}"),
            Expr::Literal(Lit::Str(s)) => write!(f, "{s:?}"),
            Expr::Binary { op, left, right } => write!(f, "({left} {} {right})", op.symbol()),
            Expr::Not(e) => write!(f, "~{e}"),
            Expr::IsNull(e) => write!(f, "{e}.isnull()"),
            Expr::Case {
                branches,
                otherwise,
            } => {
                f.write_str("CASE")?;
                for (when, then) in branches {
                    write!(f, " WHEN {when} THEN {then}")?;
                }
                if let Some(e) = otherwise {
                    write!(f, " ELSE {e}")?;
                }
                f.write_str(" END")
            }
            Expr::Cast { expr, to } => write!(f, "CAST({expr} AS {to})"),
            Expr::DateTrunc { unit, expr } => write!(f, "date_trunc('{unit}', {expr})"),
            Expr::Like {
                expr,
                pattern,
                case_insensitive,
            } => {
                let op = if *case_insensitive { "ILIKE" } else { "LIKE" };
                write!(f, "({expr} {op} '{}')", pattern.replace('\'', "''"))
            }
        }
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
