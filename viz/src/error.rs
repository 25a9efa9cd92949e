//! What can go wrong reading a graph ([`GraphError`]) or drawing and saving one
//! ([`VizError`]).

use std::path::PathBuf;

use thiserror::Error;

/// Keys and names come from the input; a pathological one (megabytes long) must not turn
/// an error message into a wall of text.
const SHOWN_CHARS: usize = 120;

pub(crate) fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn shown_cycle(keys: &[String]) -> String {
    const MAX_STEPS: usize = 8;
    let mut parts: Vec<String> = keys.iter().take(MAX_STEPS).map(|k| shown(k)).collect();
    if keys.len() > MAX_STEPS {
        parts.push("…".to_owned());
    }
    if let Some(first) = keys.first() {
        parts.push(shown(first));
    }
    parts.join(" → ")
}

fn unreadable(extension: Option<&str>) -> String {
    match extension {
        Some(e) if e.eq_ignore_ascii_case("svg") => {
            format!("an SVG drawing (`.{e}`) cannot be read back")
        }
        Some(e) => format!("unsupported file extension `.{e}`"),
        None => "the name has no file extension".to_owned(),
    }
}

/// A graph document (JSON or DOT) that cannot be read into a [`TaskGraph`](crate::TaskGraph).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GraphError {
    /// Refused before parsing, so a hostile or mistaken input cannot exhaust memory.
    #[error("the document is {size} bytes, more than the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },

    /// Not JSON, or JSON not shaped like the schema (a missing or mistyped field).
    #[error("invalid graph JSON at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },

    #[error("the document has no `schema_version` field; this reader expects {expected}")]
    MissingVersion { expected: u32 },

    /// `found` is the JSON text of the version field as written.
    #[error("unsupported `schema_version` {found}; this reader understands version {expected}")]
    UnsupportedVersion { found: String, expected: u32 },

    /// `first` and `second` are node positions (0-based) in the document.
    #[error("duplicate key `{}`: nodes {first} and {second} both use it", shown(.key))]
    DuplicateKey {
        key: String,
        first: usize,
        second: usize,
    },

    /// `edge` is the edge's position (0-based) in the document; `end` is `from` or `to`.
    #[error("edge {edge} refers to unknown key `{}` in its `{end}` field", shown(.key))]
    UnknownKey {
        key: String,
        edge: usize,
        end: &'static str,
    },

    /// Task graphs must be acyclic. `cycle` lists the keys around one cycle, starting
    /// with `key`.
    #[error("the graph has a cycle through `{}`: {}", shown(.key), shown_cycle(.cycle))]
    Cycle { key: String, cycle: Vec<String> },

    /// The DOT parser's own message, which includes line and column.
    #[error("invalid DOT: {message}")]
    DotSyntax { message: String },

    /// Refused before parsing: the parser recurses once per nesting level.
    #[error(
        "the DOT document nests subgraphs {depth} deep, more than the {limit} this reader accepts"
    )]
    DotTooDeep { depth: usize, limit: usize },

    /// The parser gave up after `budget` steps: the grammar backtracks, and some
    /// inputs (errors deep inside nested subgraphs) would take it exponential time.
    #[error("the DOT document is too complex to parse (more than {budget} parser steps); nested subgraphs with a syntax error inside are the usual cause")]
    DotTooComplex { budget: usize },

    /// A document above 16 MiB is parsed in runs of top-level statements, cut at line
    /// breaks; `size` bytes had no place to cut.
    #[error("the DOT document has {size} bytes of statements with no line break between top-level statements, more than the {limit} this reader parses at once")]
    DotRunTooLarge { size: usize, limit: usize },

    /// The DOT reader could not run (its parser thread did not start or failed).
    #[error("the DOT reader failed: {message}")]
    DotParser { message: String },

    #[error("the DOT document describes more than {limit} edges (edges between subgraphs join every pair of their nodes)")]
    DotTooManyEdges { limit: usize },

    #[error("the DOT document is an undirected `graph`; task graphs need a `digraph`")]
    DotUndirected,
}

/// A drawing that could not be made or saved.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VizError {
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("unsupported file extension `.{extension}` in {}; use .svg, .dot, .gv or .json", .path.display())]
    UnsupportedExtension { extension: String, path: PathBuf },

    #[error("{} has no file extension; use .svg, .dot, .gv or .json", .path.display())]
    MissingExtension { path: PathBuf },

    /// Only with [`Engine::Dot`](crate::Engine::Dot); `Auto` falls back to the embedded layout.
    #[error("Graphviz `dot` was not found on PATH")]
    DotNotFound,

    #[error("Graphviz `dot` failed: {message}")]
    DotFailed { message: String },

    /// `dot` ran past [`SvgOptions::dot_timeout`](crate::SvgOptions::dot_timeout) and
    /// was killed. Only with [`Engine::Dot`](crate::Engine::Dot); `Auto` falls back.
    #[error("Graphviz `dot` did not finish within {limit:?} and was stopped; raise the limit (`SvgOptions::dot_timeout`, `--dot-timeout`) or use the embedded engine")]
    DotTimedOut { limit: std::time::Duration },

    /// `dot` wrote more SVG than [`limits`](crate::limits) allows for its input and
    /// was killed. Only with [`Engine::Dot`](crate::Engine::Dot); `Auto` falls back.
    #[error("Graphviz `dot` wrote more than {limit} bytes of SVG and was stopped")]
    DotOutputTooLarge { limit: usize },

    /// [`TaskGraph::load`](crate::TaskGraph::load) reads `.json`, `.dot` and `.gv`
    /// files only. `extension` is `None` when the name has none.
    #[error("cannot read a graph from {}: {}; use .json, .dot or .gv", .path.display(), unreadable(.extension.as_deref()))]
    UnreadableExtension {
        extension: Option<String>,
        path: PathBuf,
    },

    /// [`TaskGraph::load`](crate::TaskGraph::load) reads regular files only: a device
    /// (`/dev/zero`), a FIFO or a socket could block or never end, and a directory is
    /// no graph. `kind` says what the path is.
    #[error("cannot read {}: it is {kind}, not a regular file", .path.display())]
    NotAFile { kind: &'static str, path: PathBuf },

    /// Reading a saved graph back failed.
    #[error("{}: {source}", .path.display())]
    Graph {
        path: PathBuf,
        #[source]
        source: GraphError,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_keys_are_shortened_in_messages() {
        let key = "k".repeat(10_000);
        let err = GraphError::DuplicateKey {
            key,
            first: 0,
            second: 1,
        };
        let text = err.to_string();
        assert!(text.len() < 300, "{}", text.len());
        assert!(text.contains('…'));
    }

    #[test]
    fn a_cycle_is_shown_closed() {
        let err = GraphError::Cycle {
            key: "a".into(),
            cycle: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            err.to_string(),
            "the graph has a cycle through `a`: a → b → a"
        );
    }
}
