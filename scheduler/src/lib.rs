//! Lazy task graphs with a fast work-stealing scheduler: Dask's `delayed` for Rust.
//!
//! Annotate plain functions with [`#[delayed]`](macro@delayed). Calling them builds a
//! graph instead of running anything; [`compute`] merges every output into one graph,
//! runs each shared node exactly once on a persistent work-stealing pool, frees
//! intermediate results as soon as their last reader is done, and returns the values.
//!
//! ```
//! use dask::{delayed, Delayed};
//!
//! #[delayed]
//! fn generate(n: usize) -> Vec<f64> {
//!     (0..n).map(|i| i as f64).collect()
//! }
//!
//! #[delayed]
//! fn total(data: &Vec<f64>) -> f64 {
//!     data.iter().sum()
//! }
//!
//! let sums: Vec<Delayed<f64>> = [10, 20].into_iter().map(|n| total(generate(n))).collect();
//! assert_eq!(dask::compute(&sums).unwrap(), vec![45.0, 190.0]);
//! // The original functions stay callable eagerly under `<name>_eager`.
//! assert_eq!(total_eager(&generate_eager(10)), 45.0);
//! ```
//!
//! # How a computation runs
//! 0. **Build**: each call of a delayed function makes one node (`node.rs`: a 64-byte
//!    header, its arguments and its code), held by a reference-counted handle
//!    (`node_ref.rs`) in memory from mimalloc's per-thread heaps (`node_memory.rs`; the
//!    program's own allocator keeps everything else). A graph is its nodes and the
//!    handles they hold to their inputs.
//! 1. **Plan** (`plan/`): one depth-first walk from the outputs visits each needed node
//!    once (shared handles and equal pure keys merge; what it has visited it keeps in a
//!    table by node address, `plan/visited.rs`, so an input is read only when the walk
//!    enters it, or to order a few inputs), orders nodes in post-order, taking each
//!    node's inputs in the order the program built them (the walk then streams through
//!    memory as the allocator handed it out), and produces two things: the graph to run
//!    (`plan/graph.rs`: nodes, inputs, readers, roots, as dense arrays, never changed
//!    once planned) and its run state
//!    (`plan/run_state.rs`: each task's count of unfinished inputs, each result's count
//!    of readers, the computation's halt, failures and observers, and the result slots,
//!    kept empty from plan to plan so that planning does not write them). A `compute`
//!    of the outputs the last one had skips the walk: a node's inputs never change, so
//!    the graph planned for them is kept and only its run state is set again
//!    (`plan/kept.rs`). On a pool of several threads, a node with many inputs (a join
//!    over a million tasks) has the subgraphs that only it reaches planned in parts, one
//!    per thread, and written into the plan in parallel (`plan/split.rs`).
//! 2. **Pick a backend** (`backend.rs`): one `Backend` trait with three implementations,
//!    `Sequential` (`Scheduler::Sync`), the work-stealing pool (`exec/`,
//!    `Scheduler::Threads`) and a cluster of processes (`cluster/`). `compute` has one
//!    path whichever runs the plan: hooks, run, failures, outputs.
//! 3. **Run** (`exec/` for the pool): tasks with no inputs are handed to the pool as one
//!    splittable range. A worker runs a task, stores its result (in place when it is at
//!    most two words, `task_value.rs`), releases its inputs (the last reader drops a
//!    result or, if it takes it by value, moves it), decrements its successors' counts,
//!    runs one newly ready successor itself and pushes the rest on its own deque, where
//!    idle workers steal them. Idle workers park. A counter's last holder (a chain link's
//!    only input, a result's last reader) sees that it is last with a load and skips the
//!    locked subtraction (`plan/step.rs`). A task gathering many inputs (a join over
//!    a million results) offers the gather in chunks to idle workers and moves values
//!    alongside them (`shared_gather.rs`, `exec/chunks.rs`).
//! 4. **Observe** (`observer.rs`): the executor reports attempts and outcomes to one
//!    `Observer` trait; user [`Callbacks`], the [`Profiler`], the progress bar, `tracing`
//!    spans and the cluster's feed of results to other processes implement it. With no
//!    observer a task pays one check.
//! 5. **Finish**: workers report finished tasks when they switch work or go idle; the
//!    last report wakes the caller, which moves the outputs out of the plan (once all are
//!    taken every result slot is empty, and the plan is dropped without a pass over its
//!    nodes; its vectors, and its graph, are kept for the next plan). Dropping the
//!    graph afterwards frees its nodes through one queue per thread, without recursion
//!    and without an allocation per node; a join's list of inputs is queued whole
//!    (`drop_queue.rs`).
//!
//! A task that calls `compute` itself helps run the inner graph on its own worker instead
//! of blocking it, so nested computations neither deadlock nor add threads. A worker
//! already 8 nested waits deep runs the inner graph in place instead of helping with
//! other jobs, so sibling tasks that all nest cannot pile up on one stack.
//!
//! # Limits
//! What the library refuses, and why, is listed in `docs/LIMITS.md`. In short: pools have
//! 1 to 1024 threads and at most 8 pool sizes live in one process
//! ([`Error::InvalidConfig`]); a computation that starts with under 256 KiB of stack left
//! on its thread fails with [`Error::NestingTooDeep`] (pool workers have 64 MiB stacks:
//! about 9,000 levels of computations nested in each other's tasks in a debug build);
//! a [`Config::timeout`] too large for an `Instant` means no limit. Every piece of user
//! code the pool runs (task bodies, [`Callbacks`], `Drop` of results and panic payloads,
//! `Clone` of outputs, `Serialize` on a cluster, a [`Parallel`] map's input iterator)
//! runs under a panic guard: its panic fails the computation with an error and the pool
//! stays usable.
//!
//! # A parallel map
//! [`Parallel`] is joblib's `Parallel(n_jobs)(delayed(f)(x) for x in xs)` on the same
//! pool: `Parallel::new(2).map(items, f)` returns the results in input order, batching
//! short calls automatically; `imap` yields them in order as they become ready.
//!
//! # Caching results on disk
//! [`Memory`] is joblib's `Memory` for graphs: `memory.cache(&node)` gives a node that
//! loads the value from a directory when an earlier run (of any process) stored it, so
//! `compute` skips everything upstream, and stores it otherwise. It caches
//! `#[delayed(pure)]` calls whose inputs are pure too: their keys hash the function's
//! path, a fingerprint of its source and the arguments, so an edited function gets new
//! entries instead of stale ones.
//!
//! # Drawing a graph
//! [`graph`] gives the [`TaskGraph`] that `compute` would run (after culling and merging),
//! and [`Delayed::visualize`] writes one output's graph to a file (SVG, DOT or JSON by
//! its extension). For anything but the default drawing, the options are re-exported
//! here: [`SvgOptions`] (layout [`Engine`], [`RankDir`], [`ColorBy`], collapsing) for
//! [`TaskGraph::to_svg_with`], and [`DotOptions`] for [`TaskGraph::to_dot_with`]. The
//! `dask-viz` command line (`cargo install --path viz`) draws saved graphs.
//!
//! ```
//! use dask::{delayed, ColorBy, DotOptions, Engine, RankDir, SvgOptions};
//!
//! #[delayed]
//! fn load(i: u32) -> u32 {
//!     i
//! }
//!
//! #[delayed]
//! fn add(a: u32, b: u32) -> u32 {
//!     a + b
//! }
//!
//! let total = add(load(1), load(2));
//! let graph = dask::graph(&[total]);
//! assert_eq!(graph.len(), 3);
//!
//! // Left to right, coloured by execution order, laid out without Graphviz.
//! let options = SvgOptions::default()
//!     .engine(Engine::Embedded)
//!     .rankdir(RankDir::LeftToRight)
//!     .color(ColorBy::Order);
//! let svg = graph.to_svg_with(&options).unwrap();
//! assert!(svg.contains("<svg"));
//!
//! let dot = graph.to_dot_with(&DotOptions::default().rankdir(RankDir::LeftToRight));
//! assert!(dot.contains("rankdir=LR"));
//! ```
//!
//! # On a cluster
//! With the `cluster` feature, `Scheduler::Cluster` runs the same graphs across
//! processes and machines on timely dataflow: every process builds the same graph, runs
//! the tasks it owns on its own pool, and receives the results it reads from the others
//! (see the `cluster` module).
//!
//! # Cargo features
//! - `array` (default): chunked arrays, `dask::array`.
//! - `dataframe`: partitioned dataframes, `dask::dataframe` and `dask::datasets`.
//! - `sql`: SQL over dataframes, `dask::sql` (turns on `dataframe`).
//! - `cluster`: `Scheduler::Cluster`, the same graphs across processes.
//! - `tracing`: a `tracing` span per task.

// `--cfg loom` swaps in loom's primitives and drops the thread pool, which loom cannot
// run; what is left is only the protocols its models drive (`loom_tests.rs`). Outside
// those tests that build is not a scheduler, and half of it would be dead code.
#[cfg(all(loom, not(test)))]
compile_error!(
    "`--cfg loom` builds only the loom model tests: RUSTFLAGS=\"--cfg loom\" cargo test --release --lib loom_"
);

mod args;
#[cfg(feature = "array")]
pub mod array;
mod backend;
mod batch;
mod cancel;
#[cfg(feature = "cluster")]
pub mod cluster;
mod codec;
mod combinators;
mod combine;
mod compute;
mod config;
mod content_address;
#[cfg(feature = "dashboard")]
mod dashboard;
#[cfg(feature = "dataframe")]
pub mod dataframe;
/// Demo tables (Dask's `dask.datasets`).
#[cfg(feature = "dataframe")]
pub mod datasets {
    pub use crate::dataframe::{timeseries, TimeseriesOptions};
}
mod deferred;
mod delayed;
mod diagnostics;
mod drop_queue;
mod error;
mod exec;
mod graph;
mod key;
mod key_hash;
#[cfg(all(test, loom))]
mod loom_tests;
mod memory;
mod nesting;
mod node;
mod node_memory;
mod node_ref;
mod observer;
mod operators;
mod parallel;
mod plan;
mod prefetch;
mod result_size;
mod shared_gather;
#[cfg(feature = "sql")]
pub mod sql;
mod sync;
mod task_value;

pub use args::{Arg, IntoArg};
pub use batch::BatchSize;
pub use cancel::CancelToken;
pub use combinators::{collect, delayed_pure, CollectTuple};
pub use combine::{map_many_pure, try_map_many_pure};
pub use compute::{
    compute, compute_with, persist, persist_with, OutputNodes, OutputReader, Outputs,
};
pub use config::{Config, ErrorPolicy, Scheduler};
// The attribute's documentation lives with it (macros/src/delayed.md) and is shown there;
// its examples need this crate, which the macro crate cannot depend on, so they run as
// this crate's doctests: the text is attached here only while doctests are collected.
#[cfg_attr(doctest, doc = include_str!("../../macros/src/delayed.md"))]
pub use dask_macros::delayed;
pub use dask_viz::{
    ColorBy, DotOptions, Engine, GraphError, NodeInfo, NodeKind, RankDir, SvgOptions, TaskGraph,
    VizError,
};
pub use delayed::{delayed, Delayed};
pub use diagnostics::{Callbacks, FunctionSummary, Profiler, TaskInfo, TaskRecord};
pub use error::{BoxError, Error};
pub use graph::graph;
pub use key_hash::KeyHash;
pub use memory::{CacheError, CacheLimits, CacheSize, CacheStats, Memory};
pub use parallel::{Imap, ImapUnordered, Parallel, ParallelError};

#[cfg(feature = "dashboard")]
pub use dashboard::{Dashboard, DashboardError};

/// Support for code generated by `#[delayed]`. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::args::{Arg, ArgDeps, ArgList, ArgRef, Gather, Inputs, IntoArg};
    pub use crate::codec::{probe, Codec, Probe};
    pub use crate::delayed::Delayed;
    pub use crate::error::{BoxError, TaskFailure};
    pub use crate::key::{KeySeed, StableHasher};

    /// A pure function's argument, for the autoref choice between `Hash` and
    /// [`KeyHash`](crate::KeyHash) that `#[delayed(pure)]` makes for concrete types.
    pub struct PureArg<'a, T>(pub &'a Arg<T>);

    pub mod pure_arg {
        use super::{Arg, PureArg, StableHasher};

        /// Chosen first: the type is `Hash`.
        pub trait ViaHash {
            fn feed(&self, hasher: &mut StableHasher);
        }

        impl<T: std::hash::Hash + Send + Sync + 'static> ViaHash for PureArg<'_, T> {
            fn feed(&self, hasher: &mut StableHasher) {
                Arg::stable_hash(self.0, hasher)
            }
        }

        /// Chosen when the type is not `Hash` but `KeyHash` (floats, and containers of
        /// them).
        pub trait ViaKeyHash {
            fn feed(&self, hasher: &mut StableHasher);
        }

        impl<T: crate::KeyHash + Send + Sync + 'static> ViaKeyHash for &PureArg<'_, T> {
            fn feed(&self, hasher: &mut StableHasher) {
                self.0.key_hash(hasher)
            }
        }
    }

    use crate::node::NodeHeader;

    pub struct TaskSpec {
        /// Display name.
        pub name: &'static str,
        /// Full path (`module_path!()::name`).
        pub path: &'static str,
        /// Extra attempts after a failure or panic (`#[delayed(retries = N)]`).
        pub retries: u32,
        /// [`key_seed`] of `path` and a hash of the function's tokens (its source
        /// without docs and comments): what every pure key of the function is keyed
        /// by, so editing the function changes its keys.
        pub key_seed: KeySeed,
    }

    /// A spec for the crate's own tests, which build tasks without the macro (non-pure,
    /// so the seed is unused).
    #[cfg(test)]
    pub(crate) const fn test_spec(
        name: &'static str,
        path: &'static str,
        retries: u32,
    ) -> TaskSpec {
        TaskSpec {
            name,
            path,
            retries,
            key_seed: KeySeed::new(path, 0),
        }
    }

    /// The function's path and 128-bit source fingerprint, built at compile time in the
    /// function's static `TaskSpec`; the hashing key they make is derived on first use.
    pub const fn key_seed(path: &'static str, fingerprint: u128) -> KeySeed {
        KeySeed::new(path, fingerprint)
    }

    /// Builds a task node. `run` reads `args` in order through `inputs`; `codec` is a
    /// zero-sized closure asking [`probe`] for the result type's codec.
    #[inline]
    pub fn task<A, F, R, C>(
        spec: &TaskSpec,
        pure_id: Option<u128>,
        args: A,
        run: F,
        codec: C,
    ) -> Delayed<R>
    where
        A: ArgList,
        F: Fn(&A, &Inputs<'_>) -> Result<R, TaskFailure> + Send + Sync + 'static,
        R: Send + Sync + 'static,
        C: Fn() -> Option<&'static Codec> + Send + Sync + 'static,
    {
        let mut header = NodeHeader::new(spec.name, spec.path, pure_id);
        header.retries = spec.retries;
        crate::delayed::task_node(header, args, run, codec)
    }

    /// The 128-bit identity of a pure call: the arguments' identities hashed under the
    /// key of the function's path and source fingerprint.
    /// Feeds a generic pure function's type argument `T` to its key (by name: the
    /// bytes of equal-looking arguments do not tell the types apart).
    pub fn feed_type<T: ?Sized>(hasher: &mut StableHasher) {
        crate::operators::feed_type::<T>(hasher);
    }

    pub fn pure_id(spec: &TaskSpec, hash_args: impl FnOnce(&mut StableHasher)) -> u128 {
        let mut hasher = StableHasher::from_seed(&spec.key_seed);
        hash_args(&mut hasher);
        hasher.finish128()
    }

    /// A returned `Result` becomes the task's outcome; an `Err` fails the computation.
    #[diagnostic::on_unimplemented(
        message = "the error type of a delayed function must convert into `Box<dyn std::error::Error + Send + Sync>`",
        note = "implement `std::error::Error` (and make it `Send + Sync + 'static`) for the error type"
    )]
    pub trait FallibleReturn {
        type Ok;
        fn into_task_result(self) -> Result<Self::Ok, TaskFailure>;
    }

    impl<T, E: Into<BoxError>> FallibleReturn for Result<T, E> {
        type Ok = T;

        #[inline]
        fn into_task_result(self) -> Result<T, TaskFailure> {
            self.map_err(|e| TaskFailure::Failed(e.into()))
        }
    }
}

// Lets the crate's own unit tests use `#[delayed]`, whose expansion names `::dask`.
extern crate self as dask;
