//! Fault injection: user code that panics wherever the library runs it (a task body, a
//! hook, a result's `Drop` or `Clone`, a panic payload's `Drop`, a map's input iterator
//! or items), on `Sync` and on pools of 1 to 4 threads. Every case must end in an `Err`
//! that says what happened, within a bounded time, and leave the pool able to compute.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dask::{delayed, Callbacks, Config, Delayed, Error, Parallel, Scheduler, TaskInfo};

/// Every scheduler a case runs on.
fn schedulers() -> Vec<Scheduler> {
    vec![
        Scheduler::Sync,
        Scheduler::Threads(1),
        Scheduler::Threads(2),
        Scheduler::Threads(3),
        Scheduler::Threads(4),
    ]
}

#[path = "support/within.rs"]
mod within;
use within::within;

#[delayed]
fn double(x: u64) -> u64 {
    2 * x
}

#[delayed]
fn add(a: u64, b: u64) -> u64 {
    a + b
}

/// A small graph with a diamond; its value is 2a + 2b.
fn diamond(a: u64, b: u64) -> Delayed<u64> {
    add(double(a), double(b))
}

/// After a failure: the same scheduler still computes.
fn assert_pool_works(scheduler: Scheduler) {
    let config = Config::default().scheduler(scheduler);
    let values = within("the computation after a failure", move || {
        dask::compute_with(&[diamond(3, 4), diamond(5, 6)], &config)
    })
    .unwrap();
    assert_eq!(values, vec![14, 22], "{scheduler:?}");
}

/// Panics in one named hook.
struct PanicIn(&'static str);

impl PanicIn {
    fn maybe(&self, hook: &str) {
        if self.0 == hook {
            panic!("hook {hook} broke");
        }
    }
}

impl Callbacks for PanicIn {
    fn threads(&self, _: usize) {
        self.maybe("threads")
    }
    fn start(&self, _: usize) {
        self.maybe("start")
    }
    fn task_started(&self, _: &TaskInfo<'_>) {
        self.maybe("task_started")
    }
    fn task_finished(&self, _: &TaskInfo<'_>, _: Duration, _: bool) {
        self.maybe("task_finished")
    }
    fn finish(&self, _: bool) {
        self.maybe("finish")
    }
}

#[test]
fn a_panicking_hook_fails_the_computation_and_the_pool_stays_usable() {
    for scheduler in schedulers() {
        for hook in [
            "threads",
            "start",
            "task_started",
            "task_finished",
            "finish",
        ] {
            let config = Config::default()
                .scheduler(scheduler)
                .callback(PanicIn(hook));
            let outputs: Vec<Delayed<u64>> = (0..20).map(|i| diamond(i, i + 1)).collect();
            let result = within(hook, move || dask::compute_with(&outputs, &config));
            match result {
                Err(Error::CallbackPanic {
                    hook: reported,
                    key,
                    message,
                }) => {
                    assert_eq!(reported, hook, "{scheduler:?}");
                    assert_eq!(message, format!("hook {hook} broke"));
                    // Per-task hooks name the task they were called for.
                    let per_task = hook.starts_with("task_");
                    assert_eq!(key.is_some(), per_task, "{scheduler:?} {hook}: {key:?}");
                }
                other => panic!("{scheduler:?} {hook}: expected CallbackPanic, got {other:?}"),
            }
            assert_pool_works(scheduler);
        }
    }
}

/// A panic payload whose own `Drop` panics: dropping it used to unwind through the worker.
struct LoudPayload;

impl Drop for LoudPayload {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("the payload's drop panicked too");
        }
    }
}

#[delayed]
fn throws_loud_payload(x: u64) -> u64 {
    if x == 3 {
        std::panic::panic_any(LoudPayload);
    }
    x
}

#[test]
fn a_panic_payload_whose_drop_panics_fails_only_its_computation() {
    for scheduler in schedulers() {
        let config = Config::default().scheduler(scheduler);
        let outputs: Vec<Delayed<u64>> = (0..8).map(throws_loud_payload).collect();
        let result = within("loud payload", move || {
            dask::compute_with(&outputs, &config)
        });
        match result {
            Err(Error::Panic { name, message, .. }) => {
                assert_eq!(name, "throws_loud_payload");
                assert_eq!(message, "<non-string panic payload>");
            }
            other => panic!("{scheduler:?}: expected a Panic error, got {other:?}"),
        }
        assert_pool_works(scheduler);
    }
}

/// A value whose `Drop` panics, and how many were dropped.
#[derive(Clone)]
struct Bomb(u64);

static BOMBS_DROPPED: AtomicUsize = AtomicUsize::new(0);

impl Drop for Bomb {
    fn drop(&mut self) {
        BOMBS_DROPPED.fetch_add(1, Ordering::SeqCst);
        if !std::thread::panicking() {
            panic!("bomb {} went off", self.0);
        }
    }
}

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("refused on purpose")
    }
}

impl std::error::Error for Refused {}

#[delayed]
fn make_bomb(x: u64) -> Bomb {
    Bomb(x)
}

#[delayed]
fn refuse(x: u64) -> Result<u64, Refused> {
    // Give the bombs time to be made and held first.
    std::thread::sleep(Duration::from_millis(5));
    let _ = x;
    Err(Refused)
}

#[delayed]
fn defuse(b: &Bomb, r: &u64) -> u64 {
    b.0 + r
}

/// While the computation fails for one reason, results with panicking `Drop`s are
/// released (inputs of skipped tasks, outputs never extracted): the real error must come
/// back, not a panic out of `compute`.
#[test]
fn a_panicking_drop_while_failing_keeps_the_real_error() {
    for scheduler in schedulers() {
        let config = Config::default().scheduler(scheduler);
        let held_as_input = defuse(make_bomb(1), refuse(0));
        let result = within("bomb as input", {
            let config = config.clone();
            move || held_as_input.compute_with(&config)
        });
        match result {
            Err(Error::Task { name, source, .. }) => {
                assert_eq!(name, "refuse");
                assert_eq!(source.to_string(), "refused on purpose");
            }
            other => panic!("{scheduler:?}: expected refuse's error, got {other:?}"),
        }
        // Outputs that are never extracted because another output failed.
        let bomb = make_bomb(2);
        let refused = refuse(1);
        let result = within("bomb as output", move || {
            dask::compute_with((&bomb, &bomb, &refused), &config).map(|_| ())
        });
        match result {
            Err(Error::Task { name, .. }) => assert_eq!(name, "refuse"),
            other => panic!("{scheduler:?}: expected refuse's error, got {other:?}"),
        }
        assert_pool_works(scheduler);
    }
    assert!(
        BOMBS_DROPPED.load(Ordering::SeqCst) >= 10,
        "the bombs were dropped"
    );
}

/// A value whose `Clone` panics.
struct BadClone(u64);

impl Clone for BadClone {
    fn clone(&self) -> Self {
        panic!("cannot clone {}", self.0)
    }
}

#[delayed]
fn make_bad_clone(x: u64) -> BadClone {
    BadClone(x)
}

#[test]
fn a_panicking_clone_of_a_duplicated_output_is_an_error() {
    for scheduler in schedulers() {
        let config = Config::default().scheduler(scheduler);
        let x = make_bad_clone(7);
        let result = within("bad clone", move || {
            dask::compute_with(&[x.clone(), x], &config).map(|v| v.len())
        });
        match result {
            Err(Error::Panic { name, message, .. }) => {
                assert_eq!(name, "make_bad_clone");
                assert_eq!(
                    message,
                    "cloning its value for output 0 panicked: cannot clone 7"
                );
            }
            other => panic!("{scheduler:?}: expected a Panic error, got {other:?}"),
        }
        assert_pool_works(scheduler);
    }
}

/// An iterator that panics when asked for item `at`.
struct PanicsAt {
    next: u64,
    at: u64,
}

impl Iterator for PanicsAt {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        if self.next == self.at {
            panic!("input broke at {}", self.at);
        }
        self.next += 1;
        Some(self.next - 1)
    }
}

#[test]
fn a_panicking_input_iterator_fails_map_with_its_position() {
    for workers in [1, 2, 4] {
        let err = within("map input", move || {
            Parallel::new(workers).map(PanicsAt { next: 0, at: 5 }, |x| x * 10)
        })
        .unwrap_err();
        assert_eq!(err.item_index(), Some(5), "{workers} workers: {err}");
        assert_eq!(
            err.to_string(),
            "item 5 panicked: the input iterator panicked: input broke at 5"
        );
    }
}

/// Every result the consumer gets is the call on the item of its own index, and the
/// panic comes at its position: a half-updated input used to shift later results onto
/// earlier indices and swallow the error.
#[test]
fn a_panicking_input_iterator_never_shifts_imap_results() {
    for round in 0..20 {
        for (workers, at) in [(2, 5), (2, 19), (3, 0), (4, 64), (2, 200)] {
            let got: Vec<Result<u64, Error>> = within("imap input", move || {
                Parallel::new(workers)
                    .batch_size(3)
                    .window(16)
                    .imap(PanicsAt { next: 0, at }, |x| {
                        std::thread::sleep(Duration::from_micros(x % 7 * 50));
                        x * 10
                    })
                    .collect()
            });
            assert_eq!(got.len() as u64, at + 1, "round {round}, {workers} workers");
            for (i, r) in got[..at as usize].iter().enumerate() {
                assert_eq!(r.as_ref().unwrap(), &(i as u64 * 10), "round {round}");
            }
            let err = got.last().unwrap().as_ref().unwrap_err();
            assert_eq!(err.item_index(), Some(at as usize), "{err}");
            assert!(err.to_string().contains("input broke at"), "{err}");
        }
    }
}

/// An item whose `Drop` panics.
struct LoudItem(u64);

impl Drop for LoudItem {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            panic!("item {} went off", self.0);
        }
    }
}

/// When a call fails, the items that never ran are dropped; their `Drop`s panicking
/// (several of them: one slice drop with two panics would abort) must not replace the
/// map's error.
#[test]
fn items_whose_drop_panics_are_dropped_without_losing_the_error() {
    for workers in [1, 2, 4] {
        let items: Vec<LoudItem> = (0..200).map(LoudItem).collect();
        let err = within("loud items", move || {
            Parallel::new(workers)
                .batch_size(50)
                .try_map(items, |item| {
                    let value = item.0;
                    std::mem::forget(item);
                    if value == 3 {
                        Err(Refused)
                    } else {
                        Ok(value)
                    }
                })
        })
        .unwrap_err();
        assert_eq!(err.item_index(), Some(3), "{workers} workers: {err}");
        assert_eq!(err.to_string(), "item 3 failed: refused on purpose");
    }
}

/// A value whose `Serialize` panics while `serialize_panics` is set and whose
/// `Deserialize` panics while `deserialize_panics` is.
#[derive(Clone, Debug, PartialEq)]
struct Touchy(u64);

static SERIALIZE_PANICS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static DESERIALIZE_PANICS: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

impl serde::Serialize for Touchy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        assert!(
            !SERIALIZE_PANICS.load(Ordering::SeqCst),
            "cannot write a Touchy"
        );
        s.serialize_u64(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Touchy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        assert!(
            !DESERIALIZE_PANICS.load(Ordering::SeqCst),
            "cannot read a Touchy"
        );
        u64::deserialize(d).map(Touchy)
    }
}

#[delayed(pure)]
fn touchy(x: u64) -> Touchy {
    Touchy(x)
}

/// `Memory` runs `Serialize` when it stores and `Deserialize` when it loads: a panic in
/// either is a failed write (the value is used) or an unreadable entry (recomputed).
#[test]
fn panicking_serde_in_the_disk_cache_loses_no_value() {
    let dir = std::env::temp_dir().join(format!("dask-fault-serde-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let memory = dask::Memory::new(&dir).unwrap();

    SERIALIZE_PANICS.store(true, Ordering::SeqCst);
    let value = memory.cache(&touchy(5)).unwrap().compute().unwrap();
    SERIALIZE_PANICS.store(false, Ordering::SeqCst);
    assert_eq!(value, Touchy(5));
    assert_eq!(memory.stats().write_failures, 1);
    assert!(!memory.contains(&touchy(5)).unwrap());

    memory.cache(&touchy(6)).unwrap().compute().unwrap();
    assert!(memory.contains(&touchy(6)).unwrap());
    DESERIALIZE_PANICS.store(true, Ordering::SeqCst);
    let hit = memory.cache(&touchy(6)).unwrap().compute();
    DESERIALIZE_PANICS.store(false, Ordering::SeqCst);
    assert_eq!(hit.unwrap(), Touchy(6), "recomputed");
    assert_eq!(memory.stats().corrupt, 1);
    let _ = std::fs::remove_dir_all(&dir);
    assert_pool_works(Scheduler::Threads(2));
}

/// A value whose `Hash` panics.
#[derive(Clone)]
struct BadHash;

impl std::hash::Hash for BadHash {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {
        panic!("cannot hash")
    }
}

#[delayed(pure)]
fn hashed(_x: BadHash) -> u64 {
    1
}

/// `Hash` runs when a pure call is built, on the caller's thread, as part of the
/// caller's own call: its panic is the caller's, like any function's, and touches no
/// pool.
#[test]
fn a_panicking_hash_panics_in_the_builder_call_only() {
    let caught = std::panic::catch_unwind(|| hashed(BadHash));
    let payload = caught.expect_err("the builder call panicked");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"cannot hash"));
    for scheduler in schedulers() {
        assert_pool_works(scheduler);
    }
}
