//! What one worker records: touched only by that worker while tasks run (and by the
//! update thread a few times a second), so its lock is uncontended in the hot path.
//! Computations running at the same time share the worker's shard; their counters are
//! kept apart by the computation's key.

use super::stream::{Bar, Ring};

/// Counters of one function of one computation on one worker.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct FnCount {
    /// The computation's key (see `live::Run`).
    pub(crate) run: u64,
    pub(crate) name: &'static str,
    /// Attempts started.
    pub(crate) started: u64,
    /// Attempts that succeeded.
    pub(crate) done: u64,
    /// Attempts that failed with no retry left: the task failed.
    pub(crate) failed: u64,
    /// Attempts that failed and were retried.
    pub(crate) retried: u64,
    pub(crate) busy_ns: u64,
    /// The part of `busy_ns` spent in outermost tasks (a nested task's time counts in
    /// its outer task's): what the computation kept this worker busy.
    pub(crate) outer_busy_ns: u64,
}

/// How deep a worker's nested tasks are remembered (a task that computes runs inner
/// tasks on its own worker while it is itself still running).
const NESTING_KEPT: usize = 64;

#[derive(Default)]
pub(crate) struct Shard {
    pub(crate) funcs: Vec<FnCount>,
    last: usize,
    /// Tasks running on this worker, innermost last, with their computation's key. No
    /// start time: a clock read per task start would cost more than the rest of the
    /// start hook; the update thread times running tasks from when it first sees them
    /// (see `Live::sample`).
    pub(crate) running: Vec<(&'static str, u64)>,
    /// Attempts started here, ever: tells the update thread whether the task it sees
    /// running is the one it saw before.
    pub(crate) starts: u64,
    /// Time spent in tasks, counting a nested task's time once (in its outermost task).
    pub(crate) busy_ns: u64,
    pub(crate) ring: Ring,
}

impl Shard {
    #[inline]
    pub(crate) fn func(&mut self, run: u64, name: &'static str) -> &mut FnCount {
        let i = match self.funcs.get(self.last) {
            Some(f) if f.run == run && std::ptr::eq(f.name, name) => self.last,
            _ => self.find(run, name),
        };
        &mut self.funcs[i]
    }

    #[cold]
    fn find(&mut self, run: u64, name: &'static str) -> usize {
        self.last = match self
            .funcs
            .iter()
            .position(|f| f.run == run && f.name == name)
        {
            Some(i) => i,
            None => {
                self.funcs.push(FnCount {
                    run,
                    name,
                    ..FnCount::default()
                });
                self.funcs.len() - 1
            }
        };
        self.last
    }

    #[inline]
    pub(crate) fn started(&mut self, run: u64, name: &'static str) {
        self.func(run, name).started += 1;
        self.starts += 1;
        if self.running.len() < NESTING_KEPT {
            self.running.push((name, run));
        }
    }

    /// Records a finished attempt that ran for `duration` ns; `final_failure`: it failed
    /// with no retry left.
    #[inline]
    pub(crate) fn finished(&mut self, bar: Bar, final_failure: bool, duration: u64) {
        let outermost = self.running.len() <= 1;
        self.running.pop();
        if outermost {
            self.busy_ns += duration;
        }
        let f = self.func(bar.run, bar.name);
        f.busy_ns += duration;
        if outermost {
            f.outer_busy_ns += duration;
        }
        match (bar.ok, final_failure) {
            (true, _) => f.done += 1,
            (false, true) => f.failed += 1,
            (false, false) => f.retried += 1,
        }
        self.ring.push(bar);
    }

    /// The busy time of computation `run` here.
    pub(crate) fn busy_of(&self, run: u64) -> u64 {
        self.funcs
            .iter()
            .filter(|f| f.run == run)
            .map(|f| f.outer_busy_ns)
            .sum()
    }

    /// Forgets the counters of computation `run`, which ended (its figures were taken).
    pub(crate) fn forget(&mut self, run: u64) {
        self.funcs.retain(|f| f.run != run);
        self.last = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(name: &'static str, ok: bool) -> Bar {
        Bar {
            start: 0,
            end: 5,
            name,
            id: 1,
            custom: None,
            ok,
            run: 7,
            size: None,
        }
    }

    #[test]
    fn counts_per_function_with_retries_apart_from_failures() {
        let mut s = Shard::default();
        s.started(7, "f");
        s.finished(bar("f", true), false, 5);
        s.started(7, "g");
        s.finished(bar("g", false), false, 5);
        s.started(7, "g");
        s.finished(bar("g", false), true, 5);
        s.started(7, "f");
        assert_eq!(s.running, vec![("f", 7)]);
        assert_eq!(s.starts, 4);
        let f = s.funcs.iter().find(|f| f.name == "f").unwrap();
        assert_eq!((f.started, f.done, f.failed), (2, 1, 0));
        let g = s.funcs.iter().find(|f| f.name == "g").unwrap();
        assert_eq!((g.started, g.done, g.failed, g.retried), (2, 0, 1, 1));
        assert_eq!(s.busy_ns, 15);
        assert_eq!(s.busy_of(7), 15);
        assert_eq!(s.ring.pushed(), 3);
    }

    #[test]
    fn computations_on_one_worker_keep_their_counters_apart() {
        let mut s = Shard::default();
        // One task of `run` on this worker: started, then finished (or failed for good).
        let task = |s: &mut Shard, run: u64, ok: bool, ns: u64| {
            s.started(run, "f");
            s.finished(
                Bar {
                    run,
                    ..bar("f", ok)
                },
                !ok,
                ns,
            );
        };
        task(&mut s, 1, true, 4);
        task(&mut s, 2, true, 6);
        task(&mut s, 2, false, 1);
        let of = |run: u64| s.funcs.iter().find(|f| f.run == run).cloned().unwrap();
        assert_eq!((of(1).done, of(1).failed, of(1).busy_ns), (1, 0, 4));
        assert_eq!((of(2).done, of(2).failed, of(2).busy_ns), (1, 1, 7));
        assert_eq!((s.busy_of(1), s.busy_of(2), s.busy_ns), (4, 7, 11));
        s.forget(1);
        assert!(s.funcs.iter().all(|f| f.run == 2));
        assert_eq!(s.busy_of(1), 0);
        assert_eq!(s.busy_of(2), 7);
    }

    #[test]
    fn nested_tasks_count_busy_time_once() {
        let mut s = Shard::default();
        s.started(7, "outer");
        s.started(7, "inner");
        s.finished(bar("inner", true), false, 3);
        assert_eq!(s.running, vec![("outer", 7)]);
        s.finished(bar("outer", true), false, 10);
        assert_eq!(s.busy_ns, 10);
        assert!(s.running.is_empty());
    }
}
