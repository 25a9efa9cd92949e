//! The engine of `Parallel::map`: one loop per worker over batches claimed from a shared
//! counter, results written straight into the output `Vec` at their item's index.
//!
//! Why not one graph task per item or per batch: a task costs planning and scheduling
//! (about 100 ns), a claim costs one `fetch_add`. The loops still run as ordinary tasks
//! of a computation on our pool, so nesting, panics and the pool's threads behave as for
//! any graph; only the items bypass the graph.
//!
//! Which slots hold a value is known without per-item bookkeeping: claims are handed out
//! in index order, and a worker finishes every claim it makes unless a call fails, in
//! which case it records where. So after the run, the results below the final counter are
//! written except inside failed claims, and the items left are the rest of failed claims
//! and everything past the counter.

use std::cell::Cell;
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use super::buffers::{Items, Results};
use super::report::Report;
use crate::batch::{BatchSize, Batcher, ClaimCursor};
use crate::error::{drop_guarded, panic_message, BoxError, Error};
use std::time::{Duration, Instant};

/// A call that failed, and the claim it was part of.
struct Failure {
    index: usize,
    claim_end: usize,
    failure: CallFailure,
}

/// Why the call at a failure's index did not give a result.
enum CallFailure {
    Failed(BoxError),
    Panicked(String),
    /// The map's deadline passed: the call was running at it (`running`), or had not
    /// started.
    TimedOut {
        running: bool,
        after: Duration,
    },
}

impl Failure {
    fn into_error(self) -> Error {
        let index = self.index;
        match self.failure {
            CallFailure::Failed(source) => {
                Error::Parallel(crate::ParallelError::Item { index, source })
            }
            CallFailure::Panicked(message) => {
                Error::Parallel(crate::ParallelError::ItemPanic { index, message })
            }
            CallFailure::TimedOut { running, after } => {
                Error::Parallel(crate::ParallelError::ItemTimeout {
                    index,
                    after,
                    running,
                })
            }
        }
    }
}

pub(crate) struct MapJob<'a, I, R, G> {
    items: Items<I>,
    results: Results<R>,
    len: usize,
    cursor: ClaimCursor,
    /// Set by the first failure: workers stop claiming.
    stop: AtomicBool,
    failures: Mutex<Vec<Failure>>,
    call: &'a G,
    batch: BatchSize,
    workers: usize,
    report: Option<&'a Report>,
    /// No call starts after this instant; the limit it came from.
    deadline: Option<(Instant, Duration)>,
}

impl<'a, I, R, E, G> MapJob<'a, I, R, G>
where
    G: Fn(I) -> Result<R, E>,
    E: Into<BoxError>,
{
    pub(crate) fn new(
        items: Vec<I>,
        call: &'a G,
        batch: BatchSize,
        workers: usize,
        report: Option<&'a Report>,
        timeout: Option<Duration>,
    ) -> Self {
        let (mut items, len) = Items::new(items);
        let results = Results::for_items(&mut items, len);
        MapJob {
            items,
            results,
            len,
            cursor: ClaimCursor::new(0, len),
            stop: AtomicBool::new(false),
            failures: Mutex::new(Vec::new()),
            call,
            batch,
            workers,
            report,
            // A limit too far away for an `Instant` is no limit.
            deadline: timeout.and_then(|limit| Some((Instant::now().checked_add(limit)?, limit))),
        }
    }

    /// One worker's loop: claim, call, store, until the items run out or a call fails.
    pub(crate) fn work(&self) {
        let mut batcher = Batcher::new(self.batch, self.workers);
        let others_waiting = super::pool_run::others_waiting();
        while !self.stop.load(Ordering::Relaxed) {
            // The items were written before the workers started and the results are
            // read after they finished, so the cursor orders nothing but the claims.
            let Some(claim) = self.cursor.claim(&batcher) else {
                return;
            };
            let start = claim.start;
            batcher.start();
            let current = Cell::new(start);
            let outcome =
                catch_unwind(AssertUnwindSafe(|| self.run_claim(claim.clone(), &current)));
            let failure = match outcome {
                Ok(Ok(())) => None,
                Ok(Err(failure)) => Some(failure),
                Err(payload) => Some(CallFailure::Panicked(panic_message(payload))),
            };
            if let Some(failure) = failure {
                self.stop.store(true, Ordering::Relaxed);
                self.failures.lock().push(Failure {
                    index: current.get(),
                    claim_end: claim.end,
                    failure,
                });
                return;
            }
            batcher.finished(claim.len());
            if let Some(report) = self.report {
                if report.advance(claim.len()).is_err() {
                    // The user's `verbose_to` writer panicked: the map fails as for a
                    // failed call, and nobody claims more (see `finish`). This claim
                    // was completed, so its results count as written.
                    self.stop.store(true, Ordering::Relaxed);
                    return;
                }
            }
            if others_waiting() {
                // Take turns: `Parallel::try_map` starts another round for the rest.
                return;
            }
        }
    }

    #[inline]
    fn run_claim(&self, claim: Range<usize>, current: &Cell<usize>) -> Result<(), CallFailure> {
        for index in claim {
            current.set(index);
            if let Some(after) = self.past_deadline() {
                // No call starts after the deadline. The failure's item counts as
                // taken (see `finish`), so it is dropped here.
                // SAFETY: as below.
                drop_guarded(unsafe { self.items.take(index) });
                return Err(CallFailure::TimedOut {
                    running: false,
                    after,
                });
            }
            // SAFETY: `index` is below `len` and inside this worker's claim, which no
            // other worker received; each index is taken once.
            let item = unsafe { self.items.take(index) };
            let result = (self.call)(item).map_err(|e| CallFailure::Failed(e.into()))?;
            if let Some(after) = self.past_deadline() {
                // It was running at the deadline.
                drop_guarded(result);
                return Err(CallFailure::TimedOut {
                    running: true,
                    after,
                });
            }
            // SAFETY: as above, the slot belongs to this claim alone.
            unsafe { self.results.write(index, result) };
        }
        Ok(())
    }

    /// The map's time limit, when its deadline has passed.
    #[inline]
    fn past_deadline(&self) -> Option<Duration> {
        let (at, after) = self.deadline?;
        (Instant::now() >= at).then_some(after)
    }

    /// Whether items are left to claim (a round ended early to let others run).
    pub(crate) fn unfinished(&self) -> bool {
        !self.stop.load(Ordering::Relaxed) && !self.cursor.exhausted()
    }

    /// After every worker has returned: the results in input order, or the failure with
    /// the lowest index (else the report writer's panic), dropping exactly the results and
    /// items that are live.
    ///
    /// `run` is what running the workers returned; when it failed without any call
    /// failing (a scheduler error), which slots are live is unknown, so both buffers are
    /// leaked instead of guessed at.
    pub(crate) fn finish(self, run: Result<(), Error>) -> Result<Vec<R>, Error> {
        let MapJob {
            mut items,
            mut results,
            len,
            cursor,
            failures,
            report,
            ..
        } = self;
        let mut failures = failures.into_inner();
        let claimed = cursor.into_claimed();
        if failures.is_empty() {
            return match run {
                Ok(()) if claimed == len => {
                    // SAFETY: no call failed and every worker ran until the items ran
                    // out, so each of the `len` claims was completed and its slot written;
                    // the workers have returned, so their writes happened before this.
                    Ok(unsafe { results.into_vec(len) })
                }
                Ok(()) => {
                    // Stopped without a failed call: the report's writer panicked (the
                    // only other reason to stop). Every claim was completed.
                    // SAFETY: as above for the results below `claimed`; the items from
                    // `claimed` on were never claimed, so never taken.
                    unsafe {
                        results.drop_range(0..claimed);
                        items.drop_range(claimed..len);
                    }
                    Err(report.and_then(Report::writer_error).unwrap_or_else(|| {
                        Error::Internal("a parallel map stopped without a failure".into())
                    }))
                }
                Err(error) => {
                    std::mem::forget(results);
                    std::mem::forget(items);
                    Err(error)
                }
            };
        }
        failures.sort_by_key(|f| f.index);
        let mut written_from = 0;
        for failure in &failures {
            // SAFETY: see the module comment: below `claimed` and outside failed claims
            // every slot was written; the rest of a failed claim was never taken. Ranges
            // are disjoint because claims are.
            unsafe {
                results.drop_range(written_from..failure.index);
                items.drop_range(failure.index + 1..failure.claim_end);
            }
            written_from = failure.claim_end;
        }
        // SAFETY: as above, for the completed claims after the last failure and the
        // items nobody claimed.
        unsafe {
            results.drop_range(written_from..claimed);
            items.drop_range(claimed..len);
        }
        Err(failures.swap_remove(0).into_error())
    }
}
