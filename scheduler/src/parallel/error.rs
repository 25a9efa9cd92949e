//! How a [`Parallel`](crate::Parallel) map fails: one item's call, named by its position
//! in the input. Reaches users as [`Error::Parallel`](crate::Error::Parallel).

use crate::error::BoxError;

/// Why a [`Parallel`](crate::Parallel) map failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParallelError {
    /// The call for the item at `index` (its position in the input) returned `Err`.
    /// Items not yet started were cancelled.
    #[error("item {index} failed: {source}")]
    Item {
        index: usize,
        #[source]
        source: BoxError,
    },
    /// The call for the item at `index` panicked. Items not yet started were cancelled;
    /// the pool is still usable.
    #[error("item {index} panicked: {message}")]
    ItemPanic { index: usize, message: String },
    /// [`Parallel::timeout`](crate::Parallel::timeout): the map ran past its limit.
    /// `index` is a call that was still running at the deadline (`running`), or else
    /// the first item that had not started. Items not started were dropped uncalled.
    #[error(
        "item {index} {}: the map timed out after {after:?}",
        if *running { "was still running" } else { "had not started" }
    )]
    ItemTimeout {
        index: usize,
        after: std::time::Duration,
        running: bool,
    },
}

impl ParallelError {
    /// The input position of the item that failed.
    pub fn item_index(&self) -> usize {
        match self {
            ParallelError::Item { index, .. }
            | ParallelError::ItemPanic { index, .. }
            | ParallelError::ItemTimeout { index, .. } => *index,
        }
    }
}
