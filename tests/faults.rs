//! Cancellation, timeouts, retries and error collection; nothing leaks or hangs.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread::JoinHandle;
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

/// The pool size of the cancellation and timeout tests: the bounds on how many tasks
/// may start after a stop are per worker.
const WORKERS: usize = 2;

static STARTED: AtomicUsize = AtomicUsize::new(0);
/// The `i` of every `sleepy` call that started, for tests that must know which ran.
static STARTED_IDS: Mutex<Vec<u64>> = Mutex::new(Vec::new());
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
    STARTED_IDS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(i);
    std::thread::sleep(Duration::from_millis(millis));
    Tracked::new(i)
}

#[delayed]
fn sum_tracked(parts: &Vec<Tracked>) -> u64 {
    parts.iter().map(|t| t.0).sum()
}

/// A flag one thread raises and another waits for. The wait is bounded, so a test whose
/// signal never comes fails instead of hanging.
struct Signal {
    raised: Mutex<bool>,
    changed: Condvar,
}

impl Signal {
    const fn new() -> Self {
        Signal {
            raised: Mutex::new(false),
            changed: Condvar::new(),
        }
    }

    fn raise(&self) {
        *self.raised.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.changed.notify_all();
    }

    fn lower(&self) {
        *self.raised.lock().unwrap_or_else(|e| e.into_inner()) = false;
    }

    /// Whether it was raised within `limit`.
    fn wait(&self, limit: Duration) -> bool {
        let raised = self.raised.lock().unwrap_or_else(|e| e.into_inner());
        let (raised, _) = self
            .changed
            .wait_timeout_while(raised, limit, |raised| !*raised)
            .unwrap_or_else(|e| e.into_inner());
        *raised
    }
}

/// `holds_until_cancelled` has started.
static HOLDER_STARTED: Signal = Signal::new();
/// The test has cancelled the computation.
static CANCEL_ISSUED: Signal = Signal::new();
/// `holds_until_cancelled` gave up waiting for the cancel.
static HOLD_EXPIRED: AtomicBool = AtomicBool::new(false);

/// Keeps its worker until the test has cancelled (10 s at most). A graph that reads it
/// cannot finish before the cancel, however late the cancelling thread runs, so the
/// computation must end in `Error::Cancelled`.
#[delayed]
fn holds_until_cancelled(i: u64) -> Tracked {
    STARTED.fetch_add(1, Ordering::SeqCst);
    HOLDER_STARTED.raise();
    if !CANCEL_ISSUED.wait(Duration::from_secs(10)) {
        HOLD_EXPIRED.store(true, Ordering::SeqCst);
    }
    Tracked::new(i)
}

/// Cancels `token` from another thread once `holds_until_cancelled` runs. The thread
/// returns `STARTED` read just after the cancel and the moment of the cancel.
fn cancel_when_held(token: CancelToken) -> JoinHandle<(usize, Instant)> {
    HOLDER_STARTED.lower();
    CANCEL_ISSUED.lower();
    HOLD_EXPIRED.store(false, Ordering::SeqCst);
    std::thread::spawn(move || {
        let held = HOLDER_STARTED.wait(Duration::from_secs(10));
        token.cancel();
        let started = STARTED.load(Ordering::SeqCst);
        let cancelled_at = Instant::now();
        CANCEL_ISSUED.raise();
        assert!(held, "holds_until_cancelled did not start within 10 s");
        (started, cancelled_at)
    })
}

mod support;

fn thread_count() -> Option<u64> {
    support::proc_status("Threads:")
}

/// Fails unless the process is back to `before` threads within 10 s. Not at once: a
/// joined thread is still counted until the kernel has released it, a moment after
/// `join` returned. A leaked thread never goes, so it still fails the test.
fn assert_threads_return_to(before: Option<u64>) {
    let limit = Instant::now() + Duration::from_secs(10);
    loop {
        let now = thread_count();
        if now == before {
            return;
        }
        assert!(
            Instant::now() < limit,
            "threads: {before:?} before, still {now:?} after 10 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Set in the processes that `run_test_alone` starts for the thread-leak tests.
const CHILD: &str = "DASK_FAULTS_CHILD";

fn assert_child(parent: &str) {
    assert!(
        std::env::var_os(CHILD).is_some(),
        "run through {parent}: it counts the process's threads, which other tests change"
    );
}

/// Counting the process's threads needs a process without libtest's other test threads,
/// which come and go as tests start and finish: the check runs in a child process.
#[test]
fn cancelling_from_another_thread_stops_promptly_and_leaks_nothing() {
    support::run_test_alone("cancelling_from_another_thread_child", &[(CHILD, "1")]);
}

#[test]
#[ignore = "run in its own process by cancelling_from_another_thread_stops_promptly_and_leaks_nothing"]
fn cancelling_from_another_thread_child() {
    assert_child("cancelling_from_another_thread_stops_promptly_and_leaks_nothing");
    let config = threads(WORKERS);
    dask::compute_with(&[sleepy(0, 0)], &config).unwrap(); // the pool exists
    let threads_before = thread_count();
    for round in 0..5 {
        STARTED.store(0, Ordering::SeqCst);
        let mut parts: Vec<Delayed<Tracked>> = vec![holds_until_cancelled(0)];
        parts.extend((1..200).map(|i| sleepy(i, 5)));
        let total = sum_tracked(parts);
        let token = CancelToken::new();
        let canceller = cancel_when_held(token.clone());
        let result = total.compute_with(&config.clone().cancel_token(token));
        let returned = Instant::now();
        let started_at_return = STARTED.load(Ordering::SeqCst);
        let (started_at_cancel, cancelled_at) = canceller.join().unwrap();
        assert!(
            matches!(result, Err(Error::Cancelled)),
            "round {round}: {result:?}"
        );
        assert!(!HOLD_EXPIRED.load(Ordering::SeqCst), "round {round}");
        // Promptly, counted rather than timed (a loaded machine stretches any time): a
        // worker checks the token before each task, so after the cancel each worker
        // starts at most the one task it had already let through.
        assert!(
            started_at_return - started_at_cancel <= WORKERS,
            "round {round}: {started_at_cancel} tasks had started at the cancel, \
             {started_at_return} at the return"
        );
        // Only against a hang: the holder and one 5 ms task are all it waits for.
        let lag = returned.saturating_duration_since(cancelled_at);
        assert!(
            lag < Duration::from_secs(5),
            "returned {lag:?} after cancel"
        );
        // Returning means every task has finished or been skipped: none starts later.
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(
            STARTED.load(Ordering::SeqCst),
            started_at_return,
            "no task starts after return"
        );
        assert_eq!(LIVE.load(Ordering::SeqCst), 0, "every result was dropped");
    }
    assert_threads_return_to(threads_before);
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
    STARTED_IDS.lock().unwrap().clear();
    // The tasks last five times the timeout: a worker that started one before the
    // deadline is still in it then, and cannot start another before the halt.
    let task = Duration::from_millis(1500);
    let timeout = Duration::from_millis(300);
    let task_ms = task.as_millis() as u64;
    // Task `i` is `parts[i]`, so the ids the tasks record give their keys.
    let parts: Vec<Delayed<Tracked>> = (0..12).map(|i| sleepy(i, task_ms)).collect();
    let total = sum_tracked(parts.clone());
    let start = Instant::now();
    let err = total
        .compute_with(&threads(WORKERS).timeout(timeout))
        .unwrap_err();
    let elapsed = start.elapsed();
    let Error::Timeout { after, running } = &err else {
        panic!("{err}")
    };
    assert_eq!(*after, timeout);
    let started: Vec<String> = STARTED_IDS
        .lock()
        .unwrap()
        .iter()
        .map(|&i| parts[i as usize].key().to_string())
        .collect();
    // At most one task per worker started (none after the deadline); the tasks named are
    // tasks that started. Not necessarily all of them: a worker may have let a task
    // through just before the halt and marked it running just after the names were read.
    assert!(
        !running.is_empty() && started.len() <= WORKERS,
        "running {running:?}, started {started:?}"
    );
    assert!(
        running.iter().all(|k| started.contains(k)),
        "running {running:?}, started {started:?}"
    );
    assert!(
        err.to_string().contains("timed out") && err.to_string().contains(&running[0]),
        "{err}"
    );
    // It waits for the running tasks (they borrow the graph): a task named running
    // started after `start` and lasts `task`. The upper bound only catches a hang.
    assert!(
        elapsed >= task && elapsed < Duration::from_secs(30),
        "{elapsed:?}"
    );
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

#[test]
fn a_deadline_passed_before_the_start_runs_nothing_on_either_scheduler() {
    let _s = serial();
    for config in [threads(2), Config::default().scheduler(Scheduler::Sync)] {
        STARTED.store(0, Ordering::SeqCst);
        let err = dask::compute_with(
            &[sleepy(1, 0), sleepy(2, 0)],
            &config.timeout(Duration::ZERO),
        )
        .unwrap_err();
        let Error::Timeout { running, .. } = err else {
            panic!("expected a timeout, got {err}")
        };
        assert!(running.is_empty(), "{running:?}");
        // The sequential scheduler ran its first task before it looked at the clock.
        assert_eq!(STARTED.load(Ordering::SeqCst), 0);
    }
}

#[test]
fn a_sequential_computation_whose_last_task_overruns_keeps_its_result() {
    let _s = serial();
    STARTED.store(0, Ordering::SeqCst);
    let only = sleepy(1, 60);
    let config = Config::default()
        .scheduler(Scheduler::Sync)
        .timeout(Duration::from_millis(10));
    // Nothing was left to stop: the pool keeps such a result too.
    assert!(dask::compute_with(&[only], &config).is_ok());
    assert_eq!(STARTED.load(Ordering::SeqCst), 1);
}

#[delayed]
fn inner_with_timeout(millis: u64, timeout_ms: u64) -> String {
    let inner = sleepy(0, millis);
    match inner.compute_with(&Config::default().timeout(Duration::from_millis(timeout_ms))) {
        Ok(_) => "finished".into(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_nested_computation_times_out_on_its_own() {
    let _s = serial();
    // Each with its own timeout: 200 ms of work against 20 ms times out; no work against
    // 10 s finishes, however slowly the single worker gets to it.
    let outer = [inner_with_timeout(200, 20), inner_with_timeout(0, 10_000)];
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
    support::run_test_alone("many_stopped_computations_child", &[(CHILD, "1")]);
}

#[test]
#[ignore = "run in its own process by many_cancelled_and_timed_out_computations_leak_no_threads_or_values"]
fn many_stopped_computations_child() {
    assert_child("many_cancelled_and_timed_out_computations_leak_no_threads_or_values");
    let config = threads(WORKERS);
    dask::compute_with(&[sleepy(0, 0)], &config).unwrap();
    let before = thread_count();
    for round in 0..20u32 {
        if round.is_multiple_of(2) {
            // Cancelled while the holder keeps the sum from running: always stopped.
            let mut parts: Vec<Delayed<Tracked>> = vec![holds_until_cancelled(0)];
            parts.extend((1..50).map(|i| sleepy(i, 1)));
            let token = CancelToken::new();
            let canceller = cancel_when_held(token.clone());
            let result = sum_tracked(parts).compute_with(&config.clone().cancel_token(token));
            canceller.join().unwrap();
            assert!(
                matches!(result, Err(Error::Cancelled)),
                "round {round}: {result:?}"
            );
            assert!(!HOLD_EXPIRED.load(Ordering::SeqCst), "round {round}");
        } else {
            // 300 ms of work against a 3 ms timeout: the deadline passes long before the
            // work could finish, even on a loaded machine.
            let mut parts: Vec<Delayed<Tracked>> = vec![sleepy(0, 300)];
            parts.extend((1..50).map(|i| sleepy(i, 1)));
            let result =
                sum_tracked(parts).compute_with(&config.clone().timeout(Duration::from_millis(3)));
            assert!(
                matches!(result, Err(Error::Timeout { .. })),
                "round {round}: {result:?}"
            );
        }
        assert_eq!(LIVE.load(Ordering::SeqCst), 0, "round {round}");
    }
    assert_threads_return_to(before);
    // And the pool still computes.
    let ok: Vec<Delayed<Tracked>> = (0..10).map(|i| sleepy(i, 0)).collect();
    assert_eq!(sum_tracked(ok).compute_with(&config).unwrap(), 45);
}
