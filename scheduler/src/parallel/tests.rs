//! Unit tests of the parallel map. Miri runs them too (`scripts/miri.sh`), so they cover
//! every `unsafe` path of `buffers` and `pool_run`: items moved out, results written and
//! handed over, and the cleanup after a failure, with types that count their drops.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::report::Report;
use super::{BatchSize, Parallel};
use crate::Error;

/// Small under Miri, which is slow.
const N: usize = if cfg!(miri) { 40 } else { 2_000 };

/// Counts its drops, so a double drop or a leak shows up as a wrong count.
#[derive(Debug)]
struct Tracked {
    value: usize,
    drops: Arc<AtomicUsize>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn tracked(n: usize, drops: &Arc<AtomicUsize>) -> Vec<Tracked> {
    (0..n)
        .map(|value| Tracked {
            value,
            drops: Arc::clone(drops),
        })
        .collect()
}

fn settings() -> Vec<Parallel> {
    let mut all = Vec::new();
    for jobs in [1, 2, 3] {
        for batch in [BatchSize::Auto, BatchSize::Fixed(1), BatchSize::Fixed(7)] {
            all.push(Parallel::new(jobs).batch_size(batch));
        }
    }
    all
}

#[test]
fn results_come_in_input_order_and_every_item_is_dropped_once() {
    for parallel in settings() {
        let item_drops = Arc::new(AtomicUsize::new(0));
        let result_drops = Arc::new(AtomicUsize::new(0));
        let out = parallel
            .map(tracked(N, &item_drops), |item| Tracked {
                value: item.value * 2,
                drops: Arc::clone(&result_drops),
            })
            .unwrap();
        assert_eq!(item_drops.load(Ordering::SeqCst), N, "{parallel:?}");
        assert!(out.iter().enumerate().all(|(i, r)| r.value == 2 * i));
        drop(out);
        assert_eq!(result_drops.load(Ordering::SeqCst), N, "{parallel:?}");
    }
}

#[test]
fn a_failure_names_the_first_failing_index_and_drops_everything_once() {
    for parallel in settings() {
        for fail_at in [0, N / 3, N - 1] {
            let item_drops = Arc::new(AtomicUsize::new(0));
            let result_drops = Arc::new(AtomicUsize::new(0));
            let calls = AtomicUsize::new(0);
            let err = parallel
                .try_map(tracked(N, &item_drops), |item| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    if item.value >= fail_at && item.value % 5 == fail_at % 5 {
                        return Err(format!("bad item {}", item.value));
                    }
                    Ok(Tracked {
                        value: item.value,
                        drops: Arc::clone(&result_drops),
                    })
                })
                .unwrap_err();
            assert_eq!(err.item_index(), Some(fail_at), "{parallel:?}");
            assert_eq!(
                err.to_string(),
                format!("item {fail_at} failed: bad item {fail_at}")
            );
            // Every item was dropped once, called or not; every result that was made was
            // dropped once by the cleanup.
            assert_eq!(item_drops.load(Ordering::SeqCst), N, "{parallel:?}");
            let made = calls.load(Ordering::SeqCst);
            assert!(made <= N);
            let failed_calls = made - result_drops.load(Ordering::SeqCst);
            assert!(
                (1..=3).contains(&failed_calls),
                "{failed_calls} failed calls"
            );
        }
    }
}

#[test]
fn a_panic_is_an_item_error_and_the_pool_stays_usable() {
    for parallel in settings() {
        let item_drops = Arc::new(AtomicUsize::new(0));
        let err = parallel
            .map(tracked(N, &item_drops), |item| {
                assert!(item.value != 17, "seventeen");
                item.value
            })
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Parallel(crate::ParallelError::ItemPanic { index: 17, .. })
            ),
            "{err}"
        );
        assert_eq!(err.to_string(), "item 17 panicked: seventeen");
        assert_eq!(item_drops.load(Ordering::SeqCst), N);
        assert_eq!(parallel.map(0..3, |x| x + 1).unwrap(), vec![1, 2, 3]);
    }
}

#[test]
fn empty_inputs_zero_sized_values_and_borrowed_state_work() {
    let parallel = Parallel::new(2);
    assert_eq!(
        parallel.map(Vec::<u8>::new(), |x| x).unwrap(),
        Vec::<u8>::new()
    );
    assert_eq!(parallel.map(vec![(); N], |()| ()).unwrap().len(), N);
    let calls = AtomicUsize::new(0);
    let base = String::from("item ");
    let out = parallel
        .map(0..5, |i| {
            calls.fetch_add(1, Ordering::SeqCst);
            format!("{base}{i}")
        })
        .unwrap();
    assert_eq!(out[4], "item 4");
    assert_eq!(calls.load(Ordering::SeqCst), 5);
}

#[test]
fn impossible_options_are_refused_with_a_reason() {
    let cores = crate::exec::default_threads() as i32;
    let message = |p: Parallel| p.map(0..3, |x| x).unwrap_err().to_string();
    assert_eq!(
        message(Parallel::new(0)),
        "invalid configuration: Parallel::new(0): use 1 to run on the calling thread, -1 for every core"
    );
    assert_eq!(
        message(Parallel::new(1025)),
        "invalid configuration: Parallel::new(1025): at most 1024 workers"
    );
    assert!(message(Parallel::new(2).batch_size(0)).contains("batch_size(0)"));
    let mut refused = Parallel::new(2).window(0).imap(0..3, |x| x);
    assert!(refused
        .next()
        .unwrap()
        .unwrap_err()
        .to_string()
        .contains("window(0)"));
    assert!(refused.next().is_none());
    assert_eq!(Parallel::new(-1).workers().unwrap(), cores as usize);
    assert_eq!(
        Parallel::new(-2).workers().unwrap(),
        (cores as usize - 1).max(1)
    );
    // Far below `-cores`: one worker, as joblib's `max(cpus + 1 + n_jobs, 1)`.
    assert_eq!(Parallel::new(-cores - 5).workers().unwrap(), 1);
    assert_eq!(Parallel::new(i32::MIN).workers().unwrap(), 1);
}

#[test]
fn a_map_inside_a_task_and_inside_a_map_runs_on_the_same_pool() {
    fn pool_id() -> Option<usize> {
        crate::exec::Pool::current().map(|p| p as *const crate::exec::Pool as usize)
    }
    // Three jobs, a size no pool here has: a map that started a pool of its own
    // instead of nesting would run its calls there.
    let outer = crate::delayed(10u64).map(|n| {
        let task_pool = pool_id();
        assert!(task_pool.is_some(), "the task runs on a pool");
        Parallel::new(3)
            .map(0..*n, |i| {
                assert_eq!(pool_id(), task_pool, "the outer map's calls");
                Parallel::new(3)
                    .map(0..i, |j| {
                        assert_eq!(pool_id(), task_pool, "the inner map's calls");
                        j
                    })
                    .unwrap()
                    .len() as u64
            })
            .unwrap()
            .iter()
            .sum::<u64>()
    });
    assert_eq!(outer.compute().unwrap(), 45);
}

#[test]
fn imap_yields_in_order_within_its_window() {
    for jobs in [1, 2] {
        for window in [1, 3, 16] {
            let pulled = Arc::new(AtomicUsize::new(0));
            let counter = Arc::clone(&pulled);
            let items = (0..N).inspect(move |_| {
                counter.fetch_add(1, Ordering::SeqCst);
            });
            let mut results = Parallel::new(jobs).window(window).imap(items, |i| i * 3);
            for expected in 0..N {
                assert_eq!(results.next().unwrap().unwrap(), expected * 3);
                // The input is pulled no further than the window allows.
                let ahead = pulled.load(Ordering::SeqCst);
                assert!(
                    ahead <= expected + 1 + window,
                    "{ahead} pulled at {expected}"
                );
            }
            assert!(results.next().is_none());
            assert!(results.next().is_none());
        }
    }
}

#[test]
fn imap_yields_an_error_in_place_then_ends_and_drop_stops_early() {
    let mut results =
        Parallel::new(2)
            .window(4)
            .try_imap(0..N, |i| if i == 9 { Err("nine") } else { Ok(i) });
    for expected in 0..9 {
        assert_eq!(results.next().unwrap().unwrap(), expected);
    }
    let err = results.next().unwrap().unwrap_err();
    assert_eq!(err.to_string(), "item 9 failed: nine");
    assert!(results.next().is_none());

    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let mut results = Parallel::new(2).window(4).imap(0..N, move |i| {
        counted.fetch_add(1, Ordering::SeqCst);
        i
    });
    assert_eq!(results.next().unwrap().unwrap(), 0);
    drop(results);
    let made = calls.load(Ordering::SeqCst);
    assert!(
        made <= 1 + 4,
        "{made} calls after dropping at the first result"
    );

    let panicking = Parallel::new(2).imap(0..5, |i| {
        assert!(i != 2, "two");
        i
    });
    let all: Vec<_> = panicking.collect();
    assert_eq!(all.len(), 3);
    assert_eq!(
        all[2].as_ref().unwrap_err().to_string(),
        "item 2 panicked: two"
    );
}

#[test]
fn verbose_lines_double_and_the_report_counts_items() {
    let report = Report::new(100, 2, Some(super::report::LineSink::Stderr), false).unwrap();
    report.advance(1).unwrap();
    report.advance(40).unwrap();
    report.advance(59).unwrap();
    assert_eq!(report.done(), 100);
    report.finish(Ok(()));
    assert!(Report::new(10, 2, None, false).is_none());
}

#[test]
fn results_of_the_items_layout_reuse_the_items_allocation() {
    for parallel in settings() {
        let items: Vec<u64> = (0..N as u64).collect();
        let address = items.as_ptr() as usize;
        let out: Vec<i64> = parallel.map(items, |x| -(x as i64)).unwrap();
        assert_eq!(out.as_ptr() as usize, address, "{parallel:?}");
        assert!(out.iter().enumerate().all(|(i, &v)| v == -(i as i64)));
        // A different layout gets its own allocation, and fails cleanly too.
        let strings: Vec<String> = (0..N).map(|i| i.to_string()).collect();
        let lengths = parallel.map(strings, |s| s.len() as u8).unwrap();
        assert_eq!(lengths.len(), N);
        let err = parallel
            .try_map((0..N as u64).collect::<Vec<_>>(), |x| {
                if x == 5 {
                    Err("five")
                } else {
                    Ok(x.to_string().len() as u64)
                }
            })
            .unwrap_err();
        assert_eq!(err.item_index(), Some(5));
    }
}

/// A `verbose_to` writer that panics on every line.
struct PanickingWriter;

impl std::io::Write for PanickingWriter {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        panic!("writer exploded");
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_panicking_writer_fails_the_map_and_drops_everything_once() {
    for parallel in settings() {
        let item_drops = Arc::new(AtomicUsize::new(0));
        let result_drops = Arc::new(AtomicUsize::new(0));
        let calls = AtomicUsize::new(0);
        let err = parallel
            .clone()
            .verbose_to(PanickingWriter)
            .map(tracked(N, &item_drops), |item| {
                calls.fetch_add(1, Ordering::SeqCst);
                Tracked {
                    value: item.value,
                    drops: Arc::clone(&result_drops),
                }
            })
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "callback `Parallel::verbose_to` panicked: writer exploded",
            "{parallel:?}"
        );
        assert_eq!(item_drops.load(Ordering::SeqCst), N, "{parallel:?}");
        let made = calls.load(Ordering::SeqCst);
        assert_eq!(result_drops.load(Ordering::SeqCst), made, "{parallel:?}");
        assert_eq!(parallel.map(0..3, |x| x + 1).unwrap(), vec![1, 2, 3]);
    }
}
