//! Keeping a cache directory within limits: joblib's `Memory.reduce_size(bytes_limit,
//! items_limit, age_limit)`. Entries are ranked by last use, which is their file's
//! modification time: writing an entry sets it, and every load sets it again.

use std::time::{Duration, SystemTime};

/// Limits for [`Memory::reduce_size`](crate::Memory::reduce_size). The default sets none;
/// each builder adds one, and an entry goes when any limit would otherwise be exceeded.
///
/// ```
/// use std::time::Duration;
/// let limits = dask::CacheLimits::default()
///     .bytes(1 << 30)                            // at most 1 GiB of entries,
///     .items(10_000)                             // at most 10,000 of them,
///     .age(Duration::from_secs(7 * 24 * 3600));  // none unused for over a week.
/// # let _ = limits;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheLimits {
    bytes: Option<u64>,
    items: Option<usize>,
    age: Option<Duration>,
}

impl CacheLimits {
    /// Keeps the entries' total size at or under `bytes`, evicting the least recently
    /// used first.
    pub fn bytes(mut self, bytes: u64) -> Self {
        self.bytes = Some(bytes);
        self
    }

    /// Keeps at most `items` entries, evicting the least recently used first.
    pub fn items(mut self, items: usize) -> Self {
        self.items = Some(items);
        self
    }

    /// Evicts entries not used (written or loaded) for longer than `age`.
    pub fn age(mut self, age: Duration) -> Self {
        self.age = Some(age);
        self
    }
}

/// One entry as eviction sees it.
pub(crate) struct Candidate<P> {
    pub(crate) path: P,
    pub(crate) bytes: u64,
    pub(crate) last_use: SystemTime,
}

/// Which of `entries` to evict under `limits` at `now`: those past the age limit, then
/// the least recently used until the rest fits the size and count limits.
pub(crate) fn to_evict<P>(
    mut entries: Vec<Candidate<P>>,
    limits: &CacheLimits,
    now: SystemTime,
) -> Vec<Candidate<P>> {
    // Most recently used first: the ones kept.
    entries.sort_by_key(|entry| std::cmp::Reverse(entry.last_use));
    let mut kept_bytes = 0u64;
    let mut evicted = Vec::new();
    for (rank, entry) in entries.into_iter().enumerate() {
        let too_old = limits.age.is_some_and(|age| {
            // A clock that went backwards makes an entry young, not ancient.
            now.duration_since(entry.last_use).unwrap_or_default() > age
        });
        let too_many = limits.items.is_some_and(|items| rank >= items);
        let too_big = limits
            .bytes
            .is_some_and(|bytes| kept_bytes.saturating_add(entry.bytes) > bytes);
        if too_old || too_many || too_big {
            evicted.push(entry);
        } else {
            kept_bytes += entry.bytes;
        }
    }
    evicted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        name: &'static str,
        bytes: u64,
        secs_ago: u64,
        now: SystemTime,
    ) -> Candidate<&'static str> {
        Candidate {
            path: name,
            bytes,
            last_use: now - Duration::from_secs(secs_ago),
        }
    }

    fn evicted(limits: CacheLimits) -> Vec<&'static str> {
        // A fixed instant: no clock needed (Miri runs these tests in isolation).
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1 << 30);
        let entries = vec![
            entry("new", 10, 1, now),
            entry("old", 10, 1000, now),
            entry("mid", 30, 100, now),
        ];
        let mut names: Vec<_> = to_evict(entries, &limits, now)
            .into_iter()
            .map(|c| c.path)
            .collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn least_recently_used_entries_go_first() {
        assert!(evicted(CacheLimits::default()).is_empty());
        assert_eq!(evicted(CacheLimits::default().items(2)), ["old"]);
        assert_eq!(
            evicted(CacheLimits::default().items(0)),
            ["mid", "new", "old"]
        );
        // 10 (new) + 30 (mid) = 40 fits in 45; old does not.
        assert_eq!(evicted(CacheLimits::default().bytes(45)), ["old"]);
        // new fits, mid does not, old still does (10 + 10 = 20).
        assert_eq!(evicted(CacheLimits::default().bytes(25)), ["mid"]);
        assert_eq!(
            evicted(CacheLimits::default().age(Duration::from_secs(500))),
            ["old"]
        );
        assert_eq!(
            evicted(CacheLimits::default().age(Duration::from_secs(50)).items(1)),
            ["mid", "old"]
        );
    }
}
