//! Helpers shared by the integration tests.

#![allow(dead_code)] // Each test binary uses its own subset.

use std::path::Path;
use std::process::Command;

use dask_viz::{NodeInfo, TaskGraph};

/// Whether a test that needs `program` should run. Missing programs skip the test
/// with a notice on a developer's machine, but fail it in CI (`CI=true`), where the
/// install script must have provided them.
pub fn have(program: &str, available: bool) -> bool {
    if available {
        return true;
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    assert!(
        !in_ci,
        "`{program}` is required when CI=true but was not found (see scripts/test-deps.sh)"
    );
    eprintln!("notice: `{program}` not found; skipping this test (it fails when CI=true)");
    false
}

/// `n` generate → transform → aggregate pipelines, as Dask's tutorial builds them.
pub fn pipelines(n: usize) -> TaskGraph {
    let mut g = TaskGraph::new();
    for i in 0..n {
        let size = 1_000_000 * (i as u64 + 1);
        let gen = g.add_node(
            NodeInfo::task(
                format!("generate_data-{i:016x}"),
                "generate_data",
                "pipeline::generate_data",
            )
            .with_type_name("alloc::vec::Vec<f64>")
            .with_size(size * 8)
            .with_order(3 * i as u64),
        );
        let tr = g.add_node(
            NodeInfo::task(
                format!("transform_data-{i:016x}"),
                "transform_data",
                "pipeline::transform_data",
            )
            .with_type_name("alloc::vec::Vec<f64>")
            .with_size(size * 8)
            .with_order(3 * i as u64 + 1),
        );
        let agg = g.add_node(
            NodeInfo::task(
                format!("aggregate_data-{i:016x}"),
                "aggregate_data",
                "pipeline::aggregate_data",
            )
            .with_type_name("pipeline::Stats")
            .with_size(32)
            .with_order(3 * i as u64 + 2),
        );
        g.add_edge(gen, tr, 0);
        g.add_edge(tr, agg, 0);
    }
    g
}

/// Exit status and captured output of a finished program.
pub struct Finished {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` to completion, killing it (and, on Unix, every process it started)
/// after `limit` so that a stuck program fails the test instead of hanging it.
/// Output goes to files rather than pipes: a browser's helper processes can keep a
/// pipe open after the browser itself has exited.
pub fn run_bounded(
    command: std::process::Command,
    limit: std::time::Duration,
    scratch: &std::path::Path,
) -> Finished {
    run_bounded_with(command, None, limit, scratch)
}

/// [`run_bounded`] with standard output going to `stdout` (a closed pipe, `/dev/full`)
/// instead of a file; `stdout` in the result is then empty.
pub fn run_bounded_to(
    command: std::process::Command,
    stdout: std::process::Stdio,
    limit: std::time::Duration,
    scratch: &std::path::Path,
) -> Finished {
    run_bounded_with(command, Some(stdout), limit, scratch)
}

fn run_bounded_with(
    mut command: std::process::Command,
    stdout: Option<std::process::Stdio>,
    limit: std::time::Duration,
    scratch: &std::path::Path,
) -> Finished {
    use std::process::Stdio;
    use std::time::Instant;

    std::fs::create_dir_all(scratch).expect("create scratch directory");
    let out_path = scratch.join("stdout.txt");
    let err_path = scratch.join("stderr.txt");
    let out = std::fs::File::create(&out_path).expect("create stdout file");
    let err = std::fs::File::create(&err_path).expect("create stderr file");
    command
        .stdin(Stdio::null())
        .stdout(stdout.unwrap_or_else(|| Stdio::from(out)))
        .stderr(Stdio::from(err));
    let program = format!("{:?}", command.get_program());
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for child") {
            break status;
        }
        if started.elapsed() > limit {
            #[cfg(unix)]
            {
                // The whole group: Chromium's renderer and GPU helpers too.
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
            }
            let _ = child.kill();
            let _ = child.wait();
            panic!("{program} did not finish within {limit:?}; killed it");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    Finished {
        status,
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    }
}

/// A fresh directory under the target directory for one test's files.
pub fn scratch_dir(test: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch directory");
    dir
}

/// How long one headless Chromium run may take before it is killed.
/// Debian's Chromium, or a `chromium` on the `PATH` (the tests that drive a browser
/// skip or fail through [`have`] when there is none).
pub fn find_chromium() -> Option<std::path::PathBuf> {
    let fixed = Path::new("/usr/bin/chromium");
    if fixed.is_file() {
        return Some(fixed.to_owned());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|candidate| candidate.is_file())
}

/// How every test starts Chromium: headless, as root, and with nothing that reaches for
/// the network (this machine's network is closed; background requests would be
/// refused many at a time) or changes between runs.
pub const HEADLESS_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
];

pub const BROWSER_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

pub fn chromium(
    program: &Path,
    profile: &Path,
    extra: &[String],
    url: &str,
    scratch: &Path,
) -> Finished {
    let mut command = Command::new(program);
    command
        .args(HEADLESS_FLAGS)
        .args(["--enable-logging=stderr", "--v=0"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url);
    run_bounded(command, BROWSER_TIME_LIMIT, scratch)
}

/// Share of pixels that are not (nearly) white.
pub fn ink(png_path: &Path) -> (u32, u32, usize) {
    let file = std::fs::File::open(png_path).expect("open screenshot");
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size().expect("a sane image size")];
    let info = reader
        .next_frame(&mut buffer)
        .expect("decode the screenshot");
    let channels = match info.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => panic!("palette left unexpanded"),
    };
    let colour_channels = if channels >= 3 { 3 } else { 1 };
    let mut inked = 0;
    for row in buffer.chunks(info.line_size).take(info.height as usize) {
        for pixel in row[..info.width as usize * channels].chunks(channels) {
            if pixel[..colour_channels].iter().any(|&c| c < 235) {
                inked += 1;
            }
        }
    }
    (info.width, info.height, inked)
}

/// Screenshots `url` into `png` with headless Chromium at `window` size (`"W,H"`) and
/// asserts the picture is not blank: drawings cover a few percent of the page at least.
pub fn assert_screenshot_not_blank(
    program: &Path,
    scratch: &Path,
    window: &str,
    url: &str,
    png: &Path,
) {
    let _ = std::fs::remove_file(png);
    let run = chromium(
        program,
        &scratch.join("profile-shot"),
        &[
            format!("--screenshot={}", png.display()),
            format!("--window-size={window}"),
        ],
        url,
        &scratch.join("shot"),
    );
    assert!(
        run.status.success(),
        "chromium --screenshot failed: {}",
        run.stderr
    );
    let (width, height, inked) = ink(png);
    let total = width as usize * height as usize;
    assert!(
        inked * 100 > total,
        "screenshot {} is (nearly) blank: {inked} of {total} pixels not white",
        png.display()
    );
    println!(
        "screenshot: {} ({width}x{height}, {inked} pixels inked)",
        png.display()
    );
}
