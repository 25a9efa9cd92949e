//! The lecture's generate → transform → aggregate pipeline for three sizes, computed as
//! one graph, and drawn before it runs (`target/pipeline/pipeline.{svg,dot,json}`).
//!
//! `cargo run --release --example pipeline [-- OUTPUT_DIR]`

use std::time::Instant;

use dask::Delayed;

#[path = "workloads/random.rs"]
mod random;
#[path = "workloads/pipeline.rs"]
mod workloads;

use workloads::{aggregate_data, generate_data, transform_data, Stats};

/// `1000000` as `1,000,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sizes = [1_000_000, 2_000_000, 3_000_000];
    let stats: Vec<Delayed<Stats>> = sizes
        .into_iter()
        .map(|n| aggregate_data(transform_data(generate_data(n))))
        .collect();

    // Draw the graph exactly as `compute` will run it: nine tasks, three per size.
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/pipeline".into()),
    );
    std::fs::create_dir_all(&dir)?;
    let graph = dask::graph(&stats);
    for ext in ["svg", "dot", "json"] {
        let path = dir.join(format!("pipeline.{ext}"));
        graph.save(&path)?;
        println!("wrote {}", path.display());
    }

    let start = Instant::now();
    let out: Vec<Stats> = dask::compute(&stats)?;
    let elapsed = start.elapsed();
    // The lecture's data are uniform in [0, 1) at every size, so the statistics of the
    // three sizes agree to a few digits (as the lecture's own run prints them): the sizes
    // differ in how much work they are. Nine decimals show where they part.
    println!("generate_data(size) → transform_data → aggregate_data, per size:");
    for (n, s) in sizes.iter().zip(&out) {
        println!(
            "  size {:>9} values: mean {:.9}  std {:.9}  max {:.9}",
            thousands(*n),
            s.mean,
            s.std,
            s.max
        );
    }
    println!("(uniform data: the statistics barely depend on the size, by design)");
    println!("time: {:.1} ms", elapsed.as_secs_f64() * 1e3);
    Ok(())
}
