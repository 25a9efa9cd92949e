//! `dask::Parallel` against a sequential loop and rayon's `par_iter` on the same machine,
//! in the same run: 1,000,000 calls of a trivial function, batched automatically, with a
//! fixed batch size, and one item per claim; then 2,000 calls of about 9 µs each, where
//! batching must not cost balance.
//!
//! ```text
//! cargo run --release --example bench_parallel            # 1M calls, 7 runs
//! cargo run --release --example bench_parallel -- --quick # 100k calls, 3 runs
//! ```
//! `cargo bench --bench parallel` prints the same table.

use std::hint::black_box;
use std::time::{Duration, Instant};

use dask::{BatchSize, Parallel};
use rayon::prelude::*;

const THREADS: usize = 2;

fn trivial(x: u64) -> u64 {
    x.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (x >> 7)
}

/// About 9 µs of arithmetic (on this machine) that the optimiser cannot remove.
fn slow(x: u64) -> u64 {
    let mut h = x;
    for _ in 0..8_000 {
        h = black_box(trivial(h));
    }
    h
}

/// One way of mapping the input to its results.
type Variant<'p> = Box<dyn FnMut(Vec<u64>) -> Vec<u64> + 'p>;

struct Row {
    name: String,
    samples: Vec<Duration>,
}

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

fn measure(
    runs: usize,
    n: usize,
    mut f: impl FnMut(Vec<u64>) -> Vec<u64>,
    reference: &[u64],
) -> Vec<Duration> {
    (0..runs)
        .map(|_| {
            let input: Vec<u64> = (0..n as u64).collect();
            let start = Instant::now();
            let out = f(input);
            let elapsed = start.elapsed();
            assert!(out == reference, "results differ from the sequential loop");
            elapsed
        })
        .collect()
}

fn table(title: &str, n: usize, rows: &[Row]) {
    let rayon = median(&rows[1].samples);
    println!("{title}");
    println!("| variant | median ns/call | min | max | vs rayon |");
    println!("|---|---|---|---|---|");
    for row in rows {
        let per_call = |d: Duration| d.as_nanos() as f64 / n as f64;
        let med = median(&row.samples);
        println!(
            "| {} | {:.2} | {:.2} | {:.2} | {:.2}x |",
            row.name,
            per_call(med),
            per_call(*row.samples.iter().min().unwrap()),
            per_call(*row.samples.iter().max().unwrap()),
            med.as_secs_f64() / rayon.as_secs_f64()
        );
    }
    println!();
}

fn workload(title: &str, n: usize, runs: usize, call: fn(u64) -> u64, pool: &rayon::ThreadPool) {
    let reference: Vec<u64> = (0..n as u64).map(call).collect();
    let variants: Vec<(String, Variant<'_>)> = vec![
        (
            "sequential loop".into(),
            Box::new(move |v: Vec<u64>| v.into_iter().map(call).collect()),
        ),
        (
            format!("rayon into_par_iter, {THREADS} threads"),
            Box::new(move |v: Vec<u64>| pool.install(|| v.into_par_iter().map(call).collect())),
        ),
        (
            "dask Parallel, automatic batches".into(),
            Box::new(move |v| Parallel::new(THREADS as i32).map(v, call).unwrap()),
        ),
        (
            "dask Parallel, batch_size(1000)".into(),
            Box::new(move |v| {
                Parallel::new(THREADS as i32)
                    .batch_size(1000)
                    .map(v, call)
                    .unwrap()
            }),
        ),
        (
            "dask Parallel, batch_size(1) (unbatched)".into(),
            Box::new(move |v| {
                Parallel::new(THREADS as i32)
                    .batch_size(BatchSize::Fixed(1))
                    .map(v, call)
                    .unwrap()
            }),
        ),
    ];
    // Interleaved rounds, so a change in machine load hits every variant alike.
    let mut rows: Vec<Row> = variants
        .iter()
        .map(|(name, _)| Row {
            name: name.clone(),
            samples: Vec::new(),
        })
        .collect();
    let mut variants: Vec<_> = variants.into_iter().map(|(_, f)| f).collect();
    for _ in 0..runs {
        for (row, f) in rows.iter_mut().zip(variants.iter_mut()) {
            row.samples.extend(measure(1, n, &mut **f, &reference));
        }
    }
    table(title, n, &rows);
}

pub fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (n, runs) = if quick { (100_000, 3) } else { (1_000_000, 7) };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(THREADS)
        .build()
        .unwrap();
    // Warm both pools.
    Parallel::new(THREADS as i32)
        .map(0..1000u64, trivial)
        .unwrap();
    pool.install(|| (0..1000u64).into_par_iter().map(trivial).sum::<u64>());
    workload(
        &format!("{n} trivial calls, {THREADS} threads, median of {runs} runs"),
        n,
        runs,
        trivial,
        &pool,
    );
    let slow_n = if quick { 200 } else { 2_000 };
    workload(
        &format!("{slow_n} calls of about 9 µs, {THREADS} threads, median of {runs} runs"),
        slow_n,
        runs,
        slow,
        &pool,
    );
}
