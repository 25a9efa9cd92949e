//! The profiler: every task attempt into a buffer of the worker that ran it.
//!
//! Recording must stay cheap next to a task that does nothing (the benchmark's empty
//! tasks cost ~150 ns each), so a record holds no strings: the function name is
//! `&'static` and the key is kept as its hash part and formatted only when records are
//! read. Each pool worker appends to its own buffer (slot `worker + 1`; slot 0 is for
//! calling threads running `Scheduler::Sync`). A buffer is behind a mutex only so that
//! two pools whose workers share an index, or a reader, stay correct: in the hot path it
//! is always uncontended, and no lock is shared between workers.

use std::sync::Arc;
use std::time::Duration;

use crossbeam_utils::CachePadded;
use parking_lot::Mutex;

use super::clock::{Anchor, Calibration};
use super::TaskInfo;
use crate::key::format_key;
use crate::observer::Observer;

/// Buffers kept per profiler: calling threads plus this many worker indices (higher
/// indices share, which stays correct, just contended).
const WORKER_SLOTS: usize = 64;

/// A finished task attempt, as recorded by a [`Profiler`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRecord {
    pub key: String,
    pub name: String,
    /// Pool worker index; `None` on the calling thread (`Scheduler::Sync`).
    pub worker: Option<usize>,
    pub attempt: u32,
    /// Since the profiler was created.
    pub start: Duration,
    pub end: Duration,
    pub ok: bool,
}

impl TaskRecord {
    pub fn duration(&self) -> Duration {
        self.end.saturating_sub(self.start)
    }
}

/// What the hot path stores: no allocation, no formatting, 32 bytes.
#[derive(Clone, Copy)]
struct RawRecord {
    /// The key's hash part: the key is `format_key(name, id)`.
    id: u64,
    start: u64,
    end: u64,
    /// Into the buffer's `names`.
    name: u16,
    /// `NO_WORKER` for a calling thread.
    worker: u16,
    attempt: u16,
    ok: bool,
}

const NO_WORKER: u16 = u16::MAX;

/// Records per chunk: chunks are never moved, so appending never copies old records.
const CHUNK: usize = 4096;

/// What one worker appends to.
#[derive(Default)]
struct WorkerBuffer {
    /// Function names seen by this buffer (few: one per function).
    names: Vec<&'static str>,
    /// The name found last: runs of one function are the common case.
    last: usize,
    chunks: Vec<Vec<RawRecord>>,
}

impl WorkerBuffer {
    #[inline]
    fn name_index(&mut self, name: &'static str) -> u16 {
        match self.names.get(self.last) {
            Some(last) if std::ptr::eq(*last, name) => self.last as u16,
            _ => self.find_name(name),
        }
    }

    #[cold]
    fn find_name(&mut self, name: &'static str) -> u16 {
        self.last = match self.names.iter().position(|n| *n == name) {
            Some(i) => i,
            None => {
                self.names.push(name);
                self.names.len() - 1
            }
        };
        self.last as u16
    }

    #[inline]
    fn push(&mut self, record: RawRecord) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push(record),
            _ => self.new_chunk(record),
        }
    }

    #[cold]
    fn new_chunk(&mut self, record: RawRecord) {
        let mut chunk = Vec::with_capacity(CHUNK);
        chunk.push(record);
        self.chunks.push(chunk);
    }

    fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }
}

/// One `compute` the profiler watched.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Run {
    pub(crate) threads: usize,
    pub(crate) tasks: usize,
    pub(crate) start: Duration,
    pub(crate) end: Option<Duration>,
}

/// Records every task attempt of the computations it is given to
/// ([`Config::profiler`](crate::Config::profiler)): key, function name, worker, start and
/// end. Exports them as Chrome Trace Event JSON ([`chrome_trace`](Self::chrome_trace)),
/// a per-function summary ([`summary`](Self::summary),
/// [`summary_table`](Self::summary_table)), an SVG timeline
/// ([`timeline_svg`](Self::timeline_svg)) and a self-contained HTML report
/// ([`report_html`](Self::report_html)).
///
/// ```
/// let profiler = dask::Profiler::new();
/// let x = dask::delayed(2).map(|v| v * 2);
/// x.compute_with(&dask::Config::default().profiler(&profiler)).unwrap();
/// let records = profiler.records();
/// assert_eq!(records.len(), 1);
/// assert_eq!(records[0].name, "map");
/// assert!(records[0].start <= records[0].end);
/// let trace: String = profiler.chrome_trace(); // open in Perfetto or chrome://tracing
/// assert!(trace.contains("\"ph\":\"X\""));
/// ```
#[derive(Clone)]
pub struct Profiler {
    pub(crate) inner: Arc<ProfilerInner>,
}

pub(crate) struct ProfilerInner {
    origin: Anchor,
    buffers: Box<[CachePadded<Mutex<WorkerBuffer>>]>,
    /// Written at `start`/`finish` only (cold).
    runs: Mutex<Vec<Run>>,
    /// Set by `threads`, read by the `start` that follows it.
    next_threads: Mutex<usize>,
    /// Taken when the last computation finished: turns ticks into time. Records read
    /// between computations are therefore identical from one read to the next.
    calibrated_at: Mutex<Option<Anchor>>,
}

impl Default for Profiler {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Profiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count: usize = self.inner.buffers.iter().map(|b| b.lock().len()).sum();
        write!(f, "Profiler({count} records)")
    }
}

impl Profiler {
    pub fn new() -> Self {
        Profiler {
            inner: Arc::new(ProfilerInner {
                origin: Anchor::now(),
                buffers: (0..=WORKER_SLOTS)
                    .map(|_| CachePadded::new(Mutex::new(WorkerBuffer::default())))
                    .collect(),
                runs: Mutex::new(Vec::new()),
                next_threads: Mutex::new(1),
                calibrated_at: Mutex::new(None),
            }),
        }
    }

    /// Every attempt recorded so far, ordered by start time (the per-worker buffers
    /// merged).
    pub fn records(&self) -> Vec<TaskRecord> {
        let later = (*self.inner.calibrated_at.lock()).unwrap_or_else(Anchor::now);
        let calibration = Calibration::new(self.inner.origin, later);
        let mut records = Vec::new();
        for buffer in self.inner.buffers.iter() {
            let buffer = buffer.lock();
            for r in buffer.chunks.iter().flatten() {
                let name = buffer.names[r.name as usize];
                records.push(TaskRecord {
                    key: format_key(name, r.id),
                    name: name.to_owned(),
                    worker: (r.worker != NO_WORKER).then_some(r.worker as usize),
                    attempt: u32::from(r.attempt),
                    start: calibration.since_origin(r.start),
                    end: calibration.since_origin(r.end.max(r.start)),
                    ok: r.ok,
                });
            }
        }
        records.sort_by_key(|r| (r.start, r.end));
        records
    }

    /// Forgets every record and run, keeping the time origin.
    pub fn clear(&self) {
        for buffer in self.inner.buffers.iter() {
            buffer.lock().chunks.clear();
        }
        self.inner.runs.lock().clear();
    }

    /// Time since the profiler was created (the records' time origin).
    pub fn elapsed(&self) -> Duration {
        self.inner.origin.instant.elapsed()
    }

    /// The computations recorded so far.
    pub(crate) fn runs(&self) -> Vec<Run> {
        self.inner.runs.lock().clone()
    }

    pub(crate) fn observer(&self) -> Arc<dyn Observer> {
        self.inner.clone()
    }
}

impl ProfilerInner {
    /// One attempt, timed in [`ticks`](super::clock::ticks). The hot path: one
    /// uncontended lock of this worker's own buffer and a 32-byte append.
    #[inline]
    fn record(&self, task: &TaskInfo<'_>, start: u64, end: u64, ok: bool) {
        let worker = task
            .worker
            .map_or(NO_WORKER, |w| w.min(NO_WORKER as usize - 1) as u16);
        let slot = task.worker.map_or(0, |w| 1 + w % WORKER_SLOTS);
        let mut buffer = self.buffers[slot].lock();
        let name = buffer.name_index(task.name);
        buffer.push(RawRecord {
            id: task.header.id,
            start,
            end,
            name,
            worker,
            attempt: task.attempt.min(u32::from(u16::MAX)) as u16,
            ok,
        });
    }

    fn elapsed(&self) -> Duration {
        self.origin.instant.elapsed()
    }
}

/// Attempts are timed in [`ticks`](super::clock::ticks), cheaper than `Instant`.
impl Observer for ProfilerInner {
    fn task_started(&self, _task: &TaskInfo<'_>) -> u64 {
        super::clock::ticks()
    }

    fn task_finished(&self, task: &TaskInfo<'_>, started: u64, ok: bool) {
        self.record(task, started, super::clock::ticks(), ok);
    }

    fn threads(&self, threads: usize) {
        *self.next_threads.lock() = threads;
    }

    fn start(&self, tasks: usize) {
        let threads = *self.next_threads.lock();
        self.runs.lock().push(Run {
            threads,
            tasks,
            start: self.elapsed(),
            end: None,
        });
    }

    fn finish(&self, _ok: bool) {
        let anchor = Anchor::now();
        *self.calibrated_at.lock() = Some(anchor);
        let now = anchor
            .instant
            .saturating_duration_since(self.origin.instant);
        if let Some(run) = self.runs.lock().iter_mut().rev().find(|r| r.end.is_none()) {
            run.end = Some(now);
        }
    }
}
