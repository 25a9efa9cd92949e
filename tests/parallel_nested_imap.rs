//! `Parallel::imap` and `imap_unordered` consumed inside pool work: inside a
//! `Parallel::map` call and inside tasks. Every worker of the pool may be such a
//! consumer, so a consumer that only waited for other workers to run its items would
//! wait forever; these once hung. Each body runs under a time limit so that a regression
//! fails instead of stalling the suite.

use std::time::Duration;

use dask::{Config, Delayed, Error, Parallel, Scheduler};

#[path = "support/within.rs"]
mod within;
use within::within;

/// What the inner map of outer item `outer` yields for `inner`: distinct for every pair,
/// so a result under the wrong index or from the wrong map shows.
fn value(outer: u64, inner: u64) -> u64 {
    outer * 1_000 + inner * inner
}

/// The inner `imap`'s results, in the order it yields them.
fn inner_imap(outer: u64, n: u64, window: usize) -> Result<Vec<u64>, Error> {
    Parallel::new(2)
        .window(window)
        .imap(0..n, move |j| value(outer, j))
        .collect()
}

/// The inner `imap_unordered`'s pairs, in the order it yields them.
fn inner_unordered(outer: u64, n: u64, window: usize) -> Result<Vec<(usize, u64)>, Error> {
    Parallel::new(2)
        .window(window)
        .imap_unordered(0..n, move |j| value(outer, j))
        .collect()
}

fn expected(outer: u64, n: u64) -> Vec<u64> {
    (0..n).map(|j| value(outer, j)).collect()
}

/// Every index once, each with its own value.
fn assert_unordered(pairs: Vec<(usize, u64)>, outer: u64, n: u64) {
    let mut pairs = pairs;
    pairs.sort_unstable();
    let want: Vec<(usize, u64)> = (0..n).map(|j| (j as usize, value(outer, j))).collect();
    assert_eq!(pairs, want, "outer item {outer}");
}

#[test]
fn counting_an_imap_inside_parallel_map_finishes() {
    let counts = within("imap(..).count() inside Parallel::map", || {
        Parallel::new(2).map(0..2u64, |_| Parallel::new(2).imap(0..4u64, |j| j).count())
    })
    .unwrap();
    assert_eq!(counts, vec![4, 4]);
}

#[test]
fn imap_inside_parallel_map_yields_in_input_order() {
    // More outer items than workers, and inner inputs larger than the window: every
    // worker consumes, and each inner map needs several rounds.
    for window in [1, 3, 64] {
        let results = within("imap inside Parallel::map", move || {
            Parallel::new(2)
                .batch_size(1)
                .map(0..6u64, |i| inner_imap(i, 40, window))
        })
        .unwrap();
        for (i, inner) in results.into_iter().enumerate() {
            assert_eq!(inner.unwrap(), expected(i as u64, 40), "window {window}");
        }
    }
}

#[test]
fn imap_unordered_inside_parallel_map_yields_every_item_once() {
    for window in [1, 3, 64] {
        let results = within("imap_unordered inside Parallel::map", move || {
            Parallel::new(2)
                .batch_size(1)
                .map(0..6u64, |i| inner_unordered(i, 40, window))
        })
        .unwrap();
        for (i, pairs) in results.into_iter().enumerate() {
            assert_unordered(pairs.unwrap(), i as u64, 40);
        }
    }
}

/// Four tasks, each consuming an inner map, computed with `scheduler`.
fn in_tasks<T: Clone + Send + Sync + 'static>(
    scheduler: Scheduler,
    inner: fn(u64) -> T,
) -> Result<Vec<T>, Error> {
    let tasks: Vec<Delayed<T>> = (0..4u64)
        .map(|i| dask::delayed(i).map(move |&i| inner(i)))
        .collect();
    dask::compute_with(&tasks, &Config::default().scheduler(scheduler))
}

#[test]
fn imap_inside_tasks_yields_in_input_order_on_every_scheduler() {
    for scheduler in [
        Scheduler::Threads(1),
        Scheduler::Threads(2),
        Scheduler::Sync,
    ] {
        let results = within("imap inside tasks", move || {
            in_tasks(scheduler, |i| {
                inner_imap(i, 300, 8).map_err(|e| e.to_string())
            })
        })
        .unwrap();
        for (i, inner) in results.into_iter().enumerate() {
            assert_eq!(inner.unwrap(), expected(i as u64, 300), "{scheduler:?}");
        }
    }
}

#[test]
fn imap_unordered_inside_tasks_yields_every_item_once_on_every_scheduler() {
    for scheduler in [
        Scheduler::Threads(1),
        Scheduler::Threads(2),
        Scheduler::Sync,
    ] {
        let results = within("imap_unordered inside tasks", move || {
            in_tasks(scheduler, |i| {
                inner_unordered(i, 300, 8).map_err(|e| e.to_string())
            })
        })
        .unwrap();
        for (i, pairs) in results.into_iter().enumerate() {
            assert_unordered(pairs.unwrap(), i as u64, 300);
        }
    }
}

#[test]
fn counting_an_imap_inside_tasks_on_the_default_pool_finishes() {
    let counts = within("imap(..).count() inside dask::compute", || {
        let tasks: Vec<Delayed<usize>> = (0..2u64)
            .map(|i| dask::delayed(i).map(|_| Parallel::new(2).imap(0..4u64, |j| j).count()))
            .collect();
        dask::compute(&tasks)
    })
    .unwrap();
    assert_eq!(counts, vec![4, 4]);
}

#[test]
fn a_failing_item_inside_a_task_is_yielded_in_place_and_ends_the_imap() {
    let outcomes = within("try_imap inside Parallel::map", || {
        Parallel::new(2).map(0..4u64, |i| {
            let yielded: Vec<Result<u64, Error>> = Parallel::new(2)
                .window(4)
                .try_imap(0..100u64, move |j| {
                    if j == 10 + i {
                        Err(format!("bad {j}"))
                    } else {
                        Ok(value(i, j))
                    }
                })
                .collect();
            yielded
                .into_iter()
                .map(|r| r.map_err(|e| (e.item_index(), e.to_string())))
                .collect::<Vec<_>>()
        })
    })
    .unwrap();
    for (i, yielded) in outcomes.into_iter().enumerate() {
        let i = i as u64;
        let (last, before) = yielded.split_last().unwrap();
        let ok: Vec<u64> = before.iter().map(|r| *r.as_ref().unwrap()).collect();
        assert_eq!(ok, expected(i, 10 + i), "outer item {i}");
        let index = (10 + i) as usize;
        assert_eq!(
            last,
            &Err((Some(index), format!("item {index} failed: bad {index}")))
        );
    }
}

#[test]
fn an_imap_dropped_early_inside_a_task_stops_and_the_pool_stays_usable() {
    let firsts = within("imap dropped inside Parallel::map", || {
        Parallel::new(2).map(0..4u64, |i| {
            let mut results = Parallel::new(2)
                .window(2)
                .imap(0..1_000_000u64, move |j| value(i, j));
            let first = results.next().map(|r| r.map_err(|e| e.to_string()));
            drop(results);
            first
        })
    })
    .unwrap();
    for (i, first) in firsts.into_iter().enumerate() {
        assert_eq!(first, Some(Ok(value(i as u64, 0))));
    }
    let again = within("a map after the dropped imaps", || {
        Parallel::new(2).map(0..10u64, |x| x + 1)
    })
    .unwrap();
    assert_eq!(again, (1..=10).collect::<Vec<u64>>());
}

#[test]
fn imaps_nested_two_deep_inside_a_map_yield_in_order() {
    // Each inner item consumes an imap of its own: a consumer inside a call of a
    // consumer inside a call of the outer map.
    let results = within("imap inside imap inside Parallel::map", || {
        Parallel::new(2).map(0..3u64, |i| {
            Parallel::new(2)
                .window(2)
                .imap(0..5u64, move |j| {
                    inner_imap(i * 10 + j, 7, 2).map(|v| v.iter().sum())
                })
                .collect::<Result<Vec<Result<u64, Error>>, Error>>()
        })
    })
    .unwrap();
    for (i, inner) in results.into_iter().enumerate() {
        let sums: Vec<u64> = inner.unwrap().into_iter().map(|r| r.unwrap()).collect();
        let want: Vec<u64> = (0..5u64)
            .map(|j| expected(i as u64 * 10 + j, 7).iter().sum())
            .collect();
        assert_eq!(sums, want, "outer item {i}");
    }
}

#[test]
fn imaps_started_outside_and_consumed_by_every_worker_finish() {
    // Started on this thread, so their rounds go to the 2-worker pool; then both workers
    // of that pool consume them. The window keeps most items unclaimed until the
    // consumers take results, so the consumers must run calls themselves.
    let results = within("outside imaps consumed inside Parallel::map", || {
        let ordered: Vec<_> = (0..2u64)
            .map(|i| {
                Parallel::new(2)
                    .window(2)
                    .imap(0..500u64, move |j| value(i, j))
            })
            .collect();
        let unordered: Vec<_> = (2..4u64)
            .map(|i| {
                Parallel::new(2)
                    .window(2)
                    .imap_unordered(0..500u64, move |j| value(i, j))
            })
            .collect();
        let ordered = Parallel::new(2)
            .batch_size(1)
            .map(ordered, |it| it.collect::<Result<Vec<u64>, Error>>())
            .unwrap();
        let unordered = Parallel::new(2)
            .batch_size(1)
            .map(unordered, |it| {
                it.collect::<Result<Vec<(usize, u64)>, Error>>()
            })
            .unwrap();
        (ordered, unordered)
    });
    let (ordered, unordered) = results;
    for (i, values) in ordered.into_iter().enumerate() {
        assert_eq!(values.unwrap(), expected(i as u64, 500));
    }
    for (i, pairs) in unordered.into_iter().enumerate() {
        assert_unordered(pairs.unwrap(), i as u64 + 2, 500);
    }
}

#[test]
fn a_timeout_inside_a_task_ends_the_imap_with_the_item_at_the_deadline() {
    let yielded = within("imap with a timeout inside Parallel::map", || {
        Parallel::new(2).map(0..2u64, |_| {
            Parallel::new(2)
                .batch_size(1)
                .timeout(Duration::from_millis(50))
                .imap(0..1_000u64, |j| {
                    std::thread::sleep(Duration::from_millis(5));
                    j
                })
                .collect::<Vec<Result<u64, Error>>>()
        })
    })
    .unwrap();
    for results in yielded {
        let (last, before) = results.split_last().unwrap();
        assert!(before.len() < 1_000);
        for (j, r) in before.iter().enumerate() {
            assert_eq!(r.as_ref().unwrap(), &(j as u64));
        }
        let err = last.as_ref().unwrap_err();
        assert_eq!(err.item_index(), Some(before.len()));
        assert!(
            err.to_string().ends_with("the map timed out after 50ms"),
            "{err}"
        );
    }
}
