//! The HTTP side: who may ask (the token), what may be asked (GET of a few fixed
//! paths), and the event stream.
//!
//! A small HTTP/1.1 server on the standard library's sockets, for a handful of
//! loopback clients: one thread per connection, one request per connection
//! (`Connection: close`), request heads of at most 8 KiB, at most [`MAX_CONNECTIONS`] at
//! once. Owning the sockets is what lets the dashboard stop for good when dropped: the
//! listener is closed, every event stream's socket is shut, and every thread is joined
//! (an HTTP library that keeps idle keep-alive connections on threads of its own could
//! not promise that).
//!
//! No client can hold anything up: each has [`IO_TIMEOUT`] in all to send its request
//! head and as much again to take each response (however its bytes trickle: a deadline,
//! not a timeout per read or write), and every socket call waits at most [`SLICE`], after
//! which a stopped dashboard is noticed. So a slow or hostile client frees its place
//! within the deadlines, and dropping the dashboard returns within a fraction of a
//! second whatever the clients do.
//!
//! Nothing a client sends changes anything: every route reads. Responses forbid
//! framing, sniffing, caching and referrers (the token is in the page's URL), and the
//! page's content security policy allows only its own script and style.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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

/// How long a client may take to send its request head, or to take a response's bytes
/// (each event of a stream): in all, not per read or write.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest one read or write waits: between two, the deadline and the stop signal
/// are checked.
const SLICE: Duration = Duration::from_millis(100);

/// Connections refused with 503 at once (each on a short-lived thread of its own, which
/// reads the request before answering); beyond, a refusal is written without waiting.
const MAX_REFUSING: usize = MAX_CONNECTIONS;

/// How long a refused connection is given to send its request, and then to take the
/// 503.
const REFUSE_TIME: Duration = Duration::from_millis(300);

/// What [`drain`] reads at most: the bytes,
const DRAIN_BYTES: usize = 64 * 1024;
/// the time in all (however the bytes trickle),
const DRAIN_TIME: Duration = Duration::from_millis(300);
/// and the silence that ends it sooner.
const DRAIN_PAUSE: Duration = Duration::from_millis(100);

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
    let mut refusals: Vec<JoinHandle<()>> = Vec::new();
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
            // Answered on a thread of its own: the accept loop never waits for a client.
            refusals.retain(|r| !r.is_finished());
            if refusals.len() >= MAX_REFUSING {
                refuse_now(&stream);
                continue;
            }
            let site = site.clone();
            if let Ok(thread) = std::thread::Builder::new()
                .name("dask-dashboard-refusal".into())
                .spawn(move || refuse(&stream, &site.broadcast))
            {
                refusals.push(thread);
            }
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
    for c in connections.into_iter().chain(refusals) {
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
    stream.set_read_timeout(Some(SLICE))?;
    stream.set_write_timeout(Some(SLICE))
}

/// What is left before `deadline`, at most [`SLICE`]: how long the next read or write
/// may wait. `None` once the deadline has passed or the dashboard is stopping.
fn next_wait(deadline: Instant, broadcast: &Broadcast) -> Option<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    (!left.is_zero() && !broadcast.stopped()).then(|| left.min(SLICE))
}

/// Whether a read or write that failed with `e` may be tried again (it waited its
/// slice, or was interrupted).
fn again(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock
            | std::io::ErrorKind::TimedOut
            | std::io::ErrorKind::Interrupted
    )
}

/// Writes all of `bytes` by `deadline`, however slowly the client takes them; fails
/// with `TimedOut` when the deadline passes or the dashboard stops first.
fn write_by(
    mut stream: &TcpStream,
    mut bytes: &[u8],
    deadline: Instant,
    broadcast: &Broadcast,
) -> std::io::Result<()> {
    while !bytes.is_empty() {
        let wait = next_wait(deadline, broadcast).ok_or(std::io::ErrorKind::TimedOut)?;
        stream.set_write_timeout(Some(wait))?;
        match stream.write(bytes) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if again(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads what the client still sends (a little, briefly: at most [`DRAIN_BYTES`],
/// [`DRAIN_TIME`] in all, until a [`DRAIN_PAUSE`] of silence) before the socket closes:
/// closing with unread bytes resets the connection, and the client could lose the
/// response it has not read yet.
fn drain(mut stream: &TcpStream, broadcast: &Broadcast) {
    let deadline = Instant::now() + DRAIN_TIME;
    let mut buf = [0u8; 4096];
    let mut left = DRAIN_BYTES;
    while left > 0 {
        let Some(wait) = next_wait(deadline, broadcast) else {
            return;
        };
        if stream
            .set_read_timeout(Some(wait.min(DRAIN_PAUSE)))
            .is_err()
        {
            return;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => left = left.saturating_sub(n),
        }
    }
}

/// Answers a connection over [`MAX_CONNECTIONS`] with 503, after reading its request
/// head (what arrives within [`REFUSE_TIME`]), so that the client gets the answer
/// rather than a reset.
fn refuse(stream: &TcpStream, broadcast: &Broadcast) {
    if prepare(stream).is_err() {
        return;
    }
    let _ = read_head(stream, Instant::now() + REFUSE_TIME, broadcast);
    let body = REFUSED_BODY.as_bytes();
    let head = head(503, TEXT, Some(body.len()), &[]);
    if send(
        stream,
        &[head.as_bytes(), body],
        Instant::now() + REFUSE_TIME,
        broadcast,
    )
    .is_ok()
    {
        drain(stream, broadcast);
    }
}

/// [`refuse`] on the accept thread, when too many refusals are under way: the 503 is
/// written if the socket takes it at once, and the connection closed.
fn refuse_now(mut stream: &TcpStream) {
    let response = head(503, TEXT, Some(REFUSED_BODY.len()), &[]) + REFUSED_BODY;
    if stream.set_nonblocking(true).is_ok() {
        let _ = stream.write(response.as_bytes());
        let _ = stream.shutdown(Shutdown::Write);
    }
}

const REFUSED_BODY: &str = "too many connections\n";

/// A request as far as this server reads it.
struct Request {
    method: String,
    target: String,
    cookies: Vec<String>,
}

/// Reads a request head (up to its blank line) by `deadline`; `None` when it is too
/// long, too slow, cut short, or the dashboard stops meanwhile. Each read waits at most
/// [`SLICE`], so that a dropped dashboard does not wait for a browser's idle
/// preconnected socket, nor for a client that trickles bytes.
fn read_head(mut stream: &TcpStream, deadline: Instant, broadcast: &Broadcast) -> Option<Vec<u8>> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > MAX_HEAD {
            return None;
        }
        stream
            .set_read_timeout(Some(next_wait(deadline, broadcast)?))
            .ok()?;
        match stream.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
            Err(e) if again(&e) => {}
            Err(_) => return None,
        }
    }
    Some(head)
}

/// Reads and parses the request head; `None` when it is malformed, too long or not
/// whole by `deadline`.
fn read_request(stream: &TcpStream, deadline: Instant, broadcast: &Broadcast) -> Option<Request> {
    let head = read_head(stream, deadline, broadcast)?;
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

/// Writes `parts` by `deadline`, then tells the client the response is whole (the
/// socket closes on drop).
fn send(
    stream: &TcpStream,
    parts: &[&[u8]],
    deadline: Instant,
    broadcast: &Broadcast,
) -> std::io::Result<()> {
    for part in parts {
        write_by(stream, part, deadline, broadcast)?;
    }
    stream.shutdown(Shutdown::Write)
}

/// One connection's socket, and the stop signal its waits heed.
struct Client<'a> {
    stream: &'a TcpStream,
    broadcast: &'a Broadcast,
}

impl Client<'_> {
    /// Sends a whole response, which the client has [`IO_TIMEOUT`] to take.
    fn respond(
        &self,
        status: u16,
        content_type: &str,
        body: &[u8],
        extra: &[(&str, &str)],
    ) -> std::io::Result<()> {
        let head = head(status, content_type, Some(body.len()), extra);
        let deadline = Instant::now() + IO_TIMEOUT;
        send(
            self.stream,
            &[head.as_bytes(), body],
            deadline,
            self.broadcast,
        )
    }
}

const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json";

/// Serves one connection: one request, one response (or an event stream).
fn connection(stream: TcpStream, site: &Site) {
    let accepted = Instant::now();
    if prepare(&stream).is_err() {
        return;
    }
    let client = Client {
        stream: &stream,
        broadcast: &site.broadcast,
    };
    let streaming = answer(&client, site, accepted + IO_TIMEOUT);
    if !streaming {
        // What the request still carries (a body this server does not read) is read
        // before the socket closes, so that the client gets the answer, not a reset.
        drain(&stream, &site.broadcast);
    }
}

/// Reads the request (its head by `deadline`) and answers it; returns whether it was an
/// event stream (which ends with its socket shut).
fn answer(client: &Client<'_>, site: &Site, deadline: Instant) -> bool {
    let Some(request) = read_request(client.stream, deadline, &site.broadcast) else {
        let _ = client.respond(400, TEXT, b"bad request\n", &[]);
        return false;
    };
    let cookies: Vec<&str> = request.cookies.iter().map(String::as_str).collect();
    if !site.token.admits(&request.target, &cookies) {
        let body = b"forbidden: this dashboard needs the token printed in its URL\n";
        let _ = client.respond(403, TEXT, body, &[]);
        return false;
    }
    if request.method != "GET" {
        let _ = client.respond(405, TEXT, b"only GET\n", &[("Allow", "GET")]);
        return false;
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
            client.respond(
                200,
                "text/html; charset=utf-8",
                INDEX_HTML.as_bytes(),
                &[("Set-Cookie", &cookie)],
            )
        }
        "/dashboard.js" => client.respond(
            200,
            "text/javascript; charset=utf-8",
            SCRIPT.as_bytes(),
            &[],
        ),
        "/dashboard.css" => client.respond(200, "text/css; charset=utf-8", STYLE.as_bytes(), &[]),
        "/icon.svg" => client.respond(200, "image/svg+xml", ICON.as_bytes(), &[]),
        "/api/update" => client.respond(200, JSON, site.broadcast.latest().1.as_bytes(), &[]),
        "/api/stream" => {
            let (now, bars) = site.live.recent_bars(RECENT_NS);
            let body = json::to_safe_text(&json::recent(now, &bars));
            client.respond(200, JSON, body.as_bytes(), &[])
        }
        "/events" => {
            event_stream(client.stream, &site.broadcast);
            return true;
        }
        _ => match path
            .strip_prefix("/api/computation/")
            .and_then(|id| id.parse().ok())
        {
            Some(id) => match site.live.computation(id) {
                Some(opened) => {
                    let body = json::to_safe_text(&json::opened(id, &opened));
                    client.respond(200, JSON, body.as_bytes(), &[])
                }
                None => client.respond(
                    404,
                    TEXT,
                    b"no such computation (only the last ones are kept)\n",
                    &[],
                ),
            },
            None => client.respond(404, TEXT, b"not found\n", &[]),
        },
    };
    false
}

/// One page's event stream: every update as it is published, until the page goes or the
/// dashboard stops. The page has [`IO_TIMEOUT`] to take each event; one that falls
/// further behind is closed.
fn event_stream(stream: &TcpStream, broadcast: &Broadcast) {
    let write = |parts: &[&[u8]]| {
        let deadline = Instant::now() + IO_TIMEOUT;
        parts
            .iter()
            .try_for_each(|part| write_by(stream, part, deadline, broadcast))
    };
    if write(&[head(200, "text/event-stream", None, &[]).as_bytes()]).is_err() {
        let _ = stream.shutdown(Shutdown::Both);
        return;
    }
    let (mut seen, first) = broadcast.latest();
    let mut next = Some((seen, first));
    loop {
        let written = match next.take() {
            Some((number, update)) => {
                seen = number;
                write(&[b"data: ", update.as_bytes(), b"\n\n"])
            }
            None if broadcast.stopped() => break,
            None => write(&[b": keepalive\n\n"]),
        };
        if written.is_err() {
            break;
        }
        next = broadcast.next_after(seen, KEEPALIVE);
        if broadcast.stopped() {
            break;
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
}
