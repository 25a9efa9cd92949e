//! Whether a node is content-addressed: pure, and every node upstream of it pure too, so
//! that its key names the same value in every run of every program built from the same
//! sources. A `dask::delayed(value)` data node or a non-pure task has a key numbered in
//! build order, and so has everything computed from it, for this purpose.
//!
//! Only [`Memory`](crate::Memory) needs to know, so it is worked out on first use, not
//! while building (a hot path), and remembered in the node's header: each node is
//! examined at most once, whatever the number of `cache` calls over a shared upstream.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::node::NodeDyn;

const UNKNOWN: u8 = 0;
const YES: u8 = 1;
const NO: u8 = 2;

/// The remembered answer, one byte in the header's padding.
#[derive(Debug)]
pub(crate) struct ContentAddressed(AtomicU8);

// Relaxed throughout: the answer is a pure function of the immutable graph, so threads
// racing to work it out store the same value, and a reader that sees `UNKNOWN` works it
// out again.
impl ContentAddressed {
    pub(crate) const fn unknown() -> Self {
        ContentAddressed(AtomicU8::new(UNKNOWN))
    }

    pub(crate) fn set(&self, yes: bool) {
        self.0.store(if yes { YES } else { NO }, Ordering::Relaxed);
    }

    fn get(&self) -> Option<bool> {
        match self.0.load(Ordering::Relaxed) {
            YES => Some(true),
            NO => Some(false),
            _ => None,
        }
    }
}

impl Clone for ContentAddressed {
    fn clone(&self) -> Self {
        ContentAddressed(AtomicU8::new(self.0.load(Ordering::Relaxed)))
    }
}

/// Works the answer out for `node` and every node upstream it has to look at, without
/// recursion (chains can be millions of nodes long).
pub(crate) fn is_content_addressed(node: &dyn NodeDyn) -> bool {
    if let Some(known) = node.header().content_addressed.get() {
        return known;
    }
    // Depth-first; a node is decided once all its inputs are (`inputs_pushed`).
    let mut stack: Vec<(&dyn NodeDyn, bool)> = vec![(node, false)];
    while let Some((current, inputs_pushed)) = stack.pop() {
        let header = current.header();
        if header.content_addressed.get().is_some() {
            continue;
        }
        if !header.pure {
            header.content_addressed.set(false);
            continue;
        }
        let mut any_no = false;
        let mut all_yes = true;
        current.for_each_dep(
            &mut |dep, _| match dep.node().header().content_addressed.get() {
                Some(true) => {}
                Some(false) => any_no = true,
                None => all_yes = false,
            },
        );
        if any_no || all_yes {
            header.content_addressed.set(!any_no);
        } else {
            debug_assert!(!inputs_pushed, "inputs were decided before");
            stack.push((current, true));
            current.for_each_dep(&mut |dep, _| {
                if dep.node().header().content_addressed.get().is_none() {
                    stack.push((dep.node(), false));
                }
            });
        }
    }
    node.header().content_addressed.get() == Some(true)
}

#[cfg(test)]
mod tests {
    use super::is_content_addressed;
    use crate::{delayed, Delayed};

    #[delayed(pure)]
    fn pure_inc(x: u64) -> u64 {
        x + 1
    }

    #[delayed(pure)]
    fn pure_add(a: u64, b: u64) -> u64 {
        a + b
    }

    #[delayed]
    fn plain_inc(x: u64) -> u64 {
        x + 1
    }

    fn yes(d: &Delayed<u64>) -> bool {
        is_content_addressed(d.node())
    }

    #[test]
    fn pure_all_the_way_up() {
        let leaf = pure_inc(1);
        assert!(yes(&leaf));
        assert!(yes(&pure_inc(&leaf)));
        assert!(!yes(&plain_inc(1)));
        assert!(!yes(&pure_inc(plain_inc(1))));
        assert!(!yes(&pure_inc(pure_inc(plain_inc(1)))));
        assert!(!yes(&pure_inc(crate::delayed(1u64))));
        assert!(!yes(&leaf.map(|v| v + 1)));
        // A diamond with one impure corner, asked from the top first.
        let impure = plain_inc(2);
        let top = pure_add(pure_add(&leaf, &impure), pure_inc(&leaf));
        assert!(!yes(&top));
        assert!(yes(&pure_inc(&leaf)));
        // Persisted results keep the answer of what they stand for.
        let persisted = crate::persist(&[pure_inc(&leaf), pure_inc(&impure)]).unwrap();
        assert!(yes(&persisted[0]));
        assert!(yes(&pure_inc(&persisted[0])));
        assert!(!yes(&persisted[1]));
        assert!(!yes(&pure_inc(&persisted[1])));
    }

    #[test]
    fn a_long_chain_does_not_recurse() {
        let n = if cfg!(miri) { 50 } else { 200_000 };
        let mut pure = pure_inc(0);
        let mut tainted = plain_inc(0);
        for _ in 0..n {
            pure = pure_inc(&pure);
            tainted = pure_inc(&tainted);
        }
        assert!(yes(&pure));
        assert!(!yes(&tainted));
    }
}
