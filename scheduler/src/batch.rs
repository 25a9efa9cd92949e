//! How many items a worker claims at a time, for `Parallel`'s maps and for the roots of
//! a computation (the tasks ready at the start, claimed from a shared cursor).
//!
//! Claiming costs an atomic read-modify-write on a shared counter (and, with a window,
//! a lock), so claiming one trivial item at a time would cost more than the item. With
//! automatic sizing each worker times its batches and grows or shrinks the next one
//! towards [`TARGET`], as joblib's `batch_size="auto"` does, but per worker and without
//! a dispatcher thread. Near the end, batches shrink so the last items still spread
//! over every worker (guided self-scheduling).

use std::ops::Range;
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use crate::sync::{AtomicUsize, Ordering};

/// How [`Parallel`](crate::Parallel) groups calls into batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BatchSize {
    /// Adapt to the measured duration of the calls (the default).
    #[default]
    Auto,
    /// Always claim this many items at a time.
    Fixed(usize),
}

/// A batch takes about this long: long enough that a claim (tens of nanoseconds, more
/// when contended) is under 0.5 % of it, short enough that the last batch leaves the
/// other workers idle for no more than this.
pub(crate) const TARGET: Duration = Duration::from_micros(20);

/// Batches never grow past this, so one claim cannot take a large share of a short input.
const MAX_AUTO: usize = 1 << 20;

/// Items `0..len`, handed out in adjacent ranges to workers claiming at once.
pub(crate) struct ClaimCursor {
    /// The first item nobody has claimed. It may run past `len`: each worker's last
    /// claim adds to it.
    next: CachePadded<AtomicUsize>,
    len: usize,
}

impl ClaimCursor {
    /// A cursor over `0..len` whose items below `start` are claimed already.
    pub(crate) fn new(start: usize, len: usize) -> Self {
        ClaimCursor {
            next: CachePadded::new(AtomicUsize::new(start)),
            len,
        }
    }

    /// Claims the next range, sized by `batcher` from what is left; `None` once every
    /// item is claimed.
    #[inline]
    pub(crate) fn claim(&self, batcher: &Batcher) -> Option<Range<usize>> {
        // Relaxed: only the uniqueness of claims matters; what the items refer to was
        // published before any worker started.
        let next = self.next.load(Ordering::Relaxed);
        if next >= self.len {
            return None;
        }
        // At most `len` per claim keeps the counter from overflowing.
        let want = batcher.size_for(self.len - next).min(self.len);
        let start = self.next.fetch_add(want, Ordering::Relaxed);
        (start < self.len).then(|| start..(start + want).min(self.len))
    }

    /// Whether every item is claimed.
    pub(crate) fn exhausted(&self) -> bool {
        self.next.load(Ordering::Relaxed) >= self.len
    }

    /// How many items were claimed, once nobody claims any more.
    pub(crate) fn into_claimed(self) -> usize {
        // Taking `self` shows the claiming is over; loom's atomics have no `into_inner`.
        self.next.load(Ordering::Relaxed).min(self.len)
    }
}

/// One worker's batch sizing.
pub(crate) struct Batcher {
    size: usize,
    auto: bool,
    /// Items left are split at least this many ways before a worker claims them.
    share: usize,
    started: Option<Instant>,
}

impl Batcher {
    pub(crate) fn new(batch: BatchSize, workers: usize) -> Self {
        let (size, auto) = match batch {
            BatchSize::Auto => (1, true),
            BatchSize::Fixed(n) => (n.max(1), false),
        };
        Batcher {
            size,
            auto,
            share: 2 * workers.max(1),
            started: None,
        }
    }

    /// Automatic sizing that starts from `size`: a worker picking up a claim made for it
    /// (or for a thief) continues from that claim's size. Only the pool's workers resume
    /// claims, and the loom build has no pool (its models drive the protocols directly).
    #[cfg(not(loom))]
    pub(crate) fn resume(size: usize, workers: usize) -> Self {
        Batcher {
            size: size.max(1),
            ..Batcher::new(BatchSize::Auto, workers)
        }
    }

    /// The size of the next claim, given how many items are still unclaimed.
    #[inline]
    pub(crate) fn size_for(&self, remaining: usize) -> usize {
        if !self.auto {
            return self.size;
        }
        self.size.min((remaining / self.share).max(1))
    }

    /// Starts timing a batch about to run (only automatic sizing reads the clock).
    #[inline]
    pub(crate) fn start(&mut self) {
        if self.auto {
            self.started = Some(Instant::now());
        }
    }

    /// Records that the batch timed since [`start`](Self::start) held `items` items and
    /// has finished.
    #[inline]
    pub(crate) fn finished(&mut self, items: usize) {
        let Some(started) = self.started.take() else {
            return;
        };
        self.resize(items, started.elapsed());
    }

    fn resize(&mut self, items: usize, elapsed: Duration) {
        let elapsed = elapsed.as_nanos().max(1);
        let ideal = (items as u128 * TARGET.as_nanos() / elapsed) as usize;
        // Grow at most 8x and shrink at most 2x per batch: one unusually fast or slow
        // call must not swing the size, and a fast start reaches thousands in a few steps.
        self.size = ideal
            .clamp(self.size / 2, self.size.saturating_mul(8))
            .clamp(1, MAX_AUTO);
    }

    #[cfg(test)]
    pub(crate) fn size(&self) -> usize {
        self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_sizes_never_change() {
        let mut b = Batcher::new(BatchSize::Fixed(7), 2);
        assert_eq!(b.size_for(3), 7);
        b.start();
        b.finished(7);
        assert_eq!(b.size_for(1_000_000), 7);
        assert_eq!(Batcher::new(BatchSize::Fixed(0), 2).size_for(10), 1);
    }

    #[test]
    fn fast_calls_grow_the_batch_slow_ones_shrink_it_and_the_tail_is_shared() {
        let mut b = Batcher::new(BatchSize::Auto, 2);
        assert_eq!(b.size_for(1_000_000), 1);
        // A 50 ns call is far below the target: grow, but by at most 8x per batch.
        b.resize(1, Duration::from_nanos(50));
        assert_eq!(b.size(), 8);
        b.resize(8, Duration::from_nanos(400));
        assert_eq!(b.size(), 64);
        // Near the target: settle on the size that fills it.
        b.resize(64, Duration::from_micros(10));
        assert_eq!(b.size(), 128);
        b.resize(128, TARGET);
        assert_eq!(b.size(), 128);
        // A slow batch halves the size at most.
        b.resize(128, Duration::from_millis(5));
        assert_eq!(b.size(), 64);
        // With 10 items left and 2 workers, a claim takes at most a quarter of them.
        assert_eq!(b.size_for(10), 2);
        assert_eq!(b.size_for(0), 1);
    }

    #[test]
    fn a_cursor_hands_out_adjacent_ranges_then_none() {
        let cursor = ClaimCursor::new(1, 10);
        let fixed = Batcher::new(BatchSize::Fixed(4), 2);
        assert_eq!(cursor.claim(&fixed), Some(1..5));
        assert_eq!(cursor.claim(&fixed), Some(5..9));
        assert_eq!(cursor.claim(&fixed), Some(9..10));
        assert_eq!(cursor.claim(&fixed), None);
        assert_eq!(cursor.into_claimed(), 10);
    }

    #[test]
    #[cfg_attr(miri, ignore = "sleeps")]
    fn a_timed_slow_batch_shrinks() {
        let mut b = Batcher::new(BatchSize::Auto, 2);
        b.size = 64;
        let n = b.size_for(1_000_000);
        b.start();
        std::thread::sleep(Duration::from_millis(2));
        b.finished(n);
        assert_eq!(b.size(), 32, "at most halved per batch");
    }
}
