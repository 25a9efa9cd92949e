//! `Parallel`: joblib's `Parallel(n_jobs)(delayed(f)(x) for x in xs)` on our pool.
//!
//! `map` runs one loop per worker over batches of items claimed from a shared counter
//! (`map.rs`), with batch sizes adapted to the measured call durations (`crate::batch`);
//! results land directly in the output `Vec` (`buffers.rs`). `imap` yields results in
//! input order while later items still run, through a bounded window (`imap.rs`).

mod buffers;
mod error;
mod imap;
mod map;
mod pool_run;
mod report;
// They run real pools, which loom builds do not have.
#[cfg(all(test, not(loom)))]
mod tests;

use std::convert::Infallible;
use std::time::Duration;

pub use crate::batch::BatchSize;
pub use error::ParallelError;
pub use imap::{Imap, ImapUnordered};
use imap::{ImapOptions, Run};

use crate::error::{BoxError, Error};
use map::MapJob;
use report::{LineSink, Report};

/// A parallel map over items, joblib style: results in input order, the calls spread
/// over `n_jobs` workers of the same pool that runs [`compute`](crate::compute).
///
/// ```
/// use dask::Parallel;
///
/// let squares = Parallel::new(2).map(0..10u64, |x| x * x)?;
/// assert_eq!(squares, (0..10).map(|x| x * x).collect::<Vec<_>>());
///
/// // Closures may borrow: the map returns only when every call has finished.
/// let offset = 100;
/// let shifted = Parallel::new(-1).map(vec![1, 2, 3], |x| x + offset)?;
/// assert_eq!(shifted, vec![101, 102, 103]);
/// # Ok::<(), dask::Error>(())
/// ```
///
/// Better than joblib in three ways: no processes or pickling (items move, closures
/// borrow), batches adapt per worker instead of through a dispatcher (a trivial call costs
/// nanoseconds, not microseconds), and a failing call names its item's index and cancels
/// the items not yet started:
///
/// ```
/// use dask::Parallel;
///
/// let err = Parallel::new(2)
///     .try_map(["1", "2", "x", "4"], |s| s.parse::<i32>())
///     .unwrap_err();
/// assert_eq!(err.item_index(), Some(2));
/// assert!(err.to_string().starts_with("item 2 failed: invalid digit"));
/// ```
#[derive(Debug, Clone)]
pub struct Parallel {
    n_jobs: i32,
    batch: BatchSize,
    verbose: Option<LineSink>,
    progress: bool,
    window: Option<usize>,
    timeout: Option<Duration>,
}

impl Parallel {
    /// `n_jobs` workers; as in joblib, `-1` means one per core, `-2` all cores but one,
    /// and so on (never fewer than one: `cores + 1 + n_jobs`, at least 1), and `1` runs
    /// every call on the calling thread. `0`, or more than 1024, is refused when the map
    /// starts.
    ///
    /// The calls run on the process's pool of that many threads, started on first use
    /// and kept (inside a task or another map: on the pool already running it). A
    /// process keeps at most 8 pools of different sizes; once 8 are running, a map
    /// whose size has none runs on the smallest running pool that is larger, with at
    /// most `n_jobs` calls at once, or, when none is larger, on the largest (with as
    /// many calls at once as it has threads). So a sweep over `n_jobs` as in joblib
    /// (`for n in 1..=16 { Parallel::new(n).map(..) }`) works, and starts no more
    /// threads than 8 pools hold.
    pub fn new(n_jobs: i32) -> Self {
        Parallel {
            n_jobs,
            batch: BatchSize::Auto,
            verbose: None,
            progress: false,
            window: None,
            timeout: None,
        }
    }

    /// How calls are grouped: `BatchSize::Auto` (the default) adapts batches to the
    /// measured call durations so a claim's cost disappears behind the calls;
    /// `.batch_size(n)` (or `BatchSize::Fixed(n)`) claims `n` items at a time.
    pub fn batch_size(mut self, batch: impl Into<BatchSize>) -> Self {
        self.batch = batch.into();
        self
    }

    /// Prints joblib-style lines on stderr (`[Parallel(n_jobs=2)]: Done 64 of 100 items
    /// | elapsed: 0.12 s`) as the number of finished calls doubles, and a last line.
    pub fn verbose(mut self, verbose: bool) -> Self {
        self.verbose = verbose.then_some(LineSink::Stderr);
        self
    }

    /// [`verbose`](Self::verbose) lines written to `writer` instead of stderr (a log
    /// file, a buffer a test reads, ...). Counts are padded to the total's width, so
    /// the lines align as joblib's do.
    ///
    /// A write that returns an `io::Error` loses its line and the map goes on: a log
    /// line is not worth a computation. A writer that panics fails the map, as a
    /// panicking [`Callbacks`](crate::Callbacks) hook fails a computation: the map
    /// returns [`Error::CallbackPanic`] with `hook` `"Parallel::verbose_to"` and the
    /// panic's message (`item_index()` is `None`), no item is claimed after the panic
    /// (items not started are dropped uncalled, the results made so far are dropped),
    /// nothing more is written to the writer during that map, and the pool stays
    /// usable. A call's own failure, when there is one, is reported instead. The panic
    /// does not unwind into the caller.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use dask::Parallel;
    ///
    /// #[derive(Clone, Default)]
    /// struct Lines(Arc<Mutex<Vec<u8>>>);
    /// impl std::io::Write for Lines {
    ///     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
    ///         self.0.lock().unwrap().write(b)
    ///     }
    ///     fn flush(&mut self) -> std::io::Result<()> {
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let lines = Lines::default();
    /// Parallel::new(2).verbose_to(lines.clone()).map(0..100, |x| x + 1)?;
    /// let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    /// assert!(text.lines().last().unwrap().starts_with("[Parallel(n_jobs=2)]: Done 100 of 100 items"));
    /// # Ok::<(), dask::Error>(())
    /// ```
    pub fn verbose_to(mut self, writer: impl std::io::Write + Send + 'static) -> Self {
        self.verbose = Some(LineSink::Writer(std::sync::Arc::new(
            parking_lot::Mutex::new(Box::new(writer)),
        )));
        self
    }

    /// Draws a progress bar (items done / total, rate, ETA) on stderr when it is a
    /// terminal, as [`Config::progress`](crate::Config::progress) does for graphs.
    pub fn progress(mut self, show: bool) -> Self {
        self.progress = show;
        self
    }

    /// For [`imap`](Self::imap): at most this many results wait ahead of the consumer
    /// (finished but not yet taken, or running). Default: 64 per worker. The window's
    /// slots are allocated when the map starts, so it is capped at 2^20 (about a million
    /// results waiting); a larger value means that cap.
    pub fn window(mut self, results: usize) -> Self {
        self.window = Some(results);
        self
    }

    /// Stops the map `limit` after it starts, as joblib's `timeout`: no call starts
    /// after the deadline (items not started are dropped uncalled), and the map fails
    /// with [`ParallelError::ItemTimeout`], whose [`item_index`](Error::item_index) is a call
    /// that was still running at the deadline (or, when none was, the first item that
    /// did not start). Calls cannot be interrupted: `map` returns once the calls
    /// running at the deadline have finished. Applies to `map`, `imap` and
    /// `imap_unordered`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use dask::Parallel;
    ///
    /// let err = Parallel::new(2)
    ///     .timeout(Duration::from_millis(50))
    ///     .map(0..100u64, |x| std::thread::sleep(Duration::from_millis(10 * x)))
    ///     .unwrap_err();
    /// assert!(err.item_index().is_some());
    /// assert!(err.to_string().contains("timed out after 50ms"));
    /// ```
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// The number of workers `n_jobs` stands for on this machine.
    pub fn workers(&self) -> Result<usize, Error> {
        let cores = available_cores();
        match self.n_jobs {
            0 => Err(Error::InvalidConfig(
                "Parallel::new(0): use 1 to run on the calling thread, -1 for every core".into(),
            )),
            n if n > 0 && n as usize > MAX_WORKERS => Err(Error::InvalidConfig(format!(
                "Parallel::new({n}): at most {MAX_WORKERS} workers"
            ))),
            n if n > 0 => Ok(n as usize),
            // joblib's `max(cpus + 1 + n_jobs, 1)`: a script written for a big machine
            // (`-32`) still runs, on one worker, on a small one.
            n => Ok((cores as i64 + 1 + i64::from(n)).max(1) as usize),
        }
    }

    fn check(&self) -> Result<usize, Error> {
        if self.batch == BatchSize::Fixed(0) {
            return Err(Error::InvalidConfig(
                "batch_size(0): a batch holds at least one item".into(),
            ));
        }
        if self.window == Some(0) {
            return Err(Error::InvalidConfig(
                "window(0): the consumer must be able to wait for at least one result".into(),
            ));
        }
        self.workers()
    }

    /// Calls `f` on every item, in parallel, and returns the results in input order.
    ///
    /// A panicking call fails the map with [`ParallelError::ItemPanic`] naming the item's index;
    /// items not yet started are not called (they are dropped), and the pool stays usable.
    pub fn map<I, R, F>(&self, items: impl IntoIterator<Item = I>, f: F) -> Result<Vec<R>, Error>
    where
        I: Send,
        R: Send,
        F: Fn(I) -> R + Sync,
    {
        self.try_map(items, |item| Ok::<R, Infallible>(f(item)))
    }

    /// [`map`](Self::map) for a fallible `f`: the first `Err` (by index, when several
    /// calls fail at once) fails the map with [`ParallelError::Item`], carrying the index and the
    /// error as its source; items not yet started are cancelled.
    pub fn try_map<I, R, E, F>(
        &self,
        items: impl IntoIterator<Item = I>,
        f: F,
    ) -> Result<Vec<R>, Error>
    where
        I: Send,
        R: Send,
        E: Into<BoxError>,
        F: Fn(I) -> Result<R, E> + Sync,
    {
        let workers = self.check()?;
        // The input is user code: a panic while collecting it names the position whose
        // item never came. (`collect` keeps a `Vec`'s allocation, which the results
        // reuse when the layouts match.)
        let pulled = std::cell::Cell::new(0);
        let collected = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            items
                .into_iter()
                .inspect(|_| pulled.set(pulled.get() + 1))
                .collect::<Vec<I>>()
        }));
        let items = match collected {
            Ok(items) => items,
            Err(payload) => {
                return Err(Error::Parallel(crate::ParallelError::ItemPanic {
                    index: pulled.get(),
                    message: format!(
                        "the input iterator panicked: {}",
                        crate::error::panic_message(payload)
                    ),
                }))
            }
        };
        let report = Report::new(items.len(), workers, self.verbose.clone(), self.progress);
        let job = MapJob::new(
            items,
            &f,
            self.batch,
            workers,
            report.as_ref(),
            self.timeout,
        );
        let run = if workers == 1 {
            // On the calling thread; `work` may still return early when the calling
            // thread is a busy pool's worker.
            while job.unfinished() {
                job.work();
            }
            Ok(())
        } else {
            // Rounds: workers end theirs early when other computations wait (see
            // `pool_run::others_waiting`), and the next round queues behind those.
            loop {
                let round = pool_run::run_workers(&|| job.work(), workers, self.n_jobs);
                if round.is_err() || !job.unfinished() {
                    break round;
                }
            }
        };
        let result = job.finish(run);
        let Some(report) = &report else {
            return result;
        };
        report.finish(result.as_ref().map(drop));
        match (result, report.writer_error()) {
            // The writer panicked on the last line, after every call: the map fails
            // all the same (a panicking hook never passes unnoticed).
            (Ok(results), Some(error)) => {
                for result in results {
                    crate::error::drop_guarded(result);
                }
                Err(error)
            }
            (result, _) => result,
        }
    }

    /// Like [`map`](Self::map), but returns at once an iterator that yields the results
    /// in input order as they become ready, while later items still run. Items are
    /// pulled from `items` only as the [`window`](Self::window) allows, so neither the
    /// input nor the results need to fit in memory at once.
    ///
    /// ```
    /// use dask::Parallel;
    ///
    /// let mut lengths = Parallel::new(2).window(8).imap(
    ///     (0..1_000).map(|i| "x".repeat(i)),
    ///     |s: String| s.len(),
    /// );
    /// assert_eq!(lengths.next().unwrap()?, 0);
    /// assert_eq!(lengths.nth(9).unwrap()?, 10);
    /// assert_eq!(lengths.map(Result::unwrap).last(), Some(999));
    /// # Ok::<(), dask::Error>(())
    /// ```
    ///
    /// An error (a panicking call, or an impossible option) is yielded in its place, and
    /// the iterator ends after it. Outside pool work the consumer's thread blocks while
    /// it waits for a result. Inside pool work (a task, a `map` call) it never blocks:
    /// when no result is ready, the consumer runs the calls itself, as a nested round on
    /// the same pool (idle workers join in), and then yields the round's results. They
    /// come in batches of up to a window, so there [`map`](Self::map) costs less unless
    /// the bound on memory matters.
    ///
    /// Cost: with 2 workers and trivial calls, about 0.1–0.2 µs per item (`map`: 0.004
    /// µs), for the ordered hand-over through the window. `imap` is for calls slower than
    /// that, or for results that should not all be in memory at once.
    pub fn imap<I, R, F, It>(&self, items: It, f: F) -> Imap<R>
    where
        It: IntoIterator<Item = I>,
        It::IntoIter: Send + 'static,
        I: Send + 'static,
        R: Send + 'static,
        F: Fn(I) -> R + Send + Sync + 'static,
    {
        self.try_imap(items, move |item| Ok::<R, Infallible>(f(item)))
    }

    /// [`imap`](Self::imap) for a fallible `f`: an `Err` is yielded as [`ParallelError::Item`]
    /// at its position, after every earlier result, and ends the iterator.
    pub fn try_imap<I, R, E, F, It>(&self, items: It, f: F) -> Imap<R>
    where
        It: IntoIterator<Item = I>,
        It::IntoIter: Send + 'static,
        I: Send + 'static,
        R: Send + 'static,
        E: Into<BoxError> + 'static,
        F: Fn(I) -> Result<R, E> + Send + Sync + 'static,
    {
        Imap(self.start_imap(items.into_iter(), f, true))
    }

    /// Like [`imap`](Self::imap), but yields `(input index, result)` as each call
    /// finishes, whatever its position (joblib's `return_as="generator_unordered"`): a
    /// slow item does not hold back the results behind it. The window bounds the results
    /// running or waiting, as for `imap`.
    ///
    /// ```
    /// use dask::Parallel;
    ///
    /// let mut pairs: Vec<(usize, u64)> = Parallel::new(2)
    ///     .imap_unordered(0..100u64, |x| x * x)
    ///     .collect::<Result<_, _>>()?;
    /// pairs.sort();
    /// assert_eq!(pairs[7], (7, 49));
    /// assert_eq!(pairs.len(), 100);
    /// # Ok::<(), dask::Error>(())
    /// ```
    pub fn imap_unordered<I, R, F, It>(&self, items: It, f: F) -> ImapUnordered<R>
    where
        It: IntoIterator<Item = I>,
        It::IntoIter: Send + 'static,
        I: Send + 'static,
        R: Send + 'static,
        F: Fn(I) -> R + Send + Sync + 'static,
    {
        self.try_imap_unordered(items, move |item| Ok::<R, Infallible>(f(item)))
    }

    /// [`imap_unordered`](Self::imap_unordered) for a fallible `f`: an `Err` is yielded
    /// as [`ParallelError::Item`] when its call finishes, and ends the iterator.
    pub fn try_imap_unordered<I, R, E, F, It>(&self, items: It, f: F) -> ImapUnordered<R>
    where
        It: IntoIterator<Item = I>,
        It::IntoIter: Send + 'static,
        I: Send + 'static,
        R: Send + 'static,
        E: Into<BoxError> + 'static,
        F: Fn(I) -> Result<R, E> + Send + Sync + 'static,
    {
        ImapUnordered(self.start_imap(items.into_iter(), f, false))
    }

    /// Starts an `imap` (in input order or not), or fails it with the reason.
    fn start_imap<I, R, E, F, It>(&self, items: It, f: F, ordered: bool) -> Run<R>
    where
        It: Iterator<Item = I> + Send + 'static,
        I: Send + 'static,
        R: Send + 'static,
        E: Into<BoxError> + 'static,
        F: Fn(I) -> Result<R, E> + Send + Sync + 'static,
    {
        match self.check() {
            Ok(workers) => Run::start(
                items,
                f,
                ImapOptions {
                    batch: self.batch,
                    workers,
                    n_jobs: self.n_jobs,
                    window: self.window.unwrap_or(64 * workers).min(MAX_WINDOW),
                    ordered,
                    timeout: self.timeout,
                },
            ),
            Err(error) => Run::failed(error),
        }
    }
}

impl From<usize> for BatchSize {
    fn from(items: usize) -> Self {
        BatchSize::Fixed(items)
    }
}

/// The largest [`Parallel::window`]: its slots are allocated up front.
const MAX_WINDOW: usize = 1 << 20;

/// The most workers a map may ask for: the size limit of a pool.
#[cfg(not(loom))]
const MAX_WORKERS: usize = crate::exec::MAX_THREADS;
#[cfg(loom)]
const MAX_WORKERS: usize = 1024;

fn available_cores() -> usize {
    #[cfg(not(loom))]
    return crate::exec::default_threads();
    #[cfg(loom)]
    1
}
