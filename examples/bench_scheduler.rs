//! Scheduler overhead per task on five graph shapes (the four with Taskflow anchors, then
//! independent tasks with one join), beside a sequential loop of the same calls and a
//! rayon version of the same shape, all measured in this run. Each graph is
//! built, computed, computed again and dropped, and each phase is timed: a user pays
//! build, run and drop once. "Run again" is a second `compute` of the same outputs, which
//! reuses the first run's plan: the cost of running a planned graph, what Taskflow's run
//! figure measures (its flows are built once and run as often as wanted).
//!
//! ```text
//! cargo run --release --example bench_scheduler            # N = 1,000,000, 5 runs, both payloads
//! cargo run --release --example bench_scheduler -- --quick # N = 100,000, 3 runs
//! cargo run --release --example bench_scheduler -- --big   # 10M-task graph: peak memory
//! cargo run --release --example bench_scheduler -- --shape wave   # one shape (fan, chain, tree, wave, indep)
//! cargo run --release --example bench_scheduler -- --payload u64  # one payload (token, u64)
//! cargo run --release --example bench_scheduler -- --threads 1    # pool size (default 2)
//! cargo run --release --example bench_scheduler -- --n 10000      # graph size (default 1,000,000)
//! cargo run --release --example bench_scheduler -- --scaling      # fan-out + join, then independent tasks + join, 1..=cores threads
//! cargo run --release --example bench_scheduler -- --scaling-coarse  # 2^18 tasks of ~7 µs + join, 1..=cores threads
//! cargo run --release --example bench_scheduler -- --spread --shape tree --payload u64  # 15 runs, graph phases only: min, quartile, median
//! cargo run --release --example bench_scheduler -- --spread --planning --payload u64      # and planning alone, in 15 more runs
//! cargo run --release --example bench_scheduler -- --build-idioms # the tree built borrowing handles, then moving them
//! cargo run --release --example bench_scheduler -- --join-widths  # independent tasks + join, 1Ki..1Mi wide, computed again and again
//! ```
//!
//! `--spread` leaves out the baselines and reports each phase's fastest run beside its
//! quartile and median: on a noisy machine the fastest of many runs is the figure that
//! moves least between invocations, so two builds compare best on it.
//!
//! `--planning` adds a column: the part of `run` spent planning, timed in rounds of its own
//! (`compute_with` until the `start` callback, which comes once the plan is made and
//! cancels the rest), so the other columns' rounds carry no callback.
//!
//! Payloads: `token` is a zero-sized value (pure scheduling cost); `u64` passes a count
//! from task to task, as every real graph passes data.
//! `cargo bench --bench scheduler` runs the same table. The graphs themselves are built by
//! `examples/workloads/shapes.rs` (shared with `examples/bench_vs_dask.rs`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use dask::{CancelToken, Config, Scheduler};
use rayon::prelude::*;

#[path = "workloads/shapes.rs"]
mod shapes;

use shapes::{
    cell1_eager, cell2_eager, join_eager, leaf_eager, link_eager, pair_eager, side, source_eager,
    tree_leaves, Payload, Shape, Token,
};

/// One way to run a shape's calls for `n` without our scheduler.
type Baseline = fn(usize);

/// The shape's loop without the scheduler (the same calls, eagerly) and its rayon
/// equivalent.
fn baselines(shape: Shape) -> (Baseline, Baseline) {
    match shape {
        Shape::FanOut => (fan_out_sequential, fan_out_rayon),
        Shape::Chain => (chain_sequential, chain_rayon),
        Shape::Tree => (tree_sequential, tree_rayon),
        Shape::Wavefront => (wavefront_sequential, wavefront_rayon),
        Shape::Independent => (independent_sequential, independent_rayon),
    }
}

fn independent_sequential(n: usize) {
    let parts: Vec<Token> = (0..n).map(|_| source_eager()).collect();
    join_eager(black_box(&parts));
}

fn independent_rayon(n: usize) {
    let parts: Vec<Token> = (0..n).into_par_iter().map(|_| source_eager()).collect();
    join_eager(black_box(&parts));
}

fn fan_out_sequential(n: usize) {
    let root: Token = black_box(source_eager());
    let parts: Vec<Token> = (0..n).map(|_| leaf_eager(black_box(&root))).collect();
    join_eager(black_box(&parts));
}

fn fan_out_rayon(n: usize) {
    let root: Token = source_eager();
    let parts: Vec<Token> = (0..n)
        .into_par_iter()
        .map(|_| leaf_eager(black_box(&root)))
        .collect();
    join_eager(black_box(&parts));
}

fn chain_sequential(n: usize) {
    let mut last: Token = source_eager();
    for _ in 1..n {
        last = link_eager(black_box(&last));
    }
    black_box(last);
}

/// A chain as rayon users would write it with tasks: each step spawns the next.
fn chain_rayon(n: usize) {
    fn step<'s>(scope: &rayon::Scope<'s>, left: usize, value: Token) {
        let next = link_eager(black_box(&value));
        if left > 1 {
            scope.spawn(move |s| step(s, left - 1, next));
        }
    }
    rayon::scope(|s| step(s, n, source_eager()));
}

fn tree_sequential(n: usize) {
    fn reduce(leaves: usize) -> Token {
        if leaves == 1 {
            return black_box(source_eager());
        }
        let (a, b) = (reduce(leaves / 2), reduce(leaves / 2));
        pair_eager(black_box(&a), black_box(&b))
    }
    reduce(tree_leaves(n));
}

fn tree_rayon(n: usize) {
    fn reduce(leaves: usize) -> Token {
        if leaves == 1 {
            return black_box(source_eager());
        }
        let (a, b) = rayon::join(|| reduce(leaves / 2), || reduce(leaves / 2));
        pair_eager(black_box(&a), black_box(&b))
    }
    reduce(tree_leaves(n));
}

fn wavefront_sequential(n: usize) {
    let side = side(n);
    let mut grid = vec![Token; side * side];
    for i in 0..side {
        for j in 0..side {
            grid[i * side + j] = match (i, j) {
                (0, 0) => source_eager(),
                (0, _) => cell1_eager(black_box(&grid[j - 1])),
                (_, 0) => cell1_eager(black_box(&grid[(i - 1) * side])),
                _ => cell2_eager(
                    black_box(&grid[i * side + j - 1]),
                    black_box(&grid[(i - 1) * side + j]),
                ),
            };
        }
    }
    black_box(grid);
}

/// Rayon has no task graph; a rayon user sweeps anti-diagonals in parallel.
fn wavefront_rayon(n: usize) {
    let side = side(n);
    let grid = vec![Token; side * side];
    for d in 0..(2 * side - 1) {
        let lo = d.saturating_sub(side - 1);
        let hi = d.min(side - 1);
        (lo..=hi).into_par_iter().for_each(|i| {
            let j = d - i;
            let _ = match (i, j) {
                (0, 0) => source_eager(),
                (0, _) => cell1_eager(black_box(&grid[j - 1])),
                (_, 0) => cell1_eager(black_box(&grid[(i - 1) * side])),
                _ => cell2_eager(
                    black_box(&grid[i * side + j - 1]),
                    black_box(&grid[(i - 1) * side + j]),
                ),
            };
        });
    }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn per_task(d: Duration, tasks: usize) -> f64 {
    d.as_nanos() as f64 / tasks as f64
}

fn time<R>(f: impl FnOnce() -> R) -> (R, Duration) {
    let start = Instant::now();
    let r = f();
    (r, start.elapsed())
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn big(threads: usize) {
    let n = 10_000_000;
    let config = Config::default().scheduler(Scheduler::Threads(threads));
    let (graph, build) = time(|| Shape::FanOut.build::<Token>(n));
    let (result, run) = time(|| dask::compute_with(&graph, &config));
    result.expect("the big graph computes");
    println!(
        "10M-task fan-out + join on {threads} threads: build {:.1} s, run {:.1} s, peak RSS {:.0} MiB",
        build.as_secs_f64(),
        run.as_secs_f64(),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
}

/// The value of `--name VALUE`, if given.
fn option<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// Medians (ns per task) of one shape with one payload.
struct Row {
    build: f64,
    run: f64,
    rerun: f64,
    drop: f64,
    seq: f64,
    ray: f64,
}

/// A graph built, computed (`compute` also checks the result), computed again when
/// `again` (the plan kept from the first run is reused; zero otherwise) and dropped: the
/// four phases' times.
fn timed_round<G>(build: impl FnOnce() -> G, compute: impl Fn(&G), again: bool) -> [Duration; 4] {
    let (graph, build) = time(build);
    let ((), run) = time(|| compute(&graph));
    let ((), rerun) = match again {
        true => time(|| compute(&graph)),
        false => ((), Duration::ZERO),
    };
    let ((), drop_) = time(|| drop(graph));
    [build, run, rerun, drop_]
}

/// One graph of `shape` through [`timed_round`].
fn graph_round<P: Payload>(shape: Shape, n: usize, config: &Config) -> [Duration; 4] {
    timed_round(
        || shape.build::<P>(n),
        |graph| {
            black_box(dask::compute_with(graph, config).expect("benchmark graph computes"));
        },
        true,
    )
}

fn measure<P: Payload>(shape: Shape, n: usize, runs: usize, config: &Config) -> Row {
    let (tasks, (sequential_loop, rayon_version)) = (shape.tasks(n), baselines(shape));
    let (mut build, mut run, mut rerun, mut drop_, mut seq, mut ray) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..runs {
        let [b, r, again, d] = graph_round::<P>(shape, n, config);
        let ((), s) = time(|| sequential_loop(n));
        let ((), y) = time(|| rayon_version(n));
        build.push(per_task(b, tasks));
        run.push(per_task(r, tasks));
        rerun.push(per_task(again, tasks));
        drop_.push(per_task(d, tasks));
        seq.push(per_task(s, tasks));
        ray.push(per_task(y, tasks));
    }
    Row {
        build: median(build),
        run: median(run),
        rerun: median(rerun),
        drop: median(drop_),
        seq: median(seq),
        ray: median(ray),
    }
}

/// The graph's phases alone, `runs` times: (min, first quartile, median) of build, run,
/// second run and drop, ns per task.
fn spread<P: Payload>(
    shape: Shape,
    n: usize,
    runs: usize,
    config: &Config,
) -> [(f64, f64, f64); 4] {
    let tasks = shape.tasks(n);
    let mut phases: [Vec<f64>; 4] = Default::default();
    for _ in 0..runs {
        for (phase, t) in phases.iter_mut().zip(graph_round::<P>(shape, n, config)) {
            phase.push(per_task(t, tasks));
        }
    }
    phases.map(fastest_quartile_median)
}

/// (fastest, first quartile, median) of `xs`, which must not be empty.
fn fastest_quartile_median(mut xs: Vec<f64>) -> (f64, f64, f64) {
    xs.sort_by(f64::total_cmp);
    (xs[0], xs[xs.len() / 4], xs[xs.len() / 2])
}

/// Marks when the plan is made (the `start` callback comes after planning, before any
/// task runs) and cancels the run there.
struct PlanningClock {
    planned: std::sync::Mutex<Option<Instant>>,
    cancel: CancelToken,
}

impl dask::Callbacks for PlanningClock {
    fn start(&self, _tasks: usize) {
        *self.planned.lock().expect("planning clock") = Some(Instant::now());
        self.cancel.cancel();
    }
}

/// Planning alone, `runs` times: (min, first quartile, median), ns per task. Each round
/// builds a graph, computes it until the plan is made (then cancels) and drops it.
fn planning_spread<P: Payload>(
    shape: Shape,
    n: usize,
    runs: usize,
    config: &Config,
) -> (f64, f64, f64) {
    let mut xs = Vec::with_capacity(runs);
    for _ in 0..runs {
        let graph = shape.build::<P>(n);
        let clock = std::sync::Arc::new(PlanningClock {
            planned: std::sync::Mutex::new(None),
            cancel: CancelToken::new(),
        });
        let config = config
            .clone()
            .cancel_token(clock.cancel.clone())
            .callback(clock.clone());
        let called = Instant::now();
        let outcome = dask::compute_with(&graph, &config);
        assert!(outcome.is_err(), "the planning clock cancels the run");
        let planned = clock
            .planned
            .lock()
            .expect("planning clock")
            .expect("planned");
        xs.push(per_task(planned - called, shape.tasks(n)));
        drop(graph);
    }
    fastest_quartile_median(xs)
}

/// Pools of 1, 2, 4, ... threads, up to the cores of this machine.
fn thread_counts() -> impl Iterator<Item = usize> {
    let cores = std::thread::available_parallelism().map_or(2, |c| c.get());
    std::iter::successors(Some(1usize), |t| Some(t * 2)).take_while(move |&t| t <= cores)
}

/// Tiny tasks and one join on 1, 2, 4, ... threads: whether the per-task cost falls as
/// threads are added. Two shapes: the fan-out (every task reads one source) and
/// independent tasks (no shared input).
fn scaling(n: usize, runs: usize) {
    for shape in [Shape::FanOut, Shape::Independent] {
        println!("{} with u64 payloads, N = {n}, median of {runs} runs (ns per task; build + run + drop)", shape.name());
        println!("| threads | build | run | run again | drop | one-shot | run / run on 1 thread | run again / on 1 thread |");
        println!("|---|---|---|---|---|---|---|---|");
        let mut first = None;
        for threads in thread_counts() {
            let config = Config::default().scheduler(Scheduler::Threads(threads));
            let _ = dask::compute_with(&shape.build::<u64>(n), &config);
            let row = measure::<u64>(shape, n, runs, &config);
            let (base, base_again) = *first.get_or_insert((row.run, row.rerun));
            println!(
                "| {threads} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} | {:.2} |",
                row.build,
                row.run,
                row.rerun,
                row.drop,
                row.build + row.run + row.drop,
                row.run / base,
                row.rerun / base_again
            );
        }
        println!();
    }
}

/// A task of about `spins` rounds of arithmetic the optimiser cannot remove (about 7 µs
/// for the count `scaling_coarse` calibrates), returning a value the join adds up.
#[dask::delayed]
fn busy(seed: u64, spins: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..spins {
        // xorshift: a dependent chain of cheap operations, one per round.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    black_box(x) & 1
}

/// Rounds of `busy` that take about `target` on this machine (median of 5 timings of
/// `busy_eager`, the plain call `#[delayed]` keeps beside the builder).
fn calibrate(target: Duration) -> u64 {
    let probe = 100_000;
    let mut times: Vec<Duration> = (0..5).map(|i| time(|| busy_eager(i, probe)).1).collect();
    times.sort();
    let per_round = times[2].as_secs_f64() / probe as f64;
    (target.as_secs_f64() / per_round).round().max(1.0) as u64
}

/// Coarse tasks (2^18 of about 7 µs, plain inputs, one join) on 1, 2, 4, ... threads:
/// parallel efficiency (1-thread time / (threads x time)) beside the serial loop.
fn scaling_coarse(runs: usize) {
    let (n, spins) = (1usize << 18, calibrate(Duration::from_micros(7)));
    let serial = median(
        (0..runs)
            .map(|_| time(|| (0..n as u64).map(|i| busy_eager(i, spins)).sum::<u64>()).1)
            .map(|d| d.as_secs_f64() * 1e3)
            .collect(),
    );
    println!(
        "{n} tasks of {spins} rounds (about 7 µs each; serial loop {serial:.0} ms) + one join, median of {runs} runs"
    );
    println!("| threads | build (ms) | run (ms) | drop (ms) | run / serial loop | efficiency |");
    println!("|---|---|---|---|---|---|");
    let mut one_thread = None;
    for threads in thread_counts() {
        let config = Config::default().scheduler(Scheduler::Threads(threads));
        let (mut build, mut run, mut drop_) = (vec![], vec![], vec![]);
        for _ in 0..runs {
            let [b, r, _, d] = timed_round(
                || {
                    let parts: Vec<_> = (0..n as u64).map(|i| busy(i, spins)).collect();
                    shapes::join::<u64>(&parts)
                },
                |graph| {
                    let total =
                        dask::compute_with(graph, &config).expect("the coarse graph computes");
                    assert!(total <= n as u64);
                },
                false,
            );
            build.push(b.as_secs_f64() * 1e3);
            run.push(r.as_secs_f64() * 1e3);
            drop_.push(d.as_secs_f64() * 1e3);
        }
        let run = median(run);
        let base = *one_thread.get_or_insert(run);
        println!(
            "| {threads} | {:.1} | {run:.1} | {:.1} | {:.2} | {:.0}% |",
            median(build),
            median(drop_),
            run / serial,
            100.0 * base / (threads as f64 * run)
        );
    }
}

/// Building the binary tree two ways, alternating, `runs` times each: borrowing the
/// handles of the level below (`pair(&p[0], &p[1])`, the benchmark's shape) and moving
/// them into their reader. Prints (fastest, first quartile, median) of build and drop.
fn build_idioms(n: usize, runs: usize) {
    let tasks = Shape::Tree.tasks(n);
    let mut phases: [[Vec<f64>; 2]; 2] = Default::default();
    for _ in 0..runs {
        let borrowing = |n| Shape::Tree.build::<u64>(n);
        for (way, build) in [
            &borrowing as &dyn Fn(usize) -> Vec<dask::Delayed<u64>>,
            &shapes::tree_moving_handles::<u64>,
        ]
        .into_iter()
        .enumerate()
        {
            let (graph, built) = time(|| build(n));
            let ((), dropped) = time(|| drop(graph));
            phases[way][0].push(per_task(built, tasks));
            phases[way][1].push(per_task(dropped, tasks));
        }
    }
    println!("Binary tree of {tasks} tasks, built {runs} times each way: min / first quartile / median (ns per task)");
    println!("| handles | build | drop |");
    println!("|---|---|---|");
    for (way, [build, dropped]) in ["borrowed (`pair(&a, &b)`)", "moved (`pair(a, b)`)"]
        .into_iter()
        .zip(phases)
    {
        let cell = |xs: Vec<f64>| {
            let (min, q1, med) = fastest_quartile_median(xs);
            format!("{min:.1} / {q1:.1} / {med:.1}")
        };
        println!("| {way} | {} | {} |", cell(build), cell(dropped));
    }
}

/// Independent tasks and one join, from 1,024 to 1,048,576 wide, each graph planned once
/// and computed again and again (about 2^23 tasks' worth per width): where a join's
/// gather starts to pay for sharing its inputs with idle workers, and how the chunk size
/// plays (the constants in `scheduler/src/shared_gather.rs`; BENCHMARKS.md says how they
/// were swept). Per task: (min, first quartile, median) of the computes.
fn join_widths(threads: usize) {
    let config = Config::default().scheduler(Scheduler::Threads(threads));
    println!("Independent tasks + join, u64 payloads, {threads} threads, computed again and again: min / first quartile / median (ns per task)");
    println!("| width | computes | run again |");
    println!("|---|---|---|");
    for width in (10..=20).map(|shift| 1usize << shift) {
        let graph = Shape::Independent.build::<u64>(width);
        let sum = dask::compute_with(&graph, &config).expect("benchmark graph computes");
        assert_eq!(sum, [Shape::Independent.expected(width)]);
        let computes = ((1usize << 23) / width).max(15);
        let times: Vec<f64> = (0..computes)
            .map(|_| {
                let (sums, d) = time(|| dask::compute_with(&graph, &config));
                black_box(sums.expect("benchmark graph computes"));
                per_task(d, width + 1)
            })
            .collect();
        let (min, q1, med) = fastest_quartile_median(times);
        println!("| {width} | {computes} | {min:.1} / {q1:.1} / {med:.1} |");
    }
}

pub fn main() {
    let args: Vec<String> = std::env::args().collect();
    let threads: usize =
        option(&args, "--threads").map_or(2, |t| t.parse().expect("--threads takes a number"));
    if args.iter().any(|a| a == "--big") {
        return big(threads);
    }
    let quick = args.iter().any(|a| a == "--quick");
    let (n, runs) = if quick { (100_000, 3) } else { (1_000_000, 5) };
    // A graph size of one's own (`scripts/bench-vs-taskflow.sh --smoke` checks its harness
    // on small graphs).
    let n = option(&args, "--n").map_or(n, |n| {
        n.parse()
            .ok()
            .filter(|&n| n > 1)
            .expect("--n takes a number above 1")
    });
    if args.iter().any(|a| a == "--scaling") {
        return scaling(n, runs);
    }
    if args.iter().any(|a| a == "--scaling-coarse") {
        return scaling_coarse(runs);
    }
    if args.iter().any(|a| a == "--build-idioms") {
        return build_idioms(n, 15);
    }
    if args.iter().any(|a| a == "--join-widths") {
        return join_widths(threads);
    }
    let config = Config::default().scheduler(Scheduler::Threads(threads));
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .ok();
    let only = option(&args, "--shape");
    let payloads: Vec<&str> = match option(&args, "--payload") {
        Some(p @ ("token" | "u64")) => vec![p],
        Some(other) => panic!("--payload takes token or u64, not {other}"),
        None => vec!["token", "u64"],
    };

    let spread_runs = args.iter().any(|a| a == "--spread").then_some(15);
    let planning = args.iter().any(|a| a == "--planning");
    match spread_runs {
        Some(runs) => {
            println!("Graph phases, N = {n}, {threads} threads, {runs} runs: min / first quartile / median (ns per task)");
            if planning {
                println!(
                    "| shape | payload | tasks | build | run | run again | drop | planning (part of run) |"
                );
                println!("|---|---|---|---|---|---|---|---|");
            } else {
                println!("| shape | payload | tasks | build | run | run again | drop |");
                println!("|---|---|---|---|---|---|---|");
            }
        }
        None => {
            println!("Scheduler overhead, N = {n}, {threads} threads, median of {runs} runs (ns per task)");
            println!("| shape | payload | tasks | build | run | run again | drop | one-shot | sequential loop | rayon | run / rayon |");
            println!("|---|---|---|---|---|---|---|---|---|---|---|");
        }
    }
    // The four shapes with Taskflow anchors, then independent tasks with one join.
    for shape in Shape::ALL.into_iter().chain([Shape::Independent]) {
        if only.is_some_and(|o| o != shape.id() && !shape.name().starts_with(o)) {
            continue;
        }
        // Warm up: the first run faults memory in and starts the pool. It passes counts
        // rather than tokens, to check that the graph is the shape it claims to be.
        let graph = shape.build::<u64>(n);
        let counts = dask::compute_with(&graph, &config).expect("benchmark graph computes");
        assert_eq!(counts, [shape.expected(n)], "{}", shape.name());
        drop(graph);
        for &payload in &payloads {
            if let Some(runs) = spread_runs {
                let phases = match payload {
                    "u64" => spread::<u64>(shape, n, runs, &config),
                    _ => spread::<Token>(shape, n, runs, &config),
                };
                let cell =
                    |(min, q1, med): (f64, f64, f64)| format!("{min:.1} / {q1:.1} / {med:.1}");
                let [b, r, again, d] = phases.map(cell);
                let p = planning
                    .then(|| match payload {
                        "u64" => planning_spread::<u64>(shape, n, runs, &config),
                        _ => planning_spread::<Token>(shape, n, runs, &config),
                    })
                    .map_or(String::new(), |q| format!(" {} |", cell(q)));
                println!(
                    "| {} | {payload} | {} | {b} | {r} | {again} | {d} |{p}",
                    shape.name(),
                    shape.tasks(n)
                );
                continue;
            }
            let row = match payload {
                "u64" => measure::<u64>(shape, n, runs, &config),
                _ => measure::<Token>(shape, n, runs, &config),
            };
            println!(
                "| {} | {payload} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} |",
                shape.name(),
                shape.tasks(n),
                row.build,
                row.run,
                row.rerun,
                row.drop,
                row.build + row.run + row.drop,
                row.seq,
                row.ray,
                row.run / row.ray
            );
        }
    }
}
