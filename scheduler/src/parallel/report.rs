//! What a parallel map shows while it runs: joblib-style `verbose` lines and a progress
//! bar. Workers report once per batch, so reporting costs nothing per call.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use indicatif::ProgressBar;
use parking_lot::Mutex;

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
    fn write_line(&self, line: &str) {
        match self {
            LineSink::Stderr => eprintln!("{line}"),
            // A report line that cannot be written is not worth failing the map for.
            LineSink::Writer(w) => {
                let _ = writeln!(w.lock(), "{line}");
            }
        }
    }
}

pub(crate) struct Report {
    total: usize,
    workers: usize,
    started: Instant,
    done: AtomicUsize,
    /// `verbose`: the next count that prints a line (doubling, as joblib's lines thin out).
    next_line: Option<AtomicUsize>,
    lines: LineSink,
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
            bar,
        })
    }

    /// `items` more calls have finished.
    pub(crate) fn advance(&self, items: usize) {
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
                    self.lines.write_line(&self.line(done, ""));
                }
            }
        }
    }

    /// The last line (`verbose`) and the bar's end.
    pub(crate) fn finish(&self, failed_at: Option<usize>) {
        let done = self.done.load(Ordering::Relaxed);
        if self.next_line.is_some() {
            let tail = match failed_at {
                None => " finished".to_string(),
                Some(index) => format!(" failed at item {index}; the rest was cancelled"),
            };
            self.lines.write_line(&self.line(done, &tail));
        }
        if let Some(bar) = &self.bar {
            if failed_at.is_none() {
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
