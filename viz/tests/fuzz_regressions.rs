//! Inputs that crashed the cargo-fuzz targets in `fuzz/`, minimized and kept in
//! `fuzz/regressions/<target>/`. Each is replayed through what its target checks: the
//! reader answers with a graph or an error, never a panic; and a graph it accepts
//! reads back equal from its JSON, its own DOT reads back (no syntax error), and it
//! draws. A new crash input only needs to be dropped into the right folder.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use dask_viz::{Engine, GraphError, SvgOptions, TaskGraph};

fn regressions(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// What `fuzz/fuzz_targets/common/mod.rs` checks on every accepted graph, minus the
/// exact DOT round-trip comparison (which is about fidelity, not crashes).
fn check_accepted(graph: &TaskGraph) {
    let json = graph.to_json();
    assert_eq!(TaskGraph::from_json(&json).as_ref(), Ok(graph), "{json}");
    let dot = graph.to_dot();
    if let Err(err @ (GraphError::DotSyntax { .. } | GraphError::DotTooDeep { .. })) =
        TaskGraph::from_dot(&dot)
    {
        panic!("from_dot refused what to_dot wrote: {err}\n{dot}")
    }
    let _ = graph.collapse_by_function();
    if graph.len() <= 200 {
        for collapse in [None, Some(0)] {
            let options = SvgOptions::default()
                .engine(Engine::Embedded)
                .collapse_above(collapse);
            graph.to_svg_with(&options).unwrap();
        }
    }
}

/// Replays every input of `target`, then fails naming all that panicked.
fn replay(target: &str, read: fn(&str) -> Result<TaskGraph, GraphError>) {
    let files = regressions(target);
    let failed: Vec<String> = files
        .iter()
        .filter(|path| {
            let bytes = std::fs::read(path).unwrap();
            // The fuzz targets read bytes the same way.
            let text = String::from_utf8_lossy(&bytes);
            catch_unwind(AssertUnwindSafe(|| {
                if let Ok(graph) = read(&text) {
                    check_accepted(&graph);
                }
            }))
            .is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} {target} regression inputs panicked: {failed:#?}",
        failed.len(),
        files.len()
    );
}

#[test]
fn from_json_regressions_do_not_panic() {
    replay("from_json", TaskGraph::from_json);
}

#[test]
fn from_dot_regressions_do_not_panic() {
    replay("from_dot", TaskGraph::from_dot);
}
