//! What watching costs: the lecture's calculation and pipeline, and the scheduler
//! benchmark's four shapes of 1M near-empty tasks (fan-out + join among them), each run with and without a dashboard attached, in interleaved pairs
//! (off, a no-op callback, dashboard, off, ...) so that a change of machine load hits both sides alike.
//! No browser is connected: the cost measured is the observer's (per-task hooks and
//! the planning pass) plus the update thread's.
//!
//! `cargo run --release --features dashboard --example bench_dashboard [-- --runs 7 --size 2000000 --fan 1000000]`
//! `valgrind --tool=callgrind target/release/examples/bench_dashboard --single on --fan 100000`
//! (then `off` and `hook`): instructions of one fan-out, for a comparison a loaded
//! machine does not blur.

use std::time::{Duration, Instant};

use dask::{delayed, Config, Dashboard, Delayed, Scheduler};

#[path = "workloads/calculation.rs"]
mod calculation;
#[path = "workloads/pipeline.rs"]
mod pipeline;
#[path = "workloads/random.rs"]
mod random;
#[path = "workloads/shapes.rs"]
mod shapes;

use calculation::calculation;
use pipeline::{aggregate_data, generate_data, transform_data, Stats};
use shapes::{Shape, Token};

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// Runs `work` under each configuration, `runs` times, interleaved.
fn ab(runs: u64, configs: [&Config; 3], mut work: impl FnMut(&Config)) -> [Vec<Duration>; 3] {
    let mut times = [Vec::new(), Vec::new(), Vec::new()];
    // One warm-up each: the pool starts, pages fault in.
    for config in configs {
        work(config);
    }
    for _ in 0..runs {
        for (side, config) in configs.iter().enumerate() {
            let start = Instant::now();
            work(config);
            times[side].push(start.elapsed());
        }
    }
    times
}

fn report(what: &str, per: Option<u64>, times: [Vec<Duration>; 3]) {
    let range = |t: &[Duration]| {
        let (lo, hi) = (t.iter().min().unwrap(), t.iter().max().unwrap());
        format!(
            "{:.1}–{:.1} ms",
            lo.as_secs_f64() * 1e3,
            hi.as_secs_f64() * 1e3
        )
    };
    let [off, hook, on] = times.clone().map(median);
    let change = |t: Duration| (t.as_secs_f64() / off.as_secs_f64() - 1.0) * 100.0;
    println!("{what}:");
    for (label, t, all) in [
        ("off", off, &times[0]),
        ("no-op callback", hook, &times[1]),
        ("dashboard", on, &times[2]),
    ] {
        print!(
            "  {label:>14} {:8.1} ms ({})",
            t.as_secs_f64() * 1e3,
            range(all)
        );
        if t != off {
            print!(", {:+.2}%", change(t));
            if let Some(tasks) = per {
                let ns = (t.as_secs_f64() - off.as_secs_f64()) * 1e9 / tasks as f64;
                print!(", {ns:+.1} ns per task");
            }
        }
        println!();
    }
}

/// A callback that does nothing.
struct NoOp;

impl dask::Callbacks for NoOp {}

#[delayed]
fn noop(x: u64) -> u64 {
    x
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs = arg(&args, "--runs", 7);
    let size = arg(&args, "--size", 2_000_000);
    let fan = arg(&args, "--fan", 1_000_000) as usize;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let dash = Dashboard::serve_quietly()?;
    let scheduler = Scheduler::Threads(threads);
    let off = Config::default().scheduler(scheduler);
    let on = Config::default().scheduler(scheduler).dashboard(&dash);
    // The observer hook alone, with a callback that does nothing: what any `Callbacks`
    // costs, which the dashboard cannot go below.
    let hook = Config::default().scheduler(scheduler).callback(NoOp);
    // `--single off|hook|on`: one fan-out under one configuration, for counting
    // instructions (`valgrind --tool=callgrind`), which a loaded machine does not blur.
    if let Some(i) = args.iter().position(|a| a == "--single") {
        let config = match args.get(i + 1).map(String::as_str) {
            Some("off") => &off,
            Some("hook") => &hook,
            Some("on") => &on,
            other => return Err(format!("--single off|hook|on, not {other:?}").into()),
        };
        let graph = Shape::FanOut.build::<Token>(fan);
        std::hint::black_box(dask::compute_with(&graph, config)?);
        return Ok(());
    }
    println!("{runs} interleaved runs per side on {threads} threads (median, range)");

    let times = ab(runs, [&off, &hook, &on], |config| {
        let calls: Vec<Delayed<f64>> = (0..5).map(|seed| calculation(size, seed)).collect();
        std::hint::black_box(dask::compute_with(&calls, config).unwrap());
    });
    report(
        &format!("calculation (5 x calculation({size}))"),
        None,
        times,
    );

    let times = ab(runs, [&off, &hook, &on], |config| {
        let stats: Vec<Delayed<Stats>> = (1..=8)
            .map(|i| aggregate_data(transform_data(generate_data(i * 250_000))))
            .collect();
        std::hint::black_box(dask::compute_with(&stats, config).unwrap());
    });
    report(
        "pipeline (8 x generate → transform → aggregate)",
        None,
        times,
    );

    // The scheduler benchmark's shapes of near-empty tasks, `fan` tasks each: the
    // dashboard's cost per task where tasks cost next to nothing.
    for shape in Shape::ALL {
        let times = ab(runs, [&off, &hook, &on], |config| {
            let graph = shape.build::<u64>(fan);
            let values = dask::compute_with(&graph, config).unwrap();
            assert_eq!(values, vec![shape.expected(fan)], "{}", shape.id());
        });
        let label = format!(
            "{} ({} tasks, graph building included)",
            shape.name(),
            shape.tasks(fan)
        );
        report(&label, Some(shape.tasks(fan) as u64), times);
    }

    // The same fan-out passing nothing at all: pure scheduling cost, as bench_scheduler.
    let times = ab(runs, [&off, &hook, &on], |config| {
        let graph = Shape::FanOut.build::<Token>(fan);
        std::hint::black_box(dask::compute_with(&graph, config).unwrap());
    });
    let tasks = Shape::FanOut.tasks(fan) as u64;
    report(
        &format!("fan-out + join of Token tasks ({tasks} tasks)"),
        Some(tasks),
        times,
    );

    // Many small computations: the per-computation cost (planning pass, history entry).
    let times = ab(runs, [&off, &hook, &on], |config| {
        for i in 0..1000 {
            std::hint::black_box(noop(i).compute_with(config).unwrap());
        }
    });
    report("1000 one-task computations", Some(1000), times);
    Ok(())
}
