//! Where a task's result waits for its readers.

use crate::node::SharedValue;
use crate::sync::UnsafeCell;
use crate::task_value::TaskValue;

pub(crate) enum SlotValue {
    Empty,
    /// Produced by a task of this plan; the last reader may move it out.
    Owned(TaskValue),
    /// Held by a value node outside the plan; readers borrow or clone it.
    Shared(SharedValue),
}

/// A result cell written once by its task and then read by that task's successors.
///
/// The cell itself does no synchronization; the plan's counters do (see `plan::step`):
/// a successor starts only after the writer's `Release` decrement of its pending count,
/// and the slot is emptied only by whoever brings the reader count to zero, after every
/// reader's `Release` decrement.
pub(crate) struct ResultSlot {
    cell: UnsafeCell<SlotValue>,
}

impl ResultSlot {
    /// A slot with nothing in it yet.
    pub(crate) fn empty() -> Self {
        ResultSlot {
            cell: UnsafeCell::new(SlotValue::Empty),
        }
    }

    /// A value node's slot, holding its value from the start.
    pub(crate) fn shared(value: SharedValue) -> Self {
        ResultSlot {
            cell: UnsafeCell::new(SlotValue::Shared(value)),
        }
    }

    /// # Safety
    /// No other access to this slot may happen concurrently or later without a
    /// happens-before edge from this call (the task stores before it releases its
    /// successors).
    #[inline]
    pub(crate) unsafe fn store(&self, value: TaskValue) {
        // SAFETY: exclusive access is the caller's obligation.
        self.cell
            .with_mut(|p| unsafe { *p = SlotValue::Owned(value) });
    }

    /// The value without its type: readers downcast it, a cluster encodes it.
    ///
    /// # Safety
    /// The slot must have been stored before (happens-before) this call and must not be
    /// taken or cleared until the returned reference is dropped: the caller holds one
    /// unreleased reader count while the reference lives.
    #[inline]
    pub(crate) unsafe fn borrow_any(&self) -> Option<&(dyn std::any::Any + Send + Sync)> {
        // SAFETY: no writer can run while the caller's reader count is held.
        self.cell.with(|p| unsafe {
            match &*p {
                SlotValue::Owned(v) => Some(v.as_any()),
                SlotValue::Shared(a) => Some(&**a),
                SlotValue::Empty => None,
            }
        })
    }

    /// Moves the value out when the plan owns it; clones it when a value node does.
    /// The flag says whether the slot is empty now (a plan-owned value left it, moved
    /// out, or dropped for being of another type than `T`).
    ///
    /// # Safety
    /// The caller must be the only remaining reader (reader count 1, read with
    /// `Acquire`), so no borrow of the slot exists or will be made.
    #[inline]
    pub(crate) unsafe fn take<T: Clone + 'static>(&self) -> (Option<T>, bool) {
        // SAFETY: exclusive access is the caller's obligation.
        self.cell.with_mut(|p| unsafe {
            match std::mem::replace(&mut *p, SlotValue::Empty) {
                SlotValue::Owned(v) => (v.take::<T>(), true),
                SlotValue::Shared(a) => {
                    let cloned = a.downcast_ref::<T>().cloned();
                    *p = SlotValue::Shared(a);
                    (cloned, false)
                }
                SlotValue::Empty => (None, true),
            }
        })
    }

    /// Whether the slot holds nothing; `&mut self` proves nobody else touches it.
    pub(crate) fn is_empty(&mut self) -> bool {
        // SAFETY: `&mut self`: no other access exists.
        self.cell
            .with_mut(|p| unsafe { matches!(*p, SlotValue::Empty) })
    }

    /// Empties the slot and hands back what it held, so the caller decides where the
    /// (user-defined, possibly panicking) drop runs.
    ///
    /// # Safety
    /// As for [`take`](Self::take): no reader remains.
    #[inline]
    pub(crate) unsafe fn clear(&self) -> SlotValue {
        // SAFETY: exclusive access is the caller's obligation.
        self.cell
            .with_mut(|p| unsafe { std::mem::replace(&mut *p, SlotValue::Empty) })
    }
}
