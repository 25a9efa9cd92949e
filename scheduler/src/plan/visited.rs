//! Finding each node once per plan without touching it.
//!
//! Planning checks every edge's input: planned already, or not yet? On big graphs the
//! input is a cold node (a million two-input task nodes are 176 MB by their allocation
//! size), and a check that reads the node costs a cache miss per edge: it was two thirds
//! of planning a wavefront. So the planner keeps its answers in a table indexed by the
//! node's address (which the reader holds, so looking it up does not touch the node):
//! dense, and small enough to stay in the last-level cache (17 MB for a million-node
//! plan, spare capacity included, measured). A node is read only when it is entered.
//!
//! The table belongs to one plan, so planners running at once on shared nodes need no
//! coordination.

use crate::node::NodeDyn;

/// Marks a node as entered but not yet given an index.
pub(crate) const IN_PROGRESS: u32 = u32::MAX;

/// A node's number: its address in units of 64 bytes. Every node holds its own
/// `NodeHeader`, which is bigger than that (`node.rs` asserts it), so live nodes, which
/// a plan borrows, have distinct numbers; and nodes built one after another lie close
/// together, so the table is dense.
#[inline]
pub(crate) fn number(node: &dyn NodeDyn) -> u64 {
    (node as *const dyn NodeDyn as *const () as usize as u64) >> 6
}

/// Entries per page: 256 bytes. A plan whose nodes are numbered far apart (a long loop
/// that keeps one node of each graph it builds) allocates a page per node at worst,
/// about what the node itself takes; numbers built together share pages.
const PAGE_BITS: u32 = 6;
const PAGE: usize = 1 << PAGE_BITS;

/// No entry yet: the node is not visited. Entries store `index + 1`, and `IN_PROGRESS`
/// as itself.
const UNVISITED: u32 = 0;

/// One plan's answers, by node number: not visited, in progress, or the plan index.
///
/// Pages are found through a window of page numbers indexed directly (a graph's numbers
/// are close together, so the window is small and stays in the L2 cache), and pages
/// outside it through a hash directory (a node built long before the rest).
#[derive(Default)]
pub(crate) struct Visited {
    /// `window[p - window_start]`: where page p starts in `entries`, in pages, + 1; or 0.
    window: Vec<u32>,
    window_start: u64,
    /// Open addressing from page number to the same position + 1 (0: free slot), for
    /// pages outside the window; the length is a power of two, at most half full.
    far: Vec<(u64, u32)>,
    far_len: usize,
    /// The pages, one after the other (one allocation: a lookup is two dependent loads,
    /// the window and the entry). Beyond `used` pages: spares of earlier plans, zeroed
    /// when taken.
    entries: Vec<u32>,
    /// Pages in use by this plan.
    used: usize,
}

impl Visited {
    /// The entry for node number `node` (see [`number`]): `None` if not visited, else
    /// the plan index or `IN_PROGRESS`.
    #[inline]
    pub(crate) fn get(&self, node: u64) -> Option<u32> {
        let page = self.find_page(node >> PAGE_BITS)?;
        match self.entries[page * PAGE + node as usize % PAGE] {
            UNVISITED => None,
            IN_PROGRESS => Some(IN_PROGRESS),
            index_plus_one => Some(index_plus_one - 1),
        }
    }

    /// Records `index` for node number `node` (a plan index below `IN_PROGRESS - 1`, or
    /// `IN_PROGRESS`).
    #[inline]
    pub(crate) fn set(&mut self, node: u64, index: u32) {
        debug_assert!(index < IN_PROGRESS - 1 || index == IN_PROGRESS);
        let page = match self.find_page(node >> PAGE_BITS) {
            Some(page) => page,
            None => self.add_page(node >> PAGE_BITS),
        };
        self.entries[page * PAGE + node as usize % PAGE] = if index == IN_PROGRESS {
            IN_PROGRESS
        } else {
            index + 1
        };
    }

    #[inline]
    fn find_page(&self, number: u64) -> Option<usize> {
        let offset = number.wrapping_sub(self.window_start);
        if offset < self.window.len() as u64 {
            return match self.window[offset as usize] {
                0 => None,
                position => Some(position as usize - 1),
            };
        }
        if self.far_len == 0 {
            return None;
        }
        self.find_far(number)
    }

    fn find_far(&self, number: u64) -> Option<usize> {
        let mask = self.far.len() - 1;
        let mut slot = hash(number) & mask;
        loop {
            let (key, value) = self.far[slot];
            if value == 0 {
                return None;
            }
            if key == number {
                return Some(value as usize - 1);
            }
            slot = (slot + 1) & mask;
        }
    }

    #[cold]
    fn add_page(&mut self, number: u64) -> usize {
        let page = self.used;
        if (page + 1) * PAGE > self.entries.len() {
            self.entries.resize((page + 1) * PAGE, UNVISITED);
        } else {
            // A spare of an earlier plan: zeroed here, where the walk is about to write
            // it anyway, rather than in `clear`, a pass over cold memory.
            self.entries[page * PAGE..(page + 1) * PAGE].fill(UNVISITED);
        }
        self.used += 1;
        let value = u32::try_from(page + 1).expect("a plan holds fewer than 2^32 nodes");
        if self.widen_window_to(number) {
            self.window[(number - self.window_start) as usize] = value;
        } else {
            self.insert_far(number, value);
        }
        page
    }

    /// Makes the window cover page `number` if it stays at most a few times wider than
    /// the pages in use (so far-apart numbers cannot make it huge); whether it covers it.
    fn widen_window_to(&mut self, number: u64) -> bool {
        let len = self.window.len() as u64;
        if self.window.is_empty() {
            // A graph is mostly built before it is planned: its outputs have the highest
            // numbers, so the window grows downwards from the first page.
            self.window_start = number.saturating_sub(255);
            self.window = vec![0; (number - self.window_start + 1) as usize];
            return true;
        }
        if number.wrapping_sub(self.window_start) < len {
            return true;
        }
        let low = number.min(self.window_start);
        let high = number.max(self.window_start + len - 1);
        let span = high - low + 1;
        let limit = 8 * self.used as u64 + 4096;
        if span > limit {
            return false;
        }
        // Double the span in the direction of growth, within the limit and the numbers.
        let slack = span.min(limit - span);
        let (low, high) = if number < self.window_start {
            (low.saturating_sub(slack), high)
        } else {
            (low, high.saturating_add(slack))
        };
        let mut window = vec![0u32; (high - low + 1) as usize];
        let shift = (self.window_start - low) as usize;
        window[shift..shift + self.window.len()].copy_from_slice(&self.window);
        self.window = window;
        self.window_start = low;
        // Pages kept in the hash directory that the window covers now move into it: a
        // lookup that finds the window's slot empty does not look further.
        if self.far_len > 0 {
            let far = std::mem::take(&mut self.far);
            self.far_len = 0;
            for (n, value) in far.into_iter().filter(|&(_, value)| value != 0) {
                let offset = n.wrapping_sub(self.window_start);
                if offset < self.window.len() as u64 {
                    self.window[offset as usize] = value;
                } else {
                    self.insert_far(n, value);
                }
            }
        }
        true
    }

    fn insert_far(&mut self, number: u64, value: u32) {
        if (self.far_len + 1) * 2 > self.far.len() {
            let len = (self.far.len() * 2).max(64);
            let old = std::mem::replace(&mut self.far, vec![(0, 0); len]);
            for (n, v) in old {
                if v != 0 {
                    self.place_far(n, v);
                }
            }
        }
        self.place_far(number, value);
        self.far_len += 1;
    }

    fn place_far(&mut self, number: u64, value: u32) {
        let mask = self.far.len() - 1;
        let mut slot = hash(number) & mask;
        while self.far[slot].1 != 0 {
            slot = (slot + 1) & mask;
        }
        self.far[slot] = (number, value);
    }

    /// Empties the table for the next plan, keeping its pages as spares (zeroed when
    /// taken again). The plan's buffers decide whether the table is worth keeping
    /// (`capacity_bytes`).
    pub(crate) fn clear(&mut self) {
        self.used = 0;
        self.window.clear();
        self.window_start = 0;
        self.far.iter_mut().for_each(|slot| *slot = (0, 0));
        self.far_len = 0;
    }

    /// Bytes held, to decide whether to keep the table for the next plan.
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<u32>()
            + self.window.capacity() * std::mem::size_of::<u32>()
            + self.far.len() * std::mem::size_of::<(u64, u32)>()
    }
}

/// Fibonacci hashing: page numbers of one graph are consecutive, and the multiply
/// spreads them over the directory.
#[inline]
fn hash(number: u64) -> usize {
    (number.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn entries_are_found_by_number_across_pages_and_far_apart() {
        let mut visited = Visited::default();
        let numbers = [5000u64, 0, 1, 63, 64, 65, 4096, 1 << 40, u64::MAX, 70_000];
        for (i, &n) in numbers.iter().enumerate() {
            assert_eq!(visited.get(n), None);
            visited.set(n, IN_PROGRESS);
            assert_eq!(visited.get(n), Some(IN_PROGRESS));
            visited.set(n, i as u32);
        }
        for (i, &n) in numbers.iter().enumerate() {
            assert_eq!(visited.get(n), Some(i as u32), "number {n}");
        }
        assert_eq!(visited.get(2), None);
        assert_eq!(visited.get((1 << 40) + 1), None);
    }

    #[test]
    fn a_cleared_table_forgets_and_reuses_its_pages() {
        let count = if cfg!(miri) { 300 } else { 10_000 };
        let mut visited = Visited::default();
        for n in 0..count {
            visited.set(n * 7, n as u32);
        }
        let pages = visited.entries.len();
        visited.clear();
        for n in 0..count {
            assert_eq!(visited.get(n * 7), None);
        }
        // Half the numbers again: their pages are reused, and what the old plan left in
        // them is gone.
        for n in (0..count).step_by(2) {
            visited.set(n * 7, 0);
        }
        for n in 0..count {
            let expected = (n % 2 == 0).then_some(0);
            assert_eq!(visited.get(n * 7), expected, "number {}", n * 7);
        }
        assert!(visited.entries.len() <= pages, "pages are reused");
    }

    #[test]
    fn agrees_with_a_map_on_clustered_and_scattered_numbers() {
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        // A map is the model; numbers come clustered around a base (one graph), scattered
        // (nodes built long apart), and strided.
        // Miri checks the (safe) code for undefined behaviour, slowly: a small run.
        let (rounds, numbers) = if cfg!(miri) { (1, 300) } else { (50, 5000) };
        for round in 0..rounds {
            let mut visited = Visited::default();
            let mut model = HashMap::new();
            let base = next() >> 8;
            for i in 0..numbers {
                let n = match next() % 4 {
                    0 => base.wrapping_add(next() % 100_000),
                    1 => base.wrapping_sub(next() % 100_000),
                    2 => next() >> (next() % 64),
                    _ => base.wrapping_add(u64::from(i) * 3),
                };
                if let Some(&index) = model.get(&n) {
                    assert_eq!(visited.get(n), Some(index), "round {round} number {n}");
                } else {
                    assert_eq!(visited.get(n), None, "round {round} number {n}");
                    visited.set(n, i);
                    model.insert(n, i);
                }
            }
            for (&n, &index) in &model {
                assert_eq!(visited.get(n), Some(index), "round {round} number {n}");
            }
        }
    }
}
