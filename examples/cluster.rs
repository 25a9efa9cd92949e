//! The lecture's generate → transform → aggregate pipeline on a cluster of processes
//! (feature `cluster`). Every process runs this same program and prints the same stats.
//!
//! One machine, two processes (addresses default to 127.0.0.1:2101, 2102, ...):
//!
//! ```sh
//! cargo build --release --features cluster --example cluster
//! target/release/examples/cluster -n 2 -p 0 &
//! target/release/examples/cluster -n 2 -p 1
//! ```
//!
//! or let it start the processes itself: `cargo run --release --features cluster
//! --example cluster -- --local 3`. Two hosts: the same `hosts.txt` (one `host:port` per
//! line) on both, then `cluster -n 2 -p 0 -h hosts.txt` on the first and `... -p 1 ...` on
//! the second. `-w <threads>` sets each process's pool size; `--sizes 1000,2000` the
//! data sizes.

use std::time::Instant;

use dask::cluster::ClusterConfig;
use dask::{Config, Delayed};

#[path = "workloads/random.rs"]
mod random;
#[path = "workloads/pipeline.rs"]
mod workloads;

use workloads::{aggregate_data, generate_data, transform_data, Stats};

/// The pipeline's graph: one chain per size, as in `examples/pipeline.rs`.
pub fn pipeline(sizes: &[usize]) -> Vec<Delayed<Stats>> {
    sizes
        .iter()
        .map(|&n| aggregate_data(transform_data(generate_data(n))))
        .collect()
}

/// Computes the pipeline on the cluster `cluster` and returns the stats (on every
/// process).
pub fn run(sizes: &[usize], cluster: ClusterConfig) -> Result<Vec<Stats>, dask::Error> {
    dask::compute_with(&pipeline(sizes), &Config::default().cluster(cluster))
}

fn sizes_from_args() -> Vec<usize> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--sizes")
        .and_then(|i| args.get(i + 1))
        .map(|list| {
            list.split(',')
                .filter_map(|s| s.trim().parse().ok())
                .collect()
        })
        .unwrap_or_else(|| vec![1_000_000, 2_000_000, 3_000_000])
}

/// `--local N`: starts N processes of this program on free 127.0.0.1 ports and waits.
fn launch_local(n: usize) -> Result<(), Box<dyn std::error::Error>> {
    let ports: Vec<String> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").map(|l| l.local_addr()))
        .collect::<Result<Result<Vec<_>, _>, _>>()??
        .into_iter()
        .map(|a| a.to_string())
        .collect();
    let hosts = std::env::temp_dir().join(format!("dask-cluster-hosts-{}.txt", std::process::id()));
    std::fs::write(&hosts, ports.join("\n"))?;
    let mut own_args = Vec::new();
    let mut skip = false;
    for a in std::env::args().skip(1) {
        if skip {
            skip = false;
            continue;
        }
        if a == "--local" {
            skip = true;
            continue;
        }
        own_args.push(a);
    }
    let children: Vec<_> = (0..n)
        .map(|p| {
            std::process::Command::new(std::env::current_exe()?)
                .args(["-n", &n.to_string(), "-p", &p.to_string(), "-h"])
                .arg(&hosts)
                .args(&own_args)
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    let mut failed = false;
    for mut child in children {
        failed |= !child.wait()?.success();
    }
    let _ = std::fs::remove_file(&hosts);
    if failed {
        return Err("a process failed".into());
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--local") {
        let n = args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(2);
        return launch_local(n);
    }
    let cluster = ClusterConfig::from_env_or_args()?;
    let (index, processes) = (cluster.index(), cluster.processes());
    let sizes = sizes_from_args();
    let start = Instant::now();
    let stats = run(&sizes, cluster)?;
    let elapsed = start.elapsed();
    for (n, s) in sizes.iter().zip(&stats) {
        println!(
            "process {index}/{processes}: size {n:>9}: mean {:.6}  std {:.6}  max {:.6}",
            s.mean, s.std, s.max
        );
    }
    // Again, now that the processes are connected.
    let start = Instant::now();
    let again = run(&sizes, ClusterConfig::from_env_or_args()?)?;
    let warm = start.elapsed();
    assert_eq!(again, stats);
    let owned = dask::cluster::last_placement();
    println!(
        "process {index}/{processes}: {:.1} ms with connecting, {:.1} ms connected; tasks per process {owned:?}",
        elapsed.as_secs_f64() * 1e3,
        warm.as_secs_f64() * 1e3
    );
    Ok(())
}
