//! `dask::Parallel` against a sequential reference: random inputs, batch sizes, worker
//! counts and failures; `imap` with random windows and early drops; the `verbose` lines
//! as a user sees them on stderr.

mod support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use dask::{BatchSize, Error, Parallel};
use support::Lcg;

/// Counts drops: every item must be dropped exactly once, called or cancelled.
struct Item {
    value: u64,
    drops: Arc<AtomicUsize>,
}

impl Drop for Item {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn reference(x: u64) -> u64 {
    x.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17)
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    Err,
    Panic,
}

fn random_parallel(rng: &mut Lcg) -> Parallel {
    let jobs = 1 + rng.below(4) as i32;
    let batch = match rng.below(3) {
        0 => BatchSize::Auto,
        1 => BatchSize::Fixed(1),
        _ => BatchSize::Fixed(1 + rng.below(50) as usize),
    };
    Parallel::new(jobs).batch_size(batch)
}

#[test]
fn random_maps_match_the_sequential_loop() {
    let cases = if std::env::var_os("CI").is_some() {
        600
    } else {
        300
    };
    for seed in 0..cases {
        let mut rng = Lcg(seed);
        let parallel = random_parallel(&mut rng);
        let n = rng.below(3_000) as usize;
        let faults: Vec<(usize, Fault)> = (0..rng.below(3))
            .filter(|_| n > 0)
            .map(|_| {
                let kind = if rng.below(2) == 0 {
                    Fault::Err
                } else {
                    Fault::Panic
                };
                (rng.below(n as u64) as usize, kind)
            })
            .collect();
        let first_fault = faults.iter().map(|&(i, _)| i).min();
        let drops = Arc::new(AtomicUsize::new(0));
        let items: Vec<Item> = (0..n as u64)
            .map(|value| Item {
                value,
                drops: Arc::clone(&drops),
            })
            .collect();
        let calls = AtomicUsize::new(0);
        let called = parking_lot::Mutex::new(BTreeSet::new());
        let outcome = parallel.try_map(items, |item| {
            calls.fetch_add(1, Ordering::SeqCst);
            let index = item.value as usize;
            called.lock().insert(index);
            match faults.iter().find(|&&(i, _)| i == index) {
                Some((_, Fault::Err)) => Err(format!("fault at {index}")),
                Some((_, Fault::Panic)) => panic!("panic at {index}"),
                None => Ok(reference(item.value)),
            }
        });
        let context = format!("seed {seed}: {parallel:?}, n = {n}, faults {faults:?}");
        assert_eq!(drops.load(Ordering::SeqCst), n, "{context}");
        let called = called.into_inner();
        match first_fault {
            None => {
                let out = outcome.unwrap_or_else(|e| panic!("{context}: {e}"));
                assert_eq!(
                    out,
                    (0..n as u64).map(reference).collect::<Vec<_>>(),
                    "{context}"
                );
                assert_eq!(
                    calls.load(Ordering::SeqCst),
                    n,
                    "each item called once: {context}"
                );
            }
            Some(first) => {
                let err = outcome.expect_err(&context);
                assert_eq!(err.item_index(), Some(first), "{context}");
                let text = err.to_string();
                assert!(
                    text == format!("item {first} failed: fault at {first}")
                        || text == format!("item {first} panicked: panic at {first}"),
                    "{context}: {text}"
                );
                // Claims go out in index order: everything before the first fault ran.
                assert!((0..first).all(|i| called.contains(&i)), "{context}");
                assert_eq!(calls.load(Ordering::SeqCst), called.len(), "{context}");
            }
        }
    }
}

#[test]
fn random_imaps_yield_the_sequential_results_in_order() {
    for seed in 0..200 {
        let mut rng = Lcg(seed);
        let parallel = random_parallel(&mut rng).window(1 + rng.below(40) as usize);
        let n = rng.below(2_000);
        let fail_at = (rng.below(4) == 0 && n > 0).then(|| rng.below(n));
        let stop_after = (rng.below(4) == 0).then(|| rng.below(n + 1));
        let results = parallel.try_imap(0..n, move |i| match fail_at {
            Some(f) if f == i => Err("fault"),
            _ => Ok(reference(i)),
        });
        let context = format!("seed {seed}: {parallel:?}, n = {n}, fail at {fail_at:?}");
        let mut seen = 0;
        for (i, result) in results.enumerate() {
            if stop_after == Some(i as u64) {
                break; // dropping the iterator early must stop the map and return
            }
            match (result, fail_at) {
                (Ok(v), _) => assert_eq!(v, reference(i as u64), "{context}"),
                (Err(e), Some(f)) => {
                    assert_eq!(i as u64, f, "{context}");
                    assert_eq!(e.to_string(), format!("item {f} failed: fault"));
                }
                (Err(e), None) => panic!("{context}: {e}"),
            }
            seen += 1;
        }
        let expected = match (fail_at, stop_after) {
            (Some(f), Some(s)) => (f + 1).min(s),
            (Some(f), None) => f + 1,
            (None, Some(s)) => s,
            (None, None) => n,
        };
        assert_eq!(seen, expected, "{context}");
    }
}

#[test]
fn the_error_source_is_the_callers_error() {
    let err = Parallel::new(2)
        .try_map(["7", "eight"], |s| s.parse::<u8>())
        .unwrap_err();
    assert!(matches!(err, Error::Item { index: 1, .. }));
    let source = std::error::Error::source(&err).expect("the parse error is the source");
    assert_eq!(source.to_string(), "invalid digit found in string");
}

/// `verbose` is for people: check the lines in the child's stderr as they would see them.
#[test]
fn verbose_prints_joblib_style_lines() {
    if std::env::var_os("DASK_VERBOSE_CHILD").is_some() {
        Parallel::new(2)
            .verbose(true)
            .map(0..100u32, |x| x)
            .unwrap();
        let _ = Parallel::new(2)
            .verbose(true)
            .map(0..10u32, |x| assert!(x != 3));
        return;
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "verbose_prints_joblib_style_lines",
            "--exact",
            "--nocapture",
        ])
        .env("DASK_VERBOSE_CHILD", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("[Parallel(n_jobs=2)]: Done"))
        .collect();
    assert!(
        lines.iter().any(|l| l
            .starts_with("[Parallel(n_jobs=2)]: Done 100 of 100 items | elapsed: ")
            && l.ends_with(" s finished")),
        "{stderr}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("failed at item 3; the rest was cancelled")),
        "{stderr}"
    );
    // Intermediate lines of the first map thin out: each is printed at least twice as
    // far as the one before (two workers may print them out of order), so there are at
    // most seven below 100 (1, 2, 4, ..., 64).
    let mut counts: Vec<usize> = lines
        .iter()
        .filter(|l| l.contains(" of 100 items") && !l.ends_with(" s finished"))
        .map(|l| {
            let rest = l.trim_start_matches("[Parallel(n_jobs=2)]: Done ");
            rest[..rest.find(' ').unwrap()].parse().unwrap()
        })
        .collect();
    counts.sort_unstable();
    assert!(
        !counts.is_empty() && counts.len() <= 7,
        "{counts:?}\n{stderr}"
    );
    assert!(counts.iter().all(|&k| (1..100).contains(&k)), "{counts:?}");
    assert!(
        counts.windows(2).all(|w| w[1] >= 2 * w[0]),
        "each line at least doubles the count: {counts:?}"
    );
}
