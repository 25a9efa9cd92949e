//! How a [`Memory`](crate::Memory) fails: a node it will not cache, or a directory it
//! cannot use. Reaches users as [`Error::Cache`](crate::Error::Cache).

/// Why a [`Memory`](crate::Memory) could not cache or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// [`Memory::cache`](crate::Memory::cache) refused a node whose key does not name
    /// its value in every run: it, or a node upstream of it, is not pure. `reason` names
    /// that node and says what to change.
    #[error("cannot cache `{name}` ({key}): {reason}")]
    NotCacheable {
        key: String,
        name: String,
        reason: String,
    },
    /// The cache directory could not be used.
    #[error("cache directory: cannot {action} {}: {source}", path.display())]
    Io {
        /// What was attempted: `create`, `write`, `list`, `inspect`, `remove`.
        action: &'static str,
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}
