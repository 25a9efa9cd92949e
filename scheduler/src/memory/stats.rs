//! What cached nodes did when they ran, and how problems are reported: the cache is an
//! optimisation, so a bad or unwritable entry is a warning, never a failed computation.

use std::sync::atomic::{AtomicU64, Ordering};

/// What the cached nodes of one [`Memory`](crate::Memory) (and its clones) did when they
/// ran, counted since it was created.
///
/// Every run of a cached node is either a hit or a miss. `corrupt` and `write_failures`
/// count problems among them: a corrupt entry is also a miss (the value was recomputed),
/// a failed write still returned the computed value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Values loaded from an entry, without running anything upstream.
    pub hits: u64,
    /// Values computed (and stored), including recomputations of bad entries.
    pub misses: u64,
    /// Entries found truncated, corrupt, of another format version or another type, or
    /// not a regular file (a FIFO, say), and recomputed.
    pub corrupt: u64,
    /// Entries that could not be written, or values not stored because postcard's
    /// format cannot hold them faithfully (the value was returned all the same).
    pub write_failures: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    corrupt: AtomicU64,
    write_failures: AtomicU64,
}

// Relaxed throughout: the counters are statistics, read after the computations that
// updated them have returned (which orders them through the scheduler's own sync).
impl Counters {
    pub(crate) fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn corrupt(&self) {
        self.corrupt.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn write_failure(&self) {
        self.write_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            corrupt: self.corrupt.load(Ordering::Relaxed),
            write_failures: self.write_failures.load(Ordering::Relaxed),
        }
    }
}

/// One line on stderr starting `dask: warning:`, and a `tracing` warning event with the
/// `tracing` feature.
#[cold]
pub(crate) fn warn(message: &str) {
    eprintln!("dask: warning: {message}");
    #[cfg(feature = "tracing")]
    tracing::warn!(target: "dask::memory", "{message}");
}
