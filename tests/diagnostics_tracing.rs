//! Feature `tracing`: each task attempt runs inside a span named after its function,
//! with its key (and attempt) as fields. `cargo test --features tracing --test
//! diagnostics_tracing`.
#![cfg(feature = "tracing")]

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use dask::{delayed, Config, Delayed, Scheduler};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

#[derive(Debug, Clone, Default, PartialEq)]
struct SpanSeen {
    name: String,
    key: String,
    attempt: u64,
}

#[derive(Default)]
struct Recorder {
    next: AtomicU64,
    spans: Mutex<HashMap<u64, SpanSeen>>,
    /// For each `inside` event: the span it was emitted in.
    events: Mutex<Vec<(String, Option<SpanSeen>)>>,
}

thread_local! {
    static STACK: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

struct Fields<'a>(&'a mut SpanSeen, &'a mut String);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "key" {
            self.0.key = value.to_owned();
        }
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "attempt" {
            self.0.attempt = value;
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => *self.1 = format!("{value:?}"),
            "key" => self.0.key = format!("{value:?}").trim_matches('"').to_owned(),
            _ => {}
        }
    }
}

struct Shared(Arc<Recorder>);

impl Subscriber for Shared {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.0.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut seen = SpanSeen {
            name: attrs.metadata().name().to_owned(),
            ..SpanSeen::default()
        };
        let mut message = String::new();
        attrs.record(&mut Fields(&mut seen, &mut message));
        self.0.spans.lock().unwrap().insert(id, seen);
        Id::from_u64(id)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut message = String::new();
        event.record(&mut Fields(&mut SpanSeen::default(), &mut message));
        let current = STACK.with(|s| s.borrow().last().copied());
        let span = current.and_then(|id| self.0.spans.lock().unwrap().get(&id).cloned());
        self.0.events.lock().unwrap().push((message, span));
    }
    fn enter(&self, id: &Id) {
        STACK.with(|s| s.borrow_mut().push(id.into_u64()));
    }
    fn exit(&self, _: &Id) {
        STACK.with(|s| s.borrow_mut().pop());
    }
}

#[delayed]
fn square(x: u64) -> u64 {
    tracing::info!("inside square {x}");
    x * x
}

#[delayed]
fn total(xs: Vec<u64>) -> u64 {
    tracing::info!("inside total");
    xs.iter().sum()
}

#[test]
fn each_task_runs_in_a_span_named_after_its_function_with_its_key() {
    let recorder = Arc::new(Recorder::default());
    // Global: the tasks run on the pool's threads, not on this one.
    tracing::subscriber::set_global_default(Shared(recorder.clone())).unwrap();

    for scheduler in [Scheduler::Threads(2), Scheduler::Sync] {
        recorder.events.lock().unwrap().clear();
        let parts: Vec<Delayed<u64>> = (0..4).map(square).collect();
        let keys: Vec<String> = parts.iter().map(|p| p.key().to_owned()).collect();
        let out = total(parts);
        let out_key = out.key().to_owned();
        let config = Config::default().scheduler(scheduler);
        assert_eq!(out.compute_with(&config).unwrap(), 14);

        let events = recorder.events.lock().unwrap().clone();
        assert_eq!(events.len(), 5, "{events:?}");
        for (message, span) in &events {
            let span = span
                .as_ref()
                .unwrap_or_else(|| panic!("{message} outside a span"));
            assert_eq!(span.attempt, 1);
            if message.starts_with("inside square") {
                assert_eq!(span.name, "square");
                assert!(keys.contains(&span.key), "{span:?}");
                let x: u64 = message.rsplit(' ').next().unwrap().parse().unwrap();
                assert_eq!(
                    span.key, keys[x as usize],
                    "square({x}) ran in another task's span"
                );
            } else {
                assert_eq!(message, "inside total");
                assert_eq!(span.name, "total");
                assert_eq!(span.key, out_key);
            }
        }
    }
}

#[delayed(pure)]
fn cached_cube(x: u64) -> u64 {
    x * x * x
}

#[test]
fn a_bad_cache_entry_is_a_tracing_warning() {
    let dir = std::env::temp_dir().join(format!("dask-tracing-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let memory = dask::Memory::new(&dir).unwrap();
    assert_eq!(
        memory.cache(&cached_cube(3)).unwrap().compute().unwrap(),
        27
    );
    let folder = dir.join("diagnostics_tracing__cached_cube");
    let entry = std::fs::read_dir(&folder)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(&entry, b"garbage").unwrap();

    // This thread's own subscriber: with `Sync` the load node runs (and warns) here.
    let recorder = Arc::new(Recorder::default());
    let node = memory.cache(&cached_cube(3)).unwrap();
    let config = Config::default().scheduler(Scheduler::Sync);
    let value = tracing::subscriber::with_default(Shared(recorder.clone()), || {
        node.compute_with(&config).unwrap()
    });
    assert_eq!(value, 27);
    let events = recorder.events.lock().unwrap().clone();
    let warnings: Vec<&String> = events
        .iter()
        .map(|(message, _)| message)
        .filter(|m| m.starts_with("cache entry ") && m.ends_with("; recomputing it"))
        .collect();
    assert_eq!(warnings.len(), 1, "{events:?}");
    assert!(warnings[0].contains("`cached_cube`"), "{warnings:?}");
    assert_eq!(memory.stats().corrupt, 1);
    let _ = std::fs::remove_dir_all(&dir);
}
