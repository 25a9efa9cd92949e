//! `dask::dataframe` CSV and Parquet: round trips (types, nulls, unicode names, an empty
//! partition), the lecture's groupby on the files read back, and bad input.
#![cfg(feature = "dataframe")]

use std::path::PathBuf;
use std::sync::Arc;

use dask::dataframe::arrow::array::{
    Array, Float64Array, Int64Array, StringArray, TimestampNanosecondArray,
};
use dask::dataframe::arrow::datatypes::{DataType, TimeUnit};
use dask::dataframe::arrow::record_batch::RecordBatch;
use dask::dataframe::{agg, read_csv, read_csv_with, read_parquet, CsvOptions, DataFrame};
use dask::datasets::{timeseries, TimeseriesOptions};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dask-df-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn mixed() -> DataFrame {
    let batch = |names: Vec<Option<&str>>, ids: Vec<Option<i64>>, xs: Vec<Option<f64>>| {
        RecordBatch::try_from_iter([
            ("name", Arc::new(StringArray::from(names)) as _),
            ("id", Arc::new(Int64Array::from(ids)) as _),
            ("x", Arc::new(Float64Array::from(xs)) as _),
        ])
        .unwrap()
    };
    DataFrame::from_batches(vec![
        batch(
            vec![Some("Zoë"), Some("北京"), None],
            vec![Some(1), None, Some(3)],
            vec![Some(0.1), Some(-2.5e-7), None],
        ),
        batch(vec![], vec![], vec![]),
        batch(vec![Some("Ann")], vec![Some(-4)], vec![Some(1e300)]),
    ])
    .unwrap()
}

#[test]
fn csv_round_trip_keeps_values_nulls_and_partitions() {
    let dir = scratch("csv");
    let df = mixed();
    let paths = df.to_csv(&dir.join("*.csv").to_string_lossy()).unwrap();
    assert_eq!(paths.len(), 3);
    assert!(std::fs::read_dir(&dir).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with('.')));
    let back = read_csv(&dir.join("*.csv").to_string_lossy()).unwrap();
    assert_eq!(back.npartitions(), 3);
    let types: Vec<DataType> = back
        .schema()
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    assert_eq!(types, [DataType::Utf8, DataType::Int64, DataType::Float64]);
    let (a, b) = (df.compute().unwrap(), back.compute().unwrap());
    for c in 0..3 {
        assert_eq!(a.column(c).as_ref(), b.column(c).as_ref(), "column {c}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_demo_tables_groupby_is_the_same_after_csv_and_parquet() {
    let dir = scratch("demo");
    let df = timeseries(TimeseriesOptions {
        end: "2000-01-03".into(),
        freq: "10s".into(),
        ..Default::default()
    });
    let q = |df: &DataFrame| {
        df.groupby(["name"])
            .agg([agg::sum("x"), agg::max("y"), agg::count("id")])
            .compute()
            .unwrap()
    };
    let want = q(&df);
    let names = ["2000-01-01", "2000-01-02"];
    df.to_csv_with(&dir.join("csv").join("*.csv").to_string_lossy(), |i| {
        names[i].to_string()
    })
    .unwrap();
    assert!(dir.join("csv/2000-01-02.csv").is_file());
    let from_csv = read_csv(&dir.join("csv/*.csv").to_string_lossy()).unwrap();
    assert_eq!(from_csv.schema().field(0).name(), "timestamp");
    assert!(
        matches!(
            from_csv.schema().field(0).data_type(),
            DataType::Timestamp(..)
        ),
        "{:?}",
        from_csv.schema()
    );
    assert_eq!(q(&from_csv), want);
    df.to_parquet(dir.join("pq")).unwrap();
    let from_pq = read_parquet(dir.join("pq")).unwrap();
    assert_eq!(from_pq.npartitions(), 2);
    // The index survives, and the files' statistics give the divisions: each file's
    // first timestamp, then the last one.
    assert_eq!(from_pq.index(), Some("timestamp"));
    let div = from_pq.divisions().expect("divisions from statistics");
    let div = div
        .as_any()
        .downcast_ref::<TimestampNanosecondArray>()
        .unwrap();
    let day = 86_400 * 1_000_000_000i64;
    let jan1 = 946_684_800 * 1_000_000_000i64;
    assert_eq!(
        div.values().to_vec(),
        vec![jan1, jan1 + day, jan1 + 2 * day - 10 * 1_000_000_000]
    );
    assert!(
        from_pq.to_string().contains("2000-01-02T23:59:50"),
        "{from_pq}"
    );
    assert_eq!(q(&from_pq), want);
    assert_eq!(from_pq.compute().unwrap(), df.compute().unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn parquet_round_trip_keeps_types_nulls_and_an_empty_partition() {
    let dir = scratch("pq");
    let df = mixed();
    df.to_parquet(&dir).unwrap();
    let back = read_parquet(&dir).unwrap();
    assert_eq!(back.npartitions(), 3);
    assert_eq!(back.compute().unwrap(), df.compute().unwrap());
    let one = read_parquet(dir.join("part.2.parquet")).unwrap();
    assert_eq!(one.compute().unwrap().num_rows(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_csv_cell_names_file_line_column_and_the_override() {
    let dir = scratch("badcsv");
    std::fs::write(dir.join("0.csv"), "name,x\nAnn,1.5\nBob,2\n").unwrap();
    std::fs::write(dir.join("1.csv"), "name,x\nCid,3\nDee,oops\n").unwrap();
    let df = read_csv(&dir.join("*.csv").to_string_lossy()).unwrap();
    let err = df.column("x").sum().compute().unwrap_err().to_string();
    assert!(err.contains("1.csv"), "{err}");
    assert!(
        err.contains("'oops'") && err.contains("at line 3 of the file"),
        "{err}"
    );
    assert!(err.contains("column `x`"), "{err}");
    assert!(err.contains("dtype"), "{err}");
    // The override reads it.
    let df = read_csv_with(
        &dir.join("*.csv").to_string_lossy(),
        CsvOptions {
            dtype: vec![("x".into(), DataType::Utf8)],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(df.compute().unwrap().num_rows(), 4);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The values of column `name` as text (nulls as `<NA>`).
fn column_text(batch: &RecordBatch, name: &str) -> Vec<String> {
    let column = batch.column_by_name(name).unwrap();
    let text = dask::dataframe::arrow::compute::cast(column, &DataType::Utf8).unwrap();
    let text = text.as_any().downcast_ref::<StringArray>().unwrap();
    text.iter()
        .map(|v| v.map_or("<NA>".to_string(), str::to_string))
        .collect()
}

#[test]
fn a_column_empty_in_the_sample_keeps_later_values_or_fails_naming_them() {
    // Inferred from the first file, `b` had Arrow's null type, and every later value
    // was dropped without a word.
    let dir = scratch("emptycol");
    std::fs::write(dir.join("1.csv"), "a,b\n1,\n2,\n").unwrap();
    std::fs::write(dir.join("2.csv"), "a,b\n3,2.5\n4,\n").unwrap();
    let pattern = dir.join("*.csv").to_string_lossy().into_owned();
    let df = read_csv(&pattern).unwrap();
    assert_eq!(df.dtypes()[1].1, "float64");
    let batch = df.compute().unwrap();
    assert_eq!(column_text(&batch, "b"), ["<NA>", "<NA>", "2.5", "<NA>"]);
    // A later value that is no number fails naming it and the override, as in Dask.
    std::fs::write(dir.join("2.csv"), "a,b\n3,hello\n4,world\n").unwrap();
    let err = read_csv(&pattern)
        .unwrap()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(err.contains("2.csv") && err.contains("'hello'"), "{err}");
    assert!(err.contains("column `b`") && err.contains("dtype"), "{err}");
    let df = read_csv_with(
        &pattern,
        CsvOptions {
            dtype: vec![("b".into(), DataType::Utf8)],
            ..Default::default()
        },
    )
    .unwrap();
    let batch = df.compute().unwrap();
    assert_eq!(column_text(&batch, "b"), ["<NA>", "<NA>", "hello", "world"]);
    // A header-only first file: every column is read as strings (pandas' object).
    std::fs::write(dir.join("1.csv"), "a,b\n").unwrap();
    let df = read_csv(&pattern).unwrap();
    let dtypes: Vec<String> = df.dtypes().into_iter().map(|(_, t)| t).collect();
    assert_eq!(dtypes, ["string", "string"]);
    let batch = df.compute().unwrap();
    assert_eq!(column_text(&batch, "a"), ["3", "4"]);
    assert_eq!(column_text(&batch, "b"), ["hello", "world"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_first_column_name() {
    // Excel's "CSV UTF-8" starts with one; the header check refused such files.
    let dir = scratch("bom");
    std::fs::write(dir.join("0.csv"), "\u{feff}a,b\n1,2\n3,4\n").unwrap();
    std::fs::write(dir.join("1.csv"), "\u{feff}a,b\n5,6\n").unwrap();
    let df = read_csv(&dir.join("*.csv").to_string_lossy()).unwrap();
    assert_eq!(df.columns(), ["a", "b"]);
    let batch = df.compute().unwrap();
    assert_eq!(column_text(&batch, "a"), ["1", "3", "5"]);
    assert_eq!(column_text(&batch, "b"), ["2", "4", "6"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn partition_names_must_be_distinct_file_names() {
    // One name for every partition kept only the last partition written.
    let dir = scratch("names");
    let pattern = dir.join("out").join("*.csv").to_string_lossy().into_owned();
    let df = mixed();
    assert!(df.npartitions() >= 2);
    let err = df
        .to_csv_with(&pattern, |_| "x".into())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "`to_csv`: the name function gave \"x\" for partitions 0 and 1; each partition \
         needs a file of its own"
    );
    for bad in ["../escape", "a/b", "..", ""] {
        let err = df
            .to_csv_with(
                &pattern,
                |i| if i == 1 { bad.into() } else { i.to_string() },
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("must be a file name, not a path"),
            "{bad:?}: {err}"
        );
    }
    assert!(!dir.join("out").exists(), "nothing was written");
    let written = df.to_csv_with(&pattern, |i| format!("part-{i}")).unwrap();
    assert_eq!(written.len(), df.npartitions());
    let back = read_csv(&pattern).unwrap().compute().unwrap();
    assert_eq!(back.num_rows(), df.compute().unwrap().num_rows());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_files_and_bad_patterns_are_errors() {
    let dir = scratch("missing");
    let err = read_csv(&dir.join("*.csv").to_string_lossy())
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("`read_csv`: ") && err.ends_with("no file matches"),
        "{err}"
    );
    let err = read_parquet(dir.join("nope.parquet"))
        .unwrap_err()
        .to_string();
    assert!(err.ends_with("no such file"), "{err}");
    let err = mixed()
        .to_csv(&dir.join("fixed.csv").to_string_lossy())
        .unwrap_err()
        .to_string();
    assert!(err.contains("exactly one `*`"), "{err}");
    // A directory where a file should go: the write fails and leaves no temporary file.
    std::fs::create_dir_all(dir.join("0.csv")).unwrap();
    assert!(mixed()
        .to_csv(&dir.join("*.csv").to_string_lossy())
        .is_err());
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.iter().all(|n| !n.contains(".tmp")), "{left:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn read_csv_with_an_index_knows_divisions_from_the_file_ends() {
    let dir = scratch("csv-index");
    let df = timeseries(TimeseriesOptions {
        end: "2000-01-04".into(),
        freq: "1min".into(),
        ..Default::default()
    });
    df.to_csv(&dir.join("*.csv").to_string_lossy()).unwrap();
    let pattern = dir.join("*.csv").to_string_lossy().into_owned();
    let back = read_csv_with(
        &pattern,
        CsvOptions {
            index: Some("timestamp".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(back.index(), Some("timestamp"));
    let div = back.divisions().expect("divisions from the files' ends");
    // CSV infers the timestamps' unit from the text; compare in nanoseconds.
    let div = dask::dataframe::arrow::compute::cast::cast(
        &div,
        &DataType::Timestamp(TimeUnit::Nanosecond, None),
    )
    .unwrap();
    let div = div
        .as_any()
        .downcast_ref::<TimestampNanosecondArray>()
        .unwrap();
    let day = 86_400_000_000_000i64;
    let jan1 = 946_684_800_000_000_000i64;
    // Each day's first row, then the last row (23:59 of the third day).
    let want = vec![
        jan1,
        jan1 + day,
        jan1 + 2 * day,
        jan1 + 3 * day - 60_000_000_000,
    ];
    assert_eq!(div.values().to_vec(), want);
    let by_name = |d: &DataFrame| {
        d.groupby(["name"])
            .agg([agg::sum("x"), agg::max("y")])
            .compute()
            .unwrap()
    };
    assert_eq!(by_name(&back), by_name(&df));
    // Without the option: no index, no divisions, as before.
    let plain = read_csv(&pattern).unwrap();
    assert!(plain.index().is_none() && plain.divisions().is_none());
    // An unknown index column is named at once.
    let err = read_csv_with(
        &pattern,
        CsvOptions {
            index: Some("when".into()),
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("`read_csv`: no column `when`"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn read_csv_index_divisions_are_checked_and_dropped_when_out_of_order() {
    let dir = scratch("csv-unsorted");
    let write = |name: &str, rows: &[i64]| {
        let mut text = String::from("k,v\n");
        for r in rows {
            text.push_str(&format!("{r},{}\n", r * 2));
        }
        std::fs::write(dir.join(name), text).unwrap();
    };
    let index = |pattern: &str| {
        read_csv_with(
            &dir.join(pattern).to_string_lossy(),
            CsvOptions {
                index: Some("k".into()),
                ..Default::default()
            },
        )
        .unwrap()
    };
    // First values in order, but the first file runs past the second's start.
    write("a0.csv", &[1, 2, 9]);
    write("a1.csv", &[5, 6]);
    let df = index("a*.csv");
    let div = df.divisions().expect("first values are in order");
    assert_eq!(div.len(), 3);
    let err = df.compute().unwrap_err().to_string();
    assert!(
        err.contains("a0.csv") && err.contains("leaves the range"),
        "{err}"
    );
    // A file not sorted within.
    write("b0.csv", &[1, 3, 2]);
    write("b1.csv", &[5, 6]);
    let err = index("b*.csv").compute().unwrap_err().to_string();
    assert!(err.contains("not sorted at data row 3"), "{err}");
    assert!(err.contains("call `set_index`"), "{err}");
    // First values out of order: the index is set, the divisions unknown, rows intact.
    write("c0.csv", &[7, 8]);
    write("c1.csv", &[1, 2]);
    let df = index("c*.csv");
    assert_eq!(df.index(), Some("k"));
    assert!(df.divisions().is_none());
    assert_eq!(df.compute().unwrap().num_rows(), 4);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unicode_column_and_file_names_round_trip_through_csv_and_parquet() {
    let dir = scratch("ünï-名前");
    let df = mixed().rename([("name", "név"), ("id", "番号"), ("x", "x²")]);
    let want = df.compute().unwrap();
    df.to_csv(&dir.join("tábla-*.csv").to_string_lossy())
        .unwrap();
    let back = read_csv(&dir.join("tábla-*.csv").to_string_lossy()).unwrap();
    assert_eq!(back.npartitions(), 3, "the empty partition is a file too");
    assert_eq!(back.columns(), ["név", "番号", "x²"]);
    let got = back.compute().unwrap();
    for c in 0..3 {
        assert_eq!(
            got.column(c).as_ref(),
            want.column(c).as_ref(),
            "column {c}"
        );
    }
    df.to_parquet(dir.join("párquet")).unwrap();
    let back = read_parquet(dir.join("párquet")).unwrap();
    assert_eq!(back.columns(), ["név", "番号", "x²"]);
    assert_eq!(back.compute().unwrap(), want);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failed_parquet_write_leaves_no_partial_file() {
    let dir = scratch("pq-fail");
    // A directory where the second partition's file should go.
    std::fs::create_dir_all(dir.join("part.1.parquet")).unwrap();
    let err = mixed().to_parquet(&dir).unwrap_err().to_string();
    assert!(err.contains("part.1.parquet"), "{err}");
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.iter().all(|n| !n.contains(".tmp")), "{left:?}");
    // Reading a file that is not Parquet is an error naming it, not a panic.
    std::fs::write(dir.join("bad.parquet"), b"not parquet at all").unwrap();
    let err = read_parquet(dir.join("bad.parquet"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("`read_parquet`: ") && err.contains("bad.parquet"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Each column of `batch` as text, by position (names may repeat in a broken reader).
fn columns_text(batch: &RecordBatch) -> Vec<Vec<String>> {
    batch
        .schema()
        .fields()
        .iter()
        .map(|f| column_text(batch, f.name()))
        .collect()
}

#[test]
fn repeated_csv_column_names_are_numbered_as_pandas_numbers_them() {
    // Read as two columns named `a`: `column("a")` found only the first of them.
    let dir = scratch("dupnames");
    let pattern = dir.join("*.csv").to_string_lossy().into_owned();
    // Plain (the fast path) and quoted (arrow-csv's reader): the same names and values.
    for text in [
        "a,b,a\n1,x,2.5\n3,y,4.5\n",
        "\"a\",b,a\n1,\"x\",2.5\n3,y,4.5\n",
    ] {
        std::fs::write(dir.join("0.csv"), text).unwrap();
        let df = read_csv(&pattern).unwrap();
        assert_eq!(df.columns(), ["a", "b", "a.1"]);
        assert_eq!(
            df.dtypes(),
            [
                ("a".to_string(), "int64".to_string()),
                ("b".to_string(), "string".to_string()),
                ("a.1".to_string(), "float64".to_string()),
            ]
        );
        let batch = df.compute().unwrap();
        assert_eq!(column_text(&batch, "a"), ["1", "3"]);
        assert_eq!(column_text(&batch, "a.1"), ["2.5", "4.5"]);
        // Only the renamed column parsed (the narrowed read): still the third one.
        let x = df.select(["a.1"]).compute().unwrap();
        assert_eq!(x.num_columns(), 1);
        assert_eq!(column_text(&x, "a.1"), ["2.5", "4.5"]);
        let sum = df.column("a.1").sum().compute().unwrap();
        assert_eq!(sum, 7.0);
    }
    // A suffix the header already uses is skipped, and that column keeps its name
    // (pandas' `a,a,a.1` gives `a, a.2, a.1`); empty names are `Unnamed: {position}`.
    std::fs::write(dir.join("0.csv"), "a,a,a.1,,a\n1,2,3,4,5\n").unwrap();
    let df = read_csv(&pattern).unwrap();
    assert_eq!(df.columns(), ["a", "a.2", "a.1", "Unnamed: 3", "a.3"]);
    let batch = df.compute().unwrap();
    assert_eq!(
        columns_text(&batch),
        [["1"], ["2"], ["3"], ["4"], ["5"]].map(|c| c.map(String::from).to_vec())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_type_given_for_a_repeated_csv_name_applies_to_its_renamed_duplicates() {
    // As pandas' `dtype={"a": str}` does, unless the duplicate has a type of its own.
    let dir = scratch("dupdtype");
    let pattern = dir.join("*.csv").to_string_lossy().into_owned();
    std::fs::write(dir.join("0.csv"), "a,b,a\n1,2,3\n").unwrap();
    let types = |dtype: Vec<(String, DataType)>| {
        read_csv_with(
            &pattern,
            CsvOptions {
                dtype,
                ..Default::default()
            },
        )
        .unwrap()
        .dtypes()
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
    };
    assert_eq!(
        types(vec![("a".into(), DataType::Utf8)]),
        ["string", "int64", "string"]
    );
    assert_eq!(
        types(vec![
            ("a".into(), DataType::Utf8),
            ("a.1".into(), DataType::Float64)
        ]),
        ["string", "int64", "float64"]
    );
    assert_eq!(
        types(vec![("a.1".into(), DataType::Float64)]),
        ["int64", "int64", "float64"]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_csv_file_must_repeat_the_first_files_header_as_written() {
    let dir = scratch("dupheaders");
    let pattern = dir.join("*.csv").to_string_lossy().into_owned();
    std::fs::write(dir.join("0.csv"), "a,b,a\n1,2,3\n").unwrap();
    // The same raw header: both files read, under the renamed columns.
    for second in ["a,b,a\n4,5,6\n", "\"a\",b,a\n4,5,6\n"] {
        std::fs::write(dir.join("1.csv"), second).unwrap();
        let batch = read_csv(&pattern).unwrap().compute().unwrap();
        assert_eq!(column_text(&batch, "a"), ["1", "4"]);
        assert_eq!(column_text(&batch, "a.1"), ["3", "6"]);
    }
    // A file already naming the renamed column is not the first file's header: refused
    // on both paths, also when only that column is read.
    for second in ["a,b,a.1\n4,5,6\n", "\"a\",b,a.1\n4,5,6\n"] {
        std::fs::write(dir.join("1.csv"), second).unwrap();
        let df = read_csv(&pattern).unwrap();
        for err in [
            df.compute().unwrap_err().to_string(),
            df.select(["a.1"]).compute().unwrap_err().to_string(),
        ] {
            assert!(err.contains("1.csv") && err.contains("header"), "{err}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_frame_without_columns_is_refused_by_to_csv_and_to_parquet_before_writing() {
    // Rows of no columns are empty lines in CSV, and parquet's writer counts rows from
    // the columns: both files read back with no rows. Refused, nothing written.
    let dir = scratch("nocolumns");
    let none = mixed().drop(["name", "id", "x"]);
    let err = none
        .to_csv(&dir.join("csv").join("*.csv").to_string_lossy())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`to_csv`: the dataframe has no columns; a CSV file of no columns cannot keep its \
         rows (each would be an empty line): keep or add a column first"
    );
    assert!(!dir.join("csv").exists());
    let err = none.to_parquet(dir.join("pq")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "`to_parquet`: the dataframe has no columns; parquet's writer keeps no row count \
         without a column, so its rows would be lost: keep or add a column first"
    );
    assert!(!dir.join("pq").exists());
    // Its rows are still counted: the refusal is about the file format alone.
    assert_eq!(none.len().compute().unwrap(), 4);
    std::fs::remove_dir_all(&dir).unwrap();
}
