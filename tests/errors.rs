//! Failing and panicking tasks: the error names the task, nothing downstream runs, the
//! pool stays usable.

use std::sync::atomic::{AtomicUsize, Ordering};

use dask::{delayed, Config, Delayed, Error, Scheduler};

#[derive(Debug, thiserror::Error)]
#[error("value {0} is odd")]
struct Odd(u32);

#[delayed]
fn must_be_even(x: u32) -> Result<u32, Odd> {
    if x.is_multiple_of(2) {
        Ok(x)
    } else {
        Err(Odd(x))
    }
}

#[delayed(name = "explode")]
fn panics_on(x: u32, bad: u32) -> u32 {
    if x == bad {
        panic!("boom at {x}");
    }
    x
}

static AFTER: AtomicUsize = AtomicUsize::new(0);

#[delayed]
fn after(x: &u32) -> u32 {
    AFTER.fetch_add(1, Ordering::SeqCst);
    *x
}

fn configs() -> Vec<Config> {
    vec![
        Config::default().scheduler(Scheduler::Sync),
        Config::default().scheduler(Scheduler::Threads(1)),
        Config::default().scheduler(Scheduler::Threads(2)),
    ]
}

#[test]
fn an_err_names_the_task_and_carries_the_source() {
    for config in configs() {
        let bad = must_be_even(3);
        let key = bad.key().to_string();
        let err = after(&bad).compute_with(&config).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(&key), "{text}");
        assert!(text.contains("must_be_even"), "{text}");
        assert!(text.contains("value 3 is odd"), "{text}");
        assert!(matches!(err, Error::Task { .. }));
        assert_eq!(err.key(), Some(key.as_str()));
        let source = std::error::Error::source(&err).expect("the task's error is the source");
        assert_eq!(source.to_string(), "value 3 is odd");
    }
}

#[test]
fn a_panic_fails_the_computation_with_its_message() {
    for config in configs() {
        let bad = panics_on(7, 7);
        let err = bad.compute_with(&config).unwrap_err();
        assert!(matches!(err, Error::Panic { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("explode") && text.contains(bad.key()) && text.contains("boom at 7"),
            "{text}"
        );
    }
}

#[test]
fn tasks_downstream_of_a_failure_never_run() {
    for config in configs() {
        AFTER.store(0, Ordering::SeqCst);
        let mut x: Delayed<u32> = must_be_even(1);
        for _ in 0..100 {
            x = after(&x);
        }
        assert!(x.compute_with(&config).is_err());
        assert_eq!(AFTER.load(Ordering::SeqCst), 0);
    }
}

#[test]
fn sync_stops_at_the_first_failure() {
    AFTER.store(0, Ordering::SeqCst);
    // Independent work after the failing task in Sync's order is skipped too.
    let first = must_be_even(5);
    let later: Vec<Delayed<u32>> = (0..10).map(|i| after(dask::delayed(i))).collect();
    let mut outs = vec![first];
    outs.extend(later);
    let err = dask::compute_with(&outs, &Config::default().scheduler(Scheduler::Sync)).unwrap_err();
    assert!(err.to_string().contains("value 5 is odd"));
    assert_eq!(AFTER.load(Ordering::SeqCst), 0);
}

#[test]
fn the_pool_stays_usable_after_many_failing_computes() {
    let config = Config::default().scheduler(Scheduler::Threads(2));
    for round in 0..200u32 {
        let parts: Vec<Delayed<u32>> = (0..20).map(|i| panics_on(i, round % 20)).collect();
        let err = dask::compute_with(&parts, &config).unwrap_err();
        assert!(
            err.to_string().contains(&format!("boom at {}", round % 20)),
            "{err}"
        );
        let odd: Vec<Delayed<u32>> = (0..20)
            .map(|i| must_be_even(i * 2 + (i == round % 20) as u32))
            .collect();
        assert!(dask::compute_with(&odd, &config).is_err());
    }
    let good: Vec<Delayed<u32>> = (0..20).map(|i| panics_on(i, 99)).collect();
    assert_eq!(
        dask::compute_with(&good, &config).unwrap(),
        (0..20).collect::<Vec<_>>()
    );
}
