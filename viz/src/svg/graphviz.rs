//! Drawing through Graphviz's `dot` program, when it is installed.
//!
//! `dot` is someone else's program found on `PATH`, so it is run under limits: it is
//! killed (with everything it started) when it runs longer than
//! [`SvgOptions::dot_timeout`](crate::SvgOptions::dot_timeout) or writes more SVG than
//! [`DOT_SVG_BASE_BYTES`] + [`DOT_SVG_BYTES_PER_INPUT_BYTE`] × the DOT it was given.
//! Either is an error for [`Engine::Dot`](crate::Engine::Dot); [`Engine::Auto`](crate::Engine::Auto)
//! falls back to the embedded layout, as it does when `dot` is missing or fails.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::escape::xml_chars;
use crate::dot::write;
use crate::error::VizError;
use crate::options::RankDir;
use crate::scene::Scene;

/// SVG `dot` may always write, whatever the size of its input: 64 MiB.
pub const DOT_SVG_BASE_BYTES: usize = 64 << 20;

/// SVG `dot` may write per byte of the DOT it reads, on top of
/// [`DOT_SVG_BASE_BYTES`]. Graphviz writes a few bytes of SVG per byte of DOT; 64 leaves
/// room for any drawing and still stops a runaway program long before memory runs out.
pub const DOT_SVG_BYTES_PER_INPUT_BYTE: usize = 64;

/// What is kept of `dot`'s messages for an error; the rest is read and dropped so that
/// a chatty `dot` cannot block on a full pipe or fill memory.
const KEPT_STDERR_BYTES: usize = 16 << 10;

/// How often the child's exit is polled while its output is awaited.
const POLL: Duration = Duration::from_millis(10);

/// Where `dot` is on `PATH`, if it is. Checked before running it so that `Auto` can
/// tell "not installed" (fall back quietly) from "installed but failed".
pub(crate) fn find_dot() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let names: &[&str] = if cfg!(windows) {
        &["dot.exe", "dot"]
    } else {
        &["dot"]
    };
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// The scene laid out and drawn by `dot`, which may run for at most `timeout`.
pub(crate) fn svg(scene: &Scene, rankdir: RankDir, timeout: Duration) -> Result<String, VizError> {
    // The program found is the one run: no second lookup that could find another.
    let program = find_dot().ok_or(VizError::DotNotFound)?;
    let input = write::print(&xml_safe(scene), rankdir);
    let limit =
        DOT_SVG_BASE_BYTES.saturating_add(input.len().saturating_mul(DOT_SVG_BYTES_PER_INPUT_BYTE));
    let output = run(&program, input, timeout, limit)?;
    let svg = String::from_utf8(output).map_err(|_| VizError::DotFailed {
        message: "`dot` wrote SVG that is not UTF-8".to_owned(),
    })?;
    // Whatever `dot` copied through from elsewhere (fonts, its own messages), the
    // document we hand on is well-formed.
    Ok(xml_chars(&svg))
}

fn failed(message: String) -> VizError {
    VizError::DotFailed { message }
}

/// What the threads reading the child's pipes report.
enum Event {
    /// Everything `dot` wrote to stdout, or `limit + 1` bytes when it wrote more.
    Stdout(std::io::Result<Vec<u8>>),
    /// The start of what it wrote to stderr.
    Stderr(Vec<u8>),
}

/// A started `dot`. Unless it ran to the end, dropping this kills it and everything
/// it started (its process group), so no error path leaves a program running.
struct Running {
    child: Child,
    status: Option<ExitStatus>,
    finished: bool,
}

impl Running {
    fn poll(&mut self) -> Result<Option<ExitStatus>, VizError> {
        if self.status.is_none() {
            self.status = self
                .child
                .try_wait()
                .map_err(|e| failed(format!("cannot wait for it: {e}")))?;
        }
        Ok(self.status)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        kill_group(&self.child);
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Kills the process group `dot` leads: a wrapper script's children would otherwise
/// keep running, and keep its pipes open.
#[cfg(unix)]
fn kill_group(child: &Child) {
    let Ok(group) = libc::pid_t::try_from(child.id()) else {
        return;
    };
    // SAFETY: `kill` takes plain integers and touches no memory of ours. The group id
    // is the child's pid (it was started with `process_group(0)`), which stays ours
    // while the child is unreaped or any member of its group is alive.
    unsafe {
        libc::kill(-group, libc::SIGKILL);
    }
}

#[cfg(not(unix))]
fn kill_group(_child: &Child) {}

fn spawn_thread(name: &str, work: impl FnOnce() + Send + 'static) -> Result<(), VizError> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(work)
        .map(drop)
        .map_err(|e| failed(format!("cannot start a thread to talk to it: {e}")))
}

/// Runs `program -Tsvg` on `input` and returns what it wrote, within `timeout` and
/// `limit` bytes.
///
/// Three threads feed and drain the pipes (a child blocked on a full pipe would never
/// exit); this thread watches the clock. After a kill the threads end as the pipes
/// close; nothing waits for them. (Writing to a `dot` that has exited raises
/// `SIGPIPE`, which Rust programs ignore: the write fails and the thread ends.)
fn run(
    program: &Path,
    input: String,
    timeout: Duration,
    limit: usize,
) -> Result<Vec<u8>, VizError> {
    let mut command = Command::new(program);
    command
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let child = command
        .spawn()
        .map_err(|e| failed(format!("cannot start {}: {e}", program.display())))?;
    let deadline = Instant::now() + timeout;
    let mut running = Running {
        child,
        status: None,
        finished: false,
    };
    let (Some(mut stdin), Some(stdout), Some(mut stderr)) = (
        running.child.stdin.take(),
        running.child.stdout.take(),
        running.child.stderr.take(),
    ) else {
        return Err(failed("its pipes were not opened".to_owned()));
    };

    let (sender, events) = mpsc::channel();
    spawn_thread("dot-stdin", move || {
        let _ = stdin.write_all(input.as_bytes());
    })?;
    let to_stdout = sender.clone();
    spawn_thread("dot-stdout", move || {
        let mut svg = Vec::new();
        let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
        let result = stdout.take(cap).read_to_end(&mut svg).map(|_| svg);
        let _ = to_stdout.send(Event::Stdout(result));
    })?;
    spawn_thread("dot-stderr", move || {
        let mut kept = Vec::new();
        let _ = (&mut stderr)
            .take(KEPT_STDERR_BYTES as u64)
            .read_to_end(&mut kept);
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        let _ = sender.send(Event::Stderr(kept));
    })?;

    let mut svg = None;
    let mut messages = None;
    let status = loop {
        let status = running.poll()?;
        if let (Some(status), Some(_), Some(_)) = (status, &svg, &messages) {
            break status;
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(VizError::DotTimedOut { limit: timeout });
        }
        let left = deadline - now;
        if svg.is_some() && messages.is_some() {
            // Both pipes closed; only the exit is awaited.
            std::thread::sleep(POLL.min(left));
            continue;
        }
        let wait = if status.is_some() {
            left
        } else {
            POLL.min(left)
        };
        match events.recv_timeout(wait) {
            Ok(Event::Stdout(Ok(bytes))) if bytes.len() > limit => {
                return Err(VizError::DotOutputTooLarge { limit });
            }
            Ok(Event::Stdout(Ok(bytes))) => svg = Some(bytes),
            Ok(Event::Stdout(Err(e))) => {
                return Err(failed(format!("cannot read its output: {e}")));
            }
            Ok(Event::Stderr(kept)) => messages = Some(kept),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(failed("its output was lost".to_owned()));
            }
        }
    };
    running.finished = true;
    let messages = messages.unwrap_or_default();
    if !status.success() {
        let text = String::from_utf8_lossy(&messages);
        let text = text.trim();
        return Err(failed(if text.is_empty() {
            status.to_string()
        } else {
            text.to_owned()
        }));
    }
    Ok(svg.unwrap_or_default())
}

/// The scene with every character XML forbids replaced: Graphviz copies label and
/// tooltip text into its SVG as it is, so U+FFFE or a control character in a name
/// would make the drawing unreadable. (`to_dot` keeps them: DOT is not XML.)
fn xml_safe(scene: &Scene) -> Scene {
    let mut safe = scene.clone();
    for shape in &mut safe.shapes {
        for line in &mut shape.lines {
            *line = xml_chars(line);
        }
        shape.tooltip = xml_chars(&shape.tooltip);
    }
    for link in &mut safe.links {
        link.label = link.label.as_deref().map(xml_chars);
    }
    safe.caption = safe.caption.as_deref().map(xml_chars);
    safe
}
