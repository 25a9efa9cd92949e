//! What `dask::Memory` costs: storing an entry (a miss) and loading one (a hit), for a
//! small value and an 8 MB one, in a fresh directory under the system's temp folder.
//!
//! ```text
//! cargo run --release --example bench_memory
//! ```
//!
//! A miss includes `sync_all` on the entry, so its time depends on the file system; a hit
//! is `cache()` (one `stat`) plus the load node's run (read, CRC-32, decode).

use std::time::{Duration, Instant};

use dask::{delayed, Delayed, Memory};

#[delayed(pure)]
fn small(i: u64) -> u64 {
    i * 3
}

#[delayed(pure)]
fn big(i: u64) -> Vec<f64> {
    (0..1_000_000u64).map(|j| (i + j) as f64 * 0.5).collect()
}

fn per_item(elapsed: Duration, n: usize) -> String {
    let ns = elapsed.as_nanos() as f64 / n as f64;
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.1} µs", ns / 1e3)
    }
}

fn main() -> Result<(), dask::Error> {
    let dir = std::env::temp_dir().join(format!("dask-bench-memory-{}", std::process::id()));
    let memory = Memory::new(&dir)?;
    memory.clear()?;

    println!(
        "| value | entries | miss (compute + store) | hit: cache() | hit: compute | hit total |"
    );
    println!("|---|---|---|---|---|---|");

    let n = 2000;
    let start = Instant::now();
    let stores: Vec<Delayed<u64>> = (0..n as u64)
        .map(|i| memory.cache(&small(i)))
        .collect::<Result<_, _>>()?;
    dask::compute(&stores)?;
    let miss = start.elapsed();
    let start = Instant::now();
    let loads: Vec<Delayed<u64>> = (0..n as u64)
        .map(|i| memory.cache(&small(i)))
        .collect::<Result<_, _>>()?;
    let build = start.elapsed();
    let start = Instant::now();
    let values = dask::compute(&loads)?;
    let load = start.elapsed();
    assert_eq!(values[7], 21);
    println!(
        "| u64 | {n} | {} | {} | {} | {} |",
        per_item(miss, n),
        per_item(build, n),
        per_item(load, n),
        per_item(build + load, n)
    );

    let n = 4;
    let (mut miss, mut build, mut load) = Default::default();
    for i in 0..n as u64 {
        let start = Instant::now();
        let value = memory.cache(&big(i))?.compute()?;
        miss += start.elapsed();
        drop(value);
        let start = Instant::now();
        let node = memory.cache(&big(i))?;
        build += start.elapsed();
        let start = Instant::now();
        let value = node.compute()?;
        load += start.elapsed();
        assert_eq!(value.len(), 1_000_000);
    }
    let eager = Instant::now();
    for i in 0..n as u64 {
        std::hint::black_box(big_eager(i));
    }
    let eager = eager.elapsed();
    println!(
        "| Vec<f64>, 8 MB | {n} | {} | {} | {} | {} |",
        per_item(miss, n),
        per_item(build, n),
        per_item(load, n),
        per_item(build + load, n)
    );
    let size = memory.size()?;
    println!(
        "\n{} entries, {:.1} MB on disk; computing one 8 MB value eagerly takes {}; stats: {:?}",
        size.entries,
        size.bytes as f64 / 1e6,
        per_item(eager, n),
        memory.stats()
    );
    memory.clear()?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
