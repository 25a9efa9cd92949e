//! Property tests of graph shapes: random DAGs built through the public API, computed on
//! every scheduler and compared with an eager model of the same graph.
//!
//! The graphs mix what the planner and the executor treat differently: nodes whose
//! handles the program drops (the only handle then sits in their one reader: a single
//! edge) and nodes it keeps or clones (shared); nodes read by several readers or twice
//! by one; `with_key` renames of shared and unshared handles, of renamed handles, with
//! the original and the renamed node both computed; pure nodes (`delayed_pure`,
//! `map_pure`, `map_many_pure`, `#[delayed(pure)]`, `zip`/`unzip`, lists collected into
//! a `Delayed<Vec<_>>`), built twice with the same inputs (one node) or with different
//! ones; gathers (`Vec<Delayed<T>>` and mixed `Vec<Arg<T>>` lists); chains (now and then
//! deeper than the planner's `DEEP_WALK`); fan-outs and joins of more than 32 inputs
//! (whose counters a pool's worker decrements in batches, `plan/held.rs`); and now and
//! then a join wider than 8,192 inputs, whose inputs beyond those are planned in parts
//! on two threads (`plan/split.rs`; the second property always ends in one).
//!
//! The model gives every node an identity: its own for non-pure nodes, the content of
//! the call for pure ones (equal pure calls are one node), and the call and the key for
//! a renamed pure call (`with_key`: keys are identity). A node renamed by `with_key` is
//! a node of its own running its call's code, so when the original and the renamed one
//! are both needed, that code runs twice, once for each. On `Scheduler::Sync` and pools
//! of 1, 2 and 4 threads the properties are:
//!
//! - the outputs' values are the model's;
//! - each needed node ran exactly once (every task counts its runs), and computing the
//!   same outputs again (a kept plan is resumed) gives the same values and runs each
//!   once more;
//! - the computation finishes (a miscounted plan can wait for ever: a watchdog fails it);
//! - `dask::graph` has exactly the model's distinct needed nodes.
//!
//! `PROPTEST_CASES` sets the cases of each property (1,024 and 64 by default: about 10 s
//! in a debug build on two cores).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use dask::{delayed, Arg, Config, Delayed, Scheduler};
use proptest::prelude::*;

/// Inputs a wide join's first part has: those beyond are planned in parts (see
/// `plan/split.rs`, `MIN_PART`).
const SPLIT_AT: usize = 8192;

/// A task's run counter (`runs[code]`) and its code: what it computes from its inputs.
/// Not part of any key: its `Hash` feeds nothing, so that equal pure calls stay equal.
#[derive(Clone)]
struct Counter {
    runs: Arc<Vec<AtomicUsize>>,
    code: usize,
}

impl Hash for Counter {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}

impl Counter {
    fn run(&self, inputs: &[u64]) -> u64 {
        self.runs[self.code].fetch_add(1, Ordering::SeqCst);
        mix(self.code, inputs)
    }
}

/// A task's value: its code and its inputs in order, so that a wrong, missing, extra or
/// reordered input shows.
fn mix(code: usize, inputs: &[u64]) -> u64 {
    inputs.iter().fold(
        (code as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        |acc, &x| (acc ^ x).wrapping_mul(0x0100_0000_01B3).rotate_left(17),
    )
}

#[dask::delayed]
fn gather(counter: &Counter, xs: Vec<u64>) -> u64 {
    counter.run(&xs)
}

#[dask::delayed(pure)]
fn pure_gather(counter: &Counter, tag: u8, xs: &[u64]) -> u64 {
    let _ = tag;
    counter.run(xs)
}

#[dask::delayed]
fn pair(counter: &Counter, a: &u64, b: u64) -> u64 {
    counter.run(&[*a, b])
}

#[dask::delayed(pure)]
fn pure_pair(counter: &Counter, tag: u8, a: u64, b: &u64) -> u64 {
    let _ = tag;
    counter.run(&[a, *b])
}

#[dask::delayed(pure)]
fn pure_mixed(counter: &Counter, tag: u8, xs: Vec<u64>) -> u64 {
    let _ = tag;
    counter.run(&xs)
}

/// An input of an operation: the node the program holds `back` places from its newest
/// (modulo how many it holds), and whether the program drops its handle afterwards
/// (passes it by value).
#[derive(Debug, Clone, Copy)]
struct Use {
    back: usize,
    moved: bool,
}

#[derive(Debug, Clone, Copy)]
enum Item {
    Node(Use),
    Plain(u64),
}

/// How many inputs a join has.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Width {
    /// Its own inputs only.
    Narrow,
    /// After 40 copies of a filler: more than the 32 inputs from which a pool's worker
    /// holds back its decrements of the join's count (`plan/held.rs`).
    Held,
    /// Every node the program holds, after 8,192 copies of a filler and spread over
    /// 16,384 more: planned in two parts on two threads (`plan/split.rs`).
    Split,
}

/// One step of building the graph. `twice`: a pure call is built a second time with the
/// same inputs (one node). `pure: Some(tag)`: the `#[delayed(pure)]` variant, keyed by
/// `tag` and the inputs.
#[derive(Debug, Clone)]
enum Op {
    /// `dask::delayed(v)`.
    Value(u64),
    /// `dask::delayed_pure(v)`.
    PureValue(u64),
    Map(Use),
    Map2(Use, Use),
    MapPure {
        input: Use,
        tag: u8,
        twice: bool,
    },
    Pair {
        a: Use,
        b: Use,
        pure: Option<u8>,
        twice: bool,
    },
    Gather {
        inputs: Vec<Use>,
        pure: Option<u8>,
        twice: bool,
        width: Width,
    },
    /// A `Vec<Arg<u64>>` list.
    Mixed {
        items: Vec<Item>,
        pure: Option<u8>,
        twice: bool,
    },
    /// `dask::map_many_pure`.
    Many {
        inputs: Vec<Use>,
        tag: u8,
        twice: bool,
        width: Width,
    },
    /// `a.zip(&b).unzip()`: a pure `zip` node and its pure `getitem` nodes, of which
    /// the program holds the first (`keep` 1), the second (2) or both (3).
    Unzip {
        a: Use,
        b: Use,
        keep: u8,
        twice: bool,
    },
    /// A pure `list` node (`collect::<Delayed<Vec<u64>>>()`) read by `map_pure(tag, ..)`.
    List {
        inputs: Vec<Use>,
        tag: u8,
        twice: bool,
    },
    /// `map`s in a chain, each link's only handle in the next: 3 links, or when `long`
    /// 20,000 (deeper than the planner's `DEEP_WALK` stack entries). All run one code.
    Chain {
        input: Use,
        long: bool,
    },
    /// 40 `map`s of one node gathered by one task: more than 32 readers, whose releases
    /// a pool's worker holds back (`plan/held.rs`). All run one code.
    Fan(Use),
    /// `with_key`, on the handle itself (`moved`) or on a clone. A pure call's key is
    /// chosen by `salt` from a few per call, so that equal calls renamed alike merge.
    Rename {
        target: Use,
        salt: u8,
    },
    /// The program drops a handle.
    Drop(usize),
}

#[derive(Debug, Clone)]
struct Case {
    ops: Vec<Op>,
    /// Picked from the handles the program holds at the end (`back` as in `Use`).
    outputs: Vec<usize>,
    /// Which of the program's other handles stay alive while computing (bit i: its i-th
    /// handle, modulo 64); the rest are dropped first.
    keep: u64,
}

fn a_use() -> impl Strategy<Value = Use> {
    (
        prop_oneof![4 => 0usize..3, 1 => 0usize..64],
        prop::bool::weighted(0.6),
    )
        .prop_map(|(back, moved)| Use { back, moved })
}

fn uses() -> impl Strategy<Value = Vec<Use>> {
    prop::collection::vec(a_use(), 0..5)
}

/// Steps; a join is split in parts `split` times in 1,000.
fn op(split: u32) -> impl Strategy<Value = Op> {
    let twice = || prop::bool::weighted(0.3);
    let width = move || {
        prop_oneof![
            800 => Just(Width::Narrow),
            200 => Just(Width::Held),
            split => Just(Width::Split),
        ]
    };
    let pure = || prop::option::weighted(0.5, 0u8..3);
    let item = prop_oneof![
        3 => a_use().prop_map(Item::Node),
        1 => (0u64..100).prop_map(Item::Plain),
    ];
    prop_oneof![
        2 => (0u64..1000).prop_map(Op::Value),
        1 => (0u64..3).prop_map(Op::PureValue),
        3 => a_use().prop_map(Op::Map),
        1 => (a_use(), a_use()).prop_map(|(a, b)| Op::Map2(a, b)),
        2 => (a_use(), 0u8..3, twice())
            .prop_map(|(input, tag, twice)| Op::MapPure { input, tag, twice }),
        2 => (a_use(), a_use(), pure(), twice())
            .prop_map(|(a, b, pure, twice)| Op::Pair { a, b, pure, twice }),
        3 => (uses(), pure(), twice(), width())
            .prop_map(|(inputs, pure, twice, width)| Op::Gather { inputs, pure, twice, width }),
        1 => (prop::collection::vec(item, 0..5), pure(), twice())
            .prop_map(|(items, pure, twice)| Op::Mixed { items, pure, twice }),
        2 => (uses(), 0u8..3, twice(), width())
            .prop_map(|(inputs, tag, twice, width)| Op::Many { inputs, tag, twice, width }),
        1 => (a_use(), a_use(), 1u8..=3, twice())
            .prop_map(|(a, b, keep, twice)| Op::Unzip { a, b, keep, twice }),
        1 => (uses(), 0u8..3, twice())
            .prop_map(|(inputs, tag, twice)| Op::List { inputs, tag, twice }),
        1 => (a_use(), prop::bool::weighted(f64::from(split) / 2000.0))
            .prop_map(|(input, long)| Op::Chain { input, long }),
        1 => a_use().prop_map(Op::Fan),
        3 => (a_use(), 0u8..3).prop_map(|(target, salt)| Op::Rename { target, salt }),
        1 => (0usize..8).prop_map(Op::Drop),
    ]
}

fn case(ops: std::ops::Range<usize>, split: u32) -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(op(split), ops),
        prop::collection::vec(prop_oneof![3 => 0usize..3, 1 => 0usize..64], 1..5),
        any::<u64>(),
    )
        .prop_map(|(ops, outputs, keep)| Case { ops, outputs, keep })
}

/// A case whose graph ends in a wide join of everything the program holds, followed by
/// a few more steps (renaming the join, reading it).
fn wide_case() -> impl Strategy<Value = Case> {
    let join = prop_oneof![
        (uses(), prop::option::of(0u8..3), any::<bool>()).prop_map(|(inputs, pure, twice)| {
            Op::Gather {
                inputs,
                pure,
                twice,
                width: Width::Split,
            }
        }),
        (uses(), 0u8..3, any::<bool>()).prop_map(|(inputs, tag, twice)| Op::Many {
            inputs,
            tag,
            twice,
            width: Width::Split,
        }),
    ];
    (case(1..16, 100), join, prop::collection::vec(op(0), 0..4)).prop_map(
        |(mut case, join, after)| {
            case.ops.push(join);
            case.ops.extend(after);
            case
        },
    )
}

/// What makes two nodes one: the merge classes of the model.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Identity {
    /// A non-pure node (or a pure list with plain values, which get build numbers).
    Unique(usize),
    PureValue(u64),
    MapPure(u8, usize),
    PurePair(u8, usize, usize),
    PureGather(u8, Vec<usize>),
    PureMixed(u8, Vec<usize>),
    Many(u8, Vec<usize>),
    /// A pure call under a key of the user's.
    Renamed(usize, String),
    Zip(usize, usize),
    GetItem(usize, u8),
    List(Vec<usize>),
}

/// One distinct node of the model.
#[derive(Debug)]
struct Class {
    pure: bool,
    /// The counter its code bumps: its own, or for a renamed node its call's (links of
    /// one chain or fan-out share one). `None` for values, and for the library's own
    /// tasks (`zip`, `getitem`, `list`).
    code: Option<usize>,
    /// Inputs, as classes, in order (a renamed node reads its call's).
    inputs: Vec<usize>,
    value: u64,
}

/// The graph being built and its model side by side.
struct Builder {
    runs: Arc<Vec<AtomicUsize>>,
    classes: Vec<Class>,
    index: HashMap<Identity, usize>,
    /// Per model node (a handle made by an operation): its class, the class of the call
    /// it stands for (itself unless renamed), and the program's handle while held.
    class_of: Vec<usize>,
    call_of: Vec<usize>,
    handles: Vec<Option<Delayed<u64>>>,
    /// Model nodes the program holds, oldest first.
    held: Vec<usize>,
    /// The wide joins' filler, and its class.
    filler: Option<(Delayed<u64>, usize)>,
    uniques: usize,
    /// Codes given out.
    codes: usize,
}

impl Builder {
    fn new(most_codes: usize) -> Self {
        Builder {
            runs: Arc::new((0..most_codes).map(|_| AtomicUsize::new(0)).collect()),
            classes: Vec::new(),
            index: HashMap::new(),
            class_of: Vec::new(),
            call_of: Vec::new(),
            handles: Vec::new(),
            held: Vec::new(),
            filler: None,
            uniques: 0,
            codes: 0,
        }
    }

    fn unique(&mut self) -> Identity {
        self.uniques += 1;
        Identity::Unique(self.uniques)
    }

    /// The class of `identity`, made by `make` when new (given the next unused code).
    fn intern(&mut self, identity: Identity, make: impl FnOnce(usize) -> Class) -> usize {
        if let Some(&class) = self.index.get(&identity) {
            return class;
        }
        let made = make(self.codes);
        if made.code == Some(self.codes) {
            self.codes += 1;
        }
        self.classes.push(made);
        self.index.insert(identity, self.classes.len() - 1);
        self.classes.len() - 1
    }

    /// The counter of `class`'s code.
    fn counter(&self, class: usize) -> Counter {
        Counter {
            runs: self.runs.clone(),
            code: self.classes[class].code.expect("a counted task"),
        }
    }

    /// A task class of its own code over `inputs` (classes) and the values it reads.
    fn task_class(&mut self, identity: Identity, pure: bool, inputs: Vec<usize>) -> usize {
        let values: Vec<u64> = inputs.iter().map(|&c| self.classes[c].value).collect();
        self.intern(identity, |code| Class {
            pure,
            code: Some(code),
            inputs,
            value: mix(code, &values),
        })
    }

    fn push(&mut self, class: usize, call: usize, handle: Delayed<u64>) -> usize {
        let node = self.class_of.len();
        self.class_of.push(class);
        self.call_of.push(call);
        self.handles.push(Some(handle));
        self.held.push(node);
        node
    }

    fn push_value(&mut self, v: u64) -> usize {
        let identity = self.unique();
        let class = self.intern(identity, |_| Class {
            pure: false,
            code: None,
            inputs: vec![],
            value: v,
        });
        self.push(class, class, delayed(v))
    }

    /// The model node an input names (a fresh value when the program holds none).
    fn resolve(&mut self, u: Use) -> usize {
        if self.held.is_empty() {
            return self.push_value(u.back as u64);
        }
        self.held[self.held.len() - 1 - u.back % self.held.len()]
    }

    fn handle(&self, node: usize) -> Delayed<u64> {
        self.handles[node].clone().expect("resolved nodes are held")
    }

    /// The program drops its handle of `node` (if it still holds it).
    fn release(&mut self, node: usize) {
        if self.handles[node].take().is_some() {
            self.held.retain(|&n| n != node);
        }
    }

    /// Drops the handles of the inputs passed by value, once all are resolved.
    fn release_moved(&mut self, resolved: &[(usize, bool)]) {
        for &(node, moved) in resolved {
            if moved {
                self.release(node);
            }
        }
    }

    fn filler(&mut self) -> (Delayed<u64>, usize) {
        if self.filler.is_none() {
            let identity = self.unique();
            let class = self.intern(identity, |_| Class {
                pure: false,
                code: None,
                inputs: vec![],
                value: 7,
            });
            self.filler = Some((delayed(7), class));
        }
        self.filler.clone().expect("made above")
    }

    /// The list a join reads: its inputs, after fillers as `width` says.
    fn list(&mut self, nodes: &[usize], width: Width) -> (Vec<Delayed<u64>>, Vec<usize>) {
        let mut handles: Vec<Delayed<u64>> = nodes.iter().map(|&n| self.handle(n)).collect();
        let mut classes: Vec<usize> = nodes.iter().map(|&n| self.class_of[n]).collect();
        let (first, spread) = match width {
            Width::Narrow => return (handles, classes),
            Width::Held => (40, 0),
            Width::Split => (SPLIT_AT, 2 * SPLIT_AT),
        };
        let (filler, filler_class) = self.filler();
        let every = spread / handles.len().max(1);
        let (mut h, mut c) = (vec![filler.clone(); first], vec![filler_class; first]);
        let mut next = handles.into_iter().zip(classes).peekable();
        for j in 0..spread {
            match next.peek() {
                Some(_) if j % every == every / 2 => {
                    let (handle, class) = next.next().expect("peeked");
                    h.push(handle);
                    c.push(class);
                }
                _ => {
                    h.push(filler.clone());
                    c.push(filler_class);
                }
            }
        }
        for (handle, class) in next {
            h.push(handle);
            c.push(class);
        }
        (handles, classes) = (h, c);
        (handles, classes)
    }

    fn resolve_all(&mut self, uses: &[Use]) -> Vec<(usize, bool)> {
        uses.iter().map(|&u| (self.resolve(u), u.moved)).collect()
    }

    /// The inputs of a join: `uses`, or for one split in parts every node the program
    /// holds (so that the graph built so far is planned in parts), passed by value as
    /// the uses say in turn.
    fn join_inputs(&mut self, uses: &[Use], width: Width) -> Vec<(usize, bool)> {
        if width != Width::Split || self.held.is_empty() {
            return self.resolve_all(uses);
        }
        let moved = |i: usize| uses.get(i % uses.len().max(1)).is_none_or(|u| u.moved);
        self.held
            .iter()
            .enumerate()
            .map(|(i, &n)| (n, moved(i)))
            .collect()
    }

    fn apply(&mut self, op: &Op, at: usize) {
        match *op {
            Op::Value(v) => {
                self.push_value(v);
            }
            Op::PureValue(v) => {
                let class = self.intern(Identity::PureValue(v), |_| Class {
                    pure: true,
                    code: None,
                    inputs: vec![],
                    value: v,
                });
                self.push(class, class, dask::delayed_pure(v));
            }
            Op::Map(input) => {
                let r = self.resolve_all(&[input]);
                let identity = self.unique();
                let class = self.task_class(identity, false, vec![self.class_of[r[0].0]]);
                let c = self.counter(class);
                let d = self.handle(r[0].0).map(move |x| c.run(&[*x]));
                self.push(class, class, d);
                self.release_moved(&r);
            }
            Op::Map2(a, b) => {
                let r = self.resolve_all(&[a, b]);
                let identity = self.unique();
                let inputs = vec![self.class_of[r[0].0], self.class_of[r[1].0]];
                let class = self.task_class(identity, false, inputs);
                let c = self.counter(class);
                let d = self
                    .handle(r[0].0)
                    .map2(&self.handle(r[1].0), move |x, y| c.run(&[*x, *y]));
                self.push(class, class, d);
                self.release_moved(&r);
            }
            Op::MapPure { input, tag, twice } => {
                let r = self.resolve_all(&[input]);
                let from = self.class_of[r[0].0];
                let class = self.task_class(Identity::MapPure(tag, from), true, vec![from]);
                for _ in 0..1 + usize::from(twice) {
                    let c = self.counter(class);
                    let d = self.handle(r[0].0).map_pure(tag, move |x| c.run(&[*x]));
                    self.push(class, class, d);
                }
                self.release_moved(&r);
            }
            Op::Pair { a, b, pure, twice } => {
                let r = self.resolve_all(&[a, b]);
                let (ca, cb) = (self.class_of[r[0].0], self.class_of[r[1].0]);
                let identity = match pure {
                    Some(tag) => Identity::PurePair(tag, ca, cb),
                    None => self.unique(),
                };
                let class = self.task_class(identity, pure.is_some(), vec![ca, cb]);
                for _ in 0..if pure.is_some() {
                    1 + usize::from(twice)
                } else {
                    1
                } {
                    let c = self.counter(class);
                    let (ha, hb) = (self.handle(r[0].0), self.handle(r[1].0));
                    let d = match pure {
                        Some(tag) => pure_pair(&c, tag, ha, hb),
                        None => pair(&c, ha, hb),
                    };
                    self.push(class, class, d);
                }
                self.release_moved(&r);
            }
            Op::Gather {
                ref inputs,
                pure,
                twice,
                width,
            } => {
                let r = self.join_inputs(inputs, width);
                let nodes: Vec<usize> = r.iter().map(|&(n, _)| n).collect();
                let (_, classes) = self.list(&nodes, width);
                let identity = match pure {
                    Some(tag) => Identity::PureGather(tag, classes.clone()),
                    None => self.unique(),
                };
                let class = self.task_class(identity, pure.is_some(), classes);
                for _ in 0..if pure.is_some() {
                    1 + usize::from(twice)
                } else {
                    1
                } {
                    let c = self.counter(class);
                    let (list, _) = self.list(&nodes, width);
                    let d = match pure {
                        Some(tag) => pure_gather(&c, tag, list),
                        None => gather(&c, list),
                    };
                    self.push(class, class, d);
                }
                self.release_moved(&r);
            }
            Op::Mixed {
                ref items,
                pure,
                twice,
            } => {
                let uses: Vec<Use> = items
                    .iter()
                    .filter_map(|i| match i {
                        Item::Node(u) => Some(*u),
                        Item::Plain(_) => None,
                    })
                    .collect();
                let r = self.resolve_all(&uses);
                let classes: Vec<usize> = r.iter().map(|&(n, _)| self.class_of[n]).collect();
                let plain = items.len() > uses.len();
                let identity = match pure {
                    // Plain values of a list get build numbers for pure keys: never equal.
                    Some(tag) if !plain => Identity::PureMixed(tag, classes.clone()),
                    _ => self.unique(),
                };
                let mut next = classes.iter();
                let values: Vec<u64> = items
                    .iter()
                    .map(|i| match i {
                        Item::Node(_) => self.classes[*next.next().expect("one per node")].value,
                        Item::Plain(v) => *v,
                    })
                    .collect();
                let class = self.intern(identity.clone(), |code| Class {
                    pure: pure.is_some(),
                    code: Some(code),
                    inputs: classes,
                    value: mix(code, &values),
                });
                for build in 0..if pure.is_some() {
                    1 + usize::from(twice)
                } else {
                    1
                } {
                    let mut nodes = r.iter();
                    let list: Vec<Arg<u64>> = items
                        .iter()
                        .map(|i| match i {
                            Item::Node(_) => {
                                Arg::Node(self.handle(nodes.next().expect("one per node").0))
                            }
                            Item::Plain(v) => Arg::Value(*v),
                        })
                        .collect();
                    let c = self.counter(class);
                    let d = match pure {
                        Some(tag) => pure_mixed(&c, tag, list),
                        None => gather(&c, list),
                    };
                    // A pure twin with plain values is another node, running the same code.
                    let class = if build > 0 && matches!(identity, Identity::Unique(_)) {
                        let again = self.unique();
                        let Class {
                            code,
                            ref inputs,
                            value,
                            ..
                        } = self.classes[class];
                        let inputs = inputs.clone();
                        self.intern(again, |_| Class {
                            pure: true,
                            code,
                            inputs,
                            value,
                        })
                    } else {
                        class
                    };
                    self.push(class, class, d);
                }
                self.release_moved(&r);
            }
            Op::Many {
                ref inputs,
                tag,
                twice,
                width,
            } => {
                let r = self.join_inputs(inputs, width);
                let nodes: Vec<usize> = r.iter().map(|&(n, _)| n).collect();
                let (_, classes) = self.list(&nodes, width);
                let class = self.task_class(Identity::Many(tag, classes.clone()), true, classes);
                for _ in 0..1 + usize::from(twice) {
                    let c = self.counter(class);
                    let (list, _) = self.list(&nodes, width);
                    let d = dask::map_many_pure("many", tag, &list, move |xs: &[&u64]| {
                        let xs: Vec<u64> = xs.iter().map(|&&x| x).collect();
                        c.run(&xs)
                    });
                    self.push(class, class, d);
                }
                self.release_moved(&r);
            }
            Op::Unzip { a, b, keep, twice } => {
                let r = self.resolve_all(&[a, b]);
                let (ca, cb) = (self.class_of[r[0].0], self.class_of[r[1].0]);
                let zip = self.intern(Identity::Zip(ca, cb), |_| Class {
                    pure: true,
                    code: None,
                    inputs: vec![ca, cb],
                    value: 0,
                });
                let items = [ca, cb].map(|c| {
                    let value = self.classes[c].value;
                    (c, value)
                });
                let mut items = items.iter().enumerate().map(|(position, &(_, value))| {
                    self.intern(Identity::GetItem(zip, position as u8), |_| Class {
                        pure: true,
                        code: None,
                        inputs: vec![zip],
                        value,
                    })
                });
                let first = items.next().expect("two items");
                let second = items.next().expect("two items");
                for _ in 0..1 + usize::from(twice) {
                    let (x, y) = self.handle(r[0].0).zip(&self.handle(r[1].0)).unzip();
                    if keep & 1 != 0 {
                        self.push(first, first, x);
                    }
                    if keep & 2 != 0 {
                        self.push(second, second, y);
                    }
                }
                self.release_moved(&r);
            }
            Op::List {
                ref inputs,
                tag,
                twice,
            } => {
                let r = self.resolve_all(inputs);
                let classes: Vec<usize> = r.iter().map(|&(n, _)| self.class_of[n]).collect();
                let values: Vec<u64> = classes.iter().map(|&c| self.classes[c].value).collect();
                let list = self.intern(Identity::List(classes.clone()), |_| Class {
                    pure: true,
                    code: None,
                    inputs: classes,
                    value: 0,
                });
                let class = self.intern(Identity::MapPure(tag, list), |code| Class {
                    pure: true,
                    code: Some(code),
                    inputs: vec![list],
                    value: mix(code, &values),
                });
                for _ in 0..1 + usize::from(twice) {
                    let c = self.counter(class);
                    let d: Delayed<Vec<u64>> = r.iter().map(|&(n, _)| self.handle(n)).collect();
                    let d = d.map_pure(tag, move |xs: &Vec<u64>| c.run(xs));
                    self.push(class, class, d);
                }
                self.release_moved(&r);
            }
            Op::Chain { input, long } => {
                let r = self.resolve_all(&[input]);
                let mut from = self.class_of[r[0].0];
                let mut link = self.handle(r[0].0);
                self.release_moved(&r);
                let code = self.codes;
                self.codes += 1;
                for _ in 0..if long { 20_000 } else { 3 } {
                    let identity = self.unique();
                    let value = mix(code, &[self.classes[from].value]);
                    from = self.intern(identity, |_| Class {
                        pure: false,
                        code: Some(code),
                        inputs: vec![from],
                        value,
                    });
                    let c = self.counter(from);
                    link = link.map(move |x| c.run(&[*x]));
                }
                self.push(from, from, link);
            }
            Op::Fan(input) => {
                let r = self.resolve_all(&[input]);
                let from = self.class_of[r[0].0];
                let source = self.handle(r[0].0);
                self.release_moved(&r);
                let code = self.codes;
                self.codes += 1;
                let value = mix(code, &[self.classes[from].value]);
                let mut maps = Vec::new();
                let mut classes = Vec::new();
                for _ in 0..40 {
                    let identity = self.unique();
                    let class = self.intern(identity, |_| Class {
                        pure: false,
                        code: Some(code),
                        inputs: vec![from],
                        value,
                    });
                    let c = self.counter(class);
                    maps.push(source.map(move |x| c.run(&[*x])));
                    classes.push(class);
                }
                drop(source);
                let identity = self.unique();
                let class = self.task_class(identity, false, classes);
                let d = gather(self.counter(class), maps);
                self.push(class, class, d);
            }
            Op::Rename { target, salt } => {
                let t = self.resolve(target);
                let call = self.call_of[t];
                let handle = if target.moved {
                    let h = self.handles[t].take().expect("resolved nodes are held");
                    self.held.retain(|&n| n != t);
                    h
                } else {
                    self.handle(t)
                };
                let (pure, code, inputs, value) = {
                    let c = &self.classes[call];
                    (c.pure, c.code, c.inputs.clone(), c.value)
                };
                let (identity, key) = if pure {
                    let key = format!("p{call}-{salt}");
                    (Identity::Renamed(call, key.clone()), key)
                } else {
                    (self.unique(), format!("n{at}"))
                };
                let class = self.intern(identity, |_| Class {
                    pure,
                    code,
                    inputs,
                    value,
                });
                let d = handle.with_key(key);
                self.push(class, call, d);
            }
            Op::Drop(back) => {
                if !self.held.is_empty() {
                    let node = self.held[self.held.len() - 1 - back % self.held.len()];
                    self.release(node);
                }
            }
        }
    }
}

/// What the model expects of computing some outputs.
struct Expected {
    values: Vec<u64>,
    /// Runs per counter for one computation.
    runs: Vec<usize>,
    /// Distinct nodes needed.
    nodes: usize,
}

fn expected(classes: &[Class], outputs: &[usize], codes: usize) -> Expected {
    let mut needed = vec![false; classes.len()];
    let mut stack: Vec<usize> = outputs.to_vec();
    while let Some(c) = stack.pop() {
        if !std::mem::replace(&mut needed[c], true) {
            stack.extend(&classes[c].inputs);
        }
    }
    let mut runs = vec![0; codes];
    for (c, class) in classes.iter().enumerate() {
        if let (true, Some(code)) = (needed[c], class.code) {
            runs[code] += 1;
        }
    }
    Expected {
        values: outputs.iter().map(|&c| classes[c].value).collect(),
        runs,
        nodes: needed.iter().filter(|&&n| n).count(),
    }
}

/// A case's graph and model, once built.
struct Built {
    model: Builder,
    outputs: Vec<Delayed<u64>>,
    /// The outputs' classes.
    classes: Vec<usize>,
    /// The handles the program keeps while computing, besides the outputs.
    kept: Vec<Delayed<u64>>,
}

/// Builds `case`, leaving the program holding only the outputs and the kept handles.
fn build(case: &Case) -> Built {
    // At most two codes an operation (a fan-out's maps and its gather).
    let mut b = Builder::new(3 * case.ops.len() + 4);
    for (at, op) in case.ops.iter().enumerate() {
        b.apply(op, at);
    }
    if b.held.is_empty() {
        b.push_value(1);
    }
    let picked: Vec<usize> = case
        .outputs
        .iter()
        .map(|&back| b.held[b.held.len() - 1 - back % b.held.len()])
        .collect();
    let outputs: Vec<Delayed<u64>> = picked.iter().map(|&n| b.handle(n)).collect();
    let output_classes = picked.iter().map(|&n| b.class_of[n]).collect();
    let mut kept = Vec::new();
    for (i, node) in std::mem::take(&mut b.held).into_iter().enumerate() {
        let handle = b.handles[node].take().expect("held");
        if case.keep >> (i % 64) & 1 == 1 {
            kept.push(handle);
        }
    }
    b.filler = None;
    Built {
        model: b,
        outputs,
        classes: output_classes,
        kept,
    }
}

fn runs_now(runs: &[AtomicUsize]) -> Vec<usize> {
    runs.iter().map(|r| r.load(Ordering::SeqCst)).collect()
}

/// Computations of this file one at a time: a second `compute` of the same outputs
/// resumes the plan kept by the first (`plan/kept.rs`) only when no other computation
/// took the kept buffers in between.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Longer than any computation here takes, even on a busy machine.
const HUNG_AFTER: Duration = Duration::from_secs(30);

/// `compute_with` on a thread of its own, failing the case if it has not returned after
/// [`HUNG_AFTER`]: a plan that miscounts a node's readers or inputs can leave the
/// computation waiting for ever (a timeout in the `Config` does not help then: halting
/// waits for the running tasks to be counted out). The thread is left behind.
fn compute_or_fail(
    outputs: &Arc<Vec<Delayed<u64>>>,
    scheduler: Scheduler,
    what: &str,
) -> Result<Vec<u64>, TestCaseError> {
    let (send, receive) = mpsc::channel();
    let outputs = outputs.clone();
    std::thread::spawn(move || {
        let config = Config::default().scheduler(scheduler);
        let _ = send.send(dask::compute_with(&*outputs, &config).map_err(|e| e.to_string()));
    });
    match receive.recv_timeout(HUNG_AFTER) {
        Ok(Ok(values)) => Ok(values),
        Ok(Err(e)) => Err(TestCaseError::fail(format!("{what}: {e}"))),
        Err(RecvTimeoutError::Timeout) => Err(TestCaseError::fail(format!(
            "{what}: still computing after {HUNG_AFTER:?}"
        ))),
        Err(RecvTimeoutError::Disconnected) => Err(TestCaseError::fail(format!(
            "{what}: the computation panicked"
        ))),
    }
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let _alone = one_at_a_time();
    let Built {
        model: b,
        outputs,
        classes: output_classes,
        kept,
    } = build(case);
    // Shared as a whole, so that the handles' counts stay what the case made them.
    let outputs = Arc::new(outputs);
    let want = expected(&b.classes, &output_classes, b.runs.len());
    for scheduler in [
        Scheduler::Sync,
        Scheduler::Threads(1),
        Scheduler::Threads(2),
        Scheduler::Threads(4),
    ] {
        for r in b.runs.iter() {
            r.store(0, Ordering::SeqCst);
        }
        for round in 1..=2 {
            let what = format!("{scheduler:?}, round {round}");
            let got = compute_or_fail(&outputs, scheduler, &what)?;
            prop_assert_eq!(&got, &want.values, "{}: values", what);
            let runs: Vec<usize> = want.runs.iter().map(|&r| r * round).collect();
            prop_assert_eq!(runs_now(&b.runs), runs, "{}: runs per code", what);
        }
    }
    prop_assert_eq!(dask::graph(&*outputs).len(), want.nodes, "graph nodes");
    drop(kept);
    Ok(())
}

/// `cases` per property, or `PROPTEST_CASES` when set; shrinking stops after `shrinks`
/// steps (a wide case takes about 70 ms a step).
fn config(cases: u32, shrinks: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        max_shrink_iters: shrinks,
        ..ProptestConfig::with_cases(cases)
    }
}

proptest! {
    #![proptest_config(config(1024, 4096))]

    /// Small graphs of every shape; now and then a wide join.
    #[test]
    fn graph_shapes_compute_like_the_model(case in case(1..32, 10)) {
        check(&case)?;
    }
}

proptest! {
    #![proptest_config(config(64, 1024))]

    /// Wide joins planned in parts, their inputs of every shape.
    #[test]
    fn wide_joins_planned_in_parts_compute_like_the_model(case in wide_case()) {
        check(&case)?;
    }
}

/// Counts each run of a task made by [`counted`].
fn counted(runs: &Arc<AtomicUsize>, input: Delayed<u64>) -> Delayed<u64> {
    let runs = runs.clone();
    input.map(move |v| {
        runs.fetch_add(1, Ordering::SeqCst);
        v * 2
    })
}

/// Found by `graph_shapes_compute_like_the_model` (shrunk: `Map`, then `Rename` of a
/// clone, both computed). A call whose input's only handle is its argument, renamed
/// while shared: the renamed node read the call's inputs through the call's own
/// handles, so the input was reached through two edges behind one handle. The planner
/// entered the call first, took the input for one edge's alone and did not record it,
/// and planned it again under the renamed node: it ran twice. (The renamed node now
/// holds handles of its own, `Rekeyed` in combinators.rs.)
#[test]
fn a_call_planned_before_its_renamed_copy_shares_its_inputs_with_it() {
    let _alone = one_at_a_time();
    for scheduler in [Scheduler::Sync, Scheduler::Threads(2)] {
        let runs = Arc::new(AtomicUsize::new(0));
        let call = counted(&runs, delayed(1)).map(|v| v + 1);
        let renamed = call.clone().with_key("renamed");
        // The call first: it is entered first, before the node that borrows its inputs.
        let outputs = vec![call, renamed];
        let config = Config::default().scheduler(scheduler);
        assert_eq!(dask::compute_with(&outputs, &config).unwrap(), [3, 3]);
        assert_eq!(runs.load(Ordering::SeqCst), 1, "{scheduler:?}");
        // Also when one reader reads both (oldest first: the call).
        let both = outputs[0].map2(&outputs[1], |a, b| a + b);
        assert_eq!(dask::compute_with(&[both], &config).unwrap(), [6]);
        assert_eq!(runs.load(Ordering::SeqCst), 2, "{scheduler:?}");
        // value, counted, call, renamed
        assert_eq!(dask::graph(&outputs).len(), 4);
    }
}

/// A wide call renamed while shared, both computed on two threads: the inputs beyond the
/// first 8,192 of each are planned in parts, and those behind their only handle must not
/// be planned once under each. Another way the same bug showed: with the renamed node
/// first, the planner's guard for renamed nodes (which only the planner's walk and the
/// parts' own walks read) did not cover a wide node's inputs handed to the parts.
#[test]
fn a_wide_call_and_its_renamed_copy_share_their_inputs_when_planned_in_parts() {
    let _alone = one_at_a_time();
    let runs = Arc::new(AtomicUsize::new(0));
    let n = 3 * SPLIT_AT as u64;
    let inputs: Vec<Delayed<u64>> = (0..n).map(|i| counted(&runs, delayed(i))).collect();
    let call = dask::map_many_pure("sum", 0, &inputs, |xs| xs.iter().copied().sum::<u64>());
    drop(inputs);
    let renamed = call.clone().with_key("renamed sum");
    let want = n * (n - 1);
    // Either first: the renamed node's parts, or the call's, are planned first.
    for outputs in [[renamed.clone(), call.clone()], [call, renamed]] {
        for scheduler in [Scheduler::Sync, Scheduler::Threads(2)] {
            runs.store(0, Ordering::SeqCst);
            let config = Config::default().scheduler(scheduler);
            assert_eq!(dask::compute_with(&outputs, &config).unwrap(), [want, want]);
            let first = outputs[0].key().to_string();
            assert_eq!(
                runs.load(Ordering::SeqCst),
                n as usize,
                "{scheduler:?}, {first} first"
            );
        }
        assert_eq!(dask::graph(&outputs).len(), 2 * n as usize + 2);
    }
}

/// Found by `wide_joins_planned_in_parts_compute_like_the_model` (shrunk by hand): a
/// pool of two threads never finished. A task read by three joins of more than 32
/// inputs (whose decrements a worker holds back and applies in one step, `plan/held.rs`),
/// two of them waiting for it alone: notifying each join flushed the one held before
/// it, the last two flushes each made a join ready, and only the last was handed on.
#[test]
fn a_task_read_by_several_wide_joins_makes_each_ready() {
    let _alone = one_at_a_time();
    fn join(tag: u8, reads: &[&Delayed<u64>]) -> Delayed<u64> {
        let mut inputs: Vec<Delayed<u64>> = (0..40).map(delayed).collect();
        inputs.extend(reads.iter().map(|&d| d.clone()));
        dask::map_many_pure("join", tag, &inputs, |xs: &[&u64]| {
            xs.iter().copied().sum::<u64>()
        })
    }
    let source = delayed(1u64).map(|v| v + 1);
    let (a, b) = (join(0, &[&source]), join(1, &[&source]));
    // Waits for `a` too.
    let c = join(2, &[&source, &a]);
    let outputs = Arc::new(vec![b, c]);
    // 0 + 1 + ... + 39 = 780, and the source's 2; `c` reads `a` too.
    let want = [780 + 2, 780 + 2 + 782];
    for scheduler in [
        Scheduler::Sync,
        Scheduler::Threads(1),
        Scheduler::Threads(2),
        Scheduler::Threads(4),
    ] {
        let got = compute_or_fail(&outputs, scheduler, &format!("{scheduler:?}")).unwrap();
        assert_eq!(got, want, "{scheduler:?}");
    }
}
