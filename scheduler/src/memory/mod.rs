//! `dask::Memory`: results of pure delayed functions cached on disk, joblib's `Memory`
//! for task graphs.
//!
//! - `entry.rs`: the file format of one entry (header, checksum, postcard payload).
//! - `store.rs`: the directory (where entries live, atomic writes, size, clear).
//! - `node.rs`: the graph nodes `cache` returns, loading or storing an entry.
//! - `refusal.rs`: why a node cannot be cached.
//! - `skip_probe.rs`: finding values whose `Serialize` skips fields, which postcard's
//!   format cannot store faithfully.
//! - `stats.rs`: hit/miss counters and warnings.

mod entry;
mod error;
mod limits;
mod node;
mod refusal;
mod skip_probe;
mod stats;
mod store;

pub use error::CacheError;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::delayed::Delayed;
use crate::error::Error;
use entry::EntryIdentity;
use node::EntrySlot;
use stats::Counters;
use store::Store;

pub use limits::CacheLimits;
pub use stats::CacheStats;
pub use store::CacheSize;

/// An on-disk cache of results of pure delayed functions (joblib's `Memory`).
///
/// [`cache`](Memory::cache) wraps a node: when the directory already holds its value,
/// the returned node loads it and has no inputs, so [`compute`](crate::compute) skips the
/// whole upstream; otherwise the returned node computes the original and stores the
/// value on the way through.
///
/// ```
/// use dask::{delayed, Memory};
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// static RUNS: AtomicUsize = AtomicUsize::new(0);
///
/// #[delayed(pure)]
/// fn slow_square(x: u64) -> u64 {
///     RUNS.fetch_add(1, Ordering::Relaxed);
///     x * x
/// }
///
/// let dir = std::env::temp_dir().join(format!("dask-memory-doc-{}", std::process::id()));
/// let memory = Memory::new(&dir)?;
/// memory.clear()?;
///
/// let first = memory.cache(&slow_square(7))?;
/// assert_eq!(first.compute()?, 49); // computed, then stored
/// let again = memory.cache(&slow_square(7))?;
/// assert_eq!(again.compute()?, 49); // loaded: slow_square did not run again
/// assert_eq!(RUNS.load(Ordering::Relaxed), 1);
/// assert_eq!((memory.stats().hits, memory.stats().misses), (1, 1));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), dask::Error>(())
/// ```
///
/// # What is cached, under which name
/// Only nodes whose key names their value in every run can be cached: a
/// `#[delayed(pure)]` call whose inputs are plain values or other such calls. Their key
/// hashes the function's path, a fingerprint of its source (so editing the function, or
/// any pure function upstream of it, makes new entries instead of reading stale ones)
/// and the arguments' content, with 128 bits of BLAKE3 (the printed key shows 64 of
/// them; entries compare all 128). A node built from a non-pure task, a `map` closure or
/// a [`dask::delayed`](crate::delayed()) value is refused with
/// [`CacheError::NotCacheable`]. The entry's file is
/// `<dir>/<crate__module__function>/<32 hex digits>.bin`, the digits hashing the key and
/// the value's type name.
///
/// Values go through serde in [postcard](https://docs.rs/postcard)'s compact format,
/// which is not self-describing: fields are stored by position, without names. A value
/// postcard cannot store faithfully is computed every time (never stored), with a
/// `dask: warning:` line naming its type and why:
/// - a type postcard cannot encode at all (one that needs a self-describing format, such
///   as `serde_json::Value`, or a sequence of unknown length);
/// - a value whose `Serialize` leaves a field out (`#[serde(skip_serializing_if = ...)]`
///   that applies to it), found by walking the value before it is stored: its entry
///   would load as another value (later fields shifted into the skipped one's place),
///   with nothing in the file to tell;
/// - a type whose encoding does not decode back, consuming every byte (`Serialize` and
///   `Deserialize` disagree: `#[serde(untagged)]` and `flatten` need a self-describing
///   format). The first value of each type the process stores is decoded once more for
///   this check; a later value of a type that passed and still does not decode (one enum
///   variant round-trips, another not) fails its load, which warns and recomputes.
///
/// Not caught: a `#[serde(skip_serializing)]` field whose `Deserialize` still expects it
/// (serde reports nothing for it) when the shifted bytes happen to decode; give such a
/// field `#[serde(skip)]`.
///
/// # Robustness
/// - An entry is written to a temporary file, flushed, then renamed over its name, so
///   readers, in this process or another one sharing the directory, see a complete
///   entry or none. Processes writing the same entry at once leave one of them.
/// - An entry that turns out truncated, corrupt, of another type or another format
///   version when it is loaded (checked by magic bytes, length, CRC-32 and the full
///   128-bit identity) is reported with a `dask: warning:` line on stderr (and a
///   `tracing` warning with the `tracing` feature), recomputed and rewritten: never a
///   panic, never a wrong value. The header is checked before the payload is read, so a
///   foreign or damaged file costs one small read; an entry holds at most 1 GiB (a
///   bigger value is computed every time, with a warning). The recomputation is a
///   computation nested in the loading task, with the default configuration, as a
///   `compute()` called inside a task is: the caller's scheduler, timeout, cancel token
///   and callbacks do not reach it (on a pool worker it runs on that worker's pool).
/// - Only a regular file (or a symbolic link to one) is opened as an entry: a FIFO,
///   socket, device or directory with an entry's name is reported and recomputed as a
///   corrupt entry is, and the rewritten entry replaces it (a directory cannot be
///   replaced: the write fails with a warning). [`contains`](Memory::contains) answers
///   `false` for it. Opening a FIFO would wait for a writer forever.
/// - Entries of the previous format (64-bit keys, 16 hex digits) are never looked up;
///   [`clear`](Memory::clear) removes them.
/// - The cache is an optimisation: failing to write an entry is a warning too, and the
///   computed value is used all the same.
///
/// What invalidation cannot see: the fingerprint covers the cached function's own
/// tokens and those of pure functions upstream, not helpers they call, `cfg!` or
/// environment checks in their bodies, or a changed dependency crate. Call
/// [`clear`](Memory::clear) after such changes.
#[derive(Clone)]
pub struct Memory {
    shared: Arc<Shared>,
}

/// What a `Memory`, its clones and the nodes it made share.
pub(crate) struct Shared {
    store: Store,
    counters: Counters,
}

impl fmt::Debug for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Memory")
            .field("dir", &self.shared.store.dir())
            .field("stats", &self.stats())
            .finish()
    }
}

impl Memory {
    /// A cache in `dir`, created (with its parents) if needed. Several `Memory` values
    /// and processes may share one directory.
    ///
    /// An empty path is refused with [`Error::InvalidConfig`] (`"."` names the current
    /// directory); a directory that cannot be created (a file is in its place, say)
    /// fails with [`CacheError::Io`].
    pub fn new(dir: impl Into<PathBuf>) -> Result<Memory, Error> {
        Ok(Memory {
            shared: Arc::new(Shared {
                store: Store::open(dir.into())?,
                counters: Counters::default(),
            }),
        })
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        self.shared.store.dir()
    }

    /// A node with the same value as `delayed`, served from the cache when possible.
    ///
    /// If the entry exists now, the node loads it and has no inputs (nothing upstream
    /// runs; should the entry be bad by then, the original is recomputed, see the type's
    /// docs). Otherwise the node reads the original's value (taking it by move when it
    /// is the last reader), stores it and returns it. Either way the node's key is the
    /// same, different from the original's, and its display name is `cached`. Caching a
    /// node `cache` returned gives it back unchanged.
    ///
    /// Fails with [`CacheError::NotCacheable`] when `delayed` is not pure all the way up.
    ///
    /// ```
    /// #[dask::delayed]
    /// fn not_pure(x: u32) -> u32 {
    ///     x + 1
    /// }
    ///
    /// let dir = std::env::temp_dir().join(format!("dask-refuse-doc-{}", std::process::id()));
    /// let memory = dask::Memory::new(&dir)?;
    /// let refused = memory.cache(&not_pure(1)).unwrap_err();
    /// assert!(refused.to_string().contains("#[delayed(pure)]"), "{refused}");
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), dask::Error>(())
    /// ```
    pub fn cache<T>(&self, delayed: &Delayed<T>) -> Result<Delayed<T>, Error>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let header = delayed.node().header();
        if header.path == node::LOAD_PATH || header.path == node::STORE_PATH {
            return Ok(delayed.clone());
        }
        if !crate::content_address::is_content_addressed(delayed.node()) {
            return Err(refusal::not_cacheable(delayed.node()));
        }
        let identity = EntryIdentity::new::<T>(header.full_id());
        let path = self
            .shared
            .store
            .entry_path(header.path, &identity.file_stem());
        let exists = std::fs::metadata(&path).is_ok_and(|meta| meta.is_file());
        let slot = EntrySlot {
            shared: Arc::clone(&self.shared),
            path,
            identity,
            name: header.name,
            key: header.key().to_string(),
        };
        Ok(if exists {
            node::load(slot, delayed.clone())
        } else {
            node::store(slot, delayed)
        })
    }

    /// Whether `delayed`'s value is stored here (joblib's `check_call_in_cache`): an
    /// entry exists for its key and type, is a regular file, and its header is sound (the
    /// payload's checksum is checked when it is loaded). Refuses what
    /// [`cache`](Self::cache) refuses.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("dask-doc-contains-{}", std::process::id()));
    /// #[dask::delayed(pure)]
    /// fn square(x: u64) -> u64 { x * x }
    ///
    /// let memory = dask::Memory::new(&dir)?;
    /// assert!(!memory.contains(&square(4))?);
    /// memory.cache(&square(4))?.compute()?;
    /// assert!(memory.contains(&square(4))?);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), dask::Error>(())
    /// ```
    pub fn contains<T>(&self, delayed: &Delayed<T>) -> Result<bool, Error>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let header = delayed.node().header();
        if !crate::content_address::is_content_addressed(delayed.node()) {
            return Err(refusal::not_cacheable(delayed.node()));
        }
        let identity = EntryIdentity::new::<T>(header.full_id());
        let path = self
            .shared
            .store
            .entry_path(header.path, &identity.file_stem());
        // Only a regular file is opened: opening a FIFO in its place would wait forever.
        let Ok((mut file, len)) = store::open_entry(&path) else {
            return Ok(false);
        };
        Ok(entry::checked_header(&mut file, len, identity).is_ok())
    }

    /// Removes the entries of one function, named by its path as `#[delayed]` sees it
    /// (`my_crate::module::function`); other functions' entries and files that are not
    /// ours stay.
    pub fn clear_function(&self, function_path: &str) -> Result<(), Error> {
        self.shared.store.clear_function(function_path)
    }

    /// Evicts entries until the cache is within `limits` (joblib's `reduce_size`): first
    /// those unused for longer than the age limit, then the least recently used until
    /// the count and byte limits hold. An entry is used when it is written or loaded.
    /// Returns what was removed.
    pub fn reduce_size(&self, limits: CacheLimits) -> Result<CacheSize, Error> {
        self.shared.store.reduce(&limits)
    }

    /// Removes every entry (of every process using the directory). Files and folders
    /// the cache did not make are left alone: only files with an entry's name, in a
    /// folder named like a function's, and starting with the entry magic bytes go. An
    /// entry another process is writing at that moment may fail to be written; that
    /// process warns and goes on.
    pub fn clear(&self) -> Result<(), Error> {
        self.shared.store.clear()
    }

    /// The number of entries and their total size on disk (entries as
    /// [`clear`](Memory::clear) recognises them; other files are not counted).
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("dask-size-doc-{}", std::process::id()));
    /// let memory = dask::Memory::new(&dir)?;
    /// memory.clear()?;
    /// assert_eq!(memory.size()?.entries, 0);
    /// # std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), dask::Error>(())
    /// ```
    pub fn size(&self) -> Result<CacheSize, Error> {
        self.shared.store.size()
    }

    /// What the nodes made by this `Memory` (and its clones) did when they ran.
    pub fn stats(&self) -> CacheStats {
        self.shared.counters.snapshot()
    }
}
