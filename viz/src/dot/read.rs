//! A DOT file back into a [`TaskGraph`], best effort.
//!
//! Reads what [`TaskGraph::to_dot`] writes nearly losslessly (the tooltip carries the
//! details the label shortens) and reads Dask-style drawings sensibly: ellipses are
//! tasks, boxes are data, and a box whose only input is one ellipse is that task's
//! result rather than a node of its own.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Mutex;

use graphviz_rust::dot_structures::{Attribute, EdgeTy, Graph, GraphAttributes, Id, Stmt, Vertex};

use super::escape::{decode_key, unquoted};
use super::nesting::nesting_depth;
use super::pieces::split;
use super::write::KEY_ATTRIBUTE;
use crate::error::GraphError;
use crate::label::parse_bytes;
use crate::model::{NodeInfo, NodeKind, TaskGraph};

/// Larger DOT documents are refused before parsing. `to_dot` writes about 270 bytes
/// per node (a million nodes: 270 MB), and documents above 16 MiB are parsed in runs
/// of statements, so reading costs about 1 GB per million nodes, not the parser's
/// 70 bytes per byte.
pub const MAX_DOT_BYTES: usize = 1024 * 1024 * 1024;

/// Most bytes parsed at once: a document above 16 MiB must break into runs of
/// top-level statements (one per line, as `to_dot` writes them) no longer than this,
/// because the parser needs about 70 bytes of memory per byte it parses.
pub const MAX_DOT_RUN_BYTES: usize = 64 * 1024 * 1024;

/// Deeper `{ … }` nesting is refused before parsing: the parser recurses once per level.
/// `to_dot` writes no subgraphs at all (depth 1).
pub const MAX_DOT_NESTING: usize = 64;

/// Parser steps (pest "calls") allowed per byte of input, plus [`CALL_BUDGET_BASE`].
/// The grammar backtracks: a syntax error inside nested subgraphs makes it re-read
/// every enclosing level about twice, so 20 levels of `subgraph { … } -> a` took 85 s
/// (debug build) and 64 would take forever. `to_dot`'s output needs 7 steps per byte
/// and hand-written DOT up to 22 (5,000 `subgraph {a}`); a document over the budget
/// is refused as too complex, so no input takes more than linear time.
pub const CALL_BUDGET_PER_BYTE: usize = 64;

/// Parser steps every document may use whatever its size.
pub const CALL_BUDGET_BASE: usize = 1_000_000;

/// The stack of the thread that parses: [`MAX_DOT_NESTING`] levels of the parser, of
/// its tree conversion, of our walk and of the tree's drop need far less (a depth-64
/// document parses in a debug build with 4 MiB), and untouched stack costs no memory.
const PARSER_STACK_BYTES: usize = 64 * 1024 * 1024;

/// pest's step budget is one process-wide setting read when a parse starts, so DOT
/// parses take turns to set it for their input.
static PARSE_BUDGET: Mutex<()> = Mutex::new(());

/// Most edges a DOT document may describe. An edge between two subgraphs stands for every
/// pair of their nodes, so a few kilobytes can describe billions of edges; a document
/// written by `to_dot` within [`MAX_DOT_BYTES`] has at most a few million.
pub const MAX_DOT_EDGES: usize = 4 * 1024 * 1024;

/// Parser messages quote the offending line, which in a one-line file is the file.
const MAX_MESSAGE_LINE: usize = 200;

impl TaskGraph {
    /// Reads a Graphviz DOT document back into a graph, best effort.
    ///
    /// Ellipses (any shape that is not box-like) become tasks and boxes values, except
    /// that a box whose only input is one ellipse is that task's result and is folded
    /// into it. A node's label gives its name; its `dask_key` attribute its key, else
    /// the first line of its tooltip, else the DOT node id (`to_dot` writes `dask_key`
    /// only for keys the tooltip's first line cannot give back exactly: empty ones,
    /// several lines, control characters); the `function:`, `type:`, `size:`, `order:` and `time:`
    /// lines that [`to_dot`](Self::to_dot) writes into tooltips give the rest, so our
    /// own DOT reads back almost whole (argument positions are renumbered per reader in
    /// edge order). Undirected graphs, documents above [`MAX_DOT_BYTES`] or nested
    /// deeper than [`MAX_DOT_NESTING`], duplicate keys and cycles are errors; every
    /// limit is listed in [`limits`](crate::limits).
    pub fn from_dot(text: &str) -> Result<TaskGraph, GraphError> {
        Self::from_dot_with_limit(text, MAX_DOT_BYTES)
    }

    /// [`from_dot`](Self::from_dot) with another size limit in bytes.
    pub fn from_dot_with_limit(text: &str, max_bytes: usize) -> Result<TaskGraph, GraphError> {
        read_dot(text, max_bytes, PLAN)
    }

    /// [`from_dot`](Self::from_dot) parsing every document in runs of top-level
    /// statements of about `run_bytes`, as it parses documents above 16 MiB. For tests
    /// that check both ways agree; not part of the API.
    #[doc(hidden)]
    pub fn from_dot_in_runs(text: &str, run_bytes: usize) -> Result<TaskGraph, GraphError> {
        let plan = Plan {
            whole_up_to: 0,
            run_bytes,
        };
        read_dot(text, MAX_DOT_BYTES, plan)
    }
}

fn read_dot(text: &str, max_bytes: usize, plan: Plan) -> Result<TaskGraph, GraphError> {
    if text.len() > max_bytes {
        return Err(GraphError::TooLarge {
            size: text.len(),
            limit: max_bytes,
        });
    }
    let depth = nesting_depth(text);
    if depth > MAX_DOT_NESTING {
        return Err(GraphError::DotTooDeep {
            depth,
            limit: MAX_DOT_NESTING,
        });
    }
    let reader = on_parser_stack(text, plan)?;
    let graph = reader.into_task_graph();
    graph.validate()?;
    Ok(graph)
}

/// How a document is parsed: whole up to `whole_up_to` bytes (exact error positions),
/// above that in runs of statements of about `run_bytes` (see `pieces.rs`).
#[derive(Clone, Copy)]
struct Plan {
    whole_up_to: usize,
    run_bytes: usize,
}

/// Documents up to this size are parsed whole: at most about 1.2 GB of parser memory.
const WHOLE_PARSE_BYTES: usize = 16 * 1024 * 1024;

/// Bigger documents are parsed in runs of statements of about this size.
const RUN_BYTES: usize = 1024 * 1024;

const PLAN: Plan = Plan {
    whole_up_to: WHOLE_PARSE_BYTES,
    run_bytes: RUN_BYTES,
};

/// Parses and walks `text` on a thread of its own with a stack sized for
/// [`MAX_DOT_NESTING`], so that no input can overflow the caller's stack.
fn on_parser_stack(text: &str, plan: Plan) -> Result<Reader, GraphError> {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("dask-viz-dot-parser".to_owned())
            .stack_size(PARSER_STACK_BYTES)
            .spawn_scoped(scope, || read_statements(text, plan))
            .map_err(|err| GraphError::DotParser {
                message: format!("cannot start the parser thread: {err}"),
            })?;
        worker.join().unwrap_or_else(|_| {
            Err(GraphError::DotParser {
                message: "the DOT reader failed on this input".to_owned(),
            })
        })
    })
}

/// Reads every statement of `text`, whole or in runs as `plan` says.
fn read_statements(text: &str, plan: Plan) -> Result<Reader, GraphError> {
    let mut reader = Reader::default();
    let mut defaults = Vec::new();
    let pieces = if text.len() > plan.whole_up_to {
        split(text, plan.run_bytes)
    } else {
        None
    };
    match pieces {
        None => {
            if text.len() > MAX_DOT_RUN_BYTES {
                return Err(GraphError::DotRunTooLarge {
                    size: text.len(),
                    limit: MAX_DOT_RUN_BYTES,
                });
            }
            let stmts = digraph_statements(text)?;
            reader.walk(&stmts, &mut defaults);
        }
        Some(pieces) => {
            // An undirected graph is reported after syntax errors, as the whole parse
            // reports them.
            let undirected = match digraph_statements(&pieces.frame) {
                Err(GraphError::DotUndirected) => true,
                other => other.map(|_| false)?,
            };
            for (line, run) in pieces.runs {
                if run.len() > MAX_DOT_RUN_BYTES {
                    return Err(GraphError::DotRunTooLarge {
                        size: run.len(),
                        limit: MAX_DOT_RUN_BYTES,
                    });
                }
                let stmts =
                    digraph_statements(&format!("digraph {{{run}}}")).map_err(|err| match err {
                        GraphError::DotSyntax { message } => GraphError::DotSyntax {
                            message: format!("in the statements from line {line}: {message}"),
                        },
                        other => other,
                    })?;
                reader.walk(&stmts, &mut defaults);
                if reader.too_many_edges {
                    break;
                }
            }
            if undirected {
                return Err(GraphError::DotUndirected);
            }
        }
    }
    if reader.too_many_edges {
        return Err(GraphError::DotTooManyEdges {
            limit: MAX_DOT_EDGES,
        });
    }
    Ok(reader)
}

/// Parses `text` within its step budget; the statements of a `digraph`.
fn digraph_statements(text: &str) -> Result<Vec<Stmt>, GraphError> {
    let budget = text
        .len()
        .saturating_mul(CALL_BUDGET_PER_BYTE)
        .saturating_add(CALL_BUDGET_BASE);
    let parsed = {
        let _turn = PARSE_BUDGET.lock().unwrap_or_else(|e| e.into_inner());
        pest::set_call_limit(NonZeroUsize::new(budget));
        // The parser unwraps on shapes its grammar should rule out; should one slip
        // through, it is still the input's fault and must come back as an error.
        let parsed = catch_unwind(AssertUnwindSafe(|| graphviz_rust::parse(text)))
            .unwrap_or_else(|_| Err("the DOT parser failed on this input".to_owned()));
        pest::set_call_limit(None);
        parsed
    };
    let graph = parsed.map_err(|message| {
        if message.contains("call limit reached") {
            GraphError::DotTooComplex { budget }
        } else {
            GraphError::DotSyntax {
                message: shorten_lines(&message),
            }
        }
    })?;
    match graph {
        Graph::DiGraph { stmts, .. } => Ok(stmts),
        Graph::Graph { .. } => Err(GraphError::DotUndirected),
    }
}

fn shorten_lines(message: &str) -> String {
    message
        .lines()
        .map(|line| match line.char_indices().nth(MAX_MESSAGE_LINE) {
            Some((cut, _)) => format!("{}…", &line[..cut]),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn text_of(id: &Id) -> String {
    match id {
        Id::Html(v) | Id::Escaped(v) | Id::Plain(v) => unquoted(v),
        Id::Anonymous(v) => v.clone(),
    }
}

/// The only node attributes the reader looks at. Others are dropped as they are read,
/// so `node [...]` defaults with thousands of attributes are not copied into every
/// node (2,000 defaults × 5,000 nodes took 1.6 GB and 4 s when they were).
const READ_ATTRIBUTES: [&str; 4] = ["label", "shape", "tooltip", KEY_ATTRIBUTE];

/// `(name, value)` decoded, if the reader uses attribute `name`.
fn read_attribute(Attribute(name, value): &Attribute) -> Option<(String, String)> {
    let name = text_of(name);
    READ_ATTRIBUTES
        .contains(&name.as_str())
        .then(|| (name, text_of(value)))
}

#[derive(Debug, Default)]
struct DotNode {
    id: String,
    /// Decoded values of [`READ_ATTRIBUTES`]; later declarations override earlier ones.
    attrs: HashMap<String, String>,
}

impl DotNode {
    fn is_box(&self) -> bool {
        let shape = self.attrs.get("shape").map(|s| s.to_ascii_lowercase());
        matches!(
            shape.as_deref(),
            Some(
                "box"
                    | "rect"
                    | "rectangle"
                    | "square"
                    | "record"
                    | "mrecord"
                    | "note"
                    | "tab"
                    | "folder"
                    | "box3d"
                    | "component"
                    | "cylinder"
                    | "plaintext"
                    | "plain"
                    | "none"
            )
        )
    }

    /// The label's lines; Graphviz's default label is the node id.
    fn label_lines(&self) -> Vec<String> {
        match self.attrs.get("label") {
            Some(label) if label != "\\N" => label.lines().map(str::to_owned).collect(),
            _ => vec![self.id.clone()],
        }
    }

    fn tooltip_lines(&self) -> Vec<&str> {
        self.attrs
            .get("tooltip")
            .map(|t| t.lines().collect())
            .unwrap_or_default()
    }
}

#[derive(Debug, Default)]
struct Reader {
    nodes: Vec<DotNode>,
    index: HashMap<String, usize>,
    edges: Vec<(usize, usize)>,
    /// Set when the document describes more than `MAX_DOT_EDGES` edges; reading stops.
    too_many_edges: bool,
}

impl Reader {
    /// The node called `id`, created with the node defaults in scope if new (as
    /// Graphviz does: later defaults do not change existing nodes).
    fn node(&mut self, id: &Id, defaults: &[(String, String)]) -> usize {
        let id = text_of(id);
        if let Some(&i) = self.index.get(&id) {
            return i;
        }
        let i = self.nodes.len();
        self.index.insert(id.clone(), i);
        self.nodes.push(DotNode {
            id,
            attrs: defaults.iter().cloned().collect(),
        });
        i
    }

    fn set_attrs(&mut self, node: usize, attrs: &[Attribute]) {
        for (name, value) in attrs.iter().filter_map(read_attribute) {
            self.nodes[node].attrs.insert(name, value);
        }
    }

    /// Reads statements in order; returns every node they mention, which is what a
    /// subgraph stands for as an edge end.
    fn walk(&mut self, stmts: &[Stmt], defaults: &mut Vec<(String, String)>) -> Vec<usize> {
        let mut mentioned = Vec::new();
        for stmt in stmts {
            match stmt {
                Stmt::Node(node) => {
                    let i = self.node(&node.id.0, defaults);
                    self.set_attrs(i, &node.attributes);
                    mentioned.push(i);
                }
                Stmt::Edge(edge) => {
                    let vertices: Vec<&Vertex> = match &edge.ty {
                        EdgeTy::Pair(a, b) => vec![a, b],
                        EdgeTy::Chain(chain) => chain.iter().collect(),
                    };
                    let ends: Vec<Vec<usize>> = vertices
                        .into_iter()
                        .map(|v| match v {
                            Vertex::N(id) => vec![self.node(&id.0, defaults)],
                            Vertex::S(sub) => self.walk(&sub.stmts, &mut defaults.clone()),
                        })
                        .collect();
                    for pair in ends.windows(2) {
                        let fits = pair[0]
                            .len()
                            .checked_mul(pair[1].len())
                            .and_then(|n| n.checked_add(self.edges.len()))
                            .is_some_and(|total| total <= MAX_DOT_EDGES);
                        if !fits {
                            self.too_many_edges = true;
                            return mentioned;
                        }
                        for &from in &pair[0] {
                            for &to in &pair[1] {
                                self.edges.push((from, to));
                            }
                        }
                    }
                    mentioned.extend(ends.into_iter().flatten());
                }
                Stmt::Subgraph(sub) => {
                    mentioned.extend(self.walk(&sub.stmts, &mut defaults.clone()));
                }
                Stmt::GAttribute(GraphAttributes::Node(attrs)) => {
                    for (name, value) in attrs.iter().filter_map(read_attribute) {
                        defaults.retain(|(n, _)| *n != name);
                        defaults.push((name, value));
                    }
                }
                Stmt::GAttribute(_) | Stmt::Attribute(_) => {}
            }
        }
        mentioned
    }

    fn into_task_graph(self) -> TaskGraph {
        let n = self.nodes.len();
        let mut incoming = vec![Vec::new(); n];
        for &(from, to) in &self.edges {
            incoming[to].push(from);
        }
        // result_of[b] = Some(t): box b is task t's result and is folded into t.
        let mut result_of: Vec<Option<usize>> = vec![None; n];
        let mut result: Vec<Option<usize>> = vec![None; n];
        for b in 0..n {
            if let [t] = incoming[b][..] {
                let is_result = self.nodes[b].is_box()
                    && !self.nodes[t].is_box()
                    && t != b
                    && result[t].is_none();
                if is_result {
                    result_of[b] = Some(t);
                    result[t] = Some(b);
                }
            }
        }

        let mut graph = TaskGraph::with_capacity(n, self.edges.len());
        let mut ids = vec![None; n];
        for (i, node) in self.nodes.iter().enumerate() {
            if result_of[i].is_some() {
                continue;
            }
            let info = node_info(node, result[i].map(|b| &self.nodes[b]));
            ids[i] = Some(graph.add_node(info));
        }
        let mut next_position: HashMap<usize, u32> = HashMap::new();
        for &(from, to) in &self.edges {
            if result_of[to] == Some(from) {
                continue;
            }
            let from = result_of[from].unwrap_or(from);
            let to = result_of[to].unwrap_or(to);
            if let (Some(a), Some(b)) = (ids[from], ids[to]) {
                let position = next_position.entry(to).or_insert(0);
                graph.add_edge(a, b, *position);
                *position = position.saturating_add(1);
            }
        }
        graph
    }
}

/// The details our tooltips carry, one `name: value` per line after the key, which
/// takes the first `key_lines` lines.
fn read_details(info: &mut NodeInfo, lines: &[&str], key_lines: usize) {
    for line in lines.iter().skip(key_lines) {
        let Some((name, value)) = line.split_once(": ") else {
            continue;
        };
        match name {
            "function" => info.path = value.to_owned(),
            "type" => info.type_name = Some(value.to_owned()),
            "size" => {
                if let Some(bytes) = value.strip_suffix(" bytes").and_then(|b| b.parse().ok()) {
                    info.size = Some(bytes);
                }
            }
            "order" => info.order = value.parse().ok(),
            "time" => info.duration_ns = value.strip_suffix(" ms").and_then(parse_millis),
            _ => {}
        }
    }
}

/// `1.234567 ms` → 1 234 567 ns, exactly (no float rounding).
fn parse_millis(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 6 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u64 = whole.parse().ok()?;
    let fraction: u64 = format!("{fraction:0<6}").parse().ok()?;
    whole.checked_mul(1_000_000)?.checked_add(fraction)
}

/// Fills type and size from label lines, for DOT files without our tooltips.
fn read_label_details(info: &mut NodeInfo, lines: &[String]) {
    for line in lines {
        if let Some(bytes) = parse_bytes(line) {
            info.size.get_or_insert(bytes);
        } else if *line != info.key && info.type_name.is_none() {
            info.type_name = Some(line.clone());
        }
    }
}

fn node_info(node: &DotNode, result: Option<&DotNode>) -> NodeInfo {
    let tooltip = node.tooltip_lines();
    // The key attribute where `to_dot` wrote one (the key is then the tooltip's first
    // lines, as many as it has); else, as older files and other writers have it, the
    // tooltip's first line or the node id.
    let exact = node
        .attrs
        .get(KEY_ATTRIBUTE)
        .and_then(|text| decode_key(text));
    let (key, key_lines) = match exact {
        Some(key) => {
            let lines = key.split('\n').count();
            (key, lines)
        }
        None => (
            tooltip
                .first()
                .filter(|k| !k.is_empty())
                .map_or_else(|| node.id.clone(), |k| (*k).to_owned()),
            1,
        ),
    };
    let label = node.label_lines();
    let name = label.first().cloned().unwrap_or_else(|| node.id.clone());
    let kind = if node.is_box() {
        NodeKind::Value
    } else {
        NodeKind::Task
    };
    let mut info = NodeInfo {
        key,
        path: name.clone(),
        name,
        kind,
        type_name: None,
        size: None,
        order: None,
        duration_ns: None,
    };
    read_details(&mut info, &tooltip, key_lines);
    match (kind, result) {
        (NodeKind::Task, Some(result)) => {
            read_details(&mut info, &result.tooltip_lines(), key_lines);
            read_label_details(&mut info, &result.label_lines());
        }
        // A value box lists its name, then its details; an empty label has neither.
        (NodeKind::Value, _) => read_label_details(&mut info, label.get(1..).unwrap_or_default()),
        (NodeKind::Task, None) => {}
    }
    info
}

#[cfg(test)]
mod tests {
    use crate::{NodeInfo, NodeKind};

    #[test]
    fn edges_between_subgraphs_cannot_blow_up_memory() {
        // 2,100 x 2,100 node pairs = 4.4 million edges from a 40 kB document.
        let side = |p: &str| {
            (0..2100)
                .map(|i| format!("{p}{i}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let text = format!(
            "digraph {{ x -> subgraph {{ {} }} -> subgraph {{ {} }} }}",
            side("a"),
            side("b")
        );
        assert!(text.len() < 50_000);
        let started = std::time::Instant::now();
        let err = TaskGraph::from_dot(&text).unwrap_err();
        assert!(
            matches!(
                err,
                GraphError::DotTooManyEdges {
                    limit: MAX_DOT_EDGES
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("more than 4194304 edges"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        // Below the limit, the product is read as Graphviz reads it.
        let small =
            TaskGraph::from_dot("digraph { x -> subgraph { a b } -> subgraph { c d } }").unwrap();
        assert_eq!((small.len(), small.edge_count()), (5, 2 + 4));
    }

    use super::*;

    /// `count` nested subgraphs after `prefix`, closed again.
    fn nested(prefix: &str, count: usize) -> String {
        format!(
            "digraph {{ {prefix} {} x {} }}",
            "subgraph { ".repeat(count),
            "} ".repeat(count)
        )
    }

    #[test]
    fn nesting_hidden_behind_an_html_label_is_refused_not_an_abort() {
        // The 55 KB file that aborted the process: `<<<x>>` once fooled the pre-check
        // into reading everything after it as one HTML label.
        let text = format!(
            "digraph {{ a [label=<<<x>>]; {}",
            "subgraph { ".repeat(5000)
        );
        assert!(text.len() > 55_000, "{}", text.len());
        let err = TaskGraph::from_dot(&text).unwrap_err();
        assert_eq!(
            err,
            GraphError::DotTooDeep {
                depth: 5001,
                limit: MAX_DOT_NESTING
            }
        );
        assert!(
            err.to_string().contains("nests subgraphs 5001 deep"),
            "{err}"
        );
    }

    #[test]
    fn nesting_after_every_lexical_form_is_counted() {
        let prefixes = [
            "a [label=<<<x>>];",
            "a [label=<x> \r\n >];",
            "a [label=\"\\\"{\"];",
            "a [label=\"}}}}\"];",
            "# comment\r",
            "// comment }}}\n",
            "/* } */",
            "/* /* } */",
            "a [label=<<b>}}</b>>];",
            "\"é}\" -> b;",
        ];
        for prefix in prefixes {
            let deep = nested(prefix, 5000);
            assert!(
                matches!(
                    TaskGraph::from_dot(&deep),
                    Err(GraphError::DotTooDeep { depth: 5001, .. })
                ),
                "{prefix:?}"
            );
            // Within the limit the same document parses.
            let ok = nested(prefix, MAX_DOT_NESTING - 1);
            let graph = TaskGraph::from_dot(&ok).unwrap_or_else(|e| panic!("{prefix:?}: {e}"));
            assert!(graph.find("x").is_some(), "{prefix:?}");
        }
    }

    #[test]
    fn the_deepest_accepted_document_parses_on_the_parser_stack() {
        let text = nested("", MAX_DOT_NESTING - 1);
        assert_eq!(TaskGraph::from_dot(&text).map(|g| g.len()), Ok(1));
        // From a thread with a small stack too: the parse does not run on it.
        let small = std::thread::Builder::new().stack_size(256 * 1024);
        let len = small
            .spawn(move || TaskGraph::from_dot(&text).map(|g| g.len()))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(len, Ok(1));
    }

    #[test]
    fn backtracking_blow_up_is_cut_off() {
        // Each level of `subgraph { … } -> a` is read twice when a syntax error lies
        // inside: 2^depth steps. 20 levels took 85 s before the step budget.
        let depth = 40;
        let text = format!(
            "digraph {{ {} x {} }}",
            "subgraph { ".repeat(depth),
            "} -> a ".repeat(depth)
        );
        let started = std::time::Instant::now();
        let err = TaskGraph::from_dot(&text).unwrap_err();
        assert!(matches!(err, GraphError::DotTooComplex { .. }), "{err}");
        assert!(err.to_string().contains("too complex"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn node_defaults_are_not_copied_attribute_by_attribute() {
        // 2,000 default attributes × 5,000 nodes took 1.6 GB and 4 s when every node
        // got its own copy; only the attributes the reader uses are kept now.
        let attrs: String = (0..2000).map(|i| format!("a{i}=v{i} ")).collect();
        let nodes: String = (0..5000).map(|i| format!("n{i}; ")).collect();
        let text = format!("digraph {{ node [{attrs} shape=box label=L]; {nodes} }}");
        let started = std::time::Instant::now();
        let graph = TaskGraph::from_dot(&text).unwrap();
        assert_eq!(graph.len(), 5000);
        let first = graph.node(graph.find("n0").unwrap());
        assert_eq!((first.kind, first.name.as_str()), (NodeKind::Value, "L"));
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        let reader = {
            let mut reader = Reader::default();
            let graphviz_rust::dot_structures::Graph::DiGraph { stmts, .. } =
                graphviz_rust::parse(&text).unwrap()
            else {
                unreachable!()
            };
            reader.walk(&stmts, &mut Vec::new());
            reader
        };
        assert!(reader.nodes.iter().all(|n| n.attrs.len() == 2));
    }

    fn read_with(text: &str, plan: Plan) -> Result<TaskGraph, GraphError> {
        let graph = on_parser_stack(text, plan)?.into_task_graph();
        graph.validate()?;
        Ok(graph)
    }

    /// Runs of one statement each: every cut the splitter allows is made.
    const SMALLEST_RUNS: Plan = Plan {
        whole_up_to: 0,
        run_bytes: 1,
    };

    #[test]
    fn reading_in_runs_gives_what_reading_whole_gives() {
        let mut graph = TaskGraph::new();
        let mut previous = None;
        for i in 0..300 {
            let info = if i % 3 == 0 {
                NodeInfo::value(format!("v-{i}"), "data\nline", "dask::delayed").with_size(i)
            } else {
                NodeInfo::task(format!("t \"{i}\"\n}}{{"), "f<b>", "m::f")
                    .with_type_name("Vec<u8>")
                    .with_duration_ns(i)
            };
            let id = graph.add_node(info);
            if let Some(p) = previous {
                graph.add_edge(p, id, 0);
            }
            previous = Some(id);
        }
        let documents = [
            graph.to_dot(),
            graph.to_dot_with(&crate::DotOptions::default().collapse_above(Some(0))),
            "digraph {\n node [shape=box]\n a [label=x]\n subgraph s {\n b\n c }\n node [shape=ellipse]\n d\n a\n-> b\n d -> c\n}".to_owned(),
            "digraph {\n a [label=x,\n tooltip=\"k\"]\n b\n [shape=box]\n subgraph\n\n s\n { e }\n x -> subgraph { y z }\n}".to_owned(),
            "digraph {\n a\n b -> a\n a -> b\n}".to_owned(),
            "graph {\n a\n b\n}".to_owned(),
            "digraph {\n a\n b ->\n}".to_owned(),
        ];
        for text in &documents {
            let whole = read_with(text, PLAN);
            let runs = read_with(text, SMALLEST_RUNS);
            match (&whole, &runs) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
                (Err(a), Err(b)) => assert_eq!(
                    std::mem::discriminant(a),
                    std::mem::discriminant(b),
                    "{text}: {a} / {b}"
                ),
                _ => panic!("{text}: {whole:?} / {runs:?}"),
            }
        }
        assert!(split(&documents[0], 1).unwrap().runs.len() > 300);
        let err = read_with(&documents[6], SMALLEST_RUNS).unwrap_err();
        assert!(err.to_string().contains("from line 3"), "{err}");
    }

    #[test]
    fn what_to_dot_writes_for_a_million_nodes_fits_the_limit() {
        let n = 2_000u64;
        // Comment and keyword look-alikes in strings must not stop the cuts.
        let graph = crate::model::typical_chain(n, " http://x/#subgraph");
        let dot = graph.to_dot();
        let per_node = dot.len() as u64 / n + 1;
        assert!(
            per_node * 1_000_000 <= MAX_DOT_BYTES as u64,
            "{per_node} bytes per node"
        );
        // Every line of it is a run of its own, far below the run limit.
        let pieces = split(&dot, 1).unwrap();
        assert!(pieces.runs.len() as u64 > 2 * n);
        assert!(pieces.runs.iter().all(|(_, run)| run.len() < 1000));
        // And read in runs, it comes back.
        let back = read_with(
            &dot,
            Plan {
                whole_up_to: 0,
                run_bytes: 64 * 1024,
            },
        )
        .unwrap();
        assert_eq!(back.len(), graph.len());
        for ((_, a), (_, b)) in graph.nodes().zip(back.nodes()) {
            assert_eq!(a, b);
        }
    }

    #[test]
    fn millis_read_exactly() {
        assert_eq!(parse_millis("1.234567"), Some(1_234_567));
        assert_eq!(parse_millis("0.5"), Some(500_000));
        assert_eq!(parse_millis("12"), Some(12_000_000));
        assert_eq!(parse_millis("1.2345678"), None);
        assert_eq!(parse_millis("x"), None);
    }

    #[test]
    fn long_parser_messages_are_cut_per_line() {
        let message = format!("--> 1:3\n{}\n= expected id", "x".repeat(5000));
        let short = shorten_lines(&message);
        assert!(short.len() < 400);
        assert!(short.ends_with("= expected id"));
    }
}
