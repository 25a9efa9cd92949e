//! `TaskGraph::from_json` on arbitrary text: it must return Ok or Err, never panic,
//! hang or exhaust memory; and every graph it accepts must pass `common::check_accepted`
//! (JSON round trip to an equal graph, DOT round trip, drawings that do not panic).
#![no_main]

mod common;

use dask_viz::TaskGraph;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // check_accepted reads DOT back, so the parser's caught panics must not abort.
    common::install_panic_hook();
    let text = common::text(data);
    if let Ok(graph) = TaskGraph::from_json(&text) {
        common::check_accepted(&graph);
    }
});
