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
    /// `r0`); the node's tooltip starts with the key, and a key that the tooltip's
    /// first line cannot give back exactly (empty, several lines, control characters) is
    /// also written, escaped, in a `dask_key` attribute, so that
    /// [`from_dot`](Self::from_dot) reads every key back as it was.
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
        assert!(back
            .find("key \"with\" quotes\\ and\nnewline -> n1 [color=red]")
            .is_some());
    }

    /// Keys the tooltip's first line cannot give back: several lines, empty, control
    /// characters; and the escapes that could be confused with them.
    const AWKWARD_KEYS: [&str; 12] = [
        "plain\nnewline",
        "plain\nother",
        "plain",
        "",
        "back\\slash \\n \\\\",
        "\"quoted\" \\\"",
        "cr\r",
        "cr\r\nlf",
        "tab\there",
        "trailing\n",
        "\nleading\nsize: 5 bytes\norder: 9",
        "\u{0}\u{7f}\u{85} &amp; <b>",
    ];

    #[test]
    fn every_key_reads_back_exactly() {
        // The key used to come from the tooltip's first line only: "plain\nnewline"
        // read back as "plain" (and next to "plain\nother", as a duplicate key), an
        // empty key as the node id, control characters as spaces.
        let mut g = TaskGraph::new();
        let mut prev = None;
        for (i, key) in AWKWARD_KEYS.iter().enumerate() {
            let info = if i % 3 == 0 {
                NodeInfo::value(*key, "v", "m::v").with_size(i as u64)
            } else {
                NodeInfo::task(*key, "f", "m::f")
                    .with_type_name("T")
                    .with_order(i as u64)
            };
            let id = g.add_node(info);
            if let Some(p) = prev {
                g.add_edge(p, id, 0);
            }
            prev = Some(id);
        }
        for options in [
            DotOptions::default(),
            DotOptions::default().color(ColorBy::Order),
        ] {
            let dot = g.to_dot_with(&options);
            let back = TaskGraph::from_dot(&dot).unwrap_or_else(|e| panic!("{e}\n{dot}"));
            let nodes = |g: &TaskGraph| g.nodes().map(|(_, n)| n.clone()).collect::<Vec<_>>();
            assert_eq!(nodes(&back), nodes(&g), "{dot}");
            assert_eq!(back.edge_count(), g.edge_count());
            // One statement per line still, and the tooltip shows the key as before.
            let mut plain = g.clone();
            let ids: Vec<_> = plain.nodes().map(|(id, _)| id).collect();
            for id in ids {
                plain.node_mut(id).key = format!("k{}", id.index());
            }
            assert_eq!(
                dot.lines().count(),
                plain.to_dot_with(&options).lines().count()
            );
            assert!(
                dot.contains(r#"tooltip="plain\nother\nfunction: m::f\norder: 1""#),
                "{dot}"
            );
        }
        older_files_read_keys_from_the_tooltip_s_first_line();
    }

    #[test]
    fn plain_keys_are_written_as_before() {
        let dot = pipeline().to_dot();
        assert!(!dot.contains("dask_key"), "{dot}");
        let mut g = TaskGraph::new();
        g.add_node(NodeInfo::task("two\nlines", "f", "m::f"));
        let dot = g.to_dot();
        assert!(
            dot.contains(
                r#"tooltip="two\nlines\nfunction: m::f" class="task" dask_key="two\\nlines"]"#
            ),
            "{dot}"
        );
        // Result boxes and collapsed groups carry no key attribute.
        assert_eq!(dot.matches("dask_key").count(), 1, "{dot}");
    }

    /// What `to_dot` wrote before keys got their own attribute reads as it did.
    fn older_files_read_keys_from_the_tooltip_s_first_line() {
        let dot = r#"digraph dask {
            n0 [label="f", shape=ellipse, tooltip="plain\nnewline\nfunction: m::f\norder: 3"];
            n1 [label="g", shape=ellipse, tooltip="\nfunction: m::g"];
            n2 [label="h", shape=ellipse, tooltip="back\\slash \\n\nfunction: m::h"];
            n0 -> n1 -> n2
        }"#;
        let g = TaskGraph::from_dot(dot).unwrap();
        let keys: Vec<(&str, Option<u64>)> =
            g.nodes().map(|(_, n)| (n.key.as_str(), n.order)).collect();
        assert_eq!(
            keys,
            [("plain", Some(3)), ("n1", None), ("back\\slash \\n", None)]
        );
        // A key attribute that `to_dot` cannot have written is ignored, not trusted.
        let g = TaskGraph::from_dot(r#"digraph { a [tooltip="k", dask_key="bad\\x"] }"#).unwrap();
        assert_eq!(g.node(g.find("k").unwrap()).key, "k");
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
