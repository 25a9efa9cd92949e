//! `dask::Parallel` against a sequential reference: random inputs, batch sizes, worker
//! counts and failures; `imap` with random windows and early drops; the `verbose` lines
//! as a user sees them on stderr.

mod support;
#[path = "support/within.rs"]
mod within;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use dask::{BatchSize, Error, Parallel};
use support::Lcg;

/// Counts drops: every item must be dropped exactly once, called or cancelled.
#[derive(Debug)]
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
    assert!(matches!(
        err,
        Error::Parallel(dask::ParallelError::Item { index: 1, .. })
    ));
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
            let rest = l
                .trim_start_matches("[Parallel(n_jobs=2)]: Done ")
                .trim_start();
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

/// A writer whose bytes a test can read afterwards.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[test]
fn verbose_lines_go_to_a_writer_with_counts_padded_to_the_total() {
    let lines = Captured::default();
    Parallel::new(2)
        .batch_size(1)
        .verbose_to(lines.clone())
        .map(0..1000u32, |x| x + 1)
        .unwrap();
    let text = lines.text();
    let all: Vec<&str> = text.lines().collect();
    assert!(all.len() >= 2, "{text}");
    for line in &all {
        // "[Parallel(n_jobs=2)]: Done " then the count right-aligned in four columns.
        let count = &line["[Parallel(n_jobs=2)]: Done ".len()..][..4];
        assert!(count.trim_start().parse::<usize>().is_ok(), "{line}");
        assert_eq!(&line[31..40], " of 1000 ", "{line}");
    }
    assert!(
        all.contains(&"[Parallel(n_jobs=2)]: Done    1 of 1000 items | elapsed: 0.00 s"),
        "{text}"
    );
    assert!(all.last().unwrap().ends_with(" s finished"), "{text}");
}

/// A `verbose_to` writer that panics on a line containing `on` (`""`: every line), or
/// returns an `io::Error` for it when `fails` is set.
struct Exploding {
    on: &'static str,
    fails: bool,
}

impl std::io::Write for Exploding {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if String::from_utf8_lossy(bytes).contains(self.on) {
            if self.fails {
                return Err(std::io::Error::other("disk full"));
            }
            panic!("writer exploded");
        }
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_verbose_writer_that_panics_fails_the_map_and_one_that_errs_does_not() {
    within::within("panicking verbose writers", || {
        for jobs in [1, 2, 3] {
            // At the first line (items are left to cancel) and at the last (every
            // result is made and must be dropped).
            for on in ["", "finished"] {
                let item_drops = Arc::new(AtomicUsize::new(0));
                let result_drops = Arc::new(AtomicUsize::new(0));
                let calls = AtomicUsize::new(0);
                let items: Vec<Item> = (0..100)
                    .map(|value| Item {
                        value,
                        drops: Arc::clone(&item_drops),
                    })
                    .collect();
                let parallel = Parallel::new(jobs).verbose_to(Exploding { on, fails: false });
                let err = parallel
                    .map(items, |item| {
                        calls.fetch_add(1, Ordering::SeqCst);
                        Item {
                            value: item.value * 2,
                            drops: Arc::clone(&result_drops),
                        }
                    })
                    .unwrap_err();
                let case = format!("n_jobs {jobs}, panicking on {on:?}");
                assert!(
                    matches!(&err, Error::CallbackPanic { hook, key: None, message }
                        if *hook == "Parallel::verbose_to" && message == "writer exploded"),
                    "{case}: {err:?}"
                );
                assert_eq!(
                    err.to_string(),
                    "callback `Parallel::verbose_to` panicked: writer exploded",
                    "{case}"
                );
                assert_eq!(err.item_index(), None, "{case}");
                // Every item dropped once, called or cancelled; every result made
                // dropped once.
                assert_eq!(item_drops.load(Ordering::SeqCst), 100, "{case}");
                let made = calls.load(Ordering::SeqCst);
                assert_eq!(result_drops.load(Ordering::SeqCst), made, "{case}");
                if on == "finished" {
                    assert_eq!(made, 100, "{case}");
                } else {
                    assert!(made < 100, "{case}: the rest was cancelled, {made} calls");
                }
                // The pool, and the same `Parallel` without its writer, still work.
                let again = Parallel::new(jobs).map(0..100u64, |x| x + 1).unwrap();
                assert_eq!(again, (1..=100).collect::<Vec<u64>>(), "{case}");
            }
            // A writer returning an `io::Error` loses its lines, not the map.
            let out = Parallel::new(jobs)
                .batch_size(1)
                .verbose_to(Exploding {
                    on: "",
                    fails: true,
                })
                .map(0..100u64, |x| x * 2)
                .unwrap();
            assert_eq!(out, (0..100).map(|x| x * 2).collect::<Vec<u64>>());
        }
    });
}

#[test]
fn imap_unordered_yields_every_item_once_as_calls_finish() {
    use std::time::Duration;
    // Item 0 waits until the consumer has received another item: in input order
    // nothing could be yielded before it.
    let others_done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&others_done);
    let mut order = Vec::new();
    for pair in Parallel::new(2)
        .batch_size(1)
        .window(8)
        .imap_unordered(0..40u64, move |x| {
            if x == 0 {
                let begun = std::time::Instant::now();
                while !flag.load(std::sync::atomic::Ordering::SeqCst)
                    && begun.elapsed() < Duration::from_secs(20)
                {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            x * 3
        })
    {
        let (index, value) = pair.unwrap();
        assert_eq!(value, index as u64 * 3);
        order.push(index);
        others_done.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    assert_ne!(order[0], 0, "a fast item comes before the slow first one");
    order.sort_unstable();
    assert_eq!(order, (0..40).collect::<Vec<_>>());
}

#[test]
fn imap_unordered_ends_at_a_failure_and_respects_its_window() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let started = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&started);
    let mut results =
        Parallel::new(2)
            .window(4)
            .batch_size(1)
            .try_imap_unordered(0..1000u64, move |x| {
                counter.fetch_add(1, Ordering::SeqCst);
                if x == 10 {
                    Err(format!("bad {x}"))
                } else {
                    Ok(x)
                }
            });
    let first = results.next().unwrap().unwrap();
    assert!(first.0 < 10);
    // Not reading: the window holds the calls at 4 results ahead of the consumer.
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert!(started.load(Ordering::SeqCst) <= 1 + 4, "window respected");
    let err = results
        .find_map(|r| r.err())
        .expect("the failure is yielded");
    assert_eq!(err.item_index(), Some(10));
    assert!(results.next().is_none(), "it ends after the error");
}

#[test]
fn a_timeout_stops_map_imap_and_imap_unordered_with_the_item_at_the_deadline() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};
    let slow = |x: u64| {
        std::thread::sleep(Duration::from_millis(20));
        x
    };
    let limit = Duration::from_millis(100);

    let calls = AtomicUsize::new(0);
    let begun = Instant::now();
    let err = Parallel::new(2)
        .batch_size(1)
        .timeout(limit)
        .map(0..1000u64, |x| {
            calls.fetch_add(1, Ordering::SeqCst);
            slow(x)
        })
        .unwrap_err();
    let took = begun.elapsed();
    assert!(
        matches!(err, dask::Error::Parallel(dask::ParallelError::ItemTimeout { after, .. }) if after == limit),
        "{err}"
    );
    let index = err.item_index().unwrap();
    assert!(index < 1000, "{err}");
    assert!(
        err.to_string().ends_with("the map timed out after 100ms"),
        "{err}"
    );
    // No call starts after the deadline: at most 2 workers x (100 ms / 20 ms + 1).
    assert!(calls.load(Ordering::SeqCst) <= 2 * 6 + 2, "{:?}", calls);
    assert!(took >= limit, "{took:?}");

    let ordered: Vec<Result<u64, dask::Error>> = Parallel::new(2)
        .batch_size(1)
        .timeout(limit)
        .imap(0..1000u64, slow)
        .collect();
    let (last, before) = ordered.split_last().unwrap();
    assert!(
        matches!(
            last,
            Err(dask::Error::Parallel(
                dask::ParallelError::ItemTimeout { .. }
            ))
        ),
        "{last:?}"
    );
    assert_eq!(last.as_ref().unwrap_err().item_index(), Some(before.len()));
    for (i, r) in before.iter().enumerate() {
        assert_eq!(r.as_ref().unwrap(), &(i as u64));
    }

    let unordered: Vec<_> = Parallel::new(2)
        .batch_size(1)
        .timeout(limit)
        .imap_unordered(0..1000u64, slow)
        .collect();
    assert!(unordered.len() < 1000);
    assert!(matches!(
        unordered.last(),
        Some(Err(dask::Error::Parallel(
            dask::ParallelError::ItemTimeout { .. }
        )))
    ));
}

#[test]
fn dropping_an_imap_does_not_wait_for_its_slow_calls() {
    use std::time::{Duration, Instant};
    // Three workers: a pool no other test here uses, so the calls left running do not
    // hold up the other tests' maps.
    let mut results = Parallel::new(3)
        .batch_size(1)
        .window(2)
        .imap(0..10u64, |x| {
            if x > 0 {
                std::thread::sleep(Duration::from_secs(2));
            }
            x
        });
    assert_eq!(results.next().unwrap().unwrap(), 0);
    let begun = Instant::now();
    drop(results);
    assert!(
        begun.elapsed() < Duration::from_secs(1),
        "drop waited {:?} for calls nobody reads",
        begun.elapsed()
    );
}

/// A slow imap that nobody reads must not hold the pool against a map started from
/// another thread: its workers take turns with waiting computations.
#[test]
fn a_map_from_another_thread_takes_turns_with_a_slow_unread_imap() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;
    // 4 workers: a pool no other test here uses.
    let started = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&started);
    let slow = Parallel::new(4).batch_size(1).imap(0..10_000u64, move |x| {
        counter.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
        x
    });
    // Let the imap get going (its window is 256 calls of 20 ms on 4 workers).
    while started.load(Ordering::SeqCst) < 8 {
        std::thread::sleep(Duration::from_millis(1));
    }
    // Counted in the imap's own calls, not wall-clock time, so a loaded machine slows
    // both sides alike: taking turns, the map waits for the claims in hand (one call per
    // worker, a few more while it is queued); queued behind the imap, it waited for the
    // whole window, over 200 calls.
    let before = started.load(Ordering::SeqCst);
    let quick = std::thread::spawn(|| Parallel::new(4).map(0..100u64, |x| x + 1).unwrap());
    let values = quick.join().unwrap();
    let slow_calls_meanwhile = started.load(Ordering::SeqCst) - before;
    assert_eq!(values[99], 100);
    assert!(
        slow_calls_meanwhile <= 24,
        "{slow_calls_meanwhile} calls of the unread imap started while the map waited"
    );
    drop(slow);
}
