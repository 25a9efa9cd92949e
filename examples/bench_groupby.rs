//! Times a groupby with many groups as `split_out` grows: two partitions of 200,000
//! distinct string keys each (half shared between them), `agg([sum, mean])`, 2 workers.
//! With `split_out(n)` each output reduces its share of the groups; what splitting one
//! partition's groups into shares costs is what this measures.
//!
//! ```text
//! cargo run --release --example bench_groupby --features dataframe -- [runs]   # default 3 runs
//! ```
//!
//! Prints, per `split_out`, each run's milliseconds and the median.

use std::error::Error;
use std::sync::Arc;
use std::time::Instant;

use dask::dataframe::arrow::array::{ArrayRef, Float64Array, StringArray};
use dask::dataframe::arrow::record_batch::RecordBatch;
use dask::dataframe::{agg, DataFrame};
use dask::{Config, Scheduler};

/// One partition: `groups` keys from `first` on, a value each.
fn partition(first: usize, groups: usize) -> Result<RecordBatch, Box<dyn Error>> {
    let keys: Vec<String> = (first..first + groups)
        .map(|k| format!("key-{k}"))
        .collect();
    let values: Vec<f64> = (0..groups).map(|i| i as f64).collect();
    Ok(RecordBatch::try_from_iter([
        ("k", Arc::new(StringArray::from(keys)) as ArrayRef),
        ("x", Arc::new(Float64Array::from(values)) as ArrayRef),
    ])?)
}

fn main() -> Result<(), Box<dyn Error>> {
    let runs: usize = std::env::args()
        .nth(1)
        .map_or(Ok(3), |r| r.parse())
        .ok()
        .filter(|&runs| runs > 0)
        .ok_or("runs: a number above 0")?;
    let groups = 200_000;
    let df = DataFrame::from_batches(vec![partition(0, groups)?, partition(groups / 2, groups)?])?;
    let config = Config::default().scheduler(Scheduler::Threads(2));
    println!(
        "groupby of 2 partitions x {groups} string keys, sum and mean of one column, 2 workers"
    );
    println!("| split_out | median ms | runs (ms) |");
    println!("|---|---|---|");
    for split_out in [1, 4, 16, 64] {
        let mut ms = Vec::with_capacity(runs);
        for _ in 0..runs {
            let start = Instant::now();
            let out = df
                .groupby(["k"])
                .split_out(split_out)
                .agg([agg::sum("x"), agg::mean("x")])
                .compute_with(&config)?;
            ms.push(start.elapsed().as_secs_f64() * 1e3);
            assert_eq!(out.num_rows(), groups * 3 / 2, "every group once");
        }
        let text: Vec<String> = ms.iter().map(|m| format!("{m:.0}")).collect();
        ms.sort_by(f64::total_cmp);
        println!(
            "| {split_out} | {:.0} | {} |",
            ms[ms.len() / 2],
            text.join(" ")
        );
    }
    Ok(())
}
