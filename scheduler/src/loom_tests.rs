//! Model checking of the completion protocol with loom (`RUSTFLAGS="--cfg loom"`).
//!
//! Two loom threads drive a small plan through the real per-task code (`execute`,
//! `release`, `satisfy`, `notify`): a shared producer read by a borrower and by an
//! owner (who moves the value when last, clones otherwise), gathered by a final task.
//! loom explores the interleavings; its `UnsafeCell` reports any access to a result
//! slot that is not ordered after the store or before the clear, and the final value
//! and the reader counts are checked every time.

use std::sync::Arc;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Mutex;

use crate::delayed::Delayed;
use crate::node_ref::NodeRef;
use crate::plan::{HeldCounts, Plan, ReadySink};

struct SharedQueue<'a>(&'a Mutex<Vec<u32>>);

impl ReadySink for SharedQueue<'_> {
    fn push_ready(&mut self, t: u32) {
        self.0.lock().unwrap().push(t);
    }

    fn push_notify(&mut self, _task: u32, _lo: u32, _hi: u32) {
        unreachable!("the modelled graph has no long successor lists")
    }
}

fn graph() -> Vec<Delayed<u64>> {
    let source = crate::delayed(3u64).map(|v| vec![*v; 4]);
    let borrower = source.map(|v| v.iter().sum::<u64>());
    let owner = crate::__private::task(
        &crate::__private::test_spec("owner", "loom::owner", 0),
        None,
        (crate::Arg::Node(source.clone()),),
        |args, inputs| {
            let mut v: Vec<u64> = args.0.owned(inputs)?;
            v.push(1);
            Ok(v.len() as u64)
        },
        crate::node::no_codec,
    );
    let sum = crate::__private::task(
        &crate::__private::test_spec("sum", "loom::sum", 0),
        None,
        (crate::Arg::Gather(Box::new(GatherTwo(borrower, owner))),),
        |args, inputs| Ok(args.0.owned(inputs)?.iter().sum::<u64>()),
        crate::node::no_codec,
    );
    vec![sum]
}

/// Gathers two nodes into a `Vec` (what `Vec<Delayed<T>>` arguments do).
struct GatherTwo(Delayed<u64>, Delayed<u64>);

impl crate::args::Gather<Vec<u64>> for GatherTwo {
    fn for_each_dep<'s>(&'s self, f: &mut dyn FnMut(&'s NodeRef, u32), position: u32) {
        f(self.0.node_ref(), position);
        f(self.1.node_ref(), position);
    }

    fn drain_deps(&mut self, _out: &mut crate::drop_queue::DropQueue) {}

    fn collect(
        &self,
        inputs: &crate::args::Inputs<'_>,
    ) -> Result<Vec<u64>, crate::error::TaskFailure> {
        Ok(vec![inputs.next_owned()?, inputs.next_owned()?])
    }

    fn hash_keys(&self, _hasher: &mut crate::key::StableHasher) {}
}

/// Runs `model` under loom, prints and returns how many interleavings it explored.
fn explore(name: &str, model: impl Fn() + Sync + Send + 'static) -> usize {
    use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering as StdOrdering};
    let explored = Arc::new(StdAtomicUsize::new(0));
    let counter = explored.clone();
    loom::model(move || {
        counter.fetch_add(1, StdOrdering::Relaxed);
        model();
    });
    let n = explored.load(StdOrdering::Relaxed);
    println!("loom explored {n} interleavings of {name}");
    n
}

#[test]
fn loom_tasks_hand_results_over_without_races() {
    task_protocol("the task protocol", HeldCounts::immediate);
}

/// The same with the pool's held-back decrements (`plan/held.rs`): under loom every
/// node with more than one reader or input is wide, so the source's releases and the
/// gathering task's decrements are held and applied by each worker's flush at the end
/// of its job.
#[test]
fn loom_held_back_decrements_hand_results_over_without_races() {
    task_protocol("held-back decrements", HeldCounts::batching);
}

fn task_protocol(name: &str, held: fn() -> HeldCounts) {
    let explored = explore(name, move || {
        // Leaked per iteration: loom threads need 'static data.
        let outputs: &'static Vec<Delayed<u64>> = Box::leak(Box::new(graph()));
        let nodes: Vec<&'static NodeRef> = outputs.iter().map(|d| d.node_ref()).collect();
        let plan: &'static Plan<'static> =
            Box::leak(Box::new(Plan::build(|list| list.extend(nodes))));
        assert_eq!(plan.graph().task_count(), 4);
        let queue: &'static Mutex<Vec<u32>> =
            Box::leak(Box::new(Mutex::new(plan.graph().roots().to_vec())));
        let finished: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));

        let worker = move || {
            while finished.load(Ordering::Acquire) < plan.graph().task_count() {
                let job = queue.lock().unwrap().pop();
                let Some(mut t) = job else {
                    loom::thread::yield_now();
                    continue;
                };
                let mut held = held();
                loop {
                    plan.execute(t, &mut held);
                    finished.fetch_add(1, Ordering::AcqRel);
                    match plan.notify(t, &mut SharedQueue(queue), &mut held) {
                        Some(next) => t = next,
                        None => match plan.flush_held(&mut held) {
                            Some(join) => t = join,
                            None => break,
                        },
                    }
                }
            }
        };
        let other = loom::thread::spawn(worker);
        worker();
        other.join().unwrap();

        assert!(plan.take_error().is_none());
        assert_eq!(plan.take_output::<u64>(0).unwrap(), 12 + 5);
        for i in 0..plan.graph().len() as u32 {
            // SAFETY: every task has finished and the output was taken: nobody else
            // touches a slot any more.
            assert!(
                unsafe { plan.borrow_any(i) }.is_none(),
                "every result was freed by its last reader"
            );
        }
    });
    assert!(explored > 100, "the model must branch: {explored}");
}

/// The sleep protocol (`exec::sleep`): a worker that finds no work registers, looks once
/// more and parks; a publisher makes work visible, then notifies. loom fails the model
/// with a deadlock if any interleaving leaves the worker parked with work published.
#[test]
fn loom_an_idle_worker_is_never_left_asleep_with_work_published() {
    use crate::exec::sleep::Sleep;
    use crate::sync::Unparker;
    use loom::sync::atomic::AtomicBool;

    explore("the sleep protocol", || {
        let work = Arc::new(AtomicBool::new(false));
        let sleep = Arc::new(Sleep::new(
            vec![Unparker(loom::thread::current())].into_boxed_slice(),
        ));
        let publisher = {
            let (work, sleep) = (work.clone(), sleep.clone());
            // A deque push is a store the worker's steal then reads.
            loom::thread::spawn(move || {
                work.store(true, Ordering::Relaxed);
                sleep.notify_one();
            })
        };
        // The worker (this thread), as in `WorkerCtx::run_until` + `sleep`.
        loop {
            if work.load(Ordering::Relaxed) {
                break;
            }
            sleep.register(0);
            let found = work.load(Ordering::Relaxed);
            if !found {
                loom::thread::park();
            }
            sleep.unregister(0);
            if found {
                break;
            }
        }
        publisher.join().unwrap();
    });
}

/// The completion signal (`Execution::report`): workers report finished tasks; the one
/// that finishes the plan sets `done` and wakes the waiter, which must then see every
/// task accounted for and must never sleep through the signal.
#[test]
fn loom_the_last_report_wakes_the_waiter() {
    use crate::exec::job::Execution;
    use crate::sync::Unparker;

    explore("the completion signal", || {
        let outputs: &'static Vec<Delayed<u64>> = Box::leak(Box::new(vec![
            crate::delayed(1u64).map(|v| *v),
            crate::delayed(2u64).map(|v| *v),
        ]));
        let nodes: Vec<&'static NodeRef> = outputs.iter().map(|d| d.node_ref()).collect();
        let plan: &'static Plan<'static> =
            Box::leak(Box::new(Plan::build(|list| list.extend(nodes))));
        assert_eq!(plan.graph().task_count(), 2);
        let exec: &'static Execution<'static, 'static> = Box::leak(Box::new(Execution::new(
            plan,
            Unparker(loom::thread::current()),
            None,
        )));
        let reporters: Vec<_> = (0..2)
            .map(|_| {
                let ptr = exec as *const Execution<'static, 'static> as usize;
                loom::thread::spawn(move || {
                    // SAFETY: the execution is leaked, so it outlives every report.
                    unsafe { Execution::report(ptr as *const Execution<'static, 'static>, 1) }
                })
            })
            .collect();
        while !exec.is_done() {
            loom::thread::park();
        }
        assert_eq!(plan.unfinished().load(Ordering::Acquire), 0);
        for r in reporters {
            r.join().unwrap();
        }
    });
}

/// Roots claimed from the shared cursor (`Execution::claim_roots`), as the workers do:
/// the first job owns root 0; its worker claims the next range ahead for a thief while
/// it still owns unrun roots, then both claim from the cursor until it is exhausted
/// and report. Every root runs exactly once, nobody claims once the plan could be
/// complete, and the last report wakes the waiter.
#[test]
fn loom_roots_are_claimed_once_from_the_shared_cursor() {
    use crate::exec::job::{Execution, FIRST_ROOTS};
    use crate::sync::Unparker;

    explore("claiming roots", || {
        // Runs per root, counted outside loom: only the totals matter.
        let runs: &'static [std::sync::atomic::AtomicUsize; 3] = Box::leak(Box::default());
        let outputs: &'static Vec<Delayed<u64>> = Box::leak(Box::new(
            (1..=3u64)
                .map(|i| {
                    crate::delayed(i).map(move |v| {
                        runs[i as usize - 1].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        *v * 10
                    })
                })
                .collect(),
        ));
        let nodes: Vec<&'static NodeRef> = outputs.iter().map(|d| d.node_ref()).collect();
        let plan: &'static Plan<'static> =
            Box::leak(Box::new(Plan::build(|list| list.extend(nodes))));
        assert_eq!(plan.graph().roots().len(), 3);
        let exec: &'static Execution<'static, 'static> = Box::leak(Box::new(Execution::new(
            plan,
            Unparker(loom::thread::current()),
            None,
        )));
        let one_at_a_time: &'static crate::batch::Batcher = Box::leak(Box::new(
            crate::batch::Batcher::new(crate::BatchSize::Fixed(1), 2),
        ));
        // The claim handed to the thief: `Some(None)` when there was nothing to claim.
        let handoff: &'static Mutex<Option<Option<(u32, u32)>>> =
            Box::leak(Box::new(Mutex::new(None)));

        let work = move |(mut lo, mut hi): (u32, u32)| {
            let mut finished = 0;
            loop {
                for r in lo..hi {
                    let t = plan.graph().roots()[r as usize];
                    plan.execute(t, &mut HeldCounts::immediate());
                    finished += 1;
                    assert!(plan
                        .notify(
                            t,
                            &mut SharedQueue(&Mutex::new(vec![])),
                            &mut HeldCounts::immediate()
                        )
                        .is_none());
                }
                // Claiming is allowed only while holding unreported finished tasks.
                assert!(plan.unfinished().load(Ordering::SeqCst) >= finished);
                match exec.claim_roots(one_at_a_time) {
                    Some(range) => (lo, hi) = range,
                    None => break,
                }
            }
            let ptr = exec as *const Execution<'static, 'static> as usize;
            // SAFETY: the execution is leaked, so it outlives every report.
            unsafe { Execution::report(ptr as *const Execution<'static, 'static>, finished) };
        };
        let first = loom::thread::spawn(move || {
            // The first job owns roots `0..FIRST_ROOTS` and claims ahead for a thief.
            *handoff.lock().unwrap() = Some(exec.claim_roots(one_at_a_time));
            work((0, FIRST_ROOTS as u32));
        });
        let thief = loom::thread::spawn(move || loop {
            let claim = handoff.lock().unwrap().take();
            match claim {
                Some(Some(range)) => break work(range),
                Some(None) => break,
                None => loom::thread::yield_now(),
            }
        });
        while !exec.is_done() {
            loom::thread::park();
        }
        assert_eq!(plan.unfinished().load(Ordering::Acquire), 0);
        for (i, _) in outputs.iter().enumerate() {
            assert_eq!(plan.take_output::<u64>(i).unwrap(), (i as u64 + 1) * 10);
            let ran = runs[i].load(std::sync::atomic::Ordering::Relaxed);
            assert_eq!(ran, 1, "root {i} ran {ran} times");
        }
        first.join().unwrap();
        thief.join().unwrap();
    });
}

/// Chunks of work shared with idle workers (`exec::chunks`): the caller offers the
/// work as a job and claims chunks; a thief takes the job at any moment, or never (the
/// caller takes it back). Every chunk runs once, what a chunk writes is visible to the
/// caller once it sees every chunk finished, and nobody calls the work after that: the
/// work's borrows end there.
/// The caller's side of sharing chunks with one thief: the job is offered on the caller's
/// deque (whoever swaps `offered` out owns it), the caller takes chunks, takes its job
/// back and waits until every chunk finished. Returns the thief, still to be joined.
fn share_with_a_thief(
    share: &Arc<crate::exec::chunks::ChunkShare>,
) -> loom::thread::JoinHandle<()> {
    use crate::sync::AtomicBool;

    let offered = Arc::new(AtomicBool::new(true));
    let thief = {
        let (share, offered) = (share.clone(), offered.clone());
        loom::thread::spawn(move || {
            if offered.swap(false, Ordering::AcqRel) {
                share.take_part();
            }
        })
    };
    share.take_part();
    offered.swap(false, Ordering::AcqRel);
    while !share.all_finished() {
        loom::thread::yield_now();
    }
    thief
}

#[test]
fn loom_shared_chunks_run_once_and_never_after_the_caller_stops_waiting() {
    use crate::exec::chunks::ChunkShare;
    use crate::sync::{AtomicBool, UnsafeCell};

    /// One cell per chunk.
    struct Cells([UnsafeCell<u32>; 2]);
    // SAFETY: each cell is written by the one call of its chunk and read by the caller
    // after every chunk finished; loom checks exactly that ordering.
    unsafe impl Sync for Cells {}

    explore("shared chunks", || {
        let cells = Cells([UnsafeCell::new(0), UnsafeCell::new(0)]);
        let cells = &cells;
        let returned = AtomicBool::new(false);
        let work = |i: usize| {
            assert!(
                !returned.load(Ordering::SeqCst),
                "chunk {i} ran after the caller stopped waiting"
            );
            // SAFETY: each chunk index is claimed once, so each cell has one writer;
            // loom reports a write not ordered before the caller's read.
            cells.0[i].with_mut(|c| unsafe { *c += 1 });
        };
        // SAFETY: the caller waits for `all_finished` (in `share_with_a_thief`) before
        // `work` goes.
        let share = Arc::new(unsafe { ChunkShare::new(2, &work) });
        let thief = share_with_a_thief(&share);
        for cell in &cells.0 {
            // SAFETY: every chunk finished (`Acquire`), so no writer is left.
            assert_eq!(cell.with(|c| unsafe { *c }), 1);
        }
        assert!(share.take_panic().is_none());
        returned.store(true, Ordering::SeqCst);
        thief.join().unwrap();
    });
}

#[test]
fn loom_panicking_chunks_finish_and_each_payload_is_dropped_once() {
    use crate::exec::chunks::ChunkShare;

    /// A panic payload that counts its drops.
    struct Payload(usize, Arc<AtomicUsize>);
    impl Drop for Payload {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::SeqCst);
        }
    }

    explore("panicking chunks", || {
        let drops = Arc::new(AtomicUsize::new(0));
        // Both chunks panic; `resume_unwind` skips the panic hook, which would print a
        // message in every interleaving.
        let work = |i: usize| std::panic::resume_unwind(Box::new(Payload(i, drops.clone())));
        // SAFETY: the caller waits for `all_finished` (in `share_with_a_thief`) before
        // `work` goes.
        let share = Arc::new(unsafe { ChunkShare::new(2, &work) });
        let thief = share_with_a_thief(&share);
        // The first panic is kept; the other chunk's payload was dropped by then, once.
        let kept = share.take_panic().expect("a chunk panicked");
        let kept = kept
            .downcast::<Payload>()
            .ok()
            .expect("the chunk's own payload");
        assert!(kept.0 < 2);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert!(share.take_panic().is_none(), "one panic is kept");
        drop(kept);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        thief.join().unwrap();
    });
}
