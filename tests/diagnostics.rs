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
