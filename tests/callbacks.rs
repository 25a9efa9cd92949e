//! Callbacks, the profiler and the progress switch.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dask::{delayed, Callbacks, Config, Delayed, Profiler, Scheduler, TaskInfo};

#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<String>>,
}

impl Callbacks for Recorder {
    fn start(&self, tasks: usize) {
        self.events.lock().unwrap().push(format!("start {tasks}"));
    }
    fn task_started(&self, task: &TaskInfo<'_>) {
        self.events
            .lock()
            .unwrap()
            .push(format!("begin {} {}", task.name, task.attempt));
    }
    fn task_finished(&self, task: &TaskInfo<'_>, _duration: Duration, ok: bool) {
        self.events
            .lock()
            .unwrap()
            .push(format!("end {} {} {ok}", task.name, task.attempt));
    }
    fn finish(&self, ok: bool) {
        self.events.lock().unwrap().push(format!("finish {ok}"));
    }
}

#[delayed]
fn square(x: u64) -> u64 {
    x * x
}

#[delayed]
fn total(xs: Vec<u64>) -> u64 {
    xs.iter().sum()
}

static TRIES: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, thiserror::Error)]
#[error("not yet")]
struct NotYet;

#[delayed(retries = 2)]
fn third_time_lucky(x: u64) -> Result<u64, NotYet> {
    if TRIES.fetch_add(1, Ordering::SeqCst) < 2 {
        Err(NotYet)
    } else {
        Ok(x)
    }
}

#[test]
fn callbacks_see_every_task_in_order_on_the_sequential_scheduler() {
    let recorder = Arc::new(Recorder::default());
    let parts: Vec<Delayed<u64>> = (0..3).map(square).collect();
    let config = Config::default()
        .scheduler(Scheduler::Sync)
        .callback(recorder.clone());
    assert_eq!(total(parts).compute_with(&config).unwrap(), 5);
    let events = recorder.events.lock().unwrap().clone();
    assert_eq!(
        events,
        [
            "start 4",
            "begin square 1",
            "end square 1 true",
            "begin square 1",
            "end square 1 true",
            "begin square 1",
            "end square 1 true",
            "begin total 1",
            "end total 1 true",
            "finish true",
        ]
    );
}

#[test]
fn every_attempt_of_a_retried_task_is_reported() {
    TRIES.store(0, Ordering::SeqCst);
    let recorder = Arc::new(Recorder::default());
    let config = Config::default()
        .scheduler(Scheduler::Threads(2))
        .callback(recorder.clone());
    assert_eq!(third_time_lucky(7).compute_with(&config).unwrap(), 7);
    let events = recorder.events.lock().unwrap().clone();
    let ends: Vec<&String> = events.iter().filter(|e| e.starts_with("end")).collect();
    assert_eq!(
        ends,
        [
            "end third_time_lucky 1 false",
            "end third_time_lucky 2 false",
            "end third_time_lucky 3 true"
        ]
    );
    assert_eq!(events.last().unwrap(), "finish true");
}

#[test]
fn a_failed_computation_finishes_with_false() {
    let recorder = Arc::new(Recorder::default());
    let bad = dask::delayed(1u64).map(|_| -> u64 { panic!("bad") });
    let config = Config::default()
        .scheduler(Scheduler::Threads(2))
        .callback(recorder.clone());
    assert!(bad.compute_with(&config).is_err());
    assert_eq!(
        recorder.events.lock().unwrap().last().unwrap(),
        "finish false"
    );
}

#[test]
fn the_profiler_records_key_name_worker_and_times_of_every_task() {
    for (config, on_workers) in [
        (Config::default().scheduler(Scheduler::Threads(2)), true),
        (Config::default().scheduler(Scheduler::Sync), false),
    ] {
        let profiler = Profiler::new();
        let parts: Vec<Delayed<u64>> = (0..20).map(square).collect();
        let keys: Vec<String> = parts.iter().map(|p| p.key().to_string()).collect();
        dask::compute_with(&parts, &config.profiler(&profiler)).unwrap();
        let records = profiler.records();
        assert_eq!(records.len(), 20);
        let mut seen: Vec<String> = records.iter().map(|r| r.key.clone()).collect();
        seen.sort();
        let mut keys = keys.clone();
        keys.sort();
        assert_eq!(seen, keys);
        for r in &records {
            assert_eq!(r.name, "square");
            assert!(r.start <= r.end && r.ok && r.attempt == 1);
            assert_eq!(r.worker.is_some(), on_workers, "{r:?}");
            assert!(r.worker.is_none_or(|w| w < 2));
        }
    }
}

#[test]
fn the_progress_switch_computes_the_same_results() {
    // Under `cargo test` stderr is not a terminal: the bar stays silent.
    let parts: Vec<Delayed<u64>> = (0..50).map(square).collect();
    let config = Config::default().progress(true);
    assert_eq!(
        total(parts).compute_with(&config).unwrap(),
        (0..50u64).map(|x| x * x).sum::<u64>()
    );
}

/// Panics in one hook, to show that the observers around it still close what they
/// opened.
struct PanicIn(&'static str);

impl Callbacks for PanicIn {
    fn start(&self, _: usize) {
        assert_ne!(self.0, "start", "start hook panics");
    }
    fn task_started(&self, _: &TaskInfo<'_>) {
        assert_ne!(self.0, "task_started", "task_started hook panics");
    }
    fn task_finished(&self, _: &TaskInfo<'_>, _: Duration, _: bool) {
        assert_ne!(self.0, "task_finished", "task_finished hook panics");
    }
    fn finish(&self, _: bool) {
        assert_ne!(self.0, "finish", "finish hook panics");
    }
}

#[test]
fn a_panicking_hook_leaves_no_other_observer_with_a_run_or_task_open() {
    // (hook, events of the observer added before the panicking one, of the one after)
    let cases: [(&str, &[&str], &[&str]); 4] = [
        // Start: the earlier observer is finished at once, the later never started.
        ("start", &["start 1", "finish false"], &[]),
        // An attempt's start: the earlier observer hears that it ended, failed.
        (
            "task_started",
            &[
                "start 1",
                "begin square 1",
                "end square 1 false",
                "finish false",
            ],
            &["start 1", "finish false"],
        ),
        // An attempt's end: observers hear it in reverse, the earlier one after the
        // panic.
        (
            "task_finished",
            &[
                "start 1",
                "begin square 1",
                "end square 1 true",
                "finish false",
            ],
            &[
                "start 1",
                "begin square 1",
                "end square 1 true",
                "finish false",
            ],
        ),
        // The end: every observer hears it, the later one after the panic.
        (
            "finish",
            &[
                "start 1",
                "begin square 1",
                "end square 1 true",
                "finish true",
            ],
            &[
                "start 1",
                "begin square 1",
                "end square 1 true",
                "finish true",
            ],
        ),
    ];
    for scheduler in [Scheduler::Sync, Scheduler::Threads(2)] {
        for (hook, before_events, after_events) in cases {
            let before = Arc::new(Recorder::default());
            let after = Arc::new(Recorder::default());
            let config = Config::default()
                .scheduler(scheduler)
                .callback(before.clone())
                .callback(Arc::new(PanicIn(hook)))
                .callback(after.clone());
            let got = square(3).compute_with(&config);
            match got {
                Err(dask::Error::CallbackPanic {
                    hook: h, message, ..
                }) => {
                    assert_eq!(h, hook, "{scheduler:?}");
                    assert_eq!(message, format!("assertion `left != right` failed: {hook} hook panics\n  left: \"{hook}\"\n right: \"{hook}\""));
                }
                other => panic!("{scheduler:?} {hook}: expected CallbackPanic, got {other:?}"),
            }
            assert_eq!(
                *before.events.lock().unwrap(),
                before_events,
                "{scheduler:?} {hook}: before"
            );
            assert_eq!(
                *after.events.lock().unwrap(),
                after_events,
                "{scheduler:?} {hook}: after"
            );
        }
    }
}
