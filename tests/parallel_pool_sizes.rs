//! A joblib-style sweep over `n_jobs` past the process's cap on pool sizes. Pools are
//! process-wide and never stop, so this file runs alone in its own test binary: the
//! sizes it starts would break other tests' pools.

#[path = "support/within.rs"]
mod within;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dask::Parallel;

/// Runs a map and an `imap` with `n_jobs`, checks their results, and returns the most
/// calls that ran at once.
fn peak_calls(n_jobs: i32) -> usize {
    let running = AtomicUsize::new(0);
    let peak = AtomicUsize::new(0);
    let items = 0..(4 * n_jobs as u64);
    let out = Parallel::new(n_jobs)
        .batch_size(1)
        .map(items.clone(), |x| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(2));
            running.fetch_sub(1, Ordering::SeqCst);
            x * 2
        })
        .unwrap_or_else(|e| panic!("Parallel::new({n_jobs}).map: {e}"));
    assert_eq!(out, items.clone().map(|x| x * 2).collect::<Vec<_>>());
    let imapped: Vec<u64> = Parallel::new(n_jobs)
        .imap(items.clone(), |x| x + 1)
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("Parallel::new({n_jobs}).imap: {e}"));
    assert_eq!(imapped, items.map(|x| x + 1).collect::<Vec<_>>());
    peak.into_inner()
}

#[test]
fn a_sweep_over_n_jobs_runs_past_the_pool_cap_with_at_most_n_calls_at_once() {
    within::within("the n_jobs sweep", || {
        // Pools of 16 and of 2..=8: eight sizes, the cap. (1 runs on the calling thread.)
        let mut peaks = vec![(16, peak_calls(16))];
        for n_jobs in 1..=16 {
            peaks.push((n_jobs, peak_calls(n_jobs)));
        }
        // 9..=15 ran on the pool of 16, 20 on the largest pool there is (16).
        peaks.push((20, peak_calls(20)));
        for &(n_jobs, peak) in &peaks {
            assert!(peak >= 1, "{peaks:?}");
            assert!(peak <= n_jobs as usize, "n_jobs {n_jobs}: {peaks:?}");
        }
        assert!(peaks.last().unwrap().1 <= 16, "{peaks:?}");
    });
}
