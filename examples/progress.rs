//! The progress bar: 400 tasks of 10 ms each (about two seconds on two threads) with
//! `Config::progress(true)`. In a terminal, stderr shows tasks done / total, rate and
//! ETA while it runs; redirected (`2>file`), stderr stays empty.
//!
//! With `--parallel`, the same calls go through `Parallel::progress(true)` instead, and the
//! bar counts items.
//!
//! `cargo run --example progress [-- [--parallel] TASKS]`

use std::time::Duration;

use dask::{delayed, Config, Delayed, Scheduler};

#[delayed]
fn step(i: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(10));
    i
}

#[delayed]
fn total(parts: Vec<u64>) -> u64 {
    parts.iter().sum()
}

fn main() -> Result<(), dask::Error> {
    let parallel = std::env::args().any(|a| a == "--parallel");
    let tasks: u64 = std::env::args()
        .skip(1)
        .find_map(|s| s.parse().ok())
        .unwrap_or(400);
    if parallel {
        let parts = dask::Parallel::new(2)
            .progress(true)
            .map(0..tasks, step_eager)?;
        println!("sum of 0..{tasks}: {}", parts.iter().sum::<u64>());
        return Ok(());
    }
    let parts: Vec<Delayed<u64>> = (0..tasks).map(step).collect();
    let config = Config::default()
        .scheduler(Scheduler::Threads(2))
        .progress(true);
    let sum = total(parts).compute_with(&config)?;
    println!("sum of 0..{tasks}: {sum}");
    Ok(())
}
