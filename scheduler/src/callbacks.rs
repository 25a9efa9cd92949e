//! Hooks into a running computation: callbacks, a profiler and a progress bar.
//!
//! With no callback registered, a task pays one check of an empty list.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// One attempt of one task, as callbacks see it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct TaskInfo<'a> {
    pub key: &'a str,
    /// Display name of the task's function.
    pub name: &'a str,
    /// Index of the pool worker running it; `None` on the calling thread (`Sync`).
    pub worker: Option<usize>,
    /// 1 for the first run, 2 for the first retry, ...
    pub attempt: u32,
}

/// Called as a computation runs ([`Config::callback`](crate::Config::callback)). Every
/// method has an empty default. Methods are called from worker threads, concurrently.
pub trait Callbacks: Send + Sync + 'static {
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

/// A finished task attempt, as recorded by a [`Profiler`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRecord {
    pub key: String,
    pub name: String,
    pub worker: Option<usize>,
    pub attempt: u32,
    /// Since the profiler was created.
    pub start: Duration,
    pub end: Duration,
    pub ok: bool,
}

/// Records every task attempt of the computations it is given to
/// ([`Config::profiler`](crate::Config::profiler)): key, function name, worker, start and
/// end.
///
/// ```
/// let profiler = dask::Profiler::new();
/// let x = dask::delayed(2).map(|v| v * 2);
/// x.compute_with(&dask::Config::default().profiler(&profiler)).unwrap();
/// let records = profiler.records();
/// assert_eq!(records.len(), 1);
/// assert_eq!(records[0].name, "map");
/// assert!(records[0].start <= records[0].end);
/// ```
#[derive(Clone)]
pub struct Profiler {
    inner: Arc<ProfilerInner>,
}

struct ProfilerInner {
    origin: Instant,
    records: Mutex<Vec<TaskRecord>>,
}

impl Default for Profiler {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Profiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Profiler({} records)", self.inner.records.lock().len())
    }
}

impl Profiler {
    pub fn new() -> Self {
        Profiler {
            inner: Arc::new(ProfilerInner {
                origin: Instant::now(),
                records: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Every attempt recorded so far, in the order they finished.
    pub fn records(&self) -> Vec<TaskRecord> {
        self.inner.records.lock().clone()
    }

    pub(crate) fn as_callbacks(&self) -> Arc<dyn Callbacks> {
        self.inner.clone()
    }
}

impl Callbacks for ProfilerInner {
    fn task_finished(&self, task: &TaskInfo<'_>, duration: Duration, ok: bool) {
        let end = self.origin.elapsed();
        let record = TaskRecord {
            key: task.key.to_string(),
            name: task.name.to_string(),
            worker: task.worker,
            attempt: task.attempt,
            start: end.saturating_sub(duration),
            end,
            ok,
        };
        self.records.lock().push(record);
    }
}

/// `tasks done / total` on stderr, redrawn at most ten times a second, only when stderr
/// is a terminal.
pub(crate) struct ProgressBar {
    total: AtomicUsize,
    done: AtomicUsize,
    started: Mutex<Option<Instant>>,
    last_draw: Mutex<Option<Instant>>,
    enabled: bool,
}

impl ProgressBar {
    pub(crate) fn new() -> Self {
        ProgressBar {
            total: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            started: Mutex::new(None),
            last_draw: Mutex::new(None),
            enabled: std::io::stderr().is_terminal(),
        }
    }

    /// The bar's text: `[#####     ] 50/100 tasks, 12.3/s, eta 4s`.
    pub(crate) fn line(done: usize, total: usize, elapsed: Duration) -> String {
        const WIDTH: usize = 30;
        let filled = (done * WIDTH).checked_div(total).unwrap_or(WIDTH);
        let rate = done as f64 / elapsed.as_secs_f64().max(1e-9);
        let eta = if rate > 0.0 {
            format!("{:.0}s", (total - done.min(total)) as f64 / rate)
        } else {
            "?".into()
        };
        format!(
            "[{}{}] {done}/{total} tasks, {rate:.1}/s, eta {eta}",
            "#".repeat(filled),
            " ".repeat(WIDTH - filled)
        )
    }

    fn draw(&self, force: bool) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        {
            let mut last = self.last_draw.lock();
            if !force && last.is_some_and(|t| now.duration_since(t) < Duration::from_millis(100)) {
                return;
            }
            *last = Some(now);
        }
        let elapsed = self
            .started
            .lock()
            .map_or(Duration::ZERO, |s| now.duration_since(s));
        let line = Self::line(
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
            elapsed,
        );
        let _ = write!(std::io::stderr(), "\r{line}");
    }
}

impl Callbacks for ProgressBar {
    fn start(&self, tasks: usize) {
        self.total.store(tasks, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        *self.started.lock() = Some(Instant::now());
        self.draw(true);
    }

    fn task_finished(&self, _task: &TaskInfo<'_>, _duration: Duration, ok: bool) {
        // A failed attempt that will be retried is not progress.
        if ok {
            self.done.fetch_add(1, Ordering::Relaxed);
        }
        self.draw(false);
    }

    fn finish(&self, _ok: bool) {
        self.draw(true);
        if self.enabled {
            let _ = writeln!(std::io::stderr());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_shows_counts_rate_and_eta() {
        let line = ProgressBar::line(50, 100, Duration::from_secs(5));
        assert_eq!(
            line,
            format!(
                "[{}{}] 50/100 tasks, 10.0/s, eta 5s",
                "#".repeat(15),
                " ".repeat(15)
            )
        );
        assert!(
            ProgressBar::line(0, 0, Duration::ZERO).starts_with(&format!("[{}]", "#".repeat(30)))
        );
    }
}
