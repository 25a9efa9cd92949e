//! Equality joins (inner, left, right and full outer) over partitions.
//!
//! When one side has at most [`BROADCAST_MAX_PARTITIONS`] partitions and the join keeps
//! no unmatched rows of that side (a left join broadcasts only the right side, a right
//! join only the left, a full join neither), that side is gathered into one batch and
//! every partition of the other side is joined against it in its own task: no shuffle.
//! Otherwise both sides are split into `n` buckets by a hash of the key (n = the larger
//! side's partition count) and bucket `j` of the left is joined with bucket `j` of the
//! right; each row lands in exactly one bucket, so the unmatched rows an outer join keeps
//! come out once.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, UInt32Array,
};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};

use super::error::SqlError;
use super::plan::JoinKind;
use crate::dataframe::expr::common_type;
use crate::dataframe::DataFrame;

/// A side with at most this many partitions is broadcast: joined whole against each
/// partition of the other side. Partition counts are what is known before anything
/// runs; a registered table of a few partitions (a lookup table of names) is the case
/// this is for.
pub const BROADCAST_MAX_PARTITIONS: usize = 4;

/// The join's shape, hashed into task keys.
#[derive(Clone, Debug, Hash)]
struct Spec {
    kind: JoinKind,
    left_keys: Vec<usize>,
    right_keys: Vec<usize>,
    /// The type both sides' keys are compared as.
    key_types: Vec<String>,
    /// Null keys equal each other (the joins that put the parts of a SQL aggregate
    /// together, whose null group keys are groups); SQL's joins match no null key.
    nulls_match: bool,
}

/// A key value in its comparable form.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    /// A null key part, where nulls match (see `Spec::nulls_match`).
    Null,
    Int(i64),
    /// Bits of the float, with `-0.0` as `0.0` (SQL compares them equal).
    Float(u64),
    Str(Box<str>),
}

/// Key columns cast to their comparison types.
enum KeyColumn {
    Int(Int64Array),
    Float(Float64Array),
    Str(StringArray),
}

impl KeyColumn {
    fn new(values: &ArrayRef, t: &DataType) -> Result<KeyColumn, ArrowError> {
        let target = if t.is_floating() {
            DataType::Float64
        } else if t.is_integer() || matches!(t, DataType::Timestamp(..) | DataType::Boolean) {
            DataType::Int64
        } else {
            DataType::Utf8
        };
        let a = arrow_cast::cast(values.as_ref(), &target)?;
        let bad = || ArrowError::CastError("key column after cast".into());
        Ok(match target {
            DataType::Float64 => KeyColumn::Float(
                a.as_any()
                    .downcast_ref::<Float64Array>()
                    .ok_or_else(bad)?
                    .clone(),
            ),
            DataType::Int64 => KeyColumn::Int(
                a.as_any()
                    .downcast_ref::<Int64Array>()
                    .ok_or_else(bad)?
                    .clone(),
            ),
            _ => KeyColumn::Str(
                a.as_any()
                    .downcast_ref::<StringArray>()
                    .ok_or_else(bad)?
                    .clone(),
            ),
        })
    }

    fn get(&self, i: usize) -> Option<Key> {
        match self {
            KeyColumn::Int(a) => (!a.is_null(i)).then(|| Key::Int(a.value(i))),
            KeyColumn::Float(a) => (!a.is_null(i)).then(|| {
                let v = a.value(i);
                Key::Float(if v == 0.0 { 0 } else { v.to_bits() })
            }),
            KeyColumn::Str(a) => (!a.is_null(i)).then(|| Key::Str(a.value(i).into())),
        }
    }
}

/// The key of each row (`None` where a key column is null and nulls do not match: such
/// rows match nothing).
fn keys(
    batch: &RecordBatch,
    at: &[usize],
    types: &[DataType],
    nulls_match: bool,
) -> Result<Vec<Option<Vec<Key>>>, ArrowError> {
    let columns = at
        .iter()
        .zip(types)
        .map(|(&i, t)| KeyColumn::new(batch.column(i), t))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((0..batch.num_rows())
        .map(|r| {
            columns
                .iter()
                .map(|c| c.get(r).or(nulls_match.then_some(Key::Null)))
                .collect::<Option<Vec<Key>>>()
        })
        .collect())
}

fn parse_types(spec: &Spec) -> Vec<DataType> {
    spec.key_types
        .iter()
        .map(|t| match t.as_str() {
            "f" => DataType::Float64,
            "i" => DataType::Int64,
            _ => DataType::Utf8,
        })
        .collect()
}

/// The rows of `left` and `right` whose keys are equal in left row order; a left (full)
/// join adds each left row with no match, with nulls on the right, in its place; a right
/// (full) join adds the right rows with no match at the end, with nulls on the left.
fn join_batches(
    left: &RecordBatch,
    right: &RecordBatch,
    spec: &Spec,
    schema: &SchemaRef,
) -> Result<RecordBatch, ArrowError> {
    let types = parse_types(spec);
    let mut table: HashMap<Vec<Key>, Vec<u32>> = HashMap::new();
    for (j, k) in keys(right, &spec.right_keys, &types, spec.nulls_match)?
        .into_iter()
        .enumerate()
    {
        if let Some(k) = k {
            let j = u32::try_from(j)
                .map_err(|_| ArrowError::ComputeError("join side over 4G rows".into()))?;
            table.entry(k).or_default().push(j);
        }
    }
    let keep_left = matches!(spec.kind, JoinKind::Left | JoinKind::Full);
    let keep_right = matches!(spec.kind, JoinKind::Right | JoinKind::Full);
    let mut matched = vec![false; if keep_right { right.num_rows() } else { 0 }];
    let mut li: Vec<Option<u32>> = Vec::new();
    let mut ri: Vec<Option<u32>> = Vec::new();
    for (i, k) in keys(left, &spec.left_keys, &types, spec.nulls_match)?
        .into_iter()
        .enumerate()
    {
        let i = u32::try_from(i)
            .map_err(|_| ArrowError::ComputeError("join side over 4G rows".into()))?;
        match k.as_ref().and_then(|k| table.get(k)) {
            Some(matches) => {
                for &j in matches {
                    li.push(Some(i));
                    ri.push(Some(j));
                    if keep_right {
                        matched[j as usize] = true;
                    }
                }
            }
            None if keep_left => {
                li.push(Some(i));
                ri.push(None);
            }
            None => {}
        }
    }
    for (j, m) in matched.iter().enumerate() {
        if !m {
            li.push(None);
            // `j` fits: the right side's row numbers were checked above.
            ri.push(Some(j as u32));
        }
    }
    let li = UInt32Array::from(li);
    let ri = UInt32Array::from(ri);
    let mut columns = Vec::with_capacity(schema.fields().len());
    for c in left.columns() {
        columns.push(arrow_select::take::take(c.as_ref(), &li, None)?);
    }
    for c in right.columns() {
        columns.push(arrow_select::take::take(c.as_ref(), &ri, None)?);
    }
    RecordBatch::try_new(schema.clone(), columns)
}

/// Which of `n` buckets each row's key hashes to (null keys: bucket 0, they match
/// nothing anyway). A fixed hash, so that both sides agree.
fn split(
    batch: &RecordBatch,
    at: &[usize],
    types: &[DataType],
    n: usize,
) -> Result<Vec<RecordBatch>, ArrowError> {
    let mut picks: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (i, k) in keys(batch, at, types, false)?.into_iter().enumerate() {
        let b = match k {
            Some(k) => {
                let mut h = std::hash::DefaultHasher::new();
                k.hash(&mut h);
                (h.finish() % n as u64) as usize
            }
            None => 0,
        };
        picks[b].push(i as u32);
    }
    picks
        .into_iter()
        .map(|p| arrow_select::take::take_record_batch(batch, &UInt32Array::from(p)))
        .collect()
}

/// `left` joined with `right` on the column pairs `on`, as SQL joins: null keys match
/// nothing.
pub(crate) fn join(
    left: &DataFrame,
    right: &DataFrame,
    kind: JoinKind,
    on: &[(String, String)],
) -> Result<DataFrame, SqlError> {
    join_with(left, right, kind, on, false)
}

/// A left join on the group keys of two aggregates of the same groups, where a null key
/// is a group like any other and matches the same null key.
pub(crate) fn join_groups(
    left: &DataFrame,
    right: &DataFrame,
    on: &[(String, String)],
) -> Result<DataFrame, SqlError> {
    join_with(left, right, JoinKind::Left, on, true)
}

fn join_with(
    left: &DataFrame,
    right: &DataFrame,
    kind: JoinKind,
    on: &[(String, String)],
    nulls_match: bool,
) -> Result<DataFrame, SqlError> {
    let (ls, rs) = (left.schema(), right.schema());
    let mut left_keys = Vec::new();
    let mut right_keys = Vec::new();
    let mut key_types = Vec::new();
    for (l, r) in on {
        let missing = |c: &str, s: &Schema| SqlError::UnknownColumn {
            name: c.to_string(),
            ambiguous: false,
            available: s.fields().iter().map(|f| f.name().clone()).collect(),
        };
        let li = ls.index_of(l).map_err(|_| missing(l, &ls))?;
        let ri = rs.index_of(r).map_err(|_| missing(r, &rs))?;
        let (lt, rt) = (ls.field(li).data_type(), rs.field(ri).data_type());
        let t = common_type(lt, rt).ok_or_else(|| SqlError::Type {
            expr: format!("{l} = {r}"),
            why: format!("join keys of types {lt} and {rt} do not compare"),
        })?;
        key_types.push(
            if t.is_floating() {
                "f"
            } else if t.is_integer() || matches!(t, DataType::Timestamp(..) | DataType::Boolean) {
                "i"
            } else {
                "s"
            }
            .to_string(),
        );
        left_keys.push(li);
        right_keys.push(ri);
    }
    let fields: Vec<Field> = ls
        .fields()
        .iter()
        .chain(rs.fields().iter())
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let spec = Spec {
        kind,
        left_keys,
        right_keys,
        key_types,
        nulls_match,
    };
    let (ln, rn) = (left.npartitions(), right.npartitions());
    let lparts = left.to_delayed();
    let rparts = right.to_delayed();
    // A broadcast side's unmatched rows would come out once per task: only a side whose
    // unmatched rows the join drops is broadcast.
    let may_broadcast_left = matches!(kind, JoinKind::Inner | JoinKind::Right);
    let may_broadcast_right = matches!(kind, JoinKind::Inner | JoinKind::Left);
    let left_small = may_broadcast_left
        && ln <= BROADCAST_MAX_PARTITIONS
        && (ln < rn || !may_broadcast_right || rn > BROADCAST_MAX_PARTITIONS);
    let right_small = may_broadcast_right && rn <= BROADCAST_MAX_PARTITIONS;
    let parts = if right_small || left_small {
        // Broadcast: the small side gathered once, joined with each partition of the other.
        let (small, small_schema, big) = if left_small {
            (&lparts, ls.clone(), &rparts)
        } else {
            (&rparts, rs.clone(), &lparts)
        };
        let gathered = crate::try_map_many_pure(
            "sql-join-broadcast",
            spec.clone(),
            small,
            move |b: &[&RecordBatch]| {
                arrow_select::concat::concat_batches(&small_schema, b.iter().copied())
            },
        );
        big.iter()
            .map(|p| {
                let (spec, schema) = (spec.clone(), schema.clone());
                let inputs = [p.clone(), gathered.clone()];
                crate::try_map_many_pure(
                    "sql-join",
                    spec.clone(),
                    &inputs,
                    move |b: &[&RecordBatch]| {
                        if left_small {
                            join_batches(b[1], b[0], &spec, &schema)
                        } else {
                            join_batches(b[0], b[1], &spec, &schema)
                        }
                    },
                )
            })
            .collect()
    } else {
        // Hash-partitioned: both sides split into n buckets by key.
        let n = ln.max(rn);
        let types = parse_types(&spec);
        let splits = |parts: &[crate::Delayed<RecordBatch>], at: Vec<usize>, side: u8| {
            parts
                .iter()
                .map(|p| {
                    let (at, types) = (at.clone(), types.clone());
                    crate::try_map_many_pure(
                        "sql-join-split",
                        (spec.clone(), side, n),
                        std::slice::from_ref(p),
                        move |b: &[&RecordBatch]| split(b[0], &at, &types, n),
                    )
                })
                .collect::<Vec<_>>()
        };
        let mut inputs = splits(&lparts, spec.left_keys.clone(), 0);
        inputs.extend(splits(&rparts, spec.right_keys.clone(), 1));
        (0..n)
            .map(|j| {
                let (spec, schema, ls, rs) = (spec.clone(), schema.clone(), ls.clone(), rs.clone());
                crate::try_map_many_pure(
                    "sql-join",
                    (spec.clone(), j, n),
                    &inputs,
                    move |b: &[&Vec<RecordBatch>]| {
                        let l = arrow_select::concat::concat_batches(
                            &ls,
                            b[..ln].iter().map(|v| &v[j]),
                        )?;
                        let r = arrow_select::concat::concat_batches(
                            &rs,
                            b[ln..].iter().map(|v| &v[j]),
                        )?;
                        join_batches(&l, &r, &spec, &schema)
                    },
                )
            })
            .collect()
    };
    Ok(DataFrame::from_parts(parts, schema, None, None, "sql-join"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(ids: Vec<Option<i64>>, names: Vec<&str>) -> RecordBatch {
        RecordBatch::try_from_iter(vec![
            ("id", Arc::new(Int64Array::from(ids)) as ArrayRef),
            ("name", Arc::new(StringArray::from(names)) as ArrayRef),
        ])
        .unwrap()
    }

    #[test]
    fn null_keys_match_nothing_and_left_join_keeps_them() {
        let l = batch(vec![Some(1), None, Some(2)], vec!["a", "b", "c"]);
        let r = batch(vec![Some(1), None, Some(1)], vec!["x", "y", "z"]);
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("id2", DataType::Int64, true),
            Field::new("name2", DataType::Utf8, true),
        ]));
        let mut spec = Spec {
            kind: JoinKind::Inner,
            left_keys: vec![0],
            right_keys: vec![0],
            key_types: vec!["i".into()],
            nulls_match: false,
        };
        assert_eq!(join_batches(&l, &r, &spec, &schema).unwrap().num_rows(), 2);
        spec.kind = JoinKind::Left;
        let out = join_batches(&l, &r, &spec, &schema).unwrap();
        // Row 1 matched twice, the null key and the unmatched 2 once each.
        assert_eq!(out.num_rows(), 4);
        assert_eq!(out.column(3).null_count(), 2);
        // Right: the two matches, then the right's null key once, left columns null.
        spec.kind = JoinKind::Right;
        let out = join_batches(&l, &r, &spec, &schema).unwrap();
        assert_eq!(out.num_rows(), 3);
        assert_eq!(out.column(1).null_count(), 1);
        assert_eq!(out.column(3).null_count(), 0);
        // Full: both sides' unmatched rows once each.
        spec.kind = JoinKind::Full;
        let out = join_batches(&l, &r, &spec, &schema).unwrap();
        assert_eq!(out.num_rows(), 5);
        assert_eq!(
            (out.column(1).null_count(), out.column(3).null_count()),
            (1, 2)
        );
        // Where nulls match (the parts of one aggregate), the null keys pair up.
        spec.kind = JoinKind::Inner;
        spec.nulls_match = true;
        assert_eq!(join_batches(&l, &r, &spec, &schema).unwrap().num_rows(), 3);
    }
}
