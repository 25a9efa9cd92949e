//! The dashboard in a real browser: headless Chromium opens the page while computations
//! run and is driven over the DevTools protocol (through `--remote-debugging-pipe`, on
//! two named pipes: no network port). The test checks that the task stream, the
//! progress and the graph's states change between two looks, that a hostile task name
//! shows as text and runs nothing, that the page logs no error (its content security
//! policy included), that a request without the token or with a wrong one gets 403,
//! that a past computation can be reopened, and that a screenshot is not blank.
//!
//! Needs `chromium` (`/usr/bin/chromium` or on `PATH`): skipped with a notice without
//! it, except when `CI=true`, where it fails (`scripts/test-deps.sh` installs it).

#[path = "support/dashboard_tasks.rs"]
mod dashboard_tasks;
#[path = "../viz/tests/support/mod.rs"]
mod viz_support;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use dashboard_tasks::{nap, sneaky};
use dask::{Config, Dashboard, Delayed, Scheduler};
use serde_json::{json, Value};
use viz_support::{have, ink, scratch_dir};

/// The whole test's limit: past it, the browser is killed and the test fails.
const LIMIT: Duration = Duration::from_secs(90);

/// The browser's process group, killed when the test ends however it ends.
struct Browser {
    child: Child,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A DevTools protocol client over the pipe pair: messages are JSON, each ended by NUL.
struct DevTools {
    to_browser: std::fs::File,
    from_browser: mpsc::Receiver<Value>,
    next_id: u64,
    /// Events seen while waiting for answers (console messages, exceptions, logs).
    events: Vec<Value>,
    deadline: Instant,
}

impl DevTools {
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.to_browser
            .write_all(&bytes)
            .expect("write to the browser");
        loop {
            let left = self.deadline.saturating_duration_since(Instant::now());
            let reply = self
                .from_browser
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no answer to {method} in time"));
            if reply["id"] == id {
                if let Some(error) = reply.get("error") {
                    panic!("{method} failed: {error}");
                }
                return reply["result"].clone();
            }
            self.events.push(reply);
        }
    }

    /// Evaluates `expression` in the page (awaiting a promise) and returns its value.
    fn eval(&mut self, session: &str, expression: &str) -> Value {
        let result = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        );
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("{expression} threw: {exception}");
        }
        result["result"]["value"].clone()
    }
}

/// What the test reads off the page in one look.
const LOOK: &str = r#"!document.getElementById('status') ? 'null' : JSON.stringify({
  status: document.getElementById('status').getAttribute('data-state'),
  statusText: document.getElementById('status').textContent,
  figures: document.getElementById('figures').textContent,
  updates: Number(document.body.getAttribute('data-updates') || 0),
  bars: Array.from(document.querySelectorAll('#stream rect.bar title')).map(t => t.textContent),
  progress: Array.from(document.querySelectorAll('#functions tbody tr')).map(tr => tr.cells[1].textContent),
  names: Array.from(document.querySelectorAll('#functions td.name')).map(td => td.textContent),
  graph: Array.from(document.querySelectorAll('#graph g.node')).map(g => g.getAttribute('data-state')).join(''),
  titles: Array.from(document.querySelectorAll('#graph title')).map(t => t.textContent),
  scripts: Array.from(document.scripts).map(s => s.getAttribute('src')),
  history: document.querySelectorAll('#history tbody tr').length,
  rss: (document.getElementById('rss') || {}).textContent || '',
  held: (document.getElementById('held') || {}).textContent || '',
  alerts: window.__alerts,
})"#;

fn look(devtools: &mut DevTools, session: &str) -> Value {
    let text = devtools.eval(session, LOOK);
    serde_json::from_str(text.as_str().expect("a string")).unwrap()
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let mut out = Vec::new();
    for chunk in text.as_bytes().chunks(4) {
        let digits: Vec<u8> = chunk.iter().copied().filter(|&c| c != b'=').collect();
        let mut n = 0u32;
        for (i, &c) in digits.iter().enumerate() {
            n |= value(c) << (18 - 6 * i);
        }
        out.extend_from_slice(&n.to_be_bytes()[1..digits.len()]);
    }
    out
}

#[test]
fn the_live_page_changes_while_computations_run_and_stays_safe() {
    let Some(program) = viz_support::find_chromium() else {
        have("chromium", false);
        return;
    };
    let dir = scratch_dir("dashboard-browser");
    let dash = Dashboard::serve_quietly().unwrap();
    let url = dash.url().to_owned();

    // Computations one after the other until the test is done (bounded in count).
    let stop = Arc::new(AtomicBool::new(false));
    let config = Config::default()
        .scheduler(Scheduler::Threads(2))
        .dashboard(&dash);
    let array_config = config.clone();
    let workload = std::thread::spawn({
        let stop = stop.clone();
        move || {
            for _ in 0..100 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let naps: Vec<Delayed<u64>> = (0..24).map(|i| nap(40 + i % 3)).collect();
                assert_eq!(sneaky(naps).compute_with(&config).unwrap(), 24 * 41);
            }
        }
    });

    // The browser, on a pipe pair: commands in on fd 3, answers out on fd 4.
    let (pipe_in, pipe_out) = (dir.join("to-browser"), dir.join("from-browser"));
    for fifo in [&pipe_in, &pipe_out] {
        let made = Command::new("mkfifo").arg(fifo).status().expect("mkfifo");
        assert!(made.success());
    }
    // Opened read-write, a named pipe opens at once, whoever comes first.
    let open = |p: &Path| {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(p)
            .unwrap()
    };
    let (to_browser, mut from_browser) = (open(&pipe_in), open(&pipe_out));
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(r#"exec "$0" "$@" 3<"$DASK_PIPE_IN" 4>"$DASK_PIPE_OUT""#)
        .arg(&program)
        .args(viz_support::HEADLESS_FLAGS)
        .args(["--remote-debugging-pipe", "--window-size=1200,1400"])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg("about:blank")
        .env("DASK_PIPE_IN", &pipe_in)
        .env("DASK_PIPE_OUT", &pipe_out)
        .stdin(Stdio::null())
        .stdout(Stdio::from(
            std::fs::File::create(dir.join("stdout.txt")).unwrap(),
        ))
        .stderr(Stdio::from(
            std::fs::File::create(dir.join("stderr.txt")).unwrap(),
        ));
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let _browser = Browser {
        child: command.spawn().expect("start chromium"),
    };
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let mut pending = Vec::new();
        let mut buf = [0u8; 65536];
        while let Ok(n) = from_browser.read(&mut buf) {
            if n == 0 {
                return;
            }
            pending.extend_from_slice(&buf[..n]);
            while let Some(end) = pending.iter().position(|&b| b == 0) {
                let message: Vec<u8> = pending.drain(..=end).collect();
                let value = serde_json::from_slice(&message[..end]).expect("JSON from the browser");
                if send.send(value).is_err() {
                    return;
                }
            }
        }
    });
    let mut devtools = DevTools {
        to_browser,
        from_browser: receive,
        next_id: 0,
        events: Vec::new(),
        deadline: Instant::now() + LIMIT,
    };

    let target = devtools.call(None, "Target.createTarget", json!({ "url": "about:blank" }));
    let attached = devtools.call(
        None,
        "Target.attachToTarget",
        json!({ "targetId": target["targetId"], "flatten": true }),
    );
    let session = attached["sessionId"]
        .as_str()
        .expect("a session")
        .to_owned();
    let s = session.as_str();
    for domain in ["Page.enable", "Runtime.enable", "Log.enable"] {
        devtools.call(Some(s), domain, json!({}));
    }
    // Any alert the page would run is recorded instead.
    devtools.call(
        Some(s),
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": "window.__alerts = []; window.alert = m => window.__alerts.push(String(m));" }),
    );
    devtools.call(Some(s), "Page.navigate", json!({ "url": url }));

    // Wait for the page to be fed while a computation runs, with its graph drawn.
    let running_look = |devtools: &mut DevTools| -> Value {
        loop {
            let l = look(devtools, s);
            if l.is_null() {
                // Still loading.
            } else if l["status"] == "running"
                && !l["graph"].as_str().unwrap_or("").is_empty()
                && !l["bars"].as_array().unwrap().is_empty()
            {
                return l;
            }
            assert!(
                Instant::now() < devtools.deadline,
                "the page never showed a running computation: {l}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let first = running_look(&mut devtools);
    std::thread::sleep(Duration::from_millis(700));
    let second = running_look(&mut devtools);
    println!("first look: {first}\nsecond look: {second}");

    // Live: updates keep coming (at least 5 a second), and the stream, the progress and
    // the graph move.
    let updates = |l: &Value| l["updates"].as_u64().unwrap();
    assert!(
        updates(&second) >= updates(&first) + 4,
        "few updates in 700 ms: {} then {}",
        updates(&first),
        updates(&second)
    );
    // Each is compared with the first look in later looks of a running computation
    // until it differs, within a bound: on a loaded machine a look 700 ms later may
    // catch the next computation in the same state as the first (its first tasks
    // running, say), or the page between an update and the next.
    let mut later = vec![second.clone()];
    let moved = |l: &Value, what: &str| match what {
        "stream" => first["bars"] != l["bars"],
        "progress" => (&first["progress"], &first["figures"]) != (&l["progress"], &l["figures"]),
        _ => first["graph"] != l["graph"],
    };
    let change_deadline = Instant::now() + Duration::from_secs(20);
    for what in ["stream", "progress", "graph"] {
        while !later.iter().any(|l| moved(l, what)) {
            assert!(
                Instant::now() < change_deadline,
                "the {what} did not change in 20 s of looks: first {first}, last {}",
                later.last().unwrap()
            );
            std::thread::sleep(Duration::from_millis(100));
            later.push(running_look(&mut devtools));
        }
    }
    for l in later.iter().chain([&first]) {
        let graph = l["graph"].as_str().unwrap();
        assert_eq!(graph.len(), 25, "24 naps and the sum, node by node");
        assert!(graph.chars().all(|c| "0123".contains(c)));
    }
    assert!(
        second["rss"].as_str().unwrap().contains("MiB"),
        "{}",
        second["rss"]
    );

    // The hostile name is text everywhere it is shown, and ran nothing.
    let hostile = "<script>alert(1)</script>";
    assert!(
        second["names"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == hostile),
        "{}",
        second["names"]
    );
    assert!(second["titles"].as_array().unwrap().iter().any(|t| t
        .as_str()
        .unwrap()
        .starts_with("<script>alert(1)</script>-")));
    assert_eq!(
        second["scripts"],
        json!(["dashboard.js"]),
        "only the page's own script"
    );
    assert_eq!(second["alerts"], json!([]), "an alert ran");

    // Nothing went wrong in the page so far: no exception, no console error, no
    // refused resource (a violation of the content security policy is logged as an
    // error). Checked before the refused requests below, which log errors on purpose.
    let problems = |events: &[Value]| -> Vec<Value> {
        events
            .iter()
            .filter(|e| {
                e["method"] == "Runtime.exceptionThrown"
                    || (e["method"] == "Runtime.consoleAPICalled" && e["params"]["type"] == "error")
                    || (e["method"] == "Log.entryAdded" && e["params"]["entry"]["level"] == "error")
            })
            .cloned()
            .collect()
    };
    let found = problems(&devtools.events);
    assert!(found.is_empty(), "the page reported problems: {found:#?}");
    let seen = devtools.events.len();

    // Without the token, or with a wrong one, the server answers 403 (a real browser's
    // requests, the cookie left out).
    let statuses = devtools.eval(
        s,
        "Promise.all(['/api/update', '/api/update?token=0123456789abcdef0123456789abcdef', '/', '/events']\
           .map(u => fetch(u, { credentials: 'omit' }).then(r => r.status)))",
    );
    assert_eq!(statuses, json!([403, 403, 403, 403]));
    // With the cookie the page was given, its own requests pass without the token.
    let with_cookie = devtools.eval(
        s,
        "fetch('/api/update', { credentials: 'same-origin' }).then(r => r.status)",
    );
    assert_eq!(with_cookie, json!(200));

    // A past computation reopens, with its figures and final graph.
    devtools.eval(
        s,
        "document.querySelector('#history button.open').click(); true",
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let reopened = loop {
        let l = look(&mut devtools, s);
        if l["statusText"]
            .as_str()
            .unwrap_or("")
            .starts_with("viewing computation")
        {
            break l;
        }
        assert!(
            Instant::now() < deadline,
            "the computation did not reopen: {l}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        reopened["graph"],
        json!("2".repeat(25)),
        "a finished computation: all done"
    );
    assert!(reopened["progress"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "24 / 24"));

    // A screenshot of the page, reopened view and all, is not blank.
    let shot = devtools.call(
        Some(s),
        "Page.captureScreenshot",
        json!({ "format": "png" }),
    );
    let png = dir.join("dashboard.png");
    std::fs::write(&png, base64_decode(shot["data"].as_str().unwrap())).unwrap();
    let (width, height, inked) = ink(&png);
    assert!(
        inked * 100 > (width * height) as usize,
        "blank screenshot {}",
        png.display()
    );
    println!(
        "screenshot: {} ({width}x{height}, {inked} pixels inked)",
        png.display()
    );

    // Since then, only the refused requests' own errors.
    let later: Vec<Value> = problems(&devtools.events[seen..])
        .into_iter()
        .filter(|e| {
            !e["params"]["entry"]["text"]
                .as_str()
                .unwrap_or("")
                .contains("status of 403")
        })
        .collect();
    assert!(later.is_empty(), "the page reported problems: {later:#?}");

    // Results whose size is known (array blocks of 1024 numbers, 8 KiB each): the
    // memory panel counts the bytes held, and a bar's hover gives its result's size.
    stop.store(true, Ordering::Relaxed);
    workload.join().unwrap();
    let arrays_stop = Arc::new(AtomicBool::new(false));
    let arrays = std::thread::spawn({
        let stop = arrays_stop.clone();
        move || {
            for _ in 0..100 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let slow = dask::array::ones(8 * 1024, 1024).map_blocks(|b| {
                    std::thread::sleep(Duration::from_millis(60));
                    b.clone()
                });
                assert_eq!(slow.compute_with(&array_config).unwrap().len(), 8 * 1024);
            }
        }
    });
    devtools.eval(s, "document.getElementById('live').click(); true");
    let deadline = Instant::now() + Duration::from_secs(20);
    let sized = loop {
        let l = look(&mut devtools, s);
        let held = l["held"].as_str().unwrap_or("");
        let sized_bar = l["bars"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.as_str().unwrap().ends_with("result size: 8.0 KiB"));
        if l["status"] == "running" && held.contains("KiB in") && sized_bar {
            break l;
        }
        assert!(
            Instant::now() < deadline,
            "the page never showed results of known size: {l}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    println!("with sizes: {}", sized["held"]);
    assert!(
        sized["held"].as_str().unwrap().contains("of known size"),
        "{}",
        sized["held"]
    );
    // Bars of tasks whose results are not measured say so.
    assert!(second["bars"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t.as_str().unwrap().ends_with("result size: not known")));
    arrays_stop.store(true, Ordering::Relaxed);
    arrays.join().unwrap();

    let _ = devtools.call(None, "Browser.close", json!({}));
}
