//! Properties every layout must have, checked on graphs of several shapes in all four
//! directions.

use super::*;

fn node(width: f64, round: bool) -> NodeSpec {
    NodeSpec {
        width,
        height: if round { 30.0 } else { 24.0 },
        round,
    }
}

fn edge(from: usize, to: usize) -> EdgeSpec {
    EdgeSpec {
        from,
        to,
        label: None,
    }
}

/// Three generate → transform → aggregate pipelines into one total, result boxes
/// between, as the scene draws them.
fn pipelines() -> (Vec<NodeSpec>, Vec<EdgeSpec>) {
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let total = 0;
    nodes.push(node(60.0, true));
    for _ in 0..3 {
        let base = nodes.len();
        for (w, round) in [
            (120.0, true),
            (70.0, false),
            (125.0, true),
            (70.0, false),
            (130.0, true),
            (50.0, false),
        ] {
            nodes.push(node(w, round));
        }
        for i in 0..5 {
            edges.push(edge(base + i, base + i + 1));
        }
        edges.push(edge(base + 5, total));
    }
    (nodes, edges)
}

/// An n × n grid where each cell reads its upper and left neighbours: many rejoining
/// paths (the case that made layout-rs take 38 s at 14 × 14).
fn wavefront(n: usize) -> (Vec<NodeSpec>, Vec<EdgeSpec>) {
    let nodes = (0..n * n)
        .map(|i| node(40.0 + (i % 7) as f64 * 9.0, i % 2 == 0))
        .collect();
    let mut edges = Vec::new();
    for r in 0..n {
        for c in 0..n {
            if r > 0 {
                edges.push(edge((r - 1) * n + c, r * n + c));
            }
            if c > 0 {
                edges.push(edge(r * n + c - 1, r * n + c));
            }
        }
    }
    (nodes, edges)
}

/// A deterministic pseudo-random DAG: edges only from lower to higher index.
fn random_dag(n: usize, edges_per_node: usize, seed: u64) -> (Vec<NodeSpec>, Vec<EdgeSpec>) {
    let mut state = seed;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    let nodes = (0..n)
        .map(|i| node(30.0 + (next() % 100) as f64, i % 3 != 0))
        .collect();
    let mut edges = Vec::new();
    for to in 1..n {
        for _ in 0..1 + next() % edges_per_node {
            let from = next() % to;
            edges.push(edge(from, to));
        }
    }
    (nodes, edges)
}

/// Like a collapsed graph: cycles, self-loops, parallel edges, labels everywhere.
fn cyclic_with_labels() -> (Vec<NodeSpec>, Vec<EdgeSpec>) {
    let nodes = vec![
        node(90.0, true),
        node(110.0, true),
        node(70.0, false),
        node(100.0, true),
    ];
    let pairs = [
        (0, 1),
        (1, 2),
        (2, 1),
        (1, 1),
        (1, 1),
        (2, 3),
        (3, 0),
        (0, 3),
        (0, 1),
    ];
    let edges = pairs
        .iter()
        .enumerate()
        .map(|(i, &(from, to))| EdgeSpec {
            from,
            to,
            label: Some((10.0 + 7.0 * i as f64, 14.0)),
        })
        .collect();
    (nodes, edges)
}

fn all_graphs() -> Vec<(&'static str, Vec<NodeSpec>, Vec<EdgeSpec>)> {
    let mut graphs = Vec::new();
    let (n, e) = pipelines();
    graphs.push(("pipelines", n, e));
    let (n, e) = wavefront(8);
    graphs.push(("wavefront", n, e));
    let (n, e) = random_dag(150, 3, 7);
    graphs.push(("random", n, e));
    let (n, e) = cyclic_with_labels();
    graphs.push(("cyclic", n, e));
    graphs.push(("empty", Vec::new(), Vec::new()));
    graphs.push(("single", vec![node(50.0, true)], Vec::new()));
    graphs
}

const DIRECTIONS: [RankDir; 4] = [
    RankDir::TopToBottom,
    RankDir::LeftToRight,
    RankDir::BottomToTop,
    RankDir::RightToLeft,
];

fn overlaps(a: &Placed, b: &Placed) -> bool {
    (a.center.x - b.center.x).abs() < (a.width + b.width) / 2.0
        && (a.center.y - b.center.y).abs() < (a.height + b.height) / 2.0
}

/// Points along a route, including inside its curves.
fn samples(route: &Route) -> Vec<Point> {
    let mut points = vec![route.start];
    let mut from = route.start;
    for segment in &route.segments {
        let steps = 24;
        for i in 1..=steps {
            let t = i as f64 / steps as f64;
            let p = match *segment {
                Segment::Line(to) => Point {
                    x: from.x + (to.x - from.x) * t,
                    y: from.y + (to.y - from.y) * t,
                },
                Segment::Curve(c1, c2, to) => {
                    let u = 1.0 - t;
                    let mix = |a: f64, b: f64, c: f64, d: f64| {
                        u * u * u * a + 3.0 * u * u * t * b + 3.0 * u * t * t * c + t * t * t * d
                    };
                    Point {
                        x: mix(from.x, c1.x, c2.x, to.x),
                        y: mix(from.y, c1.y, c2.y, to.y),
                    }
                }
            };
            points.push(p);
        }
        from = segment.end();
    }
    points
}

#[test]
fn node_boxes_never_overlap() {
    for (name, nodes, edges) in all_graphs() {
        for dir in DIRECTIONS {
            let layout = layout(&nodes, &edges, dir);
            for i in 0..nodes.len() {
                for j in i + 1..nodes.len() {
                    assert!(
                        !overlaps(&layout.nodes[i], &layout.nodes[j]),
                        "{name} {dir:?}: nodes {i} and {j} overlap: {:?} {:?}",
                        layout.nodes[i],
                        layout.nodes[j]
                    );
                }
            }
        }
    }
}

#[test]
fn ranks_follow_edge_direction() {
    for (name, nodes, edges) in all_graphs() {
        if name == "cyclic" {
            continue;
        }
        let layout = layout(&nodes, &edges, RankDir::TopToBottom);
        for e in &edges {
            assert!(
                layout.ranks[e.from] < layout.ranks[e.to],
                "{name}: edge {} → {} goes from rank {} to {}",
                e.from,
                e.to,
                layout.ranks[e.from],
                layout.ranks[e.to]
            );
            // Ranks become drawing order: dependencies above their readers.
            assert!(layout.nodes[e.from].center.y < layout.nodes[e.to].center.y);
        }
    }
}

#[test]
fn edges_do_not_pass_through_nodes() {
    for (name, nodes, edges) in all_graphs() {
        for dir in DIRECTIONS {
            let layout = layout(&nodes, &edges, dir);
            for route in &layout.routes {
                let spec = &edges[route.edge];
                for p in samples(route) {
                    for (i, placed) in layout.nodes.iter().enumerate() {
                        // A shared piece may end on a node of another edge of its
                        // bus; only its ends touch nodes (see the tests below).
                        let touches =
                            on_outline(route.start, placed) || on_outline(end_of(route), placed);
                        if i == spec.from || i == spec.to || touches {
                            continue;
                        }
                        assert!(
                            !placed.contains(p, 0.5),
                            "{name} {dir:?}: a piece of edge {} ({} → {}) passes through node {i} at {p:?}",
                            route.edge,
                            spec.from,
                            spec.to
                        );
                    }
                }
            }
        }
    }
}

fn end_of(route: &Route) -> Point {
    route.segments.last().map_or(route.start, Segment::end)
}

fn on_outline(p: Point, n: &Placed) -> bool {
    (p.x - n.center.x).abs() <= n.width / 2.0 + 0.01
        && (p.y - n.center.y).abs() <= n.height / 2.0 + 0.01
}

#[test]
fn every_edge_leaves_its_source_and_arrives_at_its_target() {
    for (name, nodes, edges) in all_graphs() {
        for dir in DIRECTIONS {
            let layout = layout(&nodes, &edges, dir);
            for (e, spec) in edges.iter().enumerate() {
                let (from, to) = (&layout.nodes[spec.from], &layout.nodes[spec.to]);
                assert!(
                    layout.routes.iter().any(|r| {
                        (on_outline(r.start, from) || on_outline(end_of(r), from))
                            && edges[r.edge].from == spec.from
                    }),
                    "{name} {dir:?}: nothing leaves node {} for edge {e}",
                    spec.from
                );
                assert!(
                    layout.routes.iter().any(|r| r.arrow
                        && on_outline(end_of(r), to)
                        && edges[r.edge].to == spec.to),
                    "{name} {dir:?}: no arrow reaches node {} for edge {e}",
                    spec.to
                );
            }
        }
    }
}

/// A piece that neither starts nor ends at a node joins another piece there: shared
/// stretches connect to the edges that use them.
#[test]
fn pieces_connect() {
    for (name, nodes, edges) in all_graphs() {
        for dir in DIRECTIONS {
            let layout = layout(&nodes, &edges, dir);
            let points: Vec<(usize, Point)> = layout
                .routes
                .iter()
                .enumerate()
                .flat_map(|(i, r)| {
                    std::iter::once((i, r.start))
                        .chain(r.segments.iter().map(move |s| (i, s.end())))
                })
                .collect();
            for (i, route) in layout.routes.iter().enumerate() {
                for end in [route.start, end_of(route)] {
                    let at_node = layout.nodes.iter().any(|n| on_outline(end, n));
                    let joins = points.iter().any(|&(j, q)| {
                        j != i && (q.x - end.x).abs() < 0.01 && (q.y - end.y).abs() < 0.01
                    });
                    assert!(
                        at_node || joins,
                        "{name} {dir:?}: piece {i} hangs loose at {end:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_value_read_along_a_long_chain_is_drawn_as_one_bus() {
    let steps = 300;
    let mut nodes = vec![node(60.0, false)];
    let mut edges = Vec::new();
    for i in 1..=steps {
        nodes.push(node(50.0, true));
        edges.push(edge(0, i));
        if i > 1 {
            edges.push(edge(i - 1, i));
        }
    }
    let layout = layout(&nodes, &edges, RankDir::TopToBottom);
    let points: usize = layout.routes.iter().map(|r| r.segments.len() + 1).sum();
    // Linear in the chain, not quadratic (which would be about 90,000 points).
    assert!(points < 20 * steps, "{points} path points");
}

#[test]
fn labels_sit_clear_of_nodes() {
    let (nodes, edges) = cyclic_with_labels();
    for dir in DIRECTIONS {
        let layout = layout(&nodes, &edges, dir);
        for (e, spec) in edges.iter().enumerate() {
            let (w, h) = spec.label.unwrap();
            let mut places = layout
                .routes
                .iter()
                .filter(|r| r.edge == e)
                .filter_map(|r| r.label_at);
            let at = places
                .next()
                .expect("every labelled edge gets a place for its label");
            assert!(places.next().is_none(), "one label per edge");
            let label = Placed {
                center: at,
                width: w,
                height: h,
            };
            for (i, node) in layout.nodes.iter().enumerate() {
                assert!(
                    !overlaps(&label, node),
                    "{dir:?}: label of {spec:?} on node {i}"
                );
            }
        }
    }
}

#[test]
fn everything_fits_in_the_drawing() {
    for (name, nodes, edges) in all_graphs() {
        for dir in DIRECTIONS {
            let layout = layout(&nodes, &edges, dir);
            for n in &layout.nodes {
                assert!(n.center.x - n.width / 2.0 >= 0.0, "{name} {dir:?}");
                assert!(n.center.y - n.height / 2.0 >= 0.0, "{name} {dir:?}");
                assert!(n.center.x + n.width / 2.0 <= layout.width, "{name} {dir:?}");
                assert!(
                    n.center.y + n.height / 2.0 <= layout.height,
                    "{name} {dir:?}"
                );
            }
            for route in &layout.routes {
                for p in samples(route) {
                    assert!(p.x >= 0.0 && p.x <= layout.width, "{name} {dir:?} {p:?}");
                    assert!(p.y >= 0.0 && p.y <= layout.height, "{name} {dir:?} {p:?}");
                }
            }
        }
    }
}

#[test]
fn independent_pipelines_do_not_cross() {
    let (nodes, edges) = pipelines();
    let layout = layout(&nodes, &edges, RankDir::TopToBottom);
    // The first nodes of the three pipelines share a rank and sit side by side.
    let firsts = [1, 7, 13];
    let ys: Vec<f64> = firsts.iter().map(|&i| layout.nodes[i].center.y).collect();
    assert!(ys.iter().all(|&y| y == ys[0]));
    // Each pipeline is a straight column: its nodes share an x.
    for &first in &firsts {
        let x = layout.nodes[first].center.x;
        for i in first..first + 6 {
            assert!(
                (layout.nodes[i].center.x - x).abs() < 1.0,
                "node {i} leaves its column: {:?}",
                layout
                    .nodes
                    .iter()
                    .map(|n| (n.center.x as i64, n.center.y as i64))
                    .collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn layout_is_deterministic() {
    let (nodes, edges) = random_dag(120, 3, 11);
    assert_eq!(
        layout(&nodes, &edges, RankDir::TopToBottom),
        layout(&nodes, &edges, RankDir::TopToBottom)
    );
}
