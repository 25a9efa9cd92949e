//! The profiler's clock: the CPU's time-stamp counter where it runs at a constant rate
//! (x86-64 with an invariant TSC), else `Instant`.
//!
//! Reading `Instant` costs ~40 ns on a virtual machine (`clock_gettime` through the
//! vDSO, which also reads the TSC but adds its own bookkeeping); `rdtsc` costs a third
//! of that. Two reads per task is most of the profiler's cost, so it pays to go direct.
//! Ticks become time through a calibration: pairs of (`Instant`, ticks) taken when the
//! profiler is created and when a computation finishes.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Counter value now. Monotonic within one thread; across threads only as good as the
/// hardware keeps its counters in step (invariant TSCs are).
#[inline]
pub(crate) fn ticks() -> u64 {
    #[cfg(all(target_arch = "x86_64", not(miri), not(loom)))]
    if invariant_tsc() {
        // SAFETY: `rdtsc` is available on every x86-64 CPU and has no side effects.
        return unsafe { core::arch::x86_64::_rdtsc() };
    }
    fallback_origin().elapsed().as_nanos() as u64
}

fn fallback_origin() -> &'static Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now)
}

#[cfg(all(target_arch = "x86_64", not(miri), not(loom)))]
#[inline]
fn invariant_tsc() -> bool {
    static INVARIANT: OnceLock<bool> = OnceLock::new();
    *INVARIANT.get_or_init(|| {
        use core::arch::x86_64::__cpuid;
        // CPUID 8000_0007h EDX bit 8: the TSC runs at a constant rate in every P-, C-
        // and T-state ("invariant TSC"); otherwise ticks are not time.
        // SAFETY: `cpuid` is available on every x86-64 CPU. (Safe to call since Rust
        // 1.89; the crate supports older compilers, where it is `unsafe`.)
        #[allow(unused_unsafe)]
        let max_extended = unsafe { __cpuid(0x8000_0000) }.eax;
        if max_extended < 0x8000_0007 {
            return false;
        }
        #[allow(unused_unsafe)]
        let power = unsafe { __cpuid(0x8000_0007) };
        power.edx & (1 << 8) != 0
    })
}

/// A moment on both clocks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Anchor {
    pub(crate) instant: Instant,
    pub(crate) ticks: u64,
}

impl Anchor {
    pub(crate) fn now() -> Self {
        Anchor {
            ticks: ticks(),
            instant: Instant::now(),
        }
    }
}

/// Ticks to time since `origin`, at the rate measured between `origin` and `later`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Calibration {
    origin_ticks: u64,
    nanos_per_tick: f64,
}

impl Calibration {
    pub(crate) fn new(origin: Anchor, later: Anchor) -> Self {
        let ticks = later.ticks.saturating_sub(origin.ticks);
        let nanos = later
            .instant
            .saturating_duration_since(origin.instant)
            .as_nanos();
        let nanos_per_tick = if ticks == 0 || nanos == 0 {
            1.0
        } else {
            nanos as f64 / ticks as f64
        };
        Calibration {
            origin_ticks: origin.ticks,
            nanos_per_tick,
        }
    }

    pub(crate) fn since_origin(&self, ticks: u64) -> Duration {
        let delta = ticks.saturating_sub(self.origin_ticks);
        Duration::from_nanos((delta as f64 * self.nanos_per_tick) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Anchor::now()` with its two reads close together, taken again until they are: a
    /// loaded machine can deschedule the thread between them, which shifts the
    /// calibration by as long (the profiler accepts that; this test checks the
    /// conversion). Close is 100 µs; under Miri, whose virtual clock advances about 1 ms
    /// per `Anchor::now()` and deschedules nothing, 5 ms.
    fn close_anchor() -> Anchor {
        let close = if cfg!(miri) {
            Duration::from_millis(5)
        } else {
            Duration::from_micros(100)
        };
        for _ in 0..1000 {
            let before = Instant::now();
            let anchor = Anchor::now();
            if anchor.instant.duration_since(before) < close {
                return anchor;
            }
        }
        panic!("no anchor in 1000 tries had its reads within {close:?}");
    }

    #[test]
    fn ticks_measure_time() {
        let origin = close_anchor();
        std::thread::sleep(Duration::from_millis(20));
        // `mid` was read between these two moments, however long the thread was
        // descheduled around it.
        let before = Instant::now() - origin.instant;
        let mid = ticks();
        let after = Instant::now() - origin.instant;
        std::thread::sleep(Duration::from_millis(20));
        let calibration = Calibration::new(origin, close_anchor());
        let at = calibration.since_origin(mid);
        // Converted back, it lies in that bracket, give or take the anchors' own error
        // (2 ms and 5 % cover it many times over).
        let slack = Duration::from_millis(2) + after / 20;
        assert!(
            at + slack >= before && at <= after + slack,
            "{at:?} is not within {before:?}..={after:?} (± {slack:?})"
        );
    }
}
