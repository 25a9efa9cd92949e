//! The progress bar: 400 tasks of 10 ms each (about two seconds on two threads) with
//! `Config::progress(true)`. In a terminal, stderr shows tasks done / total, rate and
//! ETA while it runs; redirected (`2>file`), stderr stays empty.
//!
//! `cargo run --example progress [-- TASKS]`

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
    let tasks: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let parts: Vec<Delayed<u64>> = (0..tasks).map(step).collect();
    let config = Config::default()
        .scheduler(Scheduler::Threads(2))
        .progress(true);
    let sum = total(parts).compute_with(&config)?;
    println!("sum of 0..{tasks}: {sum}");
    Ok(())
}
