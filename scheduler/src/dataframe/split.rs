//! `repartition(n)` towards more partitions than there are: each partition is cut into
//! pieces. Where the divisions are known and the index is an integer or a datetime, the
//! new divisions are interpolated between the old ones and each piece holds the rows of
//! its index range (Dask's way, so divisions stay known); otherwise each partition is
//! cut into pieces of about equal row counts and the divisions become unknown.

use arrow_array::{Array, ArrayRef, BooleanArray, Int64Array, RecordBatch};
use arrow_schema::{ArrowError, DataType};

use super::task::try_task;
use super::{DataFrame, Frame};
use crate::Delayed;

/// How many pieces each of `have` partitions becomes so that there are `n` in all.
fn pieces_per_part(have: usize, n: usize) -> Vec<usize> {
    (0..have)
        .map(|i| (i + 1) * n / have - i * n / have)
        .collect()
}

/// The old divisions as integers, and the index column, when the split can go by index.
fn integer_divisions(frame: &Frame) -> Option<(Vec<i64>, String, DataType)> {
    let divisions = frame.divisions.as_ref()?;
    let index = frame.index.clone()?;
    let t = divisions.data_type().clone();
    if !(t.is_integer() || matches!(t, DataType::Timestamp(..) | DataType::Date32)) {
        return None;
    }
    let ints = arrow_cast::cast(divisions.as_ref(), &DataType::Int64).ok()?;
    let ints = ints.as_any().downcast_ref::<Int64Array>()?;
    if ints.null_count() > 0 {
        return None;
    }
    Some((ints.values().to_vec(), index, t))
}

/// Interpolated divisions: `pieces[i]` strictly increasing values from each old range,
/// then the last; `None` where a range is too narrow for its pieces.
fn interpolate(old: &[i64], pieces: &[usize]) -> Option<Vec<i64>> {
    let mut out = Vec::new();
    for (w, &k) in old.windows(2).zip(pieces) {
        let (lo, hi) = (i128::from(w[0]), i128::from(w[1]));
        for p in 0..k as i128 {
            let v = lo + (hi - lo) * p / k as i128;
            let v = i64::try_from(v).ok()?;
            if out.last().is_some_and(|&last| last >= v) {
                return None;
            }
            out.push(v);
        }
    }
    let last = *old.last()?;
    if out.last().is_some_and(|&l| l > last) {
        return None;
    }
    out.push(last);
    Some(out)
}

pub(crate) fn split(frame: &Frame, n: usize) -> DataFrame {
    let have = frame.base.len();
    let pieces = pieces_per_part(have, n);
    let parts = frame.output_parts();
    let by_index = integer_divisions(frame)
        .and_then(|(old, ix, t)| interpolate(&old, &pieces).map(|new| (new, ix, t)));
    let mut out: Vec<Delayed<RecordBatch>> = Vec::with_capacity(n);
    match &by_index {
        Some((new, index, _)) => {
            let mut at = 0;
            for (i, (part, &k)) in parts.iter().zip(&pieces).enumerate() {
                for p in 0..k {
                    let (lo, hi) = (new[at], new[at + 1]);
                    // The last piece of the last partition holds its upper division.
                    let closed = i + 1 == have && p + 1 == k;
                    let ix = index.clone();
                    out.push(try_task(
                        "repartition-split",
                        (lo, hi, closed, index),
                        std::slice::from_ref(part),
                        move |b: &[&RecordBatch]| in_range(b[0], &ix, lo, hi, closed),
                    ));
                    at += 1;
                }
            }
        }
        None => {
            for (part, &k) in parts.iter().zip(&pieces) {
                for p in 0..k {
                    out.push(try_task(
                        "repartition-split",
                        (p, k),
                        std::slice::from_ref(part),
                        move |b: &[&RecordBatch]| {
                            let rows = b[0].num_rows();
                            let (from, to) = (p * rows / k, (p + 1) * rows / k);
                            Ok::<_, ArrowError>(b[0].slice(from, to - from))
                        },
                    ));
                }
            }
        }
    }
    let divisions = by_index.and_then(|(new, _, t)| {
        arrow_cast::cast(&Int64Array::from(new), &t)
            .ok()
            .map(|a: ArrayRef| a)
    });
    DataFrame::from_parts(
        out,
        frame.schema.clone(),
        frame.index.clone(),
        divisions,
        "repartition",
    )
}

/// The rows whose index lies in `[lo, hi)` (`[lo, hi]` and the null index values, which
/// sort last, when `closed`).
fn in_range(
    batch: &RecordBatch,
    index: &str,
    lo: i64,
    hi: i64,
    closed: bool,
) -> Result<RecordBatch, ArrowError> {
    let column = batch
        .column_by_name(index)
        .ok_or_else(|| ArrowError::SchemaError(format!("no column `{index}`")))?;
    let ints = arrow_cast::cast(column.as_ref(), &DataType::Int64)?;
    let ints = ints
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or_else(|| ArrowError::CastError("index as int64".into()))?;
    let mask: BooleanArray = ints
        .iter()
        .map(|v| Some(v.map_or(closed, |v| v >= lo && (v < hi || (closed && v == hi)))))
        .collect();
    arrow_select::filter::filter_record_batch(batch, &mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_add_up_and_interpolation_stays_increasing() {
        assert_eq!(pieces_per_part(3, 7), vec![2, 2, 3]);
        assert_eq!(pieces_per_part(2, 2), vec![1, 1]);
        assert_eq!(
            interpolate(&[0, 10, 20], &[2, 3]),
            Some(vec![0, 5, 10, 13, 16, 20])
        );
        // A range of one value cannot hold two pieces.
        assert_eq!(interpolate(&[0, 1], &[2]), None);
    }
}
