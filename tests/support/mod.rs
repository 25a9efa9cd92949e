//! Helpers shared by the integration tests (each test file includes this module).
#![allow(dead_code)] // every test file uses a different subset

pub mod random_graph;

/// A tiny deterministic generator, so a failing seed can be replayed.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A numeric field of `/proc/self/status` (`Threads:`, `VmRSS:` in KiB, ...), on Linux.
pub fn proc_status(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs the ignored test `name` of this test binary in a new process, alone
/// (`--test-threads=1`: no other test's thread comes or goes there), with `env` set, and
/// returns its output. Fails the calling test if the child failed, or if it ran no test:
/// libtest reports success when `--exact` matches nothing, so a misspelt name would
/// otherwise pass without checking anything.
pub fn run_test_alone(name: &str, env: &[(&str, &str)]) -> std::process::Output {
    let out = std::process::Command::new(std::env::current_exe().expect("the test's path"))
        .args([
            "--exact",
            name,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .envs(env.iter().copied())
        .output()
        .expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{name} failed in its own process:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{name} did not run in its own process:\n{stdout}\n{stderr}"
    );
    out
}

/// A child's stdout or stderr, read as it comes by a thread of its own: a child that
/// has written a pipe's worth (64 KiB) nobody reads blocks, and would look hung.
struct Drain {
    text: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Drain {
    fn start(pipe: Option<impl std::io::Read + Send + 'static>) -> Drain {
        let text = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let reader = pipe.map(|mut pipe| {
            let text = std::sync::Arc::clone(&text);
            std::thread::spawn(move || {
                let mut buffer = [0u8; 8192];
                loop {
                    match pipe.read(&mut buffer) {
                        Ok(0) => break,
                        Ok(n) => text
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .extend_from_slice(&buffer[..n]),
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
            })
        });
        Drain { text, reader }
    }

    /// What was read so far (the last 8 KiB at most), as text.
    fn so_far(&self) -> String {
        let text = self.text.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&text[text.len().saturating_sub(8192)..]).into_owned()
    }

    /// Everything, once the child has closed the pipe.
    fn finish(self) -> Vec<u8> {
        if let Some(reader) = self.reader {
            reader.join().expect("the pipe's reader does not panic");
        }
        std::mem::take(&mut *self.text.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Waits for every child and returns their outputs in order; kills them all and fails
/// the test, with what they printed, if they have not all finished within `limit` (a
/// cluster whose processes wait for each other must not hang the test run). Piped
/// output is read while they run.
pub fn wait_for_all(
    children: Vec<std::process::Child>,
    limit: std::time::Duration,
    what: &str,
) -> Vec<std::process::Output> {
    let deadline = std::time::Instant::now() + limit;
    let mut children: Vec<(std::process::Child, Drain, Drain)> = children
        .into_iter()
        .map(|mut child| {
            let stdout = Drain::start(child.stdout.take());
            let stderr = Drain::start(child.stderr.take());
            (child, stdout, stderr)
        })
        .collect();
    let mut statuses: Vec<Option<std::process::ExitStatus>> =
        children.iter().map(|_| None).collect();
    while statuses.iter().any(Option::is_none) {
        for ((child, _, _), status) in children.iter_mut().zip(&mut statuses) {
            if status.is_none() {
                *status = child.try_wait().unwrap();
            }
        }
        if statuses.iter().all(Option::is_some) {
            break;
        }
        if std::time::Instant::now() > deadline {
            let mut printed = String::new();
            for (i, ((child, stdout, stderr), status)) in
                children.iter_mut().zip(&statuses).enumerate()
            {
                if status.is_none() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                printed += &format!(
                    "\nprocess {i} ({status:?}):\nstdout:\n{}\nstderr:\n{}",
                    stdout.so_far(),
                    stderr.so_far()
                );
            }
            panic!("{what} did not finish within {limit:?}{printed}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    children
        .into_iter()
        .zip(statuses)
        .map(|((_, stdout, stderr), status)| std::process::Output {
            status: status.expect("every child exited"),
            stdout: stdout.finish(),
            stderr: stderr.finish(),
        })
        .collect()
}

/// Starts `processes` copies of this test binary, each running only the ignored test
/// `child_test` as one process of a cluster on free loopback ports (`role_var` set to
/// `role` tells the child it was started on purpose), and waits for them all within
/// `limit`.
pub fn run_cluster_children(
    child_test: &str,
    role_var: &str,
    role: &str,
    processes: usize,
    limit: std::time::Duration,
) -> Vec<std::process::Output> {
    let listeners: Vec<_> = (0..processes)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let addresses: Vec<String> = listeners
        .iter()
        .map(|l| l.local_addr().unwrap().to_string())
        .collect();
    drop(listeners);
    let children: Vec<_> = (0..processes)
        .map(|i| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    child_test,
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(role_var, role)
                .env("DASK_CLUSTER_PROCESSES", processes.to_string())
                .env("DASK_CLUSTER_INDEX", i.to_string())
                .env("DASK_CLUSTER_ADDRESSES", addresses.join(","))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("the test binary starts again")
        })
        .collect();
    wait_for_all(children, limit, "the cluster processes")
}

/// The value a child printed as `RESULT key=value`; fails the test, with what the child
/// printed, when there is none.
pub fn result_line(out: &std::process::Output, key: &str) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once("RESULT ").map(|(_, r)| r.to_string()))
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_string))
        .unwrap_or_else(|| {
            panic!(
                "no {key}: status {:?}\n{}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
}

/// In a child that [`run_cluster_children`] started: the configuration of its cluster
/// (2 threads, key-hash placement, 20 s to connect). Fails when the test was run by
/// hand rather than by `parent_test`.
#[cfg(feature = "cluster")]
pub fn child_cluster_config(role_var: &str, parent_test: &str) -> dask::Config {
    std::env::var(role_var).unwrap_or_else(|_| panic!("run through {parent_test}"));
    let cluster = dask::cluster::ClusterConfig::from_env()
        .expect("cluster variables")
        .expect("started as a cluster process")
        .threads(2)
        .connect_timeout(std::time::Duration::from_secs(20))
        .placement(dask::cluster::Placement::KeyHash);
    dask::Config::default().cluster(cluster)
}
