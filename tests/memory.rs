//! Intermediate results are dropped after their last reader, big values are not
//! accumulated, and owned parameters move the last reader's input instead of cloning.

use std::sync::atomic::{AtomicUsize, Ordering};

use dask::{delayed, Config, Delayed, Scheduler};

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static CLONES: AtomicUsize = AtomicUsize::new(0);

/// A value that counts its live instances and clones.
#[derive(Debug)]
struct Big(Vec<u8>);

impl Big {
    fn new(n: usize) -> Self {
        let live = LIVE.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK.fetch_max(live, Ordering::SeqCst);
        Big(vec![1; n])
    }
}

impl Clone for Big {
    fn clone(&self) -> Self {
        CLONES.fetch_add(1, Ordering::SeqCst);
        Big::new(self.0.len())
    }
}

impl Drop for Big {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

#[delayed]
fn make_big(seed: usize) -> Big {
    let _ = seed;
    Big::new(1 << 16)
}

#[delayed]
fn shrink(big: &Big) -> usize {
    big.0.iter().map(|&b| b as usize).sum()
}

#[delayed]
fn total(parts: Vec<usize>) -> usize {
    parts.iter().sum()
}

#[delayed]
fn consume(big: Big) -> usize {
    big.0.len()
}

#[delayed]
fn peek(big: &Big) -> usize {
    big.0.len()
}

/// These tests share counters, so they run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn reset() {
    LIVE.store(0, Ordering::SeqCst);
    PEAK.store(0, Ordering::SeqCst);
    CLONES.store(0, Ordering::SeqCst);
}

#[test]
fn a_reduction_over_many_big_chains_holds_about_one_big_value_per_worker() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for (config, workers) in [
        (Config::default().scheduler(Scheduler::Sync), 1),
        (Config::default().scheduler(Scheduler::Threads(1)), 1),
        (Config::default().scheduler(Scheduler::Threads(2)), 2),
    ] {
        reset();
        let chains: Vec<Delayed<usize>> = (0..200).map(|i| shrink(make_big(i))).collect();
        let result = total(chains).compute_with(&config).unwrap();
        assert_eq!(result, 200 << 16);
        assert_eq!(
            LIVE.load(Ordering::SeqCst),
            0,
            "every intermediate was dropped"
        );
        let peak = PEAK.load(Ordering::SeqCst);
        assert!(
            peak <= workers,
            "peak {peak} big values alive with {workers} workers"
        );
    }
}

#[test]
fn a_result_that_is_also_an_output_is_kept() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    reset();
    let big = make_big(0);
    let size = peek(&big);
    let (b, s) = dask::compute((&big, &size)).unwrap();
    assert_eq!((b.0.len(), s), (1 << 16, 1 << 16));
    assert_eq!(
        CLONES.load(Ordering::SeqCst),
        0,
        "the output was moved out, not cloned"
    );
    drop(b);
    assert_eq!(LIVE.load(Ordering::SeqCst), 0);
}

#[test]
fn the_last_reader_moves_and_earlier_readers_clone() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let sync = Config::default().scheduler(Scheduler::Sync);
    reset();
    // One owned reader: moved.
    assert_eq!(consume(make_big(1)).compute_with(&sync).unwrap(), 1 << 16);
    assert_eq!(CLONES.load(Ordering::SeqCst), 0);
    // An owned reader that runs first (in Sync's depth-first order) while a borrower is
    // still to come must clone; the borrower then sees the original.
    reset();
    let big = make_big(2);
    let outs = [consume(&big), peek(&big)];
    assert_eq!(
        dask::compute_with(&outs, &sync).unwrap(),
        vec![1 << 16, 1 << 16]
    );
    assert_eq!(CLONES.load(Ordering::SeqCst), 1);
    // Borrower first, owner last: moved.
    reset();
    let big = make_big(3);
    let outs = [peek(&big), consume(&big)];
    assert_eq!(
        dask::compute_with(&outs, &sync).unwrap(),
        vec![1 << 16, 1 << 16]
    );
    assert_eq!(CLONES.load(Ordering::SeqCst), 0);
    assert_eq!(LIVE.load(Ordering::SeqCst), 0);
}

#[test]
fn a_persisted_value_is_cloned_for_owned_readers_and_kept() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    reset();
    let kept = dask::persist(&[make_big(4)]).unwrap().pop().unwrap();
    assert_eq!(consume(&kept).compute().unwrap(), 1 << 16);
    assert_eq!(CLONES.load(Ordering::SeqCst), 1);
    assert_eq!(LIVE.load(Ordering::SeqCst), 1, "the persisted value stays");
    drop(kept);
    assert_eq!(LIVE.load(Ordering::SeqCst), 0);
}

static LEAVES_STARTED: AtomicUsize = AtomicUsize::new(0);
static WORST_LEAD: AtomicUsize = AtomicUsize::new(0);

/// A leaf of a reduction tree. It notes how far ahead of the leaves started before it
/// it is; 1 ms is long enough that the workers claim leaves one at a time.
#[delayed]
fn leaf(i: usize) -> Vec<usize> {
    let started_before = LEAVES_STARTED.fetch_add(1, Ordering::SeqCst);
    WORST_LEAD.fetch_max(i.saturating_sub(started_before), Ordering::SeqCst);
    std::thread::sleep(std::time::Duration::from_millis(1));
    vec![i]
}

#[delayed]
fn merge(left: &Vec<usize>, right: &Vec<usize>) -> Vec<usize> {
    left.iter().chain(right).copied().collect()
}

/// Workers claim a tree's leaves in order, side by side, so pairs of leaves meet early
/// and are merged and freed early. Splitting the leaves in halves instead, one per
/// worker, holds a partial result per level per worker; there the second worker's
/// first leaf is leaf 32, 31 places ahead.
#[test]
fn workers_take_the_leaves_of_a_reduction_in_order_together() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let threads = 2;
    for round in 0..3 {
        LEAVES_STARTED.store(0, Ordering::SeqCst);
        WORST_LEAD.store(0, Ordering::SeqCst);
        let mut level: Vec<Delayed<Vec<usize>>> = (0..64).map(leaf).collect();
        while level.len() > 1 {
            level = level.chunks(2).map(|p| merge(&p[0], &p[1])).collect();
        }
        let config = Config::default().scheduler(Scheduler::Threads(threads));
        let merged = level[0].compute_with(&config).unwrap();
        assert_eq!(merged, (0..64).collect::<Vec<_>>());
        // A leaf not yet started but claimed sits in a worker's hands or in the job it
        // handed on for a thief: at most two per worker.
        let lead = WORST_LEAD.load(Ordering::SeqCst);
        assert!(
            lead <= 2 * threads,
            "round {round}: a leaf started {lead} places ahead of the leaves started before it"
        );
    }
}
