//! Every limit the readers (and the `dot` runner) enforce, in one place. Each is
//! checked before or while doing the work it bounds and answered with a
//! [`GraphError`](crate::GraphError) or [`VizError`](crate::VizError) naming the
//! limit, never a panic, an abort or a hang.
//!
//! | limit | value | what it bounds |
//! |-------|-------|----------------|
//! | [`MAX_JSON_BYTES`] | 1 GiB | `from_json` document size (`from_json_with_limit` takes another). `to_json` writes about 320 bytes per typical node, so a million nodes of up to 1 KB each read back. |
//! | [`MAX_DOT_BYTES`] | 1 GiB | `from_dot` document size (`from_dot_with_limit` takes another). `to_dot` writes about 270 bytes per typical node: a million nodes read back. |
//! | [`MAX_DOT_RUN_BYTES`] | 64 MiB | DOT parsed at once. Documents up to 16 MiB are parsed whole; bigger ones in runs of about 1 MiB of top-level statements, cut at line breaks between statements (as `to_dot` writes them), because the parser needs about 70 bytes of memory per byte. A bigger document whose statements cannot be cut that small is refused. |
//! | [`MAX_DOT_NESTING`] | 64 | `{ … }` nesting (subgraphs), counted before parsing by a scan that reads strings, comments and HTML-like ids exactly as the parser does. `to_dot` writes depth 1. The parse runs on a thread with a 64 MiB stack, so no depth can overflow the caller's. |
//! | [`CALL_BUDGET_PER_BYTE`] × bytes + [`CALL_BUDGET_BASE`] | 64 × bytes + 1,000,000 | parser steps (pest calls) per parse. The grammar backtracks exponentially on errors inside nested subgraphs; `to_dot`'s output needs 7 steps per byte. |
//! | [`MAX_DOT_EDGES`] | 4,194,304 | edges a DOT document may describe (an edge between subgraphs joins every pair of their nodes). |
//! | regular files only | — | [`TaskGraph::load`](crate::TaskGraph::load) opens without blocking and refuses devices, FIFOs, sockets and directories ([`VizError::NotAFile`](crate::VizError::NotAFile)); it reads at most the format's limit + 1 bytes, so a file that grows while read is still refused as too large. |
//! | [`DEFAULT_DOT_TIMEOUT`](crate::DEFAULT_DOT_TIMEOUT) | 60 s | how long Graphviz's `dot` may run for one SVG ([`SvgOptions::dot_timeout`](crate::SvgOptions::dot_timeout) takes another); then it is killed with its process group. |
//! | [`DOT_SVG_BASE_BYTES`] + [`DOT_SVG_BYTES_PER_INPUT_BYTE`] × DOT bytes | 64 MiB + 64 × input | SVG read from `dot`, counted while it is read; past it `dot` is killed. |
//!
//! pest's step limit is one process-wide setting, so `from_dot` calls take turns to
//! set it for their input (a mutex held for each parse) and clear it afterwards;
//! another pest parser in the same process running at that moment would share it.
//!
//! JSON nesting needs no limit: unknown fields are skipped without recursion
//! (a field nested 100,000 deep reads fine). DOT node attributes other than `label`,
//! `shape` and `tooltip` are dropped as they are read, so `node [...]` defaults cost
//! nothing per node however many attributes they list. Reading DOT in runs takes
//! about 7 bytes of memory per byte of document (measured: 190 MB more for the
//! 28 MB `to_dot` of 100,000 nodes, against 1.9 GB parsed whole).

pub use crate::dot::{
    CALL_BUDGET_BASE, CALL_BUDGET_PER_BYTE, MAX_DOT_BYTES, MAX_DOT_EDGES, MAX_DOT_NESTING,
    MAX_DOT_RUN_BYTES,
};
pub use crate::json::MAX_JSON_BYTES;
pub use crate::svg::{DOT_SVG_BASE_BYTES, DOT_SVG_BYTES_PER_INPUT_BYTE};
