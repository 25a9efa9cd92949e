//! Writes seed inputs for the fuzz targets with dask-viz's own writers:
//! `cargo run --manifest-path fuzz/seedgen/Cargo.toml -- fuzz/corpus`
//! writes `<dir>/from_json/seed-*.json` and `<dir>/from_dot/seed-*.dot`.
//! (Hand-written seeds, in Dask's style and with deliberate errors, sit next to them.)

use std::fs;
use std::path::Path;

use dask_viz::{ColorBy, DotOptions, NodeInfo, RankDir, TaskGraph};

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

fn diamond() -> TaskGraph {
    let mut g = TaskGraph::new();
    let a = g.add_node(NodeInfo::task("load-1", "load", "m::load").with_size(1_000));
    let b = g.add_node(NodeInfo::task("left-2", "left", "m::left").with_type_name("f64"));
    let c = g.add_node(NodeInfo::task("right-3", "right", "m::right").with_duration_ns(7));
    let d = g.add_node(NodeInfo::task("join-4", "join", "m::join").with_order(3));
    g.add_edge(a, b, 0);
    g.add_edge(a, c, 0);
    g.add_edge(b, d, 0);
    g.add_edge(c, d, 1);
    g
}

fn single_value() -> TaskGraph {
    let mut g = TaskGraph::new();
    g.add_node(
        NodeInfo::value("value-0", "value", "dask::delayed")
            .with_type_name("alloc::string::String")
            .with_size(u64::MAX),
    );
    g
}

/// Keys and names that need escaping in both formats.
fn escaping() -> TaskGraph {
    let mut g = TaskGraph::new();
    let a = g.add_node(NodeInfo::task(
        "key \"with\" quotes\\ and\nnewline -> n1 [color=red]",
        "<script>alert(\"x\")</script>",
        "evil::<script>",
    ));
    let b = g.add_node(NodeInfo::value("}", "\\N \\G", "x&amp;y"));
    let c = g.add_node(
        NodeInfo::task("ünïcødé 🦀 &#65; {", "tab\there", "a::b\r\n")
            .with_type_name("Vec<HashMap<&str, f64>>"),
    );
    g.add_edge(b, a, 0);
    g.add_edge(a, c, 0);
    g.add_edge(b, c, 1);
    g.add_edge(b, c, 1);
    g
}

/// Several calls of the same functions, so collapsed drawings have groups and counts.
fn repeated(n: usize) -> TaskGraph {
    let mut g = TaskGraph::new();
    let mut outs = Vec::new();
    for i in 0..n {
        let gen =
            g.add_node(NodeInfo::task(format!("gen-{i}"), "gen", "p::gen").with_size(8 * i as u64));
        let tr = g.add_node(NodeInfo::task(format!("tr-{i}"), "tr", "p::tr"));
        let tr2 = g.add_node(NodeInfo::task(format!("tr2-{i}"), "tr", "p::tr"));
        g.add_edge(gen, tr, 0);
        g.add_edge(tr, tr2, 0);
        outs.push(tr2);
    }
    let sum = g.add_node(NodeInfo::task("sum-x", "sum", "p::sum"));
    for o in outs {
        g.add_edge(o, sum, 0);
    }
    g
}

fn write(dir: &Path, name: &str, text: &str) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(name), text).unwrap();
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .expect("usage: seedgen <corpus dir>");
    let out = Path::new(&out);
    let graphs = [
        ("empty", TaskGraph::new()),
        ("pipeline", pipeline()),
        ("diamond", diamond()),
        ("value", single_value()),
        ("escaping", escaping()),
        ("repeated", repeated(3)),
    ];
    for (name, graph) in &graphs {
        let json = graph.to_json();
        assert_eq!(TaskGraph::from_json(&json).as_ref(), Ok(graph), "{name}");
        write(&out.join("from_json"), &format!("seed-{name}.json"), &json);
        write(
            &out.join("from_dot"),
            &format!("seed-{name}.dot"),
            &graph.to_dot(),
        );
    }
    // A collapsed drawing (groups, counts on edges, a caption, fills) and a coloured one.
    let collapsed = repeated(3).to_dot_with(
        &DotOptions::default()
            .collapse_above(Some(2))
            .color(ColorBy::Function)
            .rankdir(RankDir::LeftToRight),
    );
    write(&out.join("from_dot"), "seed-collapsed.dot", &collapsed);
    let coloured = pipeline().to_dot_with(&DotOptions::default().color(ColorBy::Duration));
    write(&out.join("from_dot"), "seed-coloured.dot", &coloured);
}
