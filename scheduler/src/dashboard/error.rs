//! Why a dashboard could not be served.

/// Errors of [`Dashboard::serve`](crate::Dashboard::serve) and
/// [`Dashboard::serve_exposed`](crate::Dashboard::serve_exposed).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DashboardError {
    /// The address did not resolve, or resolved to nothing.
    #[error("dashboard address `{addr}` does not resolve: {reason}")]
    Address { addr: String, reason: String },
    /// `serve` binds loopback addresses only: anyone who can reach another address could
    /// try the token.
    #[error(
        "dashboard address `{addr}` is not a loopback address; use Dashboard::serve_exposed \
         to serve on another network"
    )]
    NotLoopback { addr: String },
    /// The address is taken or not ours.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    /// The HTTP server or one of its threads could not start.
    #[error("the dashboard server could not start: {0}")]
    Start(String),
}
