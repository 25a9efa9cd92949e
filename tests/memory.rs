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
