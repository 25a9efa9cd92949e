//! The dashboard on the cluster backend: two processes on 127.0.0.1 (copies of this test
//! binary, as in `array_cluster.rs`) each watch the same computation with their own
//! dashboard; process 0's shows the workers of both processes, with the tasks process 1
//! ran, and its graph has every task done.

#![cfg(all(feature = "cluster", feature = "dashboard"))]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use dask::{delayed, Dashboard, Delayed};
use serde_json::Value;

mod support;

const ROLE: &str = "DASK_DASHBOARD_CLUSTER_ROLE";

#[delayed]
fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

#[delayed]
fn total(xs: Vec<u64>) -> u64 {
    xs.iter().sum()
}

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

/// One process of the cluster: prints `RESULT key=value` lines.
#[test]
#[ignore = "a process of the test below, started by it"]
fn dashboard_cluster_child() {
    let config = support::child_cluster_config(ROLE, "process_0_shows_every_process_workers");
    let dash = Dashboard::serve_quietly().unwrap();
    let config = config.dashboard(&dash);
    let naps: Vec<Delayed<u64>> = (0..16).map(|i| nap(10 + i)).collect();
    let sum = total(naps).compute_with(&config).unwrap();
    println!("RESULT total={sum}");
    let past = get_json(&dash, "/api/computation/1");
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
    println!("RESULT workers={}", labels.join(","));
    let bars = past["bars"].as_array().unwrap();
    let remote = bars
        .iter()
        .filter(|b| label_of(&b["w"]).starts_with("p1/"))
        .count();
    println!("RESULT bars={}", bars.len());
    println!("RESULT remote_bars={remote}");
    println!("RESULT done={}", past["done"]);
    println!("RESULT graph={}", past["states"].as_str().unwrap());
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
        assert_eq!(result(out, "total"), (10..26).sum::<u64>().to_string());
    }
    let (first, second) = (&outs[0], &outs[1]);
    // Process 0: its own workers and process 1's, every task counted and done.
    let workers = result(first, "workers");
    assert!(workers.contains("worker 0"), "{workers}");
    assert!(workers.contains("p1/w"), "{workers}");
    let remote: usize = result(first, "remote_bars").parse().unwrap();
    assert!(remote > 0, "no bar of process 1's tasks");
    assert_eq!(result(first, "bars"), "17", "every task, wherever it ran");
    assert_eq!(result(first, "done"), "17");
    assert_eq!(result(first, "graph"), "2".repeat(17), "all done");
    // Process 1 shows its own tasks only: no other process reports to it.
    let workers = result(second, "workers");
    assert!(!workers.contains("p0/"), "{workers}");
    assert_eq!(result(second, "remote_bars"), "0");
}
