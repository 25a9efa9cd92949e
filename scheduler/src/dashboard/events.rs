//! Server-sent events: one update a few times a second, shared by every open page.
//!
//! One thread samples the aggregate ([`Live::sample`]) and publishes the update as
//! text; each page's stream thread waits for a newer one and writes it. A page that
//! falls behind skips updates instead of queueing them (each update is whole, except
//! the stream's bars, which are a sample anyway).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::json;
use super::live::{Cursor, Live};
use super::rss::Resident;

/// Updates per second while a computation runs (the issue asks for at least 5).
pub(crate) const RUNNING_PERIOD: Duration = Duration::from_millis(100);

/// Between computations, an update a second keeps the memory figure current.
const IDLE_PERIOD: Duration = Duration::from_secs(1);

/// The latest update, and the stop signal of every dashboard thread.
pub(crate) struct Broadcast {
    latest: Mutex<(u64, Arc<str>)>,
    changed: Condvar,
    stop: AtomicBool,
}

impl Broadcast {
    pub(crate) fn new() -> Broadcast {
        Broadcast {
            latest: Mutex::new((0, Arc::from("{}"))),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        }
    }

    pub(crate) fn publish(&self, text: String) {
        let mut latest = self.latest.lock();
        latest.0 += 1;
        latest.1 = Arc::from(text);
        self.changed.notify_all();
    }

    pub(crate) fn latest(&self) -> (u64, Arc<str>) {
        self.latest.lock().clone()
    }

    /// The first update newer than number `seen`, waiting at most `limit`; `None` on
    /// timeout or stop.
    pub(crate) fn next_after(&self, seen: u64, limit: Duration) -> Option<(u64, Arc<str>)> {
        let mut latest = self.latest.lock();
        let deadline = std::time::Instant::now() + limit;
        while latest.0 <= seen && !self.stopped() {
            if self.changed.wait_until(&mut latest, deadline).timed_out() {
                break;
            }
        }
        (latest.0 > seen && !self.stopped()).then(|| latest.clone())
    }

    pub(crate) fn stop(&self) {
        // Under the lock, so that no waiter checks `stopped` and then misses the wake-up.
        let _latest = self.latest.lock();
        self.stop.store(true, Ordering::Release);
        self.changed.notify_all();
    }

    pub(crate) fn stopped(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// Sleeps `period`, or less when stopped meanwhile. Returns whether still running.
    fn pause(&self, period: Duration) -> bool {
        let mut latest = self.latest.lock();
        if !self.stopped() {
            let _ = self.changed.wait_for(&mut latest, period);
        }
        !self.stopped()
    }
}

/// The update text of the aggregate now.
pub(crate) fn render(live: &Live, cursor: &mut Cursor, resident: &Resident) -> String {
    let sample = live.sample(cursor);
    json::to_safe_text(&json::update(&sample, resident.bytes()))
}

/// The update thread's loop: every [`RUNNING_PERIOD`] while a computation runs (and
/// once more after it ends, with its final figures, however short it was), every
/// [`IDLE_PERIOD`] otherwise.
pub(crate) fn publish_updates(live: Arc<Live>, broadcast: Arc<Broadcast>) {
    let mut cursor = Cursor::default();
    let resident = Resident::open();
    let mut was_running = false;
    let mut seen_changes = usize::MAX;
    let mut idle = Duration::ZERO;
    loop {
        let running = live.is_running();
        let changes = live.changes();
        if running || was_running || changes != seen_changes || idle >= IDLE_PERIOD {
            seen_changes = changes;
            broadcast.publish(render(&live, &mut cursor, &resident));
            idle = Duration::ZERO;
        }
        was_running = running;
        // Woken by `publish` too (its own notify): harmless, the loop just checks again.
        if !broadcast.pause(RUNNING_PERIOD) {
            return;
        }
        idle += RUNNING_PERIOD;
    }
}
