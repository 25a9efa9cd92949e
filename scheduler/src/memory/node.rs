//! The graph nodes `Memory::cache` returns: one that loads an entry (a hit, with no
//! inputs at all) and one that stores its input's value (a miss).
//!
//! Both stand for the same value, so they have the same key whichever one a run gets:
//! the 128-bit id of the node being cached, hashed with a salt (it must differ from the
//! original's, or the planner would merge the node with its own input), under the
//! display name `cached`.
//! Downstream pure keys therefore do not depend on whether the entry existed, and a
//! cached node that reads another cached node hits on the second run too. Their paths
//! (the "function" a drawing shows on hover, and groups by) say which one ran.

use std::hash::Hasher;
use std::path::PathBuf;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::entry::{self, EntryIdentity};
use super::stats::warn;
use super::store::{self, Unopened};
use super::Shared;
use crate::args::Arg;
use crate::delayed::{task_node, Delayed};
use crate::error::TaskFailure;
use crate::key::StableHasher;
use crate::node::NodeHeader;

pub(crate) const NAME: &str = "cached";
pub(crate) const LOAD_PATH: &str = "dask::Memory::load";
pub(crate) const STORE_PATH: &str = "dask::Memory::store";
/// Hashed in front of the original's id to make the cached node's.
const SALT: &[u8] = b"dask::Memory cached\0";

/// One entry of one cache, as the node that reads or writes it sees it.
pub(crate) struct EntrySlot {
    pub(crate) shared: Arc<Shared>,
    pub(crate) path: PathBuf,
    pub(crate) identity: EntryIdentity,
    /// The cached node's display name and key, for warnings.
    pub(crate) name: &'static str,
    pub(crate) key: String,
}

/// All 128 bits of the original's id go in: the cached node is as distinct as it.
fn cached_id(original: &NodeHeader) -> u128 {
    let mut hasher = StableHasher::new();
    hasher.write(SALT);
    hasher.write_u128(original.full_id());
    hasher.finish128()
}

fn header(original: &NodeHeader, path: &'static str) -> NodeHeader {
    let header = NodeHeader::new(NAME, path, Some(cached_id(original)));
    header.content_addressed.set(true);
    header
}

/// A hit: loads the entry. `original` is kept outside the graph, to recompute the value
/// should the entry turn out to be bad when the node runs.
pub(crate) fn load<T>(slot: EntrySlot, original: Delayed<T>) -> Delayed<T>
where
    T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
    let header = header(original.node().header(), LOAD_PATH);
    task_node(
        header,
        (),
        move |_, _| slot.load_or_recompute(&original),
        crate::codec::serde_codec::<T>,
    )
}

/// A miss: takes the original's value (moved when this is its last reader), stores it
/// and passes it on.
pub(crate) fn store<T>(slot: EntrySlot, original: &Delayed<T>) -> Delayed<T>
where
    T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
{
    let header = header(original.node().header(), STORE_PATH);
    task_node(
        header,
        (Arg::Node(original.clone()),),
        move |args, inputs| {
            let value = args.0.owned(inputs)?;
            slot.store(&value);
            Ok(value)
        },
        crate::codec::serde_codec::<T>,
    )
}

impl EntrySlot {
    fn load_or_recompute<T>(&self, original: &Delayed<T>) -> Result<T, TaskFailure>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    {
        // The length from the open file, not the path: a concurrent writer renames a
        // new file over the path, and this handle keeps reading the one it opened.
        let problem = match store::open_entry(&self.path) {
            Ok((mut file, len)) => match entry::load::<T>(&mut file, len, self.identity) {
                Ok(value) => {
                    self.shared.counters.hit();
                    // A load is a use: `Memory::reduce_size` evicts by last use. Best
                    // effort (a read-only cache still serves).
                    let _ = file.set_modified(std::time::SystemTime::now());
                    return Ok(value);
                }
                Err(invalid) => {
                    self.shared.counters.corrupt();
                    invalid.to_string()
                }
            },
            Err(unopened @ Unopened::NotAFile(_)) => {
                self.shared.counters.corrupt();
                unopened.to_string()
            }
            Err(unopened) => unopened.to_string(),
        };
        self.recompute(original, &problem)
    }

    #[cold]
    fn recompute<T>(&self, original: &Delayed<T>, problem: &str) -> Result<T, TaskFailure>
    where
        T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static,
    {
        warn(&format!(
            "cache entry {} for `{}` ({}) {problem}; recomputing it",
            self.path.display(),
            self.name,
            self.key
        ));
        // A nested computation: on a pool worker it runs the upstream on the same pool
        // without blocking the worker.
        let value = original
            .compute()
            .map_err(|e| TaskFailure::Failed(Box::new(e)))?;
        self.store(&value);
        Ok(value)
    }

    fn store<T: Serialize + DeserializeOwned>(&self, value: &T) {
        self.shared.counters.miss();
        let written = match entry::encode(value, self.identity) {
            Ok(bytes) => self
                .shared
                .store
                .write(&self.path, &bytes)
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(why) = written {
            self.shared.counters.write_failure();
            warn(&format!(
                "cannot cache `{}` ({}): {why}; the value is used uncached",
                self.name, self.key
            ));
        }
    }
}
