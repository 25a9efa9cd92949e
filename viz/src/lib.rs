//! The task-graph model shared by the scheduler and the drawings.
//!
//! A [`TaskGraph`] is what `dask::graph(&outputs)` returns: the deduplicated, culled graph
//! exactly as `compute` would run it. Edges point from a dependency to the task that reads
//! it, carrying the argument position of that read.
//!
//! This crate turns it into:
//! - Graphviz DOT ([`TaskGraph::to_dot`]) in Dask's visual language: a task is an
//!   ellipse named after its function, its result a box labelled with type and size,
//!   data a box;
//! - versioned JSON ([`TaskGraph::to_json`], schema in `viz/SCHEMA.md`) that
//!   [`TaskGraph::from_json`] reads back, refusing malformed documents with an error
//!   that says what and where;
//! - DOT read back best effort ([`TaskGraph::from_dot`]).
//!
//! ```
//! use dask_viz::{NodeInfo, TaskGraph};
//!
//! let mut graph = TaskGraph::new();
//! let data = graph.add_node(
//!     NodeInfo::task("generate_data-3fa2c19b07d1e4a2", "generate_data", "pipeline::generate_data")
//!         .with_type_name("alloc::vec::Vec<f64>")
//!         .with_size(8_000_000),
//! );
//! let stats = graph.add_node(NodeInfo::task("aggregate_data-9b1c", "aggregate_data", "pipeline::aggregate_data"));
//! graph.add_edge(data, stats, 0);
//!
//! let dot = graph.to_dot();
//! assert!(dot.contains(r#"label="Vec&lt;f64&gt;\n8.0 MB""#));
//!
//! let json = graph.to_json();
//! assert_eq!(TaskGraph::from_json(&json)?, graph);
//! # Ok::<(), dask_viz::GraphError>(())
//! ```

mod collapse;
mod color;
mod dot;
mod error;
mod json;
mod label;
mod layout;
mod model;
mod options;
mod save;
mod scene;
mod svg;
mod validate;

pub use collapse::{CollapsedGraph, FunctionGroup, GroupEdge};
pub use color::ColorBy;
pub use dot::{MAX_DOT_BYTES, MAX_DOT_NESTING};
pub use error::{GraphError, VizError};
pub use json::{MAX_JSON_BYTES, SCHEMA_VERSION};
pub use model::{EdgeInfo, NodeId, NodeInfo, NodeKind, TaskGraph};
pub use options::{DotOptions, Engine, RankDir, SvgOptions, DEFAULT_COLLAPSE_ABOVE};
pub use save::Format;
pub use svg::dot_available;
