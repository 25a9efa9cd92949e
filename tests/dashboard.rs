//! The dashboard's server, driven by a plain HTTP client over loopback: the token, the
//! routes, the event stream during a computation, escaping of hostile names, and the
//! port freed on drop. Every connection has a read timeout, so no test can hang.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use dashboard_tasks::{nap, sneaky};
use dask::{Config, Dashboard, DashboardError, Delayed, Scheduler};
use within::within;

#[path = "support/dashboard_tasks.rs"]
mod dashboard_tasks;
#[path = "support/within.rs"]
mod within;

const LIMIT: Duration = Duration::from_secs(10);

struct Reply {
    status: u16,
    head: String,
    body: String,
}

fn token(dash: &Dashboard) -> String {
    dash.url()
        .split("token=")
        .nth(1)
        .expect("a token in the URL")
        .to_owned()
}

fn request(addr: SocketAddr, method: &str, path: &str, headers: &str) -> Reply {
    let mut stream = TcpStream::connect_timeout(&addr, LIMIT).expect("connect");
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n{headers}\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("a complete response");
    let text = String::from_utf8(raw).expect("UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("headers end");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    Reply {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path, "")
}

#[test]
fn every_request_needs_the_token() {
    let dash = Dashboard::serve_quietly().unwrap();
    let (addr, token) = (dash.local_addr(), token(&dash));
    assert!(addr.ip().is_loopback());
    for path in [
        "/",
        "/index.html",
        "/dashboard.js",
        "/dashboard.css",
        "/events",
        "/api/update",
        "/api/computation/1",
        "/nothing",
    ] {
        assert_eq!(get(addr, path).status, 403, "{path} without a token");
        let wrong = format!("{path}?token=0123456789abcdef0123456789abcdef");
        assert_eq!(get(addr, &wrong).status, 403, "{path} with a wrong token");
        let prefix = format!("{path}?token={}", &token[..31]);
        assert_eq!(
            get(addr, &prefix).status,
            403,
            "{path} with a prefix of the token"
        );
        let cookie = request(addr, "GET", path, "Cookie: dask_dashboard_token=nope\r\n");
        assert_eq!(cookie.status, 403, "{path} with a wrong cookie");
    }
    for path in [
        "/",
        "/dashboard.js",
        "/dashboard.css",
        "/icon.svg",
        "/api/update",
        "/api/stream",
    ] {
        assert_eq!(
            get(addr, &format!("{path}?token={token}")).status,
            200,
            "{path}"
        );
        let cookie = request(
            addr,
            "GET",
            path,
            &format!("Cookie: a=b; dask_dashboard_token={token}\r\n"),
        );
        assert_eq!(cookie.status, 200, "{path} with the cookie");
    }
    assert_eq!(get(addr, &format!("/nothing?token={token}")).status, 404);
    assert_eq!(
        get(addr, &format!("/api/computation/99?token={token}")).status,
        404
    );
    // The page gives the browser the token as an HTTP-only, same-site cookie.
    let page = get(addr, &format!("/?token={token}"));
    assert!(
        page.head.contains(&format!(
            "Set-Cookie: dask_dashboard_token={token}; Path=/; HttpOnly; SameSite=Strict"
        )),
        "{}",
        page.head
    );
}

#[test]
fn the_server_only_reads() {
    let dash = Dashboard::serve_quietly().unwrap();
    let (addr, token) = (dash.local_addr(), token(&dash));
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        assert_eq!(
            request(addr, method, "/api/update", "").status,
            403,
            "{method} without token"
        );
        let r = request(addr, method, &format!("/api/update?token={token}"), "");
        assert_eq!(r.status, 405, "{method} with the token");
        assert!(r.head.contains("Allow: GET"));
    }
}

#[test]
fn the_page_is_self_contained_and_locked_down() {
    let dash = Dashboard::serve_quietly().unwrap();
    let (addr, token) = (dash.local_addr(), token(&dash));
    let page = get(addr, &format!("/?token={token}"));
    for header in [
        "Content-Security-Policy: default-src 'none'; script-src 'self'",
        "X-Content-Type-Options: nosniff",
        "Referrer-Policy: no-referrer",
        "X-Frame-Options: DENY",
        "Cache-Control: no-store",
    ] {
        assert!(
            page.head.contains(header),
            "missing {header}: {}",
            page.head
        );
    }
    let script = get(addr, &format!("/dashboard.js?token={token}")).body;
    // The SVG namespace is a name, not an address the page loads.
    let script = script.replace("'http://www.w3.org/2000/svg'", "SVG_NS");
    for text in [&page.body, &script] {
        // Offline: no address of another host; no markup parsed from data.
        assert!(!text.contains("http://") && !text.contains("https://") && !text.contains("//cdn"));
        assert!(
            !text.contains("innerHTML")
                && !text.contains("outerHTML")
                && !text.contains("insertAdjacentHTML")
                && !text.contains("document.write")
        );
    }
    assert!(page.body.contains("<script src=\"dashboard.js\"></script>"));
}

/// Reads an event stream on a thread: each `data:` line, as it arrives.
fn listen(addr: SocketAddr, token: &str) -> mpsc::Receiver<(Instant, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, LIMIT).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    write!(
        stream,
        "GET /events?token={token} HTTP/1.1\r\nHost: {addr}\r\n\r\n"
    )
    .unwrap();
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        let mut head = true;
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
            if head && line.starts_with("HTTP/1.1") {
                assert!(line.starts_with("HTTP/1.1 200"), "{line}");
            }
            if head && line.to_ascii_lowercase().starts_with("content-type") {
                assert!(line.contains("text/event-stream"), "{line}");
            }
            if line == "\r\n" {
                head = false;
            }
            if let Some(data) = line.strip_prefix("data: ") {
                if send
                    .send((Instant::now(), data.trim_end().to_owned()))
                    .is_err()
                {
                    return;
                }
            }
            line.clear();
        }
    });
    receive
}

#[test]
fn the_event_stream_delivers_live_updates_during_a_computation() {
    let dash = Dashboard::serve_quietly().unwrap();
    let (addr, token) = (dash.local_addr(), token(&dash));
    let events = listen(addr, &token);
    // The first update is sent as soon as the stream opens.
    events.recv_timeout(LIMIT).expect("an update on connecting");
    let config = Config::default()
        .scheduler(Scheduler::Threads(2))
        .dashboard(&dash);
    let naps: Vec<Delayed<u64>> = (0..24).map(|_| nap(50)).collect();
    let started = Instant::now();
    let out = dask::compute_with(&naps, &config).unwrap();
    let ran = started.elapsed();
    assert_eq!(out.len(), 24);
    // Until the update after the end arrives, count the updates that saw it running.
    let mut running = Vec::new();
    let deadline = Instant::now() + LIMIT;
    loop {
        let (at, data) = events
            .recv_timeout(deadline - Instant::now())
            .expect("updates keep coming");
        let update: serde_json::Value = serde_json::from_str(&data).unwrap();
        let c = &update["computation"];
        if c["running"] == true {
            running.push((at, c["done"].as_u64().unwrap()));
        } else if c["done"] == 24 {
            assert_eq!(update["history"][0]["done"], 24);
            assert_eq!(update["functions"][0]["name"], "nap");
            assert_eq!(update["functions"][0]["total"], 24);
            break;
        }
    }
    // 24 naps of 50 ms on 2 threads: about 600 ms, so at least 5 updates a second means
    // 3 or more while it ran (10 a second are sent; the margin is for a loaded machine).
    assert!(ran >= Duration::from_millis(550));
    let per_second = running.len() as f64 / ran.as_secs_f64();
    assert!(per_second >= 5.0, "{} updates in {ran:?}", running.len());
    // Progress is seen moving, and never backwards.
    assert!(running.windows(2).all(|w| w[0].1 <= w[1].1));
    assert!(
        running.first().unwrap().1 < running.last().unwrap().1,
        "{running:?}"
    );
}

#[test]
fn a_hostile_task_name_is_never_sent_as_markup() {
    let dash = Dashboard::serve_quietly().unwrap();
    let (addr, token) = (dash.local_addr(), token(&dash));
    let config = Config::default()
        .scheduler(Scheduler::Threads(2))
        .dashboard(&dash);
    let out = sneaky((0..3).map(|_| nap(1)).collect::<Vec<_>>());
    out.compute_with(&config).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let stream = get(addr, &format!("/api/stream?token={token}")).body;
    assert!(!stream.contains('<') && !stream.contains('>'), "{stream}");
    let recent: serde_json::Value = serde_json::from_str(&stream).unwrap();
    let bars = recent["bars"].as_array().expect("bars");
    assert_eq!(
        bars.len(),
        4,
        "a page opening now gets the last seconds' bars: {stream}"
    );
    assert!(bars
        .iter()
        .any(|b| b["name"] == "<script>alert(1)</script>"));
    for path in ["/api/update", "/api/computation/1"] {
        let reply = get(addr, &format!("{path}?token={token}"));
        assert_eq!(reply.status, 200);
        assert!(
            !reply.body.contains('<') && !reply.body.contains('>'),
            "{path}: {}",
            reply.body
        );
        assert!(
            reply
                .body
                .contains("\\u003cscript\\u003ealert(1)\\u003c/script\\u003e"),
            "{path}"
        );
        let value: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        let functions = value["functions"].as_array().expect("functions");
        assert!(
            functions
                .iter()
                .any(|f| f["name"] == "<script>alert(1)</script>"),
            "{path}"
        );
    }
}

#[test]
fn dropping_the_dashboard_ends_its_streams_and_frees_its_port() {
    let dash = Dashboard::serve_quietly().unwrap();
    let (addr, token) = (dash.local_addr(), token(&dash));
    let events = listen(addr, &token);
    events.recv_timeout(LIMIT).expect("a first update");
    let started = Instant::now();
    drop(dash);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "drop took {:?}",
        started.elapsed()
    );
    // The stream ends: its thread sees the end of the connection and drops the sender.
    let deadline = Instant::now() + LIMIT;
    loop {
        match events.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(_) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("the stream stayed open after drop"),
        }
    }
    // Nobody listens any more, and the port can be bound again at once.
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
    drop(TcpListener::bind(addr).expect("the port is free after drop"));
    let again = Dashboard::serve(addr).expect("a new dashboard on the same port");
    assert_eq!(again.local_addr(), addr);
}

#[test]
fn only_loopback_unless_asked_and_clear_errors() {
    assert!(matches!(
        Dashboard::serve("0.0.0.0:0"),
        Err(DashboardError::NotLoopback { .. })
    ));
    assert!(matches!(
        Dashboard::serve("192.0.2.1:8787"),
        Err(DashboardError::NotLoopback { .. })
    ));
    assert!(matches!(
        Dashboard::serve("no port here"),
        Err(DashboardError::Address { .. })
    ));
    let first = Dashboard::serve("127.0.0.1:0").unwrap();
    assert!(first
        .url()
        .starts_with(&format!("http://{}/?token=", first.local_addr())));
    let taken = Dashboard::serve(first.local_addr());
    assert!(
        matches!(taken, Err(DashboardError::Bind { .. })),
        "{taken:?}"
    );
    // Converted into the crate's error with `?`.
    let err: dask::Error = taken.unwrap_err().into();
    assert!(err.to_string().contains("cannot listen on"), "{err}");
    // `serve_exposed` takes any address (here loopback, to stay off the network).
    let exposed = Dashboard::serve_exposed("127.0.0.1:0").unwrap();
    assert!(
        !format!("{exposed:?}").contains("token"),
        "Debug must not show the token"
    );
}

#[test]
fn malformed_or_oversized_requests_get_400_and_the_server_goes_on() {
    let dash = Dashboard::serve_quietly().unwrap();
    let (addr, token) = (dash.local_addr(), token(&dash));
    let raw = |bytes: &[u8]| -> String {
        let mut stream = TcpStream::connect_timeout(&addr, LIMIT).unwrap();
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        // The server may close before reading everything (an oversized head).
        let _ = stream.write_all(bytes);
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
        String::from_utf8_lossy(&reply).into_owned()
    };
    assert!(raw(b"garbage\r\n\r\n").starts_with("HTTP/1.1 400"));
    assert!(raw(b"GET noslash HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 400"));
    let huge = format!(
        "GET /?token={token} HTTP/1.1\r\nX: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    assert!(raw(huge.as_bytes()).starts_with("HTTP/1.1 400"));
    assert_eq!(get(addr, &format!("/api/update?token={token}")).status, 200);
}

#[test]
fn an_idle_connection_does_not_hold_up_the_drop() {
    let dash = Dashboard::serve_quietly().unwrap();
    // A browser's preconnected socket: open, silent.
    let idle = TcpStream::connect_timeout(&dash.local_addr(), LIMIT).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    drop(dash);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "drop took {:?}",
        started.elapsed()
    );
    drop(idle);
}

/// A client that sends one byte every `every` until `stop` is set or its connection
/// fails (it never sends a whole request).
fn trickle(
    addr: SocketAddr,
    every: Duration,
    stop: &Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    let mut stream = TcpStream::connect_timeout(&addr, LIMIT).expect("connect");
    let stop = stop.clone();
    std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(30);
        while !stop.load(Ordering::Relaxed) && Instant::now() < until {
            if stream.write_all(b"X").is_err() {
                return;
            }
            std::thread::sleep(every);
        }
    })
}

/// The status of a GET, or `None` when the connection failed before a whole response.
fn try_status(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&addr, LIMIT).ok()?;
    stream.set_read_timeout(Some(LIMIT)).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    String::from_utf8_lossy(&raw)
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
}

#[test]
fn a_trickling_client_does_not_hold_up_the_drop() {
    within("drop with a trickling client", || {
        let dash = Dashboard::serve_quietly().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        // One byte every 50 ms: never a pause long enough to end a read, never a request.
        let client = trickle(dash.local_addr(), Duration::from_millis(50), &stop);
        std::thread::sleep(Duration::from_millis(300));
        let started = Instant::now();
        drop(dash);
        let took = started.elapsed();
        stop.store(true, Ordering::Relaxed);
        client.join().unwrap();
        assert!(took < Duration::from_secs(2), "drop took {took:?}");
    });
}

#[test]
fn slow_clients_do_not_starve_a_valid_request() {
    within("a valid request among slow clients", || {
        let dash = Dashboard::serve_quietly().unwrap();
        let (addr, token) = (dash.local_addr(), token(&dash));
        let stop = Arc::new(AtomicBool::new(false));
        // As many trickling clients as the server serves at once: the next one waits.
        let started = Instant::now();
        let clients: Vec<_> = (0..32)
            .map(|_| trickle(addr, Duration::from_millis(50), &stop))
            .collect();
        // Each may take at most 5 s to send its request: then its place is free again.
        let path = format!("/api/update?token={token}");
        let mut seen = Vec::new();
        let served = loop {
            let status = try_status(addr, &path);
            seen.push(status);
            if status == Some(200) {
                break Some(started.elapsed());
            }
            if started.elapsed() > Duration::from_secs(8) {
                break None;
            }
            std::thread::sleep(Duration::from_millis(250));
        };
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            c.join().unwrap();
        }
        let served = served.unwrap_or_else(|| panic!("no 200 within 8 s: {seen:?}"));
        // Refused while full, with a whole response rather than a reset.
        assert!(
            seen.iter().all(|s| matches!(s, Some(200 | 503))),
            "{seen:?}"
        );
        assert!(served < Duration::from_secs(8), "served after {served:?}");
        let started = Instant::now();
        drop(dash);
        assert!(started.elapsed() < Duration::from_secs(2));
    });
}

#[test]
fn over_the_limit_a_client_gets_503_not_a_reset() {
    within("503 when full", || {
        let dash = Dashboard::serve_quietly().unwrap();
        let (addr, token) = (dash.local_addr(), token(&dash));
        // Silent connections hold every place (each for up to 5 s).
        let silent: Vec<TcpStream> = (0..32)
            .map(|_| TcpStream::connect_timeout(&addr, LIMIT).unwrap())
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        for _ in 0..3 {
            let mut stream = TcpStream::connect_timeout(&addr, LIMIT).unwrap();
            stream.set_read_timeout(Some(LIMIT)).unwrap();
            // A request with a body, sent a moment after its head (as a client uploading
            // does): the server must read both before it closes, or the unread bytes make
            // the kernel reset the connection, losing the reply. (Sent in one write, the
            // request passed against a server that read nothing.)
            let body = "b".repeat(4000);
            let head = format!(
                "GET /api/update?token={token} HTTP/1.1\r\nHost: {addr}\r\n\
                 Content-Length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            std::thread::sleep(Duration::from_millis(20));
            let sent = stream.write_all(body.as_bytes());
            assert!(sent.is_ok(), "the body: {sent:?}");
            let mut reply = Vec::new();
            let read = stream.read_to_end(&mut reply);
            let text = String::from_utf8_lossy(&reply);
            assert!(read.is_ok(), "{read:?} after {text:?}");
            assert!(text.starts_with("HTTP/1.1 503"), "{text}");
            assert!(text.ends_with("too many connections\n"), "{text}");
        }
        drop(silent);
        let started = Instant::now();
        drop(dash);
        assert!(started.elapsed() < Duration::from_secs(2));
    });
}

/// Runs a computation whose reopened view (`/api/computation/1`) is many megabytes:
/// 300 tasks under an 8 KB name, each in the graph and the bars with its key.
fn big_computation(dash: &Dashboard) -> String {
    let name: &'static str = Box::leak("long-name-".repeat(800).into_boxed_str());
    let none: &[Delayed<u64>] = &[];
    let tasks: Vec<Delayed<u64>> = (0..300u64)
        .map(|i| dask::map_many_pure(name, i, none, move |_: &[&u64]| i))
        .collect();
    let config = Config::default()
        .scheduler(Scheduler::Threads(2))
        .dashboard(dash);
    assert_eq!(dask::compute_with(&tasks, &config).unwrap().len(), 300);
    format!("/api/computation/1?token={}", token(dash))
}

/// Sends a GET and reads the response's head; returns the stream and the body's length.
fn open_response(addr: SocketAddr, path: &str) -> (TcpStream, usize) {
    let mut stream = TcpStream::connect_timeout(&addr, LIMIT).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("a response head");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|l| l.trim().parse().ok())
        .expect("a length");
    (stream, length)
}

#[test]
fn a_slow_reader_does_not_hold_up_the_drop() {
    within("drop with a slow reader", || {
        let dash = Dashboard::serve_quietly().unwrap();
        let path = big_computation(&dash);
        let (mut stream, length) = open_response(dash.local_addr(), &path);
        assert!(length > 4_000_000, "{length} bytes");
        // Reads a little, then nothing: the server's write waits for room.
        let mut some = [0u8; 4096];
        stream.read_exact(&mut some).unwrap();
        std::thread::sleep(Duration::from_millis(500));
        let started = Instant::now();
        drop(dash);
        let took = started.elapsed();
        drop(stream);
        assert!(took < Duration::from_secs(2), "drop took {took:?}");
    });
}

#[test]
fn a_slow_reader_is_cut_off_after_the_time_limit() {
    within("a slow reader", || {
        let dash = Dashboard::serve_quietly().unwrap();
        let path = big_computation(&dash);
        let started = Instant::now();
        let (mut stream, length) = open_response(dash.local_addr(), &path);
        // 64 KiB every half second for 7 s: each read makes room, so every write of
        // the server goes on, but the whole would take over a minute. Then as fast as
        // it comes: only what the server sent within its 5 s is left to read.
        let mut chunk = vec![0u8; 64 * 1024];
        let mut got = 0;
        loop {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "still sending after 30 s ({got} of {length} bytes)"
            );
            if started.elapsed() < Duration::from_secs(7) {
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        assert!(got < length, "all {length} bytes sent to a slow reader");
        drop(dash);
    });
}

/// An address that resolves to several, as `localhost` does to `[::1]` and `127.0.0.1`
/// where the machine has both.
struct Several(Vec<SocketAddr>);

impl std::net::ToSocketAddrs for Several {
    type Iter = std::vec::IntoIter<SocketAddr>;
    fn to_socket_addrs(&self) -> std::io::Result<Self::Iter> {
        Ok(self.0.clone().into_iter())
    }
}

impl std::fmt::Display for Several {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "several:{:?}", self.0)
    }
}

#[test]
fn each_resolved_loopback_address_is_tried_in_turn() {
    within("binding in turn", || {
        let taken = TcpListener::bind("127.0.0.1:0").unwrap();
        let taken = taken.local_addr().map(|a| (taken, a)).unwrap();
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        // The first address is taken: the next one is served.
        let dash = Dashboard::serve(Several(vec![taken.1, any])).expect("the second address");
        assert_ne!(dash.local_addr(), taken.1);
        assert!(dash.local_addr().ip().is_loopback());
        assert_eq!(get(dash.local_addr(), "/").status, 403);
        // Only the loopback ones: the other is skipped, never served.
        let elsewhere = SocketAddr::from(([192, 0, 2, 1], 0));
        let dash = Dashboard::serve(Several(vec![elsewhere, any])).expect("loopback only");
        assert!(dash.local_addr().ip().is_loopback());
        assert!(matches!(
            Dashboard::serve(Several(vec![elsewhere])),
            Err(DashboardError::NotLoopback { .. })
        ));
        // None free: the error names what was tried.
        let err = Dashboard::serve(Several(vec![taken.1, taken.1])).unwrap_err();
        assert!(matches!(err, DashboardError::Bind { .. }), "{err:?}");
        assert!(
            err.to_string().contains(&format!("{0} or {0}", taken.1)),
            "{err}"
        );
    });
}
