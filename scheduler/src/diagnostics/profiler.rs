//! The profiler: every task attempt into a buffer of the worker that ran it.
//!
//! Recording must stay cheap next to a task that does nothing (the benchmark's empty
//! tasks cost ~150 ns each), so a record holds no strings: the function name is
//! `&'static` and the key is kept as its hash part and formatted only when records are
//! read. Only a key given by `Delayed::with_key`, which no hash part rebuilds, is copied
//! when its task is recorded, into a side list of the buffer. Each pool worker appends
//! to its own buffer (slot `worker + 1`; slot 0 is for calling threads running
//! `Scheduler::Sync`). A buffer is behind a mutex only so that two pools whose workers
//! share an index, or a reader, stay correct: in the hot path it is always uncontended,
//! and no lock is shared between workers.
//!
//! Each computation gets an observer of its own ([`ProfiledRun`]), which opens and
//! closes that computation's [`Run`] and knows its thread count: computations sharing a
//! profiler may run at the same time, and a run must not be closed by another's end.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_utils::CachePadded;
use parking_lot::Mutex;

use super::clock::{Anchor, Calibration};
use super::threads::{self, Thread, ThreadId};
use super::TaskInfo;
use crate::key::format_key;
use crate::observer::{Interest, Observer};

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
    /// The key's hash part: the key is `format_key(name, id)`; with `custom_key`, an
    /// index into the buffer's `custom_keys` instead.
    id: u64,
    start: u64,
    end: u64,
    /// Into the buffer's `names`.
    name: u16,
    /// The thread that ran it (see `threads`): it also tells the pool worker.
    thread: ThreadId,
    attempt: u16,
    ok: bool,
    /// The task's key was given by `Delayed::with_key` (in the byte that would be
    /// padding).
    custom_key: bool,
}

const _: () = assert!(std::mem::size_of::<RawRecord>() == 32);

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
    /// The keys of recorded tasks whose key was given by `Delayed::with_key`.
    custom_keys: Vec<String>,
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

    /// Keeps a given key for a record about to be pushed; returns its index.
    #[cold]
    fn custom_key(&mut self, key: &str) -> u64 {
        if self.custom_keys.last().is_none_or(|last| last != key) {
            self.custom_keys.push(key.to_owned());
        }
        (self.custom_keys.len() - 1) as u64
    }

    fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    fn clear(&mut self) {
        self.chunks.clear();
        self.custom_keys.clear();
    }
}

/// One `compute` the profiler watched.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Run {
    /// Which computation: what its [`ProfiledRun`] closes it by.
    pub(super) id: u64,
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
    /// The id of the next run to start (ids start at 1: 0 is "not started").
    next_run: AtomicU64,
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
                next_run: AtomicU64::new(1),
                calibrated_at: Mutex::new(None),
            }),
        }
    }

    /// Every attempt recorded so far, ordered by start time (the per-worker buffers
    /// merged).
    pub fn records(&self) -> Vec<TaskRecord> {
        self.records_by_thread()
            .into_iter()
            .map(|(record, _)| record)
            .collect()
    }

    /// [`records`](Self::records), each with the thread that ran it.
    pub(crate) fn records_by_thread(&self) -> Vec<(TaskRecord, Thread)> {
        let later = (*self.inner.calibrated_at.lock()).unwrap_or_else(Anchor::now);
        let calibration = Calibration::new(self.inner.origin, later);
        let mut records = Vec::new();
        for buffer in self.inner.buffers.iter() {
            let buffer = buffer.lock();
            for r in buffer.chunks.iter().flatten() {
                let name = buffer.names[r.name as usize];
                let key = if r.custom_key {
                    buffer.custom_keys[r.id as usize].clone()
                } else {
                    format_key(name, r.id)
                };
                let record = TaskRecord {
                    key,
                    name: name.to_owned(),
                    worker: None,
                    attempt: u32::from(r.attempt),
                    start: calibration.since_origin(r.start),
                    end: calibration.since_origin(r.end.max(r.start)),
                    ok: r.ok,
                };
                records.push((record, r.thread));
            }
        }
        // Read after the records: every thread that recorded one is numbered by now.
        let known = threads::known();
        let mut records: Vec<(TaskRecord, Thread)> = records
            .into_iter()
            .map(|(mut record, number)| {
                let thread = known
                    .get(usize::from(number))
                    .copied()
                    .unwrap_or(Thread::Caller(number));
                record.worker = thread.worker();
                (record, thread)
            })
            .collect();
        records.sort_by_key(|(r, _)| (r.start, r.end));
        records
    }

    /// Forgets every record and run, keeping the time origin.
    pub fn clear(&self) {
        for buffer in self.inner.buffers.iter() {
            buffer.lock().clear();
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

    /// What [`Config::profiler`](crate::Config::profiler) registers: it hands each
    /// computation a [`ProfiledRun`] of its own.
    pub(crate) fn observer(&self) -> Arc<dyn Observer> {
        Arc::new(self.clone())
    }
}

impl ProfilerInner {
    /// One attempt, timed in [`ticks`](super::clock::ticks). The hot path: a
    /// thread-local read (the thread's number), one uncontended lock of this worker's own
    /// buffer and a 32-byte append; a key given by `with_key` is copied besides.
    #[inline]
    fn record(&self, task: &TaskInfo<'_>, start: u64, end: u64, ok: bool) {
        let thread = threads::current(task.worker);
        let slot = task.worker.map_or(0, |w| 1 + w % WORKER_SLOTS);
        let custom_key = task.header.custom_key.load(Ordering::Relaxed);
        let mut buffer = self.buffers[slot].lock();
        let name = buffer.name_index(task.name);
        let id = if custom_key {
            buffer.custom_key(task.header.key())
        } else {
            task.header.id
        };
        buffer.push(RawRecord {
            id,
            start,
            end,
            name,
            thread,
            attempt: task.attempt.min(u32::from(u16::MAX)) as u16,
            ok,
            custom_key,
        });
    }

    fn elapsed(&self) -> Duration {
        self.origin.instant.elapsed()
    }
}

/// Only ever asked for a computation's own observer, a [`ProfiledRun`].
impl Observer for Profiler {
    fn interest(&self) -> Interest {
        Interest::NONE
    }

    fn for_computation(&self) -> Option<Arc<dyn Observer>> {
        Some(Arc::new(ProfiledRun {
            profiler: self.inner.clone(),
            threads: AtomicUsize::new(1),
            run: AtomicU64::new(0),
        }))
    }
}

/// A [`Profiler`] watching one computation: its tasks go to the profiler's buffers as
/// any other's, its thread count and its run are its own.
pub(crate) struct ProfiledRun {
    profiler: Arc<ProfilerInner>,
    /// Set by `threads`, read by `start` (both on the thread that calls `compute`).
    threads: AtomicUsize,
    /// The id of the run `start` opened; 0 before.
    run: AtomicU64,
}

/// Attempts are timed in [`ticks`](super::clock::ticks), cheaper than `Instant`.
impl Observer for ProfiledRun {
    fn task_started(&self, _task: &TaskInfo<'_>) -> u64 {
        super::clock::ticks()
    }

    fn task_finished(&self, task: &TaskInfo<'_>, started: u64, ok: bool) {
        self.profiler
            .record(task, started, super::clock::ticks(), ok);
    }

    fn threads(&self, threads: usize) {
        self.threads.store(threads, Ordering::Relaxed);
    }

    fn start(&self, tasks: usize) {
        let profiler = &self.profiler;
        let id = profiler.next_run.fetch_add(1, Ordering::Relaxed);
        self.run.store(id, Ordering::Relaxed);
        profiler.runs.lock().push(Run {
            id,
            threads: self.threads.load(Ordering::Relaxed),
            tasks,
            start: profiler.elapsed(),
            end: None,
        });
    }

    fn finish(&self, _ok: bool) {
        let profiler = &self.profiler;
        let anchor = Anchor::now();
        *profiler.calibrated_at.lock() = Some(anchor);
        let now = anchor
            .instant
            .saturating_duration_since(profiler.origin.instant);
        // Not there when `clear` forgot it, or when `start` never ran (another
        // observer's `start` panicked first).
        let id = self.run.load(Ordering::Relaxed);
        if let Some(run) = profiler.runs.lock().iter_mut().rev().find(|r| r.id == id) {
            run.end = Some(now);
        }
    }
}
