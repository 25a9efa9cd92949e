//! What a [`Profiler`] shows: Chrome Trace Event JSON, a per-function summary, an SVG
//! timeline and a self-contained HTML report.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use dask_viz::{ColorBy, Engine, Report, SummaryRow, SvgOptions, TaskGraph, Timeline, TimelineBar};
use serde_json::{json, Value};

use super::profiler::{Profiler, Run, TaskRecord};
use super::threads::{Thread, ThreadId};
use crate::Error;

/// Graphs with more nodes than this are drawn one node per function in the report.
const REPORT_COLLAPSE_ABOVE: usize = 40;

/// Time spent in one function over the recorded attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FunctionSummary {
    pub name: String,
    /// Attempts (a retried task counts once per attempt).
    pub count: usize,
    pub total: Duration,
    pub mean: Duration,
    pub max: Duration,
}

/// The rows of a drawing: one per thread that ran tasks, so that bars on one row only
/// ever nest (a task computing a graph inside), never overlap otherwise. Pool workers
/// come first, by pool size and then worker index: with one pool, worker `w` is row `w`
/// (a worker that ran nothing still gets its row) and is named `worker w`; with several,
/// `worker w (pool of n)`, as pools of different sizes number their workers alike.
/// Calling threads (`Scheduler::Sync`) follow, one row each, in the order they first ran
/// a task: `calling thread`, or `calling thread 1`, `2`, ... when there are several
/// (computations run at the same time from different threads).
struct Rows {
    names: Vec<String>,
    index: HashMap<Thread, usize>,
}

impl Rows {
    fn new(records: &[(TaskRecord, Thread)]) -> Self {
        let mut pools: BTreeMap<usize, usize> = BTreeMap::new();
        let mut callers: BTreeSet<ThreadId> = BTreeSet::new();
        for (_, thread) in records {
            match *thread {
                Thread::Worker { pool, worker } => {
                    let workers = pools.entry(pool).or_default();
                    *workers = (*workers).max(worker + 1);
                }
                Thread::Caller(number) => {
                    callers.insert(number);
                }
            }
        }
        let mut names = Vec::new();
        let mut index = HashMap::new();
        for (&pool, &workers) in &pools {
            for worker in 0..workers {
                index.insert(Thread::Worker { pool, worker }, names.len());
                names.push(if pools.len() == 1 {
                    format!("worker {worker}")
                } else {
                    format!("worker {worker} (pool of {pool})")
                });
            }
        }
        for (i, &number) in callers.iter().enumerate() {
            index.insert(Thread::Caller(number), names.len());
            names.push(if callers.len() == 1 {
                "calling thread".to_owned()
            } else {
                format!("calling thread {}", i + 1)
            });
        }
        Rows { names, index }
    }

    fn of(&self, thread: Thread) -> usize {
        self.index[&thread]
    }
}

impl Profiler {
    /// The records as a Chrome Trace Event JSON document, for Perfetto
    /// (<https://ui.perfetto.dev>) or `chrome://tracing`: one complete (`"ph": "X"`)
    /// event per task attempt, named after its function, times in microseconds since
    /// the profiler was created, the key in `args`. `tid` is one row per thread that
    /// ran tasks: with one pool, the worker index; pools of other sizes and calling
    /// threads (`Scheduler::Sync`) come after, one row each, so that the events of one
    /// row only ever nest. Each row is named by a `thread_name` event.
    pub fn chrome_trace(&self) -> String {
        let records = self.records_by_thread();
        let rows = Rows::new(&records);
        let names = &rows.names;
        let mut events: Vec<Value> = Vec::with_capacity(records.len() + names.len() + 1);
        events.push(json!({
            "name": "process_name", "ph": "M", "pid": 1, "tid": 0,
            "args": { "name": "dask" }
        }));
        for (tid, name) in names.iter().enumerate() {
            events.push(json!({
                "name": "thread_name", "ph": "M", "pid": 1, "tid": tid,
                "args": { "name": name }
            }));
        }
        let micros = |d: Duration| d.as_nanos() as f64 / 1000.0;
        for (r, thread) in &records {
            events.push(json!({
                "name": r.name,
                "cat": "task",
                "ph": "X",
                "ts": micros(r.start),
                "dur": micros(r.duration()),
                "pid": 1,
                "tid": rows.of(*thread),
                "args": { "key": r.key, "attempt": r.attempt, "ok": r.ok },
            }));
        }
        json!({ "traceEvents": events, "displayTimeUnit": "ms" }).to_string()
    }

    /// Count, total, mean and max time per function, the most expensive first.
    pub fn summary(&self) -> Vec<FunctionSummary> {
        summarize(&self.records())
    }

    /// [`summary`](Self::summary) as an aligned text table.
    ///
    /// ```text
    /// function          count       total        mean         max
    /// transform_data        3    812.4 ms    270.8 ms    401.2 ms
    /// ```
    pub fn summary_table(&self) -> String {
        let rows = self.summary();
        let width = rows
            .iter()
            .map(|r| r.name.chars().count())
            .max()
            .unwrap_or(0)
            .max("function".len());
        let mut out = format!(
            "{:<width$}  {:>8}  {:>11}  {:>11}  {:>11}\n",
            "function", "count", "total", "mean", "max"
        );
        for r in rows {
            out.push_str(&format!(
                "{:<width$}  {:>8}  {:>11}  {:>11}  {:>11}\n",
                r.name,
                r.count,
                fmt(r.total),
                fmt(r.mean),
                fmt(r.max)
            ));
        }
        out
    }

    /// A Gantt chart of the records: one row per thread (as in
    /// [`chrome_trace`](Self::chrome_trace)), one bar per attempt coloured by function,
    /// each with a tooltip (function, key, start, duration).
    pub fn timeline_svg(&self) -> String {
        timeline(&self.records_by_thread()).to_svg()
    }

    /// A self-contained HTML page (no network needed): the run's figures (tasks, wall
    /// time, parallel efficiency = busy time / capacity, where each computation adds
    /// its threads × its wall time to the capacity), the summary table, the timeline
    /// and, when given, the graph with nodes coloured by the time spent in them (get it
    /// with [`dask::graph`](crate::graph)); graphs of more than 40 nodes are drawn one
    /// node per function. The wall time is the time during which some computation ran:
    /// computations that overlap count once.
    pub fn report_html(&self, graph: Option<&TaskGraph>) -> String {
        let laned = self.records_by_thread();
        let records: Vec<&TaskRecord> = laned.iter().map(|(r, _)| r).collect();
        let busy: Duration = records.iter().map(|r| r.duration()).sum();
        let runs = self.runs();
        let (wall, capacity) = if runs.is_empty() {
            // Records without runs cannot happen through `Config`; be defensive anyway.
            let start = records.iter().map(|r| r.start).min().unwrap_or_default();
            let end = records.iter().map(|r| r.end).max().unwrap_or_default();
            (end - start, end - start)
        } else {
            figures_of(&runs, self.elapsed())
        };
        let threads = runs.iter().map(|r| r.threads).max().unwrap_or(1);
        let efficiency = if capacity.is_zero() {
            0.0
        } else {
            busy.as_secs_f64() / capacity.as_secs_f64()
        };
        let failed = records.iter().filter(|r| !r.ok).count();
        let mut report = Report::new("dask profile")
            .figure("computations", runs.len().to_string())
            .figure(
                "tasks",
                runs.iter().map(|r| r.tasks).sum::<usize>().to_string(),
            )
            .figure("task attempts", records.len().to_string())
            .figure("failed attempts", failed.to_string())
            .figure("workers", threads.to_string())
            .figure("wall time", fmt(wall))
            .figure("busy time", fmt(busy))
            .figure(
                "parallel efficiency",
                format!(
                    "{:.1} % (busy time / Σ threads × wall time of each computation)",
                    efficiency * 100.0
                ),
            )
            .summary(
                summarize(records.iter().copied())
                    .into_iter()
                    .map(|s| {
                        SummaryRow::new(
                            s.name,
                            s.count as u64,
                            s.total.as_nanos() as u64,
                            s.mean.as_nanos() as u64,
                            s.max.as_nanos() as u64,
                        )
                    })
                    .collect(),
            )
            .timeline_svg(timeline(&laned).to_svg());
        if let Some(graph) = graph {
            let mut graph = graph.clone();
            let mut spent: HashMap<&str, u64> = HashMap::new();
            for r in &records {
                *spent.entry(r.key.as_str()).or_default() += r.duration().as_nanos() as u64;
            }
            let ids: Vec<_> = graph.nodes().map(|(id, _)| id).collect();
            for id in ids {
                let node = graph.node_mut(id);
                if let Some(&ns) = spent.get(node.key.as_str()) {
                    node.duration_ns = Some(ns);
                }
            }
            // Past a screenful of nodes, one node per function reads better in a page.
            let options = SvgOptions::default()
                .color(ColorBy::Duration)
                .collapse_above(Some(REPORT_COLLAPSE_ABOVE));
            let svg = graph
                .to_svg_with(&options)
                .or_else(|_| graph.to_svg_with(&options.engine(Engine::Embedded)))
                .unwrap_or_default();
            report = report.graph_svg(svg);
        }
        report.to_html()
    }

    /// Writes [`report_html`](Self::report_html) to `path`.
    pub fn save_report(
        &self,
        path: impl AsRef<Path>,
        graph: Option<&TaskGraph>,
    ) -> Result<(), Error> {
        let path = path.as_ref();
        std::fs::write(path, self.report_html(graph)).map_err(|e| {
            Error::Viz(dask_viz::VizError::Io {
                action: "write",
                path: path.to_owned(),
                source: e,
            })
        })
    }

    /// Writes [`chrome_trace`](Self::chrome_trace) to `path`.
    pub fn save_chrome_trace(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        std::fs::write(path, self.chrome_trace()).map_err(|e| {
            Error::Viz(dask_viz::VizError::Io {
                action: "write",
                path: path.to_owned(),
                source: e,
            })
        })
    }
}

fn timeline(records: &[(TaskRecord, Thread)]) -> Timeline {
    let rows = Rows::new(records);
    let mut timeline = Timeline::new(rows.names.clone());
    for (r, thread) in records {
        let bar = TimelineBar::new(
            rows.of(*thread),
            r.start.as_nanos() as u64,
            r.end.as_nanos() as u64,
            r.name.clone(),
            r.key.clone(),
        );
        timeline.add(if r.ok { bar } else { bar.failed() });
    }
    timeline
}

/// The wall time of `runs` (the length of their union: overlapping computations count
/// once) and their capacity (each run's threads × its wall time); a run not finished
/// ends `now`.
fn figures_of(runs: &[Run], now: Duration) -> (Duration, Duration) {
    let mut spans: Vec<(Duration, Duration)> = runs
        .iter()
        .map(|run| (run.start, run.end.unwrap_or(now).max(run.start)))
        .collect();
    let capacity = spans
        .iter()
        .zip(runs)
        .map(|(&(start, end), run)| (end - start) * run.threads as u32)
        .sum();
    spans.sort();
    let mut wall = Duration::ZERO;
    let mut open: Option<(Duration, Duration)> = None;
    for (start, end) in spans {
        open = match open {
            Some((from, to)) if start <= to => Some((from, to.max(end))),
            Some((from, to)) => {
                wall += to - from;
                Some((start, end))
            }
            None => Some((start, end)),
        };
    }
    if let Some((from, to)) = open {
        wall += to - from;
    }
    (wall, capacity)
}

fn summarize<'r>(records: impl IntoIterator<Item = &'r TaskRecord>) -> Vec<FunctionSummary> {
    let mut by_name: HashMap<&str, (usize, Duration, Duration)> = HashMap::new();
    for r in records {
        let entry = by_name.entry(r.name.as_str()).or_default();
        entry.0 += 1;
        entry.1 += r.duration();
        entry.2 = entry.2.max(r.duration());
    }
    let mut rows: Vec<FunctionSummary> = by_name
        .into_iter()
        .map(|(name, (count, total, max))| FunctionSummary {
            name: name.to_owned(),
            count,
            total,
            mean: total / count as u32,
            max,
        })
        .collect();
    rows.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.name.cmp(&b.name)));
    rows
}

/// `812.4 ms`, `12.0 µs`, `1.52 s`, as the drawings print durations.
fn fmt(d: Duration) -> String {
    dask_viz::format_ns(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(threads: usize, start_ms: u64, end_ms: Option<u64>) -> Run {
        Run {
            id: 0,
            threads,
            tasks: 1,
            start: Duration::from_millis(start_ms),
            end: end_ms.map(Duration::from_millis),
        }
    }

    #[test]
    fn overlapping_runs_count_once_in_the_wall_time_and_each_in_the_capacity() {
        let ms = Duration::from_millis;
        // 0..400 on one thread, 100..500 on four (overlapping), 600..700 on two, and
        // 650.. on one, still running at 800 (`now`).
        let runs = [
            run(1, 0, Some(400)),
            run(4, 100, Some(500)),
            run(2, 600, Some(700)),
            run(1, 650, None),
        ];
        let (wall, capacity) = figures_of(&runs, ms(800));
        assert_eq!(wall, ms(500 + 200));
        assert_eq!(capacity, ms(400 + 4 * 400 + 2 * 100 + 150));
        // A nested run lies inside its outer one.
        let (wall, capacity) = figures_of(&[run(2, 0, Some(100)), run(2, 10, Some(20))], ms(0));
        assert_eq!((wall, capacity), (ms(100), ms(2 * 100 + 2 * 10)));
        assert_eq!(figures_of(&[], ms(5)), (Duration::ZERO, Duration::ZERO));
    }
}
