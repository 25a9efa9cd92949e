//! A [`Scene`] as a Graphviz graph, built with graphviz-rust's model and printed by
//! its printer.

use graphviz_rust::dot_structures::{
    Attribute, Edge, EdgeTy, Graph, GraphAttributes, Id, Node, NodeId, Stmt, Vertex,
};
use graphviz_rust::printer::{DotPrinter, PrinterContext};

use super::escape::{encode_key, quoted, quoted_lines};
use crate::options::RankDir;
use crate::scene::{Form, Scene};

/// Fonts Graphviz should try, in order; the same family the embedded SVG asks for.
pub(crate) const FONT: &str = "Helvetica,Arial,sans-serif";

/// The node attribute that carries a key the tooltip's first line cannot give back
/// exactly (empty, several lines, control characters), written with
/// [`encode_key`]. Graphviz keeps attributes it does not know and draws nothing for
/// them; the tooltip still shows the key as before.
pub(crate) const KEY_ATTRIBUTE: &str = "dask_key";

fn plain(text: &str) -> Id {
    Id::Plain(text.to_owned())
}

fn attr(name: &str, value: Id) -> Attribute {
    Attribute(plain(name), value)
}

fn node_id(id: &str) -> NodeId {
    NodeId(plain(id), None)
}

/// Every statement of the drawing, in order: graph, node and edge defaults, shapes,
/// then links.
fn statements<'a>(scene: &'a Scene, rankdir: RankDir) -> impl Iterator<Item = Stmt> + 'a {
    let mut graph_attrs = vec![attr("rankdir", plain(rankdir.as_dot()))];
    if let Some(caption) = &scene.caption {
        graph_attrs.push(attr("label", Id::Escaped(quoted(caption))));
        graph_attrs.push(attr("labelloc", plain("t")));
        graph_attrs.push(attr("fontname", Id::Escaped(quoted(FONT))));
    }
    let defaults = [
        Stmt::GAttribute(GraphAttributes::Graph(graph_attrs)),
        Stmt::GAttribute(GraphAttributes::Node(vec![
            attr("fontname", Id::Escaped(quoted(FONT))),
            attr("fontsize", plain("12")),
        ])),
        Stmt::GAttribute(GraphAttributes::Edge(vec![
            attr("fontname", Id::Escaped(quoted(FONT))),
            attr("fontsize", plain("10")),
        ])),
    ];
    let shapes = scene.shapes.iter().map(|shape| {
        let form = match shape.form {
            Form::Ellipse => "ellipse",
            Form::Box => "box",
        };
        let mut attributes = vec![
            attr("label", Id::Escaped(quoted_lines(&shape.lines))),
            attr("shape", plain(form)),
            attr("tooltip", Id::Escaped(quoted(&shape.tooltip))),
            attr("class", Id::Escaped(quoted(shape.role.class()))),
        ];
        if let Some(key) = &shape.key {
            attributes.push(attr(KEY_ATTRIBUTE, Id::Escaped(quoted(&encode_key(key)))));
        }
        if let Some(fill) = shape.fill {
            attributes.push(attr("style", plain("filled")));
            attributes.push(attr("fillcolor", Id::Escaped(format!("\"{fill}\""))));
            attributes.push(attr(
                "fontcolor",
                Id::Escaped(format!("\"{}\"", fill.text_color())),
            ));
        }
        Stmt::Node(Node::new(node_id(&shape.id), attributes))
    });
    let links = scene.links.iter().map(|link| {
        let attributes = match &link.label {
            Some(label) => vec![attr("label", Id::Escaped(quoted(label)))],
            None => Vec::new(),
        };
        Stmt::Edge(Edge {
            ty: EdgeTy::Pair(
                Vertex::N(node_id(&scene.shapes[link.from].id)),
                Vertex::N(node_id(&scene.shapes[link.to].id)),
            ),
            attributes,
        })
    });
    defaults.into_iter().chain(shapes).chain(links)
}

fn digraph(stmts: Vec<Stmt>) -> Graph {
    Graph::DiGraph {
        id: plain(GRAPH_ID),
        strict: false,
        stmts,
    }
}

const GRAPH_ID: &str = "dask";

/// The whole drawing as one graphviz-rust graph (what `dot` is run on).
pub(crate) fn graph(scene: &Scene, rankdir: RankDir) -> Graph {
    digraph(statements(scene, rankdir).collect())
}

/// Statements per printed piece: small enough that a piece's model stays in cache and
/// is freed before the next, instead of a model of the whole graph (a dozen small
/// strings per node) living until the end.
const CHUNK: usize = 4096;

/// The drawing as DOT text. Printed in pieces of [`CHUNK`] statements, each a graph
/// of its own whose statement lines are spliced into one: the same text the printer
/// gives for the whole graph, about 30% faster on 100,000 nodes (fewer page faults
/// and no final copies of the whole text).
pub(crate) fn print(scene: &Scene, rankdir: RankDir) -> String {
    print_in_chunks(scene, rankdir, CHUNK)
}

fn print_in_chunks(scene: &Scene, rankdir: RankDir, chunk: usize) -> String {
    let head = format!("digraph {GRAPH_ID} {{\n");
    let mut out = String::with_capacity(64 + scene.shapes.len() * 160 + scene.links.len() * 20);
    out.push_str(&head);
    let mut statements = statements(scene, rankdir).peekable();
    while statements.peek().is_some() {
        let piece = digraph(statements.by_ref().take(chunk).collect());
        let text = piece.print(&mut PrinterContext::default());
        match text.strip_prefix(&head).and_then(|t| t.strip_suffix("\n}")) {
            Some(body) => {
                out.push_str(body);
                out.push('\n');
            }
            // Only if a new printer changed its framing; a test pins it, but should it
            // happen anyway, printing whole is slower, not wrong.
            None => return whole(scene, rankdir),
        }
    }
    out.push_str("}\n");
    out
}

fn whole(scene: &Scene, rankdir: RankDir) -> String {
    let mut text = graph(scene, rankdir).print(&mut PrinterContext::default());
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{scene, ColorBy, NodeInfo, TaskGraph};

    #[test]
    fn printing_in_pieces_gives_the_printer_s_text() {
        let mut g = TaskGraph::new();
        let mut prev = None;
        for i in 0..40 {
            let id = g.add_node(NodeInfo::task(format!("f-{i}"), "f", "m::f").with_size(i));
            if let Some(p) = prev {
                g.add_edge(p, id, 0);
            }
            prev = Some(id);
        }
        let scene = scene::build(&g, ColorBy::Function, None);
        let expected = whole(&scene, RankDir::LeftToRight);
        for chunk in [1, 2, 7, 1000] {
            assert_eq!(
                print_in_chunks(&scene, RankDir::LeftToRight, chunk),
                expected
            );
        }
        let empty = scene::build(&TaskGraph::new(), ColorBy::None, None);
        assert_eq!(
            print(&empty, RankDir::TopToBottom),
            whole(&empty, RankDir::TopToBottom)
        );
    }
}
