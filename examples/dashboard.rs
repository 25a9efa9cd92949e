//! The live dashboard, watching the lecture's workloads: the calculation (five calls,
//! then the same work in chunks), the generate → transform → aggregate pipeline, and a
//! chunked array reduction, one after another, in a loop, until Ctrl-C.
//!
//! `cargo run --release --features dashboard --example dashboard`
//! then open the URL it prints. Options: `--once` (or `DASK_DASHBOARD_ONCE=1`) runs
//! the workloads once and exits (a smoke test); `DASK_DASHBOARD_ADDR` sets the
//! address (default `127.0.0.1:8787`; port 0 picks a free one); `--size N` the
//! calculation's size (default 4,000,000).

use std::time::{Duration, Instant};

use dask::{Config, Dashboard, Delayed};

#[path = "workloads/calculation.rs"]
mod calculation;
#[path = "workloads/chunked.rs"]
mod chunked;
#[path = "workloads/pipeline.rs"]
mod pipeline;
#[path = "workloads/random.rs"]
mod random;

use calculation::calculation;
use chunked::chunked_calculation;
use pipeline::{aggregate_data, generate_data, transform_data, Stats};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let once = args.iter().any(|a| a == "--once")
        || std::env::var_os("DASK_DASHBOARD_ONCE").is_some_and(|v| v != "0");
    let size: u64 = args
        .iter()
        .position(|a| a == "--size")
        .and_then(|i| args.get(i + 1))
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(4_000_000);
    let addr = std::env::var("DASK_DASHBOARD_ADDR").unwrap_or_else(|_| "127.0.0.1:8787".into());
    let dash = Dashboard::serve(addr.as_str())?;
    println!("open {} (Ctrl-C to stop)", dash.url());
    let config = Config::default().dashboard(&dash);

    for round in 1.. {
        let start = Instant::now();

        let calls: Vec<Delayed<f64>> = (0..5).map(|seed| calculation(size, seed)).collect();
        let means = dask::compute_with(&calls, &config)?;

        let chunks = 20;
        let chunked: Vec<Delayed<f64>> = (0..5u64)
            .map(|seed| chunked_calculation(seed, size, chunks))
            .collect();
        let chunked_means = dask::compute_with(&chunked, &config)?;

        let stats: Vec<Delayed<Stats>> = (1..=8)
            .map(|i| aggregate_data(transform_data(generate_data(i * 250_000))))
            .collect();
        let stats = dask::compute_with(&stats, &config)?;

        let x = dask::array::random::default_rng(round).random([4_000, 4_000], [250, 250]);
        let rms = x.powi(2).mean().compute_with(&config)?.sqrt();

        println!(
            "round {round}: calculation {:.4}, chunked {:.4}, pipeline mean {:.4}, array rms {rms:.4} ({:.2} s)",
            means[0],
            chunked_means[0],
            stats[0].mean,
            start.elapsed().as_secs_f64()
        );
        if once {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    Ok(())
}
