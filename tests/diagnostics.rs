//! The profiler's exports: Chrome Trace Event JSON, the per-function summary, the SVG
//! timeline and the HTML report's escaping.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use dask::{delayed, Config, Delayed, Profiler, Scheduler};
use serde_json::Value;

/// Sleeps `ms`. With `meet`, the first two naps of a run to start wait for each other
/// first (see `Meeting`).
#[delayed]
fn nap(ms: u64, meet: bool) -> u64 {
    if meet {
        meet_if_among_first_two();
    }
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

#[delayed]
fn add_up(xs: Vec<u64>) -> u64 {
    xs.iter().sum()
}

#[delayed(name = "<script>alert(1)</script>")]
fn sneaky(x: u64) -> u64 {
    x + 1
}

/// Held by every test that runs tasks on the 2-thread pool (`Threads(2)`, and
/// `Config::default()`, which is that pool on a 2-core machine). A profiled run's first
/// two naps wait for each other on its two workers: another test's task on one of them
/// would hold the run up, and the run's figures (workers, efficiency) are its own.
static POOL_TO_ITSELF: Mutex<()> = Mutex::new(());

fn pool_to_itself() -> MutexGuard<'static, ()> {
    POOL_TO_ITSELF.lock().unwrap_or_else(|e| e.into_inner())
}

/// How many naps of the current profiled run have joined the meeting, and whether one
/// gave up waiting. The first nap to start waits (30 s at most) for a second one: a
/// worker waiting there cannot start it, so the other worker does. That is what makes
/// both workers run a nap, whatever the load; otherwise one worker can run all eight
/// while the other has not been given the CPU yet.
#[derive(Default)]
struct Meeting {
    arrived: usize,
    gave_up: bool,
}

static MEETING: Mutex<Meeting> = Mutex::new(Meeting {
    arrived: 0,
    gave_up: false,
});
static MET: Condvar = Condvar::new();

fn meet_if_among_first_two() {
    let mut meeting = MEETING.lock().unwrap_or_else(|e| e.into_inner());
    if meeting.arrived >= 2 {
        return;
    }
    meeting.arrived += 1;
    MET.notify_all();
    let (mut meeting, wait) = MET
        .wait_timeout_while(meeting, Duration::from_secs(30), |m| m.arrived < 2)
        .unwrap_or_else(|e| e.into_inner());
    if wait.timed_out() {
        meeting.gave_up = true;
    }
}

/// 8 naps of 5 ms and one sum, on two workers that each run at least one nap.
fn profiled_run() -> (Profiler, Vec<String>) {
    let _alone = pool_to_itself();
    *MEETING.lock().unwrap() = Meeting::default();
    let profiler = Profiler::new();
    let naps: Vec<Delayed<u64>> = (0..8).map(|_| nap(5, true)).collect();
    let mut keys: Vec<String> = naps.iter().map(|n| n.key().to_string()).collect();
    let total = add_up(naps);
    keys.push(total.key().to_string());
    let config = Config::default()
        .scheduler(Scheduler::Threads(2))
        .profiler(&profiler);
    assert_eq!(total.compute_with(&config).unwrap(), 40);
    let meeting = MEETING.lock().unwrap();
    assert!(
        meeting.arrived == 2 && !meeting.gave_up,
        "the first two naps did not run at once on the two workers"
    );
    (profiler, keys)
}

#[test]
fn the_chrome_trace_has_one_complete_event_per_task_on_its_workers_row() {
    let (profiler, mut keys) = profiled_run();
    let trace: Value = serde_json::from_str(&profiler.chrome_trace()).expect("valid JSON");
    let events = trace["traceEvents"].as_array().expect("traceEvents");
    let complete: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    assert_eq!(complete.len(), 9);
    let records = profiler.records();
    let mut seen: Vec<String> = complete
        .iter()
        .map(|e| e["args"]["key"].as_str().unwrap().to_string())
        .collect();
    seen.sort();
    keys.sort();
    assert_eq!(seen, keys);
    for e in &complete {
        let key = e["args"]["key"].as_str().unwrap();
        let record = records.iter().find(|r| r.key == key).unwrap();
        assert_eq!(e["tid"].as_u64(), record.worker.map(|w| w as u64), "{e}");
        assert!(e["tid"].as_u64().unwrap() < 2);
        assert_eq!(e["pid"], 1);
        assert_eq!(e["name"].as_str(), Some(record.name.as_str()));
        // Microseconds.
        let ts = e["ts"].as_f64().unwrap();
        let dur = e["dur"].as_f64().unwrap();
        assert!((ts - record.start.as_nanos() as f64 / 1e3).abs() < 1e-3);
        assert!((dur - record.duration().as_nanos() as f64 / 1e3).abs() < 1e-3);
        if record.name == "nap" {
            assert!(dur >= 4_900.0, "{dur} µs");
        }
    }
    // Both workers napped (the meeting sees to it): two rows, each named.
    let tids: std::collections::BTreeSet<u64> = complete
        .iter()
        .filter(|e| e["name"] == "nap")
        .map(|e| e["tid"].as_u64().unwrap())
        .collect();
    assert_eq!(tids.len(), 2, "naps ran on one worker only");
    let names: Vec<&str> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| e["args"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["worker 0", "worker 1"]);
}

#[test]
fn the_summary_counts_and_times_each_function() {
    let (profiler, _) = profiled_run();
    let summary = profiler.summary();
    assert_eq!(summary.len(), 2);
    let naps = &summary[0];
    assert_eq!((naps.name.as_str(), naps.count), ("nap", 8));
    assert!(naps.max >= Duration::from_millis(5));
    assert!(naps.total >= Duration::from_millis(40));
    assert_eq!(naps.mean, naps.total / 8);
    assert!(naps.max <= naps.total && naps.mean <= naps.max);
    let sums = &summary[1];
    assert_eq!((sums.name.as_str(), sums.count), ("add_up", 1));
    assert_eq!(sums.total, sums.max);
    let records = profiler.records();
    let nap_total: Duration = records
        .iter()
        .filter(|r| r.name == "nap")
        .map(|r| r.duration())
        .sum();
    assert_eq!(naps.total, nap_total);

    let table = profiler.summary_table();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("function") && lines[0].contains("count"));
    assert!(
        lines[1].starts_with("nap ") && lines[1].contains(" 8 "),
        "{table}"
    );
    assert!(
        lines[2].starts_with("add_up") && lines[2].contains(" 1 "),
        "{table}"
    );
}

#[test]
fn the_timeline_has_a_bar_per_task_and_a_row_per_worker() {
    let (profiler, _) = profiled_run();
    let svg = profiler.timeline_svg();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_eq!(svg.matches("<rect class=\"task\"").count(), 9);
    assert_eq!(svg.matches("<rect class=\"lane\"").count(), 2);
    assert!(svg.contains(">worker 0</text>") && svg.contains(">worker 1</text>"));
    // One legend entry per function.
    assert_eq!(svg.matches("<rect class=\"legend\"").count(), 2);
}

#[test]
fn the_sequential_scheduler_is_one_calling_thread_row() {
    let profiler = Profiler::new();
    let parts: Vec<Delayed<u64>> = (0..3).map(|_| nap(0, false)).collect();
    let config = Config::default()
        .scheduler(Scheduler::Sync)
        .profiler(&profiler);
    dask::compute_with(&parts, &config).unwrap();
    let trace: Value = serde_json::from_str(&profiler.chrome_trace()).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    assert!(events
        .iter()
        .filter(|e| e["ph"] == "X")
        .all(|e| e["tid"] == 0));
    assert!(profiler.timeline_svg().contains(">calling thread</text>"));
}

#[test]
fn labels_are_escaped_everywhere() {
    let _alone = pool_to_itself();
    let profiler = Profiler::new();
    let x = sneaky(1);
    let graph = dask::graph(std::slice::from_ref(&x));
    x.compute_with(&Config::default().profiler(&profiler))
        .unwrap();
    let svg = profiler.timeline_svg();
    let html = profiler.report_html(Some(&graph));
    for text in [&svg, &html] {
        assert!(!text.contains("<script"), "unescaped script tag");
        assert!(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }
    let trace: Value = serde_json::from_str(&profiler.chrome_trace()).unwrap();
    assert!(trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["name"] == "<script>alert(1)</script>"));
}

#[test]
fn the_report_states_the_runs_figures() {
    let (profiler, _) = profiled_run();
    let html = profiler.report_html(None);
    for figure in [
        "<th>tasks</th><td>9</td>",
        "<th>task attempts</th><td>9</td>",
        "<th>workers</th><td>2</td>",
        "<th>computations</th><td>1</td>",
        "parallel efficiency",
    ] {
        assert!(html.contains(figure), "missing {figure}");
    }
    // The figures agree with the records and with each other: busy time is the records'
    // total, the wall time covers every record, and the efficiency shown is busy /
    // (workers × wall) of the figures shown, up to their rounding.
    let records = profiler.records();
    let busy_ns: u128 = records.iter().map(|r| r.duration().as_nanos()).sum();
    assert_eq!(
        figure(&html, "busy time"),
        dask_viz::format_ns(busy_ns as u64)
    );
    let (busy, busy_rounding) = printed_seconds(figure(&html, "busy time"));
    let (wall, wall_rounding) = printed_seconds(figure(&html, "wall time"));
    let first_start = records.iter().map(|r| r.start).min().unwrap();
    let last_end = records.iter().map(|r| r.end).max().unwrap();
    assert!(
        wall + wall_rounding >= (last_end - first_start).as_secs_f64(),
        "wall time {wall} s is shorter than the tasks' span"
    );
    let workers: f64 = figure(&html, "workers").parse().unwrap();
    let efficiency: f64 = figure(&html, "parallel efficiency")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("an efficiency figure");
    let lowest = 100.0 * (busy - busy_rounding) / (workers * (wall + wall_rounding));
    let highest = 100.0 * (busy + busy_rounding) / (workers * (wall - wall_rounding));
    // Shown with one decimal: the true figure is within 0.05 of it.
    assert!(
        efficiency + 0.05 + 1e-9 >= lowest && efficiency - 0.05 - 1e-9 <= highest,
        "efficiency {efficiency} % is not busy {busy} s / ({workers} × wall {wall} s)"
    );
    assert!(efficiency > 0.0 && efficiency <= 100.0, "{efficiency} %");
    assert_eq!(html.matches("<rect class=\"task\"").count(), 9);
}

/// The value of figure `label` in a report's table, as printed.
fn figure<'h>(html: &'h str, label: &str) -> &'h str {
    html.split(&format!("<th>{label}</th><td>"))
        .nth(1)
        .and_then(|rest| rest.split("</td>").next())
        .unwrap_or_else(|| panic!("no {label} figure in the report"))
}

/// A duration as the report prints it ("45.3 ms"), in seconds, with the rounding of
/// the print: half a unit of its last digit.
fn printed_seconds(text: &str) -> (f64, f64) {
    let (number, unit) = text.split_once(' ').expect("a number and a unit");
    let scale = match unit {
        "s" => 1.0,
        "ms" => 1e-3,
        "µs" => 1e-6,
        "ns" => 1e-9,
        other => panic!("unknown unit {other} in {text}"),
    };
    let decimals = number.split_once('.').map_or(0, |(_, d)| d.len());
    let value: f64 = number.parse().expect("a number");
    (value * scale, 0.5 * 10f64.powi(-(decimals as i32)) * scale)
}

#[test]
fn clear_forgets_records() {
    let (profiler, _) = profiled_run();
    assert_eq!(profiler.records().len(), 9);
    profiler.clear();
    assert!(profiler.records().is_empty());
}

/// Named counters that tasks of computations running at the same time raise and wait
/// for, to make them overlap in a known order without guessing at sleeps.
#[derive(Default)]
struct Signals {
    raised: Mutex<std::collections::HashMap<&'static str, usize>>,
    changed: Condvar,
}

impl Signals {
    fn new() -> std::sync::Arc<Self> {
        std::sync::Arc::default()
    }

    fn raise(&self, name: &'static str) {
        *self.raised.lock().unwrap().entry(name).or_default() += 1;
        self.changed.notify_all();
    }

    /// Waits until `name` was raised `times` times (30 s at most, then panics).
    fn wait(&self, name: &'static str, times: usize) {
        let raised = self.raised.lock().unwrap();
        let (_raised, wait) = self
            .changed
            .wait_timeout_while(raised, Duration::from_secs(30), |r| {
                r.get(name).copied().unwrap_or(0) < times
            })
            .unwrap();
        assert!(!wait.timed_out(), "{name} was not raised {times} times");
    }
}

/// A task (named `map`) that raises `raise`, waits for `wait` (`times` times), then
/// sleeps `ms`.
fn signalling(
    signals: &std::sync::Arc<Signals>,
    raise: &'static str,
    wait: (&'static str, usize),
    ms: u64,
) -> Delayed<()> {
    let signals = signals.clone();
    dask::delayed(()).map(move |_| {
        signals.raise(raise);
        signals.wait(wait.0, wait.1);
        std::thread::sleep(Duration::from_millis(ms));
    })
}

/// The complete events of a Chrome trace, and the names of its rows by `tid`.
fn trace_of(profiler: &Profiler) -> (Vec<Value>, std::collections::BTreeMap<u64, String>) {
    let trace: Value = serde_json::from_str(&profiler.chrome_trace()).expect("valid JSON");
    let events = trace["traceEvents"].as_array().unwrap();
    let complete = events.iter().filter(|e| e["ph"] == "X").cloned().collect();
    let rows = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| {
            let name = e["args"]["name"].as_str().unwrap().to_string();
            (e["tid"].as_u64().unwrap(), name)
        })
        .collect();
    (complete, rows)
}

/// Trace viewers draw the events of one row as a stack: two of them may nest (a task
/// computing a graph inside), never overlap otherwise.
fn assert_rows_only_nest(complete: &[Value]) {
    let mut by_row: std::collections::BTreeMap<u64, Vec<(f64, f64)>> = Default::default();
    for e in complete {
        let ts = e["ts"].as_f64().unwrap();
        let end = ts + e["dur"].as_f64().unwrap();
        by_row
            .entry(e["tid"].as_u64().unwrap())
            .or_default()
            .push((ts, end));
    }
    const SLACK: f64 = 1e-3; // 1 ns: the microseconds are floats
    for (tid, mut spans) in by_row {
        // Outer before inner: by start, the longer first.
        spans.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut open: Vec<(f64, f64)> = Vec::new();
        for (start, end) in spans {
            while open.last().is_some_and(|&(_, e)| e <= start + SLACK) {
                open.pop();
            }
            if let Some(&outer) = open.last() {
                assert!(
                    end <= outer.1 + SLACK,
                    "on tid {tid}, {:?} and {:?} overlap without nesting",
                    outer,
                    (start, end)
                );
            }
            open.push((start, end));
        }
    }
}

#[delayed(pure)]
fn double(x: u64) -> u64 {
    x * 2
}

#[test]
fn records_and_the_trace_carry_keys_given_with_with_key() {
    let profiler = Profiler::new();
    let custom = dask::delayed(1).map(|v| v + 1).with_key("my-custom-key");
    let plain = dask::delayed(2).map(|v| v + 1);
    // Equal pure calls under two keys are two nodes with the same hash part.
    let first = double(3).with_key("double-first");
    let second = double(3).with_key("double-second");
    let outputs = [custom, plain.clone(), first, second];
    let graph = dask::graph(&outputs);
    let config = Config::default()
        .scheduler(Scheduler::Sync)
        .profiler(&profiler);
    assert_eq!(dask::compute_with(&outputs, &config).unwrap(), [2, 3, 6, 6]);
    let mut keys: Vec<String> = profiler.records().into_iter().map(|r| r.key).collect();
    keys.sort();
    let mut expected = vec![
        "double-first".to_string(),
        "double-second".to_string(),
        "my-custom-key".to_string(),
        plain.key().to_string(),
    ];
    expected.sort();
    assert_eq!(keys, expected);

    let (complete, _) = trace_of(&profiler);
    let mut traced: Vec<String> = complete
        .iter()
        .map(|e| e["args"]["key"].as_str().unwrap().to_string())
        .collect();
    traced.sort();
    assert_eq!(traced, expected);

    // The report's graph shows the time spent in each of the four tasks, given keys
    // included (a node's tooltip gains a `time:` line).
    let html = profiler.report_html(Some(&graph));
    let graph_part = html.split("id=\"graph\"").nth(1).expect("a graph section");
    assert_eq!(graph_part.matches("time: ").count(), 4, "{graph_part}");
}

/// A sequential computation overlaps one on two workers: A's task waits until both of
/// B's run, and B's tasks until A has finished, then sleep 50 ms. A finishes first,
/// while B is running.
#[test]
fn computations_sharing_a_profiler_each_close_their_own_run() {
    let _alone = pool_to_itself();
    let profiler = Profiler::new();
    let signals = Signals::new();
    let a = signalling(&signals, "a running", ("b running", 2), 0);
    let b: Vec<Delayed<()>> = (0..2)
        .map(|_| signalling(&signals, "b running", ("a done", 1), 50))
        .collect();
    let sequential = Config::default()
        .scheduler(Scheduler::Sync)
        .profiler(&profiler);
    let pool = Config::default()
        .scheduler(Scheduler::Threads(2))
        .profiler(&profiler);
    std::thread::scope(|s| {
        let first = s.spawn(|| {
            a.compute_with(&sequential).unwrap();
            signals.raise("a done");
        });
        signals.wait("a running", 1);
        dask::compute_with(&b, &pool).unwrap();
        first.join().unwrap();
    });
    let html = profiler.report_html(None);
    assert_eq!(figure(&html, "computations"), "2");
    assert_eq!(figure(&html, "tasks"), "3");
    assert_eq!(figure(&html, "workers"), "2");
    let efficiency = efficiency_of(&html);
    assert!(efficiency <= 100.0, "parallel efficiency {efficiency} %");
    // The wall time covers both runs once: from A's start to B's end.
    let records = profiler.records();
    let span = records.iter().map(|r| r.end).max().unwrap()
        - records.iter().map(|r| r.start).min().unwrap();
    let (wall, rounding) = printed_seconds(figure(&html, "wall time"));
    assert!(wall + rounding >= span.as_secs_f64(), "wall {wall} s");
}

/// Holds a computation between its `threads` and `start` hooks until another one has
/// run entirely.
struct HoldAfterThreads(std::sync::Arc<Signals>);

impl dask::Callbacks for HoldAfterThreads {
    fn threads(&self, _threads: usize) {
        self.0.raise("threads told");
        self.0.wait("other done", 1);
    }
}

#[test]
fn each_computation_keeps_its_own_thread_count() {
    let _alone = pool_to_itself();
    let profiler = Profiler::new();
    let signals = Signals::new();
    // Two tasks that run at once on the two workers, 20 ms each.
    let a: Vec<Delayed<()>> = (0..2)
        .map(|_| signalling(&signals, "a running", ("a running", 2), 20))
        .collect();
    let pool = Config::default()
        .scheduler(Scheduler::Threads(2))
        .profiler(&profiler)
        .callback(HoldAfterThreads(signals.clone()));
    let sequential = Config::default()
        .scheduler(Scheduler::Sync)
        .profiler(&profiler);
    std::thread::scope(|s| {
        let first = s.spawn(|| dask::compute_with(&a, &pool).unwrap());
        // Between A's `threads` and its `start`, B runs on one thread.
        signals.wait("threads told", 1);
        dask::delayed(1)
            .map(|v| v + 1)
            .compute_with(&sequential)
            .unwrap();
        signals.raise("other done");
        first.join().unwrap();
    });
    let html = profiler.report_html(None);
    assert_eq!(figure(&html, "computations"), "2");
    assert_eq!(figure(&html, "workers"), "2");
    let efficiency = efficiency_of(&html);
    assert!(efficiency <= 100.0, "parallel efficiency {efficiency} %");
}

/// Two sequential computations on two threads, their tasks overlapping without nesting:
/// A's starts, then B's, then A's ends, then B's.
#[test]
fn computations_at_once_on_two_calling_threads_get_a_row_each() {
    let profiler = Profiler::new();
    let signals = Signals::new();
    let a = signalling(&signals, "a running", ("b running", 1), 0);
    let b = signalling(&signals, "b running", ("a done", 1), 0);
    let config = Config::default()
        .scheduler(Scheduler::Sync)
        .profiler(&profiler);
    std::thread::scope(|s| {
        let first = s.spawn(|| {
            a.compute_with(&config).unwrap();
            signals.raise("a done");
        });
        signals.wait("a running", 1);
        b.compute_with(&config).unwrap();
        first.join().unwrap();
    });
    let (complete, rows) = trace_of(&profiler);
    assert_eq!(complete.len(), 2);
    assert_rows_only_nest(&complete);
    assert_eq!(
        rows.values().collect::<Vec<_>>(),
        ["calling thread 1", "calling thread 2"]
    );
    let svg = profiler.timeline_svg();
    assert_eq!(svg.matches("<rect class=\"lane\"").count(), 2);
}

/// A pool of one worker and the pool of two run at once: worker 0 of each runs a task,
/// the two overlapping without nesting.
#[test]
fn pools_of_different_sizes_get_rows_of_their_own() {
    let _alone = pool_to_itself();
    let profiler = Profiler::new();
    let signals = Signals::new();
    let c = signalling(&signals, "c running", ("d running", 2), 0);
    let d: Vec<Delayed<()>> = (0..2)
        .map(|_| signalling(&signals, "d running", ("c done", 1), 0))
        .collect();
    let one = Config::default()
        .scheduler(Scheduler::Threads(1))
        .profiler(&profiler);
    let two = Config::default()
        .scheduler(Scheduler::Threads(2))
        .profiler(&profiler);
    std::thread::scope(|s| {
        let first = s.spawn(|| {
            c.compute_with(&one).unwrap();
            signals.raise("c done");
        });
        signals.wait("c running", 1);
        dask::compute_with(&d, &two).unwrap();
        first.join().unwrap();
    });
    let (complete, rows) = trace_of(&profiler);
    assert_eq!(complete.len(), 3);
    assert_rows_only_nest(&complete);
    assert_eq!(
        rows.values().collect::<Vec<_>>(),
        [
            "worker 0 (pool of 1)",
            "worker 0 (pool of 2)",
            "worker 1 (pool of 2)"
        ]
    );
    let mut workers: Vec<Option<usize>> = profiler.records().iter().map(|r| r.worker).collect();
    workers.sort();
    assert_eq!(workers, [Some(0), Some(0), Some(1)]);
}

/// The parallel efficiency figure of a report, in per cent.
fn efficiency_of(html: &str) -> f64 {
    figure(html, "parallel efficiency")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("an efficiency figure")
}

/// A graph computed inside a task runs on the same thread: its tasks' events nest in
/// the outer task's, on the outer task's row.
#[test]
fn a_graph_computed_inside_a_task_nests_on_its_row() {
    let profiler = Profiler::new();
    let config = Config::default()
        .scheduler(Scheduler::Sync)
        .profiler(&profiler);
    let inner_config = config.clone();
    let outer = dask::delayed(2).map(move |&v| {
        let inner = dask::delayed(v).map(|v| v + 1);
        inner.compute_with(&inner_config).unwrap()
    });
    assert_eq!(outer.compute_with(&config).unwrap(), 3);
    let (complete, rows) = trace_of(&profiler);
    assert_eq!(complete.len(), 2);
    assert_rows_only_nest(&complete);
    assert_eq!(rows.values().collect::<Vec<_>>(), ["calling thread"]);
    let html = profiler.report_html(None);
    assert_eq!(figure(&html, "computations"), "2");
    let efficiency = efficiency_of(&html);
    assert!(efficiency <= 100.0, "parallel efficiency {efficiency} %");
}
