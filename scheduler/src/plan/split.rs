//! Planning a wide node's inputs on several threads.
//!
//! A node that reads many inputs (a join over a million tasks, a sum over every chunk)
//! makes the planner's walk wide rather than deep, and on a pool of several threads the
//! walk was the one serial part of a first run: 40-50 ns per node while every worker
//! but the caller slept. Here the inputs beyond the first [`Splitting::at`] are cut into
//! contiguous parts, each planned on its own thread into a [`Part`] (phase one), and
//! when the wide node is left the parts are written into the plan, again each on its own
//! thread, at offsets known from their sizes (phase two). The plan is the same whichever
//! thread finished first.
//!
//! A part plans only what no other part can reach: a node whose handle is its only one
//! (see [`NodeRef::is_only_handle`]) is read through exactly one edge, so the subgraph of
//! such nodes under one input is a tree that nothing else shares, and a part needs no
//! table of visited nodes and no coordination. Everything else it meets (a node with
//! other handles, a pure node, which may merge with an equal one elsewhere, a value node)
//! it leaves to the planner's own walk as a *frontier* node, planned once there before
//! the wide node is left, so that its index is known to phase two. Frontier nodes and
//! the subgraphs of the first inputs thus come before every part node, the part nodes
//! come in part order and depth-first post-order within each part, the wide node comes
//! last, and every node comes after its inputs.
//!
//! Every part node has exactly one reader, a task (its owner in the part, or the wide
//! node): its reader count and its count of task readers are 1. What frontier nodes are
//! read by is tallied per part and added by the planner, the only writer of their
//! counters.

use std::mem::MaybeUninit;
use std::panic::resume_unwind;
use std::sync::{Mutex, PoisonError};

use super::buffers::{forget_lifetime, Visit, ENTERING};
use super::graph::{cleared, PlanGraph};
use super::order_inputs;
use super::run_state::RunNode;
use crate::node::{NodeBody, NodeDyn};
use crate::node_ref::NodeRef;
use crate::sync::add_exclusive;

/// When a node's inputs are planned in parallel: on a pool of `threads` threads, those
/// beyond the first `at` inputs (when there are any), in parts of at least `min_part`.
#[derive(Clone, Copy)]
pub(crate) struct Splitting {
    pub(crate) threads: usize,
    pub(crate) at: usize,
    pub(crate) min_part: usize,
}

impl Splitting {
    /// One thread plans everything.
    pub(crate) const NEVER: Splitting = Splitting {
        threads: 1,
        at: usize::MAX,
        min_part: usize::MAX,
    };

    /// For a pool of `threads` threads (loom models no pool). A part of fewer than
    /// [`MIN_PART`] inputs is not worth a thread: a part of that size plans in about
    /// 0.3 ms (40 ns a node), and starting and joining a scoped thread took 17-90 µs,
    /// median about 60 (2,000 times, the 2-core machine of BENCHMARKS.md's last figures).
    #[cfg(not(loom))]
    pub(crate) fn for_threads(threads: usize) -> Splitting {
        // More planning threads than cores would only take turns.
        static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        let cores =
            *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        let threads = threads.min(cores);
        if threads < 2 {
            return Splitting::NEVER;
        }
        Splitting {
            threads,
            at: MIN_PART,
            min_part: MIN_PART,
        }
    }
}

/// Inputs per part at least (see [`Splitting::for_threads`]).
#[cfg(not(loom))]
const MIN_PART: usize = 8192;

/// A local index that stands for the part's frontier node of this number.
const FRONTIER: u32 = 1 << 31;

/// A found entry not filled yet.
const UNSET: u32 = u32::MAX;

/// One part's nodes, planned on their own, with indices local to the part.
#[derive(Default)]
pub(super) struct Part<'g> {
    /// Depth-first post-order.
    nodes: Vec<&'g dyn NodeDyn>,
    retries: Vec<u8>,
    /// Node i's inputs are `deps[dep_end[i - 1]..dep_end[i]]`: local indices, or
    /// `FRONTIER | f` for `frontier[f]`.
    dep_end: Vec<u32>,
    deps: Vec<u32>,
    /// Nodes left to the planner's walk, in the order first met, and how many edges of
    /// the part (the wide node's included) read each.
    frontier: Vec<&'g dyn NodeDyn>,
    uses: Vec<u32>,
    /// The wide node's inputs in this part, in order: local indices or `FRONTIER | f`.
    tops: Vec<u32>,
    /// Written by phase two: the part's tasks ready at the start, as plan indices.
    roots: Vec<u32>,
    /// The part's walk (see `plan_part`), kept with its storage.
    stack: Vec<Visit<'g>>,
    found: Vec<u32>,
}

impl<'g> Part<'g> {
    /// This part emptied, its storage kept for the next plan's parts.
    pub(super) fn into_spare(self) -> Part<'static> {
        Part {
            nodes: forget_lifetime(self.nodes),
            retries: cleared(self.retries),
            dep_end: cleared(self.dep_end),
            deps: cleared(self.deps),
            frontier: forget_lifetime(self.frontier),
            uses: cleared(self.uses),
            tops: cleared(self.tops),
            roots: cleared(self.roots),
            stack: forget_lifetime(self.stack),
            found: cleared(self.found),
        }
    }

    fn clear(&mut self) {
        self.nodes.clear();
        self.retries.clear();
        self.dep_end.clear();
        self.deps.clear();
        self.frontier.clear();
        self.uses.clear();
        self.tops.clear();
        self.roots.clear();
        self.stack.clear();
        self.found.clear();
    }

    /// Bytes held, to decide whether to keep the part for the next plan.
    pub(super) fn capacity_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<&dyn NodeDyn>()
            + self.retries.capacity()
            + (self.dep_end.capacity()
                + self.deps.capacity()
                + self.uses.capacity()
                + self.tops.capacity()
                + self.roots.capacity()
                + self.found.capacity())
                * 4
            + self.frontier.capacity() * std::mem::size_of::<&dyn NodeDyn>()
            + self.stack.capacity() * std::mem::size_of::<Visit<'_>>()
    }

    /// The frontier nodes this part needs planned, in order.
    pub(super) fn frontier(&self) -> &[&'g dyn NodeDyn] {
        &self.frontier
    }

    /// The local stand-in for frontier node `node`, counting the edge. The same node met
    /// twice in a row (a fan-out's source, read by every task of the part) is listed once.
    fn frontier_edge(&mut self, node: &'g dyn NodeDyn) -> u32 {
        if self
            .frontier
            .last()
            .is_some_and(|&last| std::ptr::addr_eq(last, node))
        {
            *self.uses.last_mut().expect("uses parallel frontier") += 1;
        } else {
            self.frontier.push(node);
            self.uses.push(1);
        }
        let f = u32::try_from(self.frontier.len() - 1)
            .ok()
            .filter(|&f| f < FRONTIER)
            .expect("a part holds fewer than 2^31 frontier nodes");
        FRONTIER | f
    }
}

/// The first `n` elements of `rest`, which keeps the others.
fn cut_off<'a, T>(rest: &mut &'a mut [T], n: usize) -> &'a mut [T] {
    let (head, tail) = std::mem::take(rest).split_at_mut(n);
    *rest = tail;
    head
}

/// Runs `work` on each item, the first on this thread and each other on a thread of its
/// own (or on this one, when the system refuses a thread); the results in order.
fn on_threads<I: Send, R: Send>(items: Vec<I>, work: impl Fn(I) -> R + Sync) -> Vec<R> {
    // An item stays in its cell until a thread takes it: the one the system refused
    // to start never did.
    let cells: Vec<Mutex<Option<I>>> = items.into_iter().map(|i| Mutex::new(Some(i))).collect();
    let (work, cells) = (&work, &cells);
    std::thread::scope(|scope| {
        let helpers: Vec<_> = cells
            .iter()
            .skip(1)
            .map(|cell| {
                #[cfg(all(test, not(loom)))]
                if tests::threads_refused() {
                    return Err(std::io::Error::other("refused by the test"));
                }
                std::thread::Builder::new()
                    .name("dask-planner".into())
                    .spawn_scoped(scope, move || work(take(cell)))
            })
            .collect();
        let mut results = Vec::with_capacity(cells.len());
        results.extend(cells.first().map(|cell| work(take(cell))));
        for (helper, cell) in helpers.into_iter().zip(cells.iter().skip(1)) {
            results.push(match helper {
                Ok(helper) => helper.join().unwrap_or_else(|panic| resume_unwind(panic)),
                Err(_) => work(take(cell)),
            });
        }
        results
    })
}

fn take<I>(cell: &Mutex<Option<I>>) -> I {
    cell.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
        .expect("each item is taken once")
}

/// Phase one: plans the subgraphs under `inputs` (a wide node's inputs beyond the
/// first) in up to `splitting.threads` parts, on as many threads; the parts in order.
/// Parts come from `spare` when it has some (their storage is reused).
pub(super) fn plan_parts<'g>(
    inputs: &[&'g NodeRef],
    splitting: Splitting,
    spare: &mut Vec<Part<'g>>,
) -> Vec<Part<'g>> {
    let parts = splitting
        .threads
        .min(inputs.len() / splitting.min_part.clamp(1, inputs.len().max(1)))
        .max(1);
    #[cfg(all(test, not(loom)))]
    tests::PARTS_PLANNED.with(|n| n.set(n.get() + parts));
    let work: Vec<_> = inputs
        .chunks(inputs.len().div_ceil(parts))
        .map(|range| (range, spare.pop().unwrap_or_default()))
        .collect();
    on_threads(work, |(range, mut part)| {
        plan_part(range, &mut part);
        part
    })
}

/// `Visit::first` of an entry that enters a node with other handles than the one its
/// reader holds: a frontier node (see the module's comment).
const ENTERING_SHARED: u32 = ENTERING - 1;

/// How a part enters the node behind `handle`: its count is read where the handle is
/// found (the node's first line, which entering it reads anyway), so the walk's entries
/// hold the node itself, as the planner's do.
#[inline]
fn entering(handle: &NodeRef) -> u32 {
    if handle.is_only_handle() {
        ENTERING
    } else {
        ENTERING_SHARED
    }
}

/// Whether the part plans a node with one handle itself: pure nodes may merge with equal
/// ones elsewhere, and value nodes hold values the planner loads.
#[inline]
fn in_part(node: &dyn NodeDyn) -> bool {
    !node.header().pure && matches!(node.body(), NodeBody::Task)
}

/// The depth-first post-order of the nodes under `inputs` that the part plans itself.
fn plan_part<'g>(inputs: &[&'g NodeRef], part: &mut Part<'g>) {
    part.clear();
    // The part's own walk, shaped like the planner's (see `Plan::build_from`): entering a
    // node notes a slot per input in `found`, which the input fills when it is planned;
    // leaving it reads its segment. The input's own slot is `found[0]`.
    let (mut stack, mut found) = (
        std::mem::take(&mut part.stack),
        std::mem::take(&mut part.found),
    );
    // The inputs of the node being entered (see `NodeDyn::deps_into`).
    let mut inputs_of_node: Vec<&'g NodeRef> = Vec::new();
    for &input in inputs {
        found.push(UNSET);
        stack.push(Visit {
            node: input.node(),
            slot: 0,
            first: entering(input),
        });
        while let Some(visit) = stack.pop() {
            let node = visit.node;
            if visit.first >= ENTERING_SHARED {
                if visit.first == ENTERING_SHARED || !in_part(node) {
                    found[visit.slot as usize] = part.frontier_edge(node);
                    continue;
                }
                stack.push(Visit {
                    node,
                    slot: visit.slot,
                    first: u32::try_from(found.len())
                        .ok()
                        .filter(|&f| f < ENTERING_SHARED)
                        .expect("a part holds fewer than 2^32 - 2 edges"),
                });
                let first_push = stack.len();
                node.deps_into(&mut inputs_of_node);
                for &dep in &inputs_of_node {
                    let slot = found.len() as u32;
                    found.push(UNSET);
                    stack.push(Visit {
                        node: dep.node(),
                        slot,
                        first: entering(dep),
                    });
                }
                inputs_of_node.clear();
                order_inputs(&mut stack[first_push..]);
                continue;
            }
            let index = u32::try_from(part.nodes.len())
                .ok()
                .filter(|&i| i < FRONTIER)
                .expect("a part holds fewer than 2^31 nodes");
            let first = visit.first as usize;
            debug_assert!(
                found[first..].iter().all(|&d| d != UNSET),
                "inputs come first"
            );
            // Pushed one by one: most nodes have one or two inputs, and
            // `extend_from_slice` calls `memcpy` for each.
            for &d in &found[first..] {
                part.deps.push(d);
            }
            found.truncate(first);
            part.dep_end
                .push(u32::try_from(part.deps.len()).expect("a part holds fewer than 2^32 edges"));
            part.nodes.push(node);
            // `#[delayed]` allows at most 100; the hidden API clamps.
            part.retries
                .push(u8::try_from(node.header().retries).unwrap_or(u8::MAX));
            found[visit.slot as usize] = index;
        }
        part.tops.push(found[0]);
        found.clear();
    }
    (part.stack, part.found) = (stack, found);
}

/// What phase two writes for one part: its windows of the plan's arrays (not yet
/// initialized, except `retries`), and what it reads.
struct Window<'a, 'g> {
    part: &'a mut Part<'g>,
    /// The plan indices of the part's frontier nodes.
    frontier: &'a [u32],
    /// Whether each node planned before the parts is a task.
    is_task: &'a [bool],
    /// The part's first node's plan index, and its first edge's position.
    first_node: u32,
    first_edge: u32,
    nodes: &'a mut [MaybeUninit<&'g dyn NodeDyn>],
    retries: &'a mut [u8],
    run: &'a mut [MaybeUninit<RunNode>],
    /// Where each node's inputs end (`dep_start[i + 1]`).
    dep_end: &'a mut [MaybeUninit<u32>],
    deps: &'a mut [MaybeUninit<u32>],
    /// The wide node's inputs that are this part's.
    tops: &'a mut [MaybeUninit<u32>],
}

/// Phase two for one part: writes every element of its windows, and notes the part's
/// tasks ready at the start in `part.roots`. Returns how many of the wide node's inputs
/// in the part are tasks.
fn write_part(w: Window<'_, '_>) -> u32 {
    let Window {
        part,
        frontier,
        is_task,
        first_node,
        first_edge,
        nodes,
        retries,
        run,
        dep_end,
        deps,
        tops,
    } = w;
    // The windows were cut to the part's sizes: writing each of the part's nodes, edges
    // and tops writes each window whole.
    assert!(
        nodes.len() == part.nodes.len()
            && run.len() == part.nodes.len()
            && dep_end.len() == part.nodes.len()
            && deps.len() == part.deps.len()
            && tops.len() == part.tops.len(),
        "windows fit their part"
    );
    let in_plan = |d: u32| {
        if d & FRONTIER != 0 {
            frontier[(d & !FRONTIER) as usize]
        } else {
            first_node + d
        }
    };
    // Part nodes are tasks; frontier nodes were planned before the parts.
    let counts = |d: u32| u32::from(is_task.get(d as usize).copied().unwrap_or(true));
    for (slot, &node) in nodes.iter_mut().zip(&part.nodes) {
        slot.write(node);
    }
    retries.copy_from_slice(&part.retries);
    let mut lo = 0;
    for (i, ((&hi, node), end)) in part
        .dep_end
        .iter()
        .zip(run.iter_mut())
        .zip(dep_end.iter_mut())
        .enumerate()
    {
        let mut pending = 0;
        for (slot, &d) in deps[lo as usize..hi as usize]
            .iter_mut()
            .zip(&part.deps[lo as usize..hi as usize])
        {
            let d = in_plan(d);
            pending += counts(d);
            slot.write(d);
        }
        lo = hi;
        end.write(first_edge + hi);
        node.write(RunNode::task_read_by(pending, 1));
        if pending == 0 {
            part.roots.push(first_node + i as u32);
        }
    }
    let mut tasks_read = 0;
    for (slot, &top) in tops.iter_mut().zip(&part.tops) {
        let d = in_plan(top);
        tasks_read += counts(d);
        slot.write(d);
    }
    tasks_read
}

/// Phase two: writes planned parts into the plan, on as many threads, after their
/// frontier nodes were planned, as the nodes after those planned so far, and the wide
/// node's inputs after their edges: `first` (the plan indices of its first inputs,
/// planned by the walk), then every part's. `frontier` lists the frontier nodes' plan
/// indices, every part's in order. Returns the parts' node count and how many of the
/// wide node's inputs are tasks; the parts go back to `spare`.
pub(super) fn write_parts<'g>(
    mut parts: Vec<Part<'g>>,
    frontier: &[u32],
    first: &[u32],
    g: &mut PlanGraph<'g>,
    run: &mut Vec<RunNode>,
    spare: &mut Vec<Part<'g>>,
) -> (usize, u32) {
    // The first inputs' and the frontier nodes' readers, counted here as the planner
    // counts any input: it alone writes the counters of nodes it planned.
    let mut tasks_read = 0;
    for &d in first {
        add_exclusive(&mut run[d as usize].readers, 1);
        if g.is_task[d as usize] {
            g.succ_start[d as usize + 1] += 1;
            tasks_read += 1;
        }
    }
    let mut at = 0;
    for part in &parts {
        for (&d, &uses) in frontier[at..].iter().zip(&part.uses) {
            add_exclusive(&mut run[d as usize].readers, uses);
            if g.is_task[d as usize] {
                g.succ_start[d as usize + 1] += uses;
            }
        }
        at += part.frontier.len();
    }
    let before = g.nodes.len();
    let added: usize = parts.iter().map(|p| p.nodes.len()).sum();
    let edges: usize = parts.iter().map(|p| p.deps.len()).sum();
    let inputs: usize = parts.iter().map(|p| p.tops.len()).sum();
    let first_edge = g.deps.len();
    let total_nodes = before
        .checked_add(added)
        .filter(|&n| n < (super::IN_PROGRESS - 1) as usize)
        .expect("a plan holds fewer than 2^32 - 1 nodes");
    let wide_edges = first.len() + inputs;
    let total_edges = (first_edge + edges)
        .checked_add(wide_edges)
        .filter(|&e| u32::try_from(e).is_ok())
        .expect("a plan holds fewer than 2^32 edges");
    // Every part node is a task read by one task (see the module's comment): constant
    // fills. The rest is written by the parts into spare capacity, not filled first (a
    // pass over tens of megabytes on one thread).
    g.is_task.resize(total_nodes, true);
    g.retries.resize(total_nodes, 0);
    g.succ_start.resize(total_nodes + 1, 1);
    g.nodes.reserve(added);
    g.dep_start.reserve(added);
    g.deps.reserve(edges + wide_edges);
    run.reserve(added);

    let (is_task, _) = g.is_task.split_at(before);
    let mut nodes = &mut g.nodes.spare_capacity_mut()[..added];
    let mut retries = &mut g.retries[before..];
    let mut run_rest = &mut run.spare_capacity_mut()[..added];
    let mut dep_end = &mut g.dep_start.spare_capacity_mut()[..added];
    let (mut deps, wide) = g.deps.spare_capacity_mut()[..edges + wide_edges].split_at_mut(edges);
    let (wide_first, mut tops) = wide.split_at_mut(first.len());
    for (slot, &d) in wide_first.iter_mut().zip(first) {
        slot.write(d);
    }
    let mut windows = Vec::with_capacity(parts.len());
    let (mut first_node, mut edge, mut at) = (before, first_edge, 0);
    for part in &mut parts {
        let (n, e, t, f) = (
            part.nodes.len(),
            part.deps.len(),
            part.tops.len(),
            part.frontier.len(),
        );
        windows.push(Window {
            part,
            frontier: &frontier[at..at + f],
            is_task,
            first_node: first_node as u32,
            first_edge: edge as u32,
            nodes: cut_off(&mut nodes, n),
            retries: cut_off(&mut retries, n),
            run: cut_off(&mut run_rest, n),
            dep_end: cut_off(&mut dep_end, n),
            deps: cut_off(&mut deps, e),
            tops: cut_off(&mut tops, t),
        });
        (first_node, edge, at) = (first_node + n, edge + e, at + f);
    }
    for read in on_threads(windows, write_part) {
        tasks_read += read;
    }
    // SAFETY: the windows tile `before..total_nodes` of `nodes`, `run` and (shifted by
    // one) `dep_start`, and `first_edge..total_edges` of `deps` with the first inputs
    // written above; `write_part` wrote each window whole (it checks their sizes), and
    // `on_threads` returned, so every thread's writes happened before. Had a part
    // panicked, its panic would have resumed above and no length would change.
    unsafe {
        g.nodes.set_len(total_nodes);
        run.set_len(total_nodes);
        g.dep_start.set_len(total_nodes + 1);
        g.deps.set_len(total_edges);
    }
    for part in &parts {
        g.roots.extend_from_slice(&part.roots);
    }
    spare.append(&mut parts);
    (added, tasks_read)
}

#[cfg(all(test, not(loom)))]
pub(super) mod tests {
    use std::cell::Cell;
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use super::Splitting;
    use crate::plan::Plan;
    use crate::{compute_with, delayed, Config, Delayed, Scheduler};

    thread_local! {
        /// Parts this thread's plans were split into (see `plan_parts`).
        pub(in crate::plan) static PARTS_PLANNED: Cell<usize> = const { Cell::new(0) };
    }

    fn parts_planned() -> usize {
        PARTS_PLANNED.with(Cell::get)
    }

    thread_local! {
        /// Makes `on_threads` on this thread act as if the system refused every thread.
        static REFUSE_THREADS: Cell<bool> = const { Cell::new(false) };
    }

    pub(super) fn threads_refused() -> bool {
        REFUSE_THREADS.with(Cell::get)
    }

    #[test]
    fn refused_threads_leave_the_work_to_the_caller_in_order() {
        let here = std::thread::current().id();
        let on = |refuse: bool| {
            REFUSE_THREADS.with(|r| r.set(refuse));
            let done = super::on_threads(vec![1, 2, 3, 4], |i| {
                (i * 10, std::thread::current().id() == here)
            });
            REFUSE_THREADS.with(|r| r.set(false));
            done
        };
        assert_eq!(
            on(false),
            vec![(10, true), (20, false), (30, false), (40, false)]
        );
        assert_eq!(
            on(true),
            vec![(10, true), (20, true), (30, true), (40, true)]
        );
        // A whole plan split with every thread refused is the one-thread plan.
        REFUSE_THREADS.with(|r| r.set(true));
        let before = parts_planned();
        let seeds = if cfg!(miri) { 2 } else { 20 };
        for seed in 0..seeds {
            let outputs = random_graph(seed, 12);
            let serial = plan_of(&outputs, Splitting::NEVER);
            let split = plan_of(&outputs, EAGER);
            same_plans(
                describe(&split),
                &describe(&serial),
                &format!("seed {seed}"),
            );
        }
        REFUSE_THREADS.with(|r| r.set(false));
        assert!(
            parts_planned() > before + seeds as usize,
            "the plans were split"
        );
    }

    /// Splits at every node with two inputs not planned yet, one input a part and up to
    /// three threads: every path through `plan_parts` and `append_parts`, on small graphs.
    const EAGER: Splitting = Splitting {
        threads: 3,
        at: 2,
        min_part: 1,
    };

    /// One node of a plan, named by keys (the node objects of merged pure calls differ
    /// between plans): whether a task, its retries, its inputs, its reader and pending
    /// counts, the tasks reading it, and whether it is ready at the start.
    type Described = (bool, u8, Vec<String>, u32, u32, Vec<String>, bool);

    /// A plan as keys: every node, its outputs and its task count. Also checks what
    /// holds of any plan: inputs come before their readers, roots ascend and are exactly
    /// the tasks without task inputs.
    fn describe(plan: &Plan<'_>) -> Description {
        let g = plan.graph();
        let key = |i: u32| g.key_of(i);
        let roots = g.roots();
        assert!(roots.windows(2).all(|w| w[0] < w[1]), "roots ascend");
        let mut nodes = BTreeMap::new();
        for i in 0..g.len() as u32 {
            let deps = g.deps_of(i);
            assert!(deps.iter().all(|&d| d < i), "inputs come first");
            let run = plan.run_node(i);
            let pending = run.pending.load(Ordering::Relaxed);
            assert_eq!(
                pending as usize,
                deps.iter().filter(|&&d| g.is_task(d)).count(),
                "pending counts task inputs"
            );
            let is_root = roots.binary_search(&i).is_ok();
            assert_eq!(
                is_root,
                g.is_task(i) && pending == 0,
                "roots are the ready tasks"
            );
            let mut succs: Vec<String> = g.succs_of(i).iter().map(|&s| key(s)).collect();
            succs.sort();
            let described = (
                g.is_task(i),
                g.retries(i),
                deps.iter().map(|&d| key(d)).collect(),
                run.readers.load(Ordering::Relaxed),
                pending,
                succs,
                is_root,
            );
            assert!(nodes.insert(key(i), described).is_none(), "each node once");
        }
        let outputs = g.outputs().iter().map(|&o| key(o)).collect();
        (nodes, outputs, g.task_count())
    }

    type Description = (BTreeMap<String, Described>, Vec<String>, usize);

    /// Compares two descriptions node by node, naming the first node that differs.
    fn same_plans(got: Description, expected: &Description, case: &str) {
        for (key, node) in &expected.0 {
            assert_eq!(got.0.get(key), Some(node), "{case}: node {key}");
        }
        assert_eq!(got.0.len(), expected.0.len(), "{case}: nodes");
        assert_eq!(
            (&got.1, got.2),
            (&expected.1, expected.2),
            "{case}: outputs, tasks"
        );
    }

    fn plan_of(outputs: &[Delayed<u64>], splitting: Splitting) -> Plan<'_> {
        Plan::build_splitting(splitting, |list| {
            list.extend(outputs.iter().map(Delayed::node_ref))
        })
    }

    /// xorshift: the graphs are random but the same in every run.
    struct Random(u64);

    impl Random {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    fn gather(inputs: Vec<Delayed<u64>>) -> Delayed<u64> {
        crate::__private::task(
            &crate::__private::test_spec("gather", "split::tests::gather", 0),
            None,
            (crate::IntoArg::<Vec<u64>>::into_arg(inputs),),
            |args, inputs| {
                Ok(args
                    .0
                    .owned(inputs)?
                    .iter()
                    .fold(7u64, |a, v| a.wrapping_mul(31).wrapping_add(*v)))
            },
            crate::node::no_codec,
        )
    }

    fn pure_plus(input: Delayed<u64>, id: u64) -> Delayed<u64> {
        crate::__private::task(
            &crate::__private::test_spec("pure", "split::tests::pure", 0),
            Some(u128::from(id) << 1 | 1),
            (crate::Arg::Node(input),),
            move |args, inputs| Ok(args.0.owned(inputs)? + id),
            crate::node::no_codec,
        )
    }

    fn retried(input: Delayed<u64>) -> Delayed<u64> {
        crate::__private::task(
            &crate::__private::test_spec("retried", "split::tests::retried", 2),
            None,
            (crate::Arg::Node(input),),
            |args, inputs| Ok(args.0.owned(inputs)? * 3),
            crate::node::no_codec,
        )
    }

    /// An input only the gather will hold (a part plans it), or one that others hold too
    /// (a frontier node): chains, values, pure calls (equal ones merge), retried tasks,
    /// nested gathers (some held by the program), and nodes the program keeps handles to.
    fn input(random: &mut Random, kept: &mut Vec<Delayed<u64>>, depth: u32) -> Delayed<u64> {
        thread_local! {
            /// Equal pure calls read the same input, as they would in a program: which of
            /// two equal calls a plan keeps then does not show.
            static PURE_INPUTS: Vec<Delayed<u64>> = (0..3).map(delayed).collect();
        }
        let fresh = |random: &mut Random| delayed(random.below(100));
        match random.below(if depth > 2 { 7 } else { 9 }) {
            0 => fresh(random),
            1 => {
                let mut link = fresh(random).map(|v| v + 1);
                for _ in 0..random.below(4) {
                    link = link.map(|v| v * 2 + 1);
                }
                link
            }
            2 if !kept.is_empty() => kept[random.below(kept.len() as u64) as usize].clone(),
            3 => {
                let id = random.below(3);
                pure_plus(PURE_INPUTS.with(|inputs| inputs[id as usize].clone()), id)
            }
            4 => retried(fresh(random).map(|v| v + 5)),
            5 => {
                let node = fresh(random).map(|v| v + 2);
                kept.push(node.clone());
                node
            }
            6 if !kept.is_empty() => {
                let shared = &kept[random.below(kept.len() as u64) as usize];
                shared.map(|v| v ^ 0x55)
            }
            7 => {
                let n = random.below(6) as usize;
                gather((0..n).map(|_| input(random, kept, depth + 1)).collect())
            }
            8 => {
                // A gather the program holds too: the walk plans it, and splits it again
                // while the outer split waits.
                let n = random.below(6) as usize;
                let nested = gather((0..n).map(|_| input(random, kept, depth + 1)).collect());
                kept.push(nested.clone());
                nested
            }
            _ => fresh(random).map(|v| v + 3),
        }
    }

    /// Gathers of random inputs, some read twice, and a few kept nodes as outputs too.
    fn random_graph(seed: u64, width: usize) -> Vec<Delayed<u64>> {
        let mut random = Random(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut kept = Vec::new();
        let mut outputs = Vec::new();
        for _ in 0..1 + random.below(3) {
            let mut inputs: Vec<Delayed<u64>> = (0..width)
                .map(|_| input(&mut random, &mut kept, 0))
                .collect();
            if random.below(2) == 0 {
                let twice = inputs[random.below(width as u64) as usize].clone();
                inputs.push(twice);
            }
            outputs.push(gather(inputs));
        }
        outputs.extend(kept.iter().take(2).cloned());
        outputs
    }

    #[test]
    fn a_split_plan_equals_the_one_thread_plan_on_random_graphs() {
        let (seeds, width) = if cfg!(miri) { (4, 6) } else { (300, 40) };
        let before = parts_planned();
        for seed in 0..seeds {
            let outputs = random_graph(seed, width);
            // All alive at once: a second plan of the same outputs would otherwise
            // resume the first's graph (see `kept`) instead of planning.
            let serial = plan_of(&outputs, Splitting::NEVER);
            let every_input = plan_of(&outputs, Splitting { at: 0, ..EAGER });
            let after_two = plan_of(&outputs, EAGER);
            let expected = describe(&serial);
            same_plans(
                describe(&every_input),
                &expected,
                &format!("seed {seed}, at 0"),
            );
            same_plans(
                describe(&after_two),
                &expected,
                &format!("seed {seed}, at 2"),
            );
        }
        assert!(
            parts_planned() > before + seeds as usize,
            "the plans were split: {} parts",
            parts_planned() - before
        );
    }

    #[test]
    fn part_nodes_are_read_once_and_shared_inputs_stay_with_the_walk() {
        // A fan-out (one source read by every task), tasks only the join holds, and one
        // the program holds too: every node once, the source's readers all counted.
        let source = delayed(1u64).map(|v| v + 1);
        let held = source.map(|v| v * 100);
        let mut inputs: Vec<Delayed<u64>> = (0..9u64)
            .map(|i| source.map(move |v| v + i).map(|v| v * 2))
            .collect();
        inputs.push(held.clone());
        inputs.push(held.clone());
        let outputs = vec![gather(inputs), held];
        let plan = plan_of(&outputs, EAGER);
        let g = plan.graph();
        assert_eq!(g.task_count(), 1 + 9 * 2 + 1 + 1);
        let source_at = (0..g.len() as u32)
            .find(|&i| g.key_of(i) == source.key())
            .expect("the source is planned");
        assert_eq!(
            g.succs_of(source_at).len(),
            10,
            "nine tasks and `held` read it"
        );
        assert_eq!(plan.run_node(source_at).readers.load(Ordering::Relaxed), 10);
        let held_at = (0..g.len() as u32)
            .find(|&i| g.key_of(i) == outputs[1].key())
            .expect("held is planned");
        assert_eq!(
            plan.run_node(held_at).readers.load(Ordering::Relaxed),
            3,
            "read twice by the join and once as an output"
        );
        assert_eq!(
            describe(&plan),
            describe(&plan_of(&outputs, Splitting::NEVER))
        );
    }

    #[test]
    fn a_wide_join_planned_in_parts_computes_what_one_thread_computes() {
        if cfg!(miri) {
            // Tens of thousands of tasks; `a_split_plan_equals...` runs the same code small.
            return;
        }
        // Wide enough for `compute` to split on two threads (`Splitting::for_threads`).
        let width = 3 * super::MIN_PART as u64;
        let runs = Arc::new(AtomicU32::new(0));
        let build = || {
            let source = delayed(3u64).map(|v| v + 1);
            let inputs: Vec<Delayed<u64>> = (0..width)
                .map(|i| {
                    let runs = runs.clone();
                    let own = delayed(i).map(move |v| {
                        runs.fetch_add(1, Ordering::Relaxed);
                        v * 2
                    });
                    match i % 5 {
                        0 => source.map(move |s| s + i),
                        1 => pure_plus(delayed(i % 7), i % 7),
                        2 => retried(own),
                        _ => own.map(|v| v + 1),
                    }
                })
                .collect();
            vec![gather(inputs), source]
        };
        let sync = compute_with(&build(), &Config::default().scheduler(Scheduler::Sync)).unwrap();
        let serial_runs = runs.swap(0, Ordering::Relaxed);
        let before = parts_planned();
        let threads = compute_with(
            &build(),
            &Config::default().scheduler(Scheduler::Threads(2)),
        )
        .unwrap();
        // Planning threads are capped at the cores: one core plans on its own.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let parts = if cores > 1 { 2 } else { 0 };
        assert_eq!(parts_planned(), before + parts, "planned in {parts} parts");
        assert_eq!(threads, sync);
        assert_eq!(
            runs.load(Ordering::Relaxed),
            serial_runs,
            "each task ran once"
        );
        assert_eq!(serial_runs as u64, width * 3 / 5);
    }
}
