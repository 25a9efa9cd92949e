//! The observer: what the executor's hooks feed, aggregated for the page.
//!
//! Each computation gets an observer of its own (a [`Run`], from
//! [`Observer::for_computation`]), so that computations running at the same time with
//! one dashboard stay apart: each is its own entry, with its own figures, stream and
//! graph. A computation started inside a task of a watched one (a nested `compute`) is
//! counted in that outer one, as one piece of work.
//!
//! Per task, a worker locks its own shard (uncontended), bumps its function's counters
//! and writes one bar into its ring: no allocation, no key formatting, no shared
//! cache line. Everything else (merging shards, occupancy, the history) happens a few
//! times a second on the update thread, or once per computation.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crossbeam_utils::CachePadded;
use parking_lot::Mutex;

use super::graph::{self, Detail, GraphView};
use super::held::{self, plan_address, Held};
use super::shard::{FnCount, Shard};
use super::stream::Bar;
use crate::diagnostics::{worker_index, TaskInfo};
use crate::observer::{Interest, Observer};
use crate::plan::Plan;

/// Shard 0 is for calling threads (`Scheduler::Sync`), shards 1.. for pool workers;
/// workers with higher indices share (correct, only contended).
const WORKER_SHARDS: usize = 64;

/// Past computations kept, with their figures (the oldest is forgotten first).
pub(crate) const HISTORY: usize = 32;

/// Bars a past computation keeps for its reopened stream.
pub(crate) const PAST_BARS: usize = 512;

/// How deep this thread's record of the watched tasks it runs goes (tasks nest on a
/// thread when a task computes).
const TASKS_KEPT: usize = 64;

/// Keys of computations, unique in the process (two dashboards never share one).
static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// On a calling thread (which shares shard 0 with the others): the keys of the
    /// watched computations whose tasks run on this thread now, innermost last. A
    /// pool worker's shard holds the same in its `running` stack.
    static TASKS_HERE: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

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

/// Which worker a lane of the task stream is. A struct, not an enum with a variant for
/// other processes: only the cluster makes such lanes, and the dashboard builds the same
/// with or without it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LaneLabel {
    /// The other process of a cluster the lane belongs to; `None` for this process.
    pub(crate) process: Option<u32>,
    /// The pool worker; `None` for the calling thread.
    pub(crate) worker: Option<u32>,
}

impl LaneLabel {
    /// Shard 0 is this process's calling threads, shard `w + 1` pool worker `w`.
    fn local(shard: usize) -> Self {
        LaneLabel {
            process: None,
            worker: shard.checked_sub(1).map(|w| w as u32),
        }
    }
}

/// Lanes `0..LOCAL_LANES` are this process's shards; other processes' follow.
const LOCAL_LANES: usize = WORKER_SHARDS + 1;

/// One worker's line: label, share of the last interval spent in tasks, what it runs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct WorkerRow {
    /// Lane index (this process's shards first, then other processes' workers).
    pub(crate) shard: usize,
    pub(crate) label: LaneLabel,
    pub(crate) occupancy: f64,
    pub(crate) running: Option<&'static str>,
    pub(crate) busy_ns: u64,
}

/// What a computation's plan and start tell, set once (nested computations add to it).
#[derive(Default)]
struct RunInfo {
    id: u64,
    started_ns: u64,
    started_unix_ms: u64,
    threads: usize,
    tasks: u64,
    totals: Vec<(&'static str, u64)>,
    view: Arc<GraphView>,
}

/// One watched computation, with the computations nested in it.
pub(crate) struct RunState {
    /// Unique in the process: what shards and bars are tagged with.
    key: u64,
    info: Mutex<RunInfo>,
    /// Node states, when the graph is drawn node by node.
    detail: OnceLock<Arc<Detail>>,
    /// The results it holds whose sizes are known.
    pub(crate) held: Held,
}

/// The observer of one computation: tags what its tasks do with its key.
pub(crate) struct Run {
    live: Arc<Live>,
    state: Arc<RunState>,
    /// Started inside a task of `state`'s computation: its figures are that one's.
    nested: bool,
    /// The address of its plan (see `held`), once planned.
    plan: AtomicUsize,
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
    /// The most bytes of results of known size it held at once.
    pub(crate) peak_held: u64,
}

impl Past {
    pub(crate) fn done(&self) -> u64 {
        total(&self.functions, |c| c.done)
    }
    pub(crate) fn failed(&self) -> u64 {
        total(&self.functions, |c| c.failed)
    }
}

#[derive(Default)]
struct Session {
    next_id: u64,
    /// Computations started and not finished, oldest first.
    running: Vec<Arc<RunState>>,
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
    /// Itself, for the per-computation observers it hands out.
    me: Weak<Live>,
    epoch: Instant,
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    /// Other processes' workers (cluster, process 0), in order of first report; empty
    /// elsewhere.
    remote: Mutex<Vec<(LaneLabel, Shard)>>,
    session: Mutex<Session>,
    /// Computations started and not finished (not counting nested ones).
    active: AtomicUsize,
    /// Computations started plus computations finished: an update is due when it moved,
    /// even for a computation that began and ended between two updates.
    changes: AtomicUsize,
    collapse_above: usize,
}

impl Live {
    pub(crate) fn new() -> Arc<Live> {
        Live::with_collapse_above(graph::DEFAULT_COLLAPSE_ABOVE)
    }

    pub(crate) fn with_collapse_above(collapse_above: usize) -> Arc<Live> {
        Arc::new_cyclic(|me| Live {
            me: me.clone(),
            epoch: Instant::now(),
            shards: (0..=WORKER_SHARDS)
                .map(|_| CachePadded::new(Mutex::new(Shard::default())))
                .collect(),
            remote: Mutex::new(Vec::new()),
            session: Mutex::new(Session {
                next_id: 1,
                ..Session::default()
            }),
            active: AtomicUsize::new(0),
            changes: AtomicUsize::new(0),
            collapse_above,
        })
    }

    #[inline]
    fn shard(&self, worker: Option<usize>) -> &Mutex<Shard> {
        &self.shards[worker.map_or(0, |w| 1 + w % WORKER_SHARDS)]
    }

    /// Calls `f` with every lane: its index, which worker it is, and its shard.
    fn each_lane(&self, mut f: impl FnMut(usize, LaneLabel, &mut Shard)) {
        for (i, shard) in self.shards.iter().enumerate() {
            f(i, LaneLabel::local(i), &mut shard.lock());
        }
        for (j, (label, shard)) in self.remote.lock().iter_mut().enumerate() {
            f(LOCAL_LANES + j, *label, shard);
        }
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

    /// The observer of a computation about to start on this thread: nested in the
    /// running computation whose task this thread runs, or a new one.
    fn run_for_this_thread(&self, live: Arc<Live>) -> Run {
        // (Workers beyond `WORKER_SHARDS` share a shard: there, a computation started
        // inside a task may be counted in another worker's task's computation.)
        let outer = match worker_index() {
            Some(w) => self.shard(Some(w)).lock().running.last().map(|&(_, k)| k),
            None => TASKS_HERE.with(|t| t.borrow().last().copied()),
        };
        if let Some(key) = outer {
            let session = self.session.lock();
            if let Some(state) = session.running.iter().find(|r| r.key == key) {
                return Run {
                    live,
                    state: state.clone(),
                    nested: true,
                    plan: AtomicUsize::new(0),
                };
            }
        }
        Run {
            live,
            state: Arc::new(RunState {
                key: NEXT_KEY.fetch_add(1, Ordering::Relaxed),
                info: Mutex::new(RunInfo {
                    threads: 1,
                    ..RunInfo::default()
                }),
                detail: OnceLock::new(),
                held: Held::default(),
            }),
            nested: false,
            plan: AtomicUsize::new(0),
        }
    }

    /// A computation starts: it gets the next id and joins the running ones.
    fn begin(&self, state: &Arc<RunState>, tasks: usize) {
        let now = self.now_ns();
        let mut session = self.session.lock();
        {
            let mut info = state.info.lock();
            info.id = session.next_id;
            info.started_ns = now;
            info.started_unix_ms = unix_ms();
            info.tasks = info.tasks.max(tasks as u64);
        }
        session.next_id += 1;
        session.running.push(state.clone());
        self.active.fetch_add(1, Ordering::AcqRel);
        self.changes.fetch_add(1, Ordering::AcqRel);
    }

    /// A computation ended: its figures go to the history and its counters are
    /// forgotten.
    fn end(&self, state: &Arc<RunState>, ok: bool) {
        let mut session = self.session.lock();
        let Some(at) = session.running.iter().position(|r| Arc::ptr_eq(r, state)) else {
            return;
        };
        session.running.remove(at);
        self.active.fetch_sub(1, Ordering::AcqRel);
        self.changes.fetch_add(1, Ordering::AcqRel);
        let info = std::mem::take(&mut *state.info.lock());
        let now = self.now_ns();
        let wall = now.saturating_sub(info.started_ns).max(1);
        let functions = self.functions(state.key, &info.totals);
        let mut workers = Vec::new();
        let mut bars = Vec::new();
        self.each_lane(|i, label, shard| {
            let busy = shard.busy_of(state.key);
            if busy > 0 || i <= info.threads && i > 0 {
                workers.push(WorkerRow {
                    shard: i,
                    label,
                    occupancy: busy as f64 / wall as f64,
                    running: None,
                    busy_ns: busy,
                });
            }
            bars.extend(
                shard
                    .ring
                    .latest(PAST_BARS)
                    .filter(|b| b.run == state.key)
                    .map(|b| (i, b.clone())),
            );
            shard.forget(state.key);
        });
        // The latest bars overall, at most `PAST_BARS`.
        bars.sort_by_key(|(_, b)| b.end);
        let extra = bars.len().saturating_sub(PAST_BARS);
        bars.drain(..extra);
        let past = Past {
            id: info.id,
            started_unix_ms: info.started_unix_ms,
            started_ns: info.started_ns,
            wall_ns: wall,
            threads: info.threads,
            tasks: info.tasks,
            ok,
            functions,
            workers,
            states: state.detail.get().map(|d| d.snapshot()),
            view: info.view,
            bars,
            peak_held: state.held.peak(),
        };
        if session.history.len() == HISTORY {
            session.history.pop_front();
        }
        session.history.push_back(Arc::new(past));
    }

    /// The function table of computation `run`: planned functions first, in plan
    /// order, then functions seen only while running (nested computations).
    fn functions(&self, run: u64, totals: &[(&'static str, u64)]) -> Vec<FnRow> {
        let mut rows: Vec<FnRow> = totals
            .iter()
            .map(|&(name, total)| FnRow {
                name,
                total,
                counts: FnCount {
                    run,
                    name,
                    ..FnCount::default()
                },
            })
            .collect();
        self.each_lane(|_, _, shard| {
            for f in shard.funcs.iter().filter(|f| f.run == run) {
                let row = match rows.iter().position(|r| r.name == f.name) {
                    Some(i) => &mut rows[i],
                    None => {
                        rows.push(FnRow {
                            name: f.name,
                            total: 0,
                            counts: FnCount {
                                run,
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
                c.outer_busy_ns += f.outer_busy_ns;
            }
        });
        rows
    }

    /// What the page is sent a few times a second: the bars new since `cursor`, and
    /// each worker's occupancy since then. The live view follows the computation
    /// started last among those running.
    pub(crate) fn sample(&self, cursor: &mut Cursor) -> Sample {
        let now = self.now_ns();
        let interval = now.saturating_sub(cursor.at_ns).max(1);
        let session = self.session.lock();
        let threads = session
            .running
            .iter()
            .map(|r| r.info.lock().threads)
            .max()
            .unwrap_or(0);
        let mut workers = Vec::new();
        let mut bars = Vec::new();
        self.each_lane(|i, label, shard| {
            if cursor.stream.len() <= i {
                cursor.stream.resize(i + 1, 0);
                cursor.busy.resize(i + 1, 0);
                cursor.running_since.resize(i + 1, None);
            }
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
                    label,
                    occupancy: (since as f64 / interval as f64).min(1.0),
                    running: shard.running.last().map(|&(name, _)| name),
                    busy_ns: busy,
                });
            }
        });
        cursor.at_ns = now;
        let running: Vec<Arc<RunState>> = session.running.clone();
        let history: Vec<Arc<Past>> = session.history.iter().cloned().collect();
        drop(session);
        // Shards are locked again for the counters: a few tasks may have finished in
        // between, which only makes the table a little fresher than the bars.
        let running: Vec<RunningFigures> = running
            .iter()
            .map(|r| {
                let info = r.info.lock();
                let (id, started_ns, started_unix_ms, threads, tasks) = (
                    info.id,
                    info.started_ns,
                    info.started_unix_ms,
                    info.threads,
                    info.tasks,
                );
                let totals = info.totals.clone();
                drop(info);
                RunningFigures {
                    id,
                    elapsed_ns: now.saturating_sub(started_ns),
                    started_unix_ms,
                    threads,
                    tasks,
                    states: r.detail.get().map(|d| d.snapshot()),
                    functions: self.functions(r.key, &totals),
                    held: r.held.bytes(),
                    held_results: r.held.results(),
                }
            })
            .collect();
        let held = running.iter().map(|r| r.held).sum();
        let held_results = running.iter().map(|r| r.held_results).sum();
        Sample {
            now_ns: now,
            running,
            workers,
            bars,
            history,
            held,
            held_results,
        }
    }

    /// The latest bars of every worker that ended in the last `window_ns`, at most
    /// [`PER_UPDATE`](super::stream::PER_UPDATE) per worker: what a page that opens
    /// now missed. Returns them with the time now.
    pub(crate) fn recent_bars(&self, window_ns: u64) -> (u64, Vec<(usize, Bar)>) {
        let now = self.now_ns();
        let from = now.saturating_sub(window_ns);
        let mut bars = Vec::new();
        self.each_lane(|i, _, shard| {
            bars.extend(
                shard
                    .ring
                    .latest(super::stream::PER_UPDATE)
                    .filter(|b| b.end >= from)
                    .map(|b| (i, b.clone())),
            );
        });
        (now, bars)
    }

    /// The computation `id`: a running one's structure, or a past one.
    pub(crate) fn computation(&self, id: u64) -> Option<Opened> {
        let session = self.session.lock();
        for r in &session.running {
            let info = r.info.lock();
            if info.id == id {
                return Some(Opened::Running(info.view.clone()));
            }
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

    /// Bytes of results of known size held by the running computations.
    #[cfg(test)]
    pub(crate) fn held_bytes(&self) -> u64 {
        let session = self.session.lock();
        session.running.iter().map(|r| r.held.bytes()).sum()
    }
}

/// A computation asked for by id.
pub(crate) enum Opened {
    /// Running: its structure (its states come with every update).
    Running(Arc<GraphView>),
    Past(Arc<Past>),
}

/// Figures of a running computation.
pub(crate) struct RunningFigures {
    pub(crate) id: u64,
    pub(crate) elapsed_ns: u64,
    pub(crate) started_unix_ms: u64,
    pub(crate) threads: usize,
    pub(crate) tasks: u64,
    pub(crate) states: Option<Vec<u8>>,
    pub(crate) functions: Vec<FnRow>,
    /// Bytes of its results of known size held now, and how many such results.
    pub(crate) held: u64,
    pub(crate) held_results: u64,
}

/// One count summed over a table of functions (a past or a running computation's).
fn total(functions: &[FnRow], count: impl Fn(&FnCount) -> u64) -> u64 {
    functions.iter().map(|f| count(&f.counts)).sum()
}

impl RunningFigures {
    pub(crate) fn done(&self) -> u64 {
        total(&self.functions, |c| c.done)
    }
    pub(crate) fn failed(&self) -> u64 {
        total(&self.functions, |c| c.failed)
    }
}

/// One update's content.
pub(crate) struct Sample {
    pub(crate) now_ns: u64,
    /// The running computations, oldest first.
    pub(crate) running: Vec<RunningFigures>,
    pub(crate) workers: Vec<WorkerRow>,
    pub(crate) bars: Vec<(usize, Bar)>,
    pub(crate) history: Vec<Arc<Past>>,
    /// Bytes of results of known size the running computations hold, and how many.
    pub(crate) held: u64,
    pub(crate) held_results: u64,
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Observer for Live {
    fn interest(&self) -> Interest {
        // Only ever asked for a computation's own observer (a `Run`).
        Interest::NONE
    }

    fn for_computation(&self) -> Option<Arc<dyn Observer>> {
        let live = self.me.upgrade()?;
        Some(Arc::new(self.run_for_this_thread(live)))
    }
}

impl Observer for Run {
    fn interest(&self) -> Interest {
        Interest {
            attempts: true,
            outcomes: true,
            sizes: true,
            remote: true,
        }
    }

    fn planned(&self, plan: &Plan<'_>) {
        self.plan.store(plan_address(plan), Ordering::Relaxed);
        let mut info = self.state.info.lock();
        if self.nested {
            // Its tasks count in the outer computation's figures; its graph is not
            // drawn.
            info.tasks += plan.graph().task_count() as u64;
            for (name, n) in graph::take_totals(plan) {
                match info.totals.iter_mut().find(|(t, _)| *t == name) {
                    Some(total) => total.1 += n,
                    None => info.totals.push((name, n)),
                }
            }
            return;
        }
        let planned = graph::take(plan, self.live.collapse_above);
        info.view = Arc::new(planned.view);
        info.totals = planned.totals;
        info.tasks = planned.tasks;
        if let Some(detail) = planned.detail {
            let _ = self.state.detail.set(detail);
        }
    }

    fn threads(&self, threads: usize) {
        let mut info = self.state.info.lock();
        info.threads = info.threads.max(threads);
    }

    fn start(&self, tasks: usize) {
        if self.nested {
            self.live.changes.fetch_add(1, Ordering::AcqRel);
        } else {
            self.live.begin(&self.state, tasks);
        }
    }

    #[inline]
    fn task_started(&self, task: &TaskInfo<'_>) -> u64 {
        let key = self.state.key;
        if task.worker.is_none() {
            TASKS_HERE.with(|t| {
                let mut t = t.borrow_mut();
                if t.len() < TASKS_KEPT {
                    t.push(key);
                }
            });
        }
        {
            let mut shard = self.live.shard(task.worker).lock();
            shard.started(key, task.name);
        }
        if let Some(detail) = self.state.detail.get() {
            detail.set(task.header, graph::RUNNING);
        }
        // Read after the bookkeeping above, so that its cost is not the task's.
        self.live.now_ns()
    }

    #[inline]
    fn task_finished(&self, task: &TaskInfo<'_>, started: u64, ok: bool) {
        let end = self.live.now_ns();
        let key = self.state.key;
        if task.worker.is_none() {
            TASKS_HERE.with(|t| {
                let mut t = t.borrow_mut();
                if t.last() == Some(&key) {
                    t.pop();
                }
            });
        }
        let header = task.header;
        let final_failure = !ok && task.attempt > header.retries;
        let start = started.min(end);
        let duration = end - start;
        let bar = Bar::of(header, task.name, (start, end), ok, key, task.size);
        held::measured(header, task.size);
        self.live
            .shard(task.worker)
            .lock()
            .finished(bar, final_failure, duration);
        if let Some(detail) = self.state.detail.get() {
            let state = match (ok, final_failure) {
                (true, _) => graph::DONE,
                (false, true) => graph::FAILED,
                (false, false) => graph::WAITING,
            };
            detail.set(header, state);
        }
    }

    #[inline]
    fn task_done(&self, plan: &Plan<'_>, t: u32, succeeded: bool) {
        self.state.held.task_done(plan, t, succeeded);
    }

    #[cfg(feature = "cluster")]
    fn remote_task(&self, plan: &Plan<'_>, t: u32, ran: &crate::cluster::RemoteTask) {
        let header = plan.graph().node(t).header();
        let key = self.state.key;
        // The other process's times count from its own start of the computation,
        // about when this one started: placed on this process's clock from there.
        let base = self.state.info.lock().started_ns;
        let (start, end) = (base + ran.start_ns, base + ran.end_ns.max(ran.start_ns));
        let bar = Bar::of(header, header.name, (start, end), ran.ok, key, None);
        let label = LaneLabel {
            process: Some(ran.process),
            worker: ran.worker,
        };
        {
            let mut lanes = self.live.remote.lock();
            let at = match lanes.iter().position(|(l, _)| *l == label) {
                Some(at) => at,
                None => {
                    lanes.push((label, Shard::default()));
                    lanes.len() - 1
                }
            };
            let shard = &mut lanes[at].1;
            shard.started(key, header.name);
            shard.finished(bar, !ran.ok, end - start);
        }
        if let Some(detail) = self.state.detail.get() {
            detail.set(header, if ran.ok { graph::DONE } else { graph::FAILED });
        }
    }

    fn finish(&self, ok: bool) {
        if self.nested {
            // Its outputs leave with its caller.
            self.state
                .held
                .forget_plan(self.plan.load(Ordering::Relaxed));
            self.live.changes.fetch_add(1, Ordering::AcqRel);
        } else {
            self.live.end(&self.state, ok);
        }
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
        let live = Live::new();
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
        let live = Live::new();
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
        let live = Live::new();
        let squares: Vec<Delayed<u64>> = (0..5000).map(square).collect();
        let config = config(&live, Scheduler::Threads(2));
        let mut cursor = Cursor::default();
        crate::compute_with(&squares, &config).unwrap();
        let sample = live.sample(&mut cursor);
        assert!(sample.running.is_empty());
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
        let live = Live::new();
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

    #[delayed]
    fn alpha(x: u64) -> u64 {
        x + 1
    }

    #[delayed]
    fn beta(x: u64) -> u64 {
        x + 2
    }

    #[test]
    fn computations_running_at_once_are_kept_apart() {
        let live = Live::new();
        // Each computation has a task that waits for the other's: they overlap.
        let gate = Arc::new(std::sync::Barrier::new(2));
        let seen_running = Arc::new(AtomicUsize::new(0));
        let run = |f: fn(u64) -> Delayed<u64>, n: u64| {
            let (live, gate, seen) = (live.clone(), gate.clone(), seen_running.clone());
            std::thread::spawn(move || {
                let config = config(&live, Scheduler::Threads(2));
                let mut outputs: Vec<Delayed<u64>> = (0..n).map(f).collect();
                outputs.push(delayed(0u64).map(move |_| {
                    gate.wait();
                    let running = live.sample(&mut Cursor::default()).running.len();
                    seen.fetch_max(running, Ordering::Relaxed);
                    gate.wait();
                    0
                }));
                crate::compute_with(&outputs, &config).unwrap()
            })
        };
        let (a, b) = (run(alpha, 5), run(beta, 7));
        assert_eq!(a.join().unwrap()[..5], [1, 2, 3, 4, 5]);
        assert_eq!(b.join().unwrap()[..7], [2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(seen_running.load(Ordering::Relaxed), 2, "both ran at once");
        let history = live.history();
        assert_eq!(history.len(), 2, "two computations, two entries");
        assert_ne!(history[0].id, history[1].id);
        let of = |name: &str| {
            history
                .iter()
                .find(|p| p.functions.iter().any(|f| f.name == name))
                .unwrap()
                .clone()
        };
        for (name, n) in [("alpha", 5), ("beta", 7)] {
            let past = of(name);
            let other = if name == "alpha" { "beta" } else { "alpha" };
            assert_eq!(past.tasks, n + 1, "{name}");
            assert_eq!(past.done(), n + 1, "{name}");
            assert!(past.functions.iter().all(|f| f.name != other), "{name}");
            let own = past.functions.iter().find(|f| f.name == name).unwrap();
            assert_eq!((own.total, own.counts.done), (n, n));
            let map = past.functions.iter().find(|f| f.name == "map").unwrap();
            assert_eq!(map.counts.done, 1, "{name}: its own waiting task only");
            // Its own stream and graph.
            assert_eq!(past.bars.len() as u64, n + 1, "{name}");
            assert!(past.bars.iter().all(|(_, b)| b.name != other));
            let states = past.states.as_ref().unwrap();
            assert_eq!(states.len(), past.view.nodes.len());
            for (node, state) in past.view.nodes.iter().zip(states) {
                assert!(node.name != other, "{name}: {}", node.label);
                if node.is_task {
                    assert_eq!(*state, graph::DONE, "{name}: {}", node.label);
                }
            }
        }
        assert!(!live.is_running());
    }

    #[test]
    fn results_of_known_size_are_held_until_their_readers_are_done() {
        use crate::node::no_codec;
        use crate::result_size::InlineSize;
        let live = Live::new();
        let held_in_last = Arc::new(AtomicU64::new(u64::MAX));
        let src = delayed(5u64);
        let sized = |name: &'static str, tag: u32, inputs: &[Delayed<u64>]| {
            crate::combine::pure_task(
                name,
                tag,
                inputs,
                |v: &[&u64]| v.iter().copied().sum::<u64>() + 1,
                no_codec,
                InlineSize,
            )
        };
        let a = sized("leaf", 1, std::slice::from_ref(&src));
        let b = sized("leaf", 2, std::slice::from_ref(&src));
        let c = sized("step", 3, &[a]);
        let last = {
            let (watch, seen) = (live.clone(), held_in_last.clone());
            crate::combine::pure_task(
                "last",
                4,
                &[b, c],
                move |v: &[&u64]| {
                    seen.store(watch.held_bytes(), Ordering::Relaxed);
                    *v[0] + *v[1]
                },
                no_codec,
                InlineSize,
            )
        };
        assert_eq!(
            last.compute_with(&config(&live, Scheduler::Sync)).unwrap(),
            13
        );
        // While `last` ran, `a` was freed (its reader `step` was done); `b` and `c`,
        // its inputs, were held: 8 bytes each.
        assert_eq!(held_in_last.load(Ordering::Relaxed), 16);
        assert_eq!(live.held_bytes(), 0, "nothing is held once it returned");
        let past = &live.history()[0];
        assert_eq!(past.peak_held, 24);
        // Each bar carries its result's size.
        assert!(past.bars.iter().all(|(_, bar)| bar.size == Some(8)));
        // Results of unknown size count nothing.
        square(3)
            .compute_with(&config(&live, Scheduler::Sync))
            .unwrap();
        let past = live.history().pop().unwrap();
        assert_eq!(past.peak_held, 0);
        assert_eq!(past.bars[0].1.size, None);
    }
}
