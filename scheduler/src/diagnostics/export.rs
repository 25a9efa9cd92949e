//! What a [`Profiler`] shows: Chrome Trace Event JSON, a per-function summary, an SVG
//! timeline and a self-contained HTML report.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use dask_viz::{ColorBy, Engine, Report, SummaryRow, SvgOptions, TaskGraph, Timeline, TimelineBar};
use serde_json::{json, Value};

use super::profiler::{Profiler, TaskRecord};
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

/// The row a record goes to: pool worker `w` is row `w`, calling threads come after
/// the workers.
fn rows(records: &[TaskRecord]) -> (Vec<String>, impl Fn(&TaskRecord) -> usize) {
    let workers = records
        .iter()
        .filter_map(|r| r.worker)
        .max()
        .map_or(0, |w| w + 1);
    let caller = records.iter().any(|r| r.worker.is_none());
    let mut names: Vec<String> = (0..workers).map(|w| format!("worker {w}")).collect();
    if caller {
        names.push("calling thread".to_owned());
    }
    (names, move |r: &TaskRecord| r.worker.unwrap_or(workers))
}

impl Profiler {
    /// The records as a Chrome Trace Event JSON document, for Perfetto
    /// (<https://ui.perfetto.dev>) or `chrome://tracing`: one complete (`"ph": "X"`)
    /// event per task attempt, named after its function, times in microseconds since
    /// the profiler was created, `tid` = the worker index (calling threads come after
    /// the workers), the key in `args`. Each row is named by a `thread_name` event.
    pub fn chrome_trace(&self) -> String {
        let records = self.records();
        let (names, row) = rows(&records);
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
        for r in &records {
            events.push(json!({
                "name": r.name,
                "cat": "task",
                "ph": "X",
                "ts": micros(r.start),
                "dur": micros(r.duration()),
                "pid": 1,
                "tid": row(r),
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

    /// A Gantt chart of the records: one row per worker, one bar per attempt coloured
    /// by function, each with a tooltip (function, key, start, duration).
    pub fn timeline_svg(&self) -> String {
        timeline(&self.records()).to_svg()
    }

    /// A self-contained HTML page (no network needed): the run's figures (tasks, wall
    /// time, parallel efficiency = busy time / (workers × wall time)), the summary
    /// table, the timeline and, when given, the graph with nodes coloured by the time
    /// spent in them (get it with [`dask::graph`](crate::graph)); graphs of more than 40
    /// nodes are drawn one node per function.
    pub fn report_html(&self, graph: Option<&TaskGraph>) -> String {
        let records = self.records();
        let busy: Duration = records.iter().map(TaskRecord::duration).sum();
        let runs = self.runs();
        let (wall, capacity) = if runs.is_empty() {
            // Records without runs cannot happen through `Config`; be defensive anyway.
            let start = records.iter().map(|r| r.start).min().unwrap_or_default();
            let end = records.iter().map(|r| r.end).max().unwrap_or_default();
            (end - start, end - start)
        } else {
            let now = self.elapsed();
            runs.iter()
                .fold((Duration::ZERO, Duration::ZERO), |(w, c), run| {
                    let wall = run.end.unwrap_or(now).saturating_sub(run.start);
                    (w + wall, c + wall * run.threads as u32)
                })
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
                    "{:.1} % (busy time / (workers × wall time))",
                    efficiency * 100.0
                ),
            )
            .summary(
                summarize(&records)
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
            .timeline_svg(timeline(&records).to_svg());
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

fn timeline(records: &[TaskRecord]) -> Timeline {
    let (names, row) = rows(records);
    let mut timeline = Timeline::new(names);
    for r in records {
        let bar = TimelineBar::new(
            row(r),
            r.start.as_nanos() as u64,
            r.end.as_nanos() as u64,
            r.name.clone(),
            r.key.clone(),
        );
        timeline.add(if r.ok { bar } else { bar.failed() });
    }
    timeline
}

fn summarize(records: &[TaskRecord]) -> Vec<FunctionSummary> {
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
