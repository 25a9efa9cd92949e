//! The tasks the dashboard's tests watch (`dashboard.rs`, `dashboard_browser.rs`,
//! `dashboard_cluster.rs`, each including this file): a nap, so that a page sees tasks
//! running, and a sum whose name is hostile HTML, which every view must show as text.

use std::time::Duration;

use dask::delayed;

/// Sleeps `ms` milliseconds and returns them.
#[delayed]
pub fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

/// The sum of `xs`, under a name that would run a script if a view did not escape it.
#[delayed(name = "<script>alert(1)</script>")]
pub fn sneaky(xs: Vec<u64>) -> u64 {
    xs.iter().sum()
}
