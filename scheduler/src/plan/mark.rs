//! Finding each node once per plan without a hash map.
//!
//! Planning visits every node of the graph; a hash map from node address to plan index
//! costs a cache miss per lookup on big graphs. Instead each node carries a
//! [`VisitMark`]: the epoch of the planner that last visited it and the index it got.
//! Only one planner at a time may write marks: the first to start while no other planner
//! runs ([`MarkMode::Stamps`]). A planner that starts while another runs keeps its own
//! map instead ([`MarkMode::Map`]), so concurrent computes on shared nodes stay correct
//! and only the rare concurrent case pays for hashing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

use crate::node::NodeDyn;

/// Marks a node as entered but not yet given an index.
pub(crate) const IN_PROGRESS: u32 = u32::MAX;

static ACTIVE_PLANNERS: AtomicUsize = AtomicUsize::new(0);
static EPOCH: AtomicU64 = AtomicU64::new(0);

/// Per-node planning stamp. Relaxed accesses suffice: only the single stamping planner
/// touches marks, and hand-over between successive stamping planners is ordered by
/// `ACTIVE_PLANNERS` (release on leaving, acquire on entering).
#[doc(hidden)]
pub struct VisitMark {
    epoch: AtomicU64,
    index: AtomicU32,
}

impl VisitMark {
    pub(crate) const fn new() -> Self {
        VisitMark {
            epoch: AtomicU64::new(0),
            index: AtomicU32::new(0),
        }
    }
}

pub(crate) enum MarkMode {
    Stamps { epoch: u64 },
    Map(HashMap<usize, u32>),
}

/// Membership in the set of running planners; decides the mode.
pub(crate) struct Marks {
    mode: MarkMode,
}

impl Marks {
    pub(crate) fn enter() -> Self {
        let mode = if ACTIVE_PLANNERS.fetch_add(1, Ordering::AcqRel) == 0 {
            MarkMode::Stamps {
                epoch: EPOCH.fetch_add(1, Ordering::Relaxed) + 1,
            }
        } else {
            MarkMode::Map(HashMap::new())
        };
        Marks { mode }
    }

    #[cfg(test)]
    pub(crate) fn uses_stamps(&self) -> bool {
        matches!(self.mode, MarkMode::Stamps { .. })
    }

    #[inline]
    pub(crate) fn get(&self, node: &dyn NodeDyn) -> Option<u32> {
        match &self.mode {
            MarkMode::Stamps { epoch } => {
                let mark = &node.header().mark;
                (mark.epoch.load(Ordering::Relaxed) == *epoch)
                    .then(|| mark.index.load(Ordering::Relaxed))
            }
            MarkMode::Map(map) => map.get(&address(node)).copied(),
        }
    }

    #[inline]
    pub(crate) fn set(&mut self, node: &dyn NodeDyn, index: u32) {
        match &mut self.mode {
            MarkMode::Stamps { epoch } => {
                let mark = &node.header().mark;
                mark.epoch.store(*epoch, Ordering::Relaxed);
                mark.index.store(index, Ordering::Relaxed);
            }
            MarkMode::Map(map) => {
                map.insert(address(node), index);
            }
        }
    }
}

impl Drop for Marks {
    fn drop(&mut self) {
        ACTIVE_PLANNERS.fetch_sub(1, Ordering::AcqRel);
    }
}

fn address(node: &dyn NodeDyn) -> usize {
    node as *const dyn NodeDyn as *const () as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_planner_that_starts_alone_writes_stamps() {
        // Other tests plan concurrently; retry until this one starts alone.
        for _ in 0..1000 {
            let first = Marks::enter();
            if !first.uses_stamps() {
                drop(first);
                std::thread::yield_now();
                continue;
            }
            let second = Marks::enter();
            assert!(
                !second.uses_stamps(),
                "a concurrent planner must not overwrite stamps"
            );
            drop(first);
            let third = Marks::enter();
            assert!(!third.uses_stamps(), "still concurrent with `second`");
            return;
        }
        panic!("never planned alone");
    }
}
