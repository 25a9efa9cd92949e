//! Computing the same outputs again: the second `compute` may reuse the first one's plan
//! (see `plan/kept.rs`; tests running at once share the one kept plan, so here it is
//! reused most of the time, and `plan/tests.rs` checks the reuse itself), and must
//! behave exactly like a fresh one: every task runs again, value nodes are read again, a
//! failed or cancelled run leaves nothing behind, and a new graph that reuses a dropped
//! graph's memory is planned afresh.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use dask::{delayed, CancelToken, Config, Delayed, Error, Scheduler};

fn configs() -> [Config; 3] {
    [
        Config::default().scheduler(Scheduler::Sync),
        Config::default().scheduler(Scheduler::Threads(1)),
        Config::default().scheduler(Scheduler::Threads(2)),
    ]
}

/// The outputs of [`counted_graph`] and its count of task runs.
struct Counted {
    total: Delayed<u64>,
    part: Delayed<u64>,
    first: Delayed<u64>,
    data: Delayed<Vec<u64>>,
    runs: Arc<AtomicUsize>,
}

/// A value read by three counted tasks gathered into one, a fourth counted task and a
/// counted join of the two; outputs: the join, the fourth task, an uncounted reader of
/// the value and the value itself.
fn counted_graph() -> Counted {
    let runs = Arc::new(AtomicUsize::new(0));
    let data = delayed(vec![1u64, 2, 3]);
    let counted = |i: usize| {
        let runs = runs.clone();
        data.map(move |v| {
            runs.fetch_add(1, Ordering::SeqCst);
            v[i] * 10
        })
    };
    let parts: Delayed<Vec<u64>> = (0..3).map(counted).collect();
    let part = counted(1);
    let total = {
        let runs = runs.clone();
        parts.map2(&part, move |parts, part| {
            runs.fetch_add(1, Ordering::SeqCst);
            parts.iter().sum::<u64>() + part
        })
    };
    Counted {
        total,
        part,
        first: data.map(|v| v[0]),
        data,
        runs,
    }
}

#[test]
fn every_task_runs_again_and_every_value_is_read_again() {
    for config in configs() {
        let g = counted_graph();
        let outputs = (&g.total, &g.part, &g.first, &g.data);
        for round in 1..=4 {
            let (total, part, first, data) = dask::compute_with(outputs, &config).unwrap();
            assert_eq!((total, part, first), (80, 20, 1), "round {round}");
            assert_eq!(data, vec![1, 2, 3]);
            // Five counted tasks (three parts, the extra part, the join) per round.
            assert_eq!(g.runs.load(Ordering::SeqCst), 5 * round, "round {round}");
        }
        // Another set of outputs from the same graph, then the first set again.
        assert_eq!(
            dask::compute_with(std::slice::from_ref(&g.part), &config).unwrap(),
            [20]
        );
        assert_eq!(g.runs.load(Ordering::SeqCst), 21);
        assert_eq!(dask::compute_with(outputs, &config).unwrap().0, 80);
        assert_eq!(g.runs.load(Ordering::SeqCst), 26);
    }
}

#[test]
fn a_failed_or_cancelled_run_leaves_nothing_to_the_next() {
    for config in configs() {
        let fail = Arc::new(AtomicBool::new(true));
        let data = delayed(String::from("abc"));
        let len = data.map(|s| s.len());
        let checked = {
            let fail = fail.clone();
            data.map(move |s| {
                assert!(!fail.load(Ordering::SeqCst), "told to fail");
                s.len() * 2
            })
        };
        let both = len.map2(&checked, |a, b| a + b);
        let err = dask::compute_with(&[both.clone(), len.clone()], &config).unwrap_err();
        assert!(err.to_string().contains("told to fail"), "{err}");
        fail.store(false, Ordering::SeqCst);
        let again = dask::compute_with(&[both.clone(), len.clone()], &config).unwrap();
        assert_eq!(again, [9, 3]);
        // Cancelled before it starts, then computed in full.
        let cancel = CancelToken::new();
        cancel.cancel();
        let cancelled = dask::compute_with(
            &[both.clone(), len.clone()],
            &config.clone().cancel_token(cancel),
        );
        assert!(matches!(cancelled, Err(Error::Cancelled)), "{cancelled:?}");
        assert_eq!(
            dask::compute_with(&[both.clone(), len.clone()], &config).unwrap(),
            [9, 3]
        );
    }
}

#[test]
fn threads_computing_one_graph_at_once_each_get_every_value() {
    let g = counted_graph();
    std::thread::scope(|s| {
        for (t, config) in configs().into_iter().cycle().take(6).enumerate() {
            let g = &g;
            s.spawn(move || {
                for round in 0..40 {
                    let (total, part, first, data) =
                        dask::compute_with((&g.total, &g.part, &g.first, &g.data), &config)
                            .unwrap();
                    assert_eq!(
                        (total, part, first),
                        (80, 20, 1),
                        "thread {t} round {round}"
                    );
                    assert_eq!(data, vec![1, 2, 3]);
                }
            });
        }
    });
    assert_eq!(g.runs.load(Ordering::SeqCst), 6 * 40 * 5);
}

/// A chain of `links` increments on a fan of `width` values: a shape per round.
fn shaped(round: u64, width: u64, links: u64) -> Delayed<u64> {
    let mut top: Delayed<Vec<u64>> = (0..width).map(|i| delayed(round + i)).collect();
    for _ in 0..links {
        top = top.map(|v| v.iter().map(|x| x + 1).collect());
    }
    top.map(|v| v.iter().sum())
}

#[test]
fn graphs_built_where_dropped_ones_lived_are_planned_afresh() {
    // Each round drops its graph, and the allocator hands its blocks to the next round's
    // nodes: a plan kept for the old outputs must not be taken for the new ones.
    for config in configs() {
        for round in 0..300u64 {
            let (width, links) = (1 + round % 5, round % 7);
            let out = shaped(round, width, links);
            let expected = (0..width).map(|i| round + i + links).sum::<u64>();
            for _ in 0..2 {
                assert_eq!(
                    out.compute_with(&config).unwrap(),
                    expected,
                    "round {round}"
                );
            }
        }
    }
}
