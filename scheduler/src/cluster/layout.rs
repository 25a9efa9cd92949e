//! Which process runs which task, and which results cross processes.
//!
//! Every process computes the same layout from the same plan (plan indices and keys
//! are deterministic), so no process coordinates the others.

use std::hash::Hasher;

use super::{ClusterError, Placement};
use crate::key::StableHasher;
use crate::plan::Plan;

pub(crate) struct Layout {
    /// Per plan node: runs on this process (tasks owned here, and every value node).
    pub(crate) local: Vec<bool>,
    /// Per plan node: a remote task whose result this process receives.
    pub(crate) arrives: Vec<bool>,
    /// Per plan node: a local task whose result other processes read.
    pub(crate) sends: Vec<bool>,
    /// Per plan node: the processes (bit set) that receive the task's result.
    pub(crate) dests: Vec<u64>,
    /// Tasks owned by each process (for reports and tests).
    pub(crate) owned: Vec<usize>,
}

impl Layout {
    /// `everywhere`: every process receives the outputs; otherwise process 0 only.
    pub(crate) fn new(
        plan: &Plan<'_>,
        processes: usize,
        me: usize,
        placement: Placement,
        everywhere: bool,
    ) -> Self {
        let n = plan.graph().len();
        const VALUE: u32 = u32::MAX;
        let mut owner = vec![VALUE; n];
        let mut next = 0usize;
        for t in 0..n as u32 {
            if !plan.graph().is_task(t) {
                continue;
            }
            let owner_of_t = match placement {
                Placement::KeyHash => (plan.graph().node(t).header().id % processes as u64) as u32,
                Placement::Chains => {
                    // Follow the first task input whose only reader is this task.
                    let chained = plan.graph().deps_of(t).iter().copied().find(|&d| {
                        plan.graph().is_task(d) && plan.graph().succs_of(d).iter().all(|&s| s == t)
                    });
                    match chained {
                        Some(d) => owner[d as usize],
                        None => {
                            next += 1;
                            ((next - 1) % processes) as u32
                        }
                    }
                }
            };
            owner[t as usize] = owner_of_t;
        }
        let mut dests = vec![0u64; n];
        for t in 0..n as u32 {
            let o = owner[t as usize];
            if o == VALUE {
                continue;
            }
            for &d in plan.graph().deps_of(t) {
                let od = owner[d as usize];
                if od != VALUE && od != o {
                    dests[d as usize] |= 1 << o;
                }
            }
        }
        let receivers = if !everywhere {
            1
        } else if processes == 64 {
            u64::MAX
        } else {
            (1u64 << processes) - 1
        };
        for &o in plan.graph().outputs() {
            let owner_of_o = owner[o as usize];
            if owner_of_o != VALUE {
                dests[o as usize] |= receivers & !(1 << owner_of_o);
            }
        }
        let mut owned = vec![0; processes];
        for &o in &owner {
            if o != VALUE {
                owned[o as usize] += 1;
            }
        }
        let me_bit = 1u64 << me;
        let local: Vec<bool> = owner
            .iter()
            .map(|&o| o == VALUE || o == me as u32)
            .collect();
        let sends = (0..n).map(|i| local[i] && dests[i] != 0).collect();
        let arrives = (0..n)
            .map(|i| !local[i] && dests[i] & me_bit != 0)
            .collect();
        Layout {
            local,
            arrives,
            sends,
            dests,
            owned,
        }
    }

    /// Refuses, before anything runs, a result that must cross processes but cannot.
    pub(crate) fn check_codecs(&self, plan: &Plan<'_>) -> Result<(), ClusterError> {
        for (t, &dests) in self.dests.iter().enumerate() {
            let node = plan.graph().node(t as u32);
            if dests != 0 && node.codec().is_none() {
                let header = node.header();
                return Err(ClusterError::NotSerializable {
                    key: header.key().to_string(),
                    name: header.name.to_string(),
                    type_name: node.type_name().to_string(),
                });
            }
        }
        Ok(())
    }
}

/// A hash of the plan's shape and keys: equal on processes that built the same graph.
pub(crate) fn fingerprint(plan: &Plan<'_>) -> u64 {
    let mut hasher = StableHasher::new();
    hasher.write_usize(plan.graph().len());
    for t in 0..plan.graph().len() as u32 {
        hasher.write_u64(plan.graph().node(t).header().id);
        hasher.write_u8(u8::from(plan.graph().is_task(t)));
        hasher.write_usize(plan.graph().deps_of(t).len());
    }
    hasher.finish()
}
