//! The lecture's generate → transform → aggregate pipeline for three sizes, computed as
//! one graph, and drawn before it runs (`target/pipeline/pipeline.{svg,dot,json}`).
//!
//! `cargo run --release --example pipeline [-- OUTPUT_DIR]`

use std::time::Instant;

use dask::{delayed, Delayed};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub mean: f64,
    pub std: f64,
    pub max: f64,
}

/// `size` pseudo-random values in [0, 1) from a fixed seed (xorshift64*).
#[delayed]
fn generate_data(size: usize) -> Vec<f64> {
    let mut state = 0x2545_F491_4F6C_DD1D_u64 ^ size as u64;
    (0..size)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

#[delayed]
fn transform_data(data: &Vec<f64>) -> Vec<f64> {
    data.iter().map(|&x| (x * 2.0).sin() + x.sqrt()).collect()
}

#[delayed]
fn aggregate_data(data: &Vec<f64>) -> Stats {
    let n = data.len() as f64;
    let mean = data.iter().sum::<f64>() / n;
    let var = data.iter().map(|&x| (x - mean) * (x - mean)).sum::<f64>() / n;
    let max = data.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Stats {
        mean,
        std: var.sqrt(),
        max,
    }
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
    for (n, s) in sizes.iter().zip(&out) {
        println!(
            "size {n:>9}: mean {:.6}  std {:.6}  max {:.6}",
            s.mean, s.std, s.max
        );
    }
    println!("time: {:.1} ms", elapsed.as_secs_f64() * 1e3);
    Ok(())
}
