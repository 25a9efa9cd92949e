//! Scheduler overhead per task on four graph shapes with empty tasks, beside a sequential
//! loop of the same calls and a rayon version of the same shape, all measured in this run.
//!
//! ```text
//! cargo run --release --example bench_scheduler            # N = 1,000,000, 5 runs
//! cargo run --release --example bench_scheduler -- --quick # N = 100,000, 3 runs
//! cargo run --release --example bench_scheduler -- --big   # 10M-task graph: peak memory
//! cargo run --release --example bench_scheduler -- --shape wave   # one shape only
//! ```
//! `cargo bench --bench scheduler` runs the same table.

use std::hint::black_box;
use std::time::{Duration, Instant};

use dask::{delayed, Config, Delayed, Scheduler};
use rayon::prelude::*;

/// What the empty tasks pass along: nothing, with a type of its own.
#[derive(Clone, Copy, Default)]
struct Token;

#[delayed]
fn source() -> Token {
    Token
}

#[delayed]
fn leaf(_root: &Token) -> Token {
    Token
}

#[delayed]
fn join(_parts: &Vec<Token>) -> Token {
    Token
}

#[delayed]
fn link(_prev: &Token) -> Token {
    Token
}

#[delayed]
fn pair(_left: &Token, _right: &Token) -> Token {
    Token
}

#[delayed]
fn cell1(_neighbour: &Token) -> Token {
    Token
}

#[delayed]
fn cell2(_left: &Token, _up: &Token) -> Token {
    Token
}

struct Shape {
    name: &'static str,
    tasks: usize,
    build: fn(usize) -> Vec<Delayed<Token>>,
    sequential: fn(usize),
    rayon: fn(usize),
}

fn fan_out_build(n: usize) -> Vec<Delayed<Token>> {
    let root = source();
    let leaves: Vec<Delayed<Token>> = (0..n).map(|_| leaf(&root)).collect();
    vec![join(leaves)]
}

fn fan_out_sequential(n: usize) {
    let root = black_box(source_eager());
    let parts: Vec<Token> = (0..n).map(|_| leaf_eager(black_box(&root))).collect();
    join_eager(black_box(&parts));
}

fn fan_out_rayon(n: usize) {
    let root = source_eager();
    let parts: Vec<Token> = (0..n)
        .into_par_iter()
        .map(|_| leaf_eager(black_box(&root)))
        .collect();
    join_eager(black_box(&parts));
}

fn chain_build(n: usize) -> Vec<Delayed<Token>> {
    let mut last = source();
    for _ in 1..n {
        last = link(last);
    }
    vec![last]
}

fn chain_sequential(n: usize) {
    let mut last = source_eager();
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

fn tree_leaves(n: usize) -> usize {
    n.next_power_of_two() / 2
}

fn tree_build(n: usize) -> Vec<Delayed<Token>> {
    let mut level: Vec<Delayed<Token>> = (0..tree_leaves(n)).map(|_| source()).collect();
    while level.len() > 1 {
        level = level.chunks(2).map(|p| pair(&p[0], &p[1])).collect();
    }
    level
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

fn side(n: usize) -> usize {
    (n as f64).sqrt() as usize
}

fn wavefront_build(n: usize) -> Vec<Delayed<Token>> {
    let side = side(n);
    let mut above: Vec<Delayed<Token>> = Vec::with_capacity(side);
    for i in 0..side {
        let mut row: Vec<Delayed<Token>> = Vec::with_capacity(side);
        for j in 0..side {
            let cell = match (i, j) {
                (0, 0) => source(),
                (0, _) => cell1(&row[j - 1]),
                (_, 0) => cell1(&above[0]),
                _ => cell2(&row[j - 1], &above[j]),
            };
            row.push(cell);
        }
        above = row;
    }
    vec![above.pop().expect("non-empty grid")]
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

fn shapes(n: usize) -> Vec<Shape> {
    vec![
        Shape {
            name: "fan-out + join",
            tasks: n + 2,
            build: fan_out_build,
            sequential: fan_out_sequential,
            rayon: fan_out_rayon,
        },
        Shape {
            name: "chain",
            tasks: n,
            build: chain_build,
            sequential: chain_sequential,
            rayon: chain_rayon,
        },
        Shape {
            name: "binary tree",
            tasks: 2 * tree_leaves(n) - 1,
            build: tree_build,
            sequential: tree_sequential,
            rayon: tree_rayon,
        },
        Shape {
            name: "wavefront",
            tasks: side(n) * side(n),
            build: wavefront_build,
            sequential: wavefront_sequential,
            rayon: wavefront_rayon,
        },
    ]
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
    let (graph, build) = time(|| fan_out_build(n));
    let (result, run) = time(|| dask::compute_with(&graph, &config));
    result.expect("the big graph computes");
    println!(
        "10M-task fan-out + join on {threads} threads: build {:.1} s, run {:.1} s, peak RSS {:.0} MiB",
        build.as_secs_f64(),
        run.as_secs_f64(),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
}

pub fn main() {
    let args: Vec<String> = std::env::args().collect();
    let threads = 2;
    if args.iter().any(|a| a == "--big") {
        return big(threads);
    }
    let quick = args.iter().any(|a| a == "--quick");
    let (n, runs) = if quick { (100_000, 3) } else { (1_000_000, 5) };
    let config = Config::default().scheduler(Scheduler::Threads(threads));
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .ok();

    println!("Scheduler overhead, empty tasks, N = {n}, {threads} threads, median of {runs} runs (ns per task)");
    println!("| shape | tasks | build | run | sequential loop | rayon | run / rayon |");
    println!("|---|---|---|---|---|---|---|");
    let only = args
        .iter()
        .position(|a| a == "--shape")
        .and_then(|i| args.get(i + 1))
        .cloned();
    for shape in shapes(n) {
        if only.as_deref().is_some_and(|o| !shape.name.starts_with(o)) {
            continue;
        }
        // Warm up: the first run faults memory in and starts the pool.
        let graph = (shape.build)(n);
        dask::compute_with(&graph, &config).expect("benchmark graph computes");
        drop(graph);
        let (mut build, mut run, mut seq, mut ray) = (vec![], vec![], vec![], vec![]);
        for _ in 0..runs {
            let (graph, b) = time(|| (shape.build)(n));
            let (result, r) = time(|| dask::compute_with(&graph, &config));
            result.expect("benchmark graph computes");
            drop(graph);
            let ((), s) = time(|| (shape.sequential)(n));
            let ((), y) = time(|| (shape.rayon)(n));
            build.push(per_task(b, shape.tasks));
            run.push(per_task(r, shape.tasks));
            seq.push(per_task(s, shape.tasks));
            ray.push(per_task(y, shape.tasks));
        }
        let (build, run, seq, ray) = (median(build), median(run), median(seq), median(ray));
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} |",
            shape.name,
            shape.tasks,
            build,
            run,
            seq,
            ray,
            run / ray
        );
    }
}
