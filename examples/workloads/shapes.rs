//! The four graph shapes of the scheduler benchmarks, built from near-empty `#[delayed]`
//! tasks. Shared by `examples/bench_scheduler.rs` and `examples/bench_vs_dask.rs`
//! (each includes this file with `#[path]`), so both measure the same graphs.
//!
//! What the tasks pass along is a [`Payload`]: `Token` (nothing at all, for measuring
//! pure scheduling cost) or `u64` (a count whose final value proves the whole graph ran,
//! for checking against Python Dask running the same shape).

use dask::{delayed, Delayed};

/// What a task hands to its readers. Each method is one task's whole work.
pub trait Payload: Clone + Default + Send + Sync + 'static {
    /// A source task.
    fn start() -> Self;
    /// A task reading one input (a chain link, a wavefront edge cell).
    fn step(prev: &Self) -> Self;
    /// A wavefront cell reading its left and upper neighbours.
    fn meet(left: &Self, up: &Self) -> Self;
    /// A tree node combining two halves.
    fn combine(left: &Self, right: &Self) -> Self;
    /// The join of a fan-out.
    fn total(parts: &[Self]) -> Self;
}

/// Nothing, with a type of its own: the tasks do no work at all.
#[derive(Clone, Copy, Default)]
pub struct Token;

impl Payload for Token {
    fn start() -> Self {
        Token
    }
    fn step(_prev: &Self) -> Self {
        Token
    }
    fn meet(_left: &Self, _up: &Self) -> Self {
        Token
    }
    fn combine(_left: &Self, _right: &Self) -> Self {
        Token
    }
    fn total(_parts: &[Self]) -> Self {
        Token
    }
}

/// A count with a known final value per shape (see [`expected`]): sources are 1, a step
/// adds one, a wavefront cell is one more than its larger neighbour, a tree node and a
/// join add up their inputs. `benches/python/bench_dask.py` computes the same.
impl Payload for u64 {
    fn start() -> Self {
        1
    }
    fn step(prev: &Self) -> Self {
        prev + 1
    }
    fn meet(left: &Self, up: &Self) -> Self {
        left.max(up) + 1
    }
    fn combine(left: &Self, right: &Self) -> Self {
        left + right
    }
    fn total(parts: &[Self]) -> Self {
        parts.iter().sum()
    }
}

#[delayed]
pub fn source<P: Payload>() -> P {
    P::start()
}

/// A fan-out leaf: passes the root's value on.
#[delayed]
pub fn leaf<P: Payload>(root: &P) -> P {
    root.clone()
}

#[delayed]
pub fn join<P: Payload>(parts: &Vec<P>) -> P {
    P::total(parts)
}

#[delayed]
pub fn link<P: Payload>(prev: &P) -> P {
    P::step(prev)
}

#[delayed]
pub fn pair<P: Payload>(left: &P, right: &P) -> P {
    P::combine(left, right)
}

#[delayed]
pub fn cell1<P: Payload>(neighbour: &P) -> P {
    P::step(neighbour)
}

#[delayed]
pub fn cell2<P: Payload>(left: &P, up: &P) -> P {
    P::meet(left, up)
}

/// The shapes, in table order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// One root, `n` leaves reading it, one join reading every leaf.
    FanOut,
    /// `n` tasks, each reading the one before.
    Chain,
    /// A pairwise reduction over [`tree_leaves`]`(n)` sources: about `n` tasks in all.
    Tree,
    /// A `side x side` grid, `side = floor(sqrt(n))`; a cell reads its left and upper
    /// neighbours.
    Wavefront,
    /// `n` sources sharing no input, one join reading them all: the map-then-reduce of
    /// most `dask.delayed` programs, and issue #17's "tiny independent tasks with one
    /// fan-in". Not in [`Shape::ALL`]: the Python and dashboard benchmarks measure the
    /// four shapes with Taskflow anchors.
    Independent,
}

impl Shape {
    pub const ALL: [Shape; 4] = [Shape::FanOut, Shape::Chain, Shape::Tree, Shape::Wavefront];

    /// The name in tables and plots.
    pub fn name(self) -> &'static str {
        match self {
            Shape::FanOut => "fan-out + join",
            Shape::Chain => "chain",
            Shape::Tree => "binary tree",
            Shape::Wavefront => "wavefront",
            Shape::Independent => "independent + join",
        }
    }

    /// The name on the command line (`--shape`) and in the JSON exchanged with Python.
    pub fn id(self) -> &'static str {
        match self {
            Shape::FanOut => "fan",
            Shape::Chain => "chain",
            Shape::Tree => "tree",
            Shape::Wavefront => "wave",
            Shape::Independent => "indep",
        }
    }

    /// How many tasks the graph for `n` has.
    pub fn tasks(self, n: usize) -> usize {
        match self {
            Shape::FanOut => n + 2,
            Shape::Chain => n,
            Shape::Tree => 2 * tree_leaves(n) - 1,
            Shape::Wavefront => side(n) * side(n),
            Shape::Independent => n + 1,
        }
    }

    /// The graph for `n`, its outputs ready for `dask::compute`.
    pub fn build<P: Payload>(self, n: usize) -> Vec<Delayed<P>> {
        match self {
            Shape::FanOut => fan_out(n),
            Shape::Chain => chain(n),
            Shape::Tree => tree(n),
            Shape::Wavefront => wavefront(n),
            Shape::Independent => independent(n),
        }
    }

    /// The single output's value when the tasks pass `u64` counts.
    pub fn expected(self, n: usize) -> u64 {
        match self {
            Shape::FanOut => n as u64,
            Shape::Chain => n as u64,
            Shape::Tree => tree_leaves(n) as u64,
            Shape::Wavefront => 2 * side(n) as u64 - 1,
            Shape::Independent => n as u64,
        }
    }
}

/// Leaves of the binary tree for `n`: half the next power of two, so the tree has about
/// `n` tasks.
pub fn tree_leaves(n: usize) -> usize {
    n.next_power_of_two() / 2
}

/// The wavefront grid's side for `n`.
pub fn side(n: usize) -> usize {
    (n as f64).sqrt() as usize
}

fn fan_out<P: Payload>(n: usize) -> Vec<Delayed<P>> {
    let root = source::<P>();
    let leaves: Vec<Delayed<P>> = (0..n).map(|_| leaf(&root)).collect();
    vec![join(leaves)]
}

fn independent<P: Payload>(n: usize) -> Vec<Delayed<P>> {
    let parts: Vec<Delayed<P>> = (0..n).map(|_| source()).collect();
    vec![join(parts)]
}

fn chain<P: Payload>(n: usize) -> Vec<Delayed<P>> {
    let mut last = source::<P>();
    for _ in 1..n {
        last = link(last);
    }
    vec![last]
}

fn tree<P: Payload>(n: usize) -> Vec<Delayed<P>> {
    let mut level: Vec<Delayed<P>> = (0..tree_leaves(n)).map(|_| source::<P>()).collect();
    while level.len() > 1 {
        level = level.chunks(2).map(|p| pair(&p[0], &p[1])).collect();
    }
    level
}

/// [`Shape::Tree`]'s graph built with each handle moved into its reader instead of
/// borrowed: the same nodes, without a reference count taken on every input (and given
/// back when the level is dropped).
pub fn tree_moving_handles<P: Payload>(n: usize) -> Vec<Delayed<P>> {
    let mut level: Vec<Delayed<P>> = (0..tree_leaves(n)).map(|_| source::<P>()).collect();
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len() / 2);
        let mut handles = level.into_iter();
        while let (Some(left), Some(right)) = (handles.next(), handles.next()) {
            next.push(pair(left, right));
        }
        level = next;
    }
    level
}

fn wavefront<P: Payload>(n: usize) -> Vec<Delayed<P>> {
    let side = side(n);
    let mut above: Vec<Delayed<P>> = Vec::with_capacity(side);
    for i in 0..side {
        let mut row: Vec<Delayed<P>> = Vec::with_capacity(side);
        for j in 0..side {
            let cell = match (i, j) {
                (0, 0) => source::<P>(),
                (0, _) => cell1(&row[j - 1]),
                (_, 0) => cell1(&above[0]),
                _ => cell2(&row[j - 1], &above[j]),
            };
            row.push(cell);
        }
        above = row;
    }
    vec![above.pop().expect("non-empty grid")]
}
