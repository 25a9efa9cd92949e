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

/// Waits for every child and returns their outputs in order; kills them all and fails
/// the test if they have not all finished within `limit` (a cluster whose processes
/// wait for each other must not hang the test run).
pub fn wait_for_all(
    children: Vec<std::process::Child>,
    limit: std::time::Duration,
    what: &str,
) -> Vec<std::process::Output> {
    let deadline = std::time::Instant::now() + limit;
    let mut children: Vec<_> = children.into_iter().map(Some).collect();
    let mut outputs: Vec<Option<std::process::Output>> = children.iter().map(|_| None).collect();
    while outputs.iter().any(Option::is_none) {
        for (child, out) in children.iter_mut().zip(&mut outputs) {
            if out.is_none() && child.as_mut().unwrap().try_wait().unwrap().is_some() {
                *out = Some(child.take().unwrap().wait_with_output().unwrap());
            }
        }
        if std::time::Instant::now() > deadline {
            for child in children.iter_mut().flatten() {
                let _ = child.kill();
            }
            panic!("{what} did not finish within {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    outputs.into_iter().map(Option::unwrap).collect()
}
