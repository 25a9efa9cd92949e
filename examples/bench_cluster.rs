//! The cluster scheduler's cost on this machine (feature `cluster`): per-task time of
//! empty tasks and the lecture's `calculation` speedup, with 1, 2 and 3 processes on
//! 127.0.0.1, against the local scheduler.
//!
//! `cargo run --release --features cluster --example bench_cluster [-- --quick]`
//!
//! The harness starts the processes itself (copies of this program with `-n/-p/-h/-w`);
//! process 0 reports. Figures are medians of 5 computations of the same graph after one
//! warm-up computation (which also connects the processes).

use std::process::{Command, Stdio};
use std::time::Instant;

use dask::cluster::{ClusterConfig, Placement};
use dask::{delayed, Config, Delayed, Scheduler};

#[path = "workloads/calculation.rs"]
mod calculation;
#[path = "workloads/random.rs"]
mod random;

#[delayed]
fn leaf(i: u64) -> u64 {
    i
}

#[delayed]
fn join(xs: Vec<u64>) -> u64 {
    xs.iter().fold(0, |a, &x| a.wrapping_add(x))
}

#[delayed]
fn step(x: &u64) -> u64 {
    x.wrapping_add(1)
}

/// `tasks` independent tasks read by one join: most results cross processes.
fn fan_in(tasks: u64) -> Vec<Delayed<u64>> {
    vec![join((0..tasks).map(leaf).collect::<Vec<_>>())]
}

/// 100 chains: with `Placement::Chains` nothing crosses until the final join.
fn chains(tasks: u64) -> Vec<Delayed<u64>> {
    let per_chain = tasks / 100;
    let ends: Vec<Delayed<u64>> = (0..100)
        .map(|c| (1..per_chain).fold(leaf(c), |x, _| step(&x)))
        .collect();
    vec![join(ends)]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median seconds of `runs` computations after a warm-up.
fn time_compute(outputs: &[Delayed<u64>], config: &Config, runs: usize) -> f64 {
    let expected = dask::compute_with(outputs, config).expect("warm-up");
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                let got = dask::compute_with(outputs, config).expect("compute");
                let t = start.elapsed().as_secs_f64();
                assert_eq!(got, expected);
                t
            })
            .collect(),
    )
}

struct Sizes {
    tasks: u64,
    calc_size: u64,
}

fn sizes() -> Sizes {
    if std::env::args().any(|a| a == "--quick") {
        Sizes {
            tasks: 10_000,
            calc_size: 200_000,
        }
    } else {
        Sizes {
            tasks: 100_000,
            calc_size: 10_000_000,
        }
    }
}

/// One process of a benchmark cluster; process 0 prints `RESULT` lines.
fn child(cluster: ClusterConfig) {
    let sizes = sizes();
    let me = cluster.index();
    let report = |what: &str, value: String| {
        if me == 0 {
            println!("RESULT {what} {value}");
        }
    };
    for (name, placement) in [
        ("chains", Placement::Chains),
        ("keyhash", Placement::KeyHash),
    ] {
        let config = Config::default().cluster(cluster.clone().placement(placement));
        for (shape, outputs) in [
            ("fan-in", fan_in(sizes.tasks)),
            ("chains", chains(sizes.tasks)),
        ] {
            let t = time_compute(&outputs, &config, 5);
            let tasks = dask::graph(&outputs).len() as f64;
            report(
                &format!("{shape}/{name}"),
                format!("{:.2}", t * 1e6 / tasks),
            );
        }
    }
    let config = Config::default().cluster(cluster.clone());
    // The fixed cost of one computation: two tasks on different processes and a join.
    let tiny = vec![join(vec![leaf(0), leaf(1)])];
    let latency = time_compute(&tiny, &config, 201);
    report("latency", format!("{:.0}", latency * 1e6));
    let calls: Vec<Delayed<f64>> = (0..5)
        .map(|seed| calculation::calculation(sizes.calc_size, seed))
        .collect();
    let _ = dask::compute_with(&calls[..1], &config).expect("warm-up");
    let start = Instant::now();
    let values = dask::compute_with(&calls, &config).expect("calculation");
    let cluster_time = start.elapsed().as_secs_f64();
    if me == 0 {
        let start = Instant::now();
        let serial: Vec<f64> = (0..5)
            .map(|seed| calculation::calculation_eager(sizes.calc_size, seed))
            .collect();
        let serial_time = start.elapsed().as_secs_f64();
        assert_eq!(serial, values);
        report("calculation", format!("{cluster_time:.3} {serial_time:.3}"));
    }
}

/// Starts an `n`-process cluster of this program with `threads` each; process 0's lines.
fn launch(n: usize, threads: usize) -> Vec<(String, String)> {
    let addresses: Vec<String> = (0..n)
        .map(|_| {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().to_string()
        })
        .collect();
    let quick = std::env::args().any(|a| a == "--quick");
    let children: Vec<_> = (0..n)
        .map(|p| {
            let mut c = Command::new(std::env::current_exe().unwrap());
            c.env("DASK_CLUSTER_PROCESSES", n.to_string())
                .env("DASK_CLUSTER_INDEX", p.to_string())
                .env("DASK_CLUSTER_ADDRESSES", addresses.join(","))
                .env("DASK_CLUSTER_THREADS", threads.to_string())
                .stdout(Stdio::piped());
            if quick {
                c.arg("--quick");
            }
            c.spawn().expect("benchmark process starts")
        })
        .collect();
    let mut lines = Vec::new();
    for (p, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().expect("benchmark process ends");
        assert!(out.status.success(), "process {p} failed");
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some((what, value)) =
                line.strip_prefix("RESULT ").and_then(|l| l.split_once(' '))
            {
                lines.push((what.to_string(), value.to_string()));
            }
        }
    }
    lines
}

fn main() {
    if let Some(cluster) = ClusterConfig::from_env().expect("cluster variables") {
        return child(cluster);
    }
    let sizes = sizes();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{} empty tasks per graph; calculation: 5 x calculation({}); {cores} cores",
        sizes.tasks, sizes.calc_size
    );
    // The local scheduler on the same graphs, for reference.
    let local = Config::default().scheduler(Scheduler::Threads(cores));
    for (shape, outputs) in [
        ("fan-in", fan_in(sizes.tasks)),
        ("chains", chains(sizes.tasks)),
    ] {
        let t = time_compute(&outputs, &local, 5);
        let tasks = dask::graph(&outputs).len() as f64;
        println!(
            "local Threads({cores}): {shape}: {:.3} us/task",
            t * 1e6 / tasks
        );
    }
    let calls: Vec<Delayed<f64>> = (0..5)
        .map(|seed| calculation::calculation(sizes.calc_size, seed))
        .collect();
    let start = Instant::now();
    dask::compute_with(&calls, &local).unwrap();
    println!(
        "local Threads({cores}): calculation: {:.3} s",
        start.elapsed().as_secs_f64()
    );
    let tiny = vec![join(vec![leaf(0), leaf(1)])];
    println!(
        "local Threads({cores}): one tiny computation: {:.0} us",
        time_compute(&tiny, &local, 201) * 1e6
    );
    println!();
    println!("| processes x threads | fan-in chains | fan-in keyhash | chains chains | chains keyhash | tiny compute (us) | calculation (s) | serial (s) | speedup |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for n in [1usize, 2, 3] {
        let threads = (cores / n).max(1);
        let lines = launch(n, threads);
        let get = |k: &str| {
            lines
                .iter()
                .find(|(w, _)| w == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let calc = get("calculation");
        let (c, s) = calc.split_once(' ').unwrap_or(("0", "0"));
        let (c, s): (f64, f64) = (c.parse().unwrap_or(0.0), s.parse().unwrap_or(0.0));
        println!(
            "| {n} x {threads} | {} | {} | {} | {} | {} | {c:.3} | {s:.3} | {:.2} |",
            get("fan-in/chains"),
            get("fan-in/keyhash"),
            get("chains/chains"),
            get("chains/keyhash"),
            get("latency"),
            s / c
        );
    }
    println!("(task columns: microseconds per task, wall time / tasks)");
}
