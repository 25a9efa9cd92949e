//! Reports of where and when tasks ran, from the other processes to process 0, whose
//! dashboard (an observer asking for [`Interest::remote`](crate::observer::Interest))
//! then shows every process's workers.
//!
//! Whether process 0 wants them is its own affair: the other processes need no
//! dashboard. Process 0 says so in its greeting at the start of each computation
//! (`Body::Hello`); until a process has heard it, it keeps its reports back, and it does
//! not close its share of the computation before (it could not send them after). Once
//! told no, it stops timing its tasks.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use super::message::Envelope;

/// Where and when another process of a cluster ran a task, as process 0's observers
/// learn it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RemoteTask {
    pub(crate) process: u32,
    /// The pool worker that ran it there; `None` for that process's calling thread.
    pub(crate) worker: Option<u32>,
    /// Nanoseconds since that process started its share of the computation (the
    /// processes' clocks are not compared: each starts at about the same time).
    pub(crate) start_ns: u64,
    pub(crate) end_ns: u64,
    pub(crate) ok: bool,
}

/// What this process knows of process 0's wish for reports.
enum Wish {
    /// Not heard yet: the reports made so far, held back.
    Unknown(Vec<Envelope>),
    Wanted,
    NotWanted,
}

/// One process's side of the reports, for one computation.
pub(crate) struct Reports {
    /// On process 0: whether it wants the others' reports (it says so in its greeting).
    wanted_here: bool,
    /// On the other processes: when this process's share of the computation started,
    /// which its reports count from. `None` on process 0, which reports to nobody.
    since: Option<Instant>,
    /// Set once process 0 said it wants none: the per-task hooks return at once.
    off: AtomicBool,
    wish: Mutex<Wish>,
}

impl Reports {
    /// Process `me`'s reports; `wanted_here` is read on process 0 only.
    pub(crate) fn new(me: usize, wanted_here: bool) -> Self {
        let reporter = me != 0;
        Reports {
            wanted_here: wanted_here && !reporter,
            since: reporter.then(Instant::now),
            off: AtomicBool::new(!reporter),
            wish: Mutex::new(if reporter {
                Wish::Unknown(Vec::new())
            } else {
                Wish::NotWanted
            }),
        }
    }

    /// What this process says in its greeting: whether it wants the others' reports.
    pub(crate) fn asks(&self) -> bool {
        self.wanted_here
    }

    /// Whether this process may report (it is not process 0): the executor then calls
    /// its attempt hooks, to time each attempt.
    pub(crate) fn may_report(&self) -> bool {
        self.since.is_some()
    }

    /// Nanoseconds since this process's share started, or `None` once reports are off.
    #[inline]
    pub(crate) fn now(&self) -> Option<u64> {
        let since = self.since.filter(|_| !self.off.load(Ordering::Relaxed))?;
        Some(u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }

    /// Sends `report` to process 0 through `queue` if it wants it, holds it back until
    /// process 0 has said, or drops it. Returns whether it was queued.
    pub(crate) fn send(&self, report: Envelope, queue: &Mutex<Vec<Envelope>>) -> bool {
        match &mut *self.wish.lock() {
            Wish::Unknown(held) => {
                held.push(report);
                false
            }
            Wish::Wanted => {
                queue.lock().push(report);
                true
            }
            Wish::NotWanted => false,
        }
    }

    /// Process 0 said whether it wants reports: those held back go to `queue`, or are
    /// dropped. Returns whether any was queued. Later greetings change nothing.
    pub(crate) fn decide(&self, wanted: bool, queue: &Mutex<Vec<Envelope>>) -> bool {
        let mut wish = self.wish.lock();
        let Wish::Unknown(held) = &mut *wish else {
            return false;
        };
        let held = std::mem::take(held);
        if wanted {
            *wish = Wish::Wanted;
        } else {
            *wish = Wish::NotWanted;
            self.off.store(true, Ordering::Relaxed);
        }
        let queued = wanted && !held.is_empty();
        if queued {
            queue.lock().extend(held);
        }
        queued
    }

    /// Whether process 0 has said (always, on process 0): until then this process must
    /// not close its share of the computation, or the reports held could not leave.
    pub(crate) fn decided(&self) -> bool {
        !matches!(*self.wish.lock(), Wish::Unknown(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::message::Body;

    fn report(task: u32) -> Envelope {
        Envelope {
            to: 0,
            from: 1,
            task,
            body: Body::Ran {
                worker: Some(0),
                start_ns: 1,
                end_ns: 2,
                ok: true,
            },
        }
    }

    fn tasks(queue: &Mutex<Vec<Envelope>>) -> Vec<u32> {
        queue.lock().iter().map(|e| e.task).collect()
    }

    #[test]
    fn reports_wait_for_process_0_and_go_when_it_wants_them() {
        let (reports, queue) = (Reports::new(1, false), Mutex::new(Vec::new()));
        assert!(reports.may_report() && !reports.asks() && !reports.decided());
        assert!(reports.now().is_some());
        assert!(!reports.send(report(1), &queue));
        assert!(!reports.send(report(2), &queue));
        assert!(tasks(&queue).is_empty(), "held back until process 0 says");
        assert!(reports.decide(true, &queue));
        assert!(reports.decided());
        assert_eq!(tasks(&queue), [1, 2]);
        assert!(reports.send(report(3), &queue));
        assert_eq!(tasks(&queue), [1, 2, 3]);
        // A later greeting changes nothing.
        assert!(!reports.decide(false, &queue));
        assert!(reports.now().is_some());
    }

    #[test]
    fn reports_are_dropped_and_timing_stops_when_process_0_wants_none() {
        let (reports, queue) = (Reports::new(2, true), Mutex::new(Vec::new()));
        assert!(!reports.asks(), "only process 0 asks");
        reports.send(report(1), &queue);
        assert!(!reports.decide(false, &queue));
        assert!(reports.decided());
        assert!(reports.now().is_none());
        assert!(!reports.send(report(2), &queue));
        assert!(tasks(&queue).is_empty());
    }

    #[test]
    fn process_0_reports_to_nobody_and_asks_when_watched() {
        let reports = Reports::new(0, true);
        assert!(reports.asks() && reports.decided() && !reports.may_report());
        assert!(reports.now().is_none());
        assert!(!Reports::new(0, false).asks());
    }
}
