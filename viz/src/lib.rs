//! The task-graph model shared by the scheduler and the drawings.
//!
//! A [`TaskGraph`] is what `dask::graph(&outputs)` returns: the deduplicated, culled graph
//! exactly as `compute` would run it. Edges point from a dependency to the task that reads
//! it, carrying the argument position of that read.
//!
//! # Drawing in Dask's visual language
//!
//! A task is an ellipse named after its function, followed by a box for its result,
//! labelled (unlike Dask's blank boxes) with the result's type and size where known;
//! a value put into the graph is a box. Edges go from a dependency (its result box) to
//! the task reading it. Node ids in the outputs are generated; keys, which may hold any
//! text, only ever appear escaped, in tooltips.
//!
//! - [`TaskGraph::to_dot`] / [`to_dot_with`](TaskGraph::to_dot_with): Graphviz DOT,
//!   built with graphviz-rust's model and printer.
//! - [`TaskGraph::to_svg`] / [`to_svg_with`](TaskGraph::to_svg_with): SVG from our own
//!   layered layout, no system program needed; [`Engine::Auto`] uses Graphviz `dot`
//!   where it is installed.
//! - [`TaskGraph::to_json`] / [`from_json`](TaskGraph::from_json): versioned JSON
//!   (schema in `viz/SCHEMA.md`); reading refuses malformed documents, duplicate and
//!   unknown keys, cycles and oversized input with a [`GraphError`] saying what and
//!   where.
//! - [`TaskGraph::from_dot`]: DOT read back, best effort.
//! - [`limits`]: every size, depth and step limit the readers enforce, in one table.
//! - [`TaskGraph::save`] / [`load`](TaskGraph::load): the format follows the file's
//!   extension (`.svg`, `.dot`/`.gv`, `.json`). `Delayed::visualize` calls `save`.
//!
//! Graphs above [`DEFAULT_COLLAPSE_ABOVE`] nodes are drawn as one node per function
//! ([`TaskGraph::collapse_by_function`]), labelled with call counts, edges with how
//! many reads they stand for. Fills follow [`ColorBy`]: the function (default), the
//! scheduler's run order, or measured run time.
//!
//! The `dask-viz` command line (feature `cli`, on by default) renders saved graphs:
//! `dask-viz render graph.json -o graph.svg --rankdir LR`.
//!
//! ```
//! use dask_viz::{Engine, NodeInfo, SvgOptions, TaskGraph};
//!
//! let mut graph = TaskGraph::new();
//! let data = graph.add_node(
//!     NodeInfo::task("generate_data-3fa2c19b07d1e4a2", "generate_data", "pipeline::generate_data")
//!         .with_type_name("alloc::vec::Vec<f64>")
//!         .with_size(8_000_000),
//! );
//! let stats = graph.add_node(NodeInfo::task(
//!     "aggregate_data-9b1c04e2d0f3a871",
//!     "aggregate_data",
//!     "pipeline::aggregate_data",
//! ));
//! graph.add_edge(data, stats, 0);
//!
//! // The result box says what flows along the edge.
//! let dot = graph.to_dot();
//! assert!(dot.contains(r#"label="Vec&lt;f64&gt;\n8.0 MB""#));
//!
//! // JSON reads back to an equal graph.
//! let json = graph.to_json();
//! assert_eq!(TaskGraph::from_json(&json)?, graph);
//!
//! // The embedded engine draws the same picture on every machine.
//! let svg = graph.to_svg_with(&SvgOptions::default().engine(Engine::Embedded))?;
//! assert!(svg.contains(">generate_data</text>"));
//!
//! // Malformed input is an error, never a panic.
//! let err = TaskGraph::from_json(r#"{"schema_version": 1, "nodes": [], "edges": [{"from": "a", "to": "b"}]}"#)
//!     .unwrap_err();
//! assert_eq!(err.to_string(), "edge 0 refers to unknown key `a` in its `from` field");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod axis;
mod collapse;
mod color;
mod dot;
mod error;
mod json;
mod label;
mod layout;
pub mod limits;
mod model;
mod options;
mod report;
mod save;
mod scene;
mod svg;
mod timeline;
mod validate;

pub use collapse::{CollapsedGraph, FunctionGroup, GroupEdge};
pub use color::ColorBy;
pub use dot::{MAX_DOT_BYTES, MAX_DOT_EDGES, MAX_DOT_NESTING, MAX_DOT_RUN_BYTES};
pub use error::{GraphError, VizError};
pub use json::{MAX_JSON_BYTES, SCHEMA_VERSION};
pub use model::{EdgeInfo, NodeId, NodeInfo, NodeKind, TaskGraph};
pub use options::{
    DotOptions, Engine, RankDir, SvgOptions, DEFAULT_COLLAPSE_ABOVE, DEFAULT_DOT_TIMEOUT,
};
pub use report::{Report, SummaryRow};
pub use save::Format;
pub use svg::dot_available;
#[doc(hidden)]
pub use timeline::format_ns;
pub use timeline::{Timeline, TimelineBar};
