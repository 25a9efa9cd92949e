//! The lecture's dask-sql session on Dask's demo table (one row per second for January
//! 2000, 30 daily partitions):
//!
//! ```text
//! cargo run --release --features sql --example sql
//! ```
//!
//! Each query is planned onto the same dataframe operations as the dataframe API and
//! printed as a table, with its time; one query's plan is printed too.

use std::sync::Arc;
use std::time::Instant;

use dask::dataframe::arrow::array::{ArrayRef, StringArray};
use dask::dataframe::arrow::record_batch::RecordBatch;
use dask::dataframe::{pretty, DataFrame};
use dask::sql::Context;

/// Runs `query`, prints its result and how long planning and computing took.
fn show(ctx: &mut Context, query: &str) -> Result<(), dask::Error> {
    println!("> {query}");
    let start = Instant::now();
    let df = ctx.sql(query)?;
    let planned = start.elapsed();
    let table = df.compute()?;
    println!("{}", pretty(&table));
    println!(
        "-- planned in {:.2} ms, computed in {:.0} ms\n",
        planned.as_secs_f64() * 1e3,
        (start.elapsed() - planned).as_secs_f64() * 1e3
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // from dask_sql import Context; c = Context()
    let mut ctx = Context::new();
    // c.create_table("timeseries", dask.datasets.timeseries())
    ctx.create_table("timeseries", dask::datasets::timeseries(Default::default()));

    show(
        &mut ctx,
        "SELECT name, SUM(x) AS x, MAX(y) AS y FROM timeseries WHERE y > 0 GROUP BY name ORDER BY name LIMIT 5",
    )?;
    show(
        &mut ctx,
        "SELECT COUNT(*) AS n FROM timeseries WHERE x > 0.5 AND name = 'Alice'",
    )?;
    show(
        &mut ctx,
        "SELECT DATE_TRUNC('hour', timestamp) AS hour, AVG(x) AS x, COUNT(*) AS n \
         FROM timeseries GROUP BY hour ORDER BY hour LIMIT 5",
    )?;

    // A small table of teams, joined to the big one (broadcast: one partition).
    let names = ["Alice", "Bob", "Charlie", "Dan", "Edith", "Frank"];
    let teams = ["red", "blue", "red", "green", "blue", "green"];
    let batch = RecordBatch::try_from_iter([
        (
            "name",
            Arc::new(StringArray::from(names.to_vec())) as ArrayRef,
        ),
        (
            "team",
            Arc::new(StringArray::from(teams.to_vec())) as ArrayRef,
        ),
    ])?;
    ctx.create_table("teams", DataFrame::from_batches(vec![batch])?);
    let join = "SELECT teams.team, COUNT(*) AS n, AVG(t.y) AS y FROM timeseries t \
                JOIN teams ON t.name = teams.name GROUP BY teams.team ORDER BY teams.team";
    show(&mut ctx, join)?;
    println!("Plan of the join:\n{}", ctx.explain(join)?);

    show(
        &mut ctx,
        "CREATE TABLE busy AS SELECT name, COUNT(*) AS n, STDDEV(x) AS sd FROM timeseries \
         WHERE x > 0.9 GROUP BY name",
    )?;
    show(
        &mut ctx,
        "SELECT name, n, sd FROM busy ORDER BY n DESC LIMIT 3",
    )?;
    show(&mut ctx, "SHOW TABLES")?;
    Ok(())
}
