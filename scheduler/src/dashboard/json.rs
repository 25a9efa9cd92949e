//! What the page receives, as JSON.
//!
//! Task names and keys are user text. The page only ever renders them with
//! `textContent`; as a second fence, `<`, `>` and `&` never appear raw in what the
//! server sends (they are `\u003c`, `\u003e`, `\u0026` inside JSON strings, which
//! parse back to the same text), so a response shown or embedded as HTML by mistake
//! still cannot open a tag.

use serde::ser::{Serialize, SerializeSeq, Serializer};
use serde_json::{json, Value};

use super::graph::GraphView;
use super::live::{FnRow, LaneLabel, Opened, Past, RunningFigures, Sample, WorkerRow};
use super::stream::Bar;
use crate::key::format_key;

/// `value` as JSON text with no raw `<`, `>` or `&` (they occur only inside strings).
/// Escaped over bytes, copying the runs between them whole: the update thread renders
/// an update ten times a second, and escaping it char by char cost about as much as
/// writing it.
pub(crate) fn to_safe_text<T: Serialize + ?Sized>(value: &T) -> String {
    // Our values' maps all have string keys: writing them cannot fail.
    let text = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
    let special = |b: &u8| matches!(b, b'<' | b'>' | b'&');
    let mut out = Vec::with_capacity(text.len() + 64);
    let mut rest = text.as_slice();
    while let Some(at) = rest.iter().position(special) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(match rest[at] {
            b'<' => b"\\u003c",
            b'>' => b"\\u003e",
            _ => b"\\u0026",
        });
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
    // Only ASCII bytes were replaced, by ASCII: serde_json's UTF-8 stays valid (a lossy
    // conversion, never a panic, were it not).
    match String::from_utf8(out) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

fn worker_label(label: LaneLabel) -> String {
    match (label.process, label.worker) {
        (None, None) => "caller".to_owned(),
        (None, Some(w)) => format!("worker {w}"),
        (Some(p), Some(w)) => format!("p{p}/w{w}"),
        (Some(p), None) => format!("p{p}/caller"),
    }
}

fn bar_key(bar: &Bar) -> String {
    match &bar.custom {
        Some(key) => key.to_string(),
        None => format_key(bar.name, bar.id),
    }
}

/// The bars of an update, written straight to text: through an object `Value` each
/// (seven keys allocated and sorted per bar), they were most of the update thread's
/// work on a busy graph.
struct Bars<'a>(&'a [(usize, Bar)]);

/// One bar as the page reads it.
#[derive(serde::Serialize)]
struct BarOut<'a> {
    w: usize,
    s: f64,
    e: f64,
    name: &'a str,
    key: String,
    ok: bool,
    size: Option<u64>,
}

impl Serialize for Bars<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for (w, b) in self.0 {
            seq.serialize_element(&BarOut {
                w: *w,
                s: ms(b.start),
                e: ms(b.end),
                name: b.name,
                key: bar_key(b),
                ok: b.ok,
                size: b.size,
            })?;
        }
        seq.end()
    }
}

/// One update of the live view, as [`update`] makes it.
#[derive(serde::Serialize)]
pub(crate) struct Update<'a> {
    now_ms: f64,
    computation: Value,
    functions: Value,
    workers: Value,
    bars: Bars<'a>,
    memory: Value,
    running: Value,
    history: Value,
}

/// Bars as a `Value`, for the answers that embed them (a page's first look, a
/// reopened computation).
fn bars(bars: &[(usize, Bar)]) -> Value {
    serde_json::to_value(Bars(bars)).unwrap_or(Value::Null)
}

fn functions(rows: &[FnRow]) -> Value {
    Value::Array(
        rows.iter()
            .map(|r| {
                json!({
                    "name": r.name, "total": r.total, "done": r.counts.done,
                    "failed": r.counts.failed, "retried": r.counts.retried,
                    "running": r.running(), "busy_ms": ms(r.counts.busy_ns),
                })
            })
            .collect(),
    )
}

fn workers(rows: &[WorkerRow]) -> Value {
    Value::Array(
        rows.iter()
            .map(|w| {
                json!({
                    "w": w.shard, "label": worker_label(w.label), "occupancy": w.occupancy,
                    "running": w.running, "busy_ms": ms(w.busy_ns),
                })
            })
            .collect(),
    )
}

fn states(states: &Option<Vec<u8>>) -> Value {
    match states {
        Some(s) => Value::String(s.iter().map(|&b| char::from(b'0' + b)).collect()),
        None => Value::Null,
    }
}

fn summary(p: &Past) -> Value {
    json!({
        "id": p.id, "running": false, "ok": p.ok, "started": p.started_unix_ms,
        "elapsed_ms": ms(p.wall_ns), "threads": p.threads, "tasks": p.tasks,
        "done": p.done(), "failed": p.failed(), "peak_held": p.peak_held,
    })
}

fn running_summary(c: &RunningFigures) -> Value {
    json!({
        "id": c.id, "running": true, "ok": Value::Null, "started": c.started_unix_ms,
        "elapsed_ms": ms(c.elapsed_ns), "threads": c.threads, "tasks": c.tasks,
        "done": c.done(), "failed": c.failed(), "held": c.held,
    })
}

/// One update of the live view: it follows the computation started last among those
/// running (or shows the last one finished); every running one is listed.
pub(crate) fn update(sample: &Sample, rss: Option<u64>) -> Update<'_> {
    let (computation, shown_functions) = match sample.running.last() {
        Some(c) => {
            let mut v = running_summary(c);
            v["states"] = states(&c.states);
            (v, functions(&c.functions))
        }
        None => match sample.history.last() {
            Some(p) => {
                let mut v = summary(p);
                v["states"] = states(&p.states);
                (v, functions(&p.functions))
            }
            None => (Value::Null, Value::Array(Vec::new())),
        },
    };
    Update {
        now_ms: ms(sample.now_ns),
        computation,
        functions: shown_functions,
        workers: workers(&sample.workers),
        bars: Bars(&sample.bars),
        memory: json!({
            "rss": rss,
            // Results whose size their task can tell (collections' chunks); the others
            // are not counted.
            "results": sample.held,
            "results_known": sample.held_results,
        }),
        running: Value::Array(sample.running.iter().rev().map(running_summary).collect()),
        history: Value::Array(sample.history.iter().rev().map(|p| summary(p)).collect()),
    }
}

fn graph(view: &GraphView) -> Value {
    json!({
        "collapsed": view.collapsed,
        "nodes": view.nodes.iter().map(|n| json!({
            "label": n.label, "name": n.name, "task": n.is_task, "count": n.count,
            "rank": n.rank, "slot": n.slot,
        })).collect::<Vec<_>>(),
        "edges": view.edges.iter().map(|&(f, t, c)| json!([f, t, c])).collect::<Vec<_>>(),
    })
}

/// The recent bars a page that opens missed (see `Live::recent_bars`).
pub(crate) fn recent(now_ns: u64, recent: &[(usize, Bar)]) -> Value {
    json!({ "now_ms": ms(now_ns), "bars": bars(recent) })
}

/// A computation opened by id: the running one's structure, or a past one whole.
pub(crate) fn opened(id: u64, opened: &Opened) -> Value {
    match opened {
        Opened::Running(view) => json!({ "id": id, "running": true, "graph": graph(view) }),
        Opened::Past(p) => {
            let mut v = summary(p);
            v["graph"] = graph(&p.view);
            v["states"] = states(&p.states);
            v["functions"] = functions(&p.functions);
            v["workers"] = workers(&p.workers);
            v["bars"] = bars(&p.bars);
            v["start_ms"] = json!(ms(p.started_ns));
            v
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_written_with_every_field_the_page_reads() {
        let bar = |custom: Option<&str>, size| Bar {
            start: 1_500_000,
            end: 4_000_000,
            name: "<f>",
            id: 7,
            custom: custom.map(Box::from),
            ok: custom.is_none(),
            run: 1,
            size,
        };
        let list = [(2, bar(None, Some(64))), (0, bar(Some("mine & <b>"), None))];
        let text = to_safe_text(&Bars(&list));
        assert!(!text.contains('<') && !text.contains('&'), "{text}");
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, bars(&list), "the same as the `Value` form");
        assert_eq!(
            back[0],
            json!({ "w": 2, "s": 1.5, "e": 4.0, "name": "<f>",
                    "key": format_key("<f>", 7), "ok": true, "size": 64 })
        );
        assert_eq!(back[1]["key"], "mine & <b>");
        assert_eq!(back[1]["ok"], false);
        assert_eq!(back[1]["size"], Value::Null);
    }

    #[test]
    fn markup_never_appears_raw_and_parses_back() {
        let value = json!({ "name": "<script>alert('x' & \"y\")</script>" });
        let text = to_safe_text(&value);
        assert!(
            !text.contains('<') && !text.contains('>') && !text.contains('&'),
            "{text}"
        );
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
        assert_eq!(
            text,
            r#"{"name":"\u003cscript\u003ealert('x' \u0026 \"y\")\u003c/script\u003e"}"#
        );
        // Text beyond ASCII passes through whole.
        let wide = json!(["héllo <b> ✓", { "k&": 1.5 }]);
        let text = to_safe_text(&wide);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), wide);
        assert!(text.contains("héllo") && text.contains('✓'), "{text}");
    }

    #[test]
    fn lanes_are_named_by_process_and_worker() {
        let label = |process, worker| worker_label(LaneLabel { process, worker });
        assert_eq!(label(None, None), "caller");
        assert_eq!(label(None, Some(3)), "worker 3");
        assert_eq!(label(Some(2), Some(0)), "p2/w0");
        assert_eq!(label(Some(1), None), "p1/caller");
    }
}
