//! Kernels compiled for the CPU they run on. Release builds target baseline x86-64
//! (SSE2: two `f64` per vector instruction, no vector 64-bit multiply), which leaves most
//! of a modern core unused in the per-element loops: random generation, arithmetic, the
//! partial sums. [`vectorized`] runs a loop compiled a second time with AVX2 and FMA when
//! the CPU has them (checked once, then read from a cached flag), so users need no
//! `-C target-cpu` flag.
//!
//! Results do not depend on which copy runs: Rust never fuses a multiply and an add
//! into an FMA on its own (no fast-math), both copies do the same IEEE operations in the
//! same order, and `sqrt` is correctly rounded in both.

/// A loop to compile twice. `run` must be marked `#[inline(always)]`: it is then inlined
/// into the copy compiled with AVX2 and FMA whatever its size (LLVM declines to inline a
/// large closure or `FnOnce` shim, which would leave the loop compiled for the baseline).
pub(crate) trait Kernel {
    type Output;
    fn run(self) -> Self::Output;
}

/// `kernel.run()`, compiled with AVX2 and FMA where the CPU supports them. Call this
/// around a whole loop (a tile of elements), not per element.
#[inline(always)]
pub(crate) fn vectorized<K: Kernel>(kernel: K) -> K::Output {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            // SAFETY: `with_avx2` only requires the CPU to support AVX2 and FMA, which
            // was just checked.
            return unsafe { with_avx2(kernel) };
        }
    }
    kernel.run()
}

/// `kernel.run()` compiled with AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn with_avx2<K: Kernel>(kernel: K) -> K::Output {
    kernel.run()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Hypot<'a>(&'a [f64]);

    impl Kernel for Hypot<'_> {
        type Output = Vec<f64>;
        #[inline(always)]
        fn run(self) -> Vec<f64> {
            self.0.iter().map(|v| (v * v).sqrt() + v * 0.5).collect()
        }
    }

    #[test]
    fn both_copies_give_the_same_bits() {
        let xs: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.37).sin() * 1e3).collect();
        assert_eq!(vectorized(Hypot(&xs)), Hypot(&xs).run());
    }
}
