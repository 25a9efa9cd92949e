//! Numbers and texts at the edges of what the public API accepts: the largest
//! `order`, far timeline rows, keys of any text. Each gets a drawing or a graph back,
//! never a panic, an abort or a drawing sized by a number rather than by the input.

mod support;

use std::process::Command;
use std::time::Duration;

use dask_viz::{
    dot_available, ColorBy, DotOptions, NodeInfo, SvgOptions, TaskGraph, Timeline, TimelineBar,
};
use support::{have, run_bounded, scratch_dir};

/// Two calls of one function, both at the largest order.
const TWO_AT_THE_LAST_ORDER: &str = r#"{"schema_version": 1, "nodes": [
    {"key": "f-1", "name": "f", "path": "m::f", "kind": "task", "order": 18446744073709551615},
    {"key": "f-2", "name": "f", "path": "m::f", "kind": "task", "order": 18446744073709551615}
]}"#;

#[test]
fn collapsed_drawings_take_the_largest_orders() {
    // The mean order of a group was a u64 sum: `attempt to add with overflow`.
    let graph = TaskGraph::from_json(TWO_AT_THE_LAST_ORDER).unwrap();
    let svg = graph
        .to_svg_with(&SvgOptions::default().collapse_above(Some(1)))
        .unwrap();
    assert!(svg.contains("×2"), "{svg}");
    let dot = graph.to_dot_with(
        &DotOptions::default()
            .color(ColorBy::Order)
            .collapse_above(Some(1)),
    );
    assert!(dot.contains("×2"), "{dot}");
    // The only group is both ends of the range: the gradient's first colour.
    assert!(dot.contains("fillcolor=\"#440154\""), "{dot}");
}

#[test]
fn a_big_graph_with_late_orders_draws_with_the_defaults() {
    // Above 500 nodes `to_svg` collapses by default, so the CLI's `render` crashed.
    let mut graph = TaskGraph::new();
    for i in 0..501u64 {
        graph.add_node(NodeInfo::task(format!("f-{i}"), "f", "m::f").with_order(u64::MAX - i));
    }
    let svg = graph.to_svg().unwrap();
    assert!(svg.contains("×501"), "{svg}");
}

#[test]
fn a_timeline_is_sized_by_its_bars_not_its_row_numbers() {
    // Row usize::MAX added a `row N` label for every row before it: an abort for want
    // of memory. (Row 20,000 is checked first, so that without the fix this test fails
    // rather than exhausting the machine.)
    let mut near = Timeline::new(Vec::new());
    near.add(TimelineBar::new(20_000, 0, 10, "f", "k"));
    assert!(near.to_svg().len() < 4_000);

    let mut timeline = Timeline::new(Vec::new());
    for row in [0, 5, usize::MAX] {
        timeline.add(TimelineBar::new(row, 0, 10, "f", "k"));
    }
    let svg = timeline.to_svg();
    assert!(svg.len() < 4_000, "{} bytes", svg.len());
    assert_eq!(svg.matches("<rect class=\"lane\"").count(), 3);
    for label in ["row 0", "row 5", &format!("row {}", usize::MAX)] {
        assert!(svg.contains(&format!(">{label}</text>")), "{label}: {svg}");
    }
}

const AWKWARD_KEYS: [&str; 10] = [
    "plain\nnewline",
    "plain\nanother",
    "",
    "back\\slash\\n",
    "\"quoted\" & <b>",
    "carriage\rreturn",
    "tab\there",
    "\r\n",
    "\\u{41}",
    "-->x--",
];

fn awkward_keys() -> TaskGraph {
    let mut graph = TaskGraph::new();
    let mut prev = None;
    for (i, key) in AWKWARD_KEYS.into_iter().enumerate() {
        let info = if i % 2 == 0 {
            NodeInfo::value(key, "v", "m::v")
        } else {
            NodeInfo::task(key, "f", "m::f")
        };
        let id = graph.add_node(info.with_order(i as u64));
        if let Some(p) = prev {
            graph.add_edge(p, id, 0);
        }
        prev = Some(id);
    }
    graph
}

fn keys(graph: &TaskGraph) -> Vec<&str> {
    graph.nodes().map(|(_, n)| n.key.as_str()).collect()
}

#[test]
fn keys_of_any_text_survive_a_dot_round_trip() {
    // The key came from the tooltip's first line: "plain\nnewline" read back as
    // "plain", an empty key as the node id, control characters as spaces.
    let graph = awkward_keys();
    let dot = graph.to_dot();
    let back = TaskGraph::from_dot(&dot).unwrap_or_else(|e| panic!("{e}\n{dot}"));
    assert_eq!(keys(&back), AWKWARD_KEYS, "{dot}");
    for (i, (_, node)) in back.nodes().enumerate() {
        assert_eq!(node.order, Some(i as u64));
    }
    assert_eq!(back.edge_count(), AWKWARD_KEYS.len() - 1);
}

#[test]
fn graphviz_takes_the_keys_without_a_warning_and_keeps_them() {
    if !have("dot", dot_available()) {
        return;
    }
    let dir = scratch_dir("graphviz_takes_the_keys");
    let path = dir.join("keys.dot");
    std::fs::write(&path, awkward_keys().to_dot()).unwrap();
    for format in ["-Tsvg", "-Tdot"] {
        let mut command = Command::new("dot");
        command.arg(format).arg(&path);
        let run = run_bounded(command, Duration::from_secs(60), &dir.join(&format[1..]));
        assert!(run.status.success(), "{format}: {}", run.stderr);
        assert_eq!(run.stderr, "", "{format}");
        if format == "-Tdot" {
            // Graphviz's rewrite of the file (it drops empty attributes, reflows
            // lines) still reads back with every key.
            let back =
                TaskGraph::from_dot(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", run.stdout));
            assert_eq!(keys(&back), AWKWARD_KEYS, "{}", run.stdout);
        }
    }
}
