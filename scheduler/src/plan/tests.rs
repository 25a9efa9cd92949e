//! Unit tests of the result-slot protocol through real computations: they are what Miri
//! runs (`cargo +nightly miri test --lib`), so they exercise every `unsafe` path: store,
//! borrow, take (moving out), clone of shared values, clear, outputs, and the execution
//! pointer carried by jobs across the pool's threads.

use crate::node_ref::NodeRef;
use crate::{compute_with, delayed, Config, Delayed, Scheduler};

fn configs() -> [Config; 2] {
    [
        Config::default().scheduler(Scheduler::Sync),
        Config::default().scheduler(Scheduler::Threads(2)),
    ]
}

#[test]
fn borrowed_moved_and_shared_results_reach_their_readers() {
    for config in configs() {
        let base: Delayed<Vec<u64>> = delayed(vec![1, 2, 3]);
        let doubled = base.map(|v| v.iter().map(|x| x * 2).collect::<Vec<u64>>());
        let sum = doubled.map(|v| v.iter().sum::<u64>());
        let len = doubled.map(|v| v.len() as u64);
        let again = base.map(|v| v.len() as u64);
        let out = compute_with(&[sum, len, again], &config).unwrap();
        assert_eq!(out, vec![12, 3, 3]);
        // An intermediate requested as an output too is kept, then moved out.
        let (d, s) = compute_with((&doubled, &doubled.map(|v| v[0])), &config).unwrap();
        assert_eq!((d, s), (vec![2, 4, 6], 2));
    }
}

#[derive(Debug, thiserror::Error)]
#[error("no")]
struct No;

#[test]
fn failures_panics_and_retries_leave_slots_consistent() {
    for config in configs() {
        let x = delayed(String::from("abc"));
        let ok = x.map(|s| s.len());
        let bad = crate::__private::task(
            &crate::__private::test_spec("bad", "tests::bad", 1),
            None,
            (crate::Arg::Node(x.clone()),),
            |args, inputs| {
                let s: String = args.0.owned(inputs)?;
                if s.len() == 3 {
                    Err(crate::error::TaskFailure::Failed(Box::new(No)))
                } else {
                    Ok(s)
                }
            },
            crate::node::no_codec,
        );
        assert!(compute_with(&[bad.map(|s| s.len()), ok.clone()], &config).is_err());
        let boom = ok.map(|n| if *n == 3 { panic!("boom") } else { *n });
        assert!(compute_with(&[boom], &config).is_err());
        assert_eq!(compute_with(&[ok], &config).unwrap(), vec![3]);
    }
}

#[test]
fn gathered_inputs_and_a_small_fan_out() {
    for config in configs() {
        let root = delayed(5u32).map(|v| *v);
        let leaves: Vec<Delayed<u32>> = (0..8u32).map(|i| root.map(move |r| r + i)).collect();
        let total = crate::__private::task(
            &crate::__private::test_spec("total", "tests::total", 0),
            None,
            (crate::IntoArg::<Vec<u32>>::into_arg(leaves),),
            |args, inputs| Ok(args.0.owned(inputs)?.iter().sum::<u32>()),
            crate::node::no_codec,
        );
        assert_eq!(compute_with(&[total], &config).unwrap(), vec![8 * 5 + 28]);
    }
}

#[test]
fn planning_writes_12_bytes_of_run_state_per_node() {
    // Planning writes a node's counters and state for every node; every byte is memory
    // traffic. The result slot (32 bytes, holding results of up to two words in place) is
    // kept empty from plan to plan in an array of its own and not written at all. The
    // graph's share of a node is the node reference, two flag bytes and two edge-list
    // offsets (26 bytes).
    let run = std::mem::size_of::<super::RunNode>();
    assert!(run <= 12, "{run}");
    let slot = std::mem::size_of::<super::slot::ResultSlot>();
    assert!(slot <= 32, "{slot}");
}

/// The slots a plan leaves are empty for the next one, whatever the first one ended
/// with: a failure that left results in their slots, a value node's value, an output
/// nobody took. A slot left full would keep its value alive into later plans, dropped
/// only when overwritten, in whatever thread. `Plan::drop` checks in debug builds; the
/// kept slots are checked here after each computation too, in any build.
#[test]
fn a_plan_leaves_every_result_slot_empty_for_the_next() {
    let compute_with = |outputs: &[Delayed<u64>], config: &Config| {
        let result = compute_with(outputs, config);
        assert_ne!(
            super::buffers::kept_slots_are_empty(),
            Some(false),
            "a result slot kept for the next plan is full"
        );
        result
    };
    for config in configs() {
        // Fails after its sibling stored a result its reader never released.
        let x = delayed(vec![7u64; 3]);
        let held = x.map(|v| v.clone());
        let bad = held.map(|_| -> u64 { panic!("boom") });
        let reader = held.map(|v| v.len() as u64);
        assert!(compute_with(&[bad.clone(), reader], &config).is_err());
        // A value node requested as an output of a computation that fails: nobody takes
        // it, so its slot still holds the value when the plan is dropped.
        assert!(compute_with(&[delayed(9u64), bad], &config).is_err());
        // The same shape again, succeeding: every slot it reads must be its own.
        let y = delayed(vec![1u64, 2]);
        let sum = y.map(|v| v.iter().sum::<u64>());
        let len = y.map(|v| v.len() as u64);
        assert_eq!(compute_with(&[sum, len], &config).unwrap(), vec![3, 2]);
        // A value node and an output requested twice, then a plan of plain tasks.
        let v = delayed(5u64);
        let twice = v.map(|n| n * 2);
        assert_eq!(
            compute_with(&[twice.clone(), twice, v], &config).unwrap(),
            vec![10, 10, 5]
        );
        let a = delayed(1u64).map(|n| n + 1).map(|n| n + 1);
        assert_eq!(compute_with(&[a], &config).unwrap(), vec![3]);
    }
}

#[test]
fn wide_fan_outs_and_joins_free_and_deliver_every_result_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// A result that counts its drops.
    #[derive(Clone)]
    struct Counted(u64, Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.1.fetch_add(1, Ordering::Relaxed);
        }
    }

    const LEAVES: u64 = 4 * super::held::WIDE as u64 + 3;
    for config in configs() {
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let first = delayed(1u64).map(move |v| Counted(*v, d.clone()));
        let d = drops.clone();
        let second = delayed(2u64).map(move |v| Counted(*v, d.clone()));
        // Leaves read the two wide sources alternately, so a worker's held releases
        // switch from one to the other; even leaves feed two wide joins, so its held
        // decrements switch between joins too.
        let leaves: Vec<Delayed<u64>> = (0..LEAVES)
            .map(|i| {
                let source = if i % 2 == 0 { &first } else { &second };
                source.map(move |c| c.0 * 1000 + i)
            })
            .collect();
        let evens: Vec<Delayed<u64>> = leaves.iter().step_by(2).cloned().collect();
        let all = crate::__private::task(
            &crate::__private::test_spec("all", "tests::all", 0),
            None,
            (crate::IntoArg::<Vec<u64>>::into_arg(leaves),),
            |args, inputs| Ok(args.0.owned(inputs)?.iter().sum::<u64>()),
            crate::node::no_codec,
        );
        let even = crate::__private::task(
            &crate::__private::test_spec("even", "tests::even", 0),
            None,
            (crate::IntoArg::<Vec<u64>>::into_arg(evens),),
            |args, inputs| Ok(args.0.owned(inputs)?.iter().sum::<u64>()),
            crate::node::no_codec,
        );
        let expect_all: u64 = (0..LEAVES).map(|i| (1 + i % 2) * 1000 + i).sum();
        let expect_even: u64 = (0..LEAVES).step_by(2).map(|i| 1000 + i).sum();
        // Under Miri (which runs these tests for the slots' unsafe code) one round.
        let rounds = if cfg!(miri) { 1 } else { 20 };
        for _ in 0..rounds {
            let before = drops.load(Ordering::Relaxed);
            let out = compute_with(&[all.clone(), even.clone()], &config).unwrap();
            assert_eq!(out, vec![expect_all, expect_even]);
            // Each source's result is freed exactly once, before `compute` returns.
            assert_eq!(drops.load(Ordering::Relaxed) - before, 2);
        }
    }
}

/// Nodes built on many threads (each with its own allocator arena, far apart in memory)
/// and interleaved with big allocations: the planner's table of visited nodes then holds
/// pages outside its window. Every shared node must still run once and be read by all.
#[test]
fn nodes_far_apart_in_memory_are_each_planned_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let runs = Arc::new(AtomicUsize::new(0));
    let threads = if cfg!(miri) { 2 } else { 8 };
    let per_thread = if cfg!(miri) { 3 } else { 200 };
    let root = {
        let runs = Arc::clone(&runs);
        delayed(1u64).map(move |x| {
            runs.fetch_add(1, Ordering::Relaxed);
            *x
        })
    };
    let parts: Vec<Delayed<u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (root, runs) = (root.clone(), Arc::clone(&runs));
                s.spawn(move || {
                    let mut spacers = Vec::new();
                    let mut last = root;
                    for i in 0..per_thread {
                        // A spacer between nodes pushes the next node pages away.
                        spacers.push(vec![0u8; 64 << 10]);
                        let runs = Arc::clone(&runs);
                        let add = (t * per_thread + i) as u64;
                        last = last.map(move |x| {
                            runs.fetch_add(1, Ordering::Relaxed);
                            x + add
                        });
                    }
                    drop(spacers);
                    last
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let n = (threads * per_thread) as u64;
    // Every chain adds its own numbers to the shared root's 1.
    let expected: u64 = (0..threads as u64)
        .map(|t| 1 + (t * per_thread as u64..(t + 1) * per_thread as u64).sum::<u64>())
        .sum();
    for config in configs() {
        runs.store(0, Ordering::Relaxed);
        let ends = compute_with(&parts, &config).unwrap();
        assert_eq!(ends.iter().sum::<u64>(), expected);
        assert_eq!(
            runs.load(Ordering::Relaxed),
            n as usize + 1,
            "each node once"
        );
    }
}

/// Nodes the planner enters deep in its walk (below a chain longer than its stack
/// threshold) keep their retries and their purity: the planner notes only plain headers
/// (no retries, not pure) on entering them, and reads the others again on leaving.
#[test]
fn retries_and_pure_merging_hold_deep_in_a_long_chain() {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    if cfg!(miri) {
        // Tens of thousands of links: far too slow under Miri, and no `unsafe` of its own.
        return;
    }
    const LINKS: u64 = 3 * super::DEEP_WALK as u64;
    for config in configs() {
        let attempts = Arc::new(AtomicU32::new(0));
        let pure_runs = Arc::new(AtomicU32::new(0));
        let tried = attempts.clone();
        let flaky = crate::__private::task(
            &crate::__private::test_spec("flaky", "tests::flaky", 1),
            None,
            (crate::Arg::Node(delayed(1u64)),),
            move |args, inputs| {
                let v: u64 = args.0.owned(inputs)?;
                if tried.fetch_add(1, Ordering::SeqCst) == 0 {
                    Err(crate::error::TaskFailure::Failed(Box::new(No)))
                } else {
                    Ok(v)
                }
            },
            crate::node::no_codec,
        );
        let pure = |input: &Delayed<u64>| {
            let runs = pure_runs.clone();
            crate::__private::task(
                &crate::__private::test_spec("pure", "tests::pure", 0),
                Some(0x5eed),
                (crate::Arg::Node(input.clone()),),
                move |args, inputs| {
                    runs.fetch_add(1, Ordering::SeqCst);
                    Ok(args.0.owned(inputs)? + 1)
                },
                crate::node::no_codec,
            )
        };
        let (a, b) = (pure(&flaky), pure(&flaky));
        let mut link = crate::__private::task(
            &crate::__private::test_spec("both", "tests::both", 0),
            None,
            (crate::Arg::Node(a), crate::Arg::Node(b)),
            |args, inputs| Ok(args.0.owned(inputs)? + args.1.owned(inputs)?),
            crate::node::no_codec,
        );
        for _ in 0..LINKS {
            link = link.map(|v| v + 1);
        }
        assert_eq!(compute_with(&[link], &config).unwrap(), vec![4 + LINKS]);
        assert_eq!(attempts.load(Ordering::SeqCst), 2, "the retry was kept");
        assert_eq!(
            pure_runs.load(Ordering::SeqCst),
            1,
            "equal pure calls merged"
        );
    }
}

/// Each node's (pending, readers, state, slot full) as the plan's run state holds them.
fn run_state_of(plan: &mut super::Plan<'_>) -> Vec<(u32, u32, u8, bool)> {
    use std::sync::atomic::Ordering::Relaxed;
    let n = plan.graph.len();
    let (nodes, slots) = (&plan.run.nodes, &mut plan.run.slots);
    (0..n)
        .map(|i| {
            let node = &nodes[i];
            (
                node.pending.load(Relaxed),
                node.readers.load(Relaxed),
                node.state.load(Relaxed),
                !slots[i].is_empty(),
            )
        })
        .collect()
}

/// Shared inputs, an input read twice by one task, value nodes, equal pure calls merged
/// and a join: everything the planner's counts depend on. Returns the outputs.
fn counted_graph() -> Vec<Delayed<u64>> {
    counted_graph_from(delayed(3u64))
}

/// [`counted_graph`] without value nodes: its data comes from a task (a kept plan resets
/// such a graph on a path of its own).
fn counted_tasks() -> Vec<Delayed<u64>> {
    let data = crate::__private::task(
        &crate::__private::test_spec("three", "tests::three", 0),
        None,
        (),
        |_, _| Ok(3u64),
        crate::node::no_codec,
    );
    counted_graph_from(data)
}

fn counted_graph_from(data: Delayed<u64>) -> Vec<Delayed<u64>> {
    let shared = data.map(|v| v + 1);
    let twice = crate::__private::task(
        &crate::__private::test_spec("twice", "tests::twice", 2),
        None,
        (
            crate::Arg::Node(shared.clone()),
            crate::Arg::Node(shared.clone()),
        ),
        |args, inputs| Ok(args.0.owned(inputs)? * args.1.owned(inputs)?),
        crate::node::no_codec,
    );
    let pure = |input: &Delayed<u64>| {
        crate::__private::task(
            &crate::__private::test_spec("pure", "tests::pure", 0),
            Some(0x5eed),
            (
                crate::Arg::Node(input.clone()),
                crate::Arg::Node(data.clone()),
            ),
            |args, inputs| Ok(args.0.owned(inputs)? + args.1.owned(inputs)?),
            crate::node::no_codec,
        )
    };
    let (p, q) = (pure(&twice), pure(&twice));
    let leaves: Vec<Delayed<u64>> = (0..5u64).map(|i| shared.map(move |v| v + i)).collect();
    let joined = crate::__private::task(
        &crate::__private::test_spec("joined", "tests::joined", 0),
        None,
        (
            crate::IntoArg::<Vec<u64>>::into_arg(leaves),
            crate::Arg::Node(p),
            crate::Arg::Node(q),
        ),
        |args, inputs| {
            Ok(args.0.owned(inputs)?.iter().sum::<u64>()
                + args.1.owned(inputs)?
                + args.2.owned(inputs)?)
        },
        crate::node::no_codec,
    );
    // A value node and a repeated output among the outputs: each is one more reader.
    let tenfold = shared.map(|v| v * 10);
    vec![joined.clone(), tenfold, data.map(|v| *v), data, joined]
}

#[test]
fn a_kept_graph_resumes_with_the_run_state_the_planner_sets() {
    resumes_with_the_planners_run_state(counted_graph());
    resumes_with_the_planners_run_state(counted_tasks());
}

fn resumes_with_the_planners_run_state(outputs: Vec<Delayed<u64>>) {
    let nodes = || outputs.iter().map(|d| d.node_ref());
    let mut planned = super::Plan::build(|list| list.extend(nodes()));
    let fresh = run_state_of(&mut planned);
    let (roots, order) = (
        planned.graph.roots.clone(),
        planned
            .graph
            .nodes
            .iter()
            .map(|n| super::visited::number(*n))
            .collect::<Vec<_>>(),
    );
    let (mut buffers, kept) = planned
        .into_spare()
        .expect("small plans are kept")
        .into_parts();
    let kept = kept.expect("a plan of non-pure outputs keeps its graph");
    buffers.scratch.output_nodes.extend(nodes());
    let Some(mut resumed) = kept.resume(&mut buffers, false) else {
        panic!("the same outputs resume the kept graph");
    };
    assert_eq!(run_state_of(&mut resumed), fresh);
    assert_eq!(resumed.graph.roots, roots);
    let resumed_order: Vec<_> = resumed
        .graph
        .nodes
        .iter()
        .map(|n| super::visited::number(*n))
        .collect();
    assert_eq!(resumed_order, order);
    assert_eq!(
        resumed
            .run
            .unfinished
            .load(std::sync::atomic::Ordering::Relaxed),
        resumed.graph.task_count
    );
}

/// Whether a plan of `first`, kept, resumes for `then`.
fn resumes_for(first: &[&NodeRef], then: &[&NodeRef]) -> bool {
    let planned = super::Plan::build(|list| list.extend(first.iter().copied()));
    let (mut buffers, kept) = planned
        .into_spare()
        .expect("small plans are kept")
        .into_parts();
    let Some(kept) = kept else { return false };
    buffers.scratch.output_nodes.extend(then.iter().copied());
    kept.resume(&mut buffers, false).is_some()
}

#[test]
fn a_kept_graph_serves_only_the_very_outputs_it_was_planned_for() {
    let outputs = counted_graph();
    let (a, b) = (outputs[0].node_ref(), outputs[1].node_ref());
    assert!(resumes_for(&[a, b], &[a, b]));
    assert!(
        !resumes_for(&[a, b], &[b, a]),
        "order matters: outputs are positional"
    );
    assert!(!resumes_for(&[a, b], &[a]));
    assert!(!resumes_for(&[a], &[a, b]));
    // A graph built after the first was dropped may reuse its addresses (the allocator
    // hands the freed block out again), never its build numbers. mimalloc hands a freed
    // block out once the page's other free blocks are used up: nodes are built until one
    // lands where the first was.
    let mut same_address = 0;
    // Miri reuses a freed address at random, and is slow: a shorter search.
    const SEARCH: usize = if cfg!(miri) { 64 } else { 1 << 16 };
    for i in 0..20u64 {
        let first = delayed(i);
        let planned = super::Plan::build(|list| list.push(first.node_ref()));
        let (mut buffers, kept) = planned.into_spare().expect("kept").into_parts();
        let at = super::visited::number(first.node());
        drop(first);
        let mut others = Vec::new();
        let second = loop {
            let candidate = delayed(i);
            if super::visited::number(candidate.node()) == at || others.len() == SEARCH {
                break candidate;
            }
            others.push(candidate);
        };
        same_address += usize::from(super::visited::number(second.node()) == at);
        buffers.scratch.output_nodes.push(second.node_ref());
        assert!(kept.expect("kept").resume(&mut buffers, false).is_none());
    }
    assert!(same_address > 0, "the check above met a reused address");
    // A persisted copy stands for the original under its key, but is another node.
    let persisted = crate::persist(&[outputs[1].clone()])
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(persisted.key(), outputs[1].key());
    let built = |d: &Delayed<u64>| d.node().header().built();
    assert_ne!(
        built(&persisted),
        built(&outputs[1]),
        "a build number names one node"
    );
    assert!(!resumes_for(
        &[outputs[1].node_ref()],
        &[persisted.node_ref()]
    ));
    assert!(resumes_for(
        &[persisted.node_ref()],
        &[persisted.node_ref()]
    ));
}

#[test]
fn plans_of_pure_outputs_or_for_drawing_keep_no_graph() {
    let pure = crate::__private::task(
        &crate::__private::test_spec("pure", "tests::pure_out", 0),
        Some(7),
        (crate::Arg::Node(delayed(2u64)),),
        |args, inputs| Ok(args.0.owned(inputs)? + 1),
        crate::node::no_codec,
    );
    let plain = delayed(2u64).map(|v| v + 1);
    assert!(!resumes_for(&[pure.node_ref()], &[pure.node_ref()]));
    assert!(!resumes_for(
        &[plain.node_ref(), pure.node_ref()],
        &[plain.node_ref(), pure.node_ref()]
    ));
    let drawn = super::Plan::build_for_drawing(|list| list.push(plain.node_ref()));
    let (_, kept) = drawn.into_spare().expect("kept").into_parts();
    assert!(
        kept.is_none(),
        "a drawing's plan keeps parameter positions: not for running"
    );
    // A kept graph is not resumed for drawing either.
    let planned = super::Plan::build(|list| list.push(plain.node_ref()));
    let (mut buffers, kept) = planned.into_spare().expect("kept").into_parts();
    buffers.scratch.output_nodes.push(plain.node_ref());
    assert!(kept.expect("kept").resume(&mut buffers, true).is_none());
}

#[test]
fn computing_the_same_outputs_again_gives_the_same_values() {
    // Through `compute`, whichever plan another test leaves behind: each config runs the
    // graph three times, the second and third usually from the kept graph.
    for config in configs() {
        let outputs = counted_graph();
        let first = compute_with(&outputs, &config).unwrap();
        let joined = (0..5).map(|i| 4 + i).sum::<u64>() + 2 * (16 + 3);
        assert_eq!(first, vec![joined, 40, 3, 3, joined]);
        for _ in 0..2 {
            assert_eq!(compute_with(&outputs, &config).unwrap(), first);
        }
    }
}

#[cfg(feature = "cluster")]
#[test]
fn a_plan_cut_down_to_one_process_keeps_no_graph() {
    let out = delayed(2u64).map(|v| v + 1).map(|v| v * 2);
    let mut planned = super::Plan::build(|list| list.push(out.node_ref()));
    let n = planned.graph.len();
    planned.restrict_to_process(&vec![true; n], &vec![false; n], &vec![false; n]);
    let (_, kept) = planned.into_spare().expect("kept").into_parts();
    assert!(
        kept.is_none(),
        "one process's share is not the outputs' whole graph"
    );
}

#[test]
fn an_output_renamed_since_its_plan_was_kept_is_read_through_the_callers_handle() {
    let mut out = delayed(2u64).map(|v| v + 1);
    let planned = super::Plan::build(|list| list.push(out.node_ref()));
    let (mut buffers, kept) = planned.into_spare().expect("kept").into_parts();
    // Its key was read, and this handle is the only one: `with_key` renames it in place,
    // through `&mut`.
    let _ = out.key().to_string();
    out = out.with_key("renamed");
    buffers.scratch.output_nodes.push(out.node_ref());
    let Some(resumed) = kept.expect("kept").resume(&mut buffers, false) else {
        panic!("the same output resumes the kept graph");
    };
    let o = resumed.graph.outputs[0];
    assert_eq!(resumed.graph.node(o).header().key(), "renamed");
    assert_eq!(resumed.graph.len(), 2);
}

thread_local! {
    /// Plans this thread resumed from a kept graph (see `Plan::build_from`).
    pub(super) static RESUMED_HERE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Plans this thread has resumed so far.
fn resumed_here() -> usize {
    RESUMED_HERE.with(|n| n.get())
}

/// Runs `round` until it returns true (its computation of interest resumed the plan the
/// one before it kept; other tests' computations take the one kept plan now and then),
/// at most 50 times.
fn until_resumed(mut round: impl FnMut() -> bool) {
    assert!(
        (0..50).any(|_| round()),
        "no round resumed its kept plan in 50 tries"
    );
}

#[test]
fn a_plan_resumed_after_a_failed_or_cancelled_run_runs_in_full() {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::sync::Arc;
    for config in configs() {
        let fail = Arc::new(AtomicBool::new(false));
        let runs = Arc::new(AtomicU32::new(0));
        let data = delayed(vec![1u64, 2, 3]);
        let flaky = {
            let (fail, runs) = (fail.clone(), runs.clone());
            data.map(move |v| {
                runs.fetch_add(1, Ordering::SeqCst);
                assert!(!fail.load(Ordering::SeqCst), "told to fail");
                v.iter().sum::<u64>()
            })
        };
        let out = flaky.map2(&data, |s, v| s * v.len() as u64);
        let outputs = [out, data.map(|v| v[0])];
        until_resumed(|| {
            fail.store(true, Ordering::SeqCst);
            assert!(compute_with(&outputs, &config).is_err());
            fail.store(false, Ordering::SeqCst);
            let (before, resumed) = (runs.load(Ordering::SeqCst), resumed_here());
            assert_eq!(compute_with(&outputs, &config).unwrap(), vec![18, 1]);
            assert_eq!(runs.load(Ordering::SeqCst), before + 1);
            resumed_here() > resumed
        });
        until_resumed(|| {
            let cancel = crate::CancelToken::new();
            cancel.cancel();
            let cancelled = compute_with(&outputs, &config.clone().cancel_token(cancel));
            assert!(matches!(cancelled, Err(crate::Error::Cancelled)));
            let resumed = resumed_here();
            assert_eq!(compute_with(&outputs, &config).unwrap(), vec![18, 1]);
            resumed_here() > resumed
        });
    }
}
