//! `dask::dataframe` under hostile and unusual input to its operations: a dataframe of
//! no partitions, times at the edge of what `int64` nanoseconds hold, absurd sizes,
//! null-typed and uncommon column types. Each case gets the right answer or a clear
//! error: never a panic (in a task or in the caller), a hang, or a wrapped value.
#![cfg(feature = "dataframe")]

use std::sync::Arc;

use dask::dataframe::arrow::array::{
    Array, ArrayRef, Decimal128Array, Float64Array, Int64Array, NullArray, StringArray,
    TimestampNanosecondArray,
};
use dask::dataframe::arrow::compute::cast;
use dask::dataframe::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use dask::dataframe::arrow::record_batch::RecordBatch;
use dask::dataframe::{agg, col, lit, DataFrame, Expr, Lit, TruncUnit};
use dask::datasets::{timeseries, TimeseriesOptions};

/// Columns `k` (string), `i` (int64) and `x` (float64), all nullable.
fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("k", DataType::Utf8, true),
        Field::new("i", DataType::Int64, true),
        Field::new("x", DataType::Float64, true),
    ]))
}

/// One partition indexed by the datetime `t` (declared sorted), with `x` = `xs`.
fn times(t: Vec<i64>, xs: Vec<f64>) -> DataFrame {
    let schema = Arc::new(Schema::new(vec![
        Field::new("t", DataType::Timestamp(TimeUnit::Nanosecond, None), false),
        Field::new("x", DataType::Float64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(TimestampNanosecondArray::from(t)) as ArrayRef,
            Arc::new(Float64Array::from(xs)) as ArrayRef,
        ],
    )
    .unwrap();
    DataFrame::from_batches(vec![batch])
        .unwrap()
        .with_sorted_index("t")
}

fn floats(a: &ArrayRef) -> Vec<Option<f64>> {
    a.as_any()
        .downcast_ref::<Float64Array>()
        .expect("float64")
        .iter()
        .collect()
}

/// The error's text, where it is a clear error and not a caught panic.
fn error_text<T: std::fmt::Debug>(result: Result<T, dask::Error>) -> String {
    let e = result.expect_err("an error");
    assert!(
        !matches!(e, dask::Error::Panic { .. }),
        "a panic, not an error: {e:?}"
    );
    e.to_string()
}

#[test]
fn a_dataframe_of_no_partitions_reduces_as_an_empty_frame() {
    // `from_delayed(vec![], ..)` makes one; its reductions built a tree of no parts and
    // panicked in the caller (`Vec::remove(0)` of nothing). Now they give pandas'
    // answers for an empty frame: a sum of 0, a mean of NaN, no groups.
    let df = DataFrame::from_delayed(vec![], schema());
    assert_eq!(df.npartitions(), 0);
    let x = df.column("x");
    assert_eq!(x.sum().compute().unwrap(), 0.0);
    assert!(x.mean().compute().unwrap().is_nan());
    assert!(x.std().compute().unwrap().is_nan());
    assert!(x.min().compute().unwrap().is_nan());
    assert_eq!(x.count().compute().unwrap(), 0);
    assert_eq!(df.column("k").nunique().compute().unwrap(), 0);
    let counts = df.column("k").value_counts().compute().unwrap();
    assert_eq!(counts.num_rows(), 0);
    let groups = df
        .groupby(["k"])
        .agg([agg::sum("x"), agg::mean("i")])
        .compute()
        .unwrap();
    assert_eq!(groups.num_rows(), 0);
    assert_eq!(groups.num_columns(), 3);
}

#[test]
fn set_index_of_a_dataframe_of_no_partitions_is_one_empty_partition() {
    // The quantiles took the value type from the first partition's sample, of which
    // there was none: the task panicked.
    let df = DataFrame::from_delayed(vec![], schema());
    let indexed = df.set_index("i").unwrap();
    assert_eq!(indexed.npartitions(), 1);
    assert_eq!(indexed.index(), Some("i"));
    let batch = indexed.compute().unwrap();
    assert_eq!(batch.num_rows(), 0);
    assert_eq!(batch.schema().field(0).name(), "i");
}

#[test]
fn a_groupby_key_given_twice_is_refused() {
    // It made a result with two columns named `k`.
    let batch = RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef,
            Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef,
            Arc::new(Float64Array::from(vec![0.5, 1.5])) as ArrayRef,
        ],
    )
    .unwrap();
    let df = DataFrame::from_batches(vec![batch]).unwrap();
    let grouped = df.groupby(["k", "k"]).agg([agg::count("x")]);
    let why = error_text(grouped.compute());
    assert!(why.contains("key `k` is given twice"), "{why}");
}

#[test]
fn date_trunc_to_before_the_earliest_time_is_an_error_not_an_overflow() {
    // `i64::MIN` ns (1677-09-21, pandas' NaT value) rounds down to a second, month or
    // year that int64 nanoseconds cannot hold: the multiplication overflowed.
    for unit in [TruncUnit::Second, TruncUnit::Month, TruncUnit::Year] {
        let df = times(vec![i64::MIN, 0], vec![1.0, 2.0]).with_column(
            "d",
            Expr::DateTrunc {
                unit,
                expr: Box::new(col("t")),
            },
        );
        let why = error_text(df.compute());
        assert!(why.contains("before the earliest time"), "{unit}: {why}");
    }
    // Times that round within range still do.
    let day = 86_400_000_000_000i64;
    let ok = times(vec![day + 5, i64::MAX], vec![1.0, 2.0])
        .with_column(
            "d",
            Expr::DateTrunc {
                unit: TruncUnit::Day,
                expr: Box::new(col("t")),
            },
        )
        .compute()
        .unwrap();
    let d = ok
        .column(2)
        .as_any()
        .downcast_ref::<TimestampNanosecondArray>()
        .unwrap();
    assert_eq!(d.value(0), day);
    assert_eq!(d.value(1), i64::MAX / day * day);
}

#[test]
fn resample_bins_before_the_earliest_time_are_an_error_not_a_wrapped_bin() {
    // The bin start of 1677-09-21 for one day is below `i64::MIN`: it wrapped to a bin
    // in 2262, where the rows were summed.
    let df = times(vec![i64::MIN, i64::MIN + 1], vec![1.0, 1.0]);
    let why = error_text(df.resample("1D").sum().compute());
    assert!(why.contains("starts before the earliest time"), "{why}");
    // A bin longer than half the range: the bin of -9e18 wrapped to 2006.
    let df = times(vec![-9_000_000_000_000_000_000, 0], vec![1.0, 1.0]);
    let why = error_text(df.resample("100000D").sum().compute());
    assert!(why.contains("starts before the earliest time"), "{why}");
    // In range, bins are as before.
    let df = times(vec![0, 1, 1_000_000_000], vec![1.0, 2.0, 4.0]);
    let out = df.resample("1s").sum().compute().unwrap();
    assert_eq!(floats(out.column(1)), [Some(3.0), Some(4.0)]);
}

#[test]
fn time_windows_reaching_past_the_earliest_time_keep_their_rows() {
    // `t - window` below `i64::MIN` saturated to `i64::MIN`, which the window's open
    // start then excluded: a row at that time left its own window (an empty window, a
    // mean of 0) and sums lost or kept the wrong rows.
    let min = i64::MIN;
    // The sum and mean loop (float column without missing values).
    let df = times(vec![min, min + 1, 0], vec![1.0, 1.0, 1.0]);
    let mean = df.rolling("1s").mean().compute().unwrap();
    assert_eq!(floats(mean.column(1)), [Some(1.0); 3]);
    let df = times(vec![min, 0, i64::MAX], vec![1.0, 2.0, 4.0]);
    let sum = df.rolling("106000D").sum().compute().unwrap();
    assert_eq!(floats(sum.column(1)), [Some(1.0), Some(2.0), Some(4.0)]);
    // The general loop (min).
    let low = df.rolling("106000D").min().compute().unwrap();
    assert_eq!(floats(low.column(1)), [Some(1.0), Some(2.0), Some(4.0)]);
    // Across partitions: the carry kept for the next one must hold the row at `i64::MIN`.
    let first = times(vec![min, min + 1], vec![1.0, 1.0]).to_delayed();
    let second = times(vec![min + 2, 0], vec![1.0, 1.0]).to_delayed();
    let schema = times(vec![], vec![]).schema();
    let df = DataFrame::from_delayed(vec![first[0].clone(), second[0].clone()], schema)
        .with_sorted_index("t");
    let sum = df.rolling("1s").sum().compute().unwrap();
    assert_eq!(
        floats(sum.column(1)),
        [Some(1.0), Some(2.0), Some(3.0), Some(1.0)]
    );
}

#[test]
fn timeseries_with_a_step_near_the_range_of_int64_generates_its_rows() {
    // One partition of 230 years, a step of 29,000 days: `to - from + freq` overflowed
    // in the generating task.
    let df = timeseries(TimeseriesOptions {
        start: "1970-01-01".into(),
        end: "2200-01-01".into(),
        freq: "29000D".into(),
        partition_freq: "99999D".into(),
        seed: 0,
    });
    let batch = df.compute().unwrap();
    let t = batch
        .column(0)
        .as_any()
        .downcast_ref::<TimestampNanosecondArray>()
        .unwrap();
    let step = 29_000 * 86_400_000_000_000i64;
    assert_eq!(t.values().to_vec(), [0, step, 2 * step]);
}

#[test]
fn float16_nan_is_unequal_to_itself() {
    // Two float16 operands are compared as float16, where Arrow's order has NaN equal
    // to NaN; pandas has `NaN == NaN` false and `NaN != NaN` true.
    let h = cast(
        &Float64Array::from(vec![Some(f64::NAN), Some(0.5), None]),
        &DataType::Float16,
    )
    .unwrap();
    let batch = RecordBatch::try_from_iter([("h", h)]).unwrap();
    let df = DataFrame::from_batches(vec![batch]).unwrap();
    let eq = df.filter(col("h").eq(col("h"))).compute().unwrap();
    assert_eq!(eq.num_rows(), 1);
    let ne = df.filter(col("h").neq(col("h"))).compute().unwrap();
    assert_eq!(ne.num_rows(), 1);
    let ge = df.filter(col("h").gt_eq(col("h"))).compute().unwrap();
    assert_eq!(ge.num_rows(), 1);
}

#[test]
fn arithmetic_of_null_typed_operands_is_null() {
    // `null + null` types as null (a float64 column of nulls), but the task failed:
    // Arrow's kernels have no null arithmetic.
    let batch = RecordBatch::try_from_iter([
        ("n", Arc::new(NullArray::new(3)) as ArrayRef),
        (
            "x",
            Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0])) as ArrayRef,
        ),
    ])
    .unwrap();
    let df = DataFrame::from_batches(vec![batch]).unwrap();
    let out = df
        .with_column("a", col("n") + col("n"))
        .with_column("b", lit(Lit::Null) * lit(Lit::Null))
        .with_column("c", col("n") - lit(Lit::Null))
        .compute()
        .unwrap();
    for j in 2..5 {
        assert_eq!(out.column(j).data_type(), &DataType::Float64);
        assert_eq!(out.column(j).null_count(), 3, "column {j}");
    }
    // Comparisons of nulls stay null (filtered out), as before.
    let none = df.filter(col("n").eq(lit(Lit::Null))).compute().unwrap();
    assert_eq!(none.num_rows(), 0);
}

#[test]
fn decimal_columns_are_summed_and_averaged_per_group() {
    // The plan accepts `sum` and `mean` of a decimal column, but the task failed with
    // "cannot group by Decimal128".
    let d = Decimal128Array::from(vec![Some(150i128), Some(-250), None])
        .with_precision_and_scale(10, 2)
        .unwrap();
    let batch = RecordBatch::try_from_iter([
        (
            "k",
            Arc::new(StringArray::from(vec!["a", "a", "b"])) as ArrayRef,
        ),
        ("d", Arc::new(d) as ArrayRef),
    ])
    .unwrap();
    let df = DataFrame::from_batches(vec![batch]).unwrap();
    let out = df
        .groupby(["k"])
        .agg([agg::sum("d"), agg::mean("d")])
        .compute()
        .unwrap();
    assert_eq!(floats(out.column(1)), [Some(-1.0), Some(0.0)]);
    assert_eq!(floats(out.column(2)), [Some(-0.5), None]);
}

#[test]
fn split_out_pieces_beyond_the_limit_are_refused_while_building() {
    // Every partition is split into `split_out` pieces, a task each: `split_out(1 <<
    // 20)` on 30 partitions built 31 million tasks and ran out of memory.
    let df = timeseries(TimeseriesOptions {
        freq: "1h".into(),
        ..Default::default()
    })
    .repartition(1025);
    let grouped = df.groupby(["name"]).split_out(1024).agg([agg::count("x")]);
    let why = error_text(grouped.compute());
    assert!(
        why.contains("split_out 1024 over 1025 partitions asks for 1049600"),
        "{why}"
    );
    // Within the limit, it builds and runs.
    let few = timeseries(TimeseriesOptions {
        freq: "1h".into(),
        ..Default::default()
    })
    .groupby(["name"])
    .split_out(4)
    .agg([agg::count("x")]);
    assert_eq!(few.npartitions(), 4);
    assert_eq!(few.compute().unwrap().num_rows(), 26);
}

#[test]
fn impossible_window_and_size_options_are_clear_errors() {
    // Already refused while the graph is built; kept here with the rest of the hostile
    // input so that a change cannot turn one into a panic or an endless build.
    let df = times(vec![0, 1], vec![1.0, 2.0]);
    for (rule, why) in [
        ("0s", "zero length"),
        ("-1h", "unknown unit"),
        ("", "no unit"),
        ("99999999999999999999D", "count too large"),
        ("9999999999999999D", "too long"),
    ] {
        let text = error_text(df.resample(rule).mean().compute());
        assert!(text.contains(why), "{rule:?}: {text}");
        let text = error_text(df.rolling(rule).sum().compute());
        assert!(text.contains(why), "{rule:?}: {text}");
    }
    assert!(error_text(df.rolling(0).sum().compute()).contains("a window of 0 rows"));
    assert!(error_text(df.repartition(0).compute()).contains("0 partitions"));
    assert!(error_text(df.repartition(usize::MAX).compute()).contains("at most"));
    // A window longer than the data: every window is short, so null (min_periods).
    let all = df.rolling(usize::MAX).sum().compute().unwrap();
    assert_eq!(floats(all.column(1)), [None, None]);
    assert_eq!(df.head(usize::MAX).unwrap().num_rows(), 2);
    assert_eq!(df.head(0).unwrap().num_rows(), 0);
}

/// Sorting makes every output partition read every input partition: beyond 8,192
/// partitions that is refused while the graph is built (2^15 partitions would ask for a
/// billion task inputs), with what to do instead; repartitioned as advised, it sorts.
#[test]
fn sorting_too_many_partitions_is_refused_with_advice() {
    let one = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, false)])),
        vec![Arc::new(Float64Array::from(vec![1.0])) as ArrayRef],
    )
    .unwrap();
    let many = DataFrame::from_batches(vec![one.clone(); 8193]).unwrap();
    let e = many.sort_values(["x"]).compute().unwrap_err().to_string();
    assert!(
        e.contains("sort_values")
            && e.contains("sorting 8193 partitions")
            && e.contains("at most 8192")
            && e.contains("repartition"),
        "{e}"
    );
    let e = many.set_index("x").unwrap_err().to_string();
    assert!(
        e.contains("set_index") && e.contains("sorting 8193 partitions"),
        "{e}"
    );
    // Repartitioned as advised, it sorts.
    let fewer = many.repartition(16).sort_values(["x"]).compute().unwrap();
    assert_eq!(fewer.num_rows(), 8193);
}

#[test]
fn value_counts_of_a_column_named_count() {
    // The counts were named `count` too: "two output columns would be named `count`".
    // pandas names its result Series `count`, indexed by the values; here the values
    // keep the column's name and the counts are `count_count`.
    let values = Int64Array::from(vec![
        Some(3),
        Some(1),
        Some(3),
        None,
        Some(2),
        Some(3),
        Some(1),
    ]);
    let batch = RecordBatch::try_from_iter([("count", Arc::new(values) as ArrayRef)]).unwrap();
    let df = DataFrame::from_batches(vec![batch.clone(), batch]).unwrap();
    let counts = df.column("count").value_counts();
    assert_eq!(counts.index(), Some("count"));
    let out = counts.compute().unwrap();
    let names: Vec<&str> = out
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names, ["count", "count_count"]);
    let ints = |a: &ArrayRef| -> Vec<i64> {
        a.as_any()
            .downcast_ref::<Int64Array>()
            .expect("int64")
            .values()
            .to_vec()
    };
    assert_eq!(ints(out.column(0)), [3, 1, 2]);
    assert_eq!(ints(out.column(1)), [6, 4, 2]);
    assert_eq!(df.column("count").nunique().compute().unwrap(), 3);
    // Other names are as before: the counts are `count`.
    let renamed = df.rename([("count", "n")]).column("n").value_counts();
    let out = renamed.compute().unwrap();
    assert_eq!(out.schema().field(1).name(), "count");
    assert_eq!(ints(out.column(1)), [6, 4, 2]);
}
