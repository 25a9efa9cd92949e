//! The task stream's memory: the latest bars of one worker in a fixed ring.
//!
//! A 10-million-task graph must not keep 10 million bars. Each worker keeps its last
//! [`RING`] bars; an update sends at most [`PER_UPDATE`] of the bars that are new since
//! the previous update, the latest ones. Short tasks overwrite each other faster than
//! updates go out, so what the page receives is a sample whose density stays bounded
//! whatever the rate of tasks; a long task is never missed.

/// Bars kept per worker.
pub(crate) const RING: usize = 1024;

/// Bars of one worker sent in one update, at most.
pub(crate) const PER_UPDATE: usize = 128;

/// One finished task attempt: 64 bytes, no string but a custom key.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Bar {
    /// Nanoseconds since the dashboard started.
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) name: &'static str,
    /// The key's hash part; the key is `format_key(name, id)` unless `custom`.
    pub(crate) id: u64,
    /// A key given with `Delayed::with_key` (rare: formatted keys cost an allocation).
    pub(crate) custom: Option<Box<str>>,
    pub(crate) ok: bool,
    /// The key of the computation it belongs to (see `live::Run`).
    pub(crate) run: u64,
    /// The result's size in bytes, where the task can tell.
    pub(crate) size: Option<u64>,
}

impl Bar {
    /// The bar of a task of computation `run` that ran from `span.0` to `span.1`: its
    /// key is kept as text only when `with_key` gave it (others are formatted on demand).
    pub(crate) fn of(
        header: &crate::node::NodeHeader,
        name: &'static str,
        span: (u64, u64),
        ok: bool,
        run: u64,
        size: Option<u64>,
    ) -> Self {
        let custom = header
            .custom_key
            .load(std::sync::atomic::Ordering::Relaxed)
            .then(|| Box::from(header.key()));
        Bar {
            start: span.0,
            end: span.1,
            name,
            id: header.id,
            custom,
            ok,
            run,
            size,
        }
    }
}

/// The last [`RING`] bars of one worker, and how many were ever pushed.
#[derive(Default)]
pub(crate) struct Ring {
    bars: Vec<Bar>,
    pushed: u64,
}

impl Ring {
    #[inline]
    pub(crate) fn push(&mut self, bar: Bar) {
        if self.bars.len() < RING {
            self.bars.push(bar);
        } else {
            self.bars[(self.pushed % RING as u64) as usize] = bar;
        }
        self.pushed += 1;
    }

    /// How many bars were ever pushed: the sequence number of the next one.
    pub(crate) fn pushed(&self) -> u64 {
        self.pushed
    }

    /// The bars pushed since sequence number `since`, at most `limit`, oldest first
    /// (when more are new, the latest `limit`).
    pub(crate) fn since(&self, since: u64, limit: usize) -> impl Iterator<Item = &Bar> {
        let oldest_kept = self.pushed.saturating_sub(self.bars.len() as u64);
        let first = since
            .max(oldest_kept)
            .max(self.pushed.saturating_sub(limit as u64));
        (first..self.pushed).map(move |seq| &self.bars[(seq % RING as u64) as usize])
    }

    /// The latest `limit` bars, oldest first.
    pub(crate) fn latest(&self, limit: usize) -> impl Iterator<Item = &Bar> {
        self.since(0, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(i: u64) -> Bar {
        Bar {
            start: i,
            end: i + 1,
            name: "f",
            id: i,
            custom: None,
            ok: true,
            run: 1,
            size: None,
        }
    }

    #[test]
    fn memory_stays_bounded_and_the_latest_bars_are_kept() {
        let mut ring = Ring::default();
        for i in 0..10 * RING as u64 + 7 {
            ring.push(bar(i));
        }
        assert_eq!(ring.bars.len(), RING);
        assert!(ring.bars.capacity() <= 2 * RING);
        let latest: Vec<u64> = ring.latest(3).map(|b| b.id).collect();
        let n = 10 * RING as u64 + 7;
        assert_eq!(latest, vec![n - 3, n - 2, n - 1]);
    }

    #[test]
    fn since_gives_only_new_bars_capped_to_the_latest() {
        let mut ring = Ring::default();
        for i in 0..10 {
            ring.push(bar(i));
        }
        let new: Vec<u64> = ring.since(7, 100).map(|b| b.id).collect();
        assert_eq!(new, vec![7, 8, 9]);
        let capped: Vec<u64> = ring.since(0, 2).map(|b| b.id).collect();
        assert_eq!(capped, vec![8, 9]);
        assert_eq!(ring.since(10, 100).count(), 0);
        // Bars overwritten since are not returned (they are gone).
        for i in 10..(RING as u64 + 20) {
            ring.push(bar(i));
        }
        let first = ring.since(0, usize::MAX).next().unwrap().id;
        assert_eq!(first, 20);
    }
}
