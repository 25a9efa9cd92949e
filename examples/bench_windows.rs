//! Times `resample("1h").mean()` and `rolling("1min").mean()` alone on the persisted
//! demo table (the two window rows of `bench_dataframe`), for profiling and A/B pairs
//! of builds without the rest of that benchmark's minutes of CSV writing:
//!
//! ```text
//! bench_windows [resample|rolling|both] [runs]     # default: both, 5 runs
//! ```
//!
//! Prints each run's milliseconds and the median; 2 workers, as `bench_dataframe`.

use std::error::Error;
use std::time::Instant;

use dask::dataframe::DataFrame;
use dask::datasets::{timeseries, TimeseriesOptions};
use dask::{Config, Scheduler};

fn time(
    runs: usize,
    what: &str,
    mut f: impl FnMut() -> Result<usize, Box<dyn Error>>,
) -> Result<(), Box<dyn Error>> {
    let mut ms = Vec::with_capacity(runs);
    let mut rows = 0;
    for _ in 0..runs {
        let start = Instant::now();
        rows = f()?;
        ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let mut sorted = ms.clone();
    sorted.sort_by(f64::total_cmp);
    let runs_text: Vec<String> = ms.iter().map(|m| format!("{m:.1}")).collect();
    println!(
        "{what}: median {:.1} ms ({} rows out; runs {})",
        sorted[sorted.len() / 2],
        rows,
        runs_text.join(" ")
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map(String::as_str).unwrap_or("both");
    let runs: usize = args
        .get(2)
        .map(|r| r.parse())
        .transpose()?
        .unwrap_or(5)
        .max(1);
    let cfg = Config::default().scheduler(Scheduler::Threads(2));
    let table: DataFrame = timeseries(TimeseriesOptions::default()).persist()?;
    if matches!(which, "resample" | "both") {
        time(runs, "resample(1h).mean()", || {
            let out = table
                .select(["x", "y"])
                .resample("1h")
                .mean()
                .compute_with(&cfg)?;
            Ok(out.num_rows())
        })?;
    }
    if matches!(which, "rolling" | "both") {
        time(runs, "rolling(1min).mean()", || {
            let out = table
                .select(["x"])
                .rolling("1min")
                .mean()
                .compute_with(&cfg)?;
            Ok(out.num_rows())
        })?;
    }
    Ok(())
}
