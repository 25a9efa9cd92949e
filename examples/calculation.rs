//! The lecture's CPU-bound example: five independent `calculation(10_000_000)` calls, run
//! in a serial loop and as one `dask::compute`, then the same work split into chunks.
//!
//! `cargo run --release --example calculation [-- SIZE]`

use std::time::Instant;

use dask::Delayed;

#[path = "workloads/calculation.rs"]
mod calculation;
#[path = "workloads/chunked.rs"]
mod chunked;
#[path = "workloads/random.rs"]
mod random;

use calculation::{calculation, calculation_eager};
use chunked::chunked_calculation;

fn main() -> Result<(), dask::Error> {
    let size: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let calls = 5u64;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("{calls} x calculation({size}) on {threads} threads");

    let start = Instant::now();
    let serial: Vec<f64> = (0..calls)
        .map(|seed| calculation_eager(size, seed))
        .collect();
    let serial_time = start.elapsed().as_secs_f64();
    println!("serial loop:     {serial_time:.3} s  {serial:.6?}");

    let start = Instant::now();
    let tasks: Vec<Delayed<f64>> = (0..calls).map(|seed| calculation(size, seed)).collect();
    let parallel = dask::compute(&tasks)?;
    let parallel_time = start.elapsed().as_secs_f64();
    println!("dask::compute:   {parallel_time:.3} s  {parallel:.6?}");
    assert_eq!(serial, parallel, "the same calls give the same results");
    println!("speedup: {:.2}x", serial_time / parallel_time);

    // Five equal tasks on two workers need three rounds (5/3 = 1.67 at best); chunks let
    // the scheduler balance the work evenly.
    let chunks = 20u64;
    let start = Instant::now();
    let chunked: Vec<Delayed<f64>> = (0..calls)
        .map(|seed| chunked_calculation(seed, size, chunks))
        .collect();
    let chunked = dask::compute(&chunked)?;
    let chunked_time = start.elapsed().as_secs_f64();
    for (a, b) in serial.iter().zip(&chunked) {
        assert!((a - b).abs() < 1e-9, "chunked result {b} differs from {a}");
    }
    println!("chunked ({chunks} chunks per call): {chunked_time:.3} s");
    println!("chunked speedup: {:.2}x", serial_time / chunked_time);
    Ok(())
}
