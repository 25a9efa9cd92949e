//! The lecture's `dask.dataframe` cells in order, on Dask's demo table (one row per
//! second for January 2000, 30 daily partitions):
//!
//! ```text
//! cargo run --release --features dataframe --example timeseries [output dir]
//! ```
//!
//! Files (30 CSVs, Parquet, the groupby graph as SVG) go to the output directory, by
//! default a fresh folder under the system's temporary directory.

use std::time::Instant;

use dask::dataframe::{self as dd, agg, col, lit};

fn timed<T>(
    what: &str,
    f: impl FnOnce() -> Result<T, dask::Error>,
) -> Result<(T, f64), dask::Error> {
    let start = Instant::now();
    let value = f()?;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    println!("-- {what}: {ms:.0} ms");
    Ok((value, ms))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::env::temp_dir().join(format!("dask-timeseries-{}", std::process::id()))
        });
    std::fs::create_dir_all(&out)?;

    // df = dask.datasets.timeseries(); df
    let df = dask::datasets::timeseries(Default::default());
    println!("{df}\n");

    // df.head()
    println!("{}", dd::pretty(&df.head(5)?));

    // df2 = df[df.y > 0]; df3 = df2[["name", "x"]]; df4 = df3.x.std(); df4.compute()
    let df3 = df.filter(col("y").gt(lit(0.0))).select(["name", "x"]);
    let (sd, _) = timed("df[df.y > 0][[\"name\", \"x\"]].x.std()", || {
        df3.column("x").std().compute()
    })?;
    println!("std of x where y > 0: {sd:.6}\n");

    // df.groupby("name").aggregate({"x": "sum", "y": "max"}).compute()
    let query = |df: &dd::DataFrame| df.groupby(["name"]).agg([agg::sum("x"), agg::max("y")]);
    let (table, cold) = timed("groupby(name).agg(sum x, max y)", || query(&df).compute())?;
    println!("{}", dd::pretty(&table));

    // df = df.persist(), then the same query again
    let (df, _) = timed("persist", || df.persist())?;
    let (_, warm) = timed("the same groupby on the persisted table", || {
        query(&df).compute()
    })?;
    println!("persisted: {:.1}x faster than from scratch\n", cold / warm);

    // df[["x", "y"]].resample("1h").mean().head()
    let (hourly, _) = timed("resample(1h).mean()", || {
        df.select(["x", "y"]).resample("1h").mean().compute()
    })?;
    println!("{}", dd::pretty(&hourly.slice(0, 5)));

    // df[["x"]].rolling("1min").mean().head()
    let rolled = df.select(["x"]).rolling("1min").mean();
    let (head, _) = timed("rolling(1min).mean().head()", || rolled.head(5))?;
    println!("{}", dd::pretty(&head));

    // df.to_csv("data/*.csv", name_function=...) and dd.read_csv("data/*.csv")
    let days: Vec<String> = (1..=30).map(|d| format!("2000-01-{d:02}")).collect();
    let pattern = out.join("csv").join("*.csv").to_string_lossy().into_owned();
    let (paths, _) = timed("to_csv (30 files)", || {
        df.to_csv_with(&pattern, |i| days[i].clone())
    })?;
    println!("wrote {} files, first {}", paths.len(), paths[0].display());
    let (from_csv, _) = timed("read_csv + groupby", || {
        query(&dd::read_csv(&pattern)?).compute()
    })?;
    println!("{}", dd::pretty(&from_csv.slice(0, 3)));

    // df.to_parquet("data.parquet"); dd.read_parquet("data.parquet")
    let dir = out.join("data.parquet");
    timed("to_parquet", || df.to_parquet(&dir))?;
    let (from_pq, _) = timed("read_parquet + groupby", || {
        query(&dd::read_parquet(&dir)?).compute()
    })?;
    println!("{}", dd::pretty(&from_pq.slice(0, 3)));
    assert_eq!(
        from_pq, table,
        "the groupby on the Parquet files equals the in-memory one"
    );

    // The graph of the groupby, drawn.
    let svg = out.join("groupby.svg");
    query(&dask::datasets::timeseries(Default::default())).visualize(&svg)?;
    println!("graph of the groupby: {}", svg.display());
    Ok(())
}
