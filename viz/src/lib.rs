//! The task-graph model shared by the scheduler and the drawings.
//!
//! A [`TaskGraph`] is what `dask::graph(&outputs)` returns: the deduplicated, culled graph
//! exactly as `compute` would run it. Edges point from a dependency to the task that reads
//! it, carrying the argument position of that read.

mod model;

pub use model::{EdgeInfo, NodeId, NodeInfo, NodeKind, TaskGraph};
