//! Sorting across partitions: `set_index` (sorts, computes divisions), `sort_values`,
//! and `repartition` towards more partitions, each against the same done eagerly on one
//! concatenated batch, over random partitionings with nulls, empty and one-row
//! partitions.
#![cfg(feature = "dataframe")]

use std::sync::Arc;

use dask::dataframe::arrow::array::{
    Array, ArrayRef, Float64Array, Int64Array, StringArray, TimestampNanosecondArray,
};
use dask::dataframe::arrow::compute::{concat, sort, take};
use dask::dataframe::arrow::datatypes::{DataType, Field, Schema, SortOptions};
use dask::dataframe::arrow::record_batch::RecordBatch;
use dask::dataframe::DataFrame;
use dask::datasets::{timeseries, TimeseriesOptions};

mod support;
use support::Lcg;

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("x", DataType::Float64, true),
        Field::new("k", DataType::Int64, true),
        Field::new("s", DataType::Utf8, true),
    ]))
}

/// `rows` random rows cut at random places (empty and one-row partitions included).
fn random_frame(seed: u64, rows: usize) -> (DataFrame, RecordBatch) {
    let mut rng = Lcg(seed);
    let x: Float64Array = (0..rows)
        .map(|_| (rng.below(10) > 0).then(|| rng.below(1000) as f64 / 10.0))
        .collect();
    let k: Int64Array = (0..rows)
        .map(|_| (rng.below(8) > 0).then(|| rng.below(40) as i64 - 20))
        .collect();
    let s: StringArray = (0..rows)
        .map(|_| (rng.below(9) > 0).then(|| format!("n{}", rng.below(30))))
        .collect();
    let all = RecordBatch::try_new(
        schema(),
        vec![Arc::new(x) as ArrayRef, Arc::new(k), Arc::new(s)],
    )
    .unwrap();
    let mut cuts: Vec<usize> = (0..rng.below(6) + 1)
        .map(|_| rng.below(rows as u64 + 1) as usize)
        .collect();
    cuts.push(0);
    cuts.push(rows);
    cuts.push(rows.min(1));
    cuts.sort_unstable();
    let batches: Vec<RecordBatch> = cuts
        .windows(2)
        .map(|w| all.slice(w[0], w[1] - w[0]))
        .collect();
    (DataFrame::from_batches(batches).unwrap(), all)
}

/// The rows of `batch` ordered by `columns` (nulls last), with a stable tie order.
fn eager_sort(batch: &RecordBatch, columns: &[(&str, bool)]) -> RecordBatch {
    let sort_columns: Vec<sort::SortColumn> = columns
        .iter()
        .map(|(c, ascending)| sort::SortColumn {
            values: batch.column_by_name(c).unwrap().clone(),
            options: Some(SortOptions {
                descending: !ascending,
                nulls_first: false,
            }),
        })
        .collect();
    let order = sort::lexsort_to_indices(&sort_columns, None).unwrap();
    take::take_record_batch(batch, &order).unwrap()
}

/// A sorted batch's key columns as text, rows in order (ties among other columns are
/// free, so only the keys are compared row by row).
fn keys(batch: &RecordBatch, columns: &[&str]) -> Vec<String> {
    (0..batch.num_rows())
        .map(|i| {
            columns
                .iter()
                .map(|c| {
                    let a = batch.column_by_name(c).unwrap();
                    if a.is_null(i) {
                        "null".to_string()
                    } else {
                        format!("{:?}", a.slice(i, 1))
                    }
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

/// Every row of `a` is in `b` as often (row order aside).
fn same_rows(a: &RecordBatch, b: &RecordBatch) {
    let all: Vec<&str> = vec!["x", "k", "s"];
    let mut ka = keys(
        &eager_sort(a, &[("x", true), ("k", true), ("s", true)]),
        &all,
    );
    let mut kb = keys(
        &eager_sort(b, &[("x", true), ("k", true), ("s", true)]),
        &all,
    );
    ka.sort();
    kb.sort();
    assert_eq!(ka, kb);
}

#[test]
fn sort_values_matches_eager_over_random_partitionings() {
    for seed in 0..12 {
        let (df, all) = random_frame(seed, 50 + seed as usize * 37);
        for by in [
            vec![("k", true)],
            vec![("s", false), ("k", true)],
            vec![("x", false)],
        ] {
            let sorted = df.sort_values_by(by.clone());
            assert_eq!(sorted.npartitions(), df.npartitions());
            let got = sorted.compute().unwrap();
            let want = eager_sort(&all, &by);
            let names: Vec<&str> = by.iter().map(|(c, _)| *c).collect();
            assert_eq!(
                keys(&got, &names),
                keys(&want, &names),
                "seed {seed} by {by:?}"
            );
            same_rows(&got, &all);
        }
    }
}

#[test]
fn set_index_sorts_and_gives_divisions_that_bound_each_partition() {
    for seed in 0..12 {
        let (df, all) = random_frame(seed, 40 + seed as usize * 53);
        let indexed = df.set_index("k").unwrap();
        assert_eq!(indexed.index(), Some("k"));
        assert_eq!(indexed.columns(), ["x", "s"]);
        assert!(indexed.npartitions() <= df.npartitions());
        let div = indexed.divisions().expect("set_index computes divisions");
        let div = div.as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(div.len(), indexed.npartitions() + 1);
        let d = div.values();
        assert!(d[..d.len() - 1].windows(2).all(|w| w[0] < w[1]), "{d:?}");
        assert!(d[d.len() - 2] <= d[d.len() - 1]);
        let parts = dask::compute(&indexed.to_delayed()).unwrap();
        for (i, p) in parts.iter().enumerate() {
            assert_eq!(p.schema().field(0).name(), "k", "the index comes first");
            let k = p.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
            let last = i + 1 == parts.len();
            for v in k.iter() {
                match v {
                    Some(v) => assert!(
                        v >= d[i] && (v < d[i + 1] || (last && v == d[i + 1])),
                        "seed {seed}: {v} in partition {i} of divisions {d:?}"
                    ),
                    None => assert!(last, "a null index sorts into the last partition"),
                }
            }
        }
        let got = indexed.compute().unwrap();
        assert_eq!(got.num_rows(), all.num_rows());
        assert_eq!(
            keys(&got, &["k"]),
            keys(&eager_sort(&all, &[("k", true)]), &["k"])
        );
    }
}

#[test]
fn set_index_on_strings_and_on_one_repeated_value() {
    let (df, all) = random_frame(99, 300);
    let by_s = df.set_index("s").unwrap();
    let div = by_s.divisions().unwrap();
    let div = div.as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(div.value(0), "n0");
    assert_eq!(div.value(div.len() - 1), "n9");
    let got = by_s.compute().unwrap();
    assert_eq!(
        keys(&got, &["s"]),
        keys(&eager_sort(&all, &[("s", true)]), &["s"])
    );
    // One distinct value: one partition, divisions (v, v).
    let same = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, false)])),
        vec![Arc::new(Int64Array::from(vec![7; 10])) as ArrayRef],
    )
    .unwrap();
    let df = DataFrame::from_batches(vec![same.slice(0, 4), same.slice(4, 6)]).unwrap();
    let one = df.set_index("k").unwrap();
    assert_eq!(one.npartitions(), 1);
    assert_eq!(one.divisions().unwrap().len(), 2);
    assert_eq!(one.compute().unwrap().num_rows(), 10);
}

#[test]
fn sort_errors_name_the_columns_before_anything_runs() {
    let (df, _) = random_frame(1, 10);
    let err = df.sort_values(["nope"]).compute().unwrap_err().to_string();
    assert_eq!(
        err,
        "`sort_values`: no column `nope`; the columns are: x: float64, k: int64, s: string"
    );
    let err = df.set_index("nope").unwrap_err().to_string();
    assert!(err.starts_with("`set_index`: no column `nope`"), "{err}");
    let err = df.sort_values(Vec::<String>::new()).compute().unwrap_err();
    assert_eq!(err.to_string(), "`sort_values`: no column to sort by");
}

#[test]
fn repartition_to_more_partitions_interpolates_known_divisions() {
    let df = timeseries(TimeseriesOptions {
        end: "2000-01-04".into(),
        freq: "1min".into(),
        ..Default::default()
    });
    let more = df.repartition(7);
    assert_eq!(more.npartitions(), 7);
    let div = more.divisions().expect("interpolated divisions");
    let div = div
        .as_any()
        .downcast_ref::<TimestampNanosecondArray>()
        .unwrap();
    assert_eq!(div.len(), 8);
    let d = div.values();
    assert!(d.windows(2).all(|w| w[0] < w[1]));
    let parts = dask::compute(&more.to_delayed()).unwrap();
    for (i, p) in parts.iter().enumerate() {
        assert!(p.num_rows() > 0);
        let ts = p
            .column(0)
            .as_any()
            .downcast_ref::<TimestampNanosecondArray>()
            .unwrap();
        assert!(ts.values().iter().all(|&t| t >= d[i] && t < d[i + 1]));
    }
    assert_eq!(more.compute().unwrap(), df.compute().unwrap());
}

#[test]
fn repartition_to_more_partitions_without_divisions_cuts_rows() {
    for seed in 0..6 {
        let (df, all) = random_frame(seed, 100);
        let n = df.npartitions() * 2 + 1;
        let more = df.repartition(n);
        assert_eq!(more.npartitions(), n);
        assert!(more.divisions().is_none());
        let got = more.compute().unwrap();
        // Order is kept, row for row.
        let a = concat::concat_batches(&all.schema(), [&all]).unwrap();
        assert_eq!(got, a, "seed {seed}");
    }
}
