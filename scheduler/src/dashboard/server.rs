//! The HTTP side: who may ask (the token), what may be asked (GET of a few fixed
//! paths), and the event stream.
//!
//! A small HTTP/1.1 server on the standard library's sockets, for a handful of
//! loopback clients: one thread per connection, one request per connection
//! (`Connection: close`), request heads of at most 8 KiB, read and write timeouts, at
//! most [`MAX_CONNECTIONS`] at once. Owning the sockets is what lets the dashboard stop
//! for good when dropped: the listener is closed, every event stream's socket is shut,
//! and every thread is joined (an HTTP library that keeps idle keep-alive
//! connections on threads of its own could not promise that).
//!
//! Nothing a client sends changes anything: every route reads. Responses forbid
//! framing, sniffing, caching and referrers (the token is in the page's URL), and the
//! page's content security policy allows only its own script and style.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::events::Broadcast;
use super::json;
use super::live::Live;
use super::token::{Token, COOKIE_NAME};

const INDEX_HTML: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/dashboard.js");
const STYLE: &str = include_str!("assets/dashboard.css");
const ICON: &str = include_str!("assets/icon.svg");

/// Connections served at once (event streams included); a further one gets 503.
pub(crate) const MAX_CONNECTIONS: usize = 32;

/// The longest request head read (request line and headers).
const MAX_HEAD: usize = 8 * 1024;

/// How long a client may take to send its request, or to take a response's bytes.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// How often a quiet stream sends a comment, so that a closed page is noticed.
const KEEPALIVE: Duration = Duration::from_secs(5);

/// The task stream's window: what `/api/stream` gives a page that opens.
const RECENT_NS: u64 = 10_000_000_000;

/// How long the accept loop waits after a failed `accept` (a connection reset before it
/// was taken, descriptors exhausted) before it tries again.
const POLL: Duration = Duration::from_millis(50);

/// What every request handler shares.
pub(crate) struct Site {
    pub(crate) live: Arc<Live>,
    pub(crate) broadcast: Arc<Broadcast>,
    pub(crate) token: Token,
}

/// Accepts connections until the broadcast is stopped, then closes the listener and
/// waits for every connection's thread.
///
/// `accept` blocks: the thread costs nothing between connections (polling a
/// non-blocking listener 20 times a second cost the kernel a socket allocated and
/// freed each time, most of what an idle dashboard spent). Dropping the `Dashboard`
/// sets the stop signal and then connects to the port itself (see [`wake`]), which
/// ends the wait.
pub(crate) fn serve(listener: TcpListener, site: Arc<Site>) {
    let mut connections: Vec<JoinHandle<()>> = Vec::new();
    loop {
        let accepted = listener.accept();
        if site.broadcast.stopped() {
            break;
        }
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // A connection reset before it was accepted, or out of descriptors: wait
            // rather than spin.
            Err(_) => {
                std::thread::sleep(POLL);
                continue;
            }
        };
        connections.retain(|c| !c.is_finished());
        if connections.len() >= MAX_CONNECTIONS {
            let _ = prepare(&stream).and_then(|()| {
                respond(
                    &stream,
                    503,
                    "text/plain; charset=utf-8",
                    b"too many connections\n",
                    &[],
                )
            });
            continue;
        }
        let site = site.clone();
        if let Ok(thread) = std::thread::Builder::new()
            .name("dask-dashboard-connection".into())
            .spawn(move || connection(stream, &site))
        {
            connections.push(thread);
        }
    }
    drop(listener);
    for c in connections {
        let _ = c.join();
    }
}

/// Wakes the accept loop of the dashboard served on `addr` (after its stop signal was
/// set) by connecting to it; returns whether the connection was made, and so whether
/// the loop will see the signal now.
pub(crate) fn wake(addr: SocketAddr) -> bool {
    let mut target = addr;
    // Served on every interface: its loopback address reaches it.
    if addr.ip().is_unspecified() {
        target.set_ip(match addr {
            SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
        });
    }
    TcpStream::connect_timeout(&target, WAKE_TIMEOUT).is_ok()
}

/// How long [`wake`] tries to connect.
const WAKE_TIMEOUT: Duration = Duration::from_secs(2);

fn prepare(stream: &TcpStream) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))
}

/// Reads what the client still sends (a little, briefly) before the socket closes:
/// closing with unread bytes resets the connection, and the client could lose the
/// response it has not read yet.
fn drain(mut stream: &TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut buf = [0u8; 4096];
    let mut left: usize = 64 * 1024;
    while left > 0 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => left = left.saturating_sub(n),
        }
    }
}

/// A request as far as this server reads it.
struct Request {
    method: String,
    target: String,
    cookies: Vec<String>,
}

/// Reads the request head; `None` when it is malformed, too long or too slow.
/// Waits in short reads, so that a dropped dashboard does not wait for a browser's idle
/// preconnected socket to time out.
fn read_request(mut stream: &TcpStream, broadcast: &Broadcast) -> Option<Request> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    stream.set_read_timeout(Some(POLL * 4)).ok()?;
    let started = std::time::Instant::now();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > MAX_HEAD || broadcast.stopped() || started.elapsed() > IO_TIMEOUT {
            return None;
        }
        match stream.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return None,
        }
    }
    stream.set_read_timeout(Some(IO_TIMEOUT)).ok()?;
    let text = std::str::from_utf8(&head).ok()?;
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let (method, target, version) = (
        request_line.next()?,
        request_line.next()?,
        request_line.next()?,
    );
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return None;
    }
    let cookies = lines
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("cookie"))
        .map(|(_, value)| value.trim().to_owned())
        .collect();
    Some(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        cookies,
    })
}

const SECURITY_HEADERS: [(&str, &str); 6] = [
    (
        "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
         img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
];

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

fn head(status: u16, content_type: &str, length: Option<usize>, extra: &[(&str, &str)]) -> String {
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nConnection: close\r\n",
        reason(status)
    );
    if let Some(length) = length {
        head.push_str(&format!("Content-Length: {length}\r\n"));
    }
    for (name, value) in SECURITY_HEADERS.iter().chain(extra) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head
}

fn respond(
    mut stream: &TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    extra: &[(&str, &str)],
) -> std::io::Result<()> {
    stream.write_all(head(status, content_type, Some(body.len()), extra).as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;
    // Tell the client the response is whole; the socket closes on drop.
    stream.shutdown(Shutdown::Write)
}

const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json";

/// Serves one connection: one request, one response (or an event stream).
fn connection(stream: TcpStream, site: &Site) {
    if prepare(&stream).is_err() {
        return;
    }
    let Some(request) = read_request(&stream, &site.broadcast) else {
        let _ = respond(&stream, 400, TEXT, b"bad request\n", &[]);
        drain(&stream);
        return;
    };
    let cookies: Vec<&str> = request.cookies.iter().map(String::as_str).collect();
    if !site.token.admits(&request.target, &cookies) {
        let body = b"forbidden: this dashboard needs the token printed in its URL\n";
        let _ = respond(&stream, 403, TEXT, body, &[]);
        return;
    }
    if request.method != "GET" {
        let _ = respond(&stream, 405, TEXT, b"only GET\n", &[("Allow", "GET")]);
        return;
    }
    let path = request
        .target
        .split_once('?')
        .map_or(request.target.as_str(), |(p, _)| p);
    let _ = match path {
        "/" | "/index.html" => {
            let cookie = format!(
                "{COOKIE_NAME}={}; Path=/; HttpOnly; SameSite=Strict",
                site.token.as_str()
            );
            respond(
                &stream,
                200,
                "text/html; charset=utf-8",
                INDEX_HTML.as_bytes(),
                &[("Set-Cookie", &cookie)],
            )
        }
        "/dashboard.js" => respond(
            &stream,
            200,
            "text/javascript; charset=utf-8",
            SCRIPT.as_bytes(),
            &[],
        ),
        "/dashboard.css" => respond(
            &stream,
            200,
            "text/css; charset=utf-8",
            STYLE.as_bytes(),
            &[],
        ),
        "/icon.svg" => respond(&stream, 200, "image/svg+xml", ICON.as_bytes(), &[]),
        "/api/update" => respond(
            &stream,
            200,
            JSON,
            site.broadcast.latest().1.as_bytes(),
            &[],
        ),
        "/api/stream" => {
            let (now, bars) = site.live.recent_bars(RECENT_NS);
            let body = json::to_safe_text(&json::recent(now, &bars));
            respond(&stream, 200, JSON, body.as_bytes(), &[])
        }
        "/events" => {
            event_stream(&stream, &site.broadcast);
            Ok(())
        }
        _ => match path
            .strip_prefix("/api/computation/")
            .and_then(|id| id.parse().ok())
        {
            Some(id) => match site.live.computation(id) {
                Some(opened) => {
                    let body = json::to_safe_text(&json::opened(id, &opened));
                    respond(&stream, 200, JSON, body.as_bytes(), &[])
                }
                None => respond(
                    &stream,
                    404,
                    TEXT,
                    b"no such computation (only the last ones are kept)\n",
                    &[],
                ),
            },
            None => respond(&stream, 404, TEXT, b"not found\n", &[]),
        },
    };
}

/// One page's event stream: every update as it is published, until the page goes or the
/// dashboard stops.
fn event_stream(mut stream: &TcpStream, broadcast: &Broadcast) {
    let head = head(200, "text/event-stream", None, &[]);
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    let (mut seen, first) = broadcast.latest();
    let mut next = Some((seen, first));
    loop {
        let written = match next.take() {
            Some((number, update)) => {
                seen = number;
                write!(stream, "data: {update}\n\n")
            }
            None if broadcast.stopped() => break,
            None => stream.write_all(b": keepalive\n\n"),
        };
        if written.and_then(|()| stream.flush()).is_err() {
            return;
        }
        next = broadcast.next_after(seen, KEEPALIVE);
        if broadcast.stopped() {
            break;
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
}
