//! Property tests of `dask::dataframe`: every operation on random partitionings (empty
//! and one-row partitions included, nulls in every column) against the same computed
//! eagerly on the rows as plain Rust values. NaN appears among the floats and is
//! missing, as pandas treats it: reductions and aggregates skip it, counts leave it out.
#![cfg(feature = "dataframe")]

use std::collections::BTreeMap;
use std::sync::Arc;

use dask::dataframe::arrow::array::{Array, Float64Array, Int64Array, StringArray};
use dask::dataframe::arrow::record_batch::RecordBatch;
use dask::dataframe::{agg, col, lit, DataFrame};
use proptest::prelude::*;

const KEYS: [&str; 4] = ["a", "b", "c", "d"];

#[derive(Debug, Clone)]
struct Row {
    k: Option<&'static str>,
    g: Option<i64>,
    x: Option<f64>,
}

fn row() -> impl Strategy<Value = Row> {
    (
        prop::option::weighted(0.8, prop::sample::select(&KEYS[..])),
        prop::option::weighted(0.8, -5i64..5),
        // NaN is missing, as in pandas: reductions skip it like a null.
        prop::option::weighted(0.8, prop_oneof![9 => -100.0f64..100.0, 1 => Just(f64::NAN)]),
    )
        .prop_map(|(k, g, x)| Row { k, g, x })
}

/// Rows and where to cut them: cut points may repeat (empty partitions) or be adjacent
/// (one-row partitions).
fn table() -> impl Strategy<Value = (Vec<Row>, Vec<usize>)> {
    prop::collection::vec(row(), 0..40).prop_flat_map(|rows| {
        let n = rows.len();
        (Just(rows), prop::collection::vec(0..=n, 0..6))
    })
}

fn batch(rows: &[Row]) -> RecordBatch {
    RecordBatch::try_from_iter([
        (
            "k",
            Arc::new(rows.iter().map(|r| r.k).collect::<StringArray>()) as _,
        ),
        (
            "g",
            Arc::new(rows.iter().map(|r| r.g).collect::<Int64Array>()) as _,
        ),
        (
            "x",
            Arc::new(rows.iter().map(|r| r.x).collect::<Float64Array>()) as _,
        ),
    ])
    .unwrap()
}

fn frame(rows: &[Row], cuts: &[usize]) -> DataFrame {
    let mut cuts = cuts.to_vec();
    cuts.push(0);
    cuts.push(rows.len());
    cuts.sort_unstable();
    let parts = cuts.windows(2).map(|w| batch(&rows[w[0]..w[1]])).collect();
    DataFrame::from_batches(parts).unwrap()
}

/// A value that is neither null nor NaN (pandas' `notna`).
fn present(x: Option<f64>) -> Option<f64> {
    x.filter(|v| !v.is_nan())
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
        }
        _ => false,
    }
}

fn floats(a: &dyn Array) -> Vec<Option<f64>> {
    a.as_any()
        .downcast_ref::<Float64Array>()
        .unwrap()
        .iter()
        .collect()
}

fn ints(a: &dyn Array) -> Vec<Option<i64>> {
    a.as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .iter()
        .collect()
}

fn strings(a: &dyn Array) -> Vec<Option<String>> {
    a.as_any()
        .downcast_ref::<StringArray>()
        .unwrap()
        .iter()
        .map(|s| s.map(String::from))
        .collect()
}

/// Mean and sample variance of the values (None below 1 and 2 values).
fn moments(values: &[f64]) -> (Option<f64>, Option<f64>) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (None, None);
    }
    let mean = values.iter().sum::<f64>() / n;
    let var = (values.len() > 1)
        .then(|| values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0));
    (Some(mean), var)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn row_wise_chains_match_eager((rows, cuts) in table(), t in -50.0f64..50.0) {
        // Without NaN: comparisons follow Arrow's total order (NaN above every number),
        // where pandas says `NaN > t` is false. A known difference of `Expr` evaluation.
        let rows: Vec<Row> = rows.into_iter().map(|r| Row { x: present(r.x), ..r }).collect();
        let df = frame(&rows, &cuts)
            .filter(col("x").gt(lit(t)).or(col("k").is_null()))
            .with_column("z", col("x") * lit(2.0) + col("g"))
            .rename([("k", "key")])
            .drop(["g"])
            .select(["key", "z"]);
        let out = df.compute().unwrap();
        let kept: Vec<&Row> = rows
            .iter()
            .filter(|r| r.k.is_none() || r.x.is_some_and(|x| x > t))
            .collect();
        prop_assert_eq!(out.num_rows(), kept.len());
        prop_assert_eq!(strings(out.column(0).as_ref()), kept.iter().map(|r| r.k.map(String::from)).collect::<Vec<_>>());
        let z = floats(out.column(1).as_ref());
        for (got, r) in z.iter().zip(&kept) {
            let want = match (r.x, r.g) { (Some(x), Some(g)) => Some(x * 2.0 + g as f64), _ => None };
            prop_assert!(close(*got, want), "{:?} vs {:?}", got, want);
        }
        prop_assert_eq!(df.len().compute().unwrap(), kept.len());
    }

    #[test]
    fn filter_select_chains_read_only_what_they_need_and_match_eager((rows, cuts) in table(), t in -50.0f64..50.0) {
        // Filters on columns the final select drops: those columns must still be read.
        let rows: Vec<Row> = rows.into_iter().map(|r| Row { x: present(r.x), ..r }).collect();
        let df = frame(&rows, &cuts)
            .filter(col("x").gt(lit(t)))
            .select(["k", "g"])
            .filter(col("g").is_null().not())
            .select(["k"]);
        let out = df.compute().unwrap();
        let kept: Vec<Option<String>> = rows
            .iter()
            .filter(|r| r.x.is_some_and(|x| x > t) && r.g.is_some())
            .map(|r| r.k.map(String::from))
            .collect();
        prop_assert_eq!(out.num_columns(), 1);
        prop_assert_eq!(strings(out.column(0).as_ref()), kept);
        let sum = frame(&rows, &cuts).filter(col("g").gt(lit(0))).column("x").sum().compute().unwrap();
        let want: f64 = rows.iter().filter(|r| r.g.is_some_and(|g| g > 0)).filter_map(|r| r.x).sum();
        prop_assert!(close(Some(sum), Some(want)));
    }

    #[test]
    fn series_reductions_match_eager((rows, cuts) in table()) {
        let df = frame(&rows, &cuts);
        let x = df.column("x");
        let (sum, mean, var, std, min, max, count) = dask::compute((
            &x.sum(), &x.mean(), &x.var(), &x.std(), &x.min(), &x.max(), &x.count(),
        )).unwrap();
        let values: Vec<f64> = rows.iter().filter_map(|r| present(r.x)).collect();
        let (m, v) = moments(&values);
        prop_assert!(close(Some(sum), Some(values.iter().sum())));
        prop_assert!(close(Some(mean), Some(m.unwrap_or(f64::NAN))));
        prop_assert!(close(Some(var), Some(v.unwrap_or(f64::NAN))));
        prop_assert!(close(Some(std), Some(v.map_or(f64::NAN, f64::sqrt))));
        let lo = values.iter().copied().fold(None, |a: Option<f64>, v| Some(a.map_or(v, |a| a.min(v))));
        let hi = values.iter().copied().fold(None, |a: Option<f64>, v| Some(a.map_or(v, |a| a.max(v))));
        prop_assert!(close(Some(min), Some(lo.unwrap_or(f64::NAN))));
        prop_assert!(close(Some(max), Some(hi.unwrap_or(f64::NAN))));
        prop_assert_eq!(count, values.len());
        let mut distinct: Vec<u64> = values.iter().map(|v| v.to_bits()).collect();
        distinct.sort_unstable();
        distinct.dedup();
        prop_assert_eq!(x.nunique().compute().unwrap(), distinct.len());
        let counts = df.column("k").value_counts().compute().unwrap();
        let mut want: BTreeMap<&str, i64> = BTreeMap::new();
        for k in rows.iter().filter_map(|r| r.k) {
            *want.entry(k).or_default() += 1;
        }
        let mut want: Vec<(Option<String>, Option<i64>)> = want.into_iter().map(|(k, n)| (Some(k.to_string()), Some(n))).collect();
        want.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let got: Vec<(Option<String>, Option<i64>)> = strings(counts.column(0).as_ref()).into_iter().zip(ints(counts.column(1).as_ref())).collect();
        prop_assert_eq!(got, want);
        // An integer column reduces too.
        let gsum = df.column("g").sum().compute().unwrap();
        prop_assert_eq!(gsum, rows.iter().filter_map(|r| r.g).sum::<i64>() as f64);
    }

    #[test]
    fn groupby_matches_eager((rows, cuts) in table()) {
        let df = frame(&rows, &cuts);
        let out = df
            .groupby(["k"])
            .agg([
                agg::sum("x"), agg::mean("x"), agg::std("x"), agg::var("x"), agg::min("x"),
                agg::max("x"), agg::count("x"), agg::first("x"), agg::last("x"), agg::sum("g"),
            ])
            .compute()
            .unwrap();
        let mut groups: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
        for r in &rows {
            if let Some(k) = r.k {
                groups.entry(k).or_default().push(r);
            }
        }
        let names: Vec<String> = out.schema().fields().iter().map(|f| f.name().clone()).collect();
        prop_assert_eq!(names, ["k", "x_sum", "x_mean", "x_std", "x_var", "x_min", "x_max", "x_count", "x_first", "x_last", "g"]);
        prop_assert_eq!(strings(out.column(0).as_ref()), groups.keys().map(|k| Some(k.to_string())).collect::<Vec<_>>());
        let col = |i: usize| floats(out.column(i).as_ref());
        for (gi, members) in groups.values().enumerate() {
            let xs: Vec<f64> = members.iter().filter_map(|r| present(r.x)).collect();
            let (m, v) = moments(&xs);
            prop_assert!(close(col(1)[gi], Some(xs.iter().sum())));
            prop_assert!(close(col(2)[gi], m));
            prop_assert!(close(col(3)[gi], v.map(f64::sqrt)));
            prop_assert!(close(col(4)[gi], v));
            prop_assert!(close(col(5)[gi], xs.iter().copied().reduce(f64::min)));
            prop_assert!(close(col(6)[gi], xs.iter().copied().reduce(f64::max)));
            prop_assert_eq!(ints(out.column(7).as_ref())[gi], Some(xs.len() as i64));
            prop_assert!(close(col(8)[gi], xs.first().copied()));
            prop_assert!(close(col(9)[gi], xs.last().copied()));
            prop_assert_eq!(ints(out.column(10).as_ref())[gi], Some(members.iter().filter_map(|r| r.g).sum::<i64>()));
        }
    }

    #[test]
    fn split_out_spreads_the_same_groups_over_partitions((rows, cuts) in table(), n in 1usize..5) {
        let df = frame(&rows, &cuts);
        let one = df.groupby(["k"]).agg([agg::sum("x"), agg::count("g")]);
        let split = df.groupby(["k"]).split_out(n).agg([agg::sum("x"), agg::count("g")]);
        prop_assert_eq!(split.npartitions(), n);
        let rows_of = |b: &RecordBatch| {
            let mut v: Vec<(Option<String>, Option<u64>, Option<i64>)> = strings(b.column(0).as_ref())
                .into_iter()
                .zip(floats(b.column(1).as_ref()).into_iter().map(|x| x.map(f64::to_bits)))
                .zip(ints(b.column(2).as_ref()))
                .map(|((k, x), c)| (k, x, c))
                .collect();
            v.sort();
            v
        };
        prop_assert_eq!(rows_of(&split.compute().unwrap()), rows_of(&one.compute().unwrap()));
    }

    #[test]
    fn groupby_on_two_integer_keys_matches_eager((rows, cuts) in table()) {
        let df = frame(&rows, &cuts).with_column("h", col("g") * lit(2));
        let out = df.groupby(["g", "h"]).agg([agg::count("k"), agg::max("k")]).compute().unwrap();
        let mut groups: BTreeMap<i64, (i64, Option<&str>)> = BTreeMap::new();
        for r in &rows {
            if let Some(g) = r.g {
                let e = groups.entry(g).or_insert((0, None));
                if let Some(k) = r.k {
                    e.0 += 1;
                    e.1 = Some(e.1.map_or(k, |m: &str| m.max(k)));
                }
            }
        }
        prop_assert_eq!(ints(out.column(0).as_ref()), groups.keys().map(|g| Some(*g)).collect::<Vec<_>>());
        prop_assert_eq!(ints(out.column(1).as_ref()), groups.keys().map(|g| Some(g * 2)).collect::<Vec<_>>());
        prop_assert_eq!(ints(out.column(2).as_ref()), groups.values().map(|v| Some(v.0)).collect::<Vec<_>>());
        prop_assert_eq!(strings(out.column(3).as_ref()), groups.values().map(|v| v.1.map(String::from)).collect::<Vec<_>>());
    }
}
