//! Which thread ran a task attempt: the profiler draws one row per thread.
//!
//! A worker index alone does not name a thread: every pool numbers its workers from 0,
//! and every thread that calls `compute` with `Scheduler::Sync` runs tasks as "the
//! calling thread". Two such threads running at the same time would share a row, with
//! bars that overlap without nesting, which trace viewers draw wrongly. So each thread
//! gets a number of its own, process-wide, the first time the profiler records a task
//! on it: a read of a thread-local in the hot path, and a lock only once per thread.
//! On one thread, attempts only ever nest (a task computing a graph inside), so one row
//! per thread never holds two bars that overlap otherwise.

use std::cell::Cell;

use parking_lot::Mutex;

/// A thread that ran profiled tasks, numbered in the order threads first did.
pub(crate) type ThreadId = u16;

/// Threads past this many share the last number (a process that started 65 535
/// threads which ran profiled tasks); their bars may then share a row.
const SHARED: ThreadId = ThreadId::MAX - 1;
const UNNUMBERED: ThreadId = ThreadId::MAX;

/// What a thread is, as the profiler's rows name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Thread {
    /// Worker `worker` of the pool of `pool` workers (pools are one per size).
    Worker { pool: usize, worker: usize },
    /// A thread that calls `compute` and runs tasks itself (`Scheduler::Sync`, or a
    /// graph computed inside a task on a thread of none of our pools).
    Caller(ThreadId),
}

impl Thread {
    /// The pool worker index, as [`TaskRecord::worker`](super::TaskRecord::worker) gives
    /// it.
    pub(crate) fn worker(self) -> Option<usize> {
        match self {
            Thread::Worker { worker, .. } => Some(worker),
            Thread::Caller(_) => None,
        }
    }
}

/// Every numbered thread, by number.
static THREADS: Mutex<Vec<Thread>> = Mutex::new(Vec::new());

thread_local! {
    static NUMBER: Cell<ThreadId> = const { Cell::new(UNNUMBERED) };
}

/// The calling thread's number; `worker` is its pool worker index, as tasks see it.
#[inline]
pub(crate) fn current(worker: Option<usize>) -> ThreadId {
    match NUMBER.with(Cell::get) {
        UNNUMBERED => number_this_thread(worker),
        number => number,
    }
}

#[cold]
fn number_this_thread(worker: Option<usize>) -> ThreadId {
    let mut threads = THREADS.lock();
    let number = ThreadId::try_from(threads.len()).map_or(SHARED, |n| n.min(SHARED));
    if usize::from(number) == threads.len() {
        threads.push(match worker {
            Some(worker) => Thread::Worker {
                pool: pool_size().unwrap_or(0),
                worker,
            },
            None => Thread::Caller(number),
        });
    }
    NUMBER.with(|n| n.set(number));
    number
}

/// The size of the pool the calling thread works for, if it is a pool worker.
fn pool_size() -> Option<usize> {
    #[cfg(not(loom))]
    return crate::exec::Pool::current().map(crate::exec::Pool::threads);
    #[cfg(loom)]
    return None;
}

/// What each number stands for, indexed by number (a snapshot: threads numbered later
/// are not in it).
pub(crate) fn known() -> Vec<Thread> {
    THREADS.lock().clone()
}
