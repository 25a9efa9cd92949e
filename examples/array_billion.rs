//! The memory claim of `dask::array`: `mean(sqrt(x**2))` over 1,000,000,000 random
//! numbers (8 GB of values) in chunks of 10,000,000, finishing with a peak resident
//! set far below one chunk per worker, because the fused reduction evaluates each block
//! tile by tile and never holds a whole block.
//!
//! ```text
//! cargo run --release --example array_billion [-- --n 1000000000 --chunk 10000000]
//! ```

use std::time::Instant;

use dask::array::random::default_rng;

/// The process's peak resident set (Linux `VmHWM`), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> Result<(), dask::Error> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.replace('_', "").parse().ok())
            .unwrap_or(default)
    };
    let n = arg("--n", 1_000_000_000);
    let chunk = arg("--chunk", 10_000_000);
    let x = default_rng(1).random(n, chunk);
    let m = x.powi(2).sqrt().mean();
    println!("{x}");
    let start = Instant::now();
    let value = m.compute()?;
    let elapsed = start.elapsed();
    println!(
        "mean(sqrt(x**2)) over {n} values ({:.1} GB) in {} chunks: {value:.6} in {:.2} s",
        n as f64 * 8.0 / 1e9,
        x.numblocks()[0],
        elapsed.as_secs_f64()
    );
    match peak_rss_kib() {
        Some(kib) => println!("peak resident set: {:.1} MiB", kib as f64 / 1024.0),
        None => println!("peak resident set: unknown (no /proc/self/status)"),
    }
    Ok(())
}
