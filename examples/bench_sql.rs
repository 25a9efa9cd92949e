//! What SQL costs on top of the dataframe API: planning time per query, and each query's
//! run time against the same question asked through dataframe calls, in alternating
//! runs (A/B pairs, median of each):
//!
//! ```text
//! cargo run --release --features sql --example bench_sql [runs] [--parquet DIR]
//! ```
//!
//! With `--parquet DIR`, the table is also written to `DIR` (one Parquet file per
//! partition) and only the group-by query is timed, on those files, for
//! `scripts/bench-sql-vs-duckdb.sh` to put beside DuckDB on the same files.

use std::time::Instant;

use dask::dataframe::{agg, col, lit, DataFrame};
use dask::sql::Context;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Seconds `f` takes.
fn time<T>(f: impl FnOnce() -> T) -> f64 {
    let start = Instant::now();
    std::hint::black_box(f());
    start.elapsed().as_secs_f64()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(7);
    let parquet = args
        .iter()
        .position(|a| a == "--parquet")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);
    let df = dask::datasets::timeseries(Default::default()).persist()?;
    let mut ctx = Context::new();
    ctx.create_table("timeseries", df.clone());

    type Api = Box<dyn Fn(&DataFrame) -> Result<usize, dask::Error>>;
    let cases: Vec<(&str, &str, Api)> = vec![
        (
            "group-by",
            "SELECT name, SUM(x) AS x, MAX(y) AS y FROM timeseries WHERE y > 0 GROUP BY name",
            Box::new(|df| {
                let t = df
                    .filter(col("y").gt(lit(0)))
                    .groupby(["name"])
                    .agg([agg::sum("x"), agg::max("y")])
                    .compute()?;
                Ok(t.num_rows())
            }),
        ),
        (
            "filtered count",
            "SELECT COUNT(*) AS n FROM timeseries WHERE x > 0.5 AND name = 'Alice'",
            Box::new(|df| {
                let n = df
                    .filter(col("x").gt(lit(0.5)).and(col("name").eq(lit("Alice"))))
                    .len()
                    .compute()?;
                Ok(n)
            }),
        ),
        (
            "hourly mean",
            "SELECT DATE_TRUNC('hour', timestamp) AS hour, AVG(x) AS x FROM timeseries GROUP BY hour",
            Box::new(|df| Ok(df.select(["x"]).resample("1h").mean().compute()?.num_rows())),
        ),
    ];

    println!("planning (parse, plan, optimize, build the lazy graph), median of 200:");
    println!("| query | explain (no graph) | sql() (with graph) |");
    println!("| --- | ---: | ---: |");
    for (name, q, _) in &cases {
        let e = median(
            (0..200)
                .map(|_| time(|| ctx.explain(q).map(|s| s.len())))
                .collect(),
        );
        let s = median(
            (0..200)
                .map(|_| time(|| ctx.sql(q).map(|d| d.npartitions())))
                .collect(),
        );
        println!("| {name} | {:.0} µs | {:.0} µs |", e * 1e6, s * 1e6);
    }

    if let Some(dir) = parquet {
        df.to_parquet(&dir)?;
        ctx.register_parquet("timeseries_pq", &dir)?;
        let q =
            "SELECT name, SUM(x) AS x, MAX(y) AS y FROM timeseries_pq WHERE y > 0 GROUP BY name";
        ctx.sql(q)?.compute()?;
        let t = median(
            (0..runs)
                .map(|_| time(|| ctx.sql(q).and_then(|d| d.compute()).map(|t| t.num_rows())))
                .collect(),
        );
        println!(
            "dask::sql parquet group-by ({runs} runs): {:.1} ms",
            t * 1e3
        );
        return Ok(());
    }

    println!(
        "\nrun time on the persisted table (30 partitions, 2.6M rows), median of {runs} A/B pairs:"
    );
    println!("| query | SQL | dataframe calls | SQL / dataframe |");
    println!("| --- | ---: | ---: | ---: |");
    for (name, q, api) in &cases {
        // Warm up both paths once.
        ctx.sql(q)?.compute()?;
        api(&df)?;
        let mut a = Vec::new();
        let mut b = Vec::new();
        for _ in 0..runs {
            a.push(time(|| {
                ctx.sql(q).and_then(|d| d.compute()).map(|t| t.num_rows())
            }));
            b.push(time(|| api(&df)));
        }
        let (a, b) = (median(a), median(b));
        println!(
            "| {name} | {:.1} ms | {:.1} ms | {:.2} |",
            a * 1e3,
            b * 1e3,
            a / b
        );
    }
    Ok(())
}
