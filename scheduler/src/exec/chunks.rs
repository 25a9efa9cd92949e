//! Work in chunks that idle workers may share: a task gathering a million inputs would
//! otherwise collect them on one thread while the rest of the pool waits for it.
//!
//! The protocol. The caller (a worker running a task) makes a [`ChunkShare`], hands one
//! counted reference to it to its own deque as a job, and takes chunks from the share's
//! cursor until none is left. A worker that steals the job takes chunks the same way.
//! The caller then takes its job back if nobody stole it, and waits until every chunk
//! has *finished*. A chunk is claimed before `work` is called for it, so once the
//! cursor is past the end and every chunk has finished, nobody calls `work` again and
//! the caller may return (its stack, which `work` borrows, goes away). A thief that runs
//! the job late finds the cursor exhausted and only lets go of its reference, which is
//! why the share itself is reference-counted while `work` is borrowed.
//!
//! The caller waits by spinning: what it waits for is at most one chunk per thief
//! (moving or cloning a few thousand values), not a task that could block. The job sits
//! on top of the caller's deque, and thieves take from the bottom: when the worker has
//! older work queued, thieves take that first, and the caller may end up taking every
//! chunk itself, as it would have without sharing.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::sync::{AtomicUsize, Mutex, Ordering};

/// A panic caught in a chunk, to be resumed by the caller once the chunks are done.
pub(crate) type Panic = Box<dyn Any + Send + 'static>;

/// The work to call for a chunk, its lifetime erased (see [`ChunkShare::new`]).
type ErasedWork = *const (dyn Fn(usize) + Sync + 'static);

/// Chunks `0..chunks` of one piece of work, claimed from a cursor.
pub(crate) struct ChunkShare {
    /// The next chunk to claim; runs past `chunks` once every chunk is claimed.
    next: AtomicUsize,
    /// Chunks whose `work` call has returned (or panicked).
    finished: AtomicUsize,
    chunks: usize,
    work: ErasedWork,
    /// The first panic of any chunk.
    panic: Mutex<Option<Panic>>,
}

// SAFETY: `work` is `Sync` and is called only for a claimed, unfinished chunk, while the
// caller that lent it waits (see the module's protocol); the rest is atomics and a mutex.
unsafe impl Send for ChunkShare {}
// SAFETY: as for `Send`.
unsafe impl Sync for ChunkShare {}

impl ChunkShare {
    /// A share of `chunks` chunks of `work`.
    ///
    /// # Safety
    /// `work` must outlive every call the share makes of it: the caller may let it go
    /// once its own [`take_part`](Self::take_part) has returned (no chunk is left to
    /// claim) and [`all_finished`](Self::all_finished) holds. The share may outlive
    /// `work`; nobody calls it then.
    pub(crate) unsafe fn new(chunks: usize, work: &(dyn Fn(usize) + Sync)) -> Self {
        let work: *const (dyn Fn(usize) + Sync + '_) = work;
        // SAFETY: only the lifetime changes (same pointer, same vtable); the caller's
        // promise keeps every call within the borrow.
        let work =
            unsafe { std::mem::transmute::<*const (dyn Fn(usize) + Sync + '_), ErasedWork>(work) };
        ChunkShare {
            next: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            chunks,
            work,
            panic: Mutex::new(None),
        }
    }

    /// Claims and runs chunks until none is left. A chunk's panic is kept for the
    /// caller, and claiming goes on.
    pub(crate) fn take_part(&self) {
        /// Counts a chunk finished however its call ends.
        struct Finished<'a>(&'a AtomicUsize);
        impl Drop for Finished<'_> {
            fn drop(&mut self) {
                // Release: the chunk's writes happen before the caller's `Acquire` read.
                self.0.fetch_add(1, Ordering::Release);
            }
        }
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.chunks {
                return;
            }
            let _finished = Finished(&self.finished);
            // SAFETY: chunk `i` is claimed and not finished, so the caller still waits
            // and `work` is alive (see `new`).
            let work = unsafe { &*self.work };
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| work(i))) {
                self.keep_panic(panic);
            }
        }
    }

    /// Keeps the first panic; a later one's payload is dropped under a guard (its `Drop`
    /// is user code too, and must not unwind out of a chunk).
    fn keep_panic(&self, panic: Panic) {
        let later = {
            let mut first = self.panic.lock();
            match *first {
                None => {
                    *first = Some(panic);
                    None
                }
                Some(_) => Some(panic),
            }
        };
        if let Some(later) = later {
            crate::error::drop_guarded(later);
        }
    }

    /// Whether every chunk has run: `work` is then never called again.
    pub(crate) fn all_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire) == self.chunks
    }

    /// The first panic of any chunk, once all have finished.
    pub(crate) fn take_panic(&self) -> Option<Panic> {
        self.panic.lock().take()
    }
}

/// Runs `work(i)` for every `i` in `0..chunks` and returns when all have run. On a
/// worker of a pool of several threads, idle workers take chunks too (in any order, on
/// any of them); elsewhere the chunks run here, in order. A chunk's panic comes back as
/// `Err` after every chunk has finished (chunks after it may still run), so that what
/// `work` borrows is untouched by the time the caller cleans up.
pub(crate) fn run_chunks(chunks: usize, work: &(dyn Fn(usize) + Sync)) -> Result<(), Panic> {
    #[cfg(not(loom))]
    if chunks > 1 {
        if let Some(worker) = super::pool::current_worker() {
            if worker.pool.threads() > 1 {
                return worker.run_chunks_shared(chunks, work);
            }
        }
    }
    for i in 0..chunks {
        catch_unwind(AssertUnwindSafe(|| work(i)))?;
    }
    Ok(())
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

    use super::*;
    use crate::{compute_with, delayed, Config, Scheduler};

    /// Runs `f` inside a task on a pool of `threads`, returning its value.
    fn in_task<R: Clone + Send + Sync + 'static>(
        threads: usize,
        f: impl Fn() -> R + Send + Sync + 'static,
    ) -> R {
        let task = delayed(()).map(move |_| f());
        let config = Config::default().scheduler(Scheduler::Threads(threads));
        compute_with(&[task], &config).unwrap().pop().unwrap()
    }

    #[test]
    fn every_chunk_runs_once_on_any_pool_and_outside_one() {
        let count = |threads: Option<usize>| {
            let body = || {
                let runs: Vec<AtomicU32> = (0..1000).map(|_| AtomicU32::new(0)).collect();
                run_chunks(runs.len(), &|i| {
                    runs[i].fetch_add(1, Ordering::Relaxed);
                })
                .unwrap();
                runs.iter()
                    .map(|r| r.load(Ordering::Relaxed))
                    .collect::<Vec<u32>>()
            };
            match threads {
                Some(t) => in_task(t, body),
                None => body(),
            }
        };
        for threads in [None, Some(1), Some(2), Some(4)] {
            assert_eq!(count(threads), vec![1; 1000], "{threads:?} threads");
        }
    }

    #[test]
    fn an_idle_worker_takes_chunks_while_the_first_one_runs() {
        // The caller's first chunk waits until a chunk ran on another thread: only an
        // idle worker taking chunks can end the wait early (the cap keeps a failure from
        // hanging).
        let shared = in_task(2, || {
            let caller = std::thread::current().id();
            let elsewhere = AtomicUsize::new(0);
            let waited = std::sync::atomic::AtomicBool::new(false);
            run_chunks(8, &|_| {
                if std::thread::current().id() != caller {
                    elsewhere.fetch_add(1, Ordering::SeqCst);
                } else if !waited.swap(true, Ordering::SeqCst) {
                    let start = std::time::Instant::now();
                    while elsewhere.load(Ordering::SeqCst) == 0
                        && start.elapsed() < std::time::Duration::from_secs(10)
                    {
                        std::thread::yield_now();
                    }
                }
            })
            .unwrap();
            elsewhere.load(Ordering::SeqCst)
        });
        assert!(shared >= 1, "no chunk ran on another worker");
    }

    #[test]
    fn panic_payloads_that_panic_when_dropped_stay_inside_the_chunks() {
        /// A panic payload whose drop panics too.
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("a payload's drop");
            }
        }
        for threads in [2, 4] {
            let (finished, first_is_bomb) = in_task(threads, || {
                let finished = AtomicUsize::new(0);
                let outcome = run_chunks(64, &|i| {
                    finished.fetch_add(1, Ordering::Relaxed);
                    if i % 16 == 3 {
                        std::panic::panic_any(Bomb);
                    }
                });
                let payload = outcome.expect_err("the first panic comes back");
                let first_is_bomb = payload.is::<Bomb>();
                // Its drop would panic; the caller decides (here: not dropped).
                std::mem::forget(payload);
                (finished.load(Ordering::Relaxed), first_is_bomb)
            });
            // The later payloads were dropped in the chunks, their panics caught there,
            // and every chunk still ran and was waited for.
            assert_eq!(finished, 64, "{threads} threads");
            assert!(first_is_bomb);
        }
    }

    #[test]
    fn a_panicking_chunk_comes_back_after_every_chunk_has_finished() {
        for threads in [1, 2, 4] {
            let (message, finished) = in_task(threads, || {
                let finished = AtomicUsize::new(0);
                let outcome = run_chunks(64, &|i| {
                    finished.fetch_add(1, Ordering::Relaxed);
                    if i == 3 {
                        panic!("chunk {i} fails");
                    }
                });
                let message = outcome
                    .expect_err("the panic comes back")
                    .downcast::<String>()
                    .map(|s| *s)
                    .unwrap_or_default();
                (message, finished.load(Ordering::Relaxed))
            });
            assert_eq!(message, "chunk 3 fails", "{threads} threads");
            // One thread stops at the panic; shared chunks go on with the others.
            assert_eq!(
                finished,
                if threads == 1 { 4 } else { 64 },
                "{threads} threads"
            );
        }
    }
}
