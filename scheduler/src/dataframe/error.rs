//! What can be wrong with a dataframe operation, found from the schema alone while the
//! graph is built.

/// An invalid `dask::dataframe` operation. Builders stay chainable: the error travels
/// with the dataframe, and `compute`, `persist` and `head` return it (as
/// [`dask::Error::DataFrame`](crate::Error)) before any task runs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DataFrameError {
    /// A column that the dataframe does not have.
    #[error("`{op}`: no column `{column}`; the columns are: {}", available.join(", "))]
    UnknownColumn {
        op: &'static str,
        column: String,
        /// The columns that exist, with their types (`x: float64`).
        available: Vec<String>,
    },
    /// An expression whose operand types do not fit its operation.
    #[error("`{op}`: {why} in `{expr}`; the columns are: {}", available.join(", "))]
    TypeMismatch {
        op: &'static str,
        expr: String,
        why: String,
        available: Vec<String>,
    },
    /// A file that cannot be listed, opened, read or written.
    #[error("`{op}`: {path}: {why}")]
    Io {
        op: &'static str,
        path: String,
        why: String,
    },
    /// Any other operation its inputs do not allow (said in `why`).
    #[error("`{op}`: {why}")]
    Invalid { op: &'static str, why: String },
}
