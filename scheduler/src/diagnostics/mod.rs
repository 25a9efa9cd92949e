//! Hooks into a running computation: callbacks, a profiler and a progress bar.
//!
//! - [`Callbacks`]: a trait called when a computation starts, as each task attempt
//!   starts and finishes, and when the computation ends.
//! - [`Profiler`] (`profiler.rs`): records every task attempt into per-worker buffers;
//!   exports Chrome Trace Event JSON, a per-function summary, an SVG timeline and a
//!   self-contained HTML report (`export.rs`), one row per thread that ran tasks
//!   (`threads.rs`).
//! - The progress bar (`progress.rs`): `indicatif` on stderr when it is a terminal.
//! - Feature `tracing` (`spans.rs`): each task attempt runs in a span named after its
//!   function, with its key as a field.
//!
//! Each of them is an [`Observer`](crate::observer::Observer) of the executor; with none
//! registered, a task pays one check of an empty list.

mod clock;
mod export;
mod profiler;
mod progress;
#[cfg(feature = "tracing")]
mod spans;
mod threads;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::node::NodeHeader;
use crate::observer::Observer;

pub use export::FunctionSummary;
pub use profiler::{Profiler, TaskRecord};
pub(crate) use progress::{stderr_bar, ProgressBar};
#[cfg(feature = "tracing")]
pub(crate) use spans::Spans;

/// One attempt of one task, as callbacks see it.
#[derive(Clone, Copy)]
#[non_exhaustive]
pub struct TaskInfo<'a> {
    /// Display name of the task's function.
    pub name: &'static str,
    /// Index of the pool worker running it; `None` on the calling thread (`Sync`).
    pub worker: Option<usize>,
    /// 1 for the first run, 2 for the first retry, ...
    pub attempt: u32,
    pub(crate) header: &'a NodeHeader,
    /// At the end of a successful attempt: its result's size in bytes, for observers
    /// that asked (see `observer::Interest::sizes`) and where the task can tell.
    pub(crate) size: Option<u64>,
}

impl<'a> TaskInfo<'a> {
    /// The task's key (formatted on first use: keys are not built unless asked for).
    pub fn key(&self) -> &'a str {
        self.header.key()
    }
}

impl std::fmt::Debug for TaskInfo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskInfo")
            .field("key", &self.key())
            .field("name", &self.name)
            .field("worker", &self.worker)
            .field("attempt", &self.attempt)
            .finish()
    }
}

/// Called as a computation runs ([`Config::callback`](crate::Config::callback)). Every
/// method has an empty default. Methods are called from worker threads, concurrently.
pub trait Callbacks: Send + Sync + 'static {
    /// Before any task runs, with the number of threads that will run tasks (1 for
    /// [`Scheduler::Sync`](crate::Scheduler::Sync)). Called just before [`start`](Self::start).
    fn threads(&self, _threads: usize) {}
    /// Before any task runs, with the number of tasks the plan holds.
    fn start(&self, _tasks: usize) {}
    /// A task (attempt) begins.
    fn task_started(&self, _task: &TaskInfo<'_>) {}
    /// A task (attempt) ended, after `duration`; `ok` is false for an error or a panic.
    fn task_finished(&self, _task: &TaskInfo<'_>, _duration: Duration, _ok: bool) {}
    /// After every task has finished or been skipped; `ok` when the computation succeeded.
    fn finish(&self, _ok: bool) {}
}

/// Shared callbacks: register an `Arc` and keep a clone to read what they collected.
impl<C: Callbacks> Callbacks for Arc<C> {
    fn threads(&self, threads: usize) {
        (**self).threads(threads)
    }
    fn start(&self, tasks: usize) {
        (**self).start(tasks)
    }
    fn task_started(&self, task: &TaskInfo<'_>) {
        (**self).task_started(task)
    }
    fn task_finished(&self, task: &TaskInfo<'_>, duration: Duration, ok: bool) {
        (**self).task_finished(task, duration, ok)
    }
    fn finish(&self, ok: bool) {
        (**self).finish(ok)
    }
}

thread_local! {
    static WORKER_INDEX: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// Marks the calling thread as pool worker `index` for the callbacks' `TaskInfo`.
#[cfg(not(loom))]
pub(crate) fn set_worker_index(index: usize) {
    WORKER_INDEX.with(|w| w.set(Some(index)));
}

pub(crate) fn worker_index() -> Option<usize> {
    WORKER_INDEX.with(|w| w.get())
}

/// User [`Callbacks`] as an [`Observer`]: attempts are timed here, after the callback's
/// own `task_started` ran, so that the callbacks' cost is not the task's.
pub(crate) struct UserCallbacks<C>(pub(crate) C);

/// Where [`UserCallbacks`] measure attempt durations from.
fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

impl<C: Callbacks> Observer for UserCallbacks<C> {
    fn threads(&self, threads: usize) {
        self.0.threads(threads);
    }
    fn start(&self, tasks: usize) {
        self.0.start(tasks);
    }
    fn task_started(&self, task: &TaskInfo<'_>) -> u64 {
        self.0.task_started(task);
        let epoch = epoch();
        u64::try_from(Instant::now().saturating_duration_since(epoch).as_nanos())
            .unwrap_or(u64::MAX)
    }
    fn task_finished(&self, task: &TaskInfo<'_>, started: u64, ok: bool) {
        let now = Instant::now().saturating_duration_since(epoch());
        let duration = now.saturating_sub(Duration::from_nanos(started));
        self.0.task_finished(task, duration, ok);
    }
    fn finish(&self, ok: bool) {
        self.0.finish(ok);
    }
}

impl<'a> TaskInfo<'a> {
    pub(crate) fn new(header: &'a NodeHeader, attempt: u32) -> Self {
        TaskInfo {
            name: header.name,
            worker: worker_index(),
            attempt,
            header,
            size: None,
        }
    }
}
