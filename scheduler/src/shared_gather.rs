//! A gather of many inputs (`Vec<Delayed<T>>` → `Vec<T>`) collected by several workers.
//!
//! A join over a million inputs moves a million results into one vector; on one thread
//! that took about 4 ns per input (its share of a `perf` profile of the million-task
//! join on two threads) while the rest of the pool had nothing to do, and it
//! was the serial part that kept two threads from halving the time of a map-and-reduce
//! graph (BENCHMARKS.md, issue #17). Here the inputs are cut into chunks of
//! [`CHUNK`], and idle workers of the pool take chunks alongside the task's own worker
//! (`exec::chunks`); each chunk writes its values straight into its part of the
//! vector's spare capacity, so nothing is copied twice.

use std::mem::MaybeUninit;
use std::panic::resume_unwind;

use crate::exec::chunks::run_chunks;
use crate::plan::Plan;
use crate::sync::{AtomicBool, AtomicUsize, Ordering};

/// Inputs per chunk: at about 4 ns an input, some 4 µs of moving values out of their
/// slots, long enough that claiming one (an atomic addition) is noise, short enough that
/// the task's worker never waits long for a thief's last chunk. Swept with
/// `bench_scheduler --join-widths` (BENCHMARKS.md): 1,024, 4,096 and 16,384 tie on joins
/// of 32Ki inputs and more; 16,384 loses on narrower ones (fewer chunks to share), and
/// 1,024 lets joins of 4Ki-8Ki inputs share at all.
/// (Under Miri, 4: the same code on graphs small enough to interpret.)
pub(crate) const CHUNK: usize = if cfg!(miri) { 4 } else { 1024 };

/// Gathers of fewer inputs run on the task's thread. Measured on 2 threads (the same
/// sweep): sharing from 4,096 inputs took joins of 4Ki-8Ki inputs from 27 to 24.5 and
/// from 23 to 20.6 ns per task (fastest of 12 rounds, alternating builds); from 2,048
/// it gained nothing at 2Ki (offering the work costs about what it saves).
pub(crate) const SHARED_FROM: usize = 4 * CHUNK;

/// Input `d` by value for a task that keeps its inputs (it may run again: clone) or
/// not (move it out when last reader, else clone); the flag says whether the slot was
/// emptied. `None`: the input is missing or of another type.
#[inline]
pub(crate) fn owned_input<T: Clone + Send + Sync + 'static>(
    plan: &Plan<'_>,
    keep_inputs: bool,
    d: u32,
) -> (Option<T>, bool) {
    if keep_inputs {
        (plan.borrow_result::<T>(d).cloned(), false)
    } else {
        plan.take_or_clone_result(d)
    }
}

/// The values of inputs `deps`, in order, collected in chunks by this thread and idle
/// workers of its pool, with how many slots were emptied (moved out as last reader).
/// `None` if an input is missing or of another type; a panic (a user's `Clone`) is
/// resumed here once every chunk is done, after the values already gathered are dropped.
pub(crate) fn gather_owned<T: Clone + Send + Sync + 'static>(
    plan: &Plan<'_>,
    deps: &[u32],
    keep_inputs: bool,
) -> (Option<Vec<T>>, usize) {
    let count = deps.len();
    let chunks = count.div_ceil(CHUNK);
    let mut values: Vec<T> = Vec::with_capacity(count);
    let out = Spare(values.spare_capacity_mut().as_mut_ptr());
    let plan = PlanOfTask(plan);
    // Which chunks wrote all their values (and must drop them if the gather fails).
    let complete: Vec<AtomicBool> = (0..chunks).map(|_| AtomicBool::new(false)).collect();
    let emptied = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let work = |c: usize| {
        if failed.load(Ordering::Relaxed) {
            return;
        }
        let lo = c * CHUNK;
        let hi = (lo + CHUNK).min(count);
        // A panic (a user's `Clone`) fails the gather: the other chunks stop early.
        let _stop_on_panic = StopOnPanic(&failed);
        // SAFETY: `lo..hi` is chunk `c`'s own range of the spare capacity (`count`
        // elements), written by this call only.
        let mut written = unsafe { Written::new(out.at(lo)) };
        let mut emptied_here = 0;
        for &d in &deps[lo..hi] {
            let (value, emptied) = owned_input::<T>(plan.get(), keep_inputs, d);
            emptied_here += usize::from(emptied);
            match value {
                Some(v) => written.push(v),
                None => {
                    failed.store(true, Ordering::Relaxed);
                    break;
                }
            }
        }
        emptied.fetch_add(emptied_here, Ordering::Relaxed);
        if written.len == hi - lo {
            written.keep();
            complete[c].store(true, Ordering::Relaxed);
        }
    };
    let outcome = run_chunks(chunks, &work);
    // Every chunk has finished: what they wrote is visible here (`run_chunks`).
    let emptied = emptied.load(Ordering::Relaxed);
    let all = complete.iter().all(|c| c.load(Ordering::Relaxed));
    if outcome.is_ok() && all {
        // SAFETY: every chunk wrote every value of its range, i.e. all `count`.
        unsafe { values.set_len(count) };
        return (Some(values), emptied);
    }
    for (c, done) in complete.iter().enumerate() {
        if done.load(Ordering::Relaxed) {
            let lo = c * CHUNK;
            let hi = (lo + CHUNK).min(count);
            // SAFETY: chunk `c` wrote all of `lo..hi`, and nothing else will drop them
            // (the vector's length stays 0).
            unsafe { drop_range(out.at(lo), hi - lo) };
        }
    }
    if let Err(panic) = outcome {
        resume_unwind(panic);
    }
    (None, emptied)
}

/// Sets its flag if dropped while the thread panics.
struct StopOnPanic<'a>(&'a AtomicBool);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

/// The vector's spare capacity, written by several chunks at disjoint offsets.
struct Spare<T>(*mut MaybeUninit<T>);

// Not derived: a derive would ask `T: Copy`.
impl<T> Clone for Spare<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Spare<T> {}

impl<T> Spare<T> {
    /// Where element `i` goes.
    ///
    /// # Safety
    /// `i` is within the capacity.
    unsafe fn at(self, i: usize) -> *mut MaybeUninit<T> {
        // SAFETY: the caller's promise.
        unsafe { self.0.add(i) }
    }
}

// SAFETY: each chunk writes only its own range of the capacity (`gather_owned`), and
// values of `T: Send` may be made on one thread and dropped on another.
unsafe impl<T: Send> Send for Spare<T> {}
// SAFETY: as for `Send`.
unsafe impl<T: Send> Sync for Spare<T> {}

/// The plan of the task whose inputs are gathered, lent to the workers that take chunks.
#[derive(Clone, Copy)]
struct PlanOfTask<'p, 'g>(&'p Plan<'g>);

impl<'p, 'g> PlanOfTask<'p, 'g> {
    fn get(self) -> &'p Plan<'g> {
        self.0
    }
}

// SAFETY: the pool's workers share every plan they run in the same way (`ExecRef`): its
// counters are atomic, and a result slot is touched only by a holder of one of its reader
// counts, ordered after the slot's store by the counters. The chunks read slots on behalf
// of the task, which holds a reader count of every input until it finishes; it waits for
// every chunk first, and its own acquisition of the inputs happens before the chunks run
// (the job that offers them is published after it, and each chunk's end is published to
// the task by `exec::chunks`' `Release`/`Acquire` count).
unsafe impl Sync for PlanOfTask<'_, '_> {}

/// Values written from `start` on; dropped again if the chunk does not finish (a panic
/// unwinds, an input is missing) unless [`keep`](Self::keep) hands them to the vector.
struct Written<T> {
    start: *mut MaybeUninit<T>,
    len: usize,
}

impl<T> Written<T> {
    /// # Safety
    /// `start` begins a range of spare capacity this value alone writes.
    unsafe fn new(start: *mut MaybeUninit<T>) -> Self {
        Written { start, len: 0 }
    }

    #[inline]
    fn push(&mut self, value: T) {
        // SAFETY: within the chunk's range (the caller pushes at most its length).
        unsafe { (*self.start.add(self.len)).write(value) };
        self.len += 1;
    }

    fn keep(self) {
        std::mem::forget(self);
    }
}

impl<T> Drop for Written<T> {
    fn drop(&mut self) {
        // SAFETY: the first `len` values were written by `push` and are owned here.
        unsafe { drop_range(self.start, self.len) };
    }
}

/// Drops `len` initialized values from `start` on.
///
/// # Safety
/// They are initialized and owned by the caller, and not used again.
unsafe fn drop_range<T>(start: *mut MaybeUninit<T>, len: usize) {
    // SAFETY: the caller's promise.
    unsafe { std::ptr::drop_in_place(std::ptr::slice_from_raw_parts_mut(start.cast::<T>(), len)) };
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::{AtomicI64, Ordering};
    use std::sync::Arc;

    use super::{CHUNK, SHARED_FROM};
    use crate::{compute_with, delayed, Config, Delayed, Error, Scheduler};

    /// Shared, with a short last chunk.
    const WIDE: usize = SHARED_FROM + CHUNK / 2 + 3;

    /// Counts the values alive; its clone of `poison` panics.
    struct Tracked {
        id: u64,
        poison: u64,
        live: Arc<AtomicI64>,
    }

    impl Tracked {
        fn new(id: u64, poison: u64, live: &Arc<AtomicI64>) -> Self {
            live.fetch_add(1, Ordering::SeqCst);
            Tracked {
                id,
                poison,
                live: live.clone(),
            }
        }
    }

    impl Clone for Tracked {
        fn clone(&self) -> Self {
            assert!(self.id != self.poison, "cloning {} is refused", self.id);
            Tracked::new(self.id, self.poison, &self.live)
        }
    }

    impl Drop for Tracked {
        fn drop(&mut self) {
            self.live.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Gathers `inputs`' ids; with `retries` it keeps (clones) its inputs.
    fn ids(inputs: Vec<Delayed<Tracked>>, retries: u32) -> Delayed<Vec<u64>> {
        crate::__private::task(
            &crate::__private::test_spec("ids", "shared_gather::tests::ids", retries),
            None,
            (crate::IntoArg::<Vec<Tracked>>::into_arg(inputs),),
            |args, inputs| Ok(args.0.owned(inputs)?.iter().map(|t| t.id).collect()),
            crate::node::no_codec,
        )
    }

    fn sources(poison: u64, live: &Arc<AtomicI64>) -> Vec<Delayed<Tracked>> {
        (0..WIDE as u64)
            .map(|id| {
                let live = live.clone();
                delayed(id).map(move |id| Tracked::new(*id, poison, &live))
            })
            .collect()
    }

    const SCHEDULERS: [Scheduler; 3] = [
        Scheduler::Sync,
        Scheduler::Threads(1),
        Scheduler::Threads(2),
    ];

    #[test]
    fn moved_or_cloned_inputs_arrive_in_order_and_each_value_is_dropped_once() {
        for scheduler in SCHEDULERS {
            for retries in [0, 1] {
                let live = Arc::new(AtomicI64::new(0));
                let join = ids(sources(u64::MAX, &live), retries);
                let config = Config::default().scheduler(scheduler);
                let got = compute_with(&[join], &config).unwrap();
                assert_eq!(
                    got[0],
                    (0..WIDE as u64).collect::<Vec<u64>>(),
                    "{scheduler:?}"
                );
                assert_eq!(
                    live.load(Ordering::SeqCst),
                    0,
                    "{scheduler:?}, {retries} retries"
                );
            }
        }
    }

    #[test]
    fn zero_sized_values_are_gathered_and_each_dropped_once() {
        static DROPS: AtomicI64 = AtomicI64::new(0);
        #[derive(Clone)]
        struct Unit;
        impl Drop for Unit {
            fn drop(&mut self) {
                DROPS.fetch_add(1, Ordering::SeqCst);
            }
        }
        for scheduler in SCHEDULERS {
            DROPS.store(0, Ordering::SeqCst);
            let parts: Vec<Delayed<Unit>> =
                (0..WIDE as u64).map(|i| delayed(i).map(|_| Unit)).collect();
            let count = crate::__private::task(
                &crate::__private::test_spec("count", "shared_gather::tests::count", 0),
                None,
                (crate::IntoArg::<Vec<Unit>>::into_arg(parts),),
                |args, inputs| Ok(args.0.owned(inputs)?.len()),
                crate::node::no_codec,
            );
            let config = Config::default().scheduler(scheduler);
            assert_eq!(compute_with(&[count], &config).unwrap(), vec![WIDE]);
            // Each value moved into the vector and dropped with it, nothing twice.
            assert_eq!(DROPS.load(Ordering::SeqCst), WIDE as i64, "{scheduler:?}");
        }
    }

    #[test]
    fn a_panicking_clone_fails_the_task_and_drops_what_was_gathered() {
        for scheduler in SCHEDULERS {
            let live = Arc::new(AtomicI64::new(0));
            // Mid-chunk, neither in the first chunk nor the last.
            let poison = (CHUNK + CHUNK / 2) as u64;
            let join = ids(sources(poison, &live), 1);
            let config = Config::default().scheduler(scheduler);
            match compute_with(&[join], &config) {
                Err(Error::Panic { message, .. }) => {
                    assert!(message.contains("cloning"), "{scheduler:?}: {message}")
                }
                other => panic!("{scheduler:?}: expected a panic, got {other:?}"),
            }
            assert_eq!(live.load(Ordering::SeqCst), 0, "{scheduler:?}");
        }
    }
}
