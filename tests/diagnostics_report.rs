//! The HTML report as a browser shows it: headless Chromium loads a report of a real
//! profiled run (one task named `<script>alert(1)</script>`), with no network. A check
//! added to a copy of the page verifies that it loaded without console errors or
//! script, that the timeline has one bar per task attempt, that the dangerous name
//! shows as text, and that the graph is drawn; a screenshot must not be blank.
//!
//! Needs `chromium` (`/usr/bin/chromium` or on `PATH`): skipped with a notice without
//! it, except when `CI=true`, where it fails.

#[path = "../viz/tests/support/mod.rs"]
mod viz_support;

use std::time::Duration;

use dask::{delayed, Config, Delayed, Profiler, Scheduler};
use viz_support::{assert_screenshot_not_blank, chromium, have, scratch_dir};

#[delayed]
fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

#[delayed(name = "<script>alert(1)</script>")]
fn sneaky(xs: Vec<u64>) -> u64 {
    xs.iter().sum()
}

/// Installed first in `<head>`: records console errors, uncaught errors and any call of
/// `alert` before the page's own content is parsed.
const CAPTURE: &str = r#"<script id="capture">
window.__problems = [];
const __error = console.error.bind(console);
console.error = (...args) => { window.__problems.push('console.error: ' + args.join(' ')); __error(...args); };
window.addEventListener('error', e => window.__problems.push('error: ' + (e.message || e.target)), true);
window.alert = m => window.__problems.push('alert(' + m + ') ran');
</script>"#;

/// Appended at the end of `<body>`: writes `PASS` or `FAIL` and the reasons into
/// `#verdict`, which `--dump-dom` shows.
const CHECK: &str = r#"<pre id="verdict">NOT RUN</pre><script id="check">
(function () {
  const problems = window.__problems.slice();
  const expectedBars = __BARS__;
  const scripts = Array.from(document.scripts).map(s => s.id);
  if (scripts.join(',') !== 'capture,check') problems.push('unexpected scripts: ' + scripts.join(','));
  const bars = document.querySelectorAll('#timeline svg rect.task');
  if (bars.length !== expectedBars) problems.push(`${bars.length} timeline bars, expected ${expectedBars}`);
  for (const bar of bars) {
    const r = bar.getBoundingClientRect();
    if (!(r.width > 0 && r.height > 0)) { problems.push('a timeline bar has no area'); break; }
  }
  const cells = Array.from(document.querySelectorAll('#summary td')).map(td => td.textContent);
  if (!cells.includes('<script>alert(1)<\/script>')) problems.push('the task name is not shown as text: ' + cells.join('|'));
  const titles = Array.from(document.querySelectorAll('#timeline svg title')).map(t => t.textContent);
  if (!titles.some(t => t.startsWith('<script>alert(1)<\/script> '))) problems.push('no tooltip names the task as text');
  const nodes = document.querySelectorAll('#graph svg text');
  if (!Array.from(nodes).some(t => t.textContent.includes('<script>alert(1)<\/script>'))) problems.push('the graph does not show the task name as text');
  const figures = document.querySelector('#figures').textContent;
  for (const f of ['tasks', 'wall time', 'parallel efficiency']) if (!figures.includes(f)) problems.push('missing figure ' + f);
  if (document.querySelectorAll('img, link, iframe, object, embed').length) problems.push('external resources in the page');
  document.getElementById('verdict').textContent =
    problems.length === 0 ? 'PASS' : 'FAIL\n' + problems.join('\n');
})();
</script>"#;

/// A profiled run on two workers: 12 naps and the sneaky sum, and its report.
fn report() -> (String, usize) {
    let profiler = Profiler::new();
    let naps: Vec<Delayed<u64>> = (0..12).map(|i| nap(2 + i % 3)).collect();
    let out = sneaky(naps);
    let graph = dask::graph(std::slice::from_ref(&out));
    let config = Config::default()
        .scheduler(Scheduler::Threads(2))
        .profiler(&profiler);
    out.compute_with(&config).unwrap();
    (profiler.report_html(Some(&graph)), profiler.records().len())
}

#[test]
fn the_report_renders_in_chromium_with_one_bar_per_task_and_escaped_names() {
    let (html, attempts) = report();
    assert_eq!(attempts, 13);
    assert!(
        !html.contains("<script"),
        "the report itself carries no script"
    );
    let Some(program) = viz_support::find_chromium() else {
        have("chromium", false);
        return;
    };
    let dir = scratch_dir("diagnostics-report");
    std::fs::write(dir.join("report.html"), &html).unwrap();
    let checked = with_check(&html, attempts);
    let page = dir.join("checked.html");
    std::fs::write(&page, checked).unwrap();
    let url = format!("file://{}", page.display());

    let run = chromium(
        &program,
        &dir.join("profile-dom"),
        &[
            "--dump-dom".to_owned(),
            "--window-size=1100,1400".to_owned(),
        ],
        &url,
        &dir.join("dump"),
    );
    assert!(
        run.status.success(),
        "chromium --dump-dom failed: {}",
        run.stderr
    );
    let verdict = run
        .stdout
        .split("<pre id=\"verdict\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_else(|| panic!("no verdict in the page:\n{}", run.stdout))
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    assert_eq!(verdict, "PASS", "the page's check failed:\n{verdict}");
    // Chromium logs page console messages as `CONSOLE(line)`; the page must log none.
    let console: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .collect();
    assert!(console.is_empty(), "console output: {console:#?}");

    // The report as users get it (without the check), as a picture.
    assert_screenshot_not_blank(
        &program,
        &dir,
        "1100,1400",
        &format!("file://{}", dir.join("report.html").display()),
        &dir.join("report.png"),
    );
}

/// `html` with the console capture in its head and the check, expecting `bars` task
/// bars, at the end of its body.
fn with_check(html: &str, bars: impl std::fmt::Display) -> String {
    html.replacen("<head>", &format!("<head>{CAPTURE}"), 1)
        .replacen(
            "</body>",
            &format!("{}</body>", CHECK.replace("__BARS__", &bars.to_string())),
            1,
        )
}

/// The check must be able to fail, or its PASS means nothing: a page with a missing bar
/// and an executed script.
#[test]
fn the_check_catches_a_broken_report() {
    let (html, attempts) = report();
    let Some(program) = viz_support::find_chromium() else {
        have("chromium", false);
        return;
    };
    let dir = scratch_dir("diagnostics-report-broken");
    let broken = html
        .replacen("<rect class=\"task\"", "<rect class=\"gone\"", 1)
        .replacen("<h1>", "<script>alert(1)</script><h1>", 1);
    let checked = with_check(&broken, attempts);
    let page = dir.join("checked.html");
    std::fs::write(&page, checked).unwrap();
    let run = chromium(
        &program,
        &dir.join("profile-dom"),
        &["--dump-dom".to_owned()],
        &format!("file://{}", page.display()),
        &dir.join("dump"),
    );
    assert!(run.status.success());
    let verdict = run
        .stdout
        .split("<pre id=\"verdict\">")
        .nth(1)
        .unwrap_or("");
    assert!(verdict.starts_with("FAIL"), "{verdict}");
    for expected in [
        "alert(1) ran",
        "unexpected scripts",
        &format!("{} timeline bars", attempts - 1),
    ] {
        assert!(
            verdict.contains(expected),
            "missing {expected:?} in:\n{verdict}"
        );
    }
}
