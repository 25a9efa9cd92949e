//! The lecture's chunk-size exercise on the cluster backend: two processes on
//! 127.0.0.1 (copies of this test binary, as in `cluster.rs`) compute
//! `mean(sqrt(x**2))` and a 2-D array, and get what the local pool gets.

#![cfg(feature = "cluster")]

use std::time::Duration;

use dask::array::random::default_rng;
use dask::array::Chunks;

mod support;

const ROLE: &str = "DASK_ARRAY_CLUSTER_ROLE";

/// One process of the cluster: prints `RESULT key=value` lines.
#[test]
#[ignore = "a process of the test below, started by it"]
fn array_cluster_child() {
    let config =
        support::child_cluster_config(ROLE, "array_on_two_processes_matches_the_local_pool");
    // Seeded: every process must build the same graph.
    let rng = default_rng(11);
    for (label, chunks) in [
        ("100000", Chunks::from(100_000)),
        ("250000", Chunks::from(250_000)),
        ("auto", Chunks::Auto),
    ] {
        let m = rng.random(1_000_000, chunks).powi(2).sqrt().mean();
        let got = m
            .compute_with(&config)
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        println!("RESULT mean_{label}={got:?}");
        println!("RESULT local_{label}={:?}", m.compute().unwrap());
    }
    // Blocks themselves cross processes: a transpose, a rechunk and an axis reduction.
    let x = rng.random([60, 40], [25, 15]);
    let y = (&x + &x.rechunk([20, 40]).powi(2)).t().sum_axis(1);
    let got = y.compute_with(&config).unwrap();
    let local = y.compute().unwrap();
    println!("RESULT array_equal={}", got == local);
}

#[test]
fn array_on_two_processes_matches_the_local_pool() {
    let outs = support::run_cluster_children(
        "array_cluster_child",
        ROLE,
        "chunk-size",
        2,
        Duration::from_secs(120),
    );
    let result = support::result_line;
    for out in &outs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for label in ["100000", "250000", "auto"] {
            let (cluster, local) = (
                result(out, &format!("mean_{label}")),
                result(out, &format!("local_{label}")),
            );
            assert_eq!(cluster, local, "chunks {label}");
            let v: f64 = cluster.parse().unwrap();
            assert!((v - 0.5).abs() < 0.01);
        }
        assert_eq!(result(out, "array_equal"), "true");
    }
    // Both processes agree.
    assert_eq!(result(&outs[0], "mean_auto"), result(&outs[1], "mean_auto"));
}
