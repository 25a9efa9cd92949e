//! Every numeric option at its extremes: a clear error or a sensible meaning, never an
//! allocation abort, thousands of threads, or an `Instant` overflow panic.

mod support;

use std::time::Duration;

use dask::{Config, Error, Parallel, Scheduler};

fn invalid_config(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::InvalidConfig(message)) => message,
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
}

#[test]
fn pool_sizes_of_zero_or_beyond_the_limit_are_refused() {
    let x = dask::delayed(1).map(|v| v + 1);
    for (threads, expected) in [
        (0, "Scheduler::Threads(0): a pool needs at least one thread"),
        (
            1025,
            "Scheduler::Threads(1025): at most 1024 threads per pool",
        ),
        (
            usize::MAX,
            "Scheduler::Threads(18446744073709551615): at most 1024 threads per pool",
        ),
    ] {
        let config = Config::default().scheduler(Scheduler::Threads(threads));
        assert_eq!(invalid_config(x.compute_with(&config)), expected);
    }
    assert_eq!(x.compute().unwrap(), 2);
}

#[test]
fn a_timeout_too_far_away_for_an_instant_is_no_limit() {
    let x = dask::delayed(20).map(|v| v * 2);
    for scheduler in [Scheduler::Sync, Scheduler::Threads(2)] {
        let config = Config::default()
            .scheduler(scheduler)
            .timeout(Duration::MAX);
        assert_eq!(x.compute_with(&config).unwrap(), 40);
    }
    // And the smallest one: everything is past the deadline at once.
    let config = Config::default().timeout(Duration::ZERO);
    assert!(matches!(
        x.compute_with(&config),
        Err(Error::Timeout { .. })
    ));
}

#[test]
fn parallel_worker_counts_beyond_the_limit_are_refused() {
    let message = invalid_config(Parallel::new(i32::MAX).map(0..10, |x| x));
    assert_eq!(message, "Parallel::new(2147483647): at most 1024 workers");
    assert_eq!(
        invalid_config(Parallel::new(i32::MAX).workers()),
        "Parallel::new(2147483647): at most 1024 workers"
    );
    let first = Parallel::new(i32::MAX).imap(0..10, |x| x).next().unwrap();
    assert!(matches!(first, Err(Error::InvalidConfig(_))));
    // Far below `-cores`: one worker, as joblib's `max(cpus + 1 + n_jobs, 1)`.
    assert_eq!(Parallel::new(i32::MIN).workers().unwrap(), 1);
    assert_eq!(Parallel::new(i32::MIN).map(0..10, |x| x).unwrap().len(), 10);
}

#[test]
fn huge_batches_and_windows_mean_as_large_as_useful() {
    let squares = Parallel::new(2)
        .batch_size(usize::MAX)
        .map(0..1000u64, |x| x * x)
        .unwrap();
    assert_eq!(squares, (0..1000u64).map(|x| x * x).collect::<Vec<_>>());
    // The window's slots are allocated up front: usize::MAX must not be asked for.
    let doubled: Vec<u64> = Parallel::new(2)
        .window(usize::MAX)
        .batch_size(usize::MAX)
        .imap(0..1000u64, |x| 2 * x)
        .map(Result::unwrap)
        .collect();
    assert_eq!(doubled, (0..1000u64).map(|x| 2 * x).collect::<Vec<_>>());
}

#[test]
fn pools_of_ever_new_sizes_are_capped() {
    support::run_test_alone("pools_of_ever_new_sizes_child", &[]);
}

#[test]
#[ignore = "run in its own process by pools_of_ever_new_sizes_are_capped"]
fn pools_of_ever_new_sizes_child() {
    let x = dask::delayed(5).map(|v| v + 1);
    let mut started = Vec::new();
    let mut refusal = None;
    for threads in 3..20 {
        let config = Config::default().scheduler(Scheduler::Threads(threads));
        match x.compute_with(&config) {
            Ok(v) => {
                assert_eq!(v, 6);
                started.push(threads);
            }
            Err(Error::InvalidConfig(message)) => {
                refusal = Some(message);
                break;
            }
            Err(other) => panic!("unexpected {other}"),
        }
    }
    let refusal = refusal.expect("a ninth pool size is refused");
    assert!(started.len() <= 8, "{started:?}");
    assert!(
        refusal.contains("pools of other sizes are running already"),
        "{refusal}"
    );
    // The pools that exist keep working.
    for threads in started {
        let config = Config::default().scheduler(Scheduler::Threads(threads));
        assert_eq!(x.compute_with(&config).unwrap(), 6);
    }
}
