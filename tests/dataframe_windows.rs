//! `resample` and `rolling` against eager computations on one batch: bins and windows
//! that straddle partition edges, windows spanning many (empty, one-row) partitions.
#![cfg(feature = "dataframe")]

use std::collections::BTreeMap;
use std::sync::Arc;

use dask::dataframe::arrow::array::{Array, Float64Array, Int64Array, TimestampNanosecondArray};
use dask::dataframe::arrow::datatypes::{DataType, TimeUnit};
use dask::dataframe::arrow::record_batch::RecordBatch;
use dask::dataframe::DataFrame;
use dask::datasets::{timeseries, TimeseriesOptions};
use proptest::prelude::*;

const SEC: i64 = 1_000_000_000;

fn floats(a: &dyn Array) -> Vec<Option<f64>> {
    let a = dask::dataframe::arrow::compute::cast::cast(a, &DataType::Float64).unwrap();
    a.as_any()
        .downcast_ref::<Float64Array>()
        .unwrap()
        .iter()
        .collect()
}

fn stamps(a: &dyn Array) -> Vec<i64> {
    a.as_any()
        .downcast_ref::<TimestampNanosecondArray>()
        .unwrap()
        .values()
        .to_vec()
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs())),
        _ => false,
    }
}

#[test]
fn hourly_resample_matches_eager_with_bins_straddling_partitions() {
    // 7-minute partitions: most hourly bins span 9 of them.
    let df = timeseries(TimeseriesOptions {
        start: "2000-01-01".into(),
        end: "2000-01-01T05:30:00".into(),
        freq: "10s".into(),
        partition_freq: "7min".into(),
        seed: 3,
    });
    let all = df.compute().unwrap();
    let hourly = df
        .select(["x", "y"])
        .resample("1h")
        .mean()
        .compute()
        .unwrap();
    let names: Vec<String> = hourly
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["timestamp", "x", "y"]);
    assert!(matches!(
        hourly.schema().field(0).data_type(),
        DataType::Timestamp(TimeUnit::Nanosecond, _)
    ));
    let mut bins: BTreeMap<i64, Vec<(f64, f64)>> = BTreeMap::new();
    let ts = stamps(all.column(0).as_ref());
    let (x, y) = (
        floats(all.column(3).as_ref()),
        floats(all.column(4).as_ref()),
    );
    for i in 0..all.num_rows() {
        bins.entry(ts[i].div_euclid(3600 * SEC) * 3600 * SEC)
            .or_default()
            .push((x[i].unwrap(), y[i].unwrap()));
    }
    assert_eq!(
        stamps(hourly.column(0).as_ref()),
        bins.keys().copied().collect::<Vec<_>>()
    );
    let (hx, hy) = (
        floats(hourly.column(1).as_ref()),
        floats(hourly.column(2).as_ref()),
    );
    for (b, rows) in bins.values().enumerate() {
        let n = rows.len() as f64;
        assert!(close(
            hx[b],
            Some(rows.iter().map(|r| r.0).sum::<f64>() / n)
        ));
        assert!(close(
            hy[b],
            Some(rows.iter().map(|r| r.1).sum::<f64>() / n)
        ));
    }
    assert_eq!(bins.len(), 6);
    let counts = df.select(["x"]).resample("1h").count().compute().unwrap();
    let c = counts
        .column(1)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    assert_eq!(c.values().to_vec(), vec![360, 360, 360, 360, 360, 180]);
}

#[test]
fn resample_and_rolling_errors_come_before_running() {
    let plain = DataFrame::from_batches(vec![RecordBatch::try_from_iter([(
        "x",
        Arc::new(Float64Array::from(vec![1.0])) as _,
    )])
    .unwrap()])
    .unwrap();
    let err = plain
        .resample("1h")
        .mean()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(err.contains("no index"), "{err}");
    let err = plain
        .rolling("1min")
        .mean()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(err.contains("needs a datetime index"), "{err}");
    let err = plain.rolling(0).mean().compute().unwrap_err().to_string();
    assert!(err.contains("a window of 0 rows"), "{err}");
    let df = timeseries(Default::default());
    let err = df.rolling(3).mean().compute().unwrap_err().to_string();
    assert!(
        err.contains("rolling aggregate of a string column"),
        "{err}"
    );
    let err = df
        .select(["x"])
        .resample("1 fortnight")
        .mean()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown unit"), "{err}");
}

/// A frame of no column but its datetime index resamples to the bins alone, as pandas'
/// `df[[]].resample("1h").mean()` does; before, the grouped aggregation under it
/// refused ("no aggregates").
#[test]
fn resampling_only_the_index_gives_the_bins() {
    let df = timeseries(TimeseriesOptions {
        end: "2000-01-03".into(),
        ..Default::default()
    });
    let index_only = df.select(Vec::<String>::new());
    for bins in [
        index_only.resample("6h").mean(),
        index_only.resample("1D").count(),
    ] {
        let out = bins.compute().unwrap();
        assert_eq!(bins.columns(), Vec::<String>::new());
        assert_eq!(out.num_columns(), 1, "{:?}", out.schema());
        assert_eq!(out.schema().field(0).name(), "timestamp");
    }
    let six_hourly = index_only.resample("6h").mean().compute().unwrap();
    let day = 86_400 * SEC;
    let want: Vec<i64> = (0..8).map(|i| 946_684_800 * SEC + i * day / 4).collect();
    assert_eq!(stamps(six_hourly.column(0).as_ref()), want);
}

#[test]
fn windows_and_bins_spanning_three_and_more_partitions() {
    // One row a second, partitions of 1, 1, 0, 1 and 3 rows: a 4-row window and a 4 s
    // window at the fifth row reach back over four partitions (one of them empty).
    let ts: Vec<i64> = (0..6).map(|i| i * SEC).collect();
    let xs = vec![
        Some(1.0),
        Some(2.0),
        Some(4.0),
        Some(8.0),
        Some(16.0),
        Some(32.0),
    ];
    let df = frame(&ts, &xs, &[1, 2, 2, 3]);
    assert_eq!(df.npartitions(), 5);
    let by_rows = floats(df.rolling(4).sum().compute().unwrap().column(1).as_ref());
    assert_eq!(
        by_rows,
        [None, None, None, Some(15.0), Some(30.0), Some(60.0)]
    );
    let by_time = floats(df.rolling("4s").sum().compute().unwrap().column(1).as_ref());
    assert_eq!(
        by_time,
        [
            Some(1.0),
            Some(3.0),
            Some(7.0),
            Some(15.0),
            Some(30.0),
            Some(60.0)
        ]
    );
    // One 10 s bin gathers all five partitions.
    let bins = df.resample("10s").sum().compute().unwrap();
    assert_eq!(bins.num_rows(), 1);
    assert_eq!(floats(bins.column(1).as_ref()), [Some(63.0)]);
}

/// Sorted timestamps (random gaps of 0 to 3 s), values with nulls, cut anywhere.
fn series() -> impl Strategy<Value = (Vec<i64>, Vec<Option<f64>>, Vec<usize>)> {
    prop::collection::vec(
        (
            0i64..4,
            // NaN is missing, as in pandas: not a value of any window.
            prop::option::weighted(0.85, prop_oneof![9 => -10.0f64..10.0, 1 => Just(f64::NAN)]),
        ),
        0..40,
    )
    .prop_flat_map(|rows| {
        let n = rows.len();
        let mut t = 0;
        let ts: Vec<i64> = rows
            .iter()
            .map(|(gap, _)| {
                t += gap * SEC;
                t
            })
            .collect();
        let xs: Vec<Option<f64>> = rows.iter().map(|(_, x)| *x).collect();
        (Just(ts), Just(xs), prop::collection::vec(0..=n, 0..8))
    })
}

fn frame(ts: &[i64], xs: &[Option<f64>], cuts: &[usize]) -> DataFrame {
    let mut cuts = cuts.to_vec();
    cuts.extend([0, ts.len()]);
    cuts.sort_unstable();
    let parts = cuts
        .windows(2)
        .map(|w| {
            RecordBatch::try_from_iter([
                (
                    "t",
                    Arc::new(TimestampNanosecondArray::from(ts[w[0]..w[1]].to_vec())) as _,
                ),
                (
                    "x",
                    Arc::new(Float64Array::from(xs[w[0]..w[1]].to_vec())) as _,
                ),
            ])
            .unwrap()
        })
        .collect();
    DataFrame::from_batches(parts)
        .unwrap()
        .with_sorted_index("t")
}

fn eager(window: &[f64], func: &str) -> Option<f64> {
    let n = window.len() as f64;
    match func {
        "sum" => Some(window.iter().sum()),
        "mean" => Some(window.iter().sum::<f64>() / n),
        "min" => window.iter().copied().reduce(f64::min),
        "max" => window.iter().copied().reduce(f64::max),
        _ => (window.len() > 1).then(|| {
            let m = window.iter().sum::<f64>() / n;
            (window.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        }),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn rolling_matches_eager_across_partitions((ts, xs, cuts) in series(), rows in 1usize..6, secs in 1i64..6) {
        let df = frame(&ts, &xs, &cuts);
        for func in ["sum", "mean", "min", "max", "std"] {
            let r = df.rolling(rows);
            let by_rows = match func { "sum" => r.sum(), "mean" => r.mean(), "min" => r.min(), "max" => r.max(), _ => r.std() };
            let out = floats(by_rows.compute().unwrap().column(1).as_ref());
            for i in 0..ts.len() {
                let window: Vec<f64> = xs[(i + 1).saturating_sub(rows)..=i].iter().flatten().copied().filter(|v| !v.is_nan()).collect();
                let want = if window.len() < rows { None } else { eager(&window, func) };
                prop_assert!(close(out[i], want), "{} rows {} at {}: {:?} vs {:?}", func, rows, i, out[i], want);
            }
            let d = format!("{secs}s");
            let t = df.rolling(d.as_str());
            let by_time = match func { "sum" => t.sum(), "mean" => t.mean(), "min" => t.min(), "max" => t.max(), _ => t.std() };
            let got = by_time.compute().unwrap();
            prop_assert_eq!(stamps(got.column(0).as_ref()), ts.clone());
            let out = floats(got.column(1).as_ref());
            for i in 0..ts.len() {
                let window: Vec<f64> = (0..=i).filter(|&j| ts[j] > ts[i] - secs * SEC).filter_map(|j| xs[j]).filter(|v| !v.is_nan()).collect();
                let want = if window.is_empty() { None } else { eager(&window, func) };
                prop_assert!(close(out[i], want), "{} {} at {}: {:?} vs {:?}", func, d, i, out[i], want);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Columns without a null or a NaN take the sliding sum that reads carry and
    /// partition in place (one value in and one out per step where it can): still the
    /// eager sums and means, by rows and by time, windows reaching back over any number of
    /// (empty, one-row) partitions.
    #[test]
    fn rolling_sum_and_mean_without_missing_values_match_eager((ts, xs, cuts) in series(), rows in 1usize..6, secs in 1i64..6) {
        let xs: Vec<Option<f64>> = xs
            .iter()
            .enumerate()
            .map(|(i, x)| Some(x.filter(|v| !v.is_nan()).unwrap_or(i as f64 - 7.5)))
            .collect();
        let df = frame(&ts, &xs, &cuts);
        let values: Vec<f64> = xs.iter().flatten().copied().collect();
        for func in ["sum", "mean"] {
            let r = df.rolling(rows);
            let by_rows = if func == "sum" { r.sum() } else { r.mean() };
            let out = floats(by_rows.compute().unwrap().column(1).as_ref());
            for i in 0..ts.len() {
                let window = &values[(i + 1).saturating_sub(rows)..=i];
                let want = if window.len() < rows { None } else { eager(window, func) };
                prop_assert!(close(out[i], want), "{} rows {} at {}: {:?} vs {:?}", func, rows, i, out[i], want);
            }
            let d = format!("{secs}s");
            let t = df.rolling(d.as_str());
            let by_time = if func == "sum" { t.sum() } else { t.mean() };
            let out = floats(by_time.compute().unwrap().column(1).as_ref());
            for i in 0..ts.len() {
                let window: Vec<f64> = (0..=i).filter(|&j| ts[j] > ts[i] - secs * SEC).map(|j| values[j]).collect();
                prop_assert!(close(out[i], eager(&window, func)), "{} {} at {}: {:?}", func, d, i, out[i]);
            }
        }
    }
}

#[test]
fn a_huge_value_leaving_the_window_leaves_no_rounding_behind() {
    // 1e20 + 1 rounds to 1e20: a plain running sum would give 0 once 1e20 has left
    // the two-row window; the compensated one keeps the lost 1 and gives 2.
    let ts: Vec<i64> = (0..6).map(|i| i * SEC).collect();
    let xs = [1e20, 1.0, 1.0, 1.0, 1.0, 1.0].map(Some);
    for cuts in [vec![], vec![1], vec![2, 3]] {
        let df = frame(&ts, &xs, &cuts);
        let by_rows = floats(df.rolling(2).sum().compute().unwrap().column(1).as_ref());
        assert_eq!(
            by_rows,
            [None, Some(1e20), Some(2.0), Some(2.0), Some(2.0), Some(2.0)],
            "cuts {cuts:?}"
        );
        let by_time = floats(
            df.rolling("2s")
                .mean()
                .compute()
                .unwrap()
                .column(1)
                .as_ref(),
        );
        assert_eq!(
            by_time,
            [
                Some(1e20),
                Some(5e19),
                Some(1.0),
                Some(1.0),
                Some(1.0),
                Some(1.0)
            ],
            "cuts {cuts:?}"
        );
    }
}

#[test]
fn a_carry_sliced_from_a_long_partition_then_extended_by_short_ones() {
    // Partitions of 5, 1, 1 and 4 rows, one row a second: the carry after the first is a
    // slice of it (the partition is longer than the window), the next two extend it, and
    // the 4 s window at the eighth row reaches back over three partitions. A null value
    // and a NaN are missing, not zeros.
    let ts: Vec<i64> = (0..11).map(|i| i * SEC).collect();
    let xs = vec![
        Some(1.0),
        Some(2.0),
        Some(4.0),
        Some(8.0),
        Some(16.0),
        None,
        Some(32.0),
        Some(64.0),
        Some(f64::NAN),
        Some(128.0),
        Some(256.0),
    ];
    let df = frame(&ts, &xs, &[5, 6, 7]);
    assert_eq!(df.npartitions(), 4);
    let sums = floats(df.rolling("4s").sum().compute().unwrap().column(1).as_ref());
    assert_eq!(
        sums,
        [1.0, 3.0, 7.0, 15.0, 30.0, 28.0, 56.0, 112.0, 96.0, 224.0, 448.0].map(Some)
    );
    // Two-row windows: the null and the NaN leave windows one value short.
    let by_rows = floats(df.rolling(2).max().compute().unwrap().column(1).as_ref());
    assert_eq!(
        by_rows,
        [
            None,
            Some(2.0),
            Some(4.0),
            Some(8.0),
            Some(16.0),
            None,
            None,
            Some(64.0),
            None,
            None,
            Some(256.0)
        ]
    );
}

#[test]
fn a_null_time_in_the_index_is_an_error_for_a_time_window() {
    let part = RecordBatch::try_from_iter([
        (
            "t",
            Arc::new(TimestampNanosecondArray::from(vec![
                Some(0),
                None,
                Some(2 * SEC),
            ])) as _,
        ),
        ("x", Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0])) as _),
    ])
    .unwrap();
    let df = DataFrame::from_batches(vec![part])
        .unwrap()
        .with_sorted_index("t");
    let err = df.rolling("2s").mean().compute().unwrap_err().to_string();
    assert!(err.contains("null at row 1"), "{err}");
    // Leading null times (once read as the smallest time, which sent the window's start
    // past its end) are the same error.
    let leading = RecordBatch::try_from_iter([
        (
            "t",
            Arc::new(TimestampNanosecondArray::from(vec![None, None])) as _,
        ),
        ("x", Arc::new(Float64Array::from(vec![1.0, 2.0])) as _),
    ])
    .unwrap();
    let nulls_first = DataFrame::from_batches(vec![leading])
        .unwrap()
        .with_sorted_index("t");
    let err = nulls_first
        .rolling("2s")
        .sum()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(err.contains("null at row 0"), "{err}");
    // A row window does not read the times: it still runs.
    let out = df.rolling(2).sum().compute().unwrap();
    assert_eq!(floats(out.column(1).as_ref()), [None, Some(3.0), Some(5.0)]);
}

/// The bins of `ts` every `secs` seconds, with the present values of each.
fn eager_bins(ts: &[i64], xs: &[Option<f64>], secs: i64) -> BTreeMap<i64, Vec<f64>> {
    let mut bins: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for (t, x) in ts.iter().zip(xs) {
        let values = bins
            .entry(t.div_euclid(secs * SEC) * secs * SEC)
            .or_default();
        values.extend(x.filter(|v| !v.is_nan()));
    }
    bins
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    // Bins of 20 to 40 s hold 13 or more rows on average (gaps of 0 to 3 s), so the
    // grouped aggregation takes whole runs of a bin at once; with a null among the values
    // it goes row by row. Both against the eager bins of the concatenated rows.
    #[test]
    fn resample_matches_eager_bins_across_partitions((ts, xs, cuts) in series(), secs in 20i64..40, nulls in any::<bool>()) {
        let xs: Vec<Option<f64>> = if nulls { xs } else { xs.iter().map(|x| Some(x.unwrap_or(f64::NAN))).collect() };
        let df = frame(&ts, &xs, &cuts);
        let bins = eager_bins(&ts, &xs, secs);
        let rule = format!("{secs}s");
        for func in ["sum", "mean", "min", "max", "std", "count"] {
            let r = df.resample(&rule);
            let out = match func { "sum" => r.sum(), "mean" => r.mean(), "min" => r.min(), "max" => r.max(), "count" => r.count(), _ => r.std() }.compute().unwrap();
            prop_assert_eq!(stamps(out.column(0).as_ref()), bins.keys().copied().collect::<Vec<_>>());
            let got = floats(out.column(1).as_ref());
            for (b, values) in bins.values().enumerate() {
                let want = match func {
                    "count" => Some(values.len() as f64),
                    // pandas: the sum of no values is 0.
                    "sum" if values.is_empty() => Some(0.0),
                    _ if values.is_empty() => None,
                    _ => eager(values, func),
                };
                prop_assert!(close(got[b], want), "{} {} bin {}: {:?} vs {:?}", func, rule, b, got[b], want);
            }
        }
    }
}
