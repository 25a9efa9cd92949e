//! A [`Scene`] as a Graphviz graph, built with graphviz-rust's model and printed by
//! its printer.

use graphviz_rust::dot_structures::{
    Attribute, Edge, EdgeTy, Graph, GraphAttributes, Id, Node, NodeId, Stmt, Vertex,
};
use graphviz_rust::printer::{DotPrinter, PrinterContext};

use super::escape::{quoted, quoted_lines};
use crate::options::RankDir;
use crate::scene::{Form, Scene};

/// Fonts Graphviz should try, in order; the same family the embedded SVG asks for.
pub(crate) const FONT: &str = "Helvetica,Arial,sans-serif";

fn plain(text: &str) -> Id {
    Id::Plain(text.to_owned())
}

fn attr(name: &str, value: Id) -> Attribute {
    Attribute(plain(name), value)
}

fn node_id(id: &str) -> NodeId {
    NodeId(plain(id), None)
}

pub(crate) fn graph(scene: &Scene, rankdir: RankDir) -> Graph {
    let mut stmts = Vec::with_capacity(scene.shapes.len() + scene.links.len() + 3);
    let mut graph_attrs = vec![attr("rankdir", plain(rankdir.as_dot()))];
    if let Some(caption) = &scene.caption {
        graph_attrs.push(attr("label", Id::Escaped(quoted(caption))));
        graph_attrs.push(attr("labelloc", plain("t")));
        graph_attrs.push(attr("fontname", Id::Escaped(quoted(FONT))));
    }
    stmts.push(Stmt::GAttribute(GraphAttributes::Graph(graph_attrs)));
    stmts.push(Stmt::GAttribute(GraphAttributes::Node(vec![
        attr("fontname", Id::Escaped(quoted(FONT))),
        attr("fontsize", plain("12")),
    ])));
    stmts.push(Stmt::GAttribute(GraphAttributes::Edge(vec![
        attr("fontname", Id::Escaped(quoted(FONT))),
        attr("fontsize", plain("10")),
    ])));

    for shape in &scene.shapes {
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
        if let Some(fill) = shape.fill {
            attributes.push(attr("style", plain("filled")));
            attributes.push(attr("fillcolor", Id::Escaped(format!("\"{fill}\""))));
            attributes.push(attr(
                "fontcolor",
                Id::Escaped(format!("\"{}\"", fill.text_color())),
            ));
        }
        stmts.push(Stmt::Node(Node::new(node_id(&shape.id), attributes)));
    }

    for link in &scene.links {
        let attributes = match &link.label {
            Some(label) => vec![attr("label", Id::Escaped(quoted(label)))],
            None => Vec::new(),
        };
        stmts.push(Stmt::Edge(Edge {
            ty: EdgeTy::Pair(
                Vertex::N(node_id(&scene.shapes[link.from].id)),
                Vertex::N(node_id(&scene.shapes[link.to].id)),
            ),
            attributes,
        }));
    }

    Graph::DiGraph {
        id: plain("dask"),
        strict: false,
        stmts,
    }
}

pub(crate) fn print(graph: &Graph) -> String {
    let mut text = graph.print(&mut PrinterContext::default());
    text.push('\n');
    text
}
