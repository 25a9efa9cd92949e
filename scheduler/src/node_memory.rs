//! Where graph nodes live: mimalloc's heaps, not the process's global allocator.
//!
//! A graph of a million tiny tasks is a million small allocations made in a loop and
//! freed together. glibc's `malloc` serves them from its bins once its per-thread cache
//! (7 blocks a size) is empty, and its `free` merges neighbours and, for blocks up to 120
//! bytes, consolidates its fastbins whenever a large block is freed. Measured on
//! `bench_scheduler --spread --payload u64` (2 threads, fastest of 15, ns/task), nodes from
//! here build a chain in 35 instead of 40 and a tree in 52 instead of 67, and drop them in
//! 21 instead of 39 and 26 instead of 65 (BENCHMARKS.md, "nodes in mimalloc's heaps"),
//! while every allocation in mimalloc made the runs slower. mimalloc keeps a free list
//! per page and per thread and hands blocks of a page out in address order, so building
//! writes and dropping reads memory nearly sequentially; a block freed by another thread
//! goes back to its page's list without a lock.
//!
//! Only nodes come from here (see [`NodeRef`](crate::node_ref::NodeRef)): results, plans
//! and everything else stay with the global allocator the program chose. Under Miri,
//! which cannot run mimalloc's C code, nodes use the global allocator too.

use std::alloc::Layout;
use std::ptr::NonNull;

#[cfg(test)]
thread_local! {
    /// Blocks this thread took minus blocks it gave back (tests only): a test whose nodes
    /// live and die on its own thread sees whether every one was given back.
    pub(crate) static HELD_HERE: std::cell::Cell<isize> = const { std::cell::Cell::new(0) };
}

/// Counts a block taken (+1) or given back (-1) in [`HELD_HERE`] (tests only).
#[inline]
fn note_held(change: isize) {
    #[cfg(test)]
    let _ = HELD_HERE.try_with(|held| held.set(held.get() + change));
    let _ = change;
}

/// Memory for one node. Aborts like `Box::new` when memory is exhausted.
#[inline]
pub(crate) fn allocate(layout: Layout) -> NonNull<u8> {
    // Every node holds at least its header, so no layout here has size 0.
    debug_assert!(layout.size() > 0);
    #[cfg(not(miri))]
    // SAFETY: `mi_malloc_aligned` takes any size and any power-of-two alignment (a
    // `Layout`'s alignment is one) and returns null or a block of at least that size.
    let block =
        unsafe { libmimalloc_sys::mi_malloc_aligned(layout.size(), layout.align()) }.cast::<u8>();
    #[cfg(miri)]
    // SAFETY: the layout's size is not zero (asserted above).
    let block = unsafe { std::alloc::alloc(layout) };
    let block = NonNull::new(block).unwrap_or_else(|| std::alloc::handle_alloc_error(layout));
    // A graph is built in a loop, and mimalloc hands out a page's blocks in address
    // order, so the node after next most likely starts two blocks on. Its memory is cold
    // (a big graph reuses what an earlier one freed long ago): loading its first two
    // lines now lets those misses overlap with building this node and the next, instead
    // of stalling the locked increments that follow the writes. A wrong guess costs two
    // loads of nothing (a prefetch cannot fault). Building measured 1-5 ns/task faster
    // (BENCHMARKS.md, "the node after next, prefetched").
    let after_next = block.as_ptr().wrapping_add(2 * layout.size());
    crate::prefetch::prefetch(after_next);
    crate::prefetch::prefetch(after_next.wrapping_add(64));
    note_held(1);
    block
}

/// Gives a node's memory back.
///
/// # Safety
/// `block` came from [`allocate`] with `layout` and is not used afterwards.
#[inline]
pub(crate) unsafe fn release(block: NonNull<u8>, layout: Layout) {
    note_held(-1);
    #[cfg(not(miri))]
    {
        let _ = layout;
        // SAFETY: the caller's promise: mimalloc gave this block and it is released once.
        // mimalloc finds the block's page (and owning thread) from its address.
        unsafe { libmimalloc_sys::mi_free(block.as_ptr().cast()) };
    }
    #[cfg(miri)]
    // SAFETY: the caller's promise: `alloc` gave this block with this layout.
    unsafe {
        std::alloc::dealloc(block.as_ptr(), layout)
    };
}
