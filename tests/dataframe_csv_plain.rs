//! `read_csv` reads plain files (no quotes, no carriage returns) on a fast path of its
//! own and the others with arrow-csv's reader: both must give the same table.
#![cfg(feature = "dataframe")]

use std::path::{Path, PathBuf};

use dask::dataframe::arrow::datatypes::{DataType, TimeUnit};
use dask::dataframe::arrow::record_batch::RecordBatch;
use dask::dataframe::{agg, read_csv};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dask-dfplain-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every type inference gives, empty cells (nulls) in each column, unicode.
const ROWS: &str = "when,name,n,x,ok\n\
    2000-01-01T00:00:00,Zoë,1,0.5,true\n\
    2000-01-01T00:00:01,,2,-2.5e-7,FALSE\n\
    ,北京,,1e300,\n\
    2000-01-02T12:30:00,Ann,-4,,True\n";

fn read(dir: &Path, text: &str) -> RecordBatch {
    std::fs::write(dir.join("0.csv"), text).unwrap();
    read_csv(&dir.join("*.csv").to_string_lossy())
        .unwrap()
        .compute()
        .unwrap()
}

#[test]
fn plain_files_and_files_with_carriage_returns_read_the_same() {
    let dir = scratch("crlf");
    let plain = read(&dir, ROWS);
    let types: Vec<DataType> = plain
        .schema()
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect();
    assert_eq!(
        types,
        [
            DataType::Timestamp(TimeUnit::Second, None),
            DataType::Utf8,
            DataType::Int64,
            DataType::Float64,
            DataType::Boolean
        ]
    );
    assert_eq!(plain.num_rows(), 4);
    for c in 0..5 {
        assert_eq!(plain.column(c).null_count(), 1, "column {c}");
    }
    // `\r\n` line ends send the file to arrow-csv's reader.
    let crlf = read(&dir, &ROWS.replace('\n', "\r\n"));
    assert_eq!(plain, crlf);
    // Without the last line's `\n`, too.
    let cut = read(&dir, ROWS.trim_end());
    assert_eq!(plain, cut);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn quoted_cells_with_commas_and_newlines_are_read_by_arrow_csv() {
    let dir = scratch("quoted");
    std::fs::write(dir.join("0.csv"), "name,x\nAnn,1.5\nBob,2\n").unwrap();
    std::fs::write(
        dir.join("1.csv"),
        "name,x\n\"Smith, Ann\",3\n\"two\nlines\",4\nBob,0.5\n",
    )
    .unwrap();
    let df = read_csv(&dir.join("*.csv").to_string_lossy()).unwrap();
    let table = df
        .groupby(["name"])
        .agg([agg::sum("x"), agg::count("x").alias("n")])
        .compute()
        .unwrap();
    let names = table.column(0);
    let names = names
        .as_any()
        .downcast_ref::<dask::dataframe::arrow::array::StringArray>()
        .unwrap();
    assert_eq!(
        names.iter().flatten().collect::<Vec<_>>(),
        ["Ann", "Bob", "Smith, Ann", "two\nlines"]
    );
    let sums = table.column(1);
    let sums = sums
        .as_any()
        .downcast_ref::<dask::dataframe::arrow::array::Float64Array>()
        .unwrap();
    assert_eq!(sums.values().to_vec(), [1.5, 2.5, 3.0, 4.0]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_long_file_crosses_read_chunks_without_losing_or_splitting_rows() {
    let dir = scratch("long");
    // Far more than one 256 KiB read, with rows of uneven length.
    let mut text = String::from("name,x\n");
    let mut want = 0.0;
    for i in 0..40_000 {
        let name = "n".repeat(1 + i % 7);
        text.push_str(&format!("{name},{i}\n"));
        want += i as f64;
    }
    std::fs::write(dir.join("0.csv"), &text).unwrap();
    let df = read_csv(&dir.join("*.csv").to_string_lossy()).unwrap();
    let got = df.column("x").sum().compute().unwrap();
    assert_eq!(got, want);
    let all = df.compute().unwrap();
    assert_eq!(all.num_rows(), 40_000);
    // A bad cell far into the file is found on its line.
    text.push_str("n,oops\n");
    std::fs::write(dir.join("0.csv"), &text).unwrap();
    let err = read_csv(&dir.join("*.csv").to_string_lossy())
        .unwrap()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(err.contains("at line 40002 of the file"), "{err}");
    assert!(
        err.contains("'oops'") && err.contains("column `x`"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
