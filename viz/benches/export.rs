//! Export and layout timings against their budgets.
//!
//! `cargo bench -p dask-viz --bench export` prints the median of five runs of each:
//! JSON and DOT export of a 100,000-node graph (budget 1 s each), reading that JSON
//! back, the default SVG of it (collapsed), and the embedded layout of 500-node
//! graphs drawn node by node (budget 2 s).

use std::hint::black_box;
use std::time::{Duration, Instant};

use dask_viz::{Engine, NodeInfo, SvgOptions, TaskGraph};

const RUNS: usize = 5;

/// A `rows` × `cols` grid where each cell reads its upper and left neighbours, with
/// three functions taking turns, keys and types as the scheduler writes them.
fn wavefront(rows: usize, cols: usize) -> TaskGraph {
    let mut g = TaskGraph::with_capacity(rows * cols, 2 * rows * cols);
    let functions = ["generate_data", "transform_data", "aggregate_data"];
    let mut ids = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        for c in 0..cols {
            let i = r * cols + c;
            let name = functions[(r + c) % 3];
            let id = g.add_node(
                NodeInfo::task(
                    format!(
                        "{name}-{:016x}",
                        (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                    ),
                    name,
                    format!("pipeline::{name}"),
                )
                .with_type_name("alloc::vec::Vec<f64>")
                .with_size(8 * (i as u64 + 1))
                .with_order(i as u64),
            );
            if r > 0 {
                g.add_edge(ids[i - cols], id, 0);
            }
            if c > 0 {
                g.add_edge(ids[i - 1], id, 1);
            }
            ids.push(id);
        }
    }
    g
}

/// Independent generate → transform → aggregate chains summed at the end: long
/// columns and one wide join.
fn pipelines(chains: usize) -> TaskGraph {
    let mut g = TaskGraph::new();
    let total = g.add_node(NodeInfo::task("total-0", "total", "pipeline::total"));
    for i in 0..chains {
        let mut prev = None;
        for name in ["generate_data", "transform_data", "aggregate_data"] {
            let id = g.add_node(
                NodeInfo::task(
                    format!("{name}-{i:016x}"),
                    name,
                    format!("pipeline::{name}"),
                )
                .with_type_name("alloc::vec::Vec<f64>")
                .with_size(8_000_000),
            );
            if let Some(p) = prev {
                g.add_edge(p, id, 0);
            }
            prev = Some(id);
        }
        if let Some(p) = prev {
            g.add_edge(p, total, i as u32);
        }
    }
    g
}

/// One value read by every step of a long chain: many long edges from one node, which
/// share their dummies.
fn shared_value(steps: usize) -> TaskGraph {
    let mut g = TaskGraph::new();
    let config = g.add_node(NodeInfo::value("config-0", "config", "dask::delayed").with_size(64));
    let mut prev = None;
    for i in 0..steps {
        let id = g.add_node(NodeInfo::task(
            format!("step-{i:016x}"),
            "step",
            "pipeline::step",
        ));
        g.add_edge(config, id, 1);
        if let Some(p) = prev {
            g.add_edge(p, id, 0);
        }
        prev = Some(id);
    }
    g
}

struct Row {
    name: String,
    median: Duration,
    min: Duration,
    max: Duration,
    budget: Option<Duration>,
}

fn measure<T>(name: impl Into<String>, budget: Option<Duration>, mut f: impl FnMut() -> T) -> Row {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            start.elapsed()
        })
        .collect();
    times.sort();
    Row {
        name: name.into(),
        median: times[RUNS / 2],
        min: times[0],
        max: times[RUNS - 1],
        budget,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    // Under `cargo test --benches` the harness passes `--bench` only when benchmarking;
    // a quick smoke run keeps `cargo test --all-targets` fast.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let (rows, cols) = if benchmarking { (100, 1000) } else { (10, 100) };

    let big = wavefront(rows, cols);
    let json = big.to_json();
    let mut table = vec![
        measure(
            format!("to_json, {} nodes", big.len()),
            Some(Duration::from_secs(1)),
            || big.to_json(),
        ),
        measure(
            format!("to_dot, {} nodes", big.len()),
            Some(Duration::from_secs(1)),
            || big.to_dot(),
        ),
        measure(format!("from_json, {} nodes", big.len()), None, || {
            TaskGraph::from_json(&json).map(|g| g.len())
        }),
        measure(
            format!("to_svg default (collapsed), {} nodes", big.len()),
            None,
            || big.to_svg_with(&SvgOptions::default().engine(Engine::Embedded)),
        ),
    ];
    let full = SvgOptions::default()
        .engine(Engine::Embedded)
        .collapse_above(None);
    let grid = wavefront(20, 25);
    table.push(measure(
        format!("embedded SVG, {}-node wavefront", grid.len()),
        Some(Duration::from_secs(2)),
        || grid.to_svg_with(&full),
    ));
    let chains = pipelines(166);
    table.push(measure(
        format!("embedded SVG, {}-node pipelines", chains.len()),
        Some(Duration::from_secs(2)),
        || chains.to_svg_with(&full),
    ));
    let bus = shared_value(499);
    table.push(measure(
        format!("embedded SVG, {}-node shared-value chain", bus.len()),
        Some(Duration::from_secs(2)),
        || bus.to_svg_with(&full),
    ));

    println!(
        "\n{:<46} {:>10} {:>10} {:>10} {:>8}",
        "benchmark (median of 5)", "median", "min", "max", "budget"
    );
    for row in &table {
        let verdict = match row.budget {
            Some(b) if row.median <= b => format!("ok <{}s", b.as_secs()),
            Some(b) => format!("OVER {}s", b.as_secs()),
            None => "-".to_owned(),
        };
        println!(
            "{:<46} {:>10} {:>10} {:>10} {:>8}",
            row.name,
            ms(row.median),
            ms(row.min),
            ms(row.max),
            verdict
        );
    }
    println!("JSON document: {:.1} MB", json.len() as f64 / 1e6);
}
