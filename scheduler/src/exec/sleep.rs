//! Parking idle workers without losing wake-ups.
//!
//! A worker that found no work registers as a sleeper, looks for work once more, and only
//! then parks. A thread that publishes work issues a `SeqCst` fence and then reads the
//! sleeper count; if it is non-zero it wakes one sleeper. Either the worker's second look
//! sees the new job, or the publisher sees the sleeper: both sides order "write mine,
//! then read theirs" with `SeqCst`, so they cannot both miss. `Parker` keeps a token, so
//! a wake that arrives between registering and parking is not lost either.

use crate::sync::{fence, AtomicUsize, Mutex, Ordering, Unparker};

pub(crate) struct Sleep {
    /// Number of entries in `idle`, readable without the lock.
    sleepers: AtomicUsize,
    idle: Mutex<Vec<usize>>,
    unparkers: Box<[Unparker]>,
}

impl Sleep {
    pub(crate) fn new(unparkers: Box<[Unparker]>) -> Self {
        Sleep {
            sleepers: AtomicUsize::new(0),
            idle: Mutex::new(Vec::with_capacity(unparkers.len())),
            unparkers,
        }
    }

    /// Called after publishing work.
    #[inline]
    pub(crate) fn notify_one(&self) {
        fence(Ordering::SeqCst);
        if self.sleepers.load(Ordering::Relaxed) > 0 {
            self.wake_one();
        }
    }

    #[cold]
    fn wake_one(&self) {
        let woken = {
            let mut idle = self.idle.lock();
            let woken = idle.pop();
            if woken.is_some() {
                self.sleepers.fetch_sub(1, Ordering::Relaxed);
            }
            woken
        };
        if let Some(worker) = woken {
            self.unparkers[worker].unpark();
        }
    }

    /// Registers `worker` as a sleeper. It must look for work again before parking.
    pub(crate) fn register(&self, worker: usize) {
        let mut idle = self.idle.lock();
        idle.push(worker);
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        drop(idle);
        fence(Ordering::SeqCst);
    }

    /// Removes `worker` from the sleepers if no waker did already.
    pub(crate) fn unregister(&self, worker: usize) {
        let mut idle = self.idle.lock();
        if let Some(pos) = idle.iter().position(|&w| w == worker) {
            idle.swap_remove(pos);
            self.sleepers.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
