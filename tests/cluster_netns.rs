//! The cluster example across a real network: two network namespaces joined by a veth
//! pair, each with only its own address on a /30 and no default route, one process of
//! `examples/cluster.rs` in each. Needs root and `ip` (iproute2); skipped with a notice
//! where namespaces cannot be made.

#![cfg(feature = "cluster")]

use std::process::{Command, Stdio};
use std::time::Duration;

use dask::cluster::ClusterConfig;
use dask::{Config, Scheduler};

#[allow(dead_code)] // the example's `main` and launcher are not used here
#[path = "../examples/cluster.rs"]
mod example;
mod support;

const CHILD: &str = "DASK_NETNS_CHILD";
const SIZES: [usize; 3] = [100_000, 200_000, 300_000];

/// One process of the example, inside a namespace.
#[test]
#[ignore = "started inside a network namespace by the test below"]
fn netns_child() {
    assert!(
        std::env::var_os(CHILD).is_some(),
        "run through the netns test"
    );
    let cluster = ClusterConfig::from_env()
        .unwrap()
        .expect("cluster variables")
        .connect_timeout(Duration::from_secs(20));
    let stats = example::run(&SIZES, cluster).unwrap();
    println!("\nSTATS {stats:?}");
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `ip`: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The two namespaces; deleted (with the veth pair) when dropped.
struct Namespaces {
    names: [String; 2],
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = ip(&["netns", "del", name]);
        }
    }
}

/// Makes namespaces `a` and `b` joined by a veth pair with addresses `a_ip`/30 and
/// `b_ip`/30, loopback up, no other route.
fn make_namespaces(tag: &str, a_ip: &str, b_ip: &str) -> Result<Namespaces, String> {
    let names = [format!("{tag}a"), format!("{tag}b")];
    let (va, vb) = (format!("{tag}va"), format!("{tag}vb"));
    ip(&["netns", "add", &names[0]])?;
    let guard = Namespaces {
        names: names.clone(),
    };
    ip(&["netns", "add", &names[1]])?;
    ip(&["link", "add", &va, "type", "veth", "peer", "name", &vb])?;
    ip(&["link", "set", &va, "netns", &names[0]])?;
    ip(&["link", "set", &vb, "netns", &names[1]])?;
    for (ns, dev, addr) in [(&names[0], &va, a_ip), (&names[1], &vb, b_ip)] {
        ip(&["-n", ns, "addr", "add", &format!("{addr}/30"), "dev", dev])?;
        ip(&["-n", ns, "link", "set", dev, "up"])?;
        ip(&["-n", ns, "link", "set", "lo", "up"])?;
    }
    Ok(guard)
}

fn skip(reason: &str) {
    println!("SKIPPED cluster_netns: {reason} (needs root and iproute2's `ip netns`)");
}

#[test]
fn the_example_runs_across_two_network_namespaces() {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !is_root {
        return skip("not root");
    }
    if Command::new("ip").arg("-V").output().is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "`ip` is missing on CI (scripts/test-deps.sh installs iproute2)"
        );
        return skip("`ip` is not installed");
    }
    // Addresses of our own /30 only; the namespaces have no default route.
    let pid = std::process::id();
    let subnet = format!("10.{}.{}", 200 + pid % 50, (pid / 50) % 250);
    let (a_ip, b_ip) = (format!("{subnet}.1"), format!("{subnet}.2"));
    let tag = format!("dk{}", pid % 100_000);
    let namespaces = match make_namespaces(&tag, &a_ip, &b_ip) {
        Ok(ns) => ns,
        Err(e) => return skip(&e),
    };
    let addresses = format!("{a_ip}:7101,{b_ip}:7101");
    let children: Vec<_> = namespaces
        .names
        .iter()
        .enumerate()
        .map(|(i, ns)| {
            Command::new("ip")
                .args(["netns", "exec", ns])
                .arg(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "netns_child",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD, "1")
                .env("DASK_CLUSTER_PROCESSES", "2")
                .env("DASK_CLUSTER_INDEX", i.to_string())
                .env("DASK_CLUSTER_ADDRESSES", &addresses)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("ip netns exec starts")
        })
        .collect();
    let outputs = support::wait_for_all(
        children,
        Duration::from_secs(90),
        "the namespaced processes",
    );
    let expected = dask::compute_with(
        &example::pipeline(&SIZES),
        &Config::default().scheduler(Scheduler::Sync),
    )
    .unwrap();
    for (i, out) in outputs.iter().enumerate() {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "process {i} in its namespace failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix("STATS "))
            .unwrap_or_else(|| panic!("no stats from process {i}:\n{stdout}"));
        assert_eq!(line, format!("{expected:?}"), "process {i}");
    }
    println!("ran across namespaces {:?} ({addresses})", namespaces.names);
}
