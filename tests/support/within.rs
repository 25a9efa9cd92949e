//! A time limit for test bodies that could hang: shared by the test files that include it
//! with `#[path = "support/within.rs"] mod within;`.

use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on a thread of its own and fails the test if it has not returned within a
/// minute: a hang must fail the test, not stall the suite.
pub fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{what}: no answer within 60 s (hung, or panicked)"))
}
