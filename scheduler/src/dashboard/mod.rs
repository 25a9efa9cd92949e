//! The live dashboard (feature `dashboard`): watch computations in the browser while
//! they run.
//!
//! ```no_run
//! use dask::{Config, Dashboard};
//!
//! let dash = Dashboard::serve("127.0.0.1:8787")?; // prints its URL, with a token
//! let config = Config::default().dashboard(&dash);
//! let total = dask::delayed(20u64).map(|v| v + 1);
//! assert_eq!(total.compute_with(&config)?, 21);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The page shows the task stream (a row per worker, a bar per task coloured by
//! function, hover for key, time and result size), progress per function (done /
//! total, failed in red), each worker's occupancy, memory (the process's resident size
//! and the bytes of results held, where sizes are known), the graph coloured by state,
//! and the computations running and past with their figures, each past one reopenable.
//! It updates ten times a second while a computation runs.
//!
//! How it is built, one idea per file:
//! - `live.rs`: the observers the executor's hooks feed: one per computation (a `Run`),
//!   so that computations running at once stay apart, with per-worker shards
//!   (`shard.rs`) and a bounded ring of bars per worker (`stream.rs`), and the history
//!   of past computations;
//! - `held.rs`: the bytes of results held, from the sizes the tasks that can tell give
//!   (array blocks, Arrow batches; see `crate::result_size`) and the `task_done` events;
//! - `graph.rs`: the plan's structure, taken once by the planning hook
//!   ([`planned`]), node by node or collapsed by function;
//! - `events.rs`: the update thread and the server-sent event broadcast;
//! - `server.rs`: HTTP on the standard library's sockets, the token (`token.rs`), the routes;
//! - `json.rs`: what the page receives; `rss.rs`: the process's memory;
//! - `assets/`: the page (HTML, JavaScript, CSS), compiled into the library.
//!
//! What it cannot show:
//! - the size of results whose tasks cannot tell it: `#[delayed]` functions and
//!   `map`/`map_many_pure` closures return any type, so their results count in the
//!   process's resident size only;
//! - on the cluster backend, the workers of other processes on any dashboard but
//!   process 0's: when process 0's computation has a dashboard attached, every other
//!   process (with a dashboard or not) reports where and when each of its tasks ran to
//!   process 0 (a message per task), whose dashboard then shows that process's workers
//!   as `p1/w0`, ... (bars placed from each process's own start of the computation:
//!   clocks of different machines are not compared). Processes other than 0 show their
//!   own tasks only;
//! - a computation started inside a task of a watched one (a nested `compute`) apart
//!   from it: it counts in the outer one's figures. Computations started at once from
//!   different threads are each their own entry; the live view follows the one started
//!   last, and the list of computations shows every running one.

mod error;
mod events;
mod graph;
mod held;
mod json;
mod live;
mod rss;
mod server;
mod shard;
mod stream;
mod token;

pub use error::DashboardError;

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;
use std::thread::JoinHandle;

use events::Broadcast;
use live::Live;
use server::Site;
use token::Token;

/// A live view of computations, served over HTTP by this process.
///
/// [`serve`](Self::serve) binds a loopback address and prints the page's URL, which
/// carries a random token: every request without it gets 403. Pass the dashboard to
/// the computations to watch with [`Config::dashboard`](crate::Config::dashboard).
/// Dropping it stops the server and frees its port.
///
/// ```
/// use dask::{Config, Dashboard};
///
/// let dash = Dashboard::serve("127.0.0.1:0")?; // port 0: any free port
/// assert!(dash.url().starts_with("http://127.0.0.1:"));
/// let config = Config::default().dashboard(&dash);
/// let total = dask::delayed(20u64).map(|v| v + 1);
/// assert_eq!(total.compute_with(&config)?, 21);
/// # Ok::<(), dask::Error>(())
/// ```
pub struct Dashboard {
    live: Arc<Live>,
    broadcast: Arc<Broadcast>,
    addr: SocketAddr,
    url: String,
    /// The update thread.
    updates: Option<JoinHandle<()>>,
    /// The HTTP thread, which owns the listener.
    http: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL holds the token: not printed by `Debug`.
        f.debug_struct("Dashboard")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Dashboard {
    /// Serves the dashboard on a loopback address (`127.0.0.1:8787`, `[::1]:0`,
    /// `localhost:8787`; port 0 picks a free port) and prints its URL on stderr.
    /// A name that resolves to several addresses is served on the first of its loopback
    /// addresses that can be bound (`localhost` on `[::1]` or `127.0.0.1`, whichever
    /// the machine has free). An address with no loopback address among those it
    /// resolves to is refused ([`DashboardError::NotLoopback`]); see
    /// [`serve_exposed`](Self::serve_exposed).
    pub fn serve(
        addr: impl ToSocketAddrs + std::fmt::Display,
    ) -> Result<Dashboard, DashboardError> {
        let loopback: Vec<SocketAddr> = resolve(&addr)?
            .into_iter()
            .filter(|a| a.ip().is_loopback())
            .collect();
        if loopback.is_empty() {
            return Err(DashboardError::NotLoopback {
                addr: addr.to_string(),
            });
        }
        Dashboard::start(&loopback, true)
    }

    /// Serves the dashboard on any address, another machine's reach included, with a
    /// warning on stderr: the page is plain HTTP, so its token travels unencrypted.
    /// Of the addresses a name resolves to, the first that can be bound is served.
    pub fn serve_exposed(
        addr: impl ToSocketAddrs + std::fmt::Display,
    ) -> Result<Dashboard, DashboardError> {
        let dashboard = Dashboard::start(&resolve(&addr)?, true)?;
        if !dashboard.addr.ip().is_loopback() {
            eprintln!(
                "warning: the dask dashboard is served on {}, beyond this machine; \
                 it is plain HTTP: anyone who sees its traffic can read the token",
                dashboard.addr
            );
        }
        Ok(dashboard)
    }

    /// A dashboard on a free loopback port that prints nothing, for tests.
    #[doc(hidden)]
    pub fn serve_quietly() -> Result<Dashboard, DashboardError> {
        Dashboard::start(&[SocketAddr::from(([127, 0, 0, 1], 0))], false)
    }

    /// Serves on the first of `addrs` that can be bound.
    fn start(addrs: &[SocketAddr], announce: bool) -> Result<Dashboard, DashboardError> {
        let (listener, addr) = bind_first(addrs)?;
        let token = Token::random();
        let url = format!("http://{addr}/?token={}", token.as_str());
        let live = Live::new();
        let broadcast = Arc::new(Broadcast::new());
        let site = Arc::new(Site {
            live: live.clone(),
            broadcast: broadcast.clone(),
            token,
        });
        let spawn = |name: &str, body: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(body)
                .map_err(|e| DashboardError::Start(e.to_string()))
        };
        let mut dashboard = Dashboard {
            live: live.clone(),
            broadcast: broadcast.clone(),
            addr,
            url,
            updates: None,
            http: None,
        };
        // On failure, dropping `dashboard` stops the thread that did start.
        dashboard.updates = Some(spawn(
            "dask-dashboard-updates",
            Box::new(move || events::publish_updates(live, broadcast)),
        )?);
        dashboard.http = Some(spawn(
            "dask-dashboard-http",
            Box::new(move || server::serve(listener, site)),
        )?);
        if announce {
            eprintln!("dask dashboard: {}", dashboard.url);
        }
        Ok(dashboard)
    }

    /// The page's address, token included: give it only to whom may watch.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address served (with the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub(crate) fn observer(&self) -> Arc<Live> {
        self.live.clone()
    }
}

/// Every address `addr` resolves to, in order; at least one.
fn resolve(
    addr: &(impl ToSocketAddrs + std::fmt::Display),
) -> Result<Vec<SocketAddr>, DashboardError> {
    let fail = |reason: String| DashboardError::Address {
        addr: addr.to_string(),
        reason,
    };
    let resolved: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| fail(e.to_string()))?
        .collect();
    if resolved.is_empty() {
        return Err(fail("no address".into()));
    }
    Ok(resolved)
}

/// Binds the first of `addrs` that can be bound, each tried in turn; the listener and
/// the address it got (with the port chosen when 0 was asked for). When none can, the
/// error names every address tried and carries the most telling failure: an address
/// the machine lacks (`[::1]` without IPv6) says less than a port taken.
fn bind_first(addrs: &[SocketAddr]) -> Result<(TcpListener, SocketAddr), DashboardError> {
    let mut failure: Option<std::io::Error> = None;
    for &addr in addrs {
        let bound = TcpListener::bind(addr).and_then(|l| Ok((l.local_addr()?, l)));
        match bound {
            Ok((local, listener)) => return Ok((listener, local)),
            Err(e) => {
                let lacking = |e: &std::io::Error| e.kind() == std::io::ErrorKind::AddrNotAvailable;
                if failure.as_ref().is_none_or(|f| lacking(f) && !lacking(&e)) {
                    failure = Some(e);
                }
            }
        }
    }
    let tried: Vec<String> = addrs.iter().map(SocketAddr::to_string).collect();
    Err(DashboardError::Bind {
        addr: tried.join(" or "),
        source: failure.unwrap_or_else(|| std::io::ErrorKind::AddrNotAvailable.into()),
    })
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        self.broadcast.stop();
        if let Some(updates) = self.updates.take() {
            let _ = updates.join();
        }
        // The HTTP thread waits in `accept`: a connection of ours wakes it. Should that
        // fail (it never does on a port this process listens on), the thread is left
        // to end at the next connection rather than waited for without end.
        if let Some(http) = self.http.take() {
            if server::wake(self.addr) {
                let _ = http.join();
            }
        }
        // The HTTP thread closed the listener and joined every connection's thread
        // before it returned: the port is free and no socket of ours is open.
    }
}
