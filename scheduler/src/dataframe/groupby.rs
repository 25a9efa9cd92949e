//! `groupby(keys).agg([...])`: grouped aggregation, the one kernel Arrow lacks.
//!
//! Each partition reduces to a table of groups with a mergeable state per aggregate
//! (chunk), tables merge as a tree keeping partition order (combine), and the root
//! becomes the result batch, sorted by key as pandas sorts groups (aggregate). Rows whose
//! key has a null (or NaN) are dropped, as pandas' default `dropna=True`; aggregates skip
//! nulls and NaN, as pandas' `skipna`. SQL asks instead for null keys grouped and for NaN
//! keys as values of their own (`keep_null_keys`, `nan_keys_apart`).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, UInt64Array,
};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use super::error::DataFrameError;
use super::expr::{describe_columns, dtype_name};
use super::reduce::{tree, Moments};
use super::DataFrame;

/// The aggregate functions of [`GroupBy::agg`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggFunc {
    Sum,
    Mean,
    /// Sample standard deviation (ddof 1).
    Std,
    /// Sample variance (ddof 1).
    Var,
    Min,
    Max,
    /// Values that are not null.
    Count,
    /// The first value that is not null, in partition and row order.
    First,
    /// The last value that is not null.
    Last,
}

impl AggFunc {
    fn name(self) -> &'static str {
        match self {
            AggFunc::Sum => "sum",
            AggFunc::Mean => "mean",
            AggFunc::Std => "std",
            AggFunc::Var => "var",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::Count => "count",
            AggFunc::First => "first",
            AggFunc::Last => "last",
        }
    }
}

/// One aggregate of one column: `agg::sum("x")`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Agg {
    pub func: AggFunc,
    pub column: String,
    /// The output column's name; by default the column's name, or `column_func` where
    /// one column has several aggregates.
    pub alias: Option<String>,
}

impl Agg {
    /// Names the output column.
    pub fn alias(mut self, name: impl Into<String>) -> Agg {
        self.alias = Some(name.into());
        self
    }
}

/// Builders of [`Agg`]s, as Dask's `.agg({"x": "sum"})`.
pub mod agg {
    use super::{Agg, AggFunc};

    macro_rules! aggs {
        ($($(#[$doc:meta])* $name:ident => $func:ident;)*) => {$(
            $(#[$doc])*
            pub fn $name(column: impl Into<String>) -> Agg {
                Agg { func: AggFunc::$func, column: column.into(), alias: None }
            }
        )*};
    }

    aggs! {
        /// The sum per group (integers stay integers; booleans count `true`s).
        sum => Sum;
        /// The mean per group.
        mean => Mean;
        /// The sample standard deviation per group (ddof 1), numerically stable.
        std => Std;
        /// The sample variance per group (ddof 1).
        var => Var;
        /// The smallest value per group.
        min => Min;
        /// The largest value per group.
        max => Max;
        /// The number of values that are not null per group.
        count => Count;
        /// The first value that is not null per group.
        first => First;
        /// The last value that is not null per group.
        last => Last;
    }
}

/// Rows grouped by key columns, waiting for [`agg`](GroupBy::agg).
#[derive(Clone, Debug)]
pub struct GroupBy {
    frame: DataFrame,
    keys: Vec<String>,
    split_out: usize,
    dropna: bool,
    null_empty_sums: bool,
    nan_keys: bool,
}

/// A key or aggregated value, in the canonical type of its column.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
enum Value {
    /// A missing key, kept as its own group only where the group-by asks for it
    /// (SQL's `GROUP BY`; pandas' `dropna=False`). Never an aggregated value.
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(Box<str>),
}

impl Value {
    fn rank(&self) -> u8 {
        match self {
            // First, as SQL (SQLite, ascending) orders nulls.
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) => 2,
            Value::UInt(_) => 3,
            Value::Float(_) => 4,
            Value::Str(_) => 5,
        }
    }

    /// Floats group as pandas groups them: `-0.0` with `0.0`; every NaN with every other
    /// (a NaN key gets here only where it is a value, for SQL; else it is missing, read as
    /// `None`).
    fn float_bits(f: f64) -> u64 {
        if f == 0.0 {
            0
        } else if f.is_nan() {
            f64::NAN.to_bits()
        } else {
            f.to_bits()
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.rank().hash(state);
        match self {
            Value::Null => {}
            Value::Bool(b) => b.hash(state),
            Value::Int(i) => i.hash(state),
            Value::UInt(u) => u.hash(state),
            Value::Float(f) => Value::float_bits(*f).hash(state),
            Value::Str(s) => s.hash(state),
        }
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Int(a), Value::Int(b)) => a.cmp(b),
            (Value::UInt(a), Value::UInt(b)) => a.cmp(b),
            (Value::Float(a), Value::Float(b)) => {
                if Value::float_bits(*a) == Value::float_bits(*b) {
                    Ordering::Equal
                } else if a.is_nan() || b.is_nan() {
                    // NaN above every number, whatever its sign bit (`total_cmp` puts a
                    // negative NaN below them all), as PostgreSQL orders it.
                    a.is_nan().cmp(&b.is_nan())
                } else {
                    a.total_cmp(b)
                }
            }
            (Value::Str(a), Value::Str(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// The type a column is read as for keys and min/max/first/last, or `None` where it is
/// not supported.
fn canonical(t: &DataType) -> Option<DataType> {
    use DataType::*;
    Some(match t {
        Boolean => Boolean,
        Int8 | Int16 | Int32 | Int64 | Timestamp(..) | Date32 | Date64 | Duration(_) => Int64,
        UInt8 | UInt16 | UInt32 | UInt64 => UInt64,
        Float16 | Float32 | Float64 => Float64,
        Utf8 | LargeUtf8 | Utf8View => Utf8,
        Dictionary(_, v) if matches!(**v, Utf8 | LargeUtf8) => Utf8,
        _ => return None,
    })
}

/// A column read as its canonical type.
enum Reader {
    Bool(BooleanArray),
    Int(Int64Array),
    UInt(UInt64Array),
    Float(Float64Array),
    Str(StringArray),
}

impl Reader {
    fn new(column: &ArrayRef) -> Result<Reader, ArrowError> {
        let t = match canonical(column.data_type()) {
            Some(t) => t,
            // Other numbers (decimals) are only summed and averaged (`plan` allows no
            // more): as floats, as `Series` reduces them.
            None if column.data_type().is_numeric() => DataType::Float64,
            None => {
                return Err(ArrowError::CastError(format!(
                    "cannot group by {}",
                    column.data_type()
                )))
            }
        };
        let a = arrow_cast::cast(column.as_ref(), &t)?;
        let bad = || ArrowError::CastError("unexpected array after cast".into());
        let any = a.as_any();
        Ok(match t {
            DataType::Boolean => {
                Reader::Bool(any.downcast_ref::<BooleanArray>().ok_or_else(bad)?.clone())
            }
            DataType::Int64 => {
                Reader::Int(any.downcast_ref::<Int64Array>().ok_or_else(bad)?.clone())
            }
            DataType::UInt64 => {
                Reader::UInt(any.downcast_ref::<UInt64Array>().ok_or_else(bad)?.clone())
            }
            DataType::Float64 => {
                Reader::Float(any.downcast_ref::<Float64Array>().ok_or_else(bad)?.clone())
            }
            _ => Reader::Str(any.downcast_ref::<StringArray>().ok_or_else(bad)?.clone()),
        })
    }

    fn get(&self, i: usize) -> Option<Value> {
        macro_rules! read {
            ($a:expr, $v:expr) => {
                if $a.is_null(i) {
                    None
                } else {
                    Some($v($a.value(i)))
                }
            };
        }
        match self {
            Reader::Bool(a) => read!(a, Value::Bool),
            Reader::Int(a) => read!(a, Value::Int),
            Reader::UInt(a) => read!(a, Value::UInt),
            // NaN is missing, as in pandas: skipped by every aggregate, and a NaN key
            // drops its row like a null one (`dropna=True`).
            Reader::Float(a) => {
                if a.is_null(i) || a.value(i).is_nan() {
                    None
                } else {
                    Some(Value::Float(a.value(i)))
                }
            }
            Reader::Str(a) => read!(a, |s: &str| Value::Str(s.into())),
        }
    }

    /// The key at row `i`: as [`get`](Self::get), except that with `nan_is_value` a NaN
    /// is a value (SQL's rule), every NaN the same one, rather than missing.
    fn key(&self, i: usize, nan_is_value: bool) -> Option<Value> {
        match self {
            Reader::Float(a) if nan_is_value && a.is_valid(i) && a.value(i).is_nan() => {
                Some(Value::Float(f64::NAN))
            }
            _ => self.get(i),
        }
    }

    fn float(&self, i: usize) -> Option<f64> {
        match self.get(i)? {
            Value::Bool(b) => Some(if b { 1.0 } else { 0.0 }),
            Value::Int(v) => Some(v as f64),
            Value::UInt(v) => Some(v as f64),
            Value::Float(v) => Some(v),
            Value::Null | Value::Str(_) => None,
        }
    }
}

/// The run length from which [`State::push_floats`] takes a run's moments first.
const LONG_RUN: usize = 8;

/// The running state of one aggregate in one group.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
enum State {
    /// An integer sum, exact: in 128 bits no sum of 64-bit values overflows, and one that
    /// does not fit `int64` is an error when the result is built (wrapping gave SQL's
    /// `SUM` a small wrong number).
    SumInt(i128),
    SumFloat(f64),
    Moments(Moments),
    Min(Option<Value>),
    Max(Option<Value>),
    Count(u64),
    First(Option<Value>),
    Last(Option<Value>),
    /// A sum that is null where no value was summed (SQL's `SUM`, pandas' `min_count=1`):
    /// the sum and the number of values.
    SumIntOrNull(i128, u64),
    SumFloatOrNull(f64, u64),
}

impl State {
    fn update(&mut self, reader: &Reader, i: usize) {
        match self {
            State::SumInt(s) => {
                if let Some(v) = reader.get(i) {
                    *s = s.saturating_add(match v {
                        Value::Bool(b) => i128::from(b),
                        Value::Int(v) => i128::from(v),
                        Value::UInt(v) => i128::from(v),
                        _ => 0,
                    });
                }
            }
            State::SumFloat(s) => {
                if let Some(v) = reader.float(i) {
                    *s += v;
                }
            }
            State::SumIntOrNull(s, n) => {
                if let Some(v) = reader.get(i) {
                    *s = s.saturating_add(match v {
                        Value::Bool(b) => i128::from(b),
                        Value::Int(v) => i128::from(v),
                        Value::UInt(v) => i128::from(v),
                        _ => 0,
                    });
                    *n += 1;
                }
            }
            State::SumFloatOrNull(s, n) => {
                if let Some(v) = reader.float(i) {
                    *s += v;
                    *n += 1;
                }
            }
            State::Moments(m) => {
                if let Some(v) = reader.float(i) {
                    m.push(v);
                }
            }
            State::Min(cur) => {
                if let Some(v) = reader.get(i) {
                    if cur.as_ref().is_none_or(|c| v < *c) {
                        *cur = Some(v);
                    }
                }
            }
            State::Max(cur) => {
                if let Some(v) = reader.get(i) {
                    if cur.as_ref().is_none_or(|c| v > *c) {
                        *cur = Some(v);
                    }
                }
            }
            State::Count(n) => {
                if reader.get(i).is_some() {
                    *n += 1;
                }
            }
            State::First(cur) => {
                if cur.is_none() {
                    *cur = reader.get(i);
                }
            }
            State::Last(cur) => {
                if let Some(v) = reader.get(i) {
                    *cur = Some(v);
                }
            }
        }
    }

    /// [`update`](Self::update) with a float value known to be present.
    fn push_float(&mut self, v: f64) {
        match self {
            State::SumFloat(s) => *s += v,
            State::SumFloatOrNull(s, n) => {
                *s += v;
                *n += 1;
            }
            State::Moments(m) => m.push(v),
            State::Min(cur) => {
                if cur.as_ref().is_none_or(|c| Value::Float(v) < *c) {
                    *cur = Some(Value::Float(v));
                }
            }
            State::Max(cur) => {
                if cur.as_ref().is_none_or(|c| Value::Float(v) > *c) {
                    *cur = Some(Value::Float(v));
                }
            }
            State::Count(n) => *n += 1,
            State::First(cur) => {
                if cur.is_none() {
                    *cur = Some(Value::Float(v));
                }
            }
            State::Last(cur) => *cur = Some(Value::Float(v)),
            // Integer sums never read a float column.
            State::SumInt(_) | State::SumIntOrNull(..) => {}
        }
    }

    /// [`push_float`](Self::push_float) for each value of `values` that is not NaN, in
    /// one pass per state rather than one dispatch per value: sums and moments of the
    /// run are taken first (see [`Moments::of_floats`]) and merged in.
    fn push_floats(&mut self, values: &[f64]) {
        if values.len() < LONG_RUN {
            // Too short to pay for a merge.
            for &v in values {
                if !v.is_nan() {
                    self.push_float(v);
                }
            }
            return;
        }
        match self {
            State::SumFloat(s) => {
                let mut lanes = [0.0f64; 4];
                let mut chunks = values.chunks_exact(4);
                for c in &mut chunks {
                    for k in 0..4 {
                        lanes[k] += if c[k].is_nan() { 0.0 } else { c[k] };
                    }
                }
                for &v in chunks.remainder() {
                    lanes[0] += if v.is_nan() { 0.0 } else { v };
                }
                *s += (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
            }
            State::Moments(m) => *m = m.merge(&Moments::of_floats(values)),
            State::Count(n) => *n += values.iter().filter(|v| !v.is_nan()).count() as u64,
            _ => {
                for &v in values {
                    if !v.is_nan() {
                        self.push_float(v);
                    }
                }
            }
        }
    }

    /// Merges the state of a later part of the data into this one.
    fn merge(&mut self, later: &State) {
        match (self, later) {
            (State::SumInt(a), State::SumInt(b)) => *a = a.saturating_add(*b),
            (State::SumFloat(a), State::SumFloat(b)) => *a += b,
            (State::SumIntOrNull(a, n), State::SumIntOrNull(b, m)) => {
                *a = a.saturating_add(*b);
                *n += m;
            }
            (State::SumFloatOrNull(a, n), State::SumFloatOrNull(b, m)) => {
                *a += b;
                *n += m;
            }
            (State::Moments(a), State::Moments(b)) => *a = a.merge(b),
            (State::Min(a), State::Min(Some(b))) if a.as_ref().is_none_or(|x| b < x) => {
                *a = Some(b.clone())
            }
            (State::Max(a), State::Max(Some(b))) if a.as_ref().is_none_or(|x| b > x) => {
                *a = Some(b.clone())
            }
            (State::Count(a), State::Count(b)) => *a += b,
            (State::First(a), State::First(b)) if a.is_none() => a.clone_from(b),
            (State::Last(a), State::Last(Some(b))) => *a = Some(b.clone()),
            _ => {}
        }
    }
}

/// The groups of part of the data, in order of first appearance. Crosses processes as
/// its keys and states; the lookup is rebuilt on arrival.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(from = "PartialWire")]
pub(crate) struct Partial {
    keys: Vec<Vec<Value>>,
    #[serde(skip)]
    lookup: HashMap<Vec<Value>, usize>,
    states: Vec<Vec<State>>,
}

/// What a [`Partial`] is serialized as: its fields in order, without the lookup.
#[derive(serde::Deserialize)]
struct PartialWire {
    keys: Vec<Vec<Value>>,
    states: Vec<Vec<State>>,
}

impl From<PartialWire> for Partial {
    fn from(wire: PartialWire) -> Partial {
        let lookup = wire
            .keys
            .iter()
            .enumerate()
            .map(|(g, k)| (k.clone(), g))
            .collect();
        Partial {
            keys: wire.keys,
            lookup,
            states: wire.states,
        }
    }
}

impl Partial {
    fn group(&mut self, key: Vec<Value>, fresh: &[State]) -> usize {
        if let Some(&g) = self.lookup.get(&key) {
            return g;
        }
        let g = self.keys.len();
        self.keys.push(key.clone());
        self.lookup.insert(key, g);
        self.states.push(fresh.to_vec());
        g
    }

    /// Its groups dealt into `n` shares by the hash of their key (a fixed hash, so every
    /// process and run splits alike): share `j` goes to output `j` of `split_out(n)`.
    /// One pass, each key hashed once; a task per share, each scanning every group,
    /// hashed every key `n` times. Shares are only read (merged), so they keep no lookup.
    fn split(&self, n: usize) -> Vec<Partial> {
        let mut shares: Vec<Partial> = (0..n).map(|_| Partial::default()).collect();
        for (key, states) in self.keys.iter().zip(&self.states) {
            let mut h = std::hash::DefaultHasher::new();
            key.hash(&mut h);
            let share = &mut shares[(h.finish() % n as u64) as usize];
            share.keys.push(key.clone());
            share.states.push(states.clone());
        }
        shares
    }

    fn merge_all(parts: &[&Partial], fresh: &[State]) -> Partial {
        let mut out = Partial::default();
        for part in parts {
            for (key, states) in part.keys.iter().zip(&part.states) {
                let g = out.group(key.clone(), fresh);
                for (a, b) in out.states[g].iter_mut().zip(states) {
                    a.merge(b);
                }
            }
        }
        out
    }
}

/// What the tasks need to know, fixed when the graph is built.
#[derive(Debug, Clone, Hash)]
struct Plan {
    keys: Vec<String>,
    aggs: Vec<Agg>,
    /// Rows with a null key are dropped (pandas' default) rather than grouped.
    dropna: bool,
    /// A sum of no values is null (SQL), not 0 (pandas' default).
    null_empty_sums: bool,
    /// A NaN key is a value with a group of its own (SQL), not missing (pandas).
    nan_keys: bool,
}

impl GroupBy {
    pub(crate) fn new(frame: DataFrame, keys: Vec<String>) -> GroupBy {
        GroupBy {
            frame,
            keys,
            split_out: 1,
            dropna: true,
            null_empty_sums: false,
            nan_keys: false,
        }
    }

    /// Makes `sum` of a group without values null rather than 0 (SQL's `SUM`, pandas'
    /// `min_count=1`).
    #[cfg(feature = "sql")] // only SQL asks for it
    pub(crate) fn null_empty_sums(mut self) -> GroupBy {
        self.null_empty_sums = true;
        self
    }

    /// Keeps rows whose key has a null (or NaN, unless [`nan_keys_apart`]) as groups of
    /// their own, with a null key (pandas' `dropna=False`, SQL's `GROUP BY` and
    /// `DISTINCT`); such groups sort first.
    ///
    /// [`nan_keys_apart`]: Self::nan_keys_apart
    #[cfg(feature = "sql")] // only SQL asks for it
    pub(crate) fn keep_null_keys(mut self) -> GroupBy {
        self.dropna = false;
        self
    }

    /// Reads a NaN key as a value, not as missing: all NaNs of a key column form one
    /// group, apart from the null group, sorted after every number (SQL: PostgreSQL and
    /// DuckDB group and order NaN so; pandas reads NaN as missing).
    #[cfg(feature = "sql")] // only SQL asks for it
    pub(crate) fn nan_keys_apart(mut self) -> GroupBy {
        self.nan_keys = true;
        self
    }

    /// Spreads the groups over `n` output partitions by a hash of their key (Dask's
    /// `split_out`), for results with many groups: each output is reduced by its own
    /// tree and is sorted by key within itself. `0` counts as 1.
    pub fn split_out(mut self, n: usize) -> GroupBy {
        self.split_out = n.max(1);
        self
    }

    /// The aggregates per group, as a one-partition dataframe: the key columns (the
    /// index when there is one key), then one column per aggregate.
    pub fn agg(&self, aggs: impl IntoIterator<Item = Agg>) -> DataFrame {
        let aggs: Vec<Agg> = aggs.into_iter().collect();
        match self.plan(aggs) {
            Ok((plan, schema, fresh)) => self.build(plan, schema, fresh),
            Err(e) => DataFrame::invalid(e),
        }
    }

    /// Checks the keys and aggregates against the schema; gives the output schema and
    /// the initial states.
    fn plan(&self, aggs: Vec<Agg>) -> Result<(Plan, SchemaRef, Vec<State>), DataFrameError> {
        if let Some(e) = self.frame.error() {
            return Err(e.clone());
        }
        let op = "groupby";
        let schema = self.frame.schema();
        let field = |c: &str| {
            schema
                .field_with_name(c)
                .map_err(|_| DataFrameError::UnknownColumn {
                    op,
                    column: c.to_string(),
                    available: describe_columns(&schema),
                })
        };
        let mismatch = |c: &str, why: String| DataFrameError::TypeMismatch {
            op,
            expr: c.to_string(),
            why,
            available: describe_columns(&schema),
        };
        if self.keys.is_empty() {
            return Err(DataFrameError::Invalid {
                op,
                why: "no key columns".into(),
            });
        }
        if aggs.is_empty() {
            return Err(DataFrameError::Invalid {
                op,
                why: "no aggregates".into(),
            });
        }
        super::limits::check_partitions(op, "split_out asks for", self.split_out as u128)?;
        if self.split_out > 1 {
            // Each partition's groups are dealt into `split_out` shares, and every output
            // reads its share of every partition: `split_out × partitions` task inputs
            // (`split_out(1 << 20)` on 30 partitions asked for 31 million tasks and ran
            // out of memory).
            let parts = self.frame.npartitions();
            super::limits::check_partitions(
                op,
                &format!(
                    "split_out {} over {parts} partitions asks for",
                    self.split_out
                ),
                self.split_out as u128 * parts as u128,
            )?;
        }
        let mut fields = Vec::new();
        for k in &self.keys {
            let f = field(k)?;
            // Each key is an output column: a key given twice made a result with two
            // columns of one name, which a lookup by name reads only the first of.
            if fields.iter().any(|g: &Field| g.name() == k) {
                return Err(DataFrameError::Invalid {
                    op,
                    why: format!("key `{k}` is given twice"),
                });
            }
            if canonical(f.data_type()).is_none() {
                return Err(mismatch(
                    k,
                    format!("cannot group by a {} column", dtype_name(f.data_type())),
                ));
            }
            fields.push(Field::new(k, f.data_type().clone(), true));
        }
        let mut fresh = Vec::new();
        for a in &aggs {
            let f = field(&a.column)?;
            let t = f.data_type();
            let numeric = t.is_numeric() || t == &DataType::Boolean;
            let (state, out_type) = match a.func {
                AggFunc::Sum if t.is_integer() || t == &DataType::Boolean => {
                    let s = if self.null_empty_sums {
                        State::SumIntOrNull(0, 0)
                    } else {
                        State::SumInt(0)
                    };
                    (s, DataType::Int64)
                }
                AggFunc::Sum if numeric => {
                    let s = if self.null_empty_sums {
                        State::SumFloatOrNull(0.0, 0)
                    } else {
                        State::SumFloat(0.0)
                    };
                    (s, DataType::Float64)
                }
                AggFunc::Mean | AggFunc::Std | AggFunc::Var if numeric => {
                    (State::Moments(Moments::EMPTY), DataType::Float64)
                }
                AggFunc::Min | AggFunc::Max | AggFunc::First | AggFunc::Last
                    if canonical(t).is_some() =>
                {
                    let s = match a.func {
                        AggFunc::Min => State::Min(None),
                        AggFunc::Max => State::Max(None),
                        AggFunc::First => State::First(None),
                        _ => State::Last(None),
                    };
                    (s, t.clone())
                }
                AggFunc::Count => (State::Count(0), DataType::Int64),
                _ => {
                    return Err(mismatch(
                        &a.column,
                        format!("`{}` of a {} column", a.func.name(), dtype_name(t)),
                    ))
                }
            };
            let several = aggs.iter().filter(|b| b.column == a.column).count() > 1;
            let name = match &a.alias {
                Some(alias) => alias.clone(),
                None if several => format!("{}_{}", a.column, a.func.name()),
                None => a.column.clone(),
            };
            if fields.iter().any(|f: &Field| f.name() == &name) {
                return Err(DataFrameError::Invalid {
                    op,
                    why: format!("two output columns would be named `{name}`; use `.alias(..)`"),
                });
            }
            fields.push(Field::new(name, out_type, true));
            fresh.push(state);
        }
        let plan = Plan {
            keys: self.keys.clone(),
            aggs,
            dropna: self.dropna,
            null_empty_sums: self.null_empty_sums,
            nan_keys: self.nan_keys,
        };
        Ok((plan, Arc::new(Schema::new(fields)), fresh))
    }

    fn build(&self, plan: Plan, schema: SchemaRef, fresh: Vec<State>) -> DataFrame {
        let fresh = Arc::new(fresh);
        let plan = Arc::new(plan);
        let (p, f) = (plan.clone(), fresh.clone());
        // Only the keys and aggregated columns are read: from CSV files, the others
        // are not parsed at all.
        let used: Vec<String> = plan
            .keys
            .iter()
            .chain(plan.aggs.iter().map(|a| &a.column))
            .cloned()
            .collect();
        let chunks = match self.frame.reading_only(&used).map_partitions(
            "groupby-chunk",
            (*plan).clone(),
            move |b| chunk(b, &p, &f),
        ) {
            Ok(c) => c,
            Err(e) => return DataFrame::invalid(e),
        };
        let n = self.split_out;
        // With `split_out`: each partition's groups dealt into `n` shares by one task,
        // whose result the first merges of every output read their own share of. (On a
        // cluster, a process merging any share receives the whole result, every share;
        // one result per partition instead of `n` keeps the graph and the work small.)
        let split: Vec<crate::Delayed<Vec<Partial>>> = if n == 1 {
            Vec::new()
        } else {
            chunks
                .iter()
                .map(|c| {
                    super::task::task(
                        "groupby-split",
                        ((*plan).clone(), n),
                        std::slice::from_ref(c),
                        move |p: &[&Partial]| p[0].split(n),
                    )
                })
                .collect()
        };
        let results = (0..n)
            .map(|j| {
                let pieces = if n == 1 {
                    chunks.clone()
                } else {
                    split
                        .chunks(super::reduce::SPLIT_EVERY)
                        .map(|group| {
                            let f = fresh.clone();
                            super::task::task(
                                "groupby-combine",
                                ((*plan).clone(), j, n, "shares"),
                                group,
                                move |parts: &[&Vec<Partial>]| {
                                    let shares: Vec<&Partial> =
                                        parts.iter().map(|p| &p[j]).collect();
                                    Partial::merge_all(&shares, &f)
                                },
                            )
                        })
                        .collect()
                };
                let f = fresh.clone();
                let root = tree(
                    "groupby-combine",
                    ((*plan).clone(), j, n),
                    pieces,
                    move |parts: &[&Partial]| Partial::merge_all(parts, &f),
                );
                let out_schema = schema.clone();
                let p = plan.clone();
                super::task::try_task(
                    "groupby-aggregate",
                    ((*plan).clone(), j, n),
                    std::slice::from_ref(&root),
                    move |parts: &[&Partial]| finish(parts[0], &p, &out_schema),
                )
            })
            .collect();
        let index = (plan.keys.len() == 1).then(|| plan.keys[0].clone());
        DataFrame::from_parts(results, schema, index, None, "aggregate")
    }
}

fn chunk(batch: &RecordBatch, plan: &Plan, fresh: &[State]) -> Result<Partial, ArrowError> {
    let column = |c: &str| {
        batch
            .column_by_name(c)
            .ok_or_else(|| ArrowError::SchemaError(format!("no column `{c}`")))
    };
    let keys = plan
        .keys
        .iter()
        .map(|k| Reader::new(column(k)?))
        .collect::<Result<Vec<_>, _>>()?;
    let values = plan
        .aggs
        .iter()
        .map(|a| {
            let c = column(&a.column)?;
            if a.func == AggFunc::Count && canonical(c.data_type()).is_none() {
                // Only nullness is read: any type counts, as `true` where valid.
                let set = arrow_buffer::BooleanBuffer::new_set(c.len());
                return Ok(Reader::Bool(BooleanArray::new(set, c.logical_nulls())));
            }
            Reader::new(c)
        })
        .collect::<Result<Vec<_>, ArrowError>>()?;
    let mut out = Partial::default();
    // One integer key (time bins, sorted ids) is read as runs of equal values straight
    // from the column, so rows of a group lying together are aggregated a run at a time;
    // other keys (and an integer key whose nulls form a group, for SQL) give a group per
    // row.
    let rows = match keys.as_slice() {
        [Reader::Int(ints)] if plan.dropna => Rows::Runs(int_runs(ints, &mut out, fresh)),
        _ => Rows::Ids(group_ids(
            &keys,
            &mut out,
            fresh,
            batch.num_rows(),
            plan.dropna,
            plan.nan_keys,
        )),
    };
    // Column by column: the reader's kind is matched once per column, not per row.
    for (j, reader) in values.iter().enumerate() {
        match (reader, &rows) {
            (Reader::Float(a), Rows::Runs(runs)) if a.null_count() == 0 => {
                for &(start, end, g) in runs {
                    out.states[g][j].push_floats(&a.values()[start..end]);
                }
            }
            (Reader::Float(a), Rows::Ids(ids)) if dense_floats(a, ids, &mut out, j) => {}
            (Reader::Float(a), _) => {
                let present = |i: usize| a.is_valid(i) && !a.value(i).is_nan();
                rows.for_each(|i, g| {
                    if present(i) {
                        out.states[g][j].push_float(a.value(i));
                    }
                });
            }
            _ => rows.for_each(|i, g| out.states[g][j].update(reader, i)),
        }
    }
    Ok(out)
}

/// Aggregate `j` of a float column over rows in scattered groups (a string key), into
/// one plain array per chunk indexed by group rather than through each row's `State`:
/// a sum adds `f64`s and a min/max compares them, with no match on the state's kind and
/// no `Value` comparison per row. The arrays then merge into the states once a group.
/// Sums, min and max only (false for other aggregates: the caller goes row by row).
/// Results are those of the row-by-row path: sums add in row order from 0, and `-0.0`
/// against `0.0` keeps the first seen, as `Value`'s order does.
fn dense_floats(a: &Float64Array, ids: &[Option<usize>], out: &mut Partial, j: usize) -> bool {
    let groups = out.keys.len();
    let Some(kind) = out.states.first().map(|s| &s[j]) else {
        return true; // no group, nothing to aggregate
    };
    let values = a.values();
    // Rows without a value (null or NaN) are skipped, as pandas' `skipna`.
    let valid = |i: usize| a.is_valid(i);
    let all_valid = a.null_count() == 0;
    match kind {
        State::SumFloat(_) | State::SumFloatOrNull(..) => {
            let mut sums = vec![0.0f64; groups];
            let mut counts = vec![0u64; groups];
            for (i, g) in ids.iter().enumerate() {
                let Some(g) = *g else { continue };
                let v = values[i];
                if v.is_nan() || !(all_valid || valid(i)) {
                    continue;
                }
                sums[g] += v;
                counts[g] += 1;
            }
            for (g, states) in out.states.iter_mut().enumerate() {
                match &mut states[j] {
                    State::SumFloat(s) => *s += sums[g],
                    State::SumFloatOrNull(s, n) => {
                        *s += sums[g];
                        *n += counts[g];
                    }
                    _ => {}
                }
            }
            true
        }
        State::Min(_) | State::Max(_) => {
            let max = matches!(kind, State::Max(_));
            // NaN marks a group without a value yet (values here are never NaN).
            let mut best = vec![f64::NAN; groups];
            for (i, g) in ids.iter().enumerate() {
                let Some(g) = *g else { continue };
                let v = values[i];
                if v.is_nan() || !(all_valid || valid(i)) {
                    continue;
                }
                let b = best[g];
                // Replaced only by a strictly better value (or into an empty group):
                // `-0.0` and `0.0` compare equal, so the first seen stays.
                let better = b.is_nan() || if max { v > b } else { v < b };
                if better {
                    best[g] = v;
                }
            }
            for (g, states) in out.states.iter_mut().enumerate() {
                if !best[g].is_nan() {
                    let found = if max {
                        State::Max(Some(Value::Float(best[g])))
                    } else {
                        State::Min(Some(Value::Float(best[g])))
                    };
                    states[j].merge(&found);
                }
            }
            true
        }
        _ => false,
    }
}

/// Which group each row of a partition is in.
enum Rows {
    /// Each row's group, `None` where a key is null.
    Ids(Vec<Option<usize>>),
    /// Runs of consecutive rows in one group, as `(start, end, group)`; rows with a null
    /// key are in none.
    Runs(Vec<(usize, usize, usize)>),
}

impl Rows {
    /// Calls `f(row, group)` for every row in a group, in row order.
    fn for_each(&self, mut f: impl FnMut(usize, usize)) {
        match self {
            Rows::Ids(ids) => {
                for (i, g) in ids.iter().enumerate() {
                    if let Some(g) = *g {
                        f(i, g);
                    }
                }
            }
            Rows::Runs(runs) => {
                for &(start, end, g) in runs {
                    for i in start..end {
                        f(i, g);
                    }
                }
            }
        }
    }
}

/// The runs of equal values of one integer key (groups added to `out` in order of first
/// appearance): one lookup a run, not a row.
fn int_runs(ints: &Int64Array, out: &mut Partial, fresh: &[State]) -> Vec<(usize, usize, usize)> {
    let values = ints.values();
    let valid = |i: usize| ints.is_valid(i);
    let mut local: HashMap<i64, usize> = HashMap::new();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < values.len() {
        if !valid(i) {
            i += 1;
            continue;
        }
        let v = values[i];
        let mut end = i + 1;
        while end < values.len() && values[end] == v && valid(end) {
            end += 1;
        }
        let g = *local
            .entry(v)
            .or_insert_with(|| out.group(vec![Value::Int(v)], fresh));
        runs.push((i, end, g));
        i = end;
    }
    runs
}

/// Each row's group in `out` (new groups added in order of first appearance), `None`
/// where a key is null and `dropna` (else a null key part is [`Value::Null`]); a NaN key
/// part counts as null unless `nan_keys` (see [`Reader::key`]). One string key, the
/// common case (`groupby("name")`), is looked up by reference, so only a group's first
/// row copies its key; one integer key is looked up as itself (and goes through
/// [`int_runs`] instead when null keys are dropped).
fn group_ids(
    keys: &[Reader],
    out: &mut Partial,
    fresh: &[State],
    rows: usize,
    dropna: bool,
    nan_keys: bool,
) -> Vec<Option<usize>> {
    // The null key's group, made on its first row (only where nulls are kept).
    let mut null_group: Option<usize> = None;
    let mut null = |out: &mut Partial| -> Option<usize> {
        if dropna {
            return None;
        }
        Some(*null_group.get_or_insert_with(|| out.group(vec![Value::Null], fresh)))
    };
    if let [Reader::Str(names)] = keys {
        let mut local: HashMap<&str, usize, BuildHasherDefault<Fnv>> = HashMap::default();
        // Short names (up to 15 bytes: all of the demo table's) are looked up as one
        // integer, hashed in two multiplications and compared without `memcmp`; the byte
        // loop of the string hash and the `memcmp` were most of a group-by's time.
        let mut short: HashMap<u128, usize, BuildHasherDefault<Packed>> = HashMap::default();
        let (offsets, data) = (names.value_offsets(), names.value_data());
        return (0..rows)
            .map(|i| {
                if names.is_null(i) {
                    return null(out);
                }
                let name = names.value(i);
                let (from, to) = (offsets[i] as usize, offsets[i + 1] as usize);
                if let Some(k) = packed_at(data, from, to).or_else(|| packed(name)) {
                    return Some(
                        *short
                            .entry(k)
                            .or_insert_with(|| out.group(vec![Value::Str(name.into())], fresh)),
                    );
                }
                Some(match local.get(name) {
                    Some(&g) => g,
                    None => {
                        let g = out.group(vec![Value::Str(name.into())], fresh);
                        local.insert(name, g);
                        g
                    }
                })
            })
            .collect();
    }
    if let [Reader::Int(ints)] = keys {
        // Time bins and sorted ids come in runs: the previous row's group is tried first.
        let mut local: HashMap<i64, usize> = HashMap::new();
        let mut last: Option<(i64, usize)> = None;
        return (0..rows)
            .map(|i| {
                if ints.is_null(i) {
                    return null(out);
                }
                let v = ints.value(i);
                if let Some((k, g)) = last {
                    if k == v {
                        return Some(g);
                    }
                }
                let g = *local
                    .entry(v)
                    .or_insert_with(|| out.group(vec![Value::Int(v)], fresh));
                last = Some((v, g));
                Some(g)
            })
            .collect();
    }
    (0..rows)
        .map(|i| {
            let key = if dropna {
                keys.iter()
                    .map(|k| k.key(i, nan_keys))
                    .collect::<Option<Vec<Value>>>()?
            } else {
                keys.iter()
                    .map(|k| k.key(i, nan_keys).unwrap_or(Value::Null))
                    .collect()
            };
            Some(out.group(key, fresh))
        })
        .collect()
}

fn finish(partial: &Partial, plan: &Plan, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    let mut order: Vec<usize> = (0..partial.keys.len()).collect();
    order.sort_by(|&a, &b| partial.keys[a].cmp(&partial.keys[b]));
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (k, _) in plan.keys.iter().enumerate() {
        let values: Vec<Option<Value>> = order
            .iter()
            .map(|&g| Some(partial.keys[g][k].clone()))
            .collect();
        columns.push(build(&values, schema.field(columns.len()).data_type())?);
    }
    for (j, a) in plan.aggs.iter().enumerate() {
        let target = schema.field(columns.len()).data_type().clone();
        let states = order.iter().map(|&g| &partial.states[g][j]);
        let array: ArrayRef = match a.func {
            AggFunc::Sum | AggFunc::Count => {
                let int = |v: i128| {
                    i64::try_from(v).map(Value::Int).map_err(|_| {
                        ArrowError::ComputeError(format!(
                            "integer overflow: the sum of `{}` is {v}, beyond int64",
                            a.column
                        ))
                    })
                };
                let values = states
                    .map(|s| {
                        Ok(match s {
                            State::SumInt(v) => Some(int(*v)?),
                            State::SumFloat(v) => Some(Value::Float(*v)),
                            State::SumIntOrNull(v, n) if *n > 0 => Some(int(*v)?),
                            State::SumFloatOrNull(v, n) => (*n > 0).then_some(Value::Float(*v)),
                            State::Count(n) => Some(Value::Int(*n as i64)),
                            _ => None,
                        })
                    })
                    .collect::<Result<Vec<Option<Value>>, ArrowError>>()?;
                build(&values, &target)?
            }
            AggFunc::Mean | AggFunc::Std | AggFunc::Var => {
                let values: Float64Array = states
                    .map(|s| match s {
                        State::Moments(m) if m.count > 0 => {
                            let v = match a.func {
                                AggFunc::Mean => m.mean(),
                                AggFunc::Var => m.var(1),
                                _ => m.var(1).sqrt(),
                            };
                            (!v.is_nan() || m.mean.is_nan()).then_some(v)
                        }
                        _ => None,
                    })
                    .collect();
                Arc::new(values)
            }
            _ => {
                let values: Vec<Option<Value>> = states
                    .map(|s| match s {
                        State::Min(v) | State::Max(v) | State::First(v) | State::Last(v) => {
                            v.clone()
                        }
                        _ => None,
                    })
                    .collect();
                build(&values, &target)?
            }
        };
        columns.push(array);
    }
    RecordBatch::try_new(schema.clone(), columns)
}

/// An array of `target` type from canonical values.
fn build(values: &[Option<Value>], target: &DataType) -> Result<ArrayRef, ArrowError> {
    let canonical_type = canonical(target).unwrap_or(DataType::Int64);
    let array: ArrayRef = match canonical_type {
        DataType::Boolean => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    Some(Value::Bool(b)) => Some(*b),
                    _ => None,
                })
                .collect::<BooleanArray>(),
        ),
        DataType::UInt64 => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    Some(Value::UInt(x)) => Some(*x),
                    _ => None,
                })
                .collect::<UInt64Array>(),
        ),
        DataType::Float64 => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    Some(Value::Float(x)) => Some(*x),
                    _ => None,
                })
                .collect::<Float64Array>(),
        ),
        DataType::Utf8 => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    Some(Value::Str(s)) => Some(&**s),
                    _ => None,
                })
                .collect::<StringArray>(),
        ),
        _ => Arc::new(
            values
                .iter()
                .map(|v| match v {
                    Some(Value::Int(x)) => Some(*x),
                    _ => None,
                })
                .collect::<Int64Array>(),
        ),
    };
    if array.data_type() == target {
        Ok(array)
    } else {
        arrow_cast::cast(array.as_ref(), target)
    }
}

/// A string of at most 15 bytes as one integer: its bytes, zero-padded, and its length
/// in the last byte, so two strings are equal exactly when their integers are.
fn packed(s: &str) -> Option<u128> {
    let bytes = s.as_bytes();
    if bytes.len() > 15 {
        return None;
    }
    let mut word = [0u8; 16];
    word[..bytes.len()].copy_from_slice(bytes);
    word[15] = bytes.len() as u8;
    Some(u128::from_le_bytes(word))
}

/// [`packed`] of the string at `data[from..to]`, read as one 16-byte load from the
/// array's buffer and masked, where 16 bytes follow `from` (else `None`). Copying the
/// bytes into a word first, as `packed` does, stalled each row: the word's load waited
/// on the byte-wise stores before it.
fn packed_at(data: &[u8], from: usize, to: usize) -> Option<u128> {
    let len = to.checked_sub(from)?;
    if len > 15 {
        return None;
    }
    let word: [u8; 16] = data.get(from..from + 16)?.try_into().ok()?;
    let bytes = u128::from_le_bytes(word) & ((1u128 << (8 * len)) - 1);
    Some(bytes | (len as u128) << 120)
}

/// The hash of a [`packed`] string: its two halves folded and multiplied, the high
/// bits mixed down (the table indexes by the low bits). Like [`Fnv`], for one task's
/// own map only.
#[derive(Default)]
struct Packed(u64);

impl Hasher for Packed {
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u128` is used; bytes of anything else fold in one at a time.
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u128(&mut self, v: u128) {
        let (low, high) = (v as u64, (v >> 64) as u64);
        let h = (low ^ self.0).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = (h.rotate_left(31) ^ high).wrapping_mul(0xff51_afd7_ed55_8ccd);
    }
}

/// FNV-1a, for the per-partition lookup of string keys: names are short, where SipHash's
/// setup dominates. Only this task's own map uses it (the merged partial states keep the
/// standard hasher), and a partition's distinct keys bound what a crafted collision
/// could cost.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_keys_short_long_and_at_the_buffer_end_get_one_group_each() {
        // Short names are looked up packed (read from the buffer, or copied where fewer
        // than 16 bytes follow: the last rows), long ones by reference; a name and the
        // same name with a trailing NUL, or a prefix of it, are different groups.
        let names = [
            "Alice",
            "a",
            "a\0",
            "",
            "Patricia",
            "a much longer name",
            "Alice",
            "a\0",
            "a",
            "a much longer name",
            "",
            "Patricia",
            "fifteen bytes!!",
            "fifteen bytes!!",
        ];
        let array = StringArray::from(names.to_vec());
        let (offsets, data) = (array.value_offsets(), array.value_data());
        for i in 0..names.len() {
            let (from, to) = (offsets[i] as usize, offsets[i + 1] as usize);
            if let Some(k) = packed_at(data, from, to) {
                assert_eq!(Some(k), packed(names[i]), "{:?}", names[i]);
            }
        }
        assert!(
            packed_at(data, 0, data.len()).is_none(),
            "longer than 15 bytes"
        );
        let mut out = Partial::default();
        let ids = group_ids(
            &[Reader::Str(array)],
            &mut out,
            &[State::Count(0)],
            names.len(),
            true,
            false,
        );
        let ids: Vec<usize> = ids.into_iter().map(Option::unwrap).collect();
        assert_eq!(ids, [0, 1, 2, 3, 4, 5, 0, 2, 1, 5, 3, 4, 6, 6]);
        assert_eq!(out.keys.len(), 7);
    }

    #[test]
    fn dense_float_min_max_keep_the_first_of_equal_zeros_and_skip_missing_values() {
        // As the row-by-row path: `-0.0` and `0.0` are equal, so the first seen stays;
        // NaN and nulls are no values; sums add in row order.
        let a = Float64Array::from(vec![Some(-0.0), Some(0.0), None, Some(f64::NAN), Some(2.5)]);
        let ids = [Some(0), Some(0), Some(1), Some(1), None];
        for (state, want) in [
            (State::Max(None), Some(Value::Float(-0.0))),
            (State::Min(None), Some(Value::Float(-0.0))),
        ] {
            let mut out = Partial::default();
            out.group(vec![Value::Int(0)], std::slice::from_ref(&state));
            out.group(vec![Value::Int(1)], std::slice::from_ref(&state));
            assert!(dense_floats(&a, &ids, &mut out, 0));
            match (&out.states[0][0], &out.states[1][0]) {
                (State::Max(got) | State::Min(got), State::Max(None) | State::Min(None)) => {
                    let (Some(Value::Float(g)), Some(Value::Float(w))) = (got, &want) else {
                        panic!("no value: {got:?}")
                    };
                    assert_eq!(g.to_bits(), w.to_bits(), "the first zero stays");
                }
                other => panic!("unexpected states {other:?}"),
            }
        }
        let mut out = Partial::default();
        out.group(vec![Value::Int(0)], &[State::SumFloatOrNull(0.0, 0)]);
        out.group(vec![Value::Int(1)], &[State::SumFloatOrNull(0.0, 0)]);
        assert!(dense_floats(&a, &ids, &mut out, 0));
        assert!(matches!(out.states[0][0], State::SumFloatOrNull(s, 2) if s == 0.0));
        assert!(
            matches!(out.states[1][0], State::SumFloatOrNull(_, 0)),
            "no value: null"
        );
        assert!(!dense_floats(&a, &ids, &mut out_with(State::Count(0)), 0));
    }

    fn out_with(state: State) -> Partial {
        let mut out = Partial::default();
        out.group(vec![Value::Int(0)], &[state]);
        out
    }

    #[test]
    fn integer_runs_break_at_a_new_value_and_skip_null_keys() {
        let keys = Int64Array::from(vec![
            Some(5),
            Some(5),
            None,
            Some(5),
            Some(7),
            Some(7),
            Some(5),
        ]);
        let mut out = Partial::default();
        let runs = int_runs(&keys, &mut out, &[State::Count(0)]);
        assert_eq!(runs, [(0, 2, 0), (3, 4, 0), (4, 6, 1), (6, 7, 0)]);
        assert_eq!(out.keys, [vec![Value::Int(5)], vec![Value::Int(7)]]);
        assert!(int_runs(&Int64Array::from(vec![None, None]), &mut out, &[]).is_empty());
    }
}
