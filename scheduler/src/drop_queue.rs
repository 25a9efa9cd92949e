//! Dropping a graph without recursion: one queue of node handles per thread.
//!
//! Dropping the last handle of a long chain would otherwise recurse once per node and
//! overflow the stack. Instead a node's drop hands its inputs to its thread's queue, and
//! the outermost drop on the thread drops what is queued, including what those drops
//! queue in turn. A node's drop then costs no allocation of its own.
//!
//! A wide node's list of inputs (a join over a million tasks) is queued as the list it
//! already is, not copied handle by handle: copying made the queue grow to 16 MB and
//! let it go again at every drop of such a graph, and with the list's own 16 MB freed
//! too, the C heap gave both back to the kernel each time and faulted them in afresh at
//! the next build (BENCHMARKS.md, issue #17: 110,000 more page faults per 15 builds
//! and drops of a million-task fan-out, 4-6 ns per task on both).

use std::cell::{Cell, RefCell};

use crate::delayed::Delayed;
use crate::node::FEW_INPUTS;
use crate::node_ref::NodeRef;

/// Lists at least this long are queued whole; shorter ones are copied into the queue.
/// (Under Miri, 16: the same code on graphs small enough to interpret.)
const LIST_FROM: usize = if cfg!(miri) { 16 } else { 1024 };

/// What the queue keeps of its own memory between drops at most (handles); a bigger
/// queue is let go so that one deep drop does not hold memory for the thread's life.
const KEEP_AT_MOST: usize = 1 << 12;

/// Node handles waiting to be dropped: handles one by one, and whole lists of inputs.
/// The handles are dropped last-queued first, so a node's inputs go right after it
/// (depth first, while its memory is warm).
#[doc(hidden)]
pub struct DropQueue {
    handles: Vec<NodeRef>,
    /// Each list is dropped from its end, before the list below it and after every
    /// handle queued on top of it meanwhile.
    lists: Vec<std::vec::IntoIter<NodeRef>>,
}

impl DropQueue {
    const fn new() -> Self {
        DropQueue {
            handles: Vec::new(),
            lists: Vec::new(),
        }
    }

    /// Queues one handle.
    #[inline]
    pub(crate) fn push(&mut self, handle: NodeRef) {
        self.handles.push(handle);
    }

    /// Queues a node's list of inputs, in their order (the last is dropped first).
    pub(crate) fn push_list<T>(&mut self, list: Vec<Delayed<T>>) {
        // Collected in place: a handle and a `Delayed` have one layout, so the list keeps
        // its memory and is queued as it is.
        let list: Vec<NodeRef> = list.into_iter().map(Delayed::into_node).collect();
        if list.len() < LIST_FROM {
            self.handles.extend(list);
        } else {
            self.lists.push(list.into_iter());
        }
    }

    /// The next handle to drop.
    #[inline]
    fn pop(&mut self) -> Option<NodeRef> {
        if let Some(handle) = self.handles.pop() {
            return Some(handle);
        }
        while let Some(list) = self.lists.last_mut() {
            if let Some(handle) = list.next_back() {
                return Some(handle);
            }
            // Exhausted: its memory goes now.
            self.lists.pop();
        }
        None
    }

    /// The handle [`pop`](Self::pop) gives next, if it is at hand without a change.
    #[inline]
    fn peek(&self) -> Option<&NodeRef> {
        self.handles
            .last()
            .or_else(|| self.lists.last().and_then(|list| list.as_slice().last()))
    }
}

thread_local! {
    /// Node handles waiting to be dropped by the outermost drop on this thread.
    static DROP_QUEUE: RefCell<DropQueue> = const { RefCell::new(DropQueue::new()) };
    /// Whether a drop on this thread is draining `DROP_QUEUE` already.
    static DRAINING: Cell<bool> = const { Cell::new(false) };
}

/// Lets `fill` put node handles on this thread's drop queue, then, in the outermost
/// call only, drops everything queued, including what those drops queue in turn. A
/// graph of any depth is dropped without recursion, and a node's drop costs no
/// allocation of its own: nested drops append to the one queue.
#[inline]
pub(crate) fn with_drop_queue(fill: impl FnOnce(&mut DropQueue)) {
    // `DRAINING` needs no destructor, so it is there until the thread is gone.
    let nested = DRAINING.with(|d| d.replace(true));
    let mut fill = Some(fill);
    let queued = DROP_QUEUE.try_with(|q| {
        let mut q = q.borrow_mut();
        let start = q.handles.len();
        if let Some(fill) = fill.take() {
            fill(&mut q);
        }
        newest_on_top(&mut q.handles[start..]);
    });
    if let Some(fill) = fill {
        // The thread is exiting and its queue was destroyed before this graph (held by
        // another thread-local value) is dropped: see `ORPHANS`.
        drop_orphaned(fill, nested);
        return;
    }
    if nested || queued.is_err() {
        return;
    }
    drain();
}

/// Node handles dropped on threads whose queue is gone (thread-local values destroyed
/// after it, while the thread exits). Dropping them plainly recursed once per node: a
/// chain of 30,000 nodes held in a thread-local overflowed a 2 MiB thread stack and
/// killed the process. Rarely used, so one lock for the process is enough; a thread
/// may drop handles another queued, which is harmless (nodes are `Send`).
static ORPHANS: parking_lot::Mutex<Vec<NodeRef>> = parking_lot::Mutex::new(Vec::new());

/// [`with_drop_queue`] once this thread's queue is gone: `fill` queues onto
/// [`ORPHANS`], and the outermost call drops what is there until it is empty.
#[cold]
#[inline(never)]
fn drop_orphaned(fill: impl FnOnce(&mut DropQueue), nested: bool) {
    let mut plain = DropQueue::new();
    fill(&mut plain);
    {
        let mut orphans = ORPHANS.lock();
        orphans.extend(plain.handles.drain(..));
        for list in plain.lists.drain(..) {
            orphans.extend(list);
        }
    }
    if nested {
        return;
    }
    /// As in `drain`: a panicking drop ends the draining.
    struct Draining;
    impl Drop for Draining {
        fn drop(&mut self) {
            DRAINING.with(|d| d.set(false));
        }
    }
    let _draining = Draining;
    loop {
        // The lock is released before the handle drops: its own drop appends. (In a
        // `while let` condition the guard would live through the body.)
        let next = ORPHANS.lock().pop();
        let Some(handle) = next else { break };
        drop(handle);
    }
    let mut orphans = ORPHANS.lock();
    if orphans.is_empty() && orphans.capacity() > KEEP_AT_MOST {
        *orphans = Vec::new();
    }
}

/// Drops what is queued, and what those drops queue, until the queue is empty: the
/// outermost drop's work (kept apart so that every nested drop, the many, stays small
/// enough to be inlined into the node's own drop).
#[inline(never)]
fn drain() {
    /// Ends the draining even when a drop panics, so that later drops on this thread
    /// drain again (what is still queued then goes with the next outermost drop).
    struct Draining;
    impl Drop for Draining {
        fn drop(&mut self) {
            DRAINING.with(|d| d.set(false));
        }
    }
    let _draining = Draining;
    // The borrow ends before the handle drops: its own drop appends to the queue.
    while let Some(handle) = DROP_QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        let handle = q.pop();
        // The next handle's node is cold: start loading it while this one drops.
        if let Some(next) = q.peek() {
            crate::prefetch::prefetch(next.count_address());
        }
        handle
    }) {
        drop(handle);
    }
    DROP_QUEUE.with(|q| {
        let mut q = q.borrow_mut();
        if q.handles.capacity() > KEEP_AT_MOST {
            q.handles = Vec::new();
        }
    });
}

/// Orders one node's inputs, just queued, so that the one created last is dropped first.
///
/// Why: a node's memory is freed when its last reader drops, and readers are created
/// after what they read. Dropping in about the reverse of creation order therefore frees
/// most nodes at their first visit, while the readers' memory is still in cache. In a
/// wavefront (each cell read by its right and its lower neighbour), dropping the upper
/// input first instead left every cell with a second reader far away in the queue, and
/// each cell was touched twice, a cache miss apart: the drop cost 2-3 times that of a
/// tree. Creation order is the build number (pure nodes, numbered 0, keep their order).
/// Allocation addresses stood in for it before; they only guess it, and guess wrong on
/// a heap that has served other graphs. Only short lists are ordered (see `FEW_INPUTS`).
#[inline]
fn newest_on_top(queued: &mut [NodeRef]) {
    if (2..=FEW_INPUTS).contains(&queued.len()) {
        sort_newest_last(queued);
    }
}

/// The sort of [`newest_on_top`], out of line: most nodes queue zero or one input.
#[inline(never)]
fn sort_newest_last(queued: &mut [NodeRef]) {
    queued.sort_by_key(|handle| handle.node().header().built());
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::{DROP_QUEUE, LIST_FROM};
    use crate::Delayed;

    /// Logs its id, and how many single handles the queue holds room for, when dropped.
    struct Logged(u64, Arc<Mutex<Vec<(u64, usize)>>>);

    impl Drop for Logged {
        fn drop(&mut self) {
            let room = DROP_QUEUE.with(|q| q.borrow().handles.capacity());
            self.1.lock().unwrap().push((self.0, room));
        }
    }

    fn join(inputs: Vec<Delayed<u64>>) -> Delayed<u64> {
        crate::__private::task(
            &crate::__private::test_spec("join", "drop_queue::tests::join", 0),
            None,
            (crate::IntoArg::<Vec<u64>>::into_arg(inputs),),
            |args, inputs| Ok(args.0.owned(inputs)?.iter().sum()),
            crate::node::no_codec,
        )
    }

    /// A graph held in a thread-local value that is destroyed after the drop queue,
    /// while the thread exits (thread-locals go in the reverse order of their first use).
    #[test]
    fn a_deep_graph_dropped_after_the_queue_is_gone_does_not_recurse() {
        thread_local! {
            static HELD: std::cell::RefCell<Option<Delayed<u64>>> =
                const { std::cell::RefCell::new(None) };
        }
        /// Counts its drops (without touching the queue, gone when it drops).
        struct Counted(Arc<std::sync::atomic::AtomicUsize>);
        impl Drop for Counted {
            fn drop(&mut self) {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let drops = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Counted(drops.clone());
        std::thread::Builder::new()
            // Each level of a recursive drop takes a few hundred bytes: 200,000 overflow
            // it. (Not smaller: glibc hands a cached stack up to 4x bigger to a thread
            // that asks for less, and `nesting`'s test needs its 128 KiB thread short.)
            .stack_size(2 << 20)
            .spawn(move || {
                // First used before the queue, so destroyed after it.
                HELD.with(|_| {});
                // A node dropped now sets the queue up.
                drop(crate::delayed(1u64).map(|v| v + 1));
                let mut chain = crate::delayed(counted).map(|_| 0u64);
                // Under Miri, which interprets every drop, a short chain checks the
                // orphans' path for undefined behaviour; the depth is for native runs.
                for _ in 0..if cfg!(miri) { 100 } else { 200_000 } {
                    chain = chain.map(|v| v + 1);
                }
                HELD.with(|h| *h.borrow_mut() = Some(chain));
            })
            .unwrap()
            .join()
            .expect("the thread exits without overflowing its stack");
        assert_eq!(
            drops.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "the source's value was dropped, once"
        );
    }

    #[test]
    fn a_wide_list_drops_last_first_depth_first_without_being_copied() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let n = (LIST_FROM + 100) as u64;
        let leaves: Vec<Delayed<u64>> = (0..n)
            .map(|id| crate::delayed(Logged(id, log.clone())).map(|v| v.0))
            .collect();
        let top = join(leaves);
        assert_eq!(top.compute().unwrap(), n * (n - 1) / 2);
        drop(top);
        let log = log.lock().unwrap();
        // Each leaf's source goes right after its leaf, the last leaf first.
        let order: Vec<u64> = log.iter().map(|&(id, _)| id).collect();
        assert_eq!(order, (0..n).rev().collect::<Vec<u64>>());
        // The list was queued as it was: the queue never held room for its handles.
        let most = log.iter().map(|&(_, room)| room).max().unwrap();
        assert!(most < LIST_FROM, "the queue grew to {most} handles");
    }
}
