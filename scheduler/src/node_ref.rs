//! `NodeRef`: the reference-counted handle to a graph node that every `Delayed` holds.
//!
//! It is `Arc<dyn NodeDyn>` with two differences that matter for graphs of millions of
//! tiny nodes: the node's memory comes from [`node_memory`](crate::node_memory) instead of
//! the global allocator (the standard `Arc` takes no allocator on stable Rust), and there
//! is no weak count (nothing holds a node weakly), so a node carries 8 bytes of counting
//! instead of 16. The counting protocol is the standard `Arc`'s: clones add with
//! `Relaxed` (a clone is made from a live handle, which keeps the node alive), drops
//! subtract with `Release`, and the drop that takes the count to zero fences with
//! `Acquire` before destroying, so every other handle's use of the node happens before.

use std::alloc::Layout;
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicUsize, Ordering};

use crate::node::NodeDyn;
use crate::node_memory;

/// A node with its reference count in front.
struct Counted<N: ?Sized> {
    count: AtomicUsize,
    node: N,
}

/// More handles than this to one node is a bug (a leak of handles in a loop), not a graph:
/// refused before the count could wrap.
const MAX_HANDLES: usize = isize::MAX as usize;

/// A shared handle to a graph node; the node is destroyed with its last handle.
#[doc(hidden)]
pub struct NodeRef {
    ptr: NonNull<Counted<dyn NodeDyn>>,
}

// SAFETY: a `NodeRef` gives out only `&dyn NodeDyn` (and `&mut` when it is the only
// handle, see `get_mut`), and `NodeDyn: Send + Sync`; the count is atomic. This is the
// reasoning of `Arc<T: Send + Sync>: Send + Sync`.
unsafe impl Send for NodeRef {}
// SAFETY: as for `Send` above.
unsafe impl Sync for NodeRef {}

impl NodeRef {
    /// Moves `node` into memory of its own, counted once.
    pub(crate) fn new<N: NodeDyn>(node: N) -> NodeRef {
        let layout = Layout::new::<Counted<N>>();
        let raw = node_memory::allocate(layout).cast::<Counted<N>>();
        // SAFETY: `raw` is fresh memory with `Counted<N>`'s size and alignment.
        unsafe {
            raw.as_ptr().write(Counted {
                count: AtomicUsize::new(1),
                node,
            });
        }
        NodeRef { ptr: raw }
    }

    fn counted(&self) -> &Counted<dyn NodeDyn> {
        // SAFETY: the node lives as long as any handle does, and this is one.
        unsafe { self.ptr.as_ref() }
    }

    /// The node.
    #[inline]
    pub(crate) fn node(&self) -> &dyn NodeDyn {
        &self.counted().node
    }

    /// The node, when this is its only handle (nobody else can see a change).
    pub(crate) fn get_mut(&mut self) -> Option<&mut dyn NodeDyn> {
        // `Acquire`: the other handles' last uses happen before their `Release`
        // decrements, so they happen before this change.
        if self.counted().count.load(Ordering::Acquire) == 1 {
            // SAFETY: this is the only handle and `&mut self` borrows it exclusively, so
            // no other reference to the node exists or can be made while this one lives.
            Some(unsafe { &mut self.ptr.as_mut().node })
        } else {
            None
        }
    }

    /// Whether this is the node's only handle, so that a graph reaches the node through
    /// one edge (or one output). Every edge and output of a graph being planned is a
    /// handle of its own (a node lists as inputs only handles it holds, see
    /// `NodeDyn::for_each_dep`) that lives as long as the plan borrows the graph, so a
    /// count of 1 read at any moment says the node has at most one of them; handles
    /// made or dropped elsewhere meanwhile can only make the answer `false` needlessly.
    #[inline]
    pub(crate) fn is_only_handle(&self) -> bool {
        self.counted().count.load(Ordering::Relaxed) == 1
    }

    /// Where the count sits, which is what dropping the handle reads first (for
    /// prefetching only).
    #[inline]
    pub(crate) fn count_address(&self) -> *const u8 {
        self.ptr.as_ptr().cast::<u8>()
    }

    /// How many handles the node has (tests only: another thread may change it).
    #[cfg(test)]
    pub(crate) fn handles(&self) -> usize {
        self.counted().count.load(Ordering::Acquire)
    }
}

impl Clone for NodeRef {
    #[inline]
    fn clone(&self) -> Self {
        let before = self.counted().count.fetch_add(1, Ordering::Relaxed);
        if before >= MAX_HANDLES {
            self.counted().count.fetch_sub(1, Ordering::Relaxed);
            panic!("more than {MAX_HANDLES} handles to one graph node");
        }
        NodeRef { ptr: self.ptr }
    }
}

impl Drop for NodeRef {
    #[inline]
    fn drop(&mut self) {
        if self.counted().count.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        fence(Ordering::Acquire);
        // SAFETY: the count reached zero: this was the last handle, and the fence orders
        // every other handle's use of the node before what follows.
        unsafe { destroy(self.ptr) };
    }
}

/// Drops the node and gives its memory back, also when the node's drop panics (what it
/// owns may then leak, but the memory is returned and nothing is dropped twice).
///
/// # Safety
/// `ptr` came from [`NodeRef::new`] and no handle to it is left.
#[inline(never)]
unsafe fn destroy(ptr: NonNull<Counted<dyn NodeDyn>>) {
    /// Returns the memory when dropped: after the node's drop, or while it unwinds.
    struct GiveBack(NonNull<u8>, Layout);
    impl Drop for GiveBack {
        fn drop(&mut self) {
            // SAFETY: the memory came from `node_memory::allocate` with this layout, and
            // the node in it is dropped (or its drop is unwinding and never resumes).
            unsafe { node_memory::release(self.0, self.1) };
        }
    }
    // SAFETY: the caller's promise: the node is alive and nobody else refers to it.
    let layout = Layout::for_value(unsafe { ptr.as_ref() });
    let _give_back = GiveBack(ptr.cast(), layout);
    // SAFETY: as above; the node is dropped exactly once, here.
    unsafe { std::ptr::drop_in_place(ptr.as_ptr()) };
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use crate::Delayed;

    /// Counts its drops.
    struct Counter(Arc<AtomicUsize>);

    impl Drop for Counter {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn counted_value(drops: &Arc<AtomicUsize>) -> Delayed<u8> {
        let counter = Counter(drops.clone());
        crate::delayed(1_u8).map(move |v| {
            let counter = &counter;
            v + u8::from(counter.0.load(Ordering::Relaxed) == usize::MAX)
        })
    }

    #[test]
    fn a_node_is_dropped_once_with_its_last_handle_from_any_thread() {
        let drops = Arc::new(AtomicUsize::new(0));
        let node = counted_value(&drops);
        let handles: Vec<Delayed<u8>> = (0..64).map(|_| node.clone()).collect();
        assert_eq!(node.node_ref().handles(), 65);
        drop(node);
        std::thread::scope(|s| {
            for chunk in handles.chunks(16) {
                let chunk = chunk.to_vec();
                s.spawn(move || drop(chunk));
            }
        });
        assert_eq!(
            drops.load(Ordering::Relaxed),
            0,
            "the Vec still holds handles"
        );
        drop(handles);
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn nodes_outlive_the_threads_that_built_them_and_are_freed_elsewhere() {
        // Each short-lived thread builds a chain and exits; the chains are computed and
        // dropped on other threads, so every node is freed by a thread that did not
        // allocate it, after the allocating thread is gone.
        let drops = Arc::new(AtomicUsize::new(0));
        let links: u64 = if cfg!(miri) { 20 } else { 200 };
        let chains: Vec<Delayed<u64>> = (0..8)
            .map(|t| {
                let drops = drops.clone();
                std::thread::spawn(move || {
                    let mut last = counted_value(&drops).map(|v| u64::from(*v));
                    for _ in 0..links {
                        last = last.map(|v| v + 1);
                    }
                    last.map(move |v| v + t)
                })
                .join()
                .unwrap()
            })
            .collect();
        let totals = std::thread::scope(|s| {
            let halves: Vec<_> = chains
                .chunks(4)
                .map(|half| {
                    let half = half.to_vec();
                    s.spawn(move || crate::compute(&half).unwrap())
                })
                .collect();
            halves
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect::<Vec<u64>>()
        });
        assert_eq!(totals, (0..8).map(|t| links + 1 + t).collect::<Vec<u64>>());
        std::thread::scope(|s| {
            for chain in chains {
                s.spawn(move || drop(chain));
            }
        });
        assert_eq!(drops.load(Ordering::Relaxed), 8);
    }

    #[test]
    fn nodes_are_built_and_freed_while_a_thread_tears_down() {
        // A thread-local's destructor runs after mimalloc may have let go of the thread's
        // heap, and after this crate's own thread-locals (the drop queue) may be gone.
        struct BuildsOnExit(Arc<AtomicUsize>);
        impl Drop for BuildsOnExit {
            fn drop(&mut self) {
                let mut last = counted_value(&self.0);
                for _ in 0..100 {
                    last = last.map(|v| v.wrapping_add(1));
                }
                drop(last);
            }
        }
        thread_local! {
            static ON_EXIT: std::cell::RefCell<Option<BuildsOnExit>> =
                const { std::cell::RefCell::new(None) };
        }
        let drops = Arc::new(AtomicUsize::new(0));
        let in_thread = drops.clone();
        std::thread::spawn(move || {
            ON_EXIT.with(|slot| *slot.borrow_mut() = Some(BuildsOnExit(in_thread)));
        })
        .join()
        .unwrap();
        assert_eq!(drops.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn only_a_sole_handle_gives_the_node_mutably() {
        let mut a: Delayed<u8> = crate::delayed(1_u8);
        assert!(a.node_mut().is_some());
        let b = a.clone();
        assert!(a.node_mut().is_none());
        drop(b);
        assert!(a.node_mut().is_some());
    }

    /// Panics when dropped.
    struct Bomb;

    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("bomb");
        }
    }

    #[test]
    fn a_panicking_drop_of_a_node_frees_its_memory_and_unwinds_to_the_caller() {
        let held = || crate::node_memory::HELD_HERE.with(std::cell::Cell::get);
        let before = held();
        let drops = Arc::new(AtomicUsize::new(0));
        let bomb = Bomb;
        let counter = Counter(drops.clone());
        let node = crate::delayed(1_u8).map(move |v| {
            let (_bomb, counter) = (&bomb, &counter);
            *v + u8::from(counter.0.load(Ordering::Relaxed) == usize::MAX)
        });
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(node)));
        assert!(dropped.is_err(), "the panic reaches the one dropping");
        // The closure's other capture is dropped while unwinding, and both nodes' memory
        // is given back (Miri checks that it is not used afterwards, nor given back
        // twice).
        assert_eq!(drops.load(Ordering::Relaxed), 1);
        assert_eq!(held(), before, "a node's memory was kept");
        // Later graphs still build and drop on this thread.
        let again = counted_value(&drops);
        assert_eq!(again.compute().unwrap(), 1);
        drop(again);
        assert_eq!(drops.load(Ordering::Relaxed), 2);
    }
}
