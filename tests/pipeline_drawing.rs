//! The lecture's pipeline drawn as `compute` runs it: the same graph in DOT, JSON and SVG.

use dask::{delayed, Delayed, NodeKind, TaskGraph};

#[delayed]
fn generate_data(size: usize) -> Vec<f64> {
    (0..size).map(|i| i as f64).collect()
}

#[delayed]
fn transform_data(data: &Vec<f64>) -> Vec<f64> {
    data.iter().map(|x| x * 2.0).collect()
}

#[delayed]
fn aggregate_data(data: &Vec<f64>) -> f64 {
    data.iter().sum()
}

fn pipeline() -> Vec<Delayed<f64>> {
    [10, 20, 30]
        .into_iter()
        .map(|n| aggregate_data(transform_data(generate_data(n))))
        .collect()
}

#[test]
fn the_graph_is_what_compute_runs() {
    let outs = pipeline();
    let g = dask::graph(&outs);
    assert_eq!((g.len(), g.edge_count()), (9, 6));
    for name in ["generate_data", "transform_data", "aggregate_data"] {
        assert_eq!(
            g.nodes().filter(|(_, n)| n.name == name).count(),
            3,
            "{name}"
        );
    }
    assert!(g.nodes().all(|(_, n)| n.kind == NodeKind::Task));
    // Sequential order is depth-first: each pipeline finishes before the next starts.
    let order: Vec<&str> = {
        let mut nodes: Vec<_> = g
            .nodes()
            .map(|(_, n)| (n.order.unwrap(), n.name.as_str()))
            .collect();
        nodes.sort();
        nodes.into_iter().map(|(_, name)| name).collect()
    };
    assert_eq!(
        &order[..3],
        ["generate_data", "transform_data", "aggregate_data"]
    );
    // Keys in the drawing are the handles' keys.
    assert!(g.find(outs[0].key()).is_some());
}

#[test]
fn shared_nodes_are_drawn_once() {
    let data = generate_data(5);
    let a = aggregate_data(&data);
    let b = aggregate_data(transform_data(&data));
    let g = dask::graph((&a, &b));
    assert_eq!(g.len(), 4);
    assert_eq!(
        g.nodes().filter(|(_, n)| n.name == "generate_data").count(),
        1
    );
}

#[test]
fn visualize_writes_every_format_and_json_reads_back() {
    let outs = pipeline();
    let dir = std::env::temp_dir().join(format!("dask-pipeline-drawing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    outs[0].visualize(dir.join("one.json")).unwrap();
    let one =
        TaskGraph::from_json(&std::fs::read_to_string(dir.join("one.json")).unwrap()).unwrap();
    assert_eq!(one.len(), 3);

    let g = dask::graph(&outs);
    for ext in ["svg", "dot", "json"] {
        g.save(dir.join(format!("pipeline.{ext}"))).unwrap();
    }
    let svg = std::fs::read_to_string(dir.join("pipeline.svg")).unwrap();
    assert!(
        svg.contains("<svg") && svg.contains("generate_data") && svg.contains("aggregate_data")
    );
    let dot = std::fs::read_to_string(dir.join("pipeline.dot")).unwrap();
    assert!(dot.starts_with("digraph") && dot.contains("transform_data"));
    let back =
        TaskGraph::from_json(&std::fs::read_to_string(dir.join("pipeline.json")).unwrap()).unwrap();
    assert_eq!(back, g);
    let err = outs[0].visualize(dir.join("graph.png")).unwrap_err();
    assert!(err.to_string().contains(".png"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
