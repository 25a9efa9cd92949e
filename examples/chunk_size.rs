//! The lecture's exercise, "find the right chunk size": `mean(sqrt(x**2))` over 10
//! million random numbers with chunks of 100,000, 2,000,000 and 5,000,000 (and
//! `Chunks::Auto`), beside a plain loop over one `Vec<f64>` measured in the same run.
//!
//! ```text
//! cargo run --release --example chunk_size [-- --n 10000000 --runs 7]
//! ```

use std::time::{Duration, Instant};

use dask::array::{self, Chunks};

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The plain loop: fill one vector with random numbers and reduce it, on one thread.
fn plain_loop(n: usize, seed: u64) -> f64 {
    let mut state = seed;
    let values: Vec<f64> = (0..n)
        .map(|_| {
            // xorshift64*: a small generator, as fast as the array's.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect();
    values.iter().map(|v| (v * v).sqrt()).sum::<f64>() / n as f64
}

struct Row {
    label: String,
    chunks: usize,
    tasks: usize,
    time: Duration,
    result: f64,
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
    let n = arg("--n", 10_000_000);
    let runs = arg("--runs", 7).max(1);
    let workers = match dask::Config::default().effective_scheduler() {
        dask::Scheduler::Threads(t) => t,
        _ => 1,
    };
    println!(
        "mean(sqrt(x**2)) over {n} random numbers, {workers} workers, median of {runs} runs\n"
    );

    let sizes: [(String, Chunks); 4] = [
        ("100,000".into(), 100_000.into()),
        ("2,000,000".into(), 2_000_000.into()),
        ("5,000,000".into(), 5_000_000.into()),
        ("auto".into(), Chunks::Auto),
    ];
    let mut rows = Vec::new();
    for (label, chunks) in sizes {
        let x = array::random(n, chunks);
        let m = x.powi(2).sqrt().mean();
        let tasks = dask::graph(&m).len();
        let mut times = Vec::new();
        let mut result = 0.0;
        for _ in 0..runs {
            let start = Instant::now();
            result = m.compute()?;
            times.push(start.elapsed());
        }
        let label = if label == "auto" {
            format!("auto ({})", x.chunks()[0][0])
        } else {
            label
        };
        rows.push(Row {
            label,
            chunks: x.numblocks()[0],
            tasks,
            time: median(times),
            result,
        });
    }
    let mut loop_times = Vec::new();
    let mut loop_result = 0.0;
    for run in 0..runs {
        let start = Instant::now();
        loop_result = plain_loop(n, 0x9e37_79b9 + run as u64);
        loop_times.push(start.elapsed());
    }
    let loop_time = median(loop_times);

    println!("| chunk size | chunks | tasks | median (ms) | vs plain loop | result |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {:.1} | {:.2}x | {:.6} |",
            r.label,
            r.chunks,
            r.tasks,
            ms(r.time),
            loop_time.as_secs_f64() / r.time.as_secs_f64(),
            r.result
        );
    }
    println!(
        "| plain loop, one Vec<f64>, 1 thread | 1 | - | {:.1} | 1.00x | {:.6} |",
        ms(loop_time),
        loop_result
    );

    // The verdict, from the figures above.
    let best = rows.iter().min_by_key(|r| r.time).expect("four rows");
    let most = rows.iter().max_by_key(|r| r.tasks).expect("four rows");
    let fewest = rows.iter().min_by_key(|r| r.chunks).expect("four rows");
    let mut why = if best.chunks >= workers {
        format!(
            "{} chunks keep all {workers} workers busy ({:.1} chunks per worker)",
            best.chunks,
            best.chunks as f64 / workers as f64
        )
    } else {
        format!(
            "{} chunks use {} of {workers} workers, yet nothing beat them",
            best.chunks, best.chunks
        )
    };
    if most.tasks > best.tasks && most.time > best.time {
        let per_task = (most.time - best.time).as_secs_f64() / (most.tasks - best.tasks) as f64;
        why += &format!(
            "; the {} chunks cost {:.1} ms more for {} more tasks ({:.0} µs per task)",
            most.label,
            ms(most.time - best.time),
            most.tasks - best.tasks,
            per_task * 1e6
        );
    } else if most.tasks > best.tasks {
        why += &format!(
            "; {} tasks of {} chunks cost nothing measurable",
            most.tasks, most.label
        );
    }
    if fewest.chunks < 2 * workers && fewest.time > best.time {
        why += &format!(
            "; {} chunks of {} leave workers idle while the last chunk runs (+{:.1} ms)",
            fewest.chunks,
            fewest.label,
            ms(fewest.time - best.time)
        );
    }
    println!(
        "\nWinner: chunks of {} at {:.1} ms, {:.1}x the plain loop: {why}.",
        best.label,
        ms(best.time),
        loop_time.as_secs_f64() / best.time.as_secs_f64()
    );
    Ok(())
}
