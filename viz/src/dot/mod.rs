//! Graphviz DOT: writing a task graph in Dask's visual language, and reading one back.

mod escape;
mod nesting;
mod pieces;
mod read;
pub(crate) mod write;

pub use read::{
    CALL_BUDGET_BASE, CALL_BUDGET_PER_BYTE, MAX_DOT_BYTES, MAX_DOT_EDGES, MAX_DOT_NESTING,
    MAX_DOT_RUN_BYTES,
};

use crate::model::TaskGraph;
use crate::options::DotOptions;
use crate::scene;

impl TaskGraph {
    /// The graph in Graphviz DOT, every node, no colours, top to bottom.
    ///
    /// A task is an ellipse named after its function, followed by a box for its result
    /// labelled with type and size where known; a value is a box. Edges go from a
    /// dependency (or its result box) to its reader. Node ids are generated (`n0`,
    /// `r0`); the key is the node's tooltip.
    pub fn to_dot(&self) -> String {
        self.to_dot_with(&DotOptions::default())
    }

    /// [`to_dot`](Self::to_dot) with a direction, colouring and collapse threshold.
    pub fn to_dot_with(&self, options: &DotOptions) -> String {
        let scene = scene::build(self, options.color, options.collapse_above);
        write::print(&scene, options.rankdir)
    }
}

#[cfg(test)]
mod tests {
    use crate::{ColorBy, DotOptions, GraphError, NodeInfo, NodeKind, RankDir, TaskGraph};

    fn pipeline() -> TaskGraph {
        let mut g = TaskGraph::new();
        let data = g.add_node(
            NodeInfo::value("data-7", "data", "dask::delayed")
                .with_type_name("alloc::vec::Vec<u8>")
                .with_size(3),
        );
        let gen = g.add_node(
            NodeInfo::task(
                "generate_data-3fa2c19b07d1e4a2",
                "generate_data",
                "pipeline::generate_data",
            )
            .with_type_name("alloc::vec::Vec<f64>")
            .with_size(8_000_000)
            .with_order(1)
            .with_duration_ns(1_234_567),
        );
        let agg = g.add_node(
            NodeInfo::task(
                "aggregate_data-00ff",
                "aggregate_data",
                "pipeline::aggregate_data",
            )
            .with_type_name("pipeline::Stats")
            .with_order(2),
        );
        g.add_edge(data, gen, 0);
        g.add_edge(gen, agg, 0);
        g.add_edge(data, agg, 1);
        g
    }

    fn count(haystack: &str, needle: &str) -> usize {
        haystack.matches(needle).count()
    }

    #[test]
    fn tasks_are_ellipses_with_result_boxes() {
        let dot = pipeline().to_dot();
        assert!(dot.starts_with("digraph dask {"), "{dot}");
        assert_eq!(count(&dot, "shape=ellipse"), 2);
        assert_eq!(count(&dot, "shape=box"), 3);
        // Three graph edges plus one task → result edge per task.
        assert_eq!(count(&dot, " -> "), 5);
        assert!(dot.contains("n1 -> r1"));
        assert!(dot.contains("r1 -> n2"));
        assert!(dot.contains("n0 -> n2"));
        assert!(dot.contains(r#"label="Vec&lt;f64&gt;\n8.0 MB""#), "{dot}");
        assert!(dot.contains(r#"tooltip="generate_data-3fa2c19b07d1e4a2\n"#));
        assert!(dot.contains("rankdir=TB"));
        assert!(!dot.contains("fillcolor"));
    }

    #[test]
    fn options_set_direction_and_colours() {
        let dot = pipeline().to_dot_with(
            &DotOptions::default()
                .rankdir(RankDir::LeftToRight)
                .color(ColorBy::Function),
        );
        assert!(dot.contains("rankdir=LR"));
        assert_eq!(count(&dot, "style=filled"), 5);
        let collapsed = pipeline().to_dot_with(&DotOptions::default().collapse_above(Some(2)));
        assert_eq!(count(&collapsed, " -> "), 3);
        assert!(collapsed.contains("×1"));
    }

    #[test]
    fn hostile_names_and_keys_are_escaped() {
        let mut g = TaskGraph::new();
        let a = g.add_node(NodeInfo::task(
            "key \"with\" quotes\\ and\nnewline -> n1 [color=red]",
            "<script>alert(\"x\")</script>",
            "evil::<script>",
        ));
        let b = g.add_node(NodeInfo::value("}", "\\N \\G", "x"));
        g.add_edge(b, a, 0);
        let dot = g.to_dot();
        assert!(!dot.contains("<script>"), "{dot}");
        assert!(dot.contains(r#"label="&lt;script&gt;alert(\"x\")&lt;/script&gt;""#));
        assert!(dot.contains(
            r#"tooltip="key \"with\" quotes\\ and\nnewline -&gt; n1 [color=red]\nfunction: evil::&lt;script&gt;""#
        ));
        assert!(dot.contains(r#"label="\\N \\G""#));
        // Ids never come from keys, and every line is one statement.
        assert_eq!(count(&dot, " -> "), 2);
        let back = TaskGraph::from_dot(&dot).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back.node(back.find("}").unwrap()).name, "\\N \\G");
        assert!(back.find("key \"with\" quotes\\ and").is_some());
    }

    #[test]
    fn our_dot_reads_back() {
        let original = pipeline();
        let back = TaskGraph::from_dot(&original.to_dot()).unwrap();
        assert_eq!(back.len(), 3);
        assert_eq!(back.edge_count(), 3);
        for ((_, a), (_, b)) in original.nodes().zip(back.nodes()) {
            assert_eq!(a, b);
        }
        let reader = back.find("aggregate_data-00ff").unwrap();
        let mut positions: Vec<u32> = back
            .edges()
            .filter(|(_, to, _)| *to == reader)
            .map(|(_, _, e)| e.position)
            .collect();
        positions.sort();
        assert_eq!(positions, [0, 1]);
    }

    #[test]
    fn dask_style_dot_reads_back() {
        let dot = r#"
            digraph {
                node [shape=box];
                "load-1" [label=load shape=ellipse];
                "load-1" -> out1 -> "sum-2";
                out1 [label="Vec<f64>\n2.0 kB"];
                "sum-2" [shape=ellipse];
                raw;
                raw -> "sum-2";
                subgraph cluster { x -> y }
            }"#;
        let g = TaskGraph::from_dot(dot).unwrap();
        let names: Vec<(&str, &str, NodeKind)> = g
            .nodes()
            .map(|(_, n)| (n.key.as_str(), n.name.as_str(), n.kind))
            .collect();
        assert_eq!(
            names,
            [
                ("load-1", "load", NodeKind::Task),
                ("sum-2", "sum-2", NodeKind::Task),
                ("raw", "raw", NodeKind::Value),
                ("x", "x", NodeKind::Value),
                ("y", "y", NodeKind::Value),
            ]
        );
        let load = g.node(g.find("load-1").unwrap());
        assert_eq!(load.type_name.as_deref(), Some("Vec<f64>"));
        assert_eq!(load.size, Some(2000));
        assert_eq!(g.edge_count(), 3);
    }

    #[test]
    fn bad_dot_is_an_error_not_a_panic() {
        let cases: &[(&str, &str)] = &[
            ("", "invalid DOT"),
            ("digraph {", "invalid DOT"),
            ("digraph { a -> }", "invalid DOT"),
            ("graph { a -- b }", "undirected"),
            ("digraph { a -> b -> a }", "cycle"),
            ("digraph { a -> a }", "cycle"),
            (
                "digraph { a [tooltip=k]; b [tooltip=k] }",
                "duplicate key `k`: nodes 0 and 1",
            ),
            ("digraph { a:p:q:r -> b }", "invalid DOT"),
            ("digraph { \"unterminated }", "invalid DOT"),
            ("\u{0}\u{ffff}", "invalid DOT"),
        ];
        for (input, expected) in cases {
            let err = TaskGraph::from_dot(input).unwrap_err().to_string();
            assert!(err.contains(expected), "{input:?}: {err}");
        }
        let deep = format!("digraph {}{}", "{ subgraph ".repeat(100), "}".repeat(100));
        assert!(matches!(
            TaskGraph::from_dot(&deep),
            Err(GraphError::DotTooDeep { depth: 100, .. })
        ));
        assert!(matches!(
            TaskGraph::from_dot_with_limit("digraph { a -> b }", 5),
            Err(GraphError::TooLarge { size: 18, limit: 5 })
        ));
    }

    #[test]
    fn invalid_dot_errors_name_the_line() {
        let err = TaskGraph::from_dot("digraph {\n a -> b\n c -> [\n}").unwrap_err();
        assert!(err.to_string().contains("3:"), "{err}");
    }
}
