//! A plan is one computation's view of the graph: the nodes its outputs need, each once,
//! in a depth-first post-order, with the counters the executor drives.
//!
//! Building it is the only pass over the graph per `compute`: it culls (only nodes
//! reachable from the outputs are visited), merges shared nodes (each node object once,
//! and pure nodes with equal keys once), and sets every pending and reader count, so
//! running needs no second walk.

mod buffers;
mod mark;
mod slot;
mod step;
#[cfg(all(test, not(loom)))]
mod tests;

pub(crate) use mark::VisitMark;
#[cfg(any(not(loom), test))]
pub(crate) use step::ReadySink;

use std::collections::HashMap;

use crate::cancel::CancelToken;
use crate::config::ErrorPolicy;
use crate::error::{drop_guarded, panic_message, Error, TaskFailure};
use crate::node::{NodeBody, NodeDyn};
use crate::observer::Observers;
use crate::sync::{add_exclusive, AtomicBool, AtomicU32, AtomicU8, AtomicUsize, Mutex, Ordering};
use buffers::PlanBuffers;
use mark::{Marks, IN_PROGRESS};
use slot::{ResultSlot, SlotValue};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// `PlanNode::state` values.
pub(crate) const WAITING: u8 = 0;
pub(crate) const RUNNING: u8 = 1;
pub(crate) const SUCCEEDED: u8 = 2;
pub(crate) const FAILED: u8 = 3;

/// `Plan::halt_reason` values.
pub(crate) const NOT_HALTED: u8 = 0;
pub(crate) const HALT_FAILURE: u8 = 1;
pub(crate) const HALT_CANCEL: u8 = 2;
pub(crate) const HALT_TIMEOUT: u8 = 3;

/// One node of the plan.
pub(crate) struct PlanNode<'g> {
    pub(crate) node: &'g dyn NodeDyn,
    /// Unfinished task inputs; the task is ready at zero.
    pub(crate) pending: AtomicU32,
    /// Readers (input edges and output positions) that have not released the result.
    pub(crate) readers: AtomicU32,
    pub(crate) slot: ResultSlot,
    /// `WAITING`, `RUNNING`, `SUCCEEDED` or `FAILED` (failed or skipped).
    pub(crate) state: AtomicU8,
    /// Tasks reading this node; while building, the fill cursor into `succs`.
    succ_count: u32,
    pub(crate) is_task: bool,
    /// Extra attempts after a failure, read from the node once here rather than per run.
    pub(crate) retries: u8,
}

pub(crate) struct Plan<'g> {
    /// `nodes`: post-order. `deps[dep_start[i]..dep_start[i + 1]]`: node i's inputs in
    /// argument order (`dep_positions` parallel to it when drawing).
    /// `succs[succ_start[i]..succ_start[i + 1]]`: tasks reading node i, ascending.
    /// `roots`: tasks ready at the start, ascending (so depth-first order is kept).
    buffers: PlanBuffers<'g>,
    pub(crate) task_count: usize,
    keep_positions: bool,
    /// Why the computation stopped first (`HALT_FAILURE`, `HALT_CANCEL`, `HALT_TIMEOUT`),
    /// or `NOT_HALTED`. Once halted, tasks that have not started are skipped.
    halt_reason: AtomicU8,
    /// Some output was not extracted (an extraction failed, or this process of a
    /// cluster does not receive the outputs): results may be left in slots.
    abandoned: AtomicBool,
    /// (task, failure, attempts) in the order they happened.
    errors: Mutex<Vec<(u32, TaskFailure, u32)>>,
    pub(crate) policy: ErrorPolicy,
    pub(crate) cancel: Option<CancelToken>,
    pub(crate) observers: Observers,
    /// Tasks not yet finished (or skipped); see `exec` for how workers count down.
    pub(crate) unfinished: AtomicUsize,
}

impl Drop for Plan<'_> {
    fn drop(&mut self) {
        // Results still held (a failed or cancelled computation stops before its readers
        // release them) are dropped one by one under a guard: a panicking `Drop` must
        // not unwind out of `compute`, where it would replace the computation's real
        // error with a panic.
        // After a computation that succeeded and gave out every output, every reader
        // count is zero already: no pass over the nodes then.
        if self.is_halted() || self.abandoned.load(Ordering::Relaxed) || self.has_errors() {
            for node in &self.buffers.nodes {
                if node.readers.load(Ordering::Relaxed) > 0 {
                    // SAFETY: `&mut self`: every task has finished or been skipped and
                    // the outputs were extracted or abandoned, so nobody borrows a slot.
                    drop_guarded(unsafe { node.slot.clear() });
                }
            }
        }
        std::mem::take(&mut self.buffers).give_back();
    }
}

impl<'g> Plan<'g> {
    /// Plans the computation of the outputs that `outputs` lists.
    pub(crate) fn build(outputs: impl FnOnce(&mut Vec<&'g dyn NodeDyn>)) -> Self {
        Self::build_inner(outputs, false)
    }

    /// Like [`build`](Self::build), also keeping every edge's parameter position.
    pub(crate) fn build_for_drawing(outputs: impl FnOnce(&mut Vec<&'g dyn NodeDyn>)) -> Self {
        Self::build_inner(outputs, true)
    }

    fn build_inner(
        list_outputs: impl FnOnce(&mut Vec<&'g dyn NodeDyn>),
        keep_positions: bool,
    ) -> Self {
        let mut b = PlanBuffers::take();
        list_outputs(&mut b.output_nodes);
        let mut marks = Marks::enter();
        let mut pure_index: HashMap<(u128, &'static str), u32> = HashMap::new();
        let mut task_count = 0usize;
        b.dep_start.push(0);

        // Iterative depth-first search: (node, exiting). Deep chains must not recurse.
        for &root in b.output_nodes.iter().rev() {
            b.stack.push((root, false));
        }
        while let Some((node, exiting)) = b.stack.pop() {
            let header = node.header();
            if !exiting {
                if marks.get(node).is_some() {
                    continue;
                }
                if header.pure {
                    if let Some(&same) = pure_index.get(&(header.full_id(), header.name)) {
                        marks.set(node, same);
                        continue;
                    }
                }
                marks.set(node, IN_PROGRESS);
                b.stack.push((node, true));
                let first_dep = b.stack.len();
                let stack = &mut b.stack;
                node.for_each_dep(&mut |dep, _| {
                    if marks.get(dep).is_none() {
                        stack.push((dep, false));
                    }
                });
                // Visit dependencies in argument order, so the plan order (and with it
                // the sequential run order) follows the program's reading order.
                b.stack[first_dep..].reverse();
                continue;
            }
            let index = u32::try_from(b.nodes.len())
                .ok()
                .filter(|&i| i < IN_PROGRESS)
                .expect("a plan holds fewer than 2^32 - 1 nodes");
            let mut pending = 0;
            let (nodes, deps, positions) = (&mut b.nodes, &mut b.deps, &mut b.dep_positions);
            node.for_each_dep(&mut |dep, position| {
                let d = marks.get(dep).expect("dependencies finish before readers");
                debug_assert_ne!(d, IN_PROGRESS, "task graphs are acyclic");
                deps.push(d);
                if keep_positions {
                    positions.push(position);
                }
                let dep_node = &mut nodes[d as usize];
                add_exclusive(&mut dep_node.readers, 1);
                if dep_node.is_task {
                    dep_node.succ_count += 1;
                    pending += 1;
                }
            });
            b.dep_start
                .push(u32::try_from(b.deps.len()).expect("a plan holds fewer than 2^32 edges"));
            let (slot, is_task) = match node.body() {
                NodeBody::Task => {
                    task_count += 1;
                    if pending == 0 {
                        b.roots.push(index);
                    }
                    (SlotValue::Empty, true)
                }
                NodeBody::Value(shared) => (SlotValue::Shared(shared.clone()), false),
            };
            b.nodes.push(PlanNode {
                node,
                pending: AtomicU32::new(pending),
                readers: AtomicU32::new(0),
                state: AtomicU8::new(if is_task { WAITING } else { SUCCEEDED }),
                slot: ResultSlot::new(slot),
                succ_count: 0,
                is_task,
                // `#[delayed]` allows at most 100; the hidden API clamps.
                retries: u8::try_from(header.retries).unwrap_or(u8::MAX),
            });
            marks.set(node, index);
            if header.pure {
                pure_index.insert((header.full_id(), header.name), index);
            }
        }
        for &n in &b.output_nodes {
            let o = marks.get(n).expect("every output was planned");
            b.outputs.push(o);
            add_exclusive(&mut b.nodes[o as usize].readers, 1);
        }
        drop(marks);

        // Successor lists: offsets from the counts, then one pass over the edges, using
        // each node's count field as its fill cursor.
        let mut offset = 0u32;
        b.succ_start.push(0);
        for node in &mut b.nodes {
            let count = node.succ_count;
            node.succ_count = offset;
            offset += count;
            b.succ_start.push(offset);
        }
        b.succs.resize(offset as usize, 0);
        for t in 0..b.nodes.len() {
            for e in b.dep_start[t]..b.dep_start[t + 1] {
                let d = b.deps[e as usize] as usize;
                let dep_node = &mut b.nodes[d];
                if dep_node.is_task {
                    b.succs[dep_node.succ_count as usize] = t as u32;
                    dep_node.succ_count += 1;
                }
            }
        }

        Plan {
            buffers: b,
            task_count,
            keep_positions,
            halt_reason: AtomicU8::new(NOT_HALTED),
            abandoned: AtomicBool::new(false),
            errors: Mutex::new(Vec::new()),
            policy: ErrorPolicy::FailFast,
            cancel: None,
            observers: Observers::default(),
            unfinished: AtomicUsize::new(task_count),
        }
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
        let b = &mut self.buffers;
        b.roots.retain(|&r| local[r as usize]);
        let mut kept = 0usize;
        for i in 0..b.nodes.len() {
            let (lo, hi) = (b.succ_start[i] as usize, b.succ_start[i + 1] as usize);
            b.succ_start[i] = kept as u32;
            for e in lo..hi {
                let s = b.succs[e];
                if local[s as usize] {
                    b.succs[kept] = s;
                    kept += 1;
                }
            }
        }
        let n = b.nodes.len();
        b.succ_start[n] = kept as u32;
        b.succs.truncate(kept);
        let mut work = 0usize;
        for t in 0..n {
            if !b.nodes[t].is_task {
                continue;
            }
            if local[t] {
                work += 1;
                if sends[t] {
                    add_exclusive(&mut b.nodes[t].readers, 1);
                }
            } else {
                if arrives[t] {
                    work += 1;
                }
                for e in b.dep_start[t]..b.dep_start[t + 1] {
                    let d = b.deps[e as usize] as usize;
                    *b.nodes[d].readers.get_mut() -= 1;
                }
            }
        }
        *self.unfinished.get_mut() = work;
    }

    /// Task indices of the requested outputs, in request order.
    pub(crate) fn outputs(&self) -> &[u32] {
        &self.buffers.outputs
    }

    /// The result of node `d` without its type (for encoding it on a cluster).
    ///
    /// # Safety
    /// As for [`borrow_result`](Self::borrow_result): the caller holds a reader count.
    pub(crate) unsafe fn borrow_any(&self, d: u32) -> Option<&(dyn std::any::Any + Send + Sync)> {
        // SAFETY: the caller's obligation.
        unsafe { self.node(d).slot.borrow_any() }
    }

    /// Calls `f` with the failures recorded so far, as (task, failure, attempts), in
    /// the order they happened.
    pub(crate) fn with_failures<R>(
        &self,
        f: impl FnOnce(&mut Vec<(u32, TaskFailure, u32)>) -> R,
    ) -> R {
        f(&mut self.errors.lock())
    }

    /// Every recorded failure, removed from the plan, as (task, failure, attempts).
    pub(crate) fn take_failures(&self) -> Vec<(u32, TaskFailure, u32)> {
        self.with_failures(std::mem::take)
    }

    #[inline]
    pub(crate) fn nodes(&self) -> &[PlanNode<'g>] {
        &self.buffers.nodes
    }

    #[inline]
    pub(crate) fn node(&self, i: u32) -> &PlanNode<'g> {
        &self.buffers.nodes[i as usize]
    }

    #[inline]
    pub(crate) fn roots(&self) -> &[u32] {
        &self.buffers.roots
    }

    #[inline]
    pub(crate) fn deps_of(&self, i: u32) -> &[u32] {
        let (b, i) = (&self.buffers, i as usize);
        &b.deps[b.dep_start[i] as usize..b.dep_start[i + 1] as usize]
    }

    /// Parameter positions parallel to [`deps_of`](Self::deps_of), when kept.
    pub(crate) fn dep_positions_of(&self, i: u32) -> Option<&[u32]> {
        let (b, i) = (&self.buffers, i as usize);
        self.keep_positions
            .then(|| &b.dep_positions[b.dep_start[i] as usize..b.dep_start[i + 1] as usize])
    }

    #[inline]
    pub(crate) fn succs_of(&self, i: u32) -> &[u32] {
        let (b, i) = (&self.buffers, i as usize);
        &b.succs[b.succ_start[i] as usize..b.succ_start[i + 1] as usize]
    }

    pub(crate) fn len(&self) -> usize {
        self.buffers.nodes.len()
    }

    /// A reference to node `d`'s result, valid while the caller holds a reader count.
    #[inline]
    pub(crate) fn borrow_result<T: 'static>(&self, d: u32) -> Option<&T> {
        // SAFETY: callers are tasks reading an input (their reader count is released only
        // after they return) and output extraction, which holds its own count.
        unsafe { self.borrow_any(d) }.and_then(|v| v.downcast_ref::<T>())
    }

    /// The result by value: moved when the caller is its last reader, cloned otherwise.
    #[inline]
    pub(crate) fn take_or_clone_result<T: Clone + 'static>(&self, d: u32) -> Option<T> {
        let node = &self.node(d);
        // Acquire pairs with every other reader's release: when only our count remains,
        // all their borrows have ended.
        if node.readers.load(Ordering::Acquire) == 1 {
            // SAFETY: we are the only reader left; nobody else can borrow or clear.
            unsafe { node.slot.take::<T>() }
        } else {
            self.borrow_result::<T>(d).cloned()
        }
    }

    /// Sets how failures are handled and what can cancel the run; before running.
    pub(crate) fn configure(
        &mut self,
        policy: ErrorPolicy,
        cancel: Option<CancelToken>,
        observers: Observers,
    ) {
        self.policy = policy;
        self.cancel = cancel;
        self.observers = observers;
    }

    /// Adds an observer for this run: the progress bar, `tracing` spans, a cluster's feed
    /// of results to other processes.
    pub(crate) fn add_observer(&mut self, observer: std::sync::Arc<dyn crate::observer::Observer>) {
        self.observers.push(observer);
    }

    /// Records a failure. Failing fast, it also halts the computation.
    #[cold]
    pub(crate) fn fail(&self, task: u32, failure: TaskFailure, attempts: u32) {
        self.errors.lock().push((task, failure, attempts));
        if self.policy == ErrorPolicy::FailFast {
            self.halt(HALT_FAILURE);
        }
    }

    /// Notes that not every output will be extracted (see `Drop`).
    pub(crate) fn abandon(&self) {
        self.abandoned.store(true, Ordering::Relaxed);
    }

    /// Stops the scheduling of new tasks; the first reason is kept.
    #[cold]
    pub(crate) fn halt(&self, reason: u8) {
        let _ = self.halt_reason.compare_exchange(
            NOT_HALTED,
            reason,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    /// Whether tasks that have not started must be skipped.
    #[inline]
    pub(crate) fn is_halted(&self) -> bool {
        self.halt_reason.load(Ordering::Relaxed) != NOT_HALTED
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.with_failures(|failures| !failures.is_empty())
    }

    pub(crate) fn halt_reason(&self) -> u8 {
        self.halt_reason.load(Ordering::Acquire)
    }

    /// Tasks that are running right now (for a timeout's report).
    #[cfg(not(loom))]
    pub(crate) fn running_tasks(&self) -> Vec<u32> {
        (0..self.len() as u32)
            .filter(|&t| self.node(t).state.load(Ordering::Acquire) == RUNNING)
            .collect()
    }

    pub(crate) fn key_of(&self, t: u32) -> String {
        self.node(t).node.header().key().to_string()
    }

    /// The error to report, if any task failed: the first one when failing fast, all of
    /// them when collecting.
    pub(crate) fn take_error(&self) -> Option<Error> {
        let mut errors: Vec<Error> = self
            .take_failures()
            .into_iter()
            .map(|(task, failure, attempts)| {
                let header = self.node(task).node.header();
                failure.into_error(header.key().to_string(), header.name.to_string(), attempts)
            })
            .collect();
        match self.policy {
            _ if errors.is_empty() => None,
            ErrorPolicy::FailFast => Some(errors.swap_remove(0)),
            ErrorPolicy::Collect => Some(Error::Failures(errors)),
        }
    }

    /// Takes output `position`'s value and releases its reader count.
    pub(crate) fn take_output<T: Clone + 'static>(&self, position: usize) -> Result<T, Error> {
        let d = self.outputs()[position];
        // Cloning (an output requested twice, or persisted) runs user code.
        let value = catch_unwind(AssertUnwindSafe(|| self.take_or_clone_result::<T>(d)));
        self.release(d);
        let value = match value {
            Ok(value) => value,
            Err(payload) => {
                self.abandon();
                let header = self.node(d).node.header();
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
            let header = self.node(d).node.header();
            Error::Internal(format!(
                "output {} ({}) has no value of type {}",
                position,
                header.key(),
                std::any::type_name::<T>()
            ))
        })
    }
}
