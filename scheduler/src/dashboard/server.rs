//! The HTTP side: who may ask (the token), what may be asked (GET of a few fixed
//! paths), and the event stream.
//!
//! Nothing a client sends changes anything: every route reads. Responses forbid
//! framing, sniffing, caching and referrers (the token is in the page's URL), and the
//! page's content security policy allows only its own script and style.

use std::io::Write;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tiny_http::{Header, Method, Request, Response, Server, StatusCode};

use super::events::Broadcast;
use super::json;
use super::live::Live;
use super::token::{Token, COOKIE_NAME};

const INDEX_HTML: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/dashboard.js");
const STYLE: &str = include_str!("assets/dashboard.css");

/// Open event streams at most; a further page gets 503 (each stream is a thread).
pub(crate) const MAX_STREAMS: usize = 16;

/// How often a quiet stream sends a comment, so that a closed page is noticed.
const KEEPALIVE: Duration = Duration::from_secs(5);

/// How often the request loop looks at the stop signal.
const POLL: Duration = Duration::from_millis(50);

/// What every request handler shares.
pub(crate) struct Site {
    pub(crate) live: Arc<Live>,
    pub(crate) broadcast: Arc<Broadcast>,
    pub(crate) token: Token,
}

/// Serves requests until the broadcast is stopped, then waits for the streams to end.
/// The server (and with it the listening socket) is dropped on return.
pub(crate) fn serve(server: Server, site: Arc<Site>) {
    let mut streams: Vec<JoinHandle<()>> = Vec::new();
    while !site.broadcast.stopped() {
        let request = match server.recv_timeout(POLL) {
            Ok(Some(request)) => request,
            Ok(None) => continue,
            // A connection that failed before sending a request.
            Err(_) => continue,
        };
        streams.retain(|s| !s.is_finished());
        if let Some(stream) = handle(request, &site, streams.len()) {
            streams.push(stream);
        }
    }
    for stream in streams {
        let _ = stream.join();
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("ASCII header")
}

fn guarded(response: Response<std::io::Cursor<Vec<u8>>>) -> Response<std::io::Cursor<Vec<u8>>> {
    SECURITY_HEADERS
        .iter()
        .fold(response, |r, (name, value)| r.with_header(header(name, value)))
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

fn text(status: u16, content_type: &str, body: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    guarded(
        Response::from_data(body.as_bytes().to_vec())
            .with_status_code(StatusCode(status))
            .with_header(header("Content-Type", content_type)),
    )
}

/// Answers one request; returns the thread of an event stream it opened.
fn handle(request: Request, site: &Arc<Site>, open_streams: usize) -> Option<JoinHandle<()>> {
    let url = request.url().to_owned();
    let cookies: Vec<&str> = request
        .headers()
        .iter()
        .filter(|h| h.field.equiv("Cookie"))
        .map(|h| h.value.as_str())
        .collect();
    if !site.token.admits(&url, &cookies) {
        let _ = request.respond(text(403, "text/plain; charset=utf-8", "forbidden: this dashboard needs the token printed in its URL\n"));
        return None;
    }
    if request.method() != &Method::Get {
        let _ = request.respond(
            text(405, "text/plain; charset=utf-8", "only GET\n").with_header(header("Allow", "GET")),
        );
        return None;
    }
    let path = url.split_once('?').map_or(url.as_str(), |(p, _)| p);
    let response = match path {
        "/" | "/index.html" => text(200, "text/html; charset=utf-8", INDEX_HTML).with_header(
            header(
                "Set-Cookie",
                &format!(
                    "{COOKIE_NAME}={}; Path=/; HttpOnly; SameSite=Strict",
                    site.token.as_str()
                ),
            ),
        ),
        "/dashboard.js" => text(200, "text/javascript; charset=utf-8", SCRIPT),
        "/dashboard.css" => text(200, "text/css; charset=utf-8", STYLE),
        "/api/update" => text(200, "application/json", &site.broadcast.latest().1),
        "/events" => {
            if open_streams >= MAX_STREAMS {
                text(503, "text/plain; charset=utf-8", "too many open dashboard pages\n")
            } else {
                let site = site.clone();
                return std::thread::Builder::new()
                    .name("dask-dashboard-stream".into())
                    .spawn(move || stream(request, &site))
                    .ok();
            }
        }
        _ => match path.strip_prefix("/api/computation/").and_then(|id| id.parse().ok()) {
            Some(id) => match site.live.computation(id) {
                Some(opened) => text(
                    200,
                    "application/json",
                    &json::to_safe_text(&json::opened(id, &opened)),
                ),
                None => text(404, "text/plain; charset=utf-8", "no such computation (only the last ones are kept)\n"),
            },
            None => text(404, "text/plain; charset=utf-8", "not found\n"),
        },
    };
    let _ = request.respond(response);
    None
}

/// One page's event stream: every update as it is published, until the page goes or the
/// dashboard stops.
fn stream(request: Request, site: &Site) {
    let mut out = request.into_writer();
    let mut head = String::from("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n");
    for (name, value) in SECURITY_HEADERS {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    if out.write_all(head.as_bytes()).and_then(|()| out.flush()).is_err() {
        return;
    }
    let (mut seen, first) = site.broadcast.latest();
    let mut next = Some((seen, first));
    loop {
        let written = match next.take() {
            Some((number, update)) => {
                seen = number;
                write!(out, "data: {update}\n\n")
            }
            None if site.broadcast.stopped() => return,
            None => out.write_all(b": keepalive\n\n"),
        };
        if written.and_then(|()| out.flush()).is_err() {
            return;
        }
        next = site.broadcast.next_after(seen, KEEPALIVE);
        if site.broadcast.stopped() {
            return;
        }
    }
}
