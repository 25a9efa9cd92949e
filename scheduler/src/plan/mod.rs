//! A plan is one computation's view of the graph: the nodes its outputs need, each once,
//! in a depth-first post-order, with the counters the executor drives.
//!
//! Building it is the only pass over the graph per `compute`: it culls (only nodes
//! reachable from the outputs are visited), merges shared nodes (each node object once,
//! and pure nodes with equal keys once), and sets every pending and reader count, so
//! running needs no second walk.

mod mark;
mod slot;
mod step;

pub(crate) use mark::VisitMark;
pub(crate) use step::ReadySink;

use std::collections::HashMap;

use parking_lot::Mutex;

use crate::error::{Error, TaskFailure};
use crate::node::{NodeBody, NodeDyn};
use crate::sync::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use mark::{Marks, IN_PROGRESS};
use slot::{ResultSlot, SlotValue};

/// One node of the plan.
pub(crate) struct PlanNode<'g> {
    pub(crate) node: &'g dyn NodeDyn,
    /// Unfinished task inputs; the task is ready at zero.
    pub(crate) pending: AtomicU32,
    /// Readers (input edges and output positions) that have not released the result.
    pub(crate) readers: AtomicU32,
    pub(crate) slot: ResultSlot,
    pub(crate) is_task: bool,
}

pub(crate) struct Plan<'g> {
    pub(crate) nodes: Vec<PlanNode<'g>>,
    /// `deps[dep_start[i]..dep_start[i + 1]]`: node i's inputs in argument order.
    dep_start: Vec<u32>,
    deps: Vec<u32>,
    /// Parameter position of every entry of `deps` (kept only for drawing).
    dep_positions: Option<Vec<u32>>,
    /// `succs[succ_start[i]..succ_start[i + 1]]`: tasks reading node i, ascending.
    succ_start: Vec<u32>,
    succs: Vec<u32>,
    /// Tasks ready at the start, ascending (so depth-first order is kept).
    pub(crate) roots: Vec<u32>,
    /// Plan index of every requested output, in request order.
    pub(crate) outputs: Vec<u32>,
    pub(crate) task_count: usize,
    /// Set by the first failure; tasks that have not started are then skipped.
    pub(crate) failed: AtomicBool,
    first_error: Mutex<Option<(u32, TaskFailure)>>,
    /// Tasks not yet finished (or skipped); see `exec` for how workers count down.
    pub(crate) unfinished: AtomicUsize,
}

impl<'g> Plan<'g> {
    /// Plans the computation of `outputs`.
    pub(crate) fn build(outputs: &[&'g dyn NodeDyn]) -> Self {
        Self::build_inner(outputs, false)
    }

    /// Like [`build`](Self::build), also keeping every edge's parameter position.
    pub(crate) fn build_for_drawing(outputs: &[&'g dyn NodeDyn]) -> Self {
        Self::build_inner(outputs, true)
    }

    fn build_inner(outputs: &[&'g dyn NodeDyn], keep_positions: bool) -> Self {
        let mut marks = Marks::enter();
        let mut order: Vec<&'g dyn NodeDyn> = Vec::new();
        let mut dep_start: Vec<u32> = vec![0];
        let mut deps: Vec<u32> = Vec::new();
        let mut dep_positions: Vec<u32> = Vec::new();
        let mut pure_index: HashMap<(u64, &'static str), u32> = HashMap::new();

        // Iterative depth-first search: (node, exiting). Deep chains must not recurse.
        let mut stack: Vec<(&'g dyn NodeDyn, bool)> = Vec::new();
        for &root in outputs.iter().rev() {
            stack.push((root, false));
        }
        while let Some((node, exiting)) = stack.pop() {
            let header = node.header();
            if !exiting {
                if marks.get(node).is_some() {
                    continue;
                }
                if header.pure {
                    if let Some(&same) = pure_index.get(&(header.id, header.name)) {
                        marks.set(node, same);
                        continue;
                    }
                }
                marks.set(node, IN_PROGRESS);
                stack.push((node, true));
                let first_dep = stack.len();
                node.for_each_dep(&mut |dep, _| {
                    if marks.get(dep).is_none() {
                        stack.push((dep, false));
                    }
                });
                // Visit dependencies in argument order, so the plan order (and with it
                // the sequential run order) follows the program's reading order.
                stack[first_dep..].reverse();
            } else {
                let index = u32::try_from(order.len()).expect("a plan holds at most 2^32 - 2 nodes");
                node.for_each_dep(&mut |dep, position| {
                    let dep_index = marks.get(dep).expect("dependencies finish before readers");
                    debug_assert_ne!(dep_index, IN_PROGRESS, "task graphs are acyclic");
                    deps.push(dep_index);
                    if keep_positions {
                        dep_positions.push(position);
                    }
                });
                dep_start.push(u32::try_from(deps.len()).expect("a plan holds at most 2^32 edges"));
                marks.set(node, index);
                if header.pure {
                    pure_index.insert((header.id, header.name), index);
                }
                order.push(node);
            }
        }
        let outputs: Vec<u32> = outputs
            .iter()
            .map(|&n| marks.get(n).expect("every output was planned"))
            .collect();
        drop(marks);

        let n = order.len();
        let is_task: Vec<bool> = order
            .iter()
            .map(|node| matches!(node.body(), NodeBody::Task))
            .collect();
        let mut pending = vec![0u32; n];
        let mut readers = vec![0u32; n];
        let mut succ_count = vec![0u32; n + 1];
        for t in 0..n {
            for &d in &deps[dep_start[t] as usize..dep_start[t + 1] as usize] {
                readers[d as usize] += 1;
                if is_task[d as usize] {
                    pending[t] += 1;
                    succ_count[d as usize + 1] += 1;
                }
            }
        }
        for &o in &outputs {
            readers[o as usize] += 1;
        }
        // Prefix sums turn counts into start offsets.
        for i in 0..n {
            succ_count[i + 1] += succ_count[i];
        }
        let succ_start = succ_count;
        let mut fill = succ_start.clone();
        let mut succs = vec![0u32; succ_start[n] as usize];
        for t in 0..n {
            for &d in &deps[dep_start[t] as usize..dep_start[t + 1] as usize] {
                if is_task[d as usize] {
                    succs[fill[d as usize] as usize] = t as u32;
                    fill[d as usize] += 1;
                }
            }
        }

        let mut roots = Vec::new();
        let mut task_count = 0;
        let nodes: Vec<PlanNode<'g>> = order
            .into_iter()
            .enumerate()
            .map(|(i, node)| {
                let value = match node.body() {
                    NodeBody::Task => {
                        task_count += 1;
                        if pending[i] == 0 {
                            roots.push(i as u32);
                        }
                        SlotValue::Empty
                    }
                    NodeBody::Value(shared) => SlotValue::Shared(shared.clone()),
                };
                PlanNode {
                    node,
                    pending: AtomicU32::new(pending[i]),
                    readers: AtomicU32::new(readers[i]),
                    slot: ResultSlot::new(value),
                    is_task: is_task[i],
                }
            })
            .collect();

        Plan {
            nodes,
            dep_start,
            deps,
            dep_positions: keep_positions.then_some(dep_positions),
            succ_start,
            succs,
            roots,
            outputs,
            task_count,
            failed: AtomicBool::new(false),
            first_error: Mutex::new(None),
            unfinished: AtomicUsize::new(task_count),
        }
    }

    #[inline]
    pub(crate) fn deps_of(&self, i: u32) -> &[u32] {
        let i = i as usize;
        &self.deps[self.dep_start[i] as usize..self.dep_start[i + 1] as usize]
    }

    /// Parameter positions parallel to [`deps_of`](Self::deps_of), when kept.
    pub(crate) fn dep_positions_of(&self, i: u32) -> Option<&[u32]> {
        let i = i as usize;
        self.dep_positions
            .as_ref()
            .map(|p| &p[self.dep_start[i] as usize..self.dep_start[i + 1] as usize])
    }

    #[inline]
    pub(crate) fn succs_of(&self, i: u32) -> &[u32] {
        let i = i as usize;
        &self.succs[self.succ_start[i] as usize..self.succ_start[i + 1] as usize]
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// A reference to node `d`'s result, valid while the caller holds a reader count.
    #[inline]
    pub(crate) fn borrow_result<T: 'static>(&self, d: u32) -> Option<&T> {
        // SAFETY: callers are tasks reading an input (their reader count is released only
        // after they return) and output extraction, which holds its own count.
        unsafe { self.nodes[d as usize].slot.borrow::<T>() }
    }

    /// The result by value: moved when the caller is its last reader, cloned otherwise.
    #[inline]
    pub(crate) fn take_or_clone_result<T: Clone + 'static>(&self, d: u32) -> Option<T> {
        let node = &self.nodes[d as usize];
        // Acquire pairs with every other reader's release: when only our count remains,
        // all their borrows have ended.
        if node.readers.load(Ordering::Acquire) == 1 {
            // SAFETY: we are the only reader left; nobody else can borrow or clear.
            unsafe { node.slot.take::<T>() }
        } else {
            self.borrow_result::<T>(d).cloned()
        }
    }

    /// Records a failure; the first one is what `compute` reports.
    #[cold]
    pub(crate) fn fail(&self, task: u32, failure: TaskFailure) {
        let mut first = self.first_error.lock();
        if first.is_none() {
            *first = Some((task, failure));
        }
        self.failed.store(true, Ordering::Release);
    }

    /// The reported error, if any task failed.
    pub(crate) fn take_error(&self) -> Option<Error> {
        let (task, failure) = self.first_error.lock().take()?;
        let header = self.nodes[task as usize].node.header();
        Some(failure.into_error(header.key().to_string(), header.name.to_string()))
    }

    /// Takes output `position`'s value and releases its reader count.
    pub(crate) fn take_output<T: Clone + 'static>(&self, position: usize) -> Result<T, Error> {
        let d = self.outputs[position];
        let value = self.take_or_clone_result::<T>(d);
        self.release(d);
        value.ok_or_else(|| {
            let header = self.nodes[d as usize].node.header();
            Error::Internal(format!(
                "output {} ({}) has no value of type {}",
                position,
                header.key(),
                std::any::type_name::<T>()
            ))
        })
    }
}
