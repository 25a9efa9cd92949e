//! The cluster scheduler across real processes on 127.0.0.1: this test binary starts
//! copies of itself (the ignored `cluster_child` test, told its role by environment
//! variables), one per process, on free ports, and checks what they print.

#![cfg(feature = "cluster")]

use std::process::{Command, Output, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use dask::cluster::{ClusterConfig, ClusterError, Placement};
use dask::{delayed, Config, Delayed, Error, Scheduler};

mod support;
#[path = "support/within.rs"]
mod within;
use support::random_graph::{mix, random_graph, seed, RUNS};
use support::Lcg;

const ROLE: &str = "DASK_CLUSTER_TEST_ROLE";

fn my_index() -> u64 {
    std::env::var("DASK_CLUSTER_INDEX")
        .unwrap()
        .parse()
        .unwrap()
}

#[derive(Debug)]
struct Boom(u64);

impl std::fmt::Display for Boom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "boom {} on process {}", self.0, my_index())
    }
}

impl std::error::Error for Boom {}

/// Fails on process 1 only, for odd inputs.
#[delayed]
fn fails_on_one(i: u64) -> Result<u64, Boom> {
    if my_index() == 1 && i % 2 == 1 {
        Err(Boom(i))
    } else {
        Ok(i * 10)
    }
}

#[delayed]
fn total(xs: Vec<u64>) -> u64 {
    xs.iter().fold(0, |a, &x| a.wrapping_add(x))
}

/// Not serializable.
#[derive(Debug, Clone, PartialEq)]
struct Opaque(u64);

#[delayed]
fn make_opaque(x: u64) -> Opaque {
    Opaque(x + 1)
}

#[delayed]
fn read_opaque(o: &Opaque) -> u64 {
    o.0 * 2
}

/// Process 1 dies while running it.
#[delayed]
fn dies_on_one(i: u64) -> u64 {
    if my_index() == 1 {
        std::process::exit(7);
    }
    std::thread::sleep(Duration::from_millis(50));
    i
}

/// How long process 1 hangs in `sleeps_on_one`: far past process 0's timeout (1 s) and
/// give-up (1 s later), so giving up and waiting for the task are told apart by time.
const HANG: Duration = Duration::from_secs(20);

/// Process 1 hangs in it for `HANG`.
#[delayed]
fn sleeps_on_one(i: u64) -> u64 {
    if my_index() == 1 {
        std::thread::sleep(HANG);
    }
    i
}

fn cluster_config(placement: Placement) -> Config {
    let cluster = ClusterConfig::from_env()
        .expect("cluster variables")
        .expect("started as a cluster process")
        .threads(2)
        .connect_timeout(Duration::from_secs(20))
        .placement(placement);
    Config::default().cluster(cluster)
}

/// One process of a test cluster; what it does depends on `ROLE`.
#[test]
#[ignore = "a process of the cluster tests below, started by them"]
fn cluster_child() {
    let role = std::env::var(ROLE).expect("run through the cluster tests");
    let sync = Config::default().scheduler(Scheduler::Sync);
    match role.as_str() {
        "random-chains" | "random-keyhash" => {
            let placement = if role == "random-chains" {
                Placement::Chains
            } else {
                Placement::KeyHash
            };
            let config = cluster_config(placement);
            let graphs: usize = std::env::var("DASK_CLUSTER_GRAPHS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(150);
            let mut rng = Lcg(0xc1a5);
            let (mut runs, mut tasks, mut digest) = (0, 0, 0u64);
            let mut rss_early = 0;
            for g in 0..graphs {
                if g == graphs / 10 {
                    rss_early = support::proc_status("VmRSS:").unwrap_or(0);
                }
                let (outputs, needed) = random_graph(&mut rng, 40);
                RUNS.store(0, Ordering::Relaxed);
                let got = dask::compute_with(&outputs, &config)
                    .unwrap_or_else(|e| panic!("graph {g}: {e}"));
                runs += RUNS.load(Ordering::Relaxed);
                let want = dask::compute_with(&outputs, &sync).unwrap();
                assert_eq!(got, want, "graph {g}");
                tasks += needed;
                digest = got.iter().fold(digest, |acc, &v| mix(acc, v));
            }
            // Finished epochs release their memory: with many graphs (see the soak
            // command in README) the resident size stays flat.
            let rss_end = support::proc_status("VmRSS:").unwrap_or(0);
            println!("RESULT rss_kib={rss_early}->{rss_end}");
            println!("RESULT runs={runs}");
            println!("RESULT tasks={tasks}");
            println!("RESULT digest={digest:x}");
        }
        "first" => {
            let config = cluster_config(Placement::Chains);
            let mut rng = Lcg(0xf1257);
            for g in 0..40 {
                let (outputs, _) = random_graph(&mut rng, 40);
                let got = dask::cluster::compute_on_first(&outputs, &config)
                    .unwrap_or_else(|e| panic!("graph {g}: {e}"));
                if my_index() == 0 {
                    assert_eq!(
                        got,
                        Some(dask::compute_with(&outputs, &sync).unwrap()),
                        "graph {g}"
                    );
                } else {
                    assert_eq!(got, None, "graph {g}");
                }
            }
            println!("RESULT first=ok");
        }
        "hang" => {
            // Process 1 is stuck in a task for `HANG`; process 0's timeout is 1 s. A first
            // computation without a timeout connects the processes (which takes a while
            // when other cluster tests start processes too); both run it, so their
            // computations stay numbered alike. The timer starts after it.
            let warm_up = cluster_config(Placement::Chains);
            assert_eq!(
                seed(2).compute_with(&warm_up).unwrap(),
                seed(2).compute_with(&sync).unwrap()
            );
            let config = cluster_config(Placement::Chains).timeout(Duration::from_secs(1));
            let started = Instant::now();
            let sum = total((0..4).map(sleeps_on_one).collect::<Vec<_>>());
            let err = sum.compute_with(&config).unwrap_err();
            println!("RESULT error={err}");
            println!("RESULT waited_ms={}", started.elapsed().as_millis());
            let again = seed(1).compute_with(&config).unwrap_err();
            println!("RESULT again={again}");
        }
        "mismatch" => {
            let config = cluster_config(Placement::Chains);
            if my_index() == 1 {
                // One more node built first: every later key differs on this process.
                let _extra = seed(0);
            }
            let sum = total((0..6).map(seed).collect::<Vec<_>>());
            let err = sum.compute_with(&config).unwrap_err();
            assert!(
                matches!(err, Error::Cluster(ClusterError::GraphMismatch { .. })),
                "{err:?}"
            );
            println!("RESULT error={err}");
        }
        "fail" => {
            let config = cluster_config(Placement::Chains);
            let sum = total((0..6).map(fails_on_one).collect::<Vec<_>>());
            let err = sum
                .compute_with(&config)
                .expect_err("a task fails on process 1");
            assert!(matches!(err, Error::Task { .. }), "{err:?}");
            println!("RESULT error={err}");
            // Collecting: every failure, the same list everywhere, and what does not
            // depend on a failure still runs.
            let collect = cluster_config(Placement::Chains).errors(dask::ErrorPolicy::Collect);
            let err = sum.compute_with(&collect).unwrap_err();
            assert!(
                matches!(&err, Error::Failures(all) if all.len() == 3),
                "{err:?}"
            );
            println!("RESULT collected={err}");
            // The cluster stays usable after a task failure.
            let again = total((0..4).map(seed).collect::<Vec<_>>());
            let value = again.compute_with(&config).unwrap();
            assert_eq!(value, again.compute_with(&sync).unwrap());
            println!("RESULT after={value}");
        }
        "opaque" => {
            let config = cluster_config(Placement::Chains);
            // Chains keep each make → read pair on one process: nothing opaque crosses.
            let chained: Vec<Delayed<u64>> = (0..4).map(|i| read_opaque(make_opaque(i))).collect();
            let values = dask::compute_with(&chained, &config).unwrap();
            assert_eq!(values, vec![2, 4, 6, 8]);
            // An opaque output must reach every process: refused before running.
            let err = dask::compute_with(&[make_opaque(1)], &config).unwrap_err();
            assert!(
                matches!(err, Error::Cluster(ClusterError::NotSerializable { .. })),
                "{err:?}"
            );
            println!("RESULT error={err}");
            let mapped = dask::delayed(1u64).map(|v| v + 1);
            let err = dask::compute_with(&[mapped], &config).unwrap_err();
            println!("RESULT map={err}");
            println!(
                "RESULT after={}",
                dask::compute_with(&chained, &config).unwrap()[3]
            );
        }
        "alone" => {
            let started = Instant::now();
            print_connect_error(Duration::from_secs(2));
            println!("RESULT waited_ms={}", started.elapsed().as_millis());
        }
        "stranger" => {
            // Process 0 waits longer, so that process 1, however late it starts, finds
            // it listening and hears its answer.
            let index = ClusterConfig::from_env().unwrap().unwrap().index();
            print_connect_error(Duration::from_secs(if index == 0 { 6 } else { 2 }));
        }
        "connect-time" => {
            // The first computation connects the processes.
            let started = Instant::now();
            let value = seed(4)
                .compute_with(&cluster_config(Placement::Chains))
                .unwrap();
            assert_eq!(value, seed(4).compute_with(&sync).unwrap());
            println!("RESULT connect_ms={}", started.elapsed().as_millis());
        }
        "env-count" => {
            // `DASK_CLUSTER_PROCESSES` is the parent's (far too many); nothing else is set.
            let config = Config::default().scheduler(Scheduler::Cluster);
            let err = seed(1).compute_with(&config).unwrap_err();
            assert!(
                matches!(err, Error::Cluster(ClusterError::Config(_))),
                "{err:?}"
            );
            println!("RESULT error={err}");
        }
        "env-not-utf8" => {
            // One `DASK_CLUSTER_*` variable the parent set is not UTF-8: an error naming
            // it, from `from_env` and from a computation that reads the environment.
            let err = ClusterConfig::from_env().unwrap_err();
            assert!(matches!(err, ClusterError::Config(_)), "{err:?}");
            let config = Config::default().scheduler(Scheduler::Cluster);
            let computed = seed(1).compute_with(&config).unwrap_err();
            assert!(
                matches!(computed, Error::Cluster(ClusterError::Config(_))),
                "{computed:?}"
            );
            println!("RESULT error={err}");
            println!("RESULT computed={computed}");
        }
        "dies" => {
            let config = cluster_config(Placement::Chains);
            let sum = total((0..4).map(dies_on_one).collect::<Vec<_>>());
            let err = sum.compute_with(&config).unwrap_err();
            assert!(
                matches!(err, Error::Cluster(ClusterError::PeerLost { .. })),
                "{err:?}"
            );
            println!("RESULT error={err}");
            let again = seed(3).compute_with(&config).unwrap_err();
            println!("RESULT again={again}");
        }
        other => panic!("unknown role {other}"),
    }
}

/// In a child: one computation on a cluster that cannot form within `wait`, which must
/// be a `Connect` error; prints it.
fn print_connect_error(wait: Duration) {
    let cluster = ClusterConfig::from_env()
        .unwrap()
        .unwrap()
        .connect_timeout(wait);
    let err = seed(1)
        .compute_with(&Config::default().cluster(cluster))
        .unwrap_err();
    assert!(
        matches!(err, Error::Cluster(ClusterError::Connect { .. })),
        "{err:?}"
    );
    println!("RESULT error={err}");
}

/// `n` addresses on 127.0.0.1 with ports that were free a moment ago.
fn free_addresses(n: usize) -> Vec<String> {
    let listeners: Vec<std::net::TcpListener> = (0..n)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().to_string())
        .collect()
}

/// What a process reports when it cannot listen on its address (a
/// `ClusterError::Config` from `cluster::connect`).
const CANNOT_LISTEN: &str = "cannot listen on";

/// Starts processes `indices` of an `n`-process cluster in role `role`, waits for them
/// (at most two minutes per attempt) and returns their outputs in `indices` order.
///
/// The ports were free when chosen but are not reserved: until a process binds its own,
/// another one can take it (a process of a cluster test running at the same time, or
/// the local end of an outgoing connection). When a process says it could not listen,
/// and only then, the cluster is started once more on new ports.
fn run_cluster(role: &str, n: usize, indices: &[usize], env: &[(&str, &str)]) -> Vec<Output> {
    let outs = start_cluster(role, n, indices, env);
    let port_taken = outs.iter().any(|out| {
        String::from_utf8_lossy(&out.stdout).contains(CANNOT_LISTEN)
            || String::from_utf8_lossy(&out.stderr).contains(CANNOT_LISTEN)
    });
    if port_taken {
        return start_cluster(role, n, indices, env);
    }
    outs
}

/// One attempt of `run_cluster`.
fn start_cluster(role: &str, n: usize, indices: &[usize], env: &[(&str, &str)]) -> Vec<Output> {
    let addresses = free_addresses(n).join(",");
    let processes: Vec<(usize, &str)> = indices.iter().map(|&i| (i, addresses.as_str())).collect();
    start_processes(role, n, &processes, env)
}

/// Starts process `i` of an `n`-process cluster with address list `addresses`, for each
/// pair, in role `role`; waits for them and returns their outputs in that order.
fn start_processes(
    role: &str,
    n: usize,
    processes: &[(usize, &str)],
    env: &[(&str, &str)],
) -> Vec<Output> {
    let children: Vec<_> = processes
        .iter()
        .map(|&(i, addresses)| spawn_process(role, n, i, addresses, env))
        .collect();
    support::wait_for_all(children, Duration::from_secs(120), "the cluster processes")
}

/// Starts process `i` of an `n`-process cluster with address list `addresses` in role
/// `role`, its output piped.
fn spawn_process(
    role: &str,
    n: usize,
    i: usize,
    addresses: &str,
    env: &[(&str, &str)],
) -> std::process::Child {
    let mut command = child_command(role);
    command
        .env("DASK_CLUSTER_PROCESSES", n.to_string())
        .env("DASK_CLUSTER_INDEX", i.to_string())
        .env("DASK_CLUSTER_ADDRESSES", addresses);
    for (k, v) in env {
        command.env(k, v);
    }
    command.spawn().expect("the test binary starts again")
}

/// This test binary, to run `cluster_child` in role `role`, its output piped.
fn child_command(role: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "cluster_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, role)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// A stranger: connects to `address` as soon as something listens there (within a
/// minute), says a few bytes that are not a dask introduction, and stays connected
/// until dropped.
fn silent_stranger(address: &str) -> std::net::TcpStream {
    use std::io::Write;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(address) {
            stream.write_all(b"hi\n").unwrap();
            return stream;
        }
        assert!(
            Instant::now() < deadline,
            "nothing listens on {address} after a minute"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Starts processes `indices` of a 2-process cluster in role `role`, process 0 first
/// and the others once a silent stranger has connected to process 0; returns their
/// outputs in `indices` order. Started again on new ports when a process could not
/// listen (see `run_cluster`).
fn run_with_stranger(role: &str, indices: &[usize]) -> Vec<Output> {
    let attempt = || {
        let addresses = free_addresses(2);
        let list = addresses.join(",");
        let mut children = vec![spawn_process(role, 2, indices[0], &list, &[])];
        let stranger = silent_stranger(&addresses[0]);
        for &i in &indices[1..] {
            children.push(spawn_process(role, 2, i, &list, &[]));
        }
        let outs = support::wait_for_all(children, Duration::from_secs(120), "the processes");
        drop(stranger);
        outs
    };
    let outs = attempt();
    if outs.iter().any(|out| describe(out).contains(CANNOT_LISTEN)) {
        return attempt();
    }
    outs
}

/// The `RESULT key=value` lines a process printed.
fn results(out: &Output) -> Vec<(String, String)> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        // The harness prints `test cluster_child ... ` before the first line.
        .filter_map(|l| l.split_once("RESULT ").map(|(_, rest)| rest))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn result(out: &Output, key: &str) -> String {
    results(out)
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {key} in output:\n{}", describe(out)))
}

fn describe(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_ok(outs: &[Output]) {
    for (i, out) in outs.iter().enumerate() {
        assert!(
            out.status.success(),
            "process {i} failed:\n{}",
            describe(out)
        );
    }
}

/// Every process returned the same values, equal to `Scheduler::Sync`'s, and every task
/// ran exactly once in the whole cluster.
fn check_random(role: &str, n: usize) {
    let outs = run_cluster(role, n, &(0..n).collect::<Vec<_>>(), &[]);
    assert_ok(&outs);
    let digest = result(&outs[0], "digest");
    let tasks: usize = result(&outs[0], "tasks").parse().unwrap();
    let runs: usize = outs
        .iter()
        .map(|o| result(o, "runs").parse::<usize>().unwrap())
        .sum();
    for out in &outs {
        assert_eq!(result(out, "digest"), digest);
    }
    assert_eq!(runs, tasks, "each task ran once in the cluster");
}

#[test]
fn random_dags_on_two_processes_match_sync() {
    check_random("random-chains", 2);
}

#[test]
fn random_dags_on_three_processes_match_sync() {
    check_random("random-chains", 3);
}

#[test]
fn random_dags_placed_by_key_hash_match_sync() {
    check_random("random-keyhash", 3);
}

#[test]
fn a_task_failing_on_one_process_fails_every_process_the_same_way() {
    let outs = run_cluster("fail", 2, &[0, 1], &[]);
    assert_ok(&outs);
    let error = result(&outs[0], "error");
    assert_eq!(result(&outs[1], "error"), error);
    // Fail-fast returns the first failure in time: process 1 fails three tasks (1, 3, 5)
    // and any of them may finish first, but every process must report the same one.
    assert!(
        error.contains("fails_on_one")
            && [1, 3, 5]
                .iter()
                .any(|i| error.contains(&format!("boom {i} on process 1"))),
        "{error}"
    );
    let collected = result(&outs[0], "collected");
    assert_eq!(result(&outs[1], "collected"), collected);
    assert!(collected.starts_with("3 tasks failed"), "{collected}");
    assert_eq!(result(&outs[0], "after"), result(&outs[1], "after"));
}

#[test]
fn a_non_serializable_cross_process_value_is_refused_before_running() {
    let outs = run_cluster("opaque", 2, &[0, 1], &[]);
    assert_ok(&outs);
    for out in &outs {
        let error = result(out, "error");
        assert!(
            error.contains("make_opaque")
                && error.contains("Opaque")
                && error.contains("not serializable"),
            "{error}"
        );
        assert!(result(out, "map").contains("`map`"));
        assert_eq!(result(out, "after"), "8");
    }
}

#[test]
fn a_peer_that_never_starts_is_an_error_after_a_bounded_wait() {
    let outs = run_cluster("alone", 2, &[0], &[]);
    assert_ok(&outs);
    let error = result(&outs[0], "error");
    assert!(
        error.contains("[1]") && error.contains("could not connect"),
        "{error}"
    );
    let waited: u64 = result(&outs[0], "waited_ms").parse().unwrap();
    assert!((2000..10_000).contains(&waited), "waited {waited} ms");
}

#[test]
fn a_process_of_another_cluster_is_turned_away_on_both_sides() {
    // Process 1 dials process 0's address, but their address lists differ (process 0
    // waits for its own process 1 at an address nobody listens on): strangers, whatever
    // their indices and counts say.
    let [a, b, c]: [String; 3] = free_addresses(3).try_into().unwrap();
    let (ours, theirs) = (format!("{a},{c}"), format!("{a},{b}"));
    let outs = start_processes("stranger", 2, &[(0, &ours), (1, &theirs)], &[]);
    assert_ok(&outs);
    for (i, out) in outs.iter().enumerate() {
        let error = result(out, "error");
        assert!(
            error.contains("could not connect") && error.contains("another address list"),
            "process {i}: {error}"
        );
    }
}

#[test]
fn the_death_of_a_process_is_reported_on_the_others() {
    let outs = run_cluster("dies", 2, &[0, 1], &[]);
    assert_eq!(outs[1].status.code(), Some(7), "{}", describe(&outs[1]));
    assert!(outs[0].status.success(), "{}", describe(&outs[0]));
    let error = result(&outs[0], "error");
    assert!(
        error.contains("lost the connection to process 1"),
        "{error}"
    );
    assert!(result(&outs[0], "again").contains("lost the connection"));
}

#[test]
fn results_on_the_first_process_only() {
    let outs = run_cluster("first", 3, &[0, 1, 2], &[]);
    assert_ok(&outs);
    for out in &outs {
        assert_eq!(result(out, "first"), "ok");
    }
}

#[test]
fn processes_that_build_different_graphs_are_told() {
    let outs = run_cluster("mismatch", 2, &[0, 1], &[]);
    assert_ok(&outs);
    for out in &outs {
        assert!(result(out, "error").contains("built a different graph"));
    }
}

#[test]
fn a_hanging_process_is_given_up_after_the_timeout() {
    let outs = run_cluster("hang", 2, &[0, 1], &[]);
    assert_ok(&outs);
    let error = result(&outs[0], "error");
    assert!(
        error.contains("still not complete on every process"),
        "{error}"
    );
    // It gives up 1 s after its 1 s deadline; waiting for the hung task would take
    // `HANG` (20 s). The bound sits between, with room for a loaded machine.
    let waited: u64 = result(&outs[0], "waited_ms").parse().unwrap();
    assert!(
        (1_000..10_000).contains(&waited),
        "process 0 gave up after {waited} ms, not between its deadline and the hung task's end"
    );
    assert!(result(&outs[0], "again").contains("still not complete"));
}

#[test]
fn a_silent_stranger_does_not_hold_back_the_peers() {
    // A connection that sends three bytes and stays open reaches process 0 before
    // process 1's: process 0 must drop it after a short while and take process 1's
    // meanwhile, not wait for the stranger's 32 bytes until its 20 s connect timeout.
    let outs = run_with_stranger("connect-time", &[0, 1]);
    assert_ok(&outs);
    let waited: u64 = result(&outs[0], "connect_ms").parse().unwrap();
    // Starting process 1 takes a moment (more on a loaded machine); the bound sits
    // well below the connect timeout.
    assert!(waited < 10_000, "process 0 connected after {waited} ms");
}

#[test]
fn a_connect_timeout_counts_the_strangers_dropped() {
    // Process 1 never starts; a silent stranger connects to process 0.
    let outs = run_with_stranger("alone", &[0]);
    assert_ok(&outs);
    let error = result(&outs[0], "error");
    assert!(
        error.contains("timed out waiting for process(es) [1]")
            && error.contains("strangers dropped: 1")
            && !error.contains("os error"),
        "{error}"
    );
    let waited: u64 = result(&outs[0], "waited_ms").parse().unwrap();
    assert!((2000..10_000).contains(&waited), "waited {waited} ms");
}

fn args(list: &[&str]) -> Vec<String> {
    std::iter::once("prog")
        .chain(list.iter().copied())
        .map(String::from)
        .collect()
}

#[test]
fn a_process_count_beyond_the_maximum_is_refused_before_anything_is_built() {
    within::within("reading -n", || {
        for n in ["18446744073709551615", "30000000", "65", "0"] {
            let started = Instant::now();
            let err = ClusterConfig::from_args(args(&["-n", n, "-p", "0"])).unwrap_err();
            assert!(
                err.to_string()
                    .contains(&format!("a cluster has 1 to 64 processes, not {n}")),
                "-n {n}: {err}"
            );
            // Building 30 million addresses first took seconds and gigabytes.
            let took = started.elapsed();
            assert!(took < Duration::from_secs(1), "-n {n} took {took:?}");
        }
        let err =
            ClusterConfig::from_args(args(&["-n", "2", "-p", "0", "-w", "18446744073709551615"]))
                .unwrap_err();
        assert!(err.to_string().contains("at most"), "{err}");
    });
}

#[test]
fn a_huge_process_count_in_the_environment_is_an_error_not_a_panic() {
    let mut command = child_command("env-count");
    command
        .env("DASK_CLUSTER_PROCESSES", "18446744073709551615")
        .env_remove("DASK_CLUSTER_INDEX")
        .env_remove("DASK_CLUSTER_ADDRESSES")
        .env_remove("DASK_CLUSTER_HOSTFILE")
        .env_remove("DASK_CLUSTER_THREADS");
    let child = command.spawn().expect("the test binary starts again");
    let outs = support::wait_for_all(vec![child], Duration::from_secs(60), "the process");
    assert_ok(&outs);
    let error = result(&outs[0], "error");
    assert!(
        error.contains("a cluster has 1 to 64 processes, not 18446744073709551615"),
        "{error}"
    );
}

#[cfg(unix)]
#[test]
fn a_cluster_variable_that_is_not_utf8_is_an_error_naming_it() {
    use std::ffi::OsString;
    use std::os::unix::ffi::OsStringExt;
    // Each case: the variables that are not UTF-8 (the error names the first), and the
    // others set (the rest unset).
    type Case = (
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
    );
    let cases: [Case; 6] = [
        (&["INDEX"], &[("PROCESSES", "2")]),
        (&["PROCESSES"], &[("INDEX", "0")]),
        (&["PROCESSES", "INDEX"], &[]),
        (&["ADDRESSES"], &[("PROCESSES", "2"), ("INDEX", "0")]),
        (&["HOSTFILE"], &[("PROCESSES", "1"), ("INDEX", "0")]),
        (&["THREADS"], &[("PROCESSES", "1"), ("INDEX", "0")]),
    ];
    let children = cases
        .iter()
        .map(|(bad, good)| {
            let mut command = child_command("env-not-utf8");
            for name in ["PROCESSES", "INDEX", "ADDRESSES", "HOSTFILE", "THREADS"] {
                command.env_remove(format!("DASK_CLUSTER_{name}"));
            }
            for (name, value) in good.iter() {
                command.env(format!("DASK_CLUSTER_{name}"), value);
            }
            for name in bad.iter() {
                let value = OsString::from_vec(vec![b'1', 0xff]);
                command.env(format!("DASK_CLUSTER_{name}"), value);
            }
            command.spawn().expect("the test binary starts again")
        })
        .collect();
    let outs = support::wait_for_all(children, Duration::from_secs(60), "the processes");
    assert_ok(&outs);
    for ((bad, _), out) in cases.iter().zip(&outs) {
        for key in ["error", "computed"] {
            let error = result(out, key);
            assert!(
                error.contains(&format!("DASK_CLUSTER_{} is not valid UTF-8", bad[0])),
                "{bad:?}: {error}"
            );
        }
    }
}

#[cfg(unix)]
#[test]
fn a_host_file_that_is_a_fifo_or_too_large_is_refused() {
    let dir = std::env::temp_dir().join(format!("dask-cluster-hosts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("fifo");
    let _ = std::fs::remove_file(&fifo);
    let status = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo failed");
    // Two addresses, then comments past the limit.
    let large = dir.join("large.txt");
    let mut text = String::from("127.0.0.1:4000\n127.0.0.1:4001\n");
    while text.len() <= 1 << 20 {
        text.push_str("# a comment line that makes the host file larger than it should be\n");
    }
    std::fs::write(&large, text).unwrap();
    let (fifo_path, large_path) = (fifo.display().to_string(), large.display().to_string());
    let (fifo_err, large_err) = within::within("reading the host files", move || {
        let read = |path: &str| {
            ClusterConfig::from_args(args(&["-h", path, "-n", "2", "-p", "0"])).unwrap_err()
        };
        (read(&fifo_path).to_string(), read(&large_path).to_string())
    });
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        fifo_err.contains("cannot read the host file") && fifo_err.contains("FIFO"),
        "{fifo_err}"
    );
    assert!(
        large_err.contains("cannot read the host file") && large_err.contains("larger than"),
        "{large_err}"
    );
}
