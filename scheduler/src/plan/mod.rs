//! A plan is one computation's view of the graph: the nodes its outputs need, each once,
//! in a depth-first post-order, with the counters the executor drives.
//!
//! Building it is the only pass over the graph per `compute`: it culls (only nodes
//! reachable from the outputs are visited), merges shared nodes (each node object once,
//! and pure nodes with equal keys once), and sets every pending and reader count, so
//! running needs no second walk.

mod buffers;
mod graph;
mod held;
mod kept;
mod run_state;
mod slot;
mod split;
mod step;
#[cfg(all(test, not(loom)))]
mod tests;
mod visited;

pub(crate) use graph::PlanGraph;
pub(crate) use held::HeldCounts;
pub(crate) use run_state::{
    RunNode, FAILED, HALT_CANCEL, HALT_FAILURE, HALT_TIMEOUT, NOT_HALTED, RUNNING, SUCCEEDED,
};
pub(crate) use split::Splitting;
#[cfg(any(not(loom), test))]
pub(crate) use step::ReadySink;

use std::collections::HashMap;

use crate::cancel::CancelToken;
use crate::config::ErrorPolicy;
use crate::error::{drop_guarded, panic_message, Error, TaskFailure};
use crate::node::{NodeBody, FEW_INPUTS};
use crate::node_ref::NodeRef;
use crate::observer::Observers;
use crate::sync::{add_exclusive, Ordering};
use buffers::{PlanBuffers, Scratch, Visit, ENTERING};
use kept::KeptGraph;
use run_state::RunState;
use slot::ResultSlot;
use std::panic::{catch_unwind, AssertUnwindSafe};
use visited::{number, IN_PROGRESS};

/// One computation: the graph to run (immutable once planned) and its run state
/// (counters, result slots, halt, failures, observers), with the protocol that drives
/// the one through the other (`step`).
pub(crate) struct Plan<'g> {
    graph: PlanGraph<'g>,
    run: RunState,
    /// The planner's scratch vectors, kept to be reused by the next plan.
    scratch: Scratch<'g>,
    /// Every output was taken after a run that succeeded (see
    /// [`Plan::note_outputs_taken`]), so every result slot is empty: dropping the plan
    /// need not look at its nodes.
    all_taken: bool,
}

impl Drop for Plan<'_> {
    fn drop(&mut self) {
        let (graph, run_nodes, slots, scratch) = self.empty_out();
        PlanBuffers::give_back(graph, run_nodes, slots, scratch);
    }
}

impl<'g> Plan<'g> {
    /// Drops whatever results the plan still holds and hands out its vectors, leaving it
    /// empty.
    fn empty_out(&mut self) -> (PlanGraph<'g>, Vec<RunNode>, Vec<ResultSlot>, Scratch<'g>) {
        let len = self.run.nodes.len();
        if !self.all_taken {
            // Results still held (a failed or cancelled computation stops before its
            // readers release them; value nodes keep their values to the end on a
            // cluster) are dropped one by one under a guard: a panicking `Drop` must not
            // unwind out of `compute`, where it would replace the computation's real
            // error with a panic. The slots must be empty for the next plan anyway.
            for slot in &mut self.run.slots[..len] {
                if !slot.is_empty() {
                    // SAFETY: `&mut self`: every task has finished or been skipped and the
                    // outputs were extracted or abandoned, so nobody borrows a slot.
                    drop_guarded(unsafe { slot.clear() });
                }
            }
        }
        // After a computation that succeeded and gave out every output, every result's
        // last reader emptied its slot: no pass over the slots then.
        debug_assert!(
            self.run.slots[..len].iter_mut().all(|slot| slot.is_empty()),
            "a finished plan holds no result"
        );
        (
            std::mem::take(&mut self.graph),
            std::mem::take(&mut self.run.nodes),
            std::mem::take(&mut self.run.slots),
            std::mem::take(&mut self.scratch),
        )
    }

    /// What dropping this plan would keep for the next one (see `buffers` and `kept`),
    /// returned instead of kept: tests resume it without racing other tests' plans.
    #[cfg(all(test, not(loom)))]
    pub(crate) fn into_spare(mut self) -> Option<buffers::Spare> {
        let (graph, run_nodes, slots, scratch) = self.empty_out();
        buffers::Spare::of(graph, run_nodes, slots, scratch)
    }
}

/// Marks `Visit::first` of a node entered deep in the walk whose header is plain (no
/// retries, not pure): leaving it needs nothing from the header.
const PLAIN: u32 = 1 << 31;

/// Marks `Visit::first` of a node whose inputs were planned in parallel (see `split`):
/// leaving it appends them first.
const SPLIT: u32 = 1 << 30;

/// Marks `Visit::first` of a node reached through its only handle (see
/// `NodeRef::is_only_handle`): no other edge leads to it, so the walk neither looks it up
/// in the visited table nor records it there.
const ONE_EDGE: u32 = 1 << 29;

/// `Visit::first` of an entry that enters a node reached through its only handle.
const ENTERING_ONE_EDGE: u32 = ENTERING - 1;

/// Entries on the planner's stack beyond which a plain header is noted (see `PLAIN`).
const DEEP_WALK: usize = 1 << 14;

/// `Visit::slot` of an output: no reader waits for its index.
const NO_SLOT: u32 = u32::MAX;

/// Gives the reader that pushed a node (the slot it waits at) the node's index.
#[inline]
fn fill_slot(found: &mut [u32], slot: u32, index: u32) {
    if slot != NO_SLOT {
        found[slot as usize] = index;
    }
}

/// Orders the entries just pushed for one node's inputs so that they are entered oldest
/// first (by build number), arguments in order where the numbers tie (pure inputs,
/// numbered 0). The plan order, and with it the sequential run order, then takes each
/// node's inputs in the order the program built them, and stays deterministic. Graphs
/// are built in loops, so the walk streams through memory in the order the allocator
/// handed it out: argument order made a wavefront's walk jump a row of cells per step (a
/// cache and TLB miss per node; 2.7-3.6x slower planning). Wide nodes keep argument
/// order (see `FEW_INPUTS`).
#[inline]
fn order_inputs(pushed: &mut [Visit<'_>]) {
    pushed.reverse();
    match pushed.len() {
        2 if pushed[1].node.header().built() > pushed[0].node.header().built() => {
            pushed.swap(0, 1);
        }
        3..=FEW_INPUTS => {
            pushed.sort_by_key(|v| std::cmp::Reverse(v.node.header().built()));
        }
        _ => {}
    }
}

impl<'g> Plan<'g> {
    /// Plans the computation of the outputs that `outputs` lists, on this thread.
    #[cfg(test)]
    pub(crate) fn build(outputs: impl FnOnce(&mut Vec<&'g NodeRef>)) -> Self {
        Self::build_inner(outputs, false, Splitting::NEVER)
    }

    /// Like [`build`](Self::build), planning wide nodes' inputs on several threads as
    /// `splitting` says (see `split`).
    pub(crate) fn build_splitting(
        splitting: Splitting,
        outputs: impl FnOnce(&mut Vec<&'g NodeRef>),
    ) -> Self {
        Self::build_inner(outputs, false, splitting)
    }

    /// Like [`build`](Self::build), also keeping every edge's parameter position.
    pub(crate) fn build_for_drawing(outputs: impl FnOnce(&mut Vec<&'g NodeRef>)) -> Self {
        Self::build_inner(outputs, true, Splitting::NEVER)
    }

    fn build_inner(
        list_outputs: impl FnOnce(&mut Vec<&'g NodeRef>),
        keep_positions: bool,
        splitting: Splitting,
    ) -> Self {
        Self::build_from(PlanBuffers::take(), list_outputs, keep_positions, splitting)
    }

    /// Plans in `buffers`, or resumes the graph kept with them when it was planned for
    /// the same outputs (see `kept`).
    fn build_from(
        (mut buffers, kept): (PlanBuffers<'g>, Option<KeptGraph>),
        list_outputs: impl FnOnce(&mut Vec<&'g NodeRef>),
        keep_positions: bool,
        splitting: Splitting,
    ) -> Self {
        list_outputs(&mut buffers.scratch.output_nodes);
        if let Some(plan) = kept.and_then(|kept| kept.resume(&mut buffers, keep_positions)) {
            #[cfg(all(test, not(loom)))]
            tests::RESUMED_HERE.with(|n| n.set(n.get() + 1));
            return plan;
        }
        let PlanBuffers {
            graph: mut g,
            run_nodes: mut run,
            mut slots,
            scratch:
                Scratch {
                    mut stack,
                    mut found,
                    mut found_positions,
                    output_nodes,
                    mut visited,
                    mut inputs,
                    mut wide,
                    mut spare_parts,
                },
        } = buffers;
        // Where a node's inputs are cut (see `split`): never when drawing, which needs
        // every edge's parameter position.
        let split_at = if keep_positions || splitting.threads < 2 {
            usize::MAX
        } else {
            splitting.at
        };
        g.keep_positions = keep_positions;
        let mut pure_index: HashMap<(u128, &'static str), u32> = HashMap::new();
        // Pure nodes under a key from `with_key`: keys are identity, so such a node merges
        // only with equal calls under the same key. Apart, so that ordinary pure nodes
        // pay one flag test and hash no key.
        let mut given_key_index: HashMap<(u128, &'static str, &'g str), u32> = HashMap::new();
        let mut task_count = 0usize;
        // Nodes whose inputs were planned in parallel, innermost last: where their
        // frontier nodes' indices start in `found`, and the parts to append on leaving.
        let mut splits: Vec<(usize, Vec<split::Part<'g>>)> = Vec::new();
        g.dep_start.push(0);
        // Node i's count of task readers goes to index i + 1 (see `link_successors`).
        g.succ_start.push(0);

        // Iterative depth-first search: deep chains must not recurse. Entering a node
        // reads each dependency's mark once and notes its index in `found` (or a slot
        // the dependency fills when it is planned), so leaving it reads its own segment
        // of `found` instead of visiting every dependency (cold, on big graphs) again.
        for &root in output_nodes.iter().rev() {
            stack.push(Visit {
                node: root.node(),
                slot: NO_SLOT,
                first: ENTERING,
            });
        }
        while let Some(visit) = stack.pop() {
            let node = visit.node;
            let at = number(node);
            if visit.first >= ENTERING_ONE_EDGE {
                let one_edge = visit.first == ENTERING_ONE_EDGE;
                // The table first: a node pushed twice before it was entered is not read
                // again.
                if !one_edge {
                    if let Some(index) = visited.get(at) {
                        debug_assert_ne!(index, IN_PROGRESS, "task graphs are acyclic");
                        fill_slot(&mut found, visit.slot, index);
                        continue;
                    }
                }
                let header = node.header();
                if header.pure {
                    let same = if header.custom_key.load(std::sync::atomic::Ordering::Relaxed) {
                        given_key_index.get(&(header.full_id(), header.name, header.key()))
                    } else {
                        pure_index.get(&(header.full_id(), header.name))
                    };
                    if let Some(&same) = same {
                        visited.set(at, same);
                        fill_slot(&mut found, visit.slot, same);
                        continue;
                    }
                }
                // Only a cycle would find a node in progress, and graphs are acyclic by
                // construction (a node's inputs exist before it): release builds save the
                // table write.
                if cfg!(debug_assertions) && !one_edge {
                    visited.set(at, IN_PROGRESS);
                }
                // Below `ONE_EDGE - 2`: with every flag set, a leaving entry's `first`
                // stays below `ENTERING_ONE_EDGE`.
                let mut first = u32::try_from(found.len())
                    .ok()
                    .filter(|&f| f < ONE_EDGE - 2)
                    .expect("a plan holds fewer than 2^29 - 2 edges");
                if one_edge {
                    first |= ONE_EDGE;
                }
                // Deep in a walk (a long chain), a node is left only after everything
                // below it, and its header has left the cache by then: reading it again
                // was the costliest load of planning a chain. A plain header (no
                // retries, not pure) is noted as a bit instead. On shallow walks the
                // header is still cached when the node is left, and noting it there
                // measured slower (the wavefront: 40 ns per node).
                if stack.len() > DEEP_WALK && header.retries == 0 && !header.pure {
                    first |= PLAIN;
                }
                stack.push(Visit {
                    node: visit.node,
                    slot: visit.slot,
                    first,
                });
                let first_push = stack.len();
                // The inputs in one dynamic call, and the loop over them inlined here: a
                // call per input (`for_each_dep`) made planning a wavefront 8% slower
                // (two inputs a node). Drawing needs each input's parameter position,
                // which only `for_each_dep` gives.
                if keep_positions {
                    node.for_each_dep(&mut |dep, position| {
                        inputs.push(dep);
                        found_positions.push(position);
                    });
                } else {
                    node.deps_into(&mut inputs);
                }
                // Inputs beyond the first `split_at` are set aside (see `split`).
                let walked = inputs.len().min(split_at);
                for &dep in &inputs[..walked] {
                    let slot = found.len() as u32;
                    match visited.get(number(dep.node())) {
                        Some(d) => {
                            debug_assert_ne!(d, IN_PROGRESS, "task graphs are acyclic");
                            found.push(d);
                        }
                        None => {
                            found.push(IN_PROGRESS);
                            // Behind its only handle (a chain's link, a tree's branch), a
                            // node is reached through this edge alone: entering it needs
                            // no second lookup, and leaving it no record. The count sits
                            // on the node's first line, which entering it reads anyway;
                            // a node found visited is not read at all (the wavefront's
                            // cells, each read twice: reading their counts first made
                            // planning 20% slower).
                            let first = if dep.is_only_handle() {
                                ENTERING_ONE_EDGE
                            } else {
                                ENTERING
                            };
                            stack.push(Visit {
                                node: dep.node(),
                                slot,
                                first,
                            });
                        }
                    }
                }
                wide.extend_from_slice(&inputs[walked..]);
                inputs.clear();
                // Many inputs not planned yet are planned on several threads (see
                // `split`); a few are entered in the order `order_inputs` gives.
                order_inputs(&mut stack[first_push..]);
                if !wide.is_empty() {
                    let parts = split::plan_parts(&wide, splitting, &mut spare_parts);
                    wide.clear();
                    stack[first_push - 1].first |= SPLIT;
                    // The frontier nodes, planned by this walk before the node is left:
                    // a slot each after the node's own segment of `found`.
                    let frontier_at = found.len();
                    let first_frontier = stack.len();
                    for &frontier in parts.iter().flat_map(|part| part.frontier()) {
                        let slot = u32::try_from(found.len())
                            .ok()
                            .filter(|&s| s < ONE_EDGE)
                            .expect("a plan holds fewer than 2^29 edges");
                        found.push(IN_PROGRESS);
                        stack.push(Visit {
                            node: frontier,
                            slot,
                            first: ENTERING,
                        });
                    }
                    stack[first_frontier..].reverse();
                    splits.push((frontier_at, parts));
                }
                continue;
            }
            let plain = visit.first & PLAIN != 0;
            let one_edge = visit.first & ONE_EDGE != 0;
            let first = (visit.first & !(PLAIN | SPLIT | ONE_EDGE)) as usize;
            let mut pending = 0;
            if visit.first & SPLIT != 0 {
                let (frontier_at, parts) = splits.pop().expect("a split node's parts are kept");
                let frontier = found.split_off(frontier_at);
                let (added, tasks_read) = split::write_parts(
                    parts,
                    &frontier,
                    &found[first..],
                    &mut g,
                    &mut run,
                    &mut spare_parts,
                );
                task_count += added;
                pending = tasks_read;
                found.truncate(first);
            }
            let index = u32::try_from(g.nodes.len())
                .ok()
                .filter(|&i| i < IN_PROGRESS - 1)
                .expect("a plan holds fewer than 2^32 - 1 nodes");
            // Pushed one by one in the loop that reads them anyway: most nodes have one or
            // two inputs, and `extend_from_slice` calls `memcpy` for each.
            for &d in &found[first..] {
                debug_assert_ne!(d, IN_PROGRESS, "dependencies finish before readers");
                add_exclusive(&mut run[d as usize].readers, 1);
                if g.is_task[d as usize] {
                    g.succ_start[d as usize + 1] += 1;
                    pending += 1;
                }
                g.deps.push(d);
            }
            found.truncate(first);
            if keep_positions {
                g.dep_positions.extend_from_slice(&found_positions[first..]);
                found_positions.truncate(first);
            }
            g.dep_start
                .push(u32::try_from(g.deps.len()).expect("a plan holds fewer than 2^32 edges"));
            // Each arm pushes its own run node: built from constants in place, not moved
            // through a temporary (the planner's hottest store).
            let task = match node.body() {
                NodeBody::Task => {
                    task_count += 1;
                    if pending == 0 {
                        g.roots.push(index);
                    }
                    run.push(RunNode::task(pending));
                    true
                }
                NodeBody::Value(shared) => {
                    run.push(RunNode::value());
                    if slots.len() <= index as usize {
                        slots.resize_with(index as usize + 1, ResultSlot::empty);
                    }
                    slots[index as usize] = ResultSlot::shared(shared.clone());
                    false
                }
            };
            g.nodes.push(node);
            g.is_task.push(task);
            g.succ_start.push(0);
            if !one_edge {
                visited.set(at, index);
            }
            fill_slot(&mut found, visit.slot, index);
            if plain {
                g.retries.push(0);
            } else {
                let header = node.header();
                // `#[delayed]` allows at most 100; the hidden API clamps.
                g.retries
                    .push(u8::try_from(header.retries).unwrap_or(u8::MAX));
                if header.pure {
                    if header.custom_key.load(std::sync::atomic::Ordering::Relaxed) {
                        given_key_index
                            .insert((header.full_id(), header.name, header.key()), index);
                    } else {
                        pure_index.insert((header.full_id(), header.name), index);
                    }
                }
            }
        }
        for &n in &output_nodes {
            let o = visited
                .get(number(n.node()))
                .expect("every output was planned");
            g.outputs.push(o);
            add_exclusive(&mut run[o as usize].readers, 1);
        }
        g.task_count = task_count;
        g.link_successors();
        if slots.len() < run.len() {
            // Fresh slots only where no earlier plan reached: the others are empty.
            slots.resize_with(run.len(), ResultSlot::empty);
        }

        Plan {
            graph: g,
            run: RunState::new(run, slots, task_count),
            scratch: Scratch {
                stack,
                found,
                found_positions,
                output_nodes,
                visited,
                inputs,
                wide,
                spare_parts,
            },
            all_taken: false,
        }
    }

    /// Notes that the run succeeded and every output was taken (`taken` outputs, in
    /// request order): each node's readers have then all released it, and the last
    /// release emptied its slot. Not so on a cluster (a value node read only by other
    /// processes keeps its value), nor after a failure, halt or abandoned output.
    pub(crate) fn note_outputs_taken(&mut self, taken: usize) {
        self.all_taken = taken == self.graph.outputs.len()
            && !self.graph.restricted
            && !self.is_halted()
            && !self.run.abandoned.load(Ordering::Relaxed)
            && !self.has_errors();
    }

    /// The graph this plan runs.
    #[inline]
    pub(crate) fn graph(&self) -> &PlanGraph<'g> {
        &self.graph
    }

    /// Who watches this run (see `observer.rs`).
    #[inline]
    pub(crate) fn observers(&self) -> &Observers {
        &self.run.observers
    }

    /// Tasks not yet finished or skipped: executors count it down as they report work,
    /// and whoever brings it to zero has completed the run.
    #[inline]
    pub(crate) fn unfinished(&self) -> &crate::sync::AtomicUsize {
        &self.run.unfinished
    }

    /// Node i's run-time counters and state.
    #[inline]
    pub(crate) fn run_node(&self, i: u32) -> &RunNode {
        &self.run.nodes[i as usize]
    }

    /// Node i's result slot.
    #[inline]
    pub(crate) fn slot(&self, i: u32) -> &ResultSlot {
        &self.run.slots[i as usize]
    }

    /// Restricts the plan to one process's share of a cluster computation. `local[i]`:
    /// node i runs here (tasks owned here; value nodes exist everywhere). `arrives[i]`: a
    /// remote task whose result (or failure) this process receives. `sends[i]`: a local
    /// task whose result other processes read; sending it counts as one more reader.
    ///
    /// Afterwards the executor sees only local tasks: roots and successor lists omit
    /// remote tasks, remote tasks' reads are not counted, and the work to finish is the
    /// local tasks plus the arrivals (each arrival is "finished" by whoever stores it).
    #[cfg(feature = "cluster")]
    pub(crate) fn restrict_to_process(&mut self, local: &[bool], arrives: &[bool], sends: &[bool]) {
        let (g, run) = (&mut self.graph, &mut self.run.nodes);
        g.roots.retain(|&r| local[r as usize]);
        let mut kept = 0usize;
        for i in 0..g.nodes.len() {
            let (lo, hi) = (g.succ_start[i] as usize, g.succ_start[i + 1] as usize);
            g.succ_start[i] = kept as u32;
            for e in lo..hi {
                let s = g.succs[e];
                if local[s as usize] {
                    g.succs[kept] = s;
                    kept += 1;
                }
            }
        }
        let n = g.nodes.len();
        g.succ_start[n] = kept as u32;
        g.succs.truncate(kept);
        let mut work = 0usize;
        for t in 0..n {
            if !g.is_task[t] {
                continue;
            }
            if local[t] {
                work += 1;
                if sends[t] {
                    add_exclusive(&mut run[t].readers, 1);
                }
            } else {
                if arrives[t] {
                    work += 1;
                }
                for e in g.dep_start[t]..g.dep_start[t + 1] {
                    let d = g.deps[e as usize] as usize;
                    *run[d].readers.get_mut() -= 1;
                }
            }
        }
        *self.run.unfinished.get_mut() = work;
        g.restricted = true;
    }

    /// The result of node `d` without its type (for encoding it on a cluster).
    ///
    /// # Safety
    /// As for [`borrow_result`](Self::borrow_result): the caller holds a reader count.
    pub(crate) unsafe fn borrow_any(&self, d: u32) -> Option<&(dyn std::any::Any + Send + Sync)> {
        // SAFETY: the caller's obligation.
        unsafe { self.slot(d).borrow_any() }
    }

    /// Calls `f` with the failures recorded so far, as (task, failure, attempts), in
    /// the order they happened.
    pub(crate) fn with_failures<R>(
        &self,
        f: impl FnOnce(&mut Vec<(u32, TaskFailure, u32)>) -> R,
    ) -> R {
        f(&mut self.run.errors.lock())
    }

    /// Every recorded failure, removed from the plan, as (task, failure, attempts).
    pub(crate) fn take_failures(&self) -> Vec<(u32, TaskFailure, u32)> {
        self.with_failures(std::mem::take)
    }

    /// A reference to node `d`'s result, valid while the caller holds a reader count.
    #[inline]
    pub(crate) fn borrow_result<T: 'static>(&self, d: u32) -> Option<&T> {
        // SAFETY: callers are tasks reading an input (their reader count is released only
        // after they return) and output extraction, which holds its own count.
        unsafe { self.borrow_any(d) }.and_then(|v| v.downcast_ref::<T>())
    }

    /// The result by value: moved when the caller is its last reader, cloned otherwise.
    /// The flag says whether the slot is empty afterwards, so that releasing the caller's
    /// reader count would do nothing but read the node again.
    #[inline]
    pub(crate) fn take_or_clone_result<T: Clone + 'static>(&self, d: u32) -> (Option<T>, bool) {
        // Acquire pairs with every other reader's release: when only our count remains,
        // all their borrows have ended.
        if self.run_node(d).readers.load(Ordering::Acquire) == 1 {
            // SAFETY: we are the only reader left; nobody else can borrow or clear.
            unsafe { self.slot(d).take::<T>() }
        } else {
            (self.borrow_result::<T>(d).cloned(), false)
        }
    }

    /// Sets how failures are handled and what can cancel the run; before running.
    pub(crate) fn configure(
        &mut self,
        policy: ErrorPolicy,
        cancel: Option<CancelToken>,
        observers: Observers,
    ) {
        self.run.policy = policy;
        self.run.cancel = cancel;
        self.run.observers = observers;
    }

    /// Adds an observer for this run: the progress bar, `tracing` spans, a cluster's feed
    /// of results to other processes.
    pub(crate) fn add_observer(&mut self, observer: std::sync::Arc<dyn crate::observer::Observer>) {
        self.run.observers.push(observer);
    }

    /// Records a failure. Failing fast, it also halts the computation.
    #[cold]
    pub(crate) fn fail(&self, task: u32, failure: TaskFailure, attempts: u32) {
        self.run.errors.lock().push((task, failure, attempts));
        self.halt_if_failing_fast();
    }

    /// A task failed (here, or on another process of a cluster, which records it
    /// itself): failing fast, the computation halts.
    #[cold]
    pub(crate) fn halt_if_failing_fast(&self) {
        if self.run.policy == ErrorPolicy::FailFast {
            self.halt(HALT_FAILURE);
        }
    }

    /// Notes that not every output will be extracted (see `Drop`).
    pub(crate) fn abandon(&self) {
        self.run.abandoned.store(true, Ordering::Relaxed);
    }

    /// Stops the scheduling of new tasks; the first reason is kept.
    #[cold]
    pub(crate) fn halt(&self, reason: u8) {
        let _ = self.run.halt_reason.compare_exchange(
            NOT_HALTED,
            reason,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    /// Whether tasks that have not started must be skipped.
    #[inline]
    pub(crate) fn is_halted(&self) -> bool {
        self.run.halt_reason.load(Ordering::Relaxed) != NOT_HALTED
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.with_failures(|failures| !failures.is_empty())
    }

    pub(crate) fn halt_reason(&self) -> u8 {
        self.run.halt_reason.load(Ordering::Acquire)
    }

    /// Tasks that are running right now (for a timeout's report).
    #[cfg(not(loom))]
    pub(crate) fn running_tasks(&self) -> Vec<u32> {
        (0..self.graph.len() as u32)
            .filter(|&t| self.run_node(t).state.load(Ordering::Acquire) == RUNNING)
            .collect()
    }

    /// The error to report, if any task failed: the first one when failing fast, all of
    /// them when collecting.
    pub(crate) fn take_error(&self) -> Option<Error> {
        let mut errors: Vec<Error> = self
            .take_failures()
            .into_iter()
            .map(|(task, failure, attempts)| {
                let header = self.graph.node(task).header();
                failure.into_error(header.key().to_string(), header.name.to_string(), attempts)
            })
            .collect();
        match self.run.policy {
            _ if errors.is_empty() => None,
            ErrorPolicy::FailFast => Some(errors.swap_remove(0)),
            ErrorPolicy::Collect => Some(Error::Failures(errors)),
        }
    }

    /// Takes output `position`'s value and releases its reader count.
    pub(crate) fn take_output<T: Clone + 'static>(&self, position: usize) -> Result<T, Error> {
        let Some(&d) = self.graph.outputs().get(position) else {
            // A collection's `extract` reading more values than its `collect` pushed.
            self.abandon();
            return Err(Error::Internal(format!(
                "output {position} was read, but only {} were collected",
                self.graph.outputs().len()
            )));
        };
        // Cloning (an output requested twice, or persisted) runs user code.
        let value = catch_unwind(AssertUnwindSafe(|| self.take_or_clone_result::<T>(d).0));
        self.release(d);
        let value = match value {
            Ok(value) => value,
            Err(payload) => {
                self.abandon();
                let header = self.graph.node(d).header();
                return Err(Error::Panic {
                    key: header.key().to_string(),
                    name: header.name.to_string(),
                    attempts: 1,
                    message: format!(
                        "cloning its value for output {position} panicked: {}",
                        panic_message(payload)
                    ),
                });
            }
        };
        value.ok_or_else(|| {
            self.abandon();
            let header = self.graph.node(d).header();
            Error::Internal(format!(
                "output {} ({}) has no value of type {}",
                position,
                header.key(),
                std::any::type_name::<T>()
            ))
        })
    }
}
