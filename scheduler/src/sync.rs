//! The one place the scheduler takes its synchronization primitives from, so that the
//! loom model tests (`RUSTFLAGS="--cfg loom"`) can swap in loom's checked versions without
//! touching the protocol code.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    fence, AtomicBool, AtomicU32, AtomicU8, AtomicUsize, Ordering,
};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU8, AtomicUsize, Ordering};

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// `std::cell::UnsafeCell` with loom's closure-based access API, so both builds share
/// one spelling and loom can track every access.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Adds to an atomic counter through `&mut`, i.e. without synchronization: used while a
/// plan is built and no other thread can see it.
#[inline]
pub(crate) fn add_exclusive(counter: &mut AtomicU32, n: u32) {
    #[cfg(not(loom))]
    {
        *counter.get_mut() += n;
    }
    #[cfg(loom)]
    counter.with_mut(|v| *v += n);
}

#[cfg(not(loom))]
pub(crate) use crossbeam_utils::sync::Unparker;
#[cfg(not(loom))]
pub(crate) use parking_lot::Mutex;

/// Under loom, waking a parked thread is loom's `Thread::unpark`, so the models can check
/// the sleep and completion protocols for lost wake-ups.
#[cfg(loom)]
#[derive(Clone, Debug)]
pub(crate) struct Unparker(pub(crate) loom::thread::Thread);

#[cfg(loom)]
impl Unparker {
    pub(crate) fn unpark(&self) {
        self.0.unpark();
    }
}

/// `parking_lot`'s locking API over loom's mutex.
#[cfg(loom)]
#[derive(Debug, Default)]
pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

#[cfg(loom)]
impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Mutex(loom::sync::Mutex::new(value))
    }

    pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
        self.0.lock().unwrap()
    }
}
