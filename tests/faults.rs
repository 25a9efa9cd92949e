//! Cancellation, timeouts, retries and error collection; nothing leaks or hangs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use dask::{delayed, CancelToken, Config, Delayed, Error, ErrorPolicy, Scheduler};

/// These tests share counters, so they run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn threads(n: usize) -> Config {
    Config::default().scheduler(Scheduler::Threads(n))
}

static STARTED: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Counts its live instances, to show results are dropped.
#[derive(Debug)]
struct Tracked(u64);

impl Tracked {
    fn new(v: u64) -> Self {
        LIVE.fetch_add(1, Ordering::SeqCst);
        Tracked(v)
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        Tracked::new(self.0)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

#[delayed]
fn sleepy(i: u64, millis: u64) -> Tracked {
    STARTED.fetch_add(1, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(millis));
    Tracked::new(i)
}

#[delayed]
fn sum_tracked(parts: &Vec<Tracked>) -> u64 {
    parts.iter().map(|t| t.0).sum()
}

mod support;

fn thread_count() -> Option<u64> {
    support::proc_status("Threads:")
}

#[test]
fn cancelling_from_another_thread_stops_promptly_and_leaks_nothing() {
    let _s = serial();
    let config = threads(2);
    dask::compute_with(&[sleepy(0, 0)], &config).unwrap(); // the pool exists
    let threads_before = thread_count();
    for round in 0..5 {
        STARTED.store(0, Ordering::SeqCst);
        let parts: Vec<Delayed<Tracked>> = (0..200).map(|i| sleepy(i, 5)).collect();
        let total = sum_tracked(parts);
        let token = CancelToken::new();
        let canceller = {
            let token = token.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                token.cancel();
                Instant::now()
            })
        };
        let err = total
            .compute_with(&config.clone().cancel_token(token))
            .unwrap_err();
        let returned = Instant::now();
        let cancelled_at = canceller.join().unwrap();
        assert!(matches!(err, Error::Cancelled), "round {round}: {err}");
        // Within about one task (5 ms) of the cancel, with room for a loaded machine.
        let lag = returned.saturating_duration_since(cancelled_at);
        assert!(
            lag < Duration::from_millis(100),
            "returned {lag:?} after cancel"
        );
        let started = STARTED.load(Ordering::SeqCst);
        assert!(started < 200, "cancelled after {started} of 200 tasks");
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(
            STARTED.load(Ordering::SeqCst),
            started,
            "no task starts after return"
        );
        assert_eq!(LIVE.load(Ordering::SeqCst), 0, "every result was dropped");
    }
    assert_eq!(thread_count(), threads_before, "no thread was added");
}

#[test]
fn a_token_cancelled_before_the_start_runs_nothing() {
    let _s = serial();
    for config in [threads(2), Config::default().scheduler(Scheduler::Sync)] {
        STARTED.store(0, Ordering::SeqCst);
        let token = CancelToken::new();
        token.cancel();
        let parts: Vec<Delayed<Tracked>> = (0..20).map(|i| sleepy(i, 0)).collect();
        let err = dask::compute_with(&parts, &config.cancel_token(token)).unwrap_err();
        assert!(matches!(err, Error::Cancelled));
        assert_eq!(STARTED.load(Ordering::SeqCst), 0);
        assert_eq!(LIVE.load(Ordering::SeqCst), 0);
    }
}

#[test]
fn cancelling_after_the_work_is_done_keeps_the_results() {
    let _s = serial();
    let token = CancelToken::new();
    let part = sleepy(7, 0);
    let out = part
        .compute_with(&threads(2).cancel_token(token.clone()))
        .unwrap();
    token.cancel();
    assert_eq!(out.0, 7);
}

#[test]
fn a_timeout_names_the_tasks_running_at_the_deadline() {
    let _s = serial();
    STARTED.store(0, Ordering::SeqCst);
    let slow: Vec<Delayed<Tracked>> = (0..2).map(|i| sleepy(i, 300)).collect();
    let later: Vec<Delayed<Tracked>> = (10..20).map(|i| sleepy(i, 300)).collect();
    let total = sum_tracked(slow.iter().chain(&later).cloned().collect::<Vec<_>>());
    let start = Instant::now();
    let err = total
        .compute_with(&threads(2).timeout(Duration::from_millis(50)))
        .unwrap_err();
    let elapsed = start.elapsed();
    let Error::Timeout { after, running } = &err else {
        panic!("{err}")
    };
    assert_eq!(*after, Duration::from_millis(50));
    // Normally both workers are in a 300 ms task at the deadline; on a loaded machine the
    // second may not have started yet. Either way, exactly the tasks that started were
    // running then (they outlast the deadline), and none started after it.
    assert!((1..=2).contains(&running.len()), "{running:?}");
    assert!(
        running.iter().all(|k| k.starts_with("sleepy-")),
        "{running:?}"
    );
    assert!(
        err.to_string().contains("timed out") && err.to_string().contains(&running[0]),
        "{err}"
    );
    // It waits for the running tasks (they borrow the graph), and starts no other.
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    assert_eq!(STARTED.load(Ordering::SeqCst), running.len());
    assert_eq!(LIVE.load(Ordering::SeqCst), 0);
}

#[test]
fn a_sequential_timeout_stops_after_the_task_that_overran() {
    let _s = serial();
    STARTED.store(0, Ordering::SeqCst);
    let first = sleepy(1, 60);
    let second = sleepy(2, 0);
    let config = Config::default()
        .scheduler(Scheduler::Sync)
        .timeout(Duration::from_millis(10));
    let err = dask::compute_with(&[first.clone(), second], &config).unwrap_err();
    let Error::Timeout { running, .. } = err else {
        panic!("expected a timeout")
    };
    assert_eq!(running, vec![first.key().to_string()]);
    assert_eq!(STARTED.load(Ordering::SeqCst), 1);
}

#[delayed]
fn inner_with_timeout(millis: u64) -> String {
    let inner = sleepy(0, millis);
    match inner.compute_with(&Config::default().timeout(Duration::from_millis(20))) {
        Ok(_) => "finished".into(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_nested_computation_times_out_on_its_own() {
    let _s = serial();
    let outer = [inner_with_timeout(200), inner_with_timeout(0)];
    let results = dask::compute_with(&outer, &threads(1)).unwrap();
    assert!(results[0].contains("timed out"), "{}", results[0]);
    assert_eq!(results[1], "finished");
    assert_eq!(LIVE.load(Ordering::SeqCst), 0);
}

static ATTEMPTS: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, thiserror::Error)]
#[error("attempt {0} failed")]
struct Flaky(usize);

#[delayed(retries = 3)]
fn fails_twice(input: Vec<u32>) -> Result<usize, Flaky> {
    let attempt = ATTEMPTS.fetch_add(1, Ordering::SeqCst) + 1;
    if attempt <= 2 {
        return Err(Flaky(attempt));
    }
    Ok(input.len())
}

#[delayed(retries = 2)]
fn always_fails(_x: u32) -> Result<u32, Flaky> {
    Err(Flaky(ATTEMPTS.fetch_add(1, Ordering::SeqCst) + 1))
}

#[delayed(retries = 1)]
fn panics_once(x: u32) -> u32 {
    if ATTEMPTS.fetch_add(1, Ordering::SeqCst) == 0 {
        panic!("first try");
    }
    x
}

#[test]
fn retries_rerun_a_failing_task_with_its_inputs_intact() {
    let _s = serial();
    for config in [threads(2), Config::default().scheduler(Scheduler::Sync)] {
        ATTEMPTS.store(0, Ordering::SeqCst);
        // The input is owned and this is its last reader: without retries it would be
        // moved into the first attempt and lost.
        let data = dask::delayed(vec![1u32, 2, 3]).map(|v: &Vec<u32>| v.clone());
        assert_eq!(fails_twice(data).compute_with(&config).unwrap(), 3);
        assert_eq!(ATTEMPTS.load(Ordering::SeqCst), 3);

        ATTEMPTS.store(0, Ordering::SeqCst);
        let err = always_fails(1).compute_with(&config).unwrap_err();
        assert_eq!(ATTEMPTS.load(Ordering::SeqCst), 3, "1 + 2 retries");
        assert!(
            err.to_string().contains("after 3 attempts")
                && err.to_string().contains("attempt 3 failed"),
            "{err}"
        );

        ATTEMPTS.store(0, Ordering::SeqCst);
        assert_eq!(panics_once(5).compute_with(&config).unwrap(), 5);
    }
}

#[delayed]
fn check(x: u32) -> Result<u32, Flaky> {
    if x % 10 == 3 {
        Err(Flaky(x as usize))
    } else {
        Ok(x)
    }
}

static DOWNSTREAM: AtomicUsize = AtomicUsize::new(0);

#[delayed]
fn plus_one(x: &u32) -> u32 {
    DOWNSTREAM.fetch_add(1, Ordering::SeqCst);
    x + 1
}

#[test]
fn collecting_runs_everything_not_downstream_of_a_failure_and_returns_every_error() {
    let _s = serial();
    for config in [
        threads(1),
        threads(3),
        Config::default().scheduler(Scheduler::Sync),
    ] {
        DOWNSTREAM.store(0, Ordering::SeqCst);
        let checked: Vec<Delayed<u32>> = (0..30).map(check).collect();
        let bad_keys: Vec<String> = [3, 13, 23]
            .iter()
            .map(|&i| checked[i].key().to_string())
            .collect();
        let outs: Vec<Delayed<u32>> = checked.iter().map(plus_one).collect();
        let err =
            dask::compute_with(&outs, &config.clone().errors(ErrorPolicy::Collect)).unwrap_err();
        let Error::Failures(errors) = &err else {
            panic!("{err}")
        };
        let mut keys: Vec<String> = errors
            .iter()
            .map(|e| e.key().unwrap().to_string())
            .collect();
        keys.sort();
        let mut expected = bad_keys.clone();
        expected.sort();
        assert_eq!(keys, expected);
        assert_eq!(
            DOWNSTREAM.load(Ordering::SeqCst),
            27,
            "the 27 good chains finished"
        );
        assert!(err.to_string().starts_with("3 tasks failed"), "{err}");

        // Failing fast, the same graph reports one of them.
        let err = dask::compute_with(&outs, &config).unwrap_err();
        assert!(
            bad_keys.iter().any(|k| err.key() == Some(k.as_str())),
            "{err}"
        );
    }
}

#[test]
fn many_cancelled_and_timed_out_computations_leak_no_threads_or_values() {
    let _s = serial();
    let config = threads(2);
    dask::compute_with(&[sleepy(0, 0)], &config).unwrap();
    let before = thread_count();
    for round in 0..40u32 {
        let parts: Vec<Delayed<Tracked>> = (0..50).map(|i| sleepy(i, 1)).collect();
        let total = sum_tracked(parts);
        let result = if round.is_multiple_of(2) {
            let token = CancelToken::new();
            let t = token.clone();
            let h = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(3));
                t.cancel()
            });
            let r = total.compute_with(&config.clone().cancel_token(token));
            h.join().unwrap();
            r
        } else {
            total.compute_with(&config.clone().timeout(Duration::from_millis(3)))
        };
        assert!(result.is_err(), "round {round} should have been stopped");
        assert_eq!(LIVE.load(Ordering::SeqCst), 0, "round {round}");
    }
    assert_eq!(thread_count(), before);
    // And the pool still computes.
    let ok: Vec<Delayed<Tracked>> = (0..10).map(|i| sleepy(i, 0)).collect();
    assert_eq!(sum_tracked(ok).compute_with(&config).unwrap(), 45);
}
