//! The dashboard on the cluster backend: two processes on 127.0.0.1 (copies of this test
//! binary, as in `array_cluster.rs`) run the same computations. In the first only
//! process 0 has a dashboard: it shows the workers of both processes, with the tasks
//! process 1 ran, and its graph has every task done. In the second both have one:
//! process 0's shows both again, process 1's its own tasks only.

#![cfg(all(feature = "cluster", feature = "dashboard"))]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use dashboard_tasks::{nap, sneaky};
use dask::{Dashboard, Delayed};
use serde_json::Value;

#[path = "support/dashboard_tasks.rs"]
mod dashboard_tasks;
mod support;

const ROLE: &str = "DASK_DASHBOARD_CLUSTER_ROLE";

/// `GET path` on the dashboard, with its token; the body as JSON.
fn get_json(dash: &Dashboard, path: &str) -> Value {
    let token = dash.url().split("token=").nth(1).expect("a token");
    let addr: SocketAddr = dash.local_addr();
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path}?token={token} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("headers end");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    serde_json::from_str(body).expect("JSON")
}

/// Prints what computation `id` of `dash` shows as `RESULT {tag}_key=value` lines.
fn print_shown(dash: &Dashboard, id: u64, tag: &str) {
    let past = get_json(dash, &format!("/api/computation/{id}"));
    let workers = past["workers"].as_array().unwrap();
    let label_of = |lane: &Value| {
        workers
            .iter()
            .find(|w| &w["w"] == lane)
            .map_or(String::new(), |w| w["label"].as_str().unwrap().to_owned())
    };
    let labels: Vec<String> = workers
        .iter()
        .map(|w| w["label"].as_str().unwrap().to_owned())
        .collect();
    println!("RESULT {tag}_workers={}", labels.join(","));
    let bars = past["bars"].as_array().unwrap();
    let remote = bars
        .iter()
        .filter(|b| label_of(&b["w"]).starts_with("p1/"))
        .count();
    println!("RESULT {tag}_bars={}", bars.len());
    println!("RESULT {tag}_remote_bars={remote}");
    println!("RESULT {tag}_done={}", past["done"]);
    println!("RESULT {tag}_graph={}", past["states"].as_str().unwrap());
}

/// Sixteen naps of 10 to 25 ms and their sum: 17 tasks.
fn naps() -> Delayed<u64> {
    let naps: Vec<Delayed<u64>> = (0..16).map(|i| nap(10 + i)).collect();
    sneaky(naps)
}

/// One process of the cluster: prints `RESULT key=value` lines.
#[test]
#[ignore = "a process of the test below, started by it"]
fn dashboard_cluster_child() {
    let config = support::child_cluster_config(ROLE, "process_0_shows_every_process_workers");
    let me = dask::cluster::ClusterConfig::from_env()
        .unwrap()
        .map_or(0, |c| c.index());
    let dash = Dashboard::serve_quietly().unwrap();
    // Only process 0 watches: process 1 has no dashboard attached, and reports anyway.
    let watched = if me == 0 {
        config.clone().dashboard(&dash)
    } else {
        config.clone()
    };
    let sum = naps().compute_with(&watched).unwrap();
    println!("RESULT total={sum}");
    // Both watch.
    let sum = naps().compute_with(&config.dashboard(&dash)).unwrap();
    println!("RESULT total_again={sum}");
    if me == 0 {
        print_shown(&dash, 1, "alone");
        print_shown(&dash, 2, "both");
    } else {
        print_shown(&dash, 1, "both");
    }
}

#[test]
fn process_0_shows_every_process_workers() {
    let outs = support::run_cluster_children(
        "dashboard_cluster_child",
        ROLE,
        "dashboard",
        2,
        Duration::from_secs(120),
    );
    let result = support::result_line;
    for out in &outs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let sum = (10..26).sum::<u64>().to_string();
        assert_eq!(result(out, "total"), sum);
        assert_eq!(result(out, "total_again"), sum);
    }
    let (first, second) = (&outs[0], &outs[1]);
    // Process 0: its own workers and process 1's, every task counted and done, whether
    // process 1 has a dashboard (`both`) or not (`alone`).
    for tag in ["alone", "both"] {
        let workers = result(first, &format!("{tag}_workers"));
        assert!(workers.contains("worker 0"), "{tag}: {workers}");
        assert!(workers.contains("p1/w"), "{tag}: {workers}");
        let remote: usize = result(first, &format!("{tag}_remote_bars"))
            .parse()
            .unwrap();
        assert!(remote > 0, "{tag}: no bar of process 1's tasks");
        let bars = result(first, &format!("{tag}_bars"));
        assert_eq!(bars, "17", "{tag}: every task, wherever it ran");
        assert_eq!(result(first, &format!("{tag}_done")), "17", "{tag}");
        let graph = result(first, &format!("{tag}_graph"));
        assert_eq!(graph, "2".repeat(17), "{tag}: all done");
    }
    // Process 1 shows its own tasks only: no other process reports to it.
    let workers = result(second, "both_workers");
    assert!(!workers.contains("p0/"), "{workers}");
    assert_eq!(result(second, "both_remote_bars"), "0");
    assert!(result(second, "both_done").parse::<u64>().unwrap() < 17);
}
