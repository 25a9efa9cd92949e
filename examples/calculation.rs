//! The lecture's CPU-bound example: five independent `calculation(10_000_000)` calls, run
//! in a serial loop and as one `dask::compute`, then the same work split into chunks.
//!
//! `cargo run --release --example calculation [-- SIZE]`

use std::time::Instant;

use dask::{delayed, Delayed};

/// Counter-based pseudo-random numbers in [0, 1): value `i` of stream `seed` does not
/// depend on the others, so a chunk can be generated on its own.
fn uniform(seed: u64, i: u64) -> f64 {
    let mut z = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i.wrapping_add(0x632B_E59B_D9B4_E019);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Sum of `x = sqrt(x) + sin(x)` applied ten times to values `lo..hi` of stream `seed`.
fn transformed_sum(seed: u64, lo: u64, hi: u64) -> f64 {
    (lo..hi)
        .map(|i| {
            let mut x = uniform(seed, i);
            for _ in 0..10 {
                x = x.sqrt() + x.sin();
            }
            x
        })
        .sum()
}

/// The lecture's `calculation(size)`: the mean of the transformed values.
#[delayed]
pub fn calculation(size: u64, seed: u64) -> f64 {
    transformed_sum(seed, 0, size) / size as f64
}

#[delayed]
fn chunk_sum(seed: u64, lo: u64, hi: u64) -> f64 {
    transformed_sum(seed, lo, hi)
}

#[delayed]
fn mean_of(sums: Vec<f64>, size: u64) -> f64 {
    sums.iter().sum::<f64>() / size as f64
}

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
        .map(|seed| {
            let sums: Vec<Delayed<f64>> = (0..chunks)
                .map(|c| chunk_sum(seed, c * size / chunks, (c + 1) * size / chunks))
                .collect();
            mean_of(sums, size)
        })
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
