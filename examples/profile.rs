//! The profiler on the lecture's workloads: `calculation` split into chunks and the
//! generate → transform → aggregate pipeline, each run with `Config::profiler`, then a
//! self-contained HTML report (graph coloured by time spent, timeline, summary, figures),
//! the Chrome trace (open it in <https://ui.perfetto.dev> or `chrome://tracing`) and the
//! timeline SVG, written to `target/profile/` (or OUTPUT_DIR).
//!
//! ```text
//! cargo run --release --example profile [-- OUTPUT_DIR]
//! cargo run --release --example profile -- --progress      # also draws the progress bar
//! cargo run --release --example profile -- --overhead [N]  # profiler cost per empty task
//! ```

use std::time::{Duration, Instant};

use dask::{delayed, Config, Delayed, Profiler, Scheduler};

use chunked::chunked_calculation;

/// Five `calculation(size)` calls, each split into `chunks` tasks and a mean.
fn chunked_calculations(size: u64, chunks: u64) -> Vec<Delayed<f64>> {
    (0..5)
        .map(|seed| chunked_calculation(seed, size, chunks))
        .collect()
}

#[path = "workloads/calculation.rs"]
mod calculation;
#[path = "workloads/chunked.rs"]
mod chunked;
#[path = "workloads/random.rs"]
mod random;
#[path = "workloads/pipeline.rs"]
mod workloads;

use workloads::{aggregate_data, generate_data, transform_data, Stats};

fn pipeline() -> Vec<Delayed<Stats>> {
    [1_000_000, 2_000_000, 3_000_000]
        .into_iter()
        .map(|n| aggregate_data(transform_data(generate_data(n))))
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--overhead") {
        let n = args
            .get(i + 1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(1_000_000);
        overhead(n);
        return Ok(());
    }
    let progress = args.iter().any(|a| a == "--progress");
    let dir = std::path::PathBuf::from(
        args.iter()
            .find(|a| !a.starts_with("--"))
            .cloned()
            .unwrap_or_else(|| "target/profile".into()),
    );
    std::fs::create_dir_all(&dir)?;

    let profiler = Profiler::new();
    let config = Config::default().profiler(&profiler).progress(progress);

    let calc = chunked_calculations(2_000_000, 20);
    let pipe = pipeline();
    // One graph drawn for both workloads: the report colours it by time spent.
    let mut graph = dask::graph(&calc);
    let pipe_graph = dask::graph(&pipe);
    let offset: Vec<_> = pipe_graph
        .nodes()
        .map(|(_, info)| graph.add_node(info.clone()))
        .collect();
    for (from, to, edge) in pipe_graph.edges() {
        graph.add_edge(offset[from.index()], offset[to.index()], edge.position);
    }

    let start = Instant::now();
    let means = dask::compute_with(&calc, &config)?;
    println!("calculation: {means:.6?} in {:.0?}", start.elapsed());
    let start = Instant::now();
    let stats = dask::compute_with(&pipe, &config)?;
    println!("pipeline: {stats:.4?} in {:.0?}", start.elapsed());

    println!("\n{}", profiler.summary_table());
    let report = dir.join("report.html");
    profiler.save_report(&report, Some(&graph))?;
    let trace = dir.join("trace.json");
    profiler.save_chrome_trace(&trace)?;
    let timeline = dir.join("timeline.svg");
    std::fs::write(&timeline, profiler.timeline_svg())?;
    for path in [report, trace, timeline] {
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// What the profiler adds to an empty task: a fan-out of `n` empty tasks and a join on
/// two threads, with and without the profiler, median of 7 interleaved runs.
fn overhead(n: usize) {
    #[derive(Clone, Copy)]
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
    let plain = Config::default().scheduler(Scheduler::Threads(2));
    let build = || {
        let root = source();
        vec![join((0..n).map(|_| leaf(&root)).collect::<Vec<_>>())]
    };
    let run = |config: &Config| -> Duration {
        let graph = build();
        let start = Instant::now();
        dask::compute_with(&graph, config).expect("the benchmark graph computes");
        start.elapsed()
    };
    run(&plain);
    let (mut off, mut on) = (vec![], vec![]);
    for _ in 0..7 {
        off.push(run(&plain));
        let profiler = Profiler::new();
        on.push(run(&plain.clone().profiler(&profiler)));
        assert_eq!(profiler.records().len(), n + 2);
    }
    let per_task = |mut xs: Vec<Duration>| {
        xs.sort();
        xs[xs.len() / 2].as_nanos() as f64 / (n + 2) as f64
    };
    let (off, on) = (per_task(off), per_task(on));
    println!(
        "fan-out of {n} empty tasks on 2 threads, median of 7 (ns per task): \
         profiler off {off:.1}, on {on:.1}, added {:.1}",
        on - off
    );
}
