//! Cache prefetch hints for walks over big graphs, whose nodes were allocated long
//! before and in another order than the walk visits them.

/// A hint to start loading the cache line at `p`; it never faults, whatever `p` is.
#[inline(always)]
pub(crate) fn prefetch<T: ?Sized>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it reads nothing the program can observe and
    // cannot fault, even on a dangling or unaligned address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
