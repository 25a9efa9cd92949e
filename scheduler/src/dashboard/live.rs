//! The observer: what the executor's hooks feed, aggregated for the page.
//!
//! Per task, a worker locks its own shard (uncontended), bumps its function's counters
//! and writes one bar into its ring: no allocation, no key formatting, no shared
//! cache line. Everything else (merging shards, occupancy, the history) happens a few
//! times a second on the update thread, or once per computation.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crossbeam_utils::CachePadded;
use parking_lot::Mutex;

use super::graph::{self, Detail, GraphView, Planned};
use super::shard::{FnCount, Shard};
use super::stream::Bar;
use crate::diagnostics::TaskInfo;
use crate::observer::Observer;
use crate::plan::Plan;

/// Shard 0 is for calling threads (`Scheduler::Sync`), shards 1.. for pool workers;
/// workers with higher indices share (correct, only contended).
const WORKER_SHARDS: usize = 64;

/// Past computations kept, with their figures (the oldest is forgotten first).
pub(crate) const HISTORY: usize = 32;

/// Bars a past computation keeps for its reopened stream.
pub(crate) const PAST_BARS: usize = 512;

/// One row of the function table.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct FnRow {
    pub(crate) name: &'static str,
    /// Tasks of this function in the plan (0 for tasks of nested computations that
    /// were not planned with it).
    pub(crate) total: u64,
    pub(crate) counts: FnCount,
}

impl FnRow {
    pub(crate) fn running(&self) -> u64 {
        let c = &self.counts;
        c.started.saturating_sub(c.done + c.failed + c.retried)
    }
}

/// One worker's line: label, share of the last interval spent in tasks, what it runs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WorkerRow {
    /// Shard index: 0 the calling thread, `w + 1` pool worker `w`.
    pub(crate) shard: usize,
    pub(crate) occupancy: f64,
    pub(crate) running: Option<&'static str>,
    pub(crate) busy_ns: u64,
}

/// The computation running now.
pub(crate) struct Current {
    pub(crate) id: u64,
    pub(crate) started_ns: u64,
    pub(crate) started_unix_ms: u64,
    pub(crate) threads: usize,
    pub(crate) tasks: u64,
    pub(crate) totals: Vec<(&'static str, u64)>,
    pub(crate) view: Arc<GraphView>,
    pub(crate) detail: Option<Arc<Detail>>,
}

/// A finished computation, as it can be reopened.
#[derive(Debug)]
pub(crate) struct Past {
    pub(crate) id: u64,
    pub(crate) started_unix_ms: u64,
    pub(crate) started_ns: u64,
    pub(crate) wall_ns: u64,
    pub(crate) threads: usize,
    pub(crate) tasks: u64,
    pub(crate) ok: bool,
    pub(crate) functions: Vec<FnRow>,
    pub(crate) workers: Vec<WorkerRow>,
    pub(crate) view: Arc<GraphView>,
    /// Final node states when drawn node by node.
    pub(crate) states: Option<Vec<u8>>,
    /// (shard, bar): the last bars of each worker.
    pub(crate) bars: Vec<(usize, Bar)>,
}

impl Past {
    pub(crate) fn done(&self) -> u64 {
        self.functions.iter().map(|f| f.counts.done).sum()
    }
    pub(crate) fn failed(&self) -> u64 {
        self.functions.iter().map(|f| f.counts.failed).sum()
    }
}

#[derive(Default)]
struct Session {
    next_id: u64,
    /// The structure of the next computation to start, from the planning hook.
    pending: Option<Planned>,
    current: Option<Current>,
    history: VecDeque<Arc<Past>>,
}

/// What the update thread remembers between two updates.
#[derive(Default)]
pub(crate) struct Cursor {
    /// Per shard: the ring position sent last.
    stream: Vec<u64>,
    /// Per shard: busy time at the last update.
    busy: Vec<u64>,
    /// Per shard: (the shard's `starts` then, when the update thread first saw its
    /// outermost running task), to time tasks still running.
    running_since: Vec<Option<(u64, u64)>>,
    at_ns: u64,
}

/// The dashboard's aggregate of everything it was fed.
pub(crate) struct Live {
    epoch: Instant,
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    session: Mutex<Session>,
    /// Computations started and not finished (nested ones count: they merge into the
    /// outermost).
    active: AtomicUsize,
    /// Computations started plus computations finished: an update is due when it moved,
    /// even for a computation that began and ended between two updates.
    changes: AtomicUsize,
    collapse_above: usize,
}

impl Live {
    pub(crate) fn new() -> Live {
        Live::with_collapse_above(graph::DEFAULT_COLLAPSE_ABOVE)
    }

    pub(crate) fn with_collapse_above(collapse_above: usize) -> Live {
        Live {
            epoch: Instant::now(),
            shards: (0..=WORKER_SHARDS)
                .map(|_| CachePadded::new(Mutex::new(Shard::default())))
                .collect(),
            session: Mutex::new(Session {
                next_id: 1,
                ..Session::default()
            }),
            active: AtomicUsize::new(0),
            changes: AtomicUsize::new(0),
            collapse_above,
        }
    }

    #[inline]
    fn shard(&self, worker: Option<usize>) -> &Mutex<Shard> {
        &self.shards[worker.map_or(0, |w| 1 + w % WORKER_SHARDS)]
    }

    #[inline]
    pub(crate) fn now_ns(&self) -> u64 {
        // Seconds and nanoseconds, not `as_nanos`: 128-bit arithmetic in the hot path.
        let since = self.epoch.elapsed();
        since.as_secs() * 1_000_000_000 + u64::from(since.subsec_nanos())
    }

    pub(crate) fn is_running(&self) -> bool {
        self.active.load(Ordering::Acquire) > 0
    }

    /// Moves whenever a computation starts or finishes.
    pub(crate) fn changes(&self) -> usize {
        self.changes.load(Ordering::Acquire)
    }

    /// The planning hook: the plan's structure, before anything runs.
    fn record_plan(&self, plan: &Plan<'_>) {
        let mut session = self.session.lock();
        if let Some(current) = session.current.as_mut() {
            // A computation nested in (or beside) the running one: its tasks count in
            // the running one's figures; its graph is not drawn.
            current.tasks += plan.graph().task_count() as u64;
            let planned = graph::take_totals(plan);
            for (name, n) in planned {
                match current.totals.iter_mut().find(|(t, _)| *t == name) {
                    Some(total) => total.1 += n,
                    None => current.totals.push((name, n)),
                }
            }
            return;
        }
        session.pending = Some(graph::take(plan, self.collapse_above));
    }

    fn begin(&self, tasks: usize) {
        let now = self.now_ns();
        let mut session = self.session.lock();
        self.changes.fetch_add(1, Ordering::AcqRel);
        if self.active.fetch_add(1, Ordering::AcqRel) > 0 {
            return;
        }
        let planned = session.pending.take();
        for shard in self.shards.iter() {
            let mut shard = shard.lock();
            shard.reset_counts();
            shard.detail = planned.as_ref().and_then(|p| p.detail.clone());
        }
        let id = session.next_id;
        session.next_id += 1;
        let (view, detail, totals, planned_tasks, threads) = match planned {
            Some(p) => (Arc::new(p.view), p.detail, p.totals, p.tasks, p.threads),
            None => (Arc::default(), None, Vec::new(), tasks as u64, 1),
        };
        session.current = Some(Current {
            id,
            started_ns: now,
            started_unix_ms: unix_ms(),
            threads,
            tasks: planned_tasks.max(tasks as u64),
            totals,
            view,
            detail,
        });
    }

    fn end(&self, ok: bool) {
        let mut session = self.session.lock();
        self.changes.fetch_add(1, Ordering::AcqRel);
        if self.active.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let Some(current) = session.current.take() else {
            return;
        };
        let now = self.now_ns();
        let wall = now.saturating_sub(current.started_ns).max(1);
        let functions = self.functions(&current.totals);
        let mut workers = Vec::new();
        let mut bars = Vec::new();
        for (i, shard) in self.shards.iter().enumerate() {
            let mut shard = shard.lock();
            shard.detail = None;
            if shard.busy_ns > 0 || i <= current.threads && i > 0 {
                workers.push(WorkerRow {
                    shard: i,
                    occupancy: shard.busy_ns as f64 / wall as f64,
                    running: None,
                    busy_ns: shard.busy_ns,
                });
            }
            bars.extend(
                shard
                    .ring
                    .latest(PAST_BARS)
                    .filter(|b| b.end >= current.started_ns)
                    .map(|b| (i, b.clone())),
            );
        }
        // The latest bars overall, at most `PAST_BARS`.
        bars.sort_by_key(|(_, b)| b.end);
        let extra = bars.len().saturating_sub(PAST_BARS);
        bars.drain(..extra);
        let past = Past {
            id: current.id,
            started_unix_ms: current.started_unix_ms,
            started_ns: current.started_ns,
            wall_ns: wall,
            threads: current.threads,
            tasks: current.tasks,
            ok,
            functions,
            workers,
            states: current.detail.as_ref().map(|d| d.snapshot()),
            view: current.view,
            bars,
        };
        if session.history.len() == HISTORY {
            session.history.pop_front();
        }
        session.history.push_back(Arc::new(past));
    }

    /// The function table: planned functions first, in plan order, then functions seen
    /// only while running (nested computations).
    fn functions(&self, totals: &[(&'static str, u64)]) -> Vec<FnRow> {
        let mut rows: Vec<FnRow> = totals
            .iter()
            .map(|&(name, total)| FnRow {
                name,
                total,
                counts: FnCount {
                    name,
                    ..FnCount::default()
                },
            })
            .collect();
        for shard in self.shards.iter() {
            let shard = shard.lock();
            for f in &shard.funcs {
                let row = match rows.iter().position(|r| r.name == f.name) {
                    Some(i) => &mut rows[i],
                    None => {
                        rows.push(FnRow {
                            name: f.name,
                            total: 0,
                            counts: FnCount {
                                name: f.name,
                                ..FnCount::default()
                            },
                        });
                        rows.last_mut().expect("just pushed")
                    }
                };
                let c = &mut row.counts;
                c.started += f.started;
                c.done += f.done;
                c.failed += f.failed;
                c.retried += f.retried;
                c.busy_ns += f.busy_ns;
            }
        }
        rows
    }

    /// What the page is sent a few times a second: the bars new since `cursor`, and
    /// each worker's occupancy since then.
    pub(crate) fn sample(&self, cursor: &mut Cursor) -> Sample {
        let now = self.now_ns();
        let interval = now.saturating_sub(cursor.at_ns).max(1);
        cursor.stream.resize(self.shards.len(), 0);
        cursor.busy.resize(self.shards.len(), 0);
        cursor.running_since.resize(self.shards.len(), None);
        let session = self.session.lock();
        let threads = session.current.as_ref().map_or(0, |c| c.threads);
        let mut workers = Vec::new();
        let mut bars = Vec::new();
        for (i, shard) in self.shards.iter().enumerate() {
            let shard = shard.lock();
            // A task running now was running since the last update if nothing started
            // here since (then it is the same task), else since it was first seen:
            // occupancy is off by at most one update's interval.
            let since = &mut cursor.running_since[i];
            *since = match (shard.running.is_empty(), *since) {
                (true, _) => None,
                (false, Some((starts, at))) if starts == shard.starts => Some((starts, at)),
                (false, _) => Some((shard.starts, now)),
            };
            let running = since.map(|(_, at)| now.saturating_sub(at));
            let busy = shard.busy_ns + running.unwrap_or(0);
            let since = busy.saturating_sub(cursor.busy[i]);
            cursor.busy[i] = busy;
            bars.extend(
                shard
                    .ring
                    .since(cursor.stream[i], super::stream::PER_UPDATE)
                    .map(|b| (i, b.clone())),
            );
            cursor.stream[i] = shard.ring.pushed();
            if busy > 0 || (i > 0 && i <= threads) {
                workers.push(WorkerRow {
                    shard: i,
                    occupancy: (since as f64 / interval as f64).min(1.0),
                    running: shard.running.last().copied(),
                    busy_ns: busy,
                });
            }
        }
        cursor.at_ns = now;
        let current = session.current.as_ref().map(|c| CurrentFigures {
            id: c.id,
            elapsed_ns: now.saturating_sub(c.started_ns),
            started_unix_ms: c.started_unix_ms,
            threads: c.threads,
            tasks: c.tasks,
            states: c.detail.as_ref().map(|d| d.snapshot()),
        });
        let totals = session
            .current
            .as_ref()
            .map(|c| c.totals.clone())
            .unwrap_or_default();
        let history: Vec<Arc<Past>> = session.history.iter().cloned().collect();
        drop(session);
        // Shards are locked again for the counters: a few tasks may have finished in
        // between, which only makes the table a little fresher than the bars.
        let functions = if current.is_some() {
            self.functions(&totals)
        } else {
            history
                .last()
                .map(|p| p.functions.clone())
                .unwrap_or_default()
        };
        Sample {
            now_ns: now,
            current,
            functions,
            workers,
            bars,
            history,
        }
    }

    /// The latest bars of every worker that ended in the last `window_ns`, at most
    /// [`PER_UPDATE`](super::stream::PER_UPDATE) per worker: what a page that opens
    /// now missed. Returns them with the time now.
    pub(crate) fn recent_bars(&self, window_ns: u64) -> (u64, Vec<(usize, Bar)>) {
        let now = self.now_ns();
        let from = now.saturating_sub(window_ns);
        let mut bars = Vec::new();
        for (i, shard) in self.shards.iter().enumerate() {
            let shard = shard.lock();
            bars.extend(
                shard
                    .ring
                    .latest(super::stream::PER_UPDATE)
                    .filter(|b| b.end >= from)
                    .map(|b| (i, b.clone())),
            );
        }
        (now, bars)
    }

    /// The computation `id`: the running one's structure, or a past one.
    pub(crate) fn computation(&self, id: u64) -> Option<Opened> {
        let session = self.session.lock();
        if let Some(c) = session.current.as_ref().filter(|c| c.id == id) {
            return Some(Opened::Running(c.view.clone()));
        }
        session
            .history
            .iter()
            .find(|p| p.id == id)
            .cloned()
            .map(Opened::Past)
    }

    #[cfg(test)]
    pub(crate) fn history(&self) -> Vec<Arc<Past>> {
        self.session.lock().history.iter().cloned().collect()
    }
}

/// A computation asked for by id.
pub(crate) enum Opened {
    /// Running: its structure (its states come with every update).
    Running(Arc<GraphView>),
    Past(Arc<Past>),
}

/// Figures of the running computation.
pub(crate) struct CurrentFigures {
    pub(crate) id: u64,
    pub(crate) elapsed_ns: u64,
    pub(crate) started_unix_ms: u64,
    pub(crate) threads: usize,
    pub(crate) tasks: u64,
    pub(crate) states: Option<Vec<u8>>,
}

/// One update's content.
pub(crate) struct Sample {
    pub(crate) now_ns: u64,
    pub(crate) current: Option<CurrentFigures>,
    /// The running computation's table, or the last finished one's.
    pub(crate) functions: Vec<FnRow>,
    pub(crate) workers: Vec<WorkerRow>,
    pub(crate) bars: Vec<(usize, Bar)>,
    pub(crate) history: Vec<Arc<Past>>,
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Observer for Live {
    fn planned(&self, plan: &Plan<'_>) {
        self.record_plan(plan);
    }

    fn threads(&self, threads: usize) {
        // Called just before `start`: remembered for the computation it opens.
        let mut session = self.session.lock();
        if let Some(current) = session.current.as_mut() {
            current.threads = current.threads.max(threads);
        } else if let Some(pending) = session.pending.as_mut() {
            pending.threads = threads;
        }
    }

    fn start(&self, tasks: usize) {
        self.begin(tasks);
    }

    #[inline]
    fn task_started(&self, task: &TaskInfo<'_>) -> u64 {
        {
            let mut shard = self.shard(task.worker).lock();
            shard.started(task.name);
            if let Some(detail) = &shard.detail {
                detail.set(task.header, graph::RUNNING);
            }
        }
        // Read after the bookkeeping above, so that its cost is not the task's.
        self.now_ns()
    }

    #[inline]
    fn task_finished(&self, task: &TaskInfo<'_>, started: u64, ok: bool) {
        let header = task.header;
        let final_failure = !ok && task.attempt > header.retries;
        let end = self.now_ns();
        let start = started.min(end);
        let duration = end - start;
        let mut shard = self.shard(task.worker).lock();
        let custom = header
            .custom_key
            .load(Ordering::Relaxed)
            .then(|| Box::from(header.key()));
        let bar = Bar {
            start,
            end,
            name: task.name,
            id: header.id,
            custom,
            ok,
        };
        shard.finished(bar, final_failure, duration);
        if let Some(detail) = &shard.detail {
            let state = match (ok, final_failure) {
                (true, _) => graph::DONE,
                (false, true) => graph::FAILED,
                (false, false) => graph::WAITING,
            };
            detail.set(header, state);
        }
    }

    fn finish(&self, ok: bool) {
        self.end(ok);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{delayed, Config, Delayed, ErrorPolicy, Scheduler};

    #[delayed]
    fn square(x: u64) -> u64 {
        x * x
    }

    #[delayed]
    fn refuse(xs: Vec<u64>) -> Result<u64, std::io::Error> {
        Err(std::io::Error::other(format!("refused {}", xs.len())))
    }

    fn config(live: &Arc<Live>, scheduler: Scheduler) -> Config {
        Config::default()
            .scheduler(scheduler)
            .observer(live.clone())
            .errors(ErrorPolicy::Collect)
    }

    #[test]
    fn figures_per_function_and_the_history_of_computations() {
        let live = Arc::new(Live::new());
        let squares: Vec<Delayed<u64>> = (0..20).map(square).collect();
        let bad = refuse(squares.clone());
        let config = config(&live, Scheduler::Threads(2));
        assert!(crate::compute_with(&[bad], &config).is_err());
        assert!(!live.is_running());
        let history = live.history();
        assert_eq!(history.len(), 1);
        let past = &history[0];
        assert!(!past.ok);
        assert_eq!(past.tasks, 21);
        let row = |name: &str| {
            past.functions
                .iter()
                .find(|f| f.name == name)
                .unwrap()
                .clone()
        };
        let (sq, rf) = (row("square"), row("refuse"));
        assert_eq!((sq.total, sq.counts.done, sq.counts.failed), (20, 20, 0));
        assert_eq!((rf.total, rf.counts.done, rf.counts.failed), (1, 0, 1));
        assert_eq!(past.done(), 20);
        assert_eq!(past.failed(), 1);
        // Node by node: every square done, the refusal failed.
        let states = past.states.as_ref().expect("a small graph is detailed");
        for (node, state) in past.view.nodes.iter().zip(states) {
            let expected = if node.name == "refuse" {
                graph::FAILED
            } else {
                graph::DONE
            };
            assert_eq!(*state, expected, "{}", node.label);
        }
        assert_eq!(past.bars.len(), 21);
        assert!(past.bars.iter().all(|(_, b)| b.end >= b.start));
        assert!(past.workers.iter().any(|w| w.shard > 0 && w.busy_ns > 0));
        // Reopenable by id; an unknown id is not found.
        assert!(matches!(live.computation(past.id), Some(Opened::Past(_))));
        assert!(live.computation(past.id + 100).is_none());
    }

    #[test]
    fn the_history_is_bounded_and_the_latest_are_kept() {
        let live = Arc::new(Live::new());
        let config = config(&live, Scheduler::Sync);
        for i in 0..HISTORY as u64 + 5 {
            assert_eq!(square(i).compute_with(&config).unwrap(), i * i);
        }
        let history = live.history();
        assert_eq!(history.len(), HISTORY);
        assert_eq!(history.last().unwrap().id, HISTORY as u64 + 5);
        assert_eq!(history.first().unwrap().id, 6);
        assert!(history.iter().all(|p| p.ok && p.done() == 1));
    }

    #[test]
    fn a_big_graph_keeps_aggregates_and_a_bounded_sample_of_bars() {
        // 5000 tasks, collapsed beyond 500: no per-node state, bars bounded per worker.
        let live = Arc::new(Live::new());
        let squares: Vec<Delayed<u64>> = (0..5000).map(square).collect();
        let config = config(&live, Scheduler::Threads(2));
        let mut cursor = Cursor::default();
        crate::compute_with(&squares, &config).unwrap();
        let sample = live.sample(&mut cursor);
        assert!(sample.current.is_none());
        let past = sample.history.last().unwrap();
        assert!(past.view.collapsed);
        assert!(past.states.is_none());
        assert_eq!(past.view.nodes.len(), 1);
        assert_eq!(past.view.nodes[0].count, 5000);
        assert_eq!(past.done(), 5000);
        assert!(past.bars.len() <= PAST_BARS);
        // One update sends at most `PER_UPDATE` bars per worker, the next none again.
        let per_worker =
            |bars: &[(usize, Bar)], w: usize| bars.iter().filter(|(s, _)| *s == w).count();
        for w in 0..3 {
            assert!(per_worker(&sample.bars, w) <= super::super::stream::PER_UPDATE);
        }
        assert!(!sample.bars.is_empty());
        assert!(live.sample(&mut cursor).bars.is_empty());
    }

    #[test]
    fn a_nested_computation_counts_in_the_outer_one() {
        let live = Arc::new(Live::new());
        let config = config(&live, Scheduler::Threads(2));
        let inner_config = config.clone();
        let outer = delayed(3u64).map(move |n| {
            let inner: Vec<Delayed<u64>> = (0..*n).map(square).collect();
            crate::compute_with(&inner, &inner_config)
                .unwrap()
                .iter()
                .sum::<u64>()
        });
        assert_eq!(outer.compute_with(&config).unwrap(), 5);
        let history = live.history();
        assert_eq!(
            history.len(),
            1,
            "the inner computation is part of the outer"
        );
        let past = &history[0];
        assert_eq!(past.tasks, 4);
        assert_eq!(past.done(), 4);
        let sq = past.functions.iter().find(|f| f.name == "square").unwrap();
        assert_eq!((sq.total, sq.counts.done), (3, 3));
    }
}
