//! The lecture's first example: a delayed function mapped over a range, computed in
//! parallel.
//!
//! `cargo run --release --example map`

use std::time::Instant;

use dask::Delayed;

#[path = "workloads/map.rs"]
mod workloads;

use workloads::bar;

fn main() -> Result<(), dask::Error> {
    let start = Instant::now();
    let squares: Vec<Delayed<i64>> = (0..6).map(bar).collect();
    let values = dask::compute(&squares)?;
    println!("{values:?}");
    println!("time: {:.3} ms", start.elapsed().as_secs_f64() * 1e3);
    Ok(())
}
