//! The sliding-window kernel of `rolling`: one pass over windows whose two ends only
//! move forward, so each value enters once and leaves once. The accumulator is a type
//! parameter, so each aggregate gets a loop of its own with nothing else in it (the mean
//! pays for a compensated sum only, not for the variance and a min/max queue too).

use std::collections::VecDeque;

use arrow_array::Float64Array;
use arrow_buffer::{BooleanBufferBuilder, NullBuffer};

/// The running state of one window under one aggregate.
pub(crate) trait Accumulator: Default {
    /// `v` (never NaN), at position `at`, enters the window.
    fn add(&mut self, at: usize, v: f64);
    /// `v`, which entered at position `at`, leaves the window.
    fn remove(&mut self, at: usize, v: f64);
    /// Values in the window.
    fn count(&self) -> usize;
    /// The aggregate of the window (not empty).
    fn value(&self) -> Option<f64>;
}

/// The aggregate of the window ending at each row `i` from `offset` on, which starts at
/// row `start_of(i)` (never before the previous row's start), where NaN is missing (the
/// caller reads nulls as NaN, as pandas skips both): null where the window has no value
/// or fewer than `min_values`.
pub(crate) fn slide<A: Accumulator>(
    values: &[f64],
    offset: usize,
    min_values: usize,
    mut start_of: impl FnMut(usize) -> usize,
) -> Float64Array {
    let rows = values.len().saturating_sub(offset);
    let mut acc = A::default();
    let first = if rows > 0 { start_of(offset) } else { 0 };
    let (mut lo, mut hi) = (first, first);
    let mut out = Vec::with_capacity(rows);
    // Rows without a value are rare: their positions, not a bit per row as they come.
    let mut missing = Vec::new();
    for end in offset..values.len() {
        let start = start_of(end);
        while hi <= end {
            let v = values[hi];
            if !v.is_nan() {
                acc.add(hi, v);
            }
            hi += 1;
        }
        while lo < start {
            let v = values[lo];
            if !v.is_nan() {
                acc.remove(lo, v);
            }
            lo += 1;
        }
        let n = acc.count();
        let value = if n > 0 && n >= min_values {
            acc.value()
        } else {
            None
        };
        out.push(value.unwrap_or_else(|| {
            missing.push(end - offset);
            0.0
        }));
    }
    let nulls = (!missing.is_empty()).then(|| {
        let mut valid = BooleanBufferBuilder::new(rows);
        valid.append_n(rows, true);
        for k in missing {
            valid.set_bit(k, false);
        }
        NullBuffer::new(valid.finish())
    });
    Float64Array::new(out.into(), nulls)
}

/// Where the window ending at joined row `i` (carry then partition) starts, for `i`
/// ascending: a trait with inlined impls rather than a closure, which the compiler left
/// as a call in the loop, making it save the float state to the stack on every row.
pub(crate) trait Starts {
    /// The first row of the window ending at `i`.
    fn start(&mut self, i: usize) -> usize;
}

/// The row and the `.0 - 1` before it.
pub(crate) struct RowStarts(pub(crate) usize);

impl Starts for RowStarts {
    #[inline(always)]
    fn start(&mut self, i: usize) -> usize {
        (i + 1).saturating_sub(self.0)
    }
}

/// The rows whose time lies in `(t - span, t]`, times sorted: the carry's, then the
/// partition's.
pub(crate) struct TimeStarts<'a> {
    pub(crate) carry: &'a [i64],
    pub(crate) part: &'a [i64],
    pub(crate) span: i64,
    /// The previous window's start: starts only move on.
    pub(crate) start: usize,
}

impl TimeStarts<'_> {
    #[inline(always)]
    fn time(&self, i: usize) -> i64 {
        match i.checked_sub(self.carry.len()) {
            None => self.carry[i],
            Some(k) => self.part[k],
        }
    }
}

impl Starts for TimeStarts<'_> {
    #[inline(always)]
    fn start(&mut self, i: usize) -> usize {
        // A window reaching back past the type's earliest time excludes no row: a cut
        // saturated to `i64::MIN` dropped a row at that time (pandas' NaT value) from
        // its own window.
        let Some(cut) = self.time(i).checked_sub(self.span) else {
            return self.start;
        };
        while self.time(self.start) <= cut {
            self.start += 1;
        }
        self.start
    }
}

/// [`slide`] with [`Sum`] for columns without a missing value, reading the carry's and
/// the partition's values where they lie (no joined copy): the window ending at row `i`
/// of the joined rows (carry then partition) starts at `start_of(i)`, never after `i`,
/// never before the previous row's start. Values enter and leave in the same order as in
/// `slide`, so the results are the same to the bit; what is saved is the per-row NaN test,
/// the bookkeeping of missing rows, and the spills the general loop's calls forced (its
/// state went through the stack on every row). `sum_and_mean_without_missing_values_
/// match_the_general_loop` checks the sameness.
pub(crate) fn slide_sum(carry: &[f64], part: &[f64], mean: bool, starts: impl Starts) -> Vec<f64> {
    if mean {
        slide_sum_of::<true>(carry, part, starts)
    } else {
        slide_sum_of::<false>(carry, part, starts)
    }
}

fn slide_sum_of<const MEAN: bool>(
    carry: &[f64],
    part: &[f64],
    mut starts: impl Starts,
) -> Vec<f64> {
    let offset = carry.len();
    if part.is_empty() {
        return Vec::new();
    }
    let (mut total, mut compensation) = (0.0f64, 0.0f64);
    // The first window's values in the carry enter before the loop: from then on every
    // value entering is a partition's.
    let first = starts.start(offset);
    for &v in &carry[first.min(offset)..] {
        let (t, err) = two_sum(total, v);
        total = t;
        compensation += err;
    }
    let mut lo = first;
    // The value at joined row `i`.
    let value = |i: usize| match i.checked_sub(offset) {
        None => carry[i],
        Some(k) => part[k],
    };
    // A plain loop over a zeroed buffer, the state in locals: no call in the loop (a
    // `push` has one on its growth path) that the float state would be saved around.
    let mut out = vec![0.0; part.len()];
    // The mean multiplies by the inverse of the window's count, kept while the count
    // stays (in regular data, always): a division a row was the loop's largest cost
    // (its result within one rounding of the division's).
    let mut inverse = (0usize, 0.0f64);
    for (k, slot) in out.iter_mut().enumerate() {
        let end = offset + k;
        let start = if k == 0 { first } else { starts.start(end) };
        if start == lo + 1 {
            // The common step, one value in and one out: their difference (and its
            // rounding) joins the sum in one step, so the sum's chain of dependent
            // additions is one long per row, not two.
            let (d, d_err) = two_sum(part[k], -value(lo));
            let (t, err) = two_sum(total, d);
            total = t;
            compensation += err + d_err;
            lo = start;
        } else {
            let (t, err) = two_sum(total, part[k]);
            total = t;
            compensation += err;
            while lo < start {
                let (t, err) = two_sum(total, -value(lo));
                total = t;
                compensation += err;
                lo += 1;
            }
        }
        let sum = total + compensation;
        *slot = if MEAN {
            let count = end + 1 - start;
            if count != inverse.0 {
                inverse = (count, 1.0 / count as f64);
            }
            sum * inverse.1
        } else {
            sum
        };
    }
    out
}

/// `a + b` and its rounding error, exactly (Knuth's TwoSum): the same error Neumaier's
/// step finds, without its branch on which magnitude is larger (a branch that
/// mispredicts on data around 0).
#[inline(always)]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let b_part = s - a;
    let a_part = s - b_part;
    (s, (a - a_part) + (b - b_part))
}

/// The window's sum (`MEAN` false) or mean (`MEAN` true), compensated (Neumaier) so that
/// values leaving do not leave their rounding behind.
#[derive(Default)]
pub(crate) struct Sum<const MEAN: bool> {
    count: usize,
    total: f64,
    compensation: f64,
}

impl<const MEAN: bool> Sum<MEAN> {
    fn accumulate(&mut self, v: f64) {
        let t = self.total + v;
        if self.total.abs() >= v.abs() {
            self.compensation += (self.total - t) + v;
        } else {
            self.compensation += (v - t) + self.total;
        }
        self.total = t;
    }
}

impl<const MEAN: bool> Accumulator for Sum<MEAN> {
    fn add(&mut self, _: usize, v: f64) {
        self.count += 1;
        self.accumulate(v);
    }

    fn remove(&mut self, _: usize, v: f64) {
        self.count -= 1;
        if self.count == 0 {
            // Nothing left: start clean, with no residue of rounding.
            *self = Self::default();
            return;
        }
        self.accumulate(-v);
    }

    fn count(&self) -> usize {
        self.count
    }

    fn value(&self) -> Option<f64> {
        let sum = self.total + self.compensation;
        Some(if MEAN { sum / self.count as f64 } else { sum })
    }
}

/// The window's sample standard deviation (ddof 1): Welford's update, and its inverse
/// for a value leaving.
#[derive(Default)]
pub(crate) struct Std {
    count: usize,
    mean: f64,
    m2: f64,
}

impl Accumulator for Std {
    fn add(&mut self, _: usize, v: f64) {
        self.count += 1;
        let delta = v - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (v - self.mean);
    }

    fn remove(&mut self, _: usize, v: f64) {
        self.count -= 1;
        if self.count == 0 {
            *self = Std::default();
            return;
        }
        let delta = v - self.mean;
        self.mean -= delta / self.count as f64;
        self.m2 -= delta * (v - self.mean);
    }

    fn count(&self) -> usize {
        self.count
    }

    fn value(&self) -> Option<f64> {
        (self.count > 1).then(|| (self.m2.max(0.0) / (self.count - 1) as f64).sqrt())
    }
}

/// The window's smallest (`MIN` true) or largest value: a monotonic queue of the values
/// no later value beats, oldest first, so the front is the answer.
#[derive(Default)]
pub(crate) struct Extreme<const MIN: bool> {
    count: usize,
    queue: VecDeque<(usize, f64)>,
}

impl<const MIN: bool> Accumulator for Extreme<MIN> {
    fn add(&mut self, at: usize, v: f64) {
        self.count += 1;
        let beaten = |b: f64| if MIN { b >= v } else { b <= v };
        while self.queue.back().is_some_and(|&(_, b)| beaten(b)) {
            self.queue.pop_back();
        }
        self.queue.push_back((at, v));
    }

    fn remove(&mut self, at: usize, _: f64) {
        self.count -= 1;
        if self.queue.front().is_some_and(|&(p, _)| p <= at) {
            self.queue.pop_front();
        }
    }

    fn count(&self) -> usize {
        self.count
    }

    fn value(&self) -> Option<f64> {
        self.queue.front().map(|&(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<A: Accumulator>(values: &[f64], w: usize, min_values: usize) -> Vec<Option<f64>> {
        slide::<A>(values, 0, min_values, |i| (i + 1).saturating_sub(w))
            .iter()
            .collect()
    }

    #[test]
    fn each_accumulator_over_a_three_value_window_with_a_missing_value() {
        let v = [4.0, f64::NAN, 1.0, 3.0, 2.0, 5.0];
        assert_eq!(
            run::<Sum<false>>(&v, 3, 1),
            [
                Some(4.0),
                Some(4.0),
                Some(5.0),
                Some(4.0),
                Some(6.0),
                Some(10.0)
            ]
        );
        assert_eq!(
            run::<Sum<true>>(&v, 3, 2),
            [
                None,
                None,
                Some(2.5),
                Some(2.0),
                Some(2.0),
                Some(10.0 / 3.0)
            ]
        );
        assert_eq!(
            run::<Extreme<true>>(&v, 3, 1),
            [
                Some(4.0),
                Some(4.0),
                Some(1.0),
                Some(1.0),
                Some(1.0),
                Some(2.0)
            ]
        );
        assert_eq!(
            run::<Extreme<false>>(&v, 3, 1),
            [
                Some(4.0),
                Some(4.0),
                Some(4.0),
                Some(3.0),
                Some(3.0),
                Some(5.0)
            ]
        );
        let std = run::<Std>(&v, 3, 1);
        assert_eq!(std[0], None, "one value has no sample deviation");
        assert!((std[5].unwrap() - 1.527_525_231_651_946_6).abs() < 1e-12);
    }

    #[test]
    fn equal_values_leave_the_min_queue_in_order() {
        // Ties: the older of two equal minima leaves first, the newer still answers.
        let v = [1.0, 1.0, 2.0, 3.0];
        assert_eq!(
            run::<Extreme<true>>(&v, 2, 1),
            [Some(1.0), Some(1.0), Some(1.0), Some(2.0)]
        );
    }
}
