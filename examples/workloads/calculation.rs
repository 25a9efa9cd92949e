//! The lecture's CPU-bound `calculation(size)`. Shared by
//! `examples/calculation.rs` and `examples/bench_vs_dask.rs`; the Python side of the
//! comparison (`benches/python/bench_dask.py`) computes the same numbers with NumPy.

use dask::delayed;

// The including example declares `random` (from `random.rs` beside this file) next to
// this module, so that an example using both workloads compiles it once.
use super::random;

/// Sum of `x = sqrt(x) + sin(x)` applied ten times to values `lo..hi` of stream `seed`.
pub fn transformed_sum(seed: u64, lo: u64, hi: u64) -> f64 {
    (lo..hi)
        .map(|i| {
            let mut x = random::uniform(seed, i);
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
