//! Our side of the comparison with Python Dask, NumPy and joblib (issue #7). Run through
//! `scripts/bench-vs-dask.sh [--smoke]`, which first runs `benches/python/bench_dask.py`.
//!
//! ```text
//! bench_vs_dask --python PYTHON.json [--smoke] [--arrays] [--plots DIR] [--json OURS.json]
//! ```
//!
//! `--smoke` (with the Python side's `--smoke`: tiny sizes, one run each) checks that
//! both sides run and agree; its table judges no goal, since its timings say nothing.
//! `--arrays` (with the Python side's `--arrays`) runs the `dask.array` rows alone and
//! draws only their chart.
//!
//! Reads the Python side's document (its sizes are the ones run here too), runs the same
//! workloads with our scheduler, checks that every result agrees with Python's, and only
//! then prints one table (median, min and max of each figure, and the ratio per row) and
//! draws the charts. Peak memory is measured in a fresh process per figure: this program
//! started again with `--memory-child`.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use dask::{delayed, Config, Delayed, Parallel, Scheduler};
use serde_json::{json, Value};

#[path = "workloads/calculation.rs"]
mod calculation;
#[path = "workloads/map.rs"]
mod map;
#[path = "workloads/pipeline.rs"]
mod pipeline;
#[path = "workloads/random.rs"]
mod random;
// Shared with bench_scheduler, which also uses the token payload, the eager calls, the
// independent tasks and a tree built by moving handles.
#[allow(dead_code)]
#[path = "workloads/shapes.rs"]
mod shapes;

#[path = "bench_vs_dask/arrays.rs"]
mod arrays;
#[path = "bench_vs_dask/plots.rs"]
mod plots;
#[path = "bench_vs_dask/report.rs"]
mod report;

use calculation::calculation_eager;
use pipeline::{aggregate_data_eager, generate_data_eager, transform_data_eager, Stats};
use report::{Figure, Row, Table};
use shapes::Shape;

/// Both sides run on two workers: the machine has two cores.
const WORKERS: usize = 2;

type BoxResult<T> = Result<T, Box<dyn Error>>;

/// Runs `f` `runs` times; the last result and each run's seconds.
fn timed<R>(runs: usize, mut f: impl FnMut() -> R) -> (R, Vec<f64>) {
    let mut seconds = Vec::with_capacity(runs);
    let mut result = None;
    for _ in 0..runs {
        let start = Instant::now();
        result = Some(f());
        seconds.push(start.elapsed().as_secs_f64());
    }
    (result.expect("at least one run"), seconds)
}

fn threads() -> Config {
    Config::default().scheduler(Scheduler::Threads(WORKERS))
}

/// The sizes the Python side ran; we run the same.
struct Sizes {
    runs: usize,
    overhead_ns: Vec<usize>,
    calculation_size: u64,
    calculation_calls: u64,
    scaling_size: u64,
    scaling_items: Vec<u64>,
    pipeline_sizes: Vec<usize>,
    bar_items: i64,
    bar_runs: usize,
    memory_tasks: usize,
    memory_elems: usize,
}

impl Sizes {
    fn from_json(config: &Value) -> BoxResult<Sizes> {
        let int = |name: &str| -> BoxResult<u64> {
            config[name]
                .as_u64()
                .ok_or_else(|| format!("config.{name} is not a number").into())
        };
        let list = |name: &str| -> BoxResult<Vec<u64>> {
            config[name]
                .as_array()
                .and_then(|xs| xs.iter().map(Value::as_u64).collect())
                .ok_or_else(|| format!("config.{name} is not a list of numbers").into())
        };
        let sizes = |name: &str| -> BoxResult<Vec<usize>> {
            Ok(list(name)?.into_iter().map(|x| x as usize).collect())
        };
        Ok(Sizes {
            runs: int("runs")? as usize,
            overhead_ns: sizes("overhead_ns")?,
            calculation_size: int("calculation_size")?,
            calculation_calls: int("calculation_calls")?,
            scaling_size: int("scaling_size")?,
            scaling_items: list("scaling_items")?,
            pipeline_sizes: sizes("pipeline_sizes")?,
            bar_items: int("bar_items")? as i64,
            bar_runs: int("bar_runs")? as usize,
            memory_tasks: int("memory_tasks")? as usize,
            memory_elems: int("memory_elems")? as usize,
        })
    }
}

// ---- Scheduler overhead per task.

/// Our run of one shape: per-run seconds of `compute_with` on a freshly built graph
/// (building is not timed, as on the Python side).
///
/// A run takes milliseconds here and seconds in Python, so one time slice lost to another
/// process on this shared machine can double a run of ours: beyond the `runs` asked for,
/// we repeat until the runs add up to half a second (at most 50 runs), and the median
/// is over all of them. A smoke run (one run) stays one run.
fn overhead(shape: Shape, n: usize, config: &Config, runs: usize) -> BoxResult<(u64, Vec<f64>)> {
    const BUDGET_SECONDS: f64 = 0.5;
    const MAX_RUNS: usize = 50;
    // Warm up: starts the pool and faults memory in.
    dask::compute_with(&shape.build::<u64>(n), config)?;
    let mut seconds: Vec<f64> = Vec::with_capacity(runs);
    let mut result = 0;
    let more = |seconds: &Vec<f64>| {
        seconds.len() < runs
            || (runs > 1
                && seconds.len() < MAX_RUNS
                && seconds.iter().sum::<f64>() < BUDGET_SECONDS)
    };
    while more(&seconds) {
        let graph = shape.build::<u64>(n);
        let start = Instant::now();
        result = dask::compute_with(&graph, config)?[0];
        seconds.push(start.elapsed().as_secs_f64());
    }
    Ok((result, seconds))
}

// ---- Peak memory of a tree reduction over big arrays.

#[delayed]
fn make(i: usize, elems: usize) -> Vec<f64> {
    vec![(i + 1) as f64; elems]
}

#[delayed]
fn add(left: &Vec<f64>, right: &Vec<f64>) -> Vec<f64> {
    left.iter().zip(right).map(|(a, b)| a + b).collect()
}

#[delayed]
fn total(data: &Vec<f64>) -> f64 {
    data.iter().sum()
}

/// Pairwise sums over `tasks` arrays (an odd one out moves up a level), then the sum of
/// the last array's elements: the tree `bench_dask.py` builds.
fn tree_reduction(tasks: usize, elems: usize) -> Delayed<f64> {
    let mut level: Vec<Delayed<Vec<f64>>> = (0..tasks).map(|i| make(i, elems)).collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|p| match p {
                [left, right] => add(left, right),
                [odd] => odd.clone(),
                _ => unreachable!("chunks of two"),
            })
            .collect();
    }
    total(&level[0])
}

fn peak_kib() -> BoxResult<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .ok_or("no VmHWM in /proc/self/status")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .ok_or("empty VmHWM")?
        .parse()?)
}

/// Makes VmHWM the current resident size (Linux's clear_refs, value 5).
fn reset_peak() -> BoxResult<()> {
    Ok(std::fs::write("/proc/self/clear_refs", "5")?)
}

/// In a fresh process: the peak resident memory added by computing the tree.
fn memory_child(scheduler: &str, tasks: usize, elems: usize) -> BoxResult<()> {
    let config = match scheduler {
        "threads" => threads(),
        "sync" => Config::default().scheduler(Scheduler::Sync),
        other => return Err(format!("unknown scheduler {other}").into()),
    };
    let out = tree_reduction(tasks, elems);
    // Start the pool before the baseline.
    tree_reduction(2, 10).compute()?;
    reset_peak()?;
    let before = peak_kib()?;
    let result = dask::compute_with(std::slice::from_ref(&out), &config)?[0];
    let after = peak_kib()?;
    let delta_mib = (after - before) as f64 / 1024.0;
    println!("{}", json!({"result": result, "peak_delta_mib": delta_mib}));
    Ok(())
}

fn memory(scheduler: &str, tasks: usize, elems: usize, runs: usize) -> BoxResult<(f64, Vec<f64>)> {
    let me = std::env::current_exe()?;
    let (mut results, mut deltas) = (vec![], vec![]);
    for _ in 0..runs {
        let child = Command::new(&me)
            .args(["--memory-child", scheduler])
            .args([tasks.to_string(), elems.to_string()])
            .output()?;
        if !child.status.success() {
            return Err(format!(
                "memory child failed: {}",
                String::from_utf8_lossy(&child.stderr)
            )
            .into());
        }
        let measured: Value = serde_json::from_slice(&child.stdout)?;
        results.push(measured["result"].as_f64().ok_or("no result")?);
        deltas.push(measured["peak_delta_mib"].as_f64().ok_or("no delta")?);
    }
    if results.iter().any(|r| *r != results[0]) {
        return Err(format!("memory runs disagree: {results:?}").into());
    }
    Ok((results[0], deltas))
}

// ---- Reading the Python side.

fn numbers(value: &Value) -> BoxResult<Vec<f64>> {
    value
        .as_array()
        .and_then(|xs| xs.iter().map(Value::as_f64).collect())
        .ok_or_else(|| format!("not a list of numbers: {value}").into())
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .map(|xs| xs.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

/// Relative agreement of two floating-point results computed in different orders (NumPy
/// sums pairwise, we sum in sequence; libm and NumPy's `sin` may differ in the last bit).
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// Every disagreement between the two sides, as sentences.
#[derive(Default)]
struct Checks(Vec<String>);

impl Checks {
    fn floats(&mut self, what: &str, ours: &[f64], theirs: &[f64]) {
        let agree =
            ours.len() == theirs.len() && ours.iter().zip(theirs).all(|(a, b)| close(*a, *b));
        if !agree {
            self.0
                .push(format!("{what}: ours {ours:?}, Python {theirs:?}"));
        }
    }

    fn equal<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, ours: T, theirs: T) {
        if ours != theirs {
            self.0
                .push(format!("{what}: ours {ours:?}, Python {theirs:?}"));
        }
    }
}

fn stats_list(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .map(|xs| {
            xs.iter()
                .flat_map(|s| [&s["mean"], &s["std"], &s["max"]])
                .filter_map(Value::as_f64)
                .collect()
        })
        .unwrap_or_default()
}

fn flatten(stats: &[Stats]) -> Vec<f64> {
    stats.iter().flat_map(|s| [s.mean, s.std, s.max]).collect()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

struct Args {
    python: PathBuf,
    smoke: bool,
    /// Only the `dask.array` rows.
    arrays: bool,
    plots: Option<PathBuf>,
    json: Option<PathBuf>,
}

fn parse_args() -> BoxResult<Args> {
    let mut args = std::env::args().skip(1);
    let (mut python, mut plots, mut json) = (None, None, None);
    let (mut smoke, mut arrays) = (false, false);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--python" => python = Some(PathBuf::from(value()?)),
            "--plots" => plots = Some(PathBuf::from(value()?)),
            "--json" => json = Some(PathBuf::from(value()?)),
            "--smoke" => smoke = true,
            "--arrays" => arrays = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(Args {
        python: python.ok_or("--python PYTHON.json is required")?,
        smoke,
        arrays,
        plots,
        json,
    })
}

fn main() -> BoxResult<()> {
    let argv: Vec<String> = std::env::args().collect();
    if let [_, flag, scheduler, tasks, elems] = argv.as_slice() {
        if flag == "--memory-child" {
            return memory_child(scheduler, tasks.parse()?, elems.parse()?);
        }
    }
    let args = parse_args()?;
    let py: Value = serde_json::from_str(&std::fs::read_to_string(&args.python)?)?;
    let sizes = Sizes::from_json(&py["config"])?;
    let load_before = load_average();
    let runs = sizes.runs;
    let mut checks = Checks::default();
    let mut table = Table::default();
    if args.arrays {
        eprintln!("  rust: arrays");
        let sweep = arrays::run(&py, runs, &mut checks, &mut table)?;
        finish(&args, &py, runs, &load_before, &checks, &table)?;
        if let Some(dir) = &args.plots {
            std::fs::create_dir_all(dir)?;
            plots::chunk_sweep(&dir.join("chunk-size.svg"), &sweep)?;
            eprintln!("  rust: wrote {}", dir.join("chunk-size.svg").display());
        }
        return Ok(());
    }
    let sync = Config::default().scheduler(Scheduler::Sync);

    // Scheduler overhead, Dask threads vs ours on threads, Dask sync vs ours sync.
    eprintln!("  rust: scheduler overhead");
    let mut overhead_points = vec![];
    for &n in &sizes.overhead_ns {
        for shape in Shape::ALL {
            let tasks = shape.tasks(n);
            for (scheduler, config) in [("threads", threads()), ("sync", sync.clone())] {
                let theirs = py["overhead"]
                    .as_array()
                    .and_then(|rows| {
                        rows.iter().find(|r| {
                            r["shape"] == shape.id() && r["n"] == n && r["scheduler"] == scheduler
                        })
                    })
                    .ok_or_else(|| format!("no Python figure for {} n={n}", shape.id()))?;
                let (result, ours) = overhead(shape, n, &config, runs)?;
                let what = format!("{} n={n} {scheduler}", shape.name());
                checks.equal(&format!("{what} count"), result, shape.expected(n));
                checks.equal(
                    &format!("{what} count"),
                    Some(result),
                    theirs["result"].as_u64(),
                );
                checks.equal(
                    &format!("{what} tasks"),
                    Some(tasks as u64),
                    theirs["tasks"].as_u64(),
                );
                let theirs = Figure::per_task(&numbers(&theirs["seconds"])?, tasks);
                let ours = Figure::per_task(&ours, tasks);
                overhead_points.push(plots::OverheadPoint {
                    shape: shape.name(),
                    n,
                    scheduler,
                    dask: theirs.median,
                    ours: ours.median,
                });
                table
                    .rows
                    .push(Row::overhead(shape.name(), n, scheduler, theirs, ours));
            }
        }
    }

    // 5 x calculation: serial, joblib vs Parallel, dask.delayed vs compute.
    eprintln!("  rust: calculation");
    let calc = &py["calculation"];
    let (size, calls) = (sizes.calculation_size, sizes.calculation_calls);
    let calc_graph = || -> Vec<Delayed<f64>> {
        (0..calls)
            .map(|seed| calculation::calculation(size, seed))
            .collect()
    };
    dask::compute_with(&calc_graph(), &threads())?; // warm-up, as Python starts joblib's workers
    let (serial, serial_s) = timed(runs, || {
        (0..calls)
            .map(|seed| calculation_eager(size, seed))
            .collect::<Vec<f64>>()
    });
    let parallel = Parallel::new(WORKERS as i32);
    let (par, par_s) = timed(runs, || {
        parallel.map(0..calls, |seed| calculation_eager(size, seed))
    });
    let (computed, compute_s) = timed(runs, || dask::compute_with(&calc_graph(), &threads()));
    let (par, computed) = (par?, computed?);
    for (what, ours) in [("serial", &serial), ("joblib", &par), ("dask", &computed)] {
        checks.floats(
            &format!("calculation {what}"),
            ours,
            &floats(&calc["results"][what]),
        );
    }
    let label = format!(
        "{calls} x calculation({})",
        report::thousands(size as usize)
    );
    for (python, theirs, ours, mine) in [
        (
            "serial NumPy loop",
            &calc["serial"],
            "serial Rust loop",
            &serial_s,
        ),
        (
            "joblib n_jobs=2",
            &calc["joblib"],
            "Parallel::new(2).map",
            &par_s,
        ),
        (
            "dask.delayed, threads",
            &calc["dask"],
            "dask::compute",
            &compute_s,
        ),
    ] {
        table.push_seconds(&label, python, &numbers(theirs)?, ours, mine);
    }

    // Serial vs parallel against the number of calculation calls (the chart only).
    eprintln!("  rust: calculation scaling");
    let scaling_size = sizes.scaling_size;
    let mut scaling = vec![];
    for (&items, theirs) in sizes
        .scaling_items
        .iter()
        .zip(py["scaling"]["rows"].as_array().ok_or("no scaling rows")?)
    {
        let (_, serial) = timed(runs, || {
            (0..items)
                .map(|seed| calculation_eager(scaling_size, seed))
                .collect::<Vec<f64>>()
        });
        let (_, parallel_s) = timed(runs, || {
            parallel.map(0..items, |seed| calculation_eager(scaling_size, seed))
        });
        let (_, compute) = timed(runs, || {
            let graph: Vec<Delayed<f64>> = (0..items)
                .map(|seed| calculation::calculation(scaling_size, seed))
                .collect();
            dask::compute_with(&graph, &threads())
        });
        scaling.push(plots::ScalingPoint {
            items,
            python_serial: Figure::of(&numbers(&theirs["serial"])?).median,
            joblib: Figure::of(&numbers(&theirs["joblib"])?).median,
            dask: Figure::of(&numbers(&theirs["dask"])?).median,
            ours_serial: Figure::of(&serial).median,
            ours_parallel: Figure::of(&parallel_s).median,
            ours_compute: Figure::of(&compute).median,
        });
    }

    // generate → transform → aggregate.
    eprintln!("  rust: pipeline");
    let pipe = &py["pipeline"];
    let (serial, serial_s) = timed(runs, || {
        sizes
            .pipeline_sizes
            .iter()
            .map(|&n| aggregate_data_eager(&transform_data_eager(&generate_data_eager(n))))
            .collect::<Vec<Stats>>()
    });
    let (computed, compute_s) = timed(runs, || {
        let graph: Vec<Delayed<Stats>> = sizes
            .pipeline_sizes
            .iter()
            .map(|&n| {
                pipeline::aggregate_data(pipeline::transform_data(pipeline::generate_data(n)))
            })
            .collect();
        dask::compute_with(&graph, &threads())
    });
    let computed = computed?;
    checks.floats(
        "pipeline serial",
        &flatten(&serial),
        &stats_list(&pipe["results"]["numpy"]),
    );
    checks.floats(
        "pipeline compute",
        &flatten(&computed),
        &stats_list(&pipe["results"]["dask"]),
    );
    let label = format!(
        "pipeline, sizes {}",
        sizes
            .pipeline_sizes
            .iter()
            .map(|&n| report::thousands(n))
            .collect::<Vec<_>>()
            .join(" / ")
    );
    for (python, theirs, ours, mine) in [
        (
            "NumPy, serial",
            &pipe["numpy"],
            "serial Rust loop",
            &serial_s,
        ),
        (
            "Dask + NumPy, threads",
            &pipe["dask"],
            "dask::compute",
            &compute_s,
        ),
    ] {
        table.push_seconds(&label, python, &numbers(theirs)?, ours, mine);
    }

    // bar over 0..6.
    eprintln!("  rust: bar");
    let items = sizes.bar_items;
    parallel.map(0..items, map::bar_eager)?; // warm-up, as on the Python side
    let (squares, bar_s) = timed(sizes.bar_runs, || parallel.map(0..items, map::bar_eager));
    let squares: Vec<u64> = squares?.into_iter().map(|x| x as u64).collect();
    let theirs: Vec<u64> = py["bar"]["result"]
        .as_array()
        .map(|xs| xs.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    checks.equal("bar", squares, theirs);
    table.push_seconds(
        &format!("bar over 0..{items}"),
        "joblib n_jobs=2",
        &numbers(&py["bar"]["joblib"])?,
        "Parallel::new(2).map",
        &bar_s,
    );

    // Peak memory of the tree reduction.
    eprintln!("  rust: memory");
    let mem = &py["memory"];
    let (tasks, elems) = (sizes.memory_tasks, sizes.memory_elems);
    let array_mib = (elems * 8) as f64 / (1024.0 * 1024.0);
    for scheduler in ["threads", "sync"] {
        let (result, deltas) = memory(scheduler, tasks, elems, runs)?;
        let expected = (elems * tasks * (tasks + 1) / 2) as f64;
        checks.floats(&format!("memory {scheduler}"), &[result], &[expected]);
        let theirs = floats(&mem[format!("{scheduler}_results")]);
        checks.floats(
            &format!("memory {scheduler}"),
            &vec![result; theirs.len().max(1)],
            &theirs,
        );
        table.rows.push(Row::memory(
            &format!(
                "peak memory: tree over {tasks} arrays of {} f64",
                report::thousands(elems)
            ),
            scheduler,
            Figure::mib(&numbers(&mem[scheduler])?),
            Figure::mib(&deltas),
            array_mib,
        ));
    }

    // dask.array: the chunk-size sweep, (x + x.T).sum(), matmul.
    eprintln!("  rust: arrays");
    let sweep = arrays::run(&py, runs, &mut checks, &mut table)?;

    finish(&args, &py, runs, &load_before, &checks, &table)?;

    if let Some(dir) = &args.plots {
        std::fs::create_dir_all(dir)?;
        plots::overhead(&dir.join("overhead.svg"), &overhead_points)?;
        plots::scaling(&dir.join("scaling.svg"), scaling_size, &scaling)?;
        plots::chunk_sweep(&dir.join("chunk-size.svg"), &sweep)?;
        eprintln!("  rust: wrote {}", plot_names(dir));
    }
    Ok(())
}

/// Refuses to show anything unless both sides computed the same values, then prints the
/// header and the table and writes our JSON document.
fn finish(
    args: &Args,
    py: &Value,
    runs: usize,
    load_before: &str,
    checks: &Checks,
    table: &Table,
) -> BoxResult<()> {
    // Nothing is shown unless both sides computed the same values.
    if !checks.0.is_empty() {
        for problem in &checks.0 {
            eprintln!("MISMATCH {problem}");
        }
        return Err(format!("{} results differ between Python and Rust", checks.0.len()).into());
    }
    let load_after = load_average();
    println!(
        "Python {} with Dask {}, NumPy {}, joblib {}; {WORKERS} workers on both sides; \
         median of {runs} runs (min–max), ours on the overhead rows of {runs} to 50 runs \
         adding up to 0.5 s; every result checked equal on both sides.",
        py["versions"]["python"].as_str().unwrap_or("?"),
        py["versions"]["dask"].as_str().unwrap_or("?"),
        py["versions"]["numpy"].as_str().unwrap_or("?"),
        py["versions"]["joblib"].as_str().unwrap_or("?"),
    );
    println!(
        "Load average (1, 5, 15 min): Python side started at {}, Rust side {} → {}.",
        py["load_before"]
            .as_array()
            .map(|l| l
                .iter()
                .map(|x| format!("{:.2}", x.as_f64().unwrap_or(0.0)))
                .collect::<Vec<_>>()
                .join(" "))
            .unwrap_or_default(),
        load_before,
        load_after
    );
    println!();
    print!("{}", table.markdown(!args.smoke));

    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&table.to_json())?)?;
    }
    Ok(())
}

fn plot_names(dir: &Path) -> String {
    format!(
        "{}, {} and {}",
        dir.join("overhead.svg").display(),
        dir.join("scaling.svg").display(),
        dir.join("chunk-size.svg").display()
    )
}
