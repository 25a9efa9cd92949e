//! The versioned JSON form of a task graph; the schema is documented in `viz/SCHEMA.md`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::GraphError;
use crate::model::{NodeInfo, TaskGraph};

/// The schema version [`TaskGraph::to_json`] writes and [`TaskGraph::from_json`] reads.
pub const SCHEMA_VERSION: u32 = 1;

/// Larger JSON documents are refused before parsing, so a mistaken or hostile input
/// cannot exhaust memory. `to_json` writes about 320 bytes per typical node (a million
/// nodes: 320 MB), so what it writes for a million nodes of up to 1 KB each reads
/// back.
pub const MAX_JSON_BYTES: usize = 1024 * 1024 * 1024;

#[derive(Serialize)]
struct DocumentOut<'a> {
    schema_version: u32,
    nodes: Vec<&'a NodeInfo>,
    edges: Vec<EdgeOut<'a>>,
}

#[derive(Serialize)]
struct EdgeOut<'a> {
    from: &'a str,
    to: &'a str,
    position: u32,
}

/// Read first, on its own, so a document from a newer version is reported as such
/// rather than as whatever field it happens to lack.
#[derive(Deserialize)]
struct VersionProbe {
    #[serde(default)]
    schema_version: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct DocumentIn {
    nodes: Vec<NodeInfo>,
    #[serde(default)]
    edges: Vec<EdgeIn>,
}

#[derive(Deserialize)]
struct EdgeIn {
    from: String,
    to: String,
    #[serde(default)]
    position: u32,
}

fn json_error(err: serde_json::Error) -> GraphError {
    // serde_json appends " at line L column C" to its message; we report them as fields.
    let message = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    let message = message.strip_suffix(&suffix).unwrap_or(&message).to_owned();
    GraphError::Json {
        line: err.line(),
        column: err.column(),
        message,
    }
}

/// serde reads a struct from a JSON array too (`[1, [...]]`); the schema says object.
fn not_an_object(text: &str) -> Result<(), GraphError> {
    let Some((at, first)) = text.char_indices().find(|(_, c)| !c.is_ascii_whitespace()) else {
        return Ok(()); // Empty: serde's own "EOF while parsing" says it best.
    };
    if first == '{' {
        return Ok(());
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |n| n + 1) + 1;
    Err(GraphError::Json {
        line,
        column,
        message: "expected a JSON object with `schema_version`, `nodes` and `edges`".to_owned(),
    })
}

impl TaskGraph {
    /// The graph as a JSON document (schema version [`SCHEMA_VERSION`]; see
    /// `viz/SCHEMA.md`): nodes in insertion order, edges by key.
    pub fn to_json(&self) -> String {
        let document = DocumentOut {
            schema_version: SCHEMA_VERSION,
            nodes: self.nodes().map(|(_, n)| n).collect(),
            edges: self
                .edges()
                .map(|(from, to, info)| EdgeOut {
                    from: &self.node(from).key,
                    to: &self.node(to).key,
                    position: info.position,
                })
                .collect(),
        };
        // Plain data with string keys cannot fail to serialize; should it ever, an empty
        // document fails loudly on reading instead of panicking here.
        serde_json::to_string_pretty(&document).unwrap_or_default()
    }

    /// Reads a document written by [`to_json`](Self::to_json) back into an equal graph.
    ///
    /// Refuses documents above [`MAX_JSON_BYTES`], malformed JSON (with line and
    /// column), a missing or other `schema_version`, duplicate keys, edges naming
    /// unknown keys, and cycles.
    pub fn from_json(text: &str) -> Result<TaskGraph, GraphError> {
        Self::from_json_with_limit(text, MAX_JSON_BYTES)
    }

    /// [`from_json`](Self::from_json) with another size limit in bytes.
    pub fn from_json_with_limit(text: &str, max_bytes: usize) -> Result<TaskGraph, GraphError> {
        if text.len() > max_bytes {
            return Err(GraphError::TooLarge {
                size: text.len(),
                limit: max_bytes,
            });
        }
        not_an_object(text)?;
        let probe: VersionProbe = serde_json::from_str(text).map_err(json_error)?;
        match probe.schema_version {
            None => {
                return Err(GraphError::MissingVersion {
                    expected: SCHEMA_VERSION,
                })
            }
            Some(v) if v.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {}
            Some(other) => {
                return Err(GraphError::UnsupportedVersion {
                    found: crate::error::shown(&other.to_string()),
                    expected: SCHEMA_VERSION,
                })
            }
        }
        let document: DocumentIn = serde_json::from_str(text).map_err(json_error)?;

        let mut graph = TaskGraph::with_capacity(document.nodes.len(), document.edges.len());
        let mut by_key: HashMap<String, crate::NodeId> =
            HashMap::with_capacity(document.nodes.len());
        for node in document.nodes {
            let key = node.key.clone();
            let id = graph.add_node(node);
            if let Some(first) = by_key.insert(key.clone(), id) {
                return Err(GraphError::DuplicateKey {
                    key,
                    first: first.index(),
                    second: id.index(),
                });
            }
        }
        for (i, edge) in document.edges.into_iter().enumerate() {
            let lookup = |key: String, end: &'static str| {
                by_key
                    .get(&key)
                    .copied()
                    .ok_or(GraphError::UnknownKey { key, edge: i, end })
            };
            let from = lookup(edge.from, "from")?;
            let to = lookup(edge.to, "to")?;
            graph.add_edge(from, to, edge.position);
        }
        graph.validate()?;
        Ok(graph)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeKind;

    fn sample() -> TaskGraph {
        let mut g = TaskGraph::new();
        let v = g.add_node(NodeInfo::value("data-1", "data", "dask::delayed").with_size(24));
        let t = g.add_node(
            NodeInfo::task("sum-3fa2c19b07d1e4a2", "sum", "pipeline::sum")
                .with_type_name("f64")
                .with_order(1)
                .with_duration_ns(42),
        );
        let u = g.add_node(NodeInfo::task("weird \"key\"\n<script>", "ünï", "a::b"));
        g.add_edge(v, t, 0);
        g.add_edge(t, u, 2);
        g.add_edge(v, u, 0);
        g
    }

    fn minimal(body: &str) -> String {
        format!(r#"{{"schema_version": 1, {body}}}"#)
    }

    #[test]
    fn round_trip_gives_an_equal_graph() {
        let g = sample();
        let text = g.to_json();
        assert_eq!(TaskGraph::from_json(&text), Ok(g));
        assert_eq!(
            TaskGraph::from_json(&TaskGraph::new().to_json()),
            Ok(TaskGraph::new())
        );
    }

    #[test]
    fn the_document_follows_the_schema() {
        let value: serde_json::Value = serde_json::from_str(&sample().to_json()).unwrap();
        assert_eq!(value["schema_version"], 1);
        assert_eq!(value["nodes"][0]["kind"], "value");
        assert_eq!(value["nodes"][0]["size"], 24);
        assert!(value["nodes"][0].get("order").is_none());
        assert_eq!(value["nodes"][1]["duration_ns"], 42);
        assert_eq!(
            value["edges"][1],
            serde_json::json!({"from": "sum-3fa2c19b07d1e4a2", "to": "weird \"key\"\n<script>", "position": 2})
        );
    }

    #[test]
    fn optional_fields_and_unknown_fields_are_accepted() {
        let g = TaskGraph::from_json(&minimal(
            r#""nodes": [{"key": "a", "name": "a", "path": "m::a", "kind": "task", "colour": "red"}],
               "generator": "hand-written""#,
        ))
        .unwrap();
        assert_eq!(g.len(), 1);
        assert_eq!(g.node(g.find("a").unwrap()).kind, NodeKind::Task);
        assert_eq!(g.edge_count(), 0);
    }

    fn error_of(text: &str) -> String {
        TaskGraph::from_json(text).unwrap_err().to_string()
    }

    #[test]
    fn bad_json_names_line_and_column() {
        assert_eq!(
            error_of("{\n  \"schema_version\": 1,\n  \"nodes\": [,]\n}"),
            "invalid graph JSON at line 3, column 13: expected value"
        );
        assert_eq!(
            error_of(""),
            "invalid graph JSON at line 1, column 0: EOF while parsing a value"
        );
        assert_eq!(
            error_of("\n  [1, 2]"),
            "invalid graph JSON at line 2, column 3: expected a JSON object with \
             `schema_version`, `nodes` and `edges`"
        );
    }

    #[test]
    fn schema_violations_name_the_field() {
        let err = error_of(&minimal(
            r#""nodes": [{"key": "a", "name": "a", "path": "a"}]"#,
        ));
        assert!(err.contains("missing field `kind`"), "{err}");
        let err = error_of(&minimal(
            r#""nodes": [{"key": "a", "name": "a", "path": "a", "kind": "thunk"}]"#,
        ));
        assert!(err.contains("unknown variant `thunk`"), "{err}");
        let err = error_of(&minimal(
            r#""nodes": [{"key": "a", "name": "a", "path": "a", "kind": "task", "size": -1}]"#,
        ));
        assert!(err.contains("invalid value: integer `-1`"), "{err}");
        assert!(error_of(&minimal(r#""edges": []"#)).contains("missing field `nodes`"));
    }

    #[test]
    fn versions_are_checked_first() {
        assert_eq!(
            error_of(r#"{"nodes": []}"#),
            "the document has no `schema_version` field; this reader expects 1"
        );
        assert_eq!(
            error_of(r#"{"schema_version": 2, "graph": {}}"#),
            "unsupported `schema_version` 2; this reader understands version 1"
        );
        assert_eq!(
            error_of(r#"{"schema_version": "1", "nodes": []}"#),
            "unsupported `schema_version` \"1\"; this reader understands version 1"
        );
    }

    const TWO_NODES: &str = r#"{"key": "a", "name": "a", "path": "m::a", "kind": "task"},
                               {"key": "b", "name": "b", "path": "m::b", "kind": "task"}"#;

    #[test]
    fn edges_must_name_known_keys() {
        let text = minimal(&format!(
            r#""nodes": [{TWO_NODES}], "edges": [{{"from": "a", "to": "b"}}, {{"from": "a", "to": "zz"}}]"#
        ));
        assert_eq!(
            error_of(&text),
            "edge 1 refers to unknown key `zz` in its `to` field"
        );
        let text = minimal(&format!(
            r#""nodes": [{TWO_NODES}], "edges": [{{"from": "q", "to": "b"}}]"#
        ));
        assert_eq!(
            error_of(&text),
            "edge 0 refers to unknown key `q` in its `from` field"
        );
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let text = minimal(&format!(
            r#""nodes": [{TWO_NODES}, {{"key": "a", "name": "a2", "path": "m::a", "kind": "value"}}]"#
        ));
        assert_eq!(
            error_of(&text),
            "duplicate key `a`: nodes 0 and 2 both use it"
        );
    }

    #[test]
    fn cycles_are_refused() {
        let text = minimal(&format!(
            r#""nodes": [{TWO_NODES}], "edges": [{{"from": "a", "to": "b"}}, {{"from": "b", "to": "a"}}]"#
        ));
        let err = error_of(&text);
        assert!(
            err == "the graph has a cycle through `a`: a → b → a"
                || err == "the graph has a cycle through `b`: b → a → b",
            "{err}"
        );
    }

    #[test]
    fn oversized_documents_are_refused_before_parsing() {
        let text = sample().to_json();
        assert_eq!(
            TaskGraph::from_json_with_limit(&text, 100),
            Err(GraphError::TooLarge {
                size: text.len(),
                limit: 100
            })
        );
        // Not even parsed: garbage above the limit gets the size error, not a syntax error.
        assert!(matches!(
            TaskGraph::from_json_with_limit(&"x".repeat(101), 100),
            Err(GraphError::TooLarge { .. })
        ));
        assert!(TaskGraph::from_json_with_limit(&text, text.len()).is_ok());
    }

    #[test]
    fn what_to_json_writes_for_a_million_nodes_fits_the_limit() {
        let n = 20_000u64;
        let g = crate::model::typical_chain(n, "");
        let text = g.to_json();
        let per_node = text.len() as u64 / n + 1;
        assert!(
            per_node * 1_000_000 <= MAX_JSON_BYTES as u64,
            "{per_node} bytes per node"
        );
        assert_eq!(TaskGraph::from_json(&text), Ok(g));
    }

    #[test]
    fn deeply_nested_json_does_not_overflow_the_stack() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let text = minimal(&format!(
            r#""nodes": [{{"key": "a", "name": "a", "path": "a", "kind": "task", "extra": {deep}}}]"#
        ));
        assert_eq!(TaskGraph::from_json(&text).map(|g| g.len()), Ok(1));
        let text = minimal(&format!(r#""nodes": [{{"key": {deep}}}]"#));
        assert!(error_of(&text).contains("invalid type: sequence"));
    }
}
