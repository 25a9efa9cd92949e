//! Feature `tracing`: every task attempt runs inside a `tracing` span named after its
//! function (target `dask::task`, level INFO) with its `key` and `attempt` as fields.
//!
//! `tracing`'s macros need the span name at compile time, but a task's function is only
//! known at run time (as a `&'static str`, so it can still be metadata). Each function
//! gets one callsite, made and registered on first use and kept for the process's
//! life: a handful of small leaked allocations, one per function name.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

use parking_lot::RwLock;
use tracing::callsite::{Callsite, Identifier};
use tracing::field::{FieldSet, Value};
use tracing::metadata::{Kind, LevelFilter};
use tracing::span::{Attributes, Id};
use tracing::subscriber::Interest;
use tracing::{Level, Metadata};

use super::TaskInfo;
use crate::node::NodeHeader;
use crate::observer::Observer;

const FIELDS: &[&str] = &["key", "attempt"];
const TARGET: &str = "dask::task";

const NEVER: u8 = 0;
const SOMETIMES: u8 = 1;
const ALWAYS: u8 = 2;

struct TaskCallsite {
    meta: OnceLock<Metadata<'static>>,
    interest: AtomicU8,
}

impl Callsite for TaskCallsite {
    fn set_interest(&self, interest: Interest) {
        let value = if interest.is_never() {
            NEVER
        } else if interest.is_always() {
            ALWAYS
        } else {
            SOMETIMES
        };
        self.interest.store(value, Ordering::Relaxed);
    }

    fn metadata(&self) -> &Metadata<'_> {
        self.meta
            .get()
            .expect("metadata is set before registration")
    }
}

fn callsite(name: &'static str) -> &'static TaskCallsite {
    static SITES: OnceLock<RwLock<HashMap<&'static str, &'static TaskCallsite>>> = OnceLock::new();
    let sites = SITES.get_or_init(Default::default);
    if let Some(site) = sites.read().get(name) {
        return site;
    }
    let mut sites = sites.write();
    if let Some(site) = sites.get(name) {
        return site;
    }
    let site: &'static TaskCallsite = Box::leak(Box::new(TaskCallsite {
        meta: OnceLock::new(),
        interest: AtomicU8::new(SOMETIMES),
    }));
    let meta = Metadata::new(
        name,
        TARGET,
        Level::INFO,
        None,
        None,
        None,
        FieldSet::new(FIELDS, Identifier(site)),
        Kind::SPAN,
    );
    if site.meta.set(meta).is_err() {
        unreachable!("a new callsite has no metadata yet");
    }
    tracing::callsite::register(site);
    sites.insert(name, site);
    site
}

/// Opens a span per attempt: entered in `task_started`, so that the task body (and
/// anything it logs) runs inside it, exited and closed in `task_finished` on the same
/// thread. Registered only when a `tracing` subscriber is set.
pub(crate) struct Spans;

impl Spans {
    /// Whether a subscriber could want task spans at all.
    pub(crate) fn wanted() -> bool {
        tracing::dispatcher::has_been_set() && LevelFilter::current() >= Level::INFO
    }
}

impl Observer for Spans {
    fn task_started(&self, task: &TaskInfo<'_>) -> u64 {
        // The span is made and entered through the dispatcher itself (no `Span`
        // guard): it stays open until `task_finished` exits and closes it by id.
        tracing::dispatcher::get_default(|d| match open_span(d, task.header, task.attempt) {
            Some(id) => {
                d.enter(&id);
                id.into_u64()
            }
            None => 0,
        })
    }

    fn task_finished(&self, _task: &TaskInfo<'_>, started: u64, _ok: bool) {
        if started != 0 {
            let id = Id::from_u64(started);
            tracing::dispatcher::get_default(|d| {
                d.exit(&id);
                d.try_close(id.clone());
            });
        }
    }
}

/// A new span for task `header`'s attempt, or `None` when the subscriber does not want
/// it.
fn open_span(d: &tracing::Dispatch, header: &NodeHeader, attempt: u32) -> Option<Id> {
    if !Spans::wanted() {
        return None;
    }
    let site = callsite(header.name);
    let meta = site.metadata();
    let wanted = match site.interest.load(Ordering::Relaxed) {
        NEVER => false,
        ALWAYS => true,
        _ => d.enabled(meta),
    };
    if !wanted {
        return None;
    }
    let fields = meta.fields();
    let (Some(key_field), Some(attempt_field)) = (fields.field("key"), fields.field("attempt"))
    else {
        return None;
    };
    let key = header.key();
    let values = [
        (&key_field, Some(&key as &dyn Value)),
        (&attempt_field, Some(&attempt as &dyn Value)),
    ];
    Some(d.new_span(&Attributes::new(meta, &fields.value_set(&values))))
}
