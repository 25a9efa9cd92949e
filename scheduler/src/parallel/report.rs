//! What a parallel map shows while it runs: joblib-style `verbose` lines and a progress
//! bar. Workers report once per batch, so reporting costs nothing per call.

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use indicatif::ProgressBar;
use parking_lot::Mutex;

use crate::error::{panic_message, Error};

/// Where `verbose` lines go: stderr, or a writer the user gave
/// ([`Parallel::verbose_to`](crate::Parallel::verbose_to)).
#[derive(Clone, Default)]
pub(crate) enum LineSink {
    #[default]
    Stderr,
    Writer(Arc<Mutex<Box<dyn Write + Send>>>),
}

impl std::fmt::Debug for LineSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineSink::Stderr => f.write_str("Stderr"),
            LineSink::Writer(_) => f.write_str("Writer(..)"),
        }
    }
}

impl LineSink {
    /// Writes one line. A write that fails (an `io::Error`) loses that line only: a
    /// report line is not worth failing the map for. A user's writer that panics is
    /// caught here (it must not unwind through a worker or out of the map) and its
    /// message returned.
    fn write_line(&self, line: &str) -> Result<(), String> {
        match self {
            LineSink::Stderr => {
                // Not `eprintln!`, which panics when stderr is closed.
                let _ = writeln!(std::io::stderr(), "{line}");
                Ok(())
            }
            LineSink::Writer(w) => catch_unwind(AssertUnwindSafe(|| {
                let _ = writeln!(w.lock(), "{line}");
            }))
            .map_err(panic_message),
        }
    }
}

/// The user's [`verbose_to`](crate::Parallel::verbose_to) writer panicked: the map
/// stops and fails with [`Report::writer_error`].
#[derive(Debug)]
pub(crate) struct WriterPanicked;

pub(crate) struct Report {
    total: usize,
    workers: usize,
    started: Instant,
    done: AtomicUsize,
    /// `verbose`: the next count that prints a line (doubling, as joblib's lines thin out).
    next_line: Option<AtomicUsize>,
    lines: LineSink,
    /// The message of the writer's panic, once it panicked; nothing is written to it
    /// after that.
    writer_panic: Mutex<Option<String>>,
    bar: Option<ProgressBar>,
}

impl Report {
    /// `None` when neither is asked for, so workers skip reporting altogether.
    pub(crate) fn new(
        total: usize,
        workers: usize,
        verbose: Option<LineSink>,
        progress: bool,
    ) -> Option<Self> {
        if verbose.is_none() && !progress {
            return None;
        }
        let bar = progress.then(|| crate::diagnostics::stderr_bar(total as u64, "items"));
        Some(Report {
            total,
            workers,
            started: Instant::now(),
            done: AtomicUsize::new(0),
            next_line: verbose.is_some().then(|| AtomicUsize::new(1)),
            lines: verbose.unwrap_or_default(),
            writer_panic: Mutex::new(None),
            bar,
        })
    }

    /// `items` more calls have finished. Fails when the writer panicked on the line this
    /// call wrote: the map must then stop.
    pub(crate) fn advance(&self, items: usize) -> Result<(), WriterPanicked> {
        let done = self.done.fetch_add(items, Ordering::Relaxed) + items;
        if let Some(bar) = &self.bar {
            bar.inc(items as u64);
        }
        if let Some(next) = &self.next_line {
            let due = next.load(Ordering::Relaxed);
            if done >= due && done < self.total {
                let after = done.saturating_mul(2);
                // One worker prints each line.
                if next
                    .compare_exchange(due, after, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
                {
                    return self.write_line(&self.line(done, ""));
                }
            }
        }
        Ok(())
    }

    /// Writes `line` unless the writer panicked before, and records a panic.
    fn write_line(&self, line: &str) -> Result<(), WriterPanicked> {
        let mut panicked = self.writer_panic.lock();
        if panicked.is_some() {
            return Err(WriterPanicked);
        }
        // Under the lock, so the one worker whose line panicked records it before
        // another writes again.
        self.lines.write_line(line).map_err(|message| {
            *panicked = Some(message);
            WriterPanicked
        })
    }

    /// The error that fails the map once the writer panicked.
    pub(crate) fn writer_error(&self) -> Option<Error> {
        let message = self.writer_panic.lock().clone()?;
        Some(Error::CallbackPanic {
            hook: "Parallel::verbose_to",
            key: None,
            message,
        })
    }

    /// The last line (`verbose`) and the bar's end, for a map that ended with
    /// `outcome`. The writer may panic here too: see [`writer_error`](Self::writer_error).
    pub(crate) fn finish(&self, outcome: Result<(), &Error>) {
        let done = self.done.load(Ordering::Relaxed);
        if self.next_line.is_some() {
            let tail = match outcome {
                Ok(()) => " finished".to_string(),
                Err(error) => match error.item_index() {
                    Some(index) => format!(" failed at item {index}; the rest was cancelled"),
                    None => format!(" failed: {error}"),
                },
            };
            // A panic is recorded for `writer_error`.
            let _ = self.write_line(&self.line(done, &tail));
        }
        if let Some(bar) = &self.bar {
            if outcome.is_ok() && self.writer_panic.lock().is_none() {
                bar.finish();
            } else {
                bar.abandon();
            }
        }
    }

    fn line(&self, done: usize, tail: &str) -> String {
        // Counts padded to the total's width, as joblib pads them, so lines align.
        let width = self.total.to_string().len();
        format!(
            "[Parallel(n_jobs={})]: Done {done:>width$} of {} items | elapsed: {:.2} s{tail}",
            self.workers,
            self.total,
            self.started.elapsed().as_secs_f64()
        )
    }

    #[cfg(all(test, not(loom)))]
    pub(crate) fn done(&self) -> usize {
        self.done.load(Ordering::Relaxed)
    }
}
