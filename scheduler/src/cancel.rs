//! Stopping a computation from another thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Cancels the computations it is given to (through
/// [`Config::cancel_token`](crate::Config::cancel_token)). Cloning shares the token;
/// `cancel` may be called from any thread. Cancelling stops the scheduling of new tasks;
/// tasks already running finish; the computation then returns
/// [`Error::Cancelled`](crate::Error::Cancelled). A computation that had already run every
/// task returns its results.
///
/// ```
/// use dask::{CancelToken, Config};
/// let token = CancelToken::new();
/// token.cancel();
/// let x = dask::delayed(1).map(|v| v + 1);
/// let err = x.compute_with(&Config::default().cancel_token(token)).unwrap_err();
/// assert!(matches!(err, dask::Error::Cancelled));
/// ```
#[derive(Debug, Clone, Default)]
pub struct CancelToken {
    cancelled: Arc<AtomicBool>,
}

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests cancellation. Idempotent.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }
}
