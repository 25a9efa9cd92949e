//! The lecture's `calculation(size)` split in chunks: `chunks` tasks each summing a
//! range of one stream, then their mean, so that five calls keep every worker busy.
//! Shared by `examples/calculation.rs`, `examples/dashboard.rs` and `examples/profile.rs`
//! (each includes this file with `#[path]`).

use dask::{delayed, Delayed};

// The including example declares `calculation` (from `calculation.rs` beside this file)
// next to this module.
use super::calculation::transformed_sum;

#[delayed]
pub fn chunk_sum(seed: u64, lo: u64, hi: u64) -> f64 {
    transformed_sum(seed, lo, hi)
}

#[delayed]
pub fn mean_of(sums: Vec<f64>, size: u64) -> f64 {
    sums.iter().sum::<f64>() / size as f64
}

/// `calculation(size)` of stream `seed` as `chunks` tasks and a mean: the same value.
pub fn chunked_calculation(seed: u64, size: u64, chunks: u64) -> Delayed<f64> {
    let sums: Vec<Delayed<f64>> = (0..chunks)
        .map(|c| chunk_sum(seed, c * size / chunks, (c + 1) * size / chunks))
        .collect();
    mean_of(sums, size)
}
