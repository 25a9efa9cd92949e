//! The executor's one observer interface: everything that watches a computation (user
//! [`Callbacks`](crate::Callbacks), the profiler, the progress bar, `tracing` spans, a
//! cluster's feed of finished results to other processes) implements [`Observer`], and
//! the executor calls nothing else.
//!
//! Per task the executor pays one check of [`Observers::wants_attempts`] and one of
//! [`Observers::wants_outcomes`] when nobody listens; every call into an observer happens
//! under a panic guard in the executor, so a panicking observer fails the computation
//! instead of unwinding through a worker.

use std::sync::Arc;

use crate::diagnostics::TaskInfo;
use crate::node::{NodeDyn, NodeHeader};
use crate::plan::Plan;
use crate::task_value::TaskValue;

/// Which events an observer wants, so that the executor skips the others for free.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Interest {
    /// `task_started` and `task_finished`, around every attempt.
    pub(crate) attempts: bool,
    /// `task_done`, once per task when its outcome is final.
    pub(crate) outcomes: bool,
    /// The size of each successful attempt's result in [`TaskInfo::size`], where its
    /// task's constructor said how to measure it. Only measured when some observer
    /// asks: a result's size costs a virtual call and a look at the value.
    pub(crate) sizes: bool,
    /// `remote_task`, on process 0 of a cluster, for each task another process ran.
    /// When process 0 has such an observer, the other processes report their tasks to
    /// it (a clock reading and a message per task), whether they have one or not.
    pub(crate) remote: bool,
}

impl Interest {
    /// No per-task event: for an observer that only hands out per-computation ones
    /// (see [`Observer::for_computation`]).
    pub(crate) const NONE: Interest = Interest {
        attempts: false,
        outcomes: false,
        sizes: false,
        remote: false,
    };
}

/// Watches one computation. Methods are called from worker threads, concurrently; each
/// has an empty default.
pub(crate) trait Observer: Send + Sync + 'static {
    /// Which per-task events to deliver; read once per computation.
    fn interest(&self) -> Interest {
        Interest {
            attempts: true,
            outcomes: false,
            sizes: false,
            remote: false,
        }
    }
    /// The observer of one computation about to be planned, when it wants one of its
    /// own (the live dashboard keeps computations that run at the same time apart);
    /// `None`, the default, watches with `self`. Called once per computation, on the
    /// thread that calls `compute`, before [`planned`](Self::planned).
    fn for_computation(&self) -> Option<Arc<dyn Observer>> {
        None
    }
    /// Once the plan is made, before any task runs: the graph as it will run (the live
    /// dashboard draws it).
    fn planned(&self, _plan: &Plan<'_>) {}
    /// Before any task runs: the number of threads that will run tasks.
    fn threads(&self, _threads: usize) {}
    /// Before any task runs: the number of tasks in the plan.
    fn start(&self, _tasks: usize) {}
    /// An attempt begins. What it returns (a clock reading, a span id) comes back in
    /// [`task_finished`](Self::task_finished) for the same attempt: attempts nest on one
    /// thread (a task may compute a graph inside), so observers keep no "current task".
    fn task_started(&self, _task: &TaskInfo<'_>) -> u64 {
        0
    }
    /// An attempt ended; `ok` is false for an error or a panic. `task.size` is the
    /// result's size when this observer asked for [`Interest::sizes`] and it is known.
    fn task_finished(&self, _task: &TaskInfo<'_>, _started: u64, _ok: bool) {}
    /// Task `t`'s outcome is final: its value is stored (`succeeded`) or its failure
    /// recorded (or it was skipped). Its inputs are still held.
    fn task_done(&self, _plan: &Plan<'_>, _t: u32, _succeeded: bool) {}
    /// On process 0 of a cluster: task `t` ran on another process (see
    /// [`Interest::remote`]). Called from the cluster's network thread.
    #[cfg(feature = "cluster")]
    fn remote_task(&self, _plan: &Plan<'_>, _t: u32, _ran: &crate::cluster::RemoteTask) {}
    /// After every task finished or was skipped; `ok` when the computation succeeded.
    fn finish(&self, _ok: bool) {}
}

/// The observers of one computation, with their interests summed up.
#[derive(Clone, Default)]
pub(crate) struct Observers {
    all: Vec<Arc<dyn Observer>>,
    /// Indices into `all` of those wanting attempts, and outcomes.
    attempts: Vec<usize>,
    outcomes: Vec<usize>,
    /// Whether any observer wants result sizes.
    sizes: bool,
}

/// What [`Observers::task_started`] returns for [`Observers::task_finished`]: one value
/// per interested observer, inline for the usual few.
pub(crate) struct Started {
    inline: [u64; 4],
    rest: Vec<u64>,
}

impl Started {
    fn push(&mut self, i: usize, value: u64) {
        match self.inline.get_mut(i) {
            Some(slot) => *slot = value,
            None => self.rest.push(value),
        }
    }

    fn get(&self, i: usize) -> u64 {
        self.inline
            .get(i)
            .copied()
            .unwrap_or_else(|| self.rest[i - self.inline.len()])
    }
}

impl Observers {
    /// Adds an observer; its [`interest`](Observer::interest) is read now.
    pub(crate) fn push(&mut self, observer: Arc<dyn Observer>) {
        let interest = observer.interest();
        let index = self.all.len();
        self.all.push(observer);
        if interest.attempts {
            self.attempts.push(index);
        }
        if interest.outcomes {
            self.outcomes.push(index);
        }
        self.sizes |= interest.sizes;
    }

    /// The observers of one computation: each one's
    /// [`for_computation`](Observer::for_computation), or itself.
    pub(crate) fn for_computation(&self) -> Observers {
        let mut observers = Observers::default();
        for o in &self.all {
            observers.push(o.for_computation().unwrap_or_else(|| o.clone()));
        }
        observers
    }

    #[inline]
    pub(crate) fn wants_attempts(&self) -> bool {
        !self.attempts.is_empty()
    }

    #[inline]
    pub(crate) fn wants_outcomes(&self) -> bool {
        !self.outcomes.is_empty()
    }

    /// Every observer, in the order they were added: what a backend with events of its
    /// own (the cluster's reports of other processes' tasks) delivers them to.
    pub(crate) fn all(&self) -> &[Arc<dyn Observer>] {
        &self.all
    }

    /// Delivers `planned` to every observer, stopping at the first that panics (no
    /// observer has been started yet, so none is left waiting for `finish`).
    pub(crate) fn planned(&self, plan: &Plan<'_>) -> Result<(), Panic> {
        self.all()
            .iter()
            .try_for_each(|o| guarded(|| o.planned(plan)))
    }

    /// As [`planned`](Self::planned), for `threads`.
    pub(crate) fn threads(&self, threads: usize) -> Result<(), Panic> {
        self.all()
            .iter()
            .try_for_each(|o| guarded(|| o.threads(threads)))
    }

    /// Delivers `start` to each observer in turn. When one panics, those already
    /// started, and the one that panicked (it may have begun its bookkeeping), are
    /// finished as failed at once, so that none shows a computation that never ends;
    /// the later ones are never started. Returns the panic.
    pub(crate) fn start(&self, tasks: usize) -> Result<(), Panic> {
        for (i, o) in self.all().iter().enumerate() {
            if let Err(payload) = guarded(|| o.start(tasks)) {
                for o in self.all()[..=i].iter().rev() {
                    drop_panic(guarded(|| o.finish(false)));
                }
                return Err(payload);
            }
        }
        Ok(())
    }

    /// Delivers `finish` to every observer, each under its own guard: one that panics
    /// does not keep the others from closing their computation. Returns the first panic.
    pub(crate) fn finish(&self, ok: bool) -> Result<(), Panic> {
        first_panic(self.all().iter().map(|o| guarded(|| o.finish(ok))))
    }

    /// An attempt begins: `task_started` to each observer that wants attempts. When one
    /// panics, those it came after are told the attempt finished (failed), each under
    /// its own guard, so that none shows the task running for ever; the panic is
    /// returned, and the caller fails the task.
    #[cold]
    pub(crate) fn task_started(&self, header: &NodeHeader, attempt: u32) -> Result<Started, Panic> {
        let info = TaskInfo::new(header, attempt);
        let mut started = Started {
            inline: [0; 4],
            rest: Vec::new(),
        };
        for (i, &o) in self.attempts.iter().enumerate() {
            match guarded(|| self.all[o].task_started(&info)) {
                Ok(value) => started.push(i, value),
                Err(payload) => {
                    for (j, &o) in self.attempts[..i].iter().enumerate().rev() {
                        let value = started.get(j);
                        drop_panic(guarded(|| self.all[o].task_finished(&info, value, false)));
                    }
                    return Err(payload);
                }
            }
        }
        Ok(started)
    }

    /// An attempt of `node` ended with `value` (`None`: it failed or panicked).
    #[cold]
    pub(crate) fn task_finished(
        &self,
        node: &dyn NodeDyn,
        attempt: u32,
        started: &Started,
        value: Option<&TaskValue>,
    ) -> Result<(), Panic> {
        let mut info = TaskInfo::new(node.header(), attempt);
        let ok = value.is_some();
        // Measured only for an observer that asked (the dashboard's results held).
        if let Some(value) = value.filter(|_| self.sizes) {
            info.size = node.result_size(value.as_any());
        }
        // In reverse, so that nested observers (spans) close in the order they opened;
        // each under its own guard, so that one panicking does not leave the others
        // showing the attempt running.
        first_panic(
            self.attempts
                .iter()
                .enumerate()
                .rev()
                .map(|(i, &o)| guarded(|| self.all[o].task_finished(&info, started.get(i), ok))),
        )
    }

    #[cold]
    pub(crate) fn task_done(&self, plan: &Plan<'_>, t: u32, succeeded: bool) {
        for &o in &self.outcomes {
            self.all[o].task_done(plan, t, succeeded);
        }
    }
}

/// A panic caught from an observer: its payload.
pub(crate) type Panic = Box<dyn std::any::Any + Send>;

/// Calls one observer's method under a panic guard: observers are user code (callbacks)
/// or hold user state, and a panic must fail the computation, not unwind through a
/// worker or `compute`.
#[inline]
fn guarded<R>(call: impl FnOnce() -> R) -> Result<R, Panic> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call))
}

/// The first panic of calls already made (every call is made: the iterator is driven to
/// its end). Later panics are dropped under a guard, since their payloads' `Drop` is
/// user code too.
fn first_panic(calls: impl Iterator<Item = Result<(), Panic>>) -> Result<(), Panic> {
    let mut first = Ok(());
    for call in calls {
        match (&first, call) {
            (Ok(()), Err(payload)) => first = Err(payload),
            (_, other) => drop_panic(other),
        }
    }
    first
}

/// Drops the outcome of a guarded call that is not reported (a second panic while the
/// first is being handled), its payload's `Drop` under a guard.
fn drop_panic<R>(outcome: Result<R, Panic>) {
    if let Err(payload) = outcome {
        let _ = crate::error::drop_guarded(payload);
    }
}

impl std::fmt::Debug for Observers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} observers", self.all.len())
    }
}
