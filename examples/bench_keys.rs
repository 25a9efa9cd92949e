//! What building pure calls costs: each `#[delayed(pure)]` call hashes its function's
//! seed and its arguments into a 128-bit key (BLAKE3), so equal calls are one node and
//! the disk cache can find them. Prints ns per call, median of 7 runs, for a call on
//! plain values and a call on three pure nodes; non-pure calls beside them for scale.
//!
//! ```text
//! cargo run --release --example bench_keys
//! ```

use std::time::Instant;

use dask::{delayed, Delayed};

#[delayed(pure)]
fn leaf(i: u64, label: String) -> u64 {
    i + label.len() as u64
}

#[delayed(pure)]
fn join3(a: &u64, b: &u64, c: &u64) -> u64 {
    a + b + c
}

#[delayed]
fn plain_leaf(i: u64, label: String) -> u64 {
    i + label.len() as u64
}

const N: usize = 100_000;

/// Median ns per call of `build`, which builds `N` calls and returns what it built (so
/// that dropping it is not timed).
fn time<T>(mut build: impl FnMut() -> T) -> f64 {
    let mut runs: Vec<f64> = (0..7)
        .map(|_| {
            let start = Instant::now();
            let built = build();
            let ns = start.elapsed().as_nanos() as f64 / N as f64;
            drop(built);
            ns
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[3]
}

fn main() {
    let label = "stage-7".to_string();
    let pure_leaf = time(|| {
        (0..N as u64)
            .map(|i| leaf(i, label.clone()))
            .collect::<Vec<Delayed<u64>>>()
    });
    let leaves: Vec<Delayed<u64>> = (0..N as u64 + 2).map(|i| leaf(i, label.clone())).collect();
    let pure_join = time(|| {
        (0..N)
            .map(|i| join3(&leaves[i], &leaves[i + 1], &leaves[i + 2]))
            .collect::<Vec<Delayed<u64>>>()
    });
    let plain = time(|| {
        (0..N as u64)
            .map(|i| plain_leaf(i, label.clone()))
            .collect::<Vec<Delayed<u64>>>()
    });
    println!("| call ({N} built, median of 7) | ns per call |");
    println!("|---|---|");
    println!("| pure, on a u64 and a 7-byte String | {pure_leaf:.0} |");
    println!("| pure, on three pure nodes | {pure_join:.0} |");
    println!("| not pure, on a u64 and a String | {plain:.0} |");
}
