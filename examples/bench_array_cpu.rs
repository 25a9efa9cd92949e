//! CPU time per run of the `dask.array` benchmarks, for comparing kernels on a machine
//! shared with other work: wall-clock time grows with the load, the CPU time a
//! computation uses barely does. Linux only (reads `/proc/self/stat`).
//!
//! ```text
//! cargo run --release --example bench_array_cpu -- [mean|xt|matmul] [RUNS] [sync]
//! ```
//!
//! `mean`: `mean(sqrt(x**2))` over 10M random values at each chunk size of the lecture's
//! exercise; `xt`: `(x + x.T).sum()` of a 10,000 x 10,000 random matrix in 1,000 x 1,000
//! chunks; `matmul`: the mean of a 4,000 x 4,000 product in 1,000 x 1,000 chunks. `sync`
//! runs every task on the calling thread instead of two workers.

use std::time::Instant;

use dask::array::{random::default_rng, Chunks};
use dask::{Config, Delayed, Scheduler};

type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

/// User plus system CPU time of this process so far, in clock ticks (1/100 s on Linux).
fn cpu_ticks() -> BoxResult<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat
        .rsplit_once(") ")
        .ok_or("unexpected /proc/self/stat")?
        .1;
    let fields: Vec<&str> = rest.split(' ').collect();
    let field =
        |i: usize| -> BoxResult<u64> { Ok(fields.get(i).ok_or("short /proc/self/stat")?.parse()?) };
    // utime and stime: fields 14 and 15 of the whole line, 12 and 13 after the name.
    Ok(field(11)? + field(12)?)
}

/// Computes `value` `runs` times; prints CPU milliseconds per run and the best wall time.
fn measure(label: &str, value: &Delayed<f64>, config: &Config, runs: usize) -> BoxResult<()> {
    let before = cpu_ticks()?;
    let mut best = f64::INFINITY;
    let mut result = 0.0;
    for _ in 0..runs {
        let start = Instant::now();
        result = value.compute_with(config)?;
        best = best.min(start.elapsed().as_secs_f64());
    }
    let cpu_ms = (cpu_ticks()? - before) as f64 * 10.0 / runs as f64;
    println!(
        "{label:28} CPU {cpu_ms:7.1} ms per run   best wall {:7.1} ms   result {result:.6}",
        best * 1e3
    );
    Ok(())
}

fn main() -> BoxResult<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("mean");
    let runs = args
        .get(1)
        .map(|r| r.parse())
        .transpose()?
        .unwrap_or(10)
        .max(1);
    let scheduler = if args.iter().any(|a| a == "sync") {
        Scheduler::Sync
    } else {
        Scheduler::Threads(2)
    };
    let config = Config::default().scheduler(scheduler);
    let rng = default_rng(1);
    match what {
        "mean" => {
            let sizes: [(&str, Chunks); 4] = [
                ("chunks 100,000", 100_000.into()),
                ("chunks 2,000,000", 2_000_000.into()),
                ("chunks 5,000,000", 5_000_000.into()),
                ("chunks auto", Chunks::Auto),
            ];
            for (label, chunks) in sizes {
                let m = rng.random(10_000_000, chunks).powi(2).sqrt().mean();
                measure(label, &m, &config, runs)?;
            }
        }
        "xt" => {
            let x = rng.random([10_000, 10_000], [1_000, 1_000]);
            let total = (&x + &x.t()).sum();
            println!("{} tasks", dask::graph(&total).len());
            measure("(x + x.T).sum()", &total, &config, runs)?;
        }
        "matmul" => {
            let a = rng.random([4_000, 4_000], [1_000, 1_000]);
            let b = default_rng(2).random([4_000, 4_000], [1_000, 1_000]);
            measure("matmul, mean", &a.matmul(&b).mean(), &config, runs)?;
        }
        other => return Err(format!("unknown workload {other} (mean, xt or matmul)").into()),
    }
    Ok(())
}
