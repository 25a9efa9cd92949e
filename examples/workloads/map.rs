//! The lecture's first example's function, shared by `examples/map.rs` and
//! `examples/bench_vs_dask.rs` (where joblib maps the same function over `0..6`).

use dask::delayed;

/// The lecture's `bar`: a square.
#[delayed]
pub fn bar(x: i64) -> i64 {
    x * x
}
