//! `read_csv` parses only the columns a query reads (a groupby's keys and aggregated
//! columns, a filter/select chain's columns): what that means for bad cells, headers
//! and the index check.
#![cfg(feature = "dataframe")]

use std::path::PathBuf;

use dask::dataframe::arrow::array::{Array, Float64Array, StringArray};
use dask::dataframe::{agg, col, lit, read_csv, read_csv_with, CsvOptions};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dask-dfcols-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Two files of `when,name,x,z`; in the second, `z` has a cell that is not a number on
/// line 3 (the header is line 1), and `when` a date that is not one on line 2.
fn files_with_bad_cells(dir: &std::path::Path) -> String {
    std::fs::write(
        dir.join("0.csv"),
        "when,name,x,z\n2000-01-01T00:00:00,Ann,1.5,1\n2000-01-01T00:00:01,Bob,2,2\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("1.csv"),
        "when,name,x,z\nnot a date,Ann,3,3\n2000-01-02T00:00:01,Bob,4.5,oops\n",
    )
    .unwrap();
    dir.join("*.csv").to_string_lossy().into_owned()
}

#[test]
fn a_bad_cell_in_a_column_the_query_does_not_read_is_not_parsed() {
    let dir = scratch("skip");
    let df = read_csv(&files_with_bad_cells(&dir)).unwrap();
    // The groupby reads `name` and `x` only: the bad `when` and `z` cells are not
    // parsed, as pandas' `usecols` leaves them.
    let table = df.groupby(["name"]).agg([agg::sum("x")]).compute().unwrap();
    let names = table
        .column(0)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    let sums = table
        .column(1)
        .as_any()
        .downcast_ref::<Float64Array>()
        .unwrap();
    assert_eq!(names.iter().collect::<Vec<_>>(), [Some("Ann"), Some("Bob")]);
    assert_eq!(sums.values().to_vec(), [4.5, 6.5]);
    // So does a filter and select chain.
    let x = df
        .filter(col("x").gt(lit(2.0)))
        .select(["x"])
        .compute()
        .unwrap();
    assert_eq!(x.num_columns(), 1);
    assert_eq!(x.num_rows(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_cell_in_a_column_the_query_reads_names_file_line_column_and_override() {
    let dir = scratch("read");
    let df = read_csv(&files_with_bad_cells(&dir)).unwrap();
    // Aggregating `z` reads it.
    let err = df
        .groupby(["name"])
        .agg([agg::sum("x"), agg::max("z")])
        .compute()
        .unwrap_err()
        .to_string();
    assert!(err.contains("1.csv"), "{err}");
    assert!(err.contains("'oops'"), "{err}");
    assert!(err.contains("at line 3 of the file"), "{err}");
    assert!(err.contains("column `z`"), "{err}");
    assert!(err.contains("dtype"), "{err}");
    // A filter on `z` reads it too, though `z` is not kept.
    let err = df
        .filter(col("z").gt(lit(0)))
        .select(["x"])
        .compute()
        .unwrap_err()
        .to_string();
    assert!(err.contains("column `z`") && err.contains("1.csv"), "{err}");
    // A timestamp that does not parse names its column as well.
    let err = df.select(["when"]).compute().unwrap_err().to_string();
    assert!(err.contains("1.csv"), "{err}");
    assert!(err.contains("at line 2 of the file"), "{err}");
    assert!(err.contains("column `when`"), "{err}");
    assert!(err.contains("dtype"), "{err}");
    // The whole table reads every column.
    assert!(df.compute().is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn every_files_header_and_field_count_are_checked_even_when_columns_are_skipped() {
    let dir = scratch("header");
    std::fs::write(dir.join("0.csv"), "name,x,y\nAnn,1.5,1\n").unwrap();
    // Same types, columns swapped: read by position it would mix `x` and `y` up.
    std::fs::write(dir.join("1.csv"), "name,y,x\nBob,2,2.5\n").unwrap();
    let df = read_csv(&dir.join("*.csv").to_string_lossy()).unwrap();
    let err = df
        .groupby(["name"])
        .agg([agg::sum("x")])
        .compute()
        .unwrap_err()
        .to_string();
    assert!(err.contains("1.csv"), "{err}");
    assert!(err.contains("header"), "{err}");
    // A row with a field too many, in a column no query reads, is still an error.
    std::fs::write(dir.join("1.csv"), "name,x,y\nBob,2.5,2,extra\n").unwrap();
    let df = read_csv(&dir.join("*.csv").to_string_lossy()).unwrap();
    let err = df.select(["x"]).compute().unwrap_err().to_string();
    assert!(err.contains("1.csv") && err.contains("fields"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn skipping_columns_keeps_the_index_and_its_check() {
    let dir = scratch("index");
    std::fs::write(dir.join("0.csv"), "k,name,x,z\n1,Ann,1.5,a\n2,Bob,2,b\n").unwrap();
    let pattern = dir.join("*.csv").to_string_lossy().into_owned();
    let indexed = || {
        read_csv_with(
            &pattern,
            CsvOptions {
                index: Some("k".into()),
                ..Default::default()
            },
        )
        .unwrap()
    };
    // Unsorted within the file (first values 1 and 4, last value 6, so the divisions
    // are known): the index check must still see `k` when only `x` is asked for.
    std::fs::write(
        dir.join("1.csv"),
        "k,name,x,z\n4,Ann,3,c\n3,Bob,4,d\n6,Cid,5,e\n",
    )
    .unwrap();
    let df = indexed();
    assert!(df.divisions().is_some());
    let err = df.select(["x"]).compute().unwrap_err().to_string();
    assert!(err.contains("not sorted at data row 2"), "{err}");
    // Sorted: the index comes first and the skipped columns are gone.
    std::fs::write(
        dir.join("1.csv"),
        "k,name,x,z\n4,Ann,3,c\n5,Bob,4,d\n6,Cid,5,e\n",
    )
    .unwrap();
    let got = indexed().select(["x"]).compute().unwrap();
    let names: Vec<String> = got
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["k", "x"]);
    assert_eq!(got.num_rows(), 5);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reading_no_column_of_a_csv_still_counts_its_rows() {
    // `select([])` parses no column; its batches, of no columns, failed to build.
    let dir = scratch("nocolumn");
    let pattern = dir.join("*.csv").to_string_lossy().into_owned();
    // Plain (the fast path, last line without its newline) and quoted (arrow-csv's).
    for (first, second) in [
        ("name,x\nAnn,1\nBob,2\n", "name,x\nCy,3"),
        ("name,x\n\"Ann\",1\nBob,2\n", "name,x\n\"Cy, Jr\",3\n"),
    ] {
        std::fs::write(dir.join("0.csv"), first).unwrap();
        std::fs::write(dir.join("1.csv"), second).unwrap();
        let df = read_csv(&pattern).unwrap();
        for none in [df.select(Vec::<String>::new()), df.drop(["name", "x"])] {
            assert_eq!(none.len().compute().unwrap(), 3);
            let batch = none.compute().unwrap();
            assert_eq!((batch.num_rows(), batch.num_columns()), (3, 0));
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
