//! What changes while a plan runs: per node, the counters the executor drives and the
//! slot its result waits in; per computation, why it halted, what failed, and who is
//! told about it. The graph it runs ([`PlanGraph`](super::graph::PlanGraph)) stays as
//! planned.

use super::slot::ResultSlot;
use crate::cancel::CancelToken;
use crate::config::ErrorPolicy;
use crate::error::TaskFailure;
use crate::observer::Observers;
use crate::sync::{AtomicBool, AtomicU32, AtomicU8, AtomicUsize, Mutex};

/// `RunNode::state` values.
pub(crate) const WAITING: u8 = 0;
pub(crate) const RUNNING: u8 = 1;
pub(crate) const SUCCEEDED: u8 = 2;
pub(crate) const FAILED: u8 = 3;

/// `RunState::halt_reason` values.
pub(crate) const NOT_HALTED: u8 = 0;
pub(crate) const HALT_FAILURE: u8 = 1;
pub(crate) const HALT_CANCEL: u8 = 2;
pub(crate) const HALT_TIMEOUT: u8 = 3;

/// One node's counters and state. Its result waits in a slot of its own array
/// (`RunState::slots`): the planner writes these 12 bytes per node and leaves the slots,
/// empty from the last plan, alone.
pub(crate) struct RunNode {
    /// Unfinished task inputs; the task is ready at zero.
    pub(crate) pending: AtomicU32,
    /// Readers (input edges and output positions) that have not released the result.
    pub(crate) readers: AtomicU32,
    /// `WAITING`, `RUNNING`, `SUCCEEDED` or `FAILED` (failed or skipped).
    pub(crate) state: AtomicU8,
}

impl RunNode {
    /// A task waiting for `pending` task inputs.
    #[inline]
    pub(crate) fn task(pending: u32) -> Self {
        RunNode {
            pending: AtomicU32::new(pending),
            readers: AtomicU32::new(0),
            state: AtomicU8::new(WAITING),
        }
    }

    /// A task waiting for `pending` task inputs whose result `readers` will release: what
    /// a kept plan sets again, knowing both (the planner counts readers as it finds them).
    #[inline]
    pub(crate) fn task_read_by(pending: u32, readers: u32) -> Self {
        RunNode {
            readers: AtomicU32::new(readers),
            ..RunNode::task(pending)
        }
    }

    /// A value node: its value is in its slot from the start.
    #[inline]
    pub(crate) fn value() -> Self {
        RunNode {
            pending: AtomicU32::new(0),
            readers: AtomicU32::new(0),
            state: AtomicU8::new(SUCCEEDED),
        }
    }
}

/// The run state of one computation, owned by it and dropped with it.
pub(crate) struct RunState {
    pub(super) nodes: Vec<RunNode>,
    /// Node i's result slot at index i. At least as long as `nodes`, and every slot
    /// beyond it (and every slot, between plans) is empty: the vector is kept from plan
    /// to plan, so a plan's slots need no writing unless they hold a value node's value.
    /// (`Plan::drop` skips the pass over them after a run that gave out every output;
    /// were one left full anyway, a later plan's task would drop the stale value when it
    /// stores its own. Debug builds check instead.)
    pub(super) slots: Vec<ResultSlot>,
    /// Why the computation stopped first (`HALT_FAILURE`, `HALT_CANCEL`, `HALT_TIMEOUT`),
    /// or `NOT_HALTED`. Once halted, tasks that have not started are skipped.
    pub(super) halt_reason: AtomicU8,
    /// Some output was not extracted (an extraction failed, or this process of a
    /// cluster does not receive the outputs): results may be left in slots.
    pub(super) abandoned: AtomicBool,
    /// (task, failure, attempts) in the order they happened.
    pub(super) errors: Mutex<Vec<(u32, TaskFailure, u32)>>,
    pub(crate) policy: ErrorPolicy,
    pub(crate) cancel: Option<CancelToken>,
    pub(crate) observers: Observers,
    /// Tasks not yet finished (or skipped); see `exec` for how workers count down.
    pub(crate) unfinished: AtomicUsize,
}

impl RunState {
    /// A fresh state around `nodes` (filled by the planner), with `tasks` to finish.
    pub(super) fn new(nodes: Vec<RunNode>, slots: Vec<ResultSlot>, tasks: usize) -> Self {
        debug_assert!(slots.len() >= nodes.len());
        RunState {
            nodes,
            slots,
            halt_reason: AtomicU8::new(NOT_HALTED),
            abandoned: AtomicBool::new(false),
            errors: Mutex::new(Vec::new()),
            policy: ErrorPolicy::FailFast,
            cancel: None,
            observers: Observers::default(),
            unfinished: AtomicUsize::new(tasks),
        }
    }
}
