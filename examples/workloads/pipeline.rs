//! The lecture's generate → transform → aggregate pipeline. Shared by
//! `examples/pipeline.rs` and `examples/bench_vs_dask.rs`; the Python side of the
//! comparison (`benches/python/bench_dask.py`) computes the same numbers with NumPy.

use dask::delayed;

// The including example declares `random` (from `random.rs` beside this file) next to
// this module, so that an example using both workloads compiles it once.
use super::random;

/// Serde, so that `examples/cluster.rs` can send it between processes.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    pub mean: f64,
    pub std: f64,
    pub max: f64,
}

/// `size` pseudo-random values in [0, 1): the stream numbered `size` of
/// [`random::uniform`] (which NumPy can make too, bit for bit).
#[delayed]
pub fn generate_data(size: usize) -> Vec<f64> {
    (0..size as u64)
        .map(|i| random::uniform(size as u64, i))
        .collect()
}

#[delayed]
pub fn transform_data(data: &Vec<f64>) -> Vec<f64> {
    data.iter().map(|&x| (x * 2.0).sin() + x.sqrt()).collect()
}

/// Mean, population standard deviation (NumPy's default) and maximum.
#[delayed]
pub fn aggregate_data(data: &Vec<f64>) -> Stats {
    let n = data.len() as f64;
    let mean = data.iter().sum::<f64>() / n;
    let var = data.iter().map(|&x| (x - mean) * (x - mean)).sum::<f64>() / n;
    let max = data.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Stats {
        mean,
        std: var.sqrt(),
        max,
    }
}
