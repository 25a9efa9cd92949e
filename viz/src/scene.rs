//! What a drawing shows, before any format or layout: Dask's visual language applied
//! to a [`TaskGraph`]. DOT output and the embedded SVG both draw a [`Scene`], so the
//! two always agree on shapes, labels and colours.

use crate::collapse::CollapsedGraph;
use crate::color::{self, ColorBy, Rgb};
use crate::label::{bounded, format_bytes, short_type_name};
use crate::model::{NodeInfo, NodeKind, TaskGraph};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    Ellipse,
    Box,
}

/// Why a shape is there; becomes its CSS class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A function call (ellipse).
    Task,
    /// A task's result (box).
    Result,
    /// Data put into the graph (box).
    Value,
    /// All calls of one function in a collapsed drawing.
    TaskGroup,
    /// All values of one path in a collapsed drawing.
    ValueGroup,
}

impl Role {
    pub(crate) fn class(self) -> &'static str {
        match self {
            Role::Task => "task",
            Role::Result => "result",
            Role::Value => "value",
            Role::TaskGroup => "task group",
            Role::ValueGroup => "value group",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shape {
    /// Generated (`n3`, `r3`, `g1`), never the key: keys may hold any text.
    pub id: String,
    pub form: Form,
    pub role: Role,
    /// Display lines, already shortened.
    pub lines: Vec<String>,
    /// Full, unshortened details (key, full type, exact size).
    pub tooltip: String,
    pub fill: Option<Rgb>,
    /// The node's key, on a node's main shape where the tooltip's first line cannot
    /// give it back exactly (see [`exact_key`]); the DOT writer carries it for the
    /// reader.
    pub key: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Link {
    pub from: usize,
    pub to: usize,
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Scene {
    pub shapes: Vec<Shape>,
    pub links: Vec<Link>,
    /// A note above the drawing (says when it was collapsed).
    pub caption: Option<String>,
}

pub(crate) fn build(graph: &TaskGraph, color: ColorBy, collapse_above: Option<usize>) -> Scene {
    match collapse_above {
        Some(threshold) if graph.len() > threshold => {
            let collapsed = graph.collapse_by_function();
            let mut scene = of_groups(graph, &collapsed, color);
            scene.caption = Some(format!(
                "{} nodes collapsed into {} function groups",
                graph.len(),
                collapsed.groups().len()
            ));
            scene
        }
        _ => of_nodes(graph, color),
    }
}

/// Lines for a result box or the details of a value: what Dask leaves blank.
fn data_lines(node: &NodeInfo) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(type_name) = &node.type_name {
        lines.push(bounded(&short_type_name(type_name)));
    }
    if let Some(size) = node.size {
        lines.push(format_bytes(size));
    }
    lines
}

/// Which details a tooltip carries: a task's ellipse tells about the call, its
/// result box about the value, so big exports do not repeat them.
#[derive(Clone, Copy, PartialEq)]
enum Details {
    Call,
    Value,
    All,
}

/// The key, then the details the labels shorten or leave out, one `name: value` per
/// line: readable on hover, and what the DOT reader reads back.
fn tooltip(node: &NodeInfo, details: Details) -> String {
    use std::fmt::Write;
    let mut text = node.key.clone();
    let call = details != Details::Value;
    let value = details != Details::Call;
    if call {
        let _ = write!(text, "\nfunction: {}", node.path);
    }
    if let (true, Some(type_name)) = (value, &node.type_name) {
        let _ = write!(text, "\ntype: {type_name}");
    }
    if let (true, Some(size)) = (value, node.size) {
        let _ = write!(text, "\nsize: {size} bytes");
    }
    if let (true, Some(order)) = (call, node.order) {
        let _ = write!(text, "\norder: {order}");
    }
    if let (true, Some(nanos)) = (call, node.duration_ns) {
        let _ = write!(
            text,
            "\ntime: {}.{:06} ms",
            nanos / 1_000_000,
            nanos % 1_000_000
        );
    }
    text
}

/// The key, where the tooltip's first line cannot give it back exactly: an empty key
/// (the DOT reader takes the node id), one of several lines (the reader takes the
/// first), or one with other control characters (the tooltip shows them as spaces).
fn exact_key(key: &str) -> Option<String> {
    (key.is_empty() || key.chars().any(char::is_control)).then(|| key.to_owned())
}

/// Range of a measure over the nodes that have it.
fn range<T: Copy + PartialOrd>(values: impl Iterator<Item = T>) -> Option<(T, T)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((if v < lo { v } else { lo }, if v > hi { v } else { hi })),
    })
}

/// Chooses fills from per-node measures, so nodes and groups share the logic.
struct Painter {
    color: ColorBy,
    orders: Option<(f64, f64)>,
    durations: Option<(u64, u64)>,
}

impl Painter {
    fn new(color: ColorBy, orders: Option<(f64, f64)>, durations: Option<(u64, u64)>) -> Self {
        Painter {
            color,
            orders,
            durations,
        }
    }

    fn fill(&self, path: &str, order: Option<f64>, duration: Option<u64>) -> Option<Rgb> {
        match self.color {
            ColorBy::None => None,
            ColorBy::Function => Some(color::for_function(path)),
            ColorBy::Order => Some(match (order, self.orders) {
                (Some(o), Some((lo, hi))) => color::for_order(o, lo, hi),
                _ => color::UNKNOWN,
            }),
            ColorBy::Duration => Some(match (duration, self.durations) {
                (Some(d), Some((lo, hi))) => color::for_duration(d, lo, hi),
                _ => color::UNKNOWN,
            }),
        }
    }
}

fn of_nodes(graph: &TaskGraph, color: ColorBy) -> Scene {
    let painter = Painter::new(
        color,
        range(graph.nodes().filter_map(|(_, n)| n.order.map(|o| o as f64))),
        range(graph.nodes().filter_map(|(_, n)| n.duration_ns)),
    );
    let mut shapes = Vec::with_capacity(graph.len() * 2);
    let mut links = Vec::with_capacity(graph.len() + graph.edge_count());
    // Per node: (shape that edges arrive at, shape that edges leave from).
    let mut ends = Vec::with_capacity(graph.len());
    for (id, node) in graph.nodes() {
        let i = id.index();
        let fill = painter.fill(&node.path, node.order.map(|o| o as f64), node.duration_ns);
        let main = shapes.len();
        match node.kind {
            NodeKind::Task => {
                shapes.push(Shape {
                    id: format!("n{i}"),
                    form: Form::Ellipse,
                    role: Role::Task,
                    lines: vec![bounded(&node.name)],
                    tooltip: tooltip(node, Details::Call),
                    fill,
                    key: exact_key(&node.key),
                });
                let mut lines = data_lines(node);
                if lines.is_empty() {
                    // Dask's blank boxes were a common complaint; the key at least
                    // says which result this is.
                    lines.push(bounded(&node.key));
                }
                shapes.push(Shape {
                    id: format!("r{i}"),
                    form: Form::Box,
                    role: Role::Result,
                    lines,
                    tooltip: tooltip(node, Details::Value),
                    fill,
                    key: None,
                });
                links.push(Link {
                    from: main,
                    to: main + 1,
                    label: None,
                });
                ends.push((main, main + 1));
            }
            NodeKind::Value => {
                let mut lines = vec![bounded(&node.name)];
                lines.extend(data_lines(node));
                shapes.push(Shape {
                    id: format!("n{i}"),
                    form: Form::Box,
                    role: Role::Value,
                    lines,
                    tooltip: tooltip(node, Details::All),
                    fill,
                    key: exact_key(&node.key),
                });
                ends.push((main, main));
            }
        }
    }
    for (from, to, _) in graph.edges() {
        links.push(Link {
            from: ends[from.index()].1,
            to: ends[to.index()].0,
            label: None,
        });
    }
    Scene {
        shapes,
        links,
        caption: None,
    }
}

fn of_groups(graph: &TaskGraph, collapsed: &CollapsedGraph, color: ColorBy) -> Scene {
    let mean_order = |members: &[crate::NodeId]| {
        // Summed in u128: orders are the user's numbers, and a few near u64::MAX
        // would overflow a u64 sum (a panic in debug builds, a wrong colour in release).
        let (sum, count) = members
            .iter()
            .filter_map(|&m| graph.node(m).order)
            .fold((0u128, 0u64), |(sum, count), o| {
                (sum + u128::from(o), count + 1)
            });
        (count > 0).then(|| sum as f64 / count as f64)
    };
    let total_duration = |members: &[crate::NodeId]| {
        members
            .iter()
            .filter_map(|&m| graph.node(m).duration_ns)
            .fold(None, |acc: Option<u64>, d| {
                Some(acc.unwrap_or(0).saturating_add(d))
            })
    };
    let groups = collapsed.groups();
    let painter = Painter::new(
        color,
        range(groups.iter().filter_map(|g| mean_order(&g.members))),
        range(groups.iter().filter_map(|g| total_duration(&g.members))),
    );
    let shapes = groups
        .iter()
        .enumerate()
        .map(|(i, group)| {
            let (form, role, what) = match group.kind {
                NodeKind::Task => (Form::Ellipse, Role::TaskGroup, "calls"),
                NodeKind::Value => (Form::Box, Role::ValueGroup, "values"),
            };
            Shape {
                id: format!("g{i}"),
                form,
                role,
                lines: vec![bounded(&group.name), format!("×{}", group.count())],
                tooltip: format!("{}\n{} {what}", group.path, group.count()),
                fill: painter.fill(
                    &group.path,
                    mean_order(&group.members),
                    total_duration(&group.members),
                ),
                key: None,
            }
        })
        .collect();
    let links = collapsed
        .edges()
        .iter()
        .map(|e| Link {
            from: e.from,
            to: e.to,
            label: Some(e.count.to_string()),
        })
        .collect();
    Scene {
        shapes,
        links,
        caption: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> TaskGraph {
        let mut g = TaskGraph::new();
        let v = g.add_node(NodeInfo::value("data-1", "data", "dask::delayed").with_size(12));
        let t = g.add_node(
            NodeInfo::task("sum-2", "sum", "m::sum")
                .with_type_name("alloc::vec::Vec<f64>")
                .with_size(8_000_000),
        );
        let u = g.add_node(NodeInfo::task("show-3", "show", "m::show"));
        g.add_edge(v, t, 0);
        g.add_edge(t, u, 0);
        g
    }

    #[test]
    fn tasks_get_an_ellipse_and_a_labelled_result_box() {
        let scene = build(&small(), ColorBy::None, None);
        let forms: Vec<(&str, Form)> = scene
            .shapes
            .iter()
            .map(|s| (s.id.as_str(), s.form))
            .collect();
        assert_eq!(
            forms,
            [
                ("n0", Form::Box),
                ("n1", Form::Ellipse),
                ("r1", Form::Box),
                ("n2", Form::Ellipse),
                ("r2", Form::Box)
            ]
        );
        assert_eq!(scene.shapes[2].lines, ["Vec<f64>", "8.0 MB"]);
        assert_eq!(scene.shapes[0].lines, ["data", "12 B"]);
        // Nothing known: the key rather than a blank box.
        assert_eq!(scene.shapes[4].lines, ["show-3"]);
        // value → sum, sum's result → show, plus task → result twice.
        let pairs: Vec<(usize, usize)> = scene.links.iter().map(|l| (l.from, l.to)).collect();
        assert_eq!(pairs, [(1, 2), (3, 4), (0, 1), (2, 3)]);
    }

    #[test]
    fn collapses_only_above_the_threshold() {
        let g = small();
        assert_eq!(build(&g, ColorBy::None, Some(3)).shapes.len(), 5);
        let collapsed = build(&g, ColorBy::None, Some(2));
        assert_eq!(collapsed.shapes.len(), 3);
        assert_eq!(collapsed.shapes[1].lines, ["sum", "×1"]);
        assert!(collapsed.caption.is_some());
    }

    #[test]
    fn group_order_means_do_not_overflow() {
        // Two calls of `a` at the largest order: a u64 sum overflowed (a panic in
        // debug builds; in release the wrapped mean, about half, gave a middle colour).
        let mut g = TaskGraph::new();
        for key in ["a-1", "a-2"] {
            g.add_node(NodeInfo::task(key, "a", "m::a").with_order(u64::MAX));
        }
        g.add_node(NodeInfo::task("b-1", "b", "m::b").with_order(0));
        g.add_node(NodeInfo::task("c-1", "c", "m::c").with_order(u64::MAX));
        let scene = build(&g, ColorBy::Order, Some(1));
        let fills: Vec<Option<Rgb>> = scene.shapes.iter().map(|s| s.fill).collect();
        let (first, last) = (
            color::for_order(0.0, 0.0, 1.0),
            color::for_order(1.0, 0.0, 1.0),
        );
        assert_eq!(fills, [Some(last), Some(first), Some(last)]);
    }

    #[test]
    fn colours_follow_the_chosen_measure() {
        let mut g = small();
        for (i, id) in g
            .nodes()
            .map(|(id, _)| id)
            .collect::<Vec<_>>()
            .into_iter()
            .enumerate()
        {
            g.node_mut(id).order = Some(i as u64);
        }
        let scene = build(&g, ColorBy::Order, None);
        assert_eq!(scene.shapes[0].fill, Some(color::for_order(0.0, 0.0, 2.0)));
        assert_eq!(scene.shapes[3].fill, Some(color::for_order(2.0, 0.0, 2.0)));
        // No durations measured: everything is "unknown" grey.
        let scene = build(&g, ColorBy::Duration, None);
        assert!(scene.shapes.iter().all(|s| s.fill == Some(color::UNKNOWN)));
        let scene = build(&g, ColorBy::Function, None);
        assert_eq!(scene.shapes[1].fill, scene.shapes[2].fill);
        assert_ne!(scene.shapes[1].fill, scene.shapes[3].fill);
    }
}
