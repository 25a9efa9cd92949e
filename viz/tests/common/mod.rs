//! Helpers shared by the integration tests.

#![allow(dead_code)] // Each test binary uses its own subset.

use dask_viz::{NodeInfo, TaskGraph};

/// Whether a test that needs `program` should run. Missing programs skip the test
/// with a notice on a developer's machine, but fail it in CI (`CI=true`), where the
/// install script must have provided them.
pub fn have(program: &str, available: bool) -> bool {
    if available {
        return true;
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    assert!(
        !in_ci,
        "`{program}` is required when CI=true but was not found (see scripts/test-deps.sh)"
    );
    eprintln!("notice: `{program}` not found; skipping this test (it fails when CI=true)");
    false
}

/// `n` generate → transform → aggregate pipelines, as Dask's tutorial builds them.
pub fn pipelines(n: usize) -> TaskGraph {
    let mut g = TaskGraph::new();
    for i in 0..n {
        let size = 1_000_000 * (i as u64 + 1);
        let gen = g.add_node(
            NodeInfo::task(
                format!("generate_data-{i:016x}"),
                "generate_data",
                "pipeline::generate_data",
            )
            .with_type_name("alloc::vec::Vec<f64>")
            .with_size(size * 8)
            .with_order(3 * i as u64),
        );
        let tr = g.add_node(
            NodeInfo::task(
                format!("transform_data-{i:016x}"),
                "transform_data",
                "pipeline::transform_data",
            )
            .with_type_name("alloc::vec::Vec<f64>")
            .with_size(size * 8)
            .with_order(3 * i as u64 + 1),
        );
        let agg = g.add_node(
            NodeInfo::task(
                format!("aggregate_data-{i:016x}"),
                "aggregate_data",
                "pipeline::aggregate_data",
            )
            .with_type_name("pipeline::Stats")
            .with_size(32)
            .with_order(3 * i as u64 + 2),
        );
        g.add_edge(gen, tr, 0);
        g.add_edge(tr, agg, 0);
    }
    g
}
