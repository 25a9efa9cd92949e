//! What watching costs: the lecture's calculation and pipeline, and the scheduler
//! benchmark's four shapes of 1M near-empty tasks (fan-out + join among them), each run
//! with no observer (`off`), with no observer again (what two runs of the same thing
//! differ by: the noise), with a `Callbacks` that does nothing (`hook`: what any
//! observer fed by the executor's hook pays) and with a dashboard attached, in rounds
//! whose order rotates (off, off, hook, dashboard; then off, hook, dashboard, off; ...)
//! so that a change of machine load hits every side alike. No browser is connected: the cost
//! measured is the observer's (per-task hooks and the planning pass) plus the update
//! thread's.
//!
//! Each run is timed twice: wall clock, and the CPU time of the whole process (every
//! thread's time on a processor, from `/proc/self/task/*/schedstat`, in ns), which
//! counts the dashboard's own threads and is not blurred by time spent waiting for a
//! processor on a loaded machine. Each side gets the median over the runs and the
//! median of its round-by-round ratios to `off` (a round's runs are seconds apart, so
//! their ratio sees the same load). The CPU time of the dashboard's own threads during
//! its runs is counted apart: what it adds beside the per-task hooks, exactly.
//!
//! `cargo run --release --features dashboard --example bench_dashboard [-- --runs 7 --size 2000000 --fan 1000000 --only calculation,pipeline,shapes,tokens,small]`
//! `valgrind --tool=callgrind target/release/examples/bench_dashboard --single on --fan 100000`
//! (then `off` and `hook`): instructions of one fan-out, for a comparison a loaded
//! machine does not blur.

use std::time::Instant;

use dask::{delayed, Config, Dashboard, Delayed, Scheduler};

#[path = "workloads/calculation.rs"]
mod calculation;
#[path = "workloads/pipeline.rs"]
mod pipeline;
#[path = "workloads/random.rs"]
mod random;
// Shared with bench_scheduler, which also measures the independent tasks and a tree
// built by moving handles.
#[allow(dead_code)]
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

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// CPU time of this process so far, in seconds: every live thread's time on a
/// processor (the pools and the dashboard's threads live as long as the process, so no
/// thread's time is lost between two readings), and the part of it the dashboard's own
/// threads (`dask-dashboard-*`: updates, HTTP) spent. `None` where `/proc` does not say.
fn cpu_seconds() -> Option<(f64, f64)> {
    let (mut all, mut dashboard) = (0u64, 0u64);
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = task.ok()?.path();
        // A thread that ended since the listing has no time left to count.
        let Ok(text) = std::fs::read_to_string(dir.join("schedstat")) else {
            continue;
        };
        let ns = text.split_whitespace().next()?.parse::<u64>().ok()?;
        all += ns;
        // Thread names are cut to 15 bytes: "dask-dashboard-".
        let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if name.starts_with("dask-dashboard") {
            dashboard += ns;
        }
    }
    Some((all as f64 / 1e9, dashboard as f64 / 1e9))
}

/// One run's wall-clock and CPU seconds, and the CPU seconds of the dashboard's threads.
#[derive(Clone, Copy)]
struct Sample {
    wall: f64,
    cpu: f64,
    dashboard_cpu: f64,
}

/// One figure of a run (its wall-clock or CPU seconds).
type Figure = fn(&Sample) -> f64;

/// The sides of each comparison, in the order of `ab`'s configurations: `off` twice, so
/// that the second's ratio to the first shows how far two runs of the same thing differ
/// (the noise a ratio must clear to mean something).
const SIDES: [&str; 4] = ["off", "off, again", "no-op callback", "dashboard"];

/// Runs `work` under each configuration, `runs` times, in rounds whose order rotates.
fn ab(runs: u64, configs: [&Config; 4], mut work: impl FnMut(&Config)) -> [Vec<Sample>; 4] {
    let mut samples: [Vec<Sample>; 4] = Default::default();
    // One warm-up each: the pool starts, pages fault in.
    for config in configs {
        work(config);
    }
    for round in 0..runs as usize {
        for k in 0..configs.len() {
            let side = (round + k) % configs.len();
            let (before, start) = (cpu_seconds(), Instant::now());
            work(configs[side]);
            let wall = start.elapsed().as_secs_f64();
            let (cpu, dashboard_cpu) = cpu_seconds()
                .zip(before)
                .map_or((f64::NAN, f64::NAN), |(b, a)| (b.0 - a.0, b.1 - a.1));
            samples[side].push(Sample {
                wall,
                cpu,
                dashboard_cpu,
            });
        }
    }
    samples
}

fn report(what: &str, per: Option<u64>, samples: [Vec<Sample>; 4]) {
    let of = |side: usize, f: Figure| samples[side].iter().map(f).collect::<Vec<_>>();
    // Round by round, this side over `off`.
    let ratio = |side: usize, f: Figure| {
        median(
            samples[side]
                .iter()
                .zip(&samples[0])
                .map(|(s, off)| f(s) / f(off))
                .collect(),
        )
    };
    let runs = samples[0].len();
    println!("{what} ({runs} rounds):");
    let wall: Figure = |s| s.wall;
    let cpu: Figure = |s| s.cpu;
    for (side, label) in SIDES.iter().enumerate() {
        let (w, c) = (median(of(side, wall)), median(of(side, cpu)));
        let (lo, hi) = of(side, wall)
            .into_iter()
            .fold((f64::MAX, 0f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
        print!(
            "  {label:>14}: wall {:8.1} ms ({:.1}–{:.1}), cpu {:8.1} ms",
            w * 1e3,
            lo * 1e3,
            hi * 1e3,
            c * 1e3
        );
        if side > 0 {
            let (rw, rc) = (ratio(side, wall), ratio(side, cpu));
            print!(
                "; over off, median of rounds: wall {:+.2}%, cpu {:+.2}%",
                (rw - 1.0) * 100.0,
                (rc - 1.0) * 100.0
            );
            if let Some(tasks) = per {
                let off_wall = median(of(0, wall));
                let off_cpu = median(of(0, cpu));
                print!(
                    " ({:+.0} ns wall, {:+.0} ns cpu per task)",
                    (rw - 1.0) * off_wall * 1e9 / tasks as f64,
                    (rc - 1.0) * off_cpu * 1e9 / tasks as f64
                );
            }
        }
        println!();
    }
    // What the dashboard's own threads (updates, HTTP) took during its runs, exactly:
    // part of its CPU overhead, not blurred by load. (During the other sides' runs they
    // only wake between computations.)
    let on = SIDES.len() - 1;
    let threads = median(of(on, |s| s.dashboard_cpu));
    println!(
        "  {:>14}  its threads: cpu {:.2} ms per run, {:.3}% of the run's cpu",
        "",
        threads * 1e3,
        median(of(on, |s| s.dashboard_cpu / s.cpu)) * 100.0
    );
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
    // `--only calculation,pipeline`: some of the workloads (all by default).
    let only: Option<Vec<String>> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(|list| list.split(',').map(str::to_owned).collect());
    let wanted = |name: &str| only.as_ref().is_none_or(|o| o.iter().any(|w| w == name));
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
    println!("{runs} alternated rounds on {threads} threads (median, wall range in brackets)");

    if wanted("calculation") {
        let times = ab(runs, [&off, &off, &hook, &on], |config| {
            let calls: Vec<Delayed<f64>> = (0..5).map(|seed| calculation(size, seed)).collect();
            std::hint::black_box(dask::compute_with(&calls, config).unwrap());
        });
        report(
            &format!("calculation (5 x calculation({size}))"),
            None,
            times,
        );
    }

    if wanted("pipeline") {
        let times = ab(runs, [&off, &off, &hook, &on], |config| {
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
    }

    // The scheduler benchmark's shapes of near-empty tasks, `fan` tasks each: the
    // dashboard's cost per task where tasks cost next to nothing.
    for shape in Shape::ALL.into_iter().filter(|_| wanted("shapes")) {
        let times = ab(runs, [&off, &off, &hook, &on], |config| {
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
    if wanted("tokens") {
        let times = ab(runs, [&off, &off, &hook, &on], |config| {
            let graph = Shape::FanOut.build::<Token>(fan);
            std::hint::black_box(dask::compute_with(&graph, config).unwrap());
        });
        let tasks = Shape::FanOut.tasks(fan) as u64;
        report(
            &format!("fan-out + join of Token tasks ({tasks} tasks)"),
            Some(tasks),
            times,
        );
    }

    // Many small computations: the per-computation cost (planning pass, history entry).
    if wanted("small") {
        let times = ab(runs, [&off, &off, &hook, &on], |config| {
            for i in 0..1000 {
                std::hint::black_box(noop(i).compute_with(config).unwrap());
            }
        });
        report("1000 one-task computations", Some(1000), times);
    }
    Ok(())
}
