//! The Arrow types partitions are made of (arrow-rs), under the paths of the `arrow`
//! crate: `dask::dataframe::arrow::record_batch::RecordBatch`, `...::array::Float64Array`,
//! `...::datatypes::Schema`. Only the sub-crates `dask` builds are re-exported.

/// Arrays and builders (`arrow::array`).
pub mod array {
    pub use arrow_array::*;
}

/// Record batches (`arrow::record_batch`).
pub mod record_batch {
    pub use arrow_array::{
        RecordBatch, RecordBatchIterator, RecordBatchOptions, RecordBatchReader,
    };
}

/// Schemas and types (`arrow::datatypes`).
pub mod datatypes {
    pub use arrow_array::types::*;
    pub use arrow_schema::*;
}

/// Arrow's error type (`arrow::error`).
pub mod error {
    pub use arrow_schema::ArrowError;
}

/// The kernels `dask` builds (`arrow::compute`): selection, comparison, arithmetic, cast.
pub mod compute {
    pub use arrow_arith::{aggregate, arithmetic, boolean, numeric};
    pub use arrow_cast::cast;
    pub use arrow_ord::{cmp, sort};
    pub use arrow_select::{concat, filter, take};
}
