//! The progress bar as a person sees it: `examples/progress` runs in a tmux pane (a real
//! terminal), the pane is captured while it runs, and the bar must be there with
//! tasks done / total, rate and ETA; then it must reach the total. Redirected to a
//! file, stderr must stay empty.
//!
//! Needs `tmux`: skipped with a notice without it, except when `CI=true`, where it fails
//! (`scripts/test-deps.sh` installs it).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const TASKS: u32 = 400;

#[path = "../viz/tests/support/mod.rs"]
mod viz_support;
use viz_support::have;

/// `target/<profile>/examples/progress`, built by `cargo test` with the other examples;
/// built here if it is missing.
fn example() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let path = profile_dir.join("examples").join("progress");
    if !path.is_file() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build.args(["build", "--example", "progress"]);
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success(), "cargo build --example progress failed");
    }
    path
}

struct Tmux {
    socket: String,
}

impl Tmux {
    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket, "-f", "/dev/null"]);
        command
    }

    fn capture(&self) -> String {
        let out = self
            .command()
            .args(["capture-pane", "-p", "-t", "progress"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").status();
    }
}

/// `N` from a line holding `N/<total> <unit>`.
fn done(line: &str, total: u32, unit: &str) -> Option<u32> {
    let before = line.split(&format!("/{total} {unit}")).next()?;
    if before.len() == line.len() {
        return None;
    }
    before.rsplit([' ', ']']).next()?.parse().ok()
}

#[test]
fn the_bar_is_drawn_in_a_terminal_while_tasks_run() {
    // 400 steps and their sum.
    watch_the_bar(&[], TASKS + 1, "tasks");
}

#[test]
fn the_parallel_map_draws_the_same_bar_counting_items() {
    watch_the_bar(&["--parallel"], TASKS, "items");
}

fn watch_the_bar(args: &[&str], total: u32, unit: &str) {
    let tmux_ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have("tmux", tmux_ok) {
        return;
    }
    let program = example();
    let tmux = Tmux {
        socket: format!("dask-progress-{}-{unit}", std::process::id()),
    };
    // The pane stays open after the program ends, so its last frame can be read.
    let status = tmux
        .command()
        .args([
            "new-session",
            "-d",
            "-s",
            "progress",
            "-x",
            "120",
            "-y",
            "10",
        ])
        .arg(format!(
            "{} {}; sleep 30",
            program.display(),
            args.join(" ")
        ))
        .status()
        .expect("start tmux");
    assert!(status.success(), "tmux new-session failed");

    let started = Instant::now();
    let mut mid_run: Option<String> = None;
    let mut last = String::new();
    while started.elapsed() < Duration::from_secs(60) {
        last = tmux.capture();
        if let Some(line) = last.lines().find(|l| done(l, total, unit).is_some()) {
            let done = done(line, total, unit).unwrap();
            if done > 0 && done < total && mid_run.is_none() {
                mid_run = Some(line.to_owned());
            }
        }
        if last.contains("sum of 0..400") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let line = mid_run.unwrap_or_else(|| panic!("no bar caught mid-run; last screen:\n{last}"));
    assert!(
        line.contains('[') && line.contains(']'),
        "no bar in {line:?}"
    );
    assert!(line.contains(&format!("{unit}/s")), "no rate in {line:?}");
    assert!(line.contains("eta "), "no ETA in {line:?}");
    assert!(
        last.contains("sum of 0..400"),
        "the program did not finish; last screen:\n{last}"
    );
    let final_line = last
        .lines()
        .find(|l| done(l, total, unit).is_some())
        .unwrap_or_else(|| panic!("the bar vanished; last screen:\n{last}"));
    assert_eq!(done(final_line, total, unit), Some(total), "{final_line}");
    println!("mid-run: {line}\nfinal:   {final_line}");
}

#[test]
fn nothing_is_drawn_when_stderr_is_not_a_terminal() {
    for args in [&["20"][..], &["--parallel", "20"]] {
        let out = Command::new(example())
            .args(args)
            .output()
            .expect("run the example");
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout), "sum of 0..20: 190\n");
        assert!(
            out.stderr.is_empty(),
            "stderr: {:?}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
