//! The `dask.array` rows: the lecture's chunk-size sweep of `mean(sqrt(x**2))` (random
//! values generated inside the timing, as Dask does) beside serial NumPy and a plain Rust
//! loop, `(x + x.T).sum()` in 2-D, and a chunked matmul beside NumPy's `dot`.
//!
//! Values are random on both sides, so each result is checked against its expected value
//! (within what the sample size allows), not against the other side's.

use dask::array::{self, Chunks};
use serde_json::Value;

use super::{numbers, report, timed, BoxResult, Checks, Table};

/// A result within `tolerance` (relative) of what the distribution gives.
fn near(checks: &mut Checks, what: &str, value: f64, expected: f64, tolerance: f64) {
    if (value - expected).abs() > tolerance * expected.abs() {
        checks
            .0
            .push(format!("{what}: {value}, expected about {expected}"));
    }
}

/// The serial Rust loop: fill one vector with random numbers, reduce it.
fn plain_loop(n: usize) -> f64 {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let values: Vec<f64> = (0..n)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect();
    values.iter().map(|v| (v * v).sqrt()).sum::<f64>() / n as f64
}

pub fn run(
    py: &Value,
    runs: usize,
    checks: &mut Checks,
    table: &mut Table,
) -> BoxResult<super::plots::Sweep> {
    let theirs = &py["array"];
    let config = &py["config"];
    let int = |name: &str| -> BoxResult<usize> {
        config[name]
            .as_u64()
            .map(|v| v as usize)
            .ok_or_else(|| format!("config.{name} is not a number").into())
    };
    let n = int("array_size")?;
    let label = format!("mean(sqrt(x**2)), {} random values", report::thousands(n));
    let mut plot = super::plots::Sweep {
        n,
        dask: Vec::new(),
        ours: Vec::new(),
        numpy: 0.0,
        plain: 0.0,
    };
    let median = |xs: &[f64]| report::Figure::of(xs).median;
    let sweep = theirs["sweep"].as_array().ok_or("no array sweep")?;
    for row in sweep {
        let (chunks, name) = match row["chunks"].as_u64() {
            Some(c) => (Chunks::from(c as usize), report::thousands(c as usize)),
            None => (Chunks::Auto, "auto".to_string()),
        };
        let x = array::random(n, chunks);
        let m = x.powi(2).sqrt().mean();
        let (value, mine) = timed(runs, || m.compute_with(&super::threads()));
        near(checks, &format!("array sweep {name}"), value?, 0.5, 1e-2);
        if let Some(v) = row["result"].as_f64() {
            near(checks, &format!("dask sweep {name}"), v, 0.5, 1e-2);
        }
        let python = format!(
            "dask.array chunks {name} ({} chunks)",
            row["numblocks"].as_u64().unwrap_or(0)
        );
        let ours = format!("chunks {name} ({} chunks)", x.numblocks()[0]);
        let blocks = row["numblocks"].as_u64().unwrap_or(1).max(1) as f64;
        plot.dask
            .push((n as f64 / blocks, median(&numbers(&row["seconds"])?)));
        plot.ours.push((x.chunks()[0][0] as f64, median(&mine)));
        table.push_seconds(&label, &python, &numbers(&row["seconds"])?, &ours, &mine);
    }
    let (value, mine) = timed(runs, || plain_loop(n));
    near(checks, "plain loop", value, 0.5, 1e-2);
    plot.plain = median(&mine);
    plot.numpy = median(&numbers(&theirs["numpy"])?);
    table.push_seconds(
        &label,
        "NumPy, serial",
        &numbers(&theirs["numpy"])?,
        "plain Rust loop, serial",
        &mine,
    );

    let (side, chunk) = (int("array_side")?, int("array_side_chunk")?);
    let x = array::random([side, side], [chunk, chunk]);
    let total = (&x + &x.t()).sum();
    let (value, mine) = timed(runs, || total.compute_with(&super::threads()));
    let cells = (side * side) as f64;
    near(checks, "(x + x.T).sum()", value?, cells, 1e-2);
    table.push_seconds(
        &format!("(x + x.T).sum(), {side} x {side}, chunks {chunk} x {chunk}"),
        "dask.array",
        &numbers(&theirs["transpose_sum"])?,
        "dask::array",
        &mine,
    );

    let (side, chunk) = (int("matmul_side")?, int("matmul_chunk")?);
    let a = array::random([side, side], [chunk, chunk]);
    let b = array::random([side, side], [chunk, chunk]);
    let product = a.matmul(&b).mean();
    let (value, mine) = timed(runs, || product.compute_with(&super::threads()));
    // Each element sums `side` products of two uniforms (mean 1/4 each); the mean's
    // relative spread is about 0.4% at side 200 (the smoke run), so 5% never trips.
    near(checks, "matmul mean", value?, side as f64 / 4.0, 5e-2);
    let label = format!("matmul {side} x {side}, chunks {chunk} x {chunk}");
    table.push_seconds(
        &label,
        "dask.array",
        &numbers(&theirs["matmul"])?,
        "dask::array",
        &mine,
    );
    table.push_seconds(
        &label,
        "NumPy dot (OpenBLAS), in memory",
        &numbers(&theirs["numpy_dot"])?,
        "dask::array",
        &mine,
    );
    Ok(plot)
}
