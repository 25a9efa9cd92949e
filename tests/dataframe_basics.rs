//! `dask::dataframe`: the demo table, the lazy structure, errors found from the schema
//! before any task runs, persist, the Delayed bridge and drawing.
#![cfg(feature = "dataframe")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use dask::dataframe::arrow::array::{
    Array, Float64Array, Int64Array, StringArray, TimestampNanosecondArray,
};
use dask::dataframe::arrow::datatypes::{DataType, Field, Schema};
use dask::dataframe::arrow::record_batch::RecordBatch;
use dask::dataframe::{agg, col, lit, DataFrame};
use dask::datasets::{timeseries, TimeseriesOptions};

fn small(seed: u64) -> DataFrame {
    // Three days, one row per minute: 3 x 1440 rows.
    timeseries(TimeseriesOptions {
        start: "2000-01-01".into(),
        end: "2000-01-04".into(),
        freq: "1min".into(),
        partition_freq: "1D".into(),
        seed,
    })
}

#[test]
fn demo_table_has_dasks_shape_and_divisions() {
    let df = timeseries(Default::default());
    assert_eq!(df.npartitions(), 30);
    assert_eq!(df.index(), Some("timestamp"));
    assert_eq!(df.columns(), ["name", "id", "x", "y"]);
    let dtypes: Vec<String> = df.dtypes().into_iter().map(|(_, t)| t).collect();
    assert_eq!(dtypes, ["string", "int64", "float64", "float64"]);
    let div = df.divisions().expect("known divisions");
    let div = div
        .as_any()
        .downcast_ref::<TimestampNanosecondArray>()
        .unwrap();
    assert_eq!(div.len(), 31);
    let day = 86_400_000_000_000i64;
    assert_eq!(div.value(0), 946_684_800_000_000_000); // 2000-01-01
    assert_eq!(div.value(30), 946_684_800_000_000_000 + 30 * day); // 2000-01-31
    assert_eq!(df.len().compute().unwrap(), 30 * 86_400);

    let head = df.head(3).unwrap();
    assert_eq!(head.num_rows(), 3);
    let ts = head
        .column(0)
        .as_any()
        .downcast_ref::<TimestampNanosecondArray>()
        .unwrap();
    assert_eq!(ts.value(1) - ts.value(0), 1_000_000_000);
    let x = head
        .column(3)
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    assert!(x.values().iter().all(|v| (-1.0..1.0).contains(v)));
}

#[test]
fn structure_prints_as_dask_does() {
    let text = timeseries(Default::default()).to_string();
    let expected = "\
Dask DataFrame Structure:
                  name     id        x        y
npartitions=30
2000-01-01      string  int64  float64  float64
2000-01-02         ...    ...      ...      ...
...                ...    ...      ...      ...
2000-01-30         ...    ...      ...      ...
2000-01-31         ...    ...      ...      ...
Dask Name: make-timeseries, 1 expression";
    assert_eq!(text, expected);
    let filtered = small(0).filter(col("y").gt(lit(0.0))).select(["name", "x"]);
    assert!(filtered
        .to_string()
        .ends_with("Dask Name: select, 3 expressions"));
    assert!(filtered.to_string().contains("name        x"));
}

#[test]
fn demo_table_is_deterministic_per_seed_and_plausible() {
    let a = small(7).compute().unwrap();
    let b = small(7).compute().unwrap();
    let c = small(8).compute().unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.num_rows(), 3 * 1440);
    let names = a.column(1).as_any().downcast_ref::<StringArray>().unwrap();
    let distinct: std::collections::BTreeSet<&str> = names.iter().flatten().collect();
    assert_eq!(distinct.len(), 26);
    let ids = a.column(2).as_any().downcast_ref::<Int64Array>().unwrap();
    let mean = ids.values().iter().sum::<i64>() as f64 / ids.len() as f64;
    assert!((mean - 1000.0).abs() < 5.0, "{mean}");
}

#[test]
fn the_lectures_queries_run() {
    let df = small(1);
    let sd = df
        .filter(col("y").gt(lit(0.0)))
        .select(["name", "x"])
        .column("x")
        .std();
    let by_name = df.groupby(["name"]).agg([agg::sum("x"), agg::max("y")]);
    let (sd, table) = dask::compute((&sd, &by_name)).unwrap();
    // x is uniform in [-1, 1): std 1/sqrt(3).
    assert!((sd - 0.577).abs() < 0.02, "{sd}");
    assert_eq!(table.num_rows(), 26);
    assert_eq!(table.schema().field(0).name(), "name");
    let names = table
        .column(0)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert_eq!(names.value(0), "Alice");
    assert_eq!(names.value(25), "Zelda");
    let text = dask::dataframe::pretty(&table);
    let header: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["name", "x", "y"], "{text}");
    assert_eq!(text.lines().count(), 27);
}

/// Partitions whose tasks count their runs.
#[test]
fn cells_and_column_names_wider_than_a_format_width_print() {
    // `format!` widths stop at 65,535: padding to such a width panicked.
    let wide = "w".repeat(70_000);
    let schema = Arc::new(Schema::new(vec![Field::new(&wide, DataType::Utf8, true)]));
    let batch = RecordBatch::try_new(
        schema,
        vec![Arc::new(StringArray::from(vec![wide.as_str(), "ab"]))],
    )
    .unwrap();
    let text = dask::dataframe::pretty(&batch);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0], format!("   {wide}"));
    assert_eq!(lines[1], format!("0  {wide}"));
    assert_eq!(lines[2], format!("1  {}ab", " ".repeat(70_000 - 2)));
    let df = DataFrame::from_batches(vec![batch]).unwrap();
    assert!(df.to_string().contains(&wide));
}

fn counted(runs: &'static AtomicUsize) -> DataFrame {
    let schema = Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, true),
        Field::new("x", DataType::Float64, true),
    ]));
    let parts = (0..3)
        .map(|i| {
            let schema = schema.clone();
            dask::delayed(i).map(move |i| {
                runs.fetch_add(1, Ordering::SeqCst);
                RecordBatch::try_new(
                    schema.clone(),
                    vec![
                        Arc::new(StringArray::from(vec!["a", "b"])),
                        Arc::new(Float64Array::from(vec![*i as f64, 1.0])),
                    ],
                )
                .unwrap()
            })
        })
        .collect();
    DataFrame::from_delayed(parts, schema)
}

#[test]
fn an_unknown_column_is_an_error_before_any_task_runs() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let df = counted(&RUNS);
    let bad = df.filter(col("z").gt(lit(0.0))).select(["x"]);
    let err = bad.compute().unwrap_err().to_string();
    assert_eq!(
        err,
        "`filter`: no column `z`; the columns are: name: string, x: float64"
    );
    assert!(bad.head(1).is_err());
    assert!(bad.persist().is_err());
    let err = df.column("nope").sum().compute().unwrap_err().to_string();
    assert!(err.starts_with("`select`: no column `nope`"), "{err}");
    let err = df
        .groupby(["k"])
        .agg([agg::sum("x")])
        .compute()
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("`groupby`: no column `k`"), "{err}");
    // A Series reduction of an invalid frame fails a shared compute too.
    let ok = df.column("x").sum();
    let err = dask::compute((&ok, &bad.column("x").sum()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no column `z`"), "{err}");
    assert_eq!(RUNS.load(Ordering::SeqCst), 0);
}

/// `x + 1 + 1 + ...`, `additions` times: nested `additions + 1` levels deep.
fn deep_sum(additions: usize) -> dask::dataframe::Expr {
    (0..additions).fold(col("x"), |e, _| e + lit(1.0))
}

#[test]
fn an_expression_nested_too_deeply_is_an_error_not_a_stack_overflow() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    // 15,000 levels overflowed the main thread's stack while the expression was typed.
    for additions in [150, 15_000] {
        let df = counted(&RUNS);
        let err = df
            .with_column("y", deep_sum(additions))
            .compute()
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "`with_column`: the expression is nested 151 or more levels deep; at most 150 \
             are allowed (fold long sums into a tree)"
        );
        let err = df
            .filter(deep_sum(additions).gt(lit(0.0)))
            .compute()
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("`filter`: the expression is nested"),
            "{err}"
        );
    }
    assert_eq!(RUNS.load(Ordering::SeqCst), 0);
    // At the limit it is typed, printed and evaluated on a thread with Rust's default
    // 2 MiB stack, with the sequential scheduler (on that thread) and with a pool.
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            let df = counted(&RUNS).with_column("y", deep_sum(149));
            assert!(df.to_string().contains('y'));
            for scheduler in [dask::Scheduler::Sync, dask::Scheduler::Threads(2)] {
                let config = dask::Config::default().scheduler(scheduler);
                let batch = df.compute_with(&config).unwrap();
                let y = batch
                    .column_by_name("y")
                    .unwrap()
                    .as_any()
                    .downcast_ref::<Float64Array>()
                    .unwrap();
                assert_eq!(y.value(0), 149.0);
                assert_eq!(y.value(1), 150.0);
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

/// Rows of `df` where `predicate` holds.
fn rows_where(df: &DataFrame, predicate: dask::dataframe::Expr) -> usize {
    df.filter(predicate).compute().unwrap().num_rows()
}

#[test]
fn comparisons_with_nan_are_false_except_not_equal_as_in_pandas() {
    // Arrow orders NaN above every number and equal to itself: `x > 100` and `x == x`
    // kept the NaN row.
    let x = Float64Array::from(vec![Some(1.0), None, Some(3.0), Some(f64::NAN), Some(-2.0)]);
    let batch = RecordBatch::try_from_iter([("x", Arc::new(x) as _)]).unwrap();
    let df = DataFrame::from_batches(vec![batch.clone(), batch]).unwrap();
    assert_eq!(rows_where(&df, col("x").gt(lit(100.0))), 0);
    assert_eq!(rows_where(&df, col("x").lt(lit(100.0))), 6);
    assert_eq!(rows_where(&df, col("x").eq(col("x"))), 6);
    assert_eq!(rows_where(&df, col("x").gt_eq(col("x"))), 6);
    // NaN != anything holds; a null stays null and is filtered out.
    assert_eq!(rows_where(&df, col("x").neq(col("x"))), 2);
    assert_eq!(rows_where(&df, col("x").neq(lit(1.0))), 6);
    assert_eq!(rows_where(&df, lit(f64::NAN).lt(col("x"))), 0);
}

#[test]
fn unsigned_64_bit_columns_keep_their_large_values_beside_integer_literals() {
    // Brought to int64, values above i64::MAX became nulls: `u > 0` dropped them.
    let u = dask::dataframe::arrow::array::UInt64Array::from(vec![u64::MAX, 1, 0]);
    let batch = RecordBatch::try_from_iter([("u", Arc::new(u) as _)]).unwrap();
    let df = DataFrame::from_batches(vec![batch.clone(), batch]).unwrap();
    assert_eq!(rows_where(&df, col("u").gt(lit(0))), 4);
    assert_eq!(rows_where(&df, lit(0).lt(col("u"))), 4);
    assert_eq!(rows_where(&df, col("u").eq(lit(i64::MAX))), 0);
    let out = df.with_column("v", col("u") - lit(1)).compute().unwrap();
    let v = out.column_by_name("v").unwrap();
    assert_eq!(v.data_type(), &DataType::UInt64);
    let v = v
        .as_any()
        .downcast_ref::<dask::dataframe::arrow::array::UInt64Array>()
        .unwrap();
    assert_eq!(
        v.values().to_vec(),
        [u64::MAX - 1, 0, u64::MAX, u64::MAX - 1, 0, u64::MAX]
    );
    // Beside a negative number there is no common integer type: an error, not nulls.
    let err = df
        .with_column("w", col("u") + lit(-1))
        .compute()
        .unwrap_err()
        .to_string();
    assert!(err.contains("18446744073709551615"), "{err}");
}

#[test]
fn a_type_mismatch_is_an_error_naming_the_operation() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let df = counted(&RUNS);
    let err = df
        .with_column("w", col("name") + lit(1))
        .compute()
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "`with_column`: `+` between string and int64 in `(name + 1)`; the columns are: name: string, x: float64"
    );
    let err = df.filter(col("x")).compute().unwrap_err().to_string();
    assert!(
        err.starts_with("`filter`: the predicate is float64, not bool"),
        "{err}"
    );
    let err = df.column("name").std().compute().unwrap_err().to_string();
    assert!(
        err.starts_with("`std`: cannot reduce a string column"),
        "{err}"
    );
    let err = df
        .groupby(["name"])
        .agg([agg::mean("name")])
        .compute()
        .unwrap_err()
        .to_string();
    assert!(err.contains("`mean` of a string column"), "{err}");
    let err = df
        .rename([("x", "name")])
        .compute()
        .unwrap_err()
        .to_string();
    assert!(err.contains("two columns would be named `name`"), "{err}");
    assert_eq!(RUNS.load(Ordering::SeqCst), 0);
}

#[test]
fn bad_options_and_empty_input_are_errors() {
    let df = timeseries(TimeseriesOptions {
        freq: "1 parsec".into(),
        ..Default::default()
    });
    let err = df.compute().unwrap_err().to_string();
    assert!(err.contains("unknown unit"), "{err}");
    let df = timeseries(TimeseriesOptions {
        end: "1999-01-01".into(),
        ..Default::default()
    });
    assert!(df
        .compute()
        .unwrap_err()
        .to_string()
        .contains("is not after start"));
    assert!(DataFrame::from_batches(vec![]).is_err());
}

#[test]
fn a_partition_of_the_wrong_schema_fails_its_task() {
    let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)]));
    let wrong =
        RecordBatch::try_from_iter([("y", Arc::new(Int64Array::from(vec![1])) as _)]).unwrap();
    let df = DataFrame::from_delayed(vec![dask::delayed(wrong)], schema);
    let err = df.compute().unwrap_err().to_string();
    assert!(
        err.contains(
            "from_delayed: a partition has columns y: int64, the schema given has x: float64"
        ),
        "{err}"
    );
}

#[test]
fn persist_holds_partitions_and_queries_reuse_them() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let df = counted(&RUNS)
        .with_column("x2", col("x") * lit(2.0))
        .persist()
        .unwrap();
    assert_eq!(RUNS.load(Ordering::SeqCst), 3);
    assert_eq!(
        df.column("x2").sum().compute().unwrap(),
        2.0 * (0.0 + 1.0 + 2.0 + 3.0)
    );
    assert_eq!(df.len().compute().unwrap(), 6);
    assert_eq!(
        df.groupby(["name"])
            .agg([agg::count("x")])
            .compute()
            .unwrap()
            .num_rows(),
        2
    );
    assert_eq!(RUNS.load(Ordering::SeqCst), 3);
}

#[test]
fn head_computes_only_the_partitions_it_needs() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let df = counted(&RUNS);
    assert_eq!(df.head(2).unwrap().num_rows(), 2);
    assert_eq!(RUNS.load(Ordering::SeqCst), 1);
    assert_eq!(df.head(3).unwrap().num_rows(), 3);
    assert_eq!(RUNS.load(Ordering::SeqCst), 3);
}

#[dask::delayed]
fn double_x(batch: RecordBatch) -> RecordBatch {
    let x = batch
        .column(1)
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    let doubled: Float64Array = x.iter().map(|v| v.map(|v| v * 2.0)).collect();
    RecordBatch::try_new(
        batch.schema(),
        vec![batch.column(0).clone(), Arc::new(doubled)],
    )
    .unwrap()
}

#[test]
fn partitions_go_through_delayed_functions_and_back() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let df = counted(&RUNS);
    let parts: Vec<_> = df.to_delayed().into_iter().map(double_x).collect();
    let back = DataFrame::from_delayed(parts, df.schema());
    let total = back.column("x").sum();
    let plain = dask::delayed(1.5);
    let (total, plain, table) = dask::compute((&total, &plain, &back)).unwrap();
    assert_eq!(total, 12.0);
    assert_eq!(plain, 1.5);
    assert_eq!(table.num_rows(), 6);
    // One graph: each source partition ran once although two outputs read it.
    assert_eq!(RUNS.load(Ordering::SeqCst), 3);
}

#[test]
fn row_wise_chains_fuse_into_one_task_per_partition() {
    let df = small(2)
        .filter(col("y").gt(lit(0.0)))
        .with_column("z", col("x") * lit(2.0))
        .select(["name", "z"]);
    let graph = dask::graph(&df.to_delayed());
    // 3 generating tasks + 3 fused ones.
    assert_eq!(graph.len(), 6);
    // Built twice, the same keys: one node each.
    let again = small(2)
        .filter(col("y").gt(lit(0.0)))
        .with_column("z", col("x") * lit(2.0))
        .select(["name", "z"]);
    assert_eq!(df.to_delayed()[0].key(), again.to_delayed()[0].key());
    let dir = std::env::temp_dir().join(format!("dask-df-viz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("groupby.svg");
    small(2)
        .groupby(["name"])
        .agg([agg::mean("x")])
        .visualize(&path)
        .unwrap();
    assert!(std::fs::read_to_string(&path).unwrap().contains("<svg"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn groupby_std_is_stable_for_values_around_1e9() {
    // Per group, 1e9 + 0..n: std sqrt(n (n + 1) / 12) exactly. The naive sum of squares
    // loses every digit here (dask#5725).
    let n = 1000usize;
    let batches: Vec<RecordBatch> = (0..7)
        .map(|p| {
            let rows: Vec<usize> = (0..n * 2).filter(|i| i % 7 == p).collect();
            let keys: Vec<&str> = rows
                .iter()
                .map(|i| if i % 2 == 0 { "a" } else { "b" })
                .collect();
            let values: Vec<f64> = rows.iter().map(|i| 1e9 + (i / 2) as f64).collect();
            RecordBatch::try_from_iter([
                ("k", Arc::new(StringArray::from(keys)) as _),
                ("v", Arc::new(Float64Array::from(values)) as _),
            ])
            .unwrap()
        })
        .collect();
    let df = DataFrame::from_batches(batches).unwrap();
    let out = df
        .groupby(["k"])
        .agg([agg::std("v"), agg::mean("v").alias("m")])
        .compute()
        .unwrap();
    let std = out
        .column(1)
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    let exact = ((n * (n + 1)) as f64 / 12.0).sqrt();
    for g in 0..2 {
        assert!(
            (std.value(g) - exact).abs() < 1e-6 * exact,
            "{} vs {exact}",
            std.value(g)
        );
    }
    let series = df.column("v").std().compute().unwrap();
    let all = (0..n)
        .flat_map(|i| [i as f64, i as f64])
        .collect::<Vec<_>>();
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    let exact =
        (all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (all.len() - 1) as f64).sqrt();
    assert!((series - exact).abs() < 1e-6 * exact, "{series} vs {exact}");
}

#[cfg(feature = "array")]
#[test]
fn a_series_an_array_and_a_delayed_value_compute_as_one_graph() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let df = counted(&RUNS);
    let s = df.column("x").sum();
    let a = dask::array::ones(4, 2).sum();
    let both = s.map2(&a, |s, a| s + a);
    let (s, a, both) = dask::compute((&s, &a, &both)).unwrap();
    assert_eq!((s, a, both), (6.0, 4.0, 10.0));
    // The series' partitions ran once, though two outputs read them.
    assert_eq!(RUNS.load(Ordering::SeqCst), 3);
}

#[test]
fn repartition_merges_neighbours_and_keeps_divisions() {
    let df = timeseries(Default::default()).repartition(7);
    assert_eq!(df.npartitions(), 7);
    let div = df.divisions().unwrap();
    let div = div
        .as_any()
        .downcast_ref::<TimestampNanosecondArray>()
        .unwrap();
    let day = 86_400_000_000_000i64;
    let jan1 = 946_684_800_000_000_000i64;
    let want: Vec<i64> = (0..=7).map(|i| jan1 + (i * 30 / 7) as i64 * day).collect();
    assert_eq!(div.values().to_vec(), want);
    let small3 = small(4);
    assert_eq!(
        small3.repartition(1).compute().unwrap(),
        small3.compute().unwrap()
    );
    let err = small3.repartition(0).compute().unwrap_err().to_string();
    assert_eq!(err, "`repartition`: 0 partitions from 3: at least 1");
}

#[test]
fn nan_is_missing_in_reductions_and_groupby_as_in_pandas() {
    let batch = |k: Vec<Option<f64>>, x: Vec<Option<f64>>| {
        RecordBatch::try_from_iter([
            ("k", Arc::new(Float64Array::from(k)) as _),
            ("x", Arc::new(Float64Array::from(x)) as _),
        ])
        .unwrap()
    };
    let nan = f64::NAN;
    let df = DataFrame::from_batches(vec![
        batch(vec![Some(1.0), Some(nan)], vec![Some(nan), Some(5.0)]),
        batch(vec![], vec![]),
        batch(
            vec![Some(1.0), None, Some(2.0)],
            vec![Some(2.0), Some(7.0), Some(nan)],
        ),
    ])
    .unwrap();
    // pandas: x = [NaN, 5, 2, 7, NaN] -> sum 14, mean 14/3, count 3, min 2, max 7.
    let x = df.column("x");
    let (sum, mean, count, min, max, std) = dask::compute((
        &x.sum(),
        &x.mean(),
        &x.count(),
        &x.min(),
        &x.max(),
        &x.std(),
    ))
    .unwrap();
    assert_eq!((sum, count, min, max), (14.0, 3, 2.0, 7.0));
    assert!((mean - 14.0 / 3.0).abs() < 1e-12);
    assert!((std - 2.516611478423583).abs() < 1e-12, "{std}");
    // Groups: NaN and null keys are dropped (dropna); NaN values are skipped.
    let g = df
        .groupby(["k"])
        .agg([
            agg::sum("x"),
            agg::count("x").alias("n"),
            agg::first("x").alias("f"),
        ])
        .compute()
        .unwrap();
    let col = |i: usize| -> Vec<Option<f64>> {
        let c =
            dask::dataframe::arrow::compute::cast::cast(g.column(i), &DataType::Float64).unwrap();
        c.as_any()
            .downcast_ref::<Float64Array>()
            .unwrap()
            .iter()
            .collect()
    };
    assert_eq!(col(0), [Some(1.0), Some(2.0)]);
    // Key 1: x = [NaN, 2] -> sum 2, count 1, first 2. Key 2: x = [NaN] -> sum 0, count 0.
    assert_eq!(col(1), [Some(2.0), Some(0.0)]);
    assert_eq!(col(2), [Some(1.0), Some(0.0)]);
    assert_eq!(col(3), [Some(2.0), None]);
}

#[test]
fn explain_describes_the_lazy_plan_and_returns_schema_errors() {
    let df = small(1);
    let pending = df
        .filter(col("y").gt(lit(0.0)))
        .select(["name", "x"])
        .explain()
        .unwrap();
    assert!(
        pending.starts_with("DataFrame: 3 partitions, index `timestamp`, divisions known\n"),
        "{pending}"
    );
    assert!(pending.contains("columns: timestamp: datetime64[ns], name: string, x: float64"));
    assert!(pending.contains(
        "pending row-wise steps, fused into one task per partition:\n  filter (y > 0.0)\n  select name, x\n"
    ), "{pending}");
    // The steps run as one task per partition: `select`, 3 of them, over the 3 sources.
    assert!(
        pending.contains(
            "graph: 6 tasks, by stage in order:\n  make-timeseries: 3 tasks\n  select: 3 tasks\n"
        ),
        "{pending}"
    );
    // The lecture's groupby over 30 partitions: chunks, a 2-level combine tree, one root.
    let by_name = timeseries(TimeseriesOptions {
        freq: "1h".into(),
        ..Default::default()
    })
    .groupby(["name"])
    .agg([agg::sum("x"), agg::max("y")]);
    let plan = by_name.explain().unwrap();
    assert!(plan.starts_with("DataFrame: 1 partition, index `name`, divisions unknown"));
    assert!(plan.contains("pending row-wise steps: none"));
    assert!(plan.contains("  groupby-chunk: 30 tasks\n  groupby-combine: 5 tasks, a tree of 2 levels\n  groupby-aggregate: 1 task\n"), "{plan}");
    // Persisted partitions are values, not tasks.
    let held = small(2).persist().unwrap().explain().unwrap();
    assert!(held.contains("3 values (held in memory)"), "{held}");
    // A schema error comes out before anything runs, with the columns that exist.
    let err = df.select(["nope"]).explain().unwrap_err().to_string();
    assert_eq!(
        err,
        "`select`: no column `nope`; the columns are: timestamp: datetime64[ns], name: string, id: int64, x: float64, y: float64"
    );
}

/// Absurd partition counts and partition sizes are errors found while the graph is
/// built: before, `repartition(usize::MAX)` and `split_out(usize::MAX)` panicked with
/// "capacity overflow", a `timeseries` with `freq: "1ns"` aborted the process on a
/// 3.6 PB allocation, and `partition_freq: "1ns"` built partitions forever.
#[test]
fn absurd_partition_counts_and_sizes_are_errors() {
    let message = |r: Result<usize, dask::Error>| match r {
        Err(e @ dask::Error::DataFrame(_)) => e.to_string(),
        other => panic!("expected a dataframe error, got {other:?}"),
    };
    let opts = |freq: &str, partition_freq: &str| TimeseriesOptions {
        start: "2000-01-01".into(),
        end: "2001-01-01".into(),
        freq: freq.into(),
        partition_freq: partition_freq.into(),
        ..Default::default()
    };
    assert_eq!(
        message(small(1).repartition(usize::MAX).len().compute()),
        "`repartition`: asked for 18446744073709551615 partitions; at most 1048576 are allowed"
    );
    // 2^24 partitions of six rows took 13.5 GB and 96 s before this limit.
    assert_eq!(
        message(small(1).repartition((1 << 20) + 1).len().compute()),
        "`repartition`: asked for 1048577 partitions; at most 1048576 are allowed"
    );
    assert_eq!(
        message(
            small(1)
                .groupby(["name"])
                .split_out(usize::MAX)
                .agg([agg::sum("x")])
                .len()
                .compute()
        ),
        "`groupby`: split_out asks for 18446744073709551615 partitions; at most 1048576 are allowed"
    );
    assert_eq!(
        message(timeseries(opts("1s", "1ns")).len().compute()),
        "`timeseries`: partition_freq \"1ns\" makes 31622400000000000 partitions; at most 1048576 are allowed"
    );
    assert_eq!(
        message(timeseries(opts("1ns", "1d")).len().compute()),
        "`timeseries`: one partition of 86400000000000 rows (partition_freq \"1d\", freq \"1ns\") \
         would take about 3628800000000000 bytes; at most 17179869184 are allowed: use a shorter \
         partition_freq or a longer freq"
    );
    // At the limits' other side things still work: many partitions, and split_out(0)
    // counting as 1 as documented.
    assert_eq!(
        small(1).repartition(500).len().compute().unwrap(),
        small(1).len().compute().unwrap()
    );
    assert_eq!(
        small(1)
            .groupby(["name"])
            .split_out(0)
            .agg([agg::sum("x")])
            .npartitions(),
        1
    );
}

#[test]
fn an_expressions_columns_come_in_order_of_appearance_at_any_depth() {
    let e = (col("a") + col("b"))
        .gt(col("c"))
        .and(col("a").is_null().not());
    assert_eq!(e.columns(), ["a", "b", "c", "a"]);
    // Walked without recursion: deeper than any thread's stack allows recursing.
    let deep = deep_sum(200_000) + col("z");
    let columns = deep.columns();
    assert_eq!(columns.first(), Some(&"x"));
    assert_eq!(columns.last(), Some(&"z"));
    assert_eq!(columns.len(), 2);
    // Dropping so deep an expression recurses through its boxes; let it go on a
    // thread with room for that.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || drop(deep))
        .unwrap()
        .join()
        .unwrap();
}

/// Two partitions of `a` (int64) and `x` (float64), 3 and 2 rows, no index.
fn two_columns() -> DataFrame {
    let batch = |a: Vec<i64>| {
        let x: Vec<f64> = a.iter().map(|&v| v as f64 / 2.0).collect();
        RecordBatch::try_from_iter([
            ("a", Arc::new(Int64Array::from(a)) as _),
            ("x", Arc::new(Float64Array::from(x)) as _),
        ])
        .unwrap()
    };
    DataFrame::from_batches(vec![batch(vec![1, 2, 3]), batch(vec![4, 5])]).unwrap()
}

#[test]
fn dropping_every_column_keeps_the_row_count_as_pandas_does() {
    // Valid when built, then every task failed: a batch of no columns needs its row
    // count given. pandas' `df.drop(columns=["a", "x"])` is an empty-columns frame of
    // the same length.
    let df = two_columns();
    for none in [df.drop(["a", "x"]), df.select(Vec::<String>::new())] {
        assert_eq!(none.error(), None);
        assert!(none.columns().is_empty());
        assert_eq!(none.len().compute().unwrap(), 5);
        let all = none.compute().unwrap();
        assert_eq!((all.num_rows(), all.num_columns()), (5, 0));
        let head = none.head(4).unwrap();
        assert_eq!((head.num_rows(), head.num_columns()), (4, 0));
        assert_eq!(none.persist().unwrap().len().compute().unwrap(), 5);
        assert_eq!(none.filter(lit(true)).len().compute().unwrap(), 5);
        assert_eq!(none.repartition(1).len().compute().unwrap(), 5);
        assert_eq!(none.repartition(4).len().compute().unwrap(), 5);
        assert_eq!(
            dask::dataframe::pretty(&all),
            "Empty DataFrame\nColumns: []\nIndex: [0, 1, 2, 3, 4]\n"
        );
        // A column added back gets one value per row.
        let k = none.with_column("k", lit(7i64)).compute().unwrap();
        assert_eq!(k.num_rows(), 5);
        let k = k.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        assert_eq!(k.values().to_vec(), [7; 5]);
        // What needs a column still says so before anything runs.
        let err = none.column("a").sum().compute().unwrap_err().to_string();
        assert!(err.contains("no column `a`"), "{err}");
    }
    // In-memory batches of no columns (as `to_delayed` gives them) come back too.
    let parts = df.drop(["a", "x"]).to_delayed();
    let back = DataFrame::from_delayed(parts, Arc::new(Schema::empty()));
    assert_eq!(back.len().compute().unwrap(), 5);
    let batches = dask::compute(&df.drop(["a", "x"]).to_delayed()).unwrap();
    let again = DataFrame::from_batches(batches).unwrap();
    assert_eq!(again.compute().unwrap().num_rows(), 5);
}

#[test]
fn batches_naming_two_columns_alike_are_refused() {
    // Accepted, a lookup by name found only the first of the two.
    let batch = RecordBatch::try_from_iter([
        ("a", Arc::new(Int64Array::from(vec![1])) as _),
        ("b", Arc::new(Int64Array::from(vec![2])) as _),
        ("a", Arc::new(Float64Array::from(vec![3.0])) as _),
    ])
    .unwrap();
    let err = DataFrame::from_batches(vec![batch.clone()]).unwrap_err();
    let why = "columns 0 and 2 are both named `a`; a dataframe's column names must be unique";
    assert_eq!(err.to_string(), format!("`from_batches`: {why}"));
    let df = DataFrame::from_delayed(vec![dask::delayed(batch.clone())], batch.schema());
    assert_eq!(
        df.compute().unwrap_err().to_string(),
        format!("`from_delayed`: {why}")
    );
}
