//! A reduction over a large array never holds the whole array: counted by an allocator
//! that tracks the peak of live heap bytes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use dask::array::random::default_rng;
use dask::{Config, Scheduler};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counters are
// only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now =
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed) + layout.size() as isize;
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: same layout as asked.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CHUNK: usize = 10_000;
const CHUNKS: usize = 400;
const CHUNK_BYTES: isize = (CHUNK * 8) as isize;

/// The peak of live bytes above what was live before, while computing `f`.
fn peak_during<R>(f: impl FnOnce() -> R) -> (R, isize) {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let r = f();
    (r, PEAK.load(Ordering::Relaxed) - before)
}

#[test]
fn reductions_hold_about_workers_plus_a_few_chunks() {
    let config = Config::default().scheduler(Scheduler::Threads(2));
    // Fused: random values, powi, sqrt and the partial mean in one task per block,
    // evaluated tile by tile: not even one block is held whole.
    let x = default_rng(1).random(CHUNK * CHUNKS, CHUNK);
    let mean = x.powi(2).sqrt().mean();
    let (m, peak) = peak_during(|| mean.compute_with(&config).unwrap());
    assert!((m - 0.5).abs() < 0.01);
    assert!(
        peak < 4 * CHUNK_BYTES,
        "fused: peak {peak} bytes for {CHUNKS} blocks of {CHUNK_BYTES}"
    );

    // Not fused: every block is materialized by one task and read by another (a
    // closure over blocks cannot fuse). The pool runs a block's reader right after it,
    // so only a few blocks are alive at once.
    let y = x.map_blocks(|b| b.mapv(f64::sqrt));
    let sum = y.sum();
    let (s, peak) = peak_during(|| sum.compute_with(&config).unwrap());
    assert!(s > 0.0);
    let held = peak as f64 / CHUNK_BYTES as f64;
    println!("peak: {held:.1} blocks' worth of {CHUNKS}");
    assert!(
        held < 2.0 * 2.0 + 6.0,
        "unfused: peak {held:.1} blocks (2 workers, each with a block and its result, and a few more)"
    );
}
