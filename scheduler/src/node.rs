//! Graph nodes: what a `Delayed` handle points to.
//!
//! A node is immutable once built: its dependencies are fixed, so graphs are acyclic by
//! construction and can be shared between threads and computations. A node never holds
//! its own result; results live in the per-computation plan (see `plan`), so the same
//! node can take part in several computations at once.

use std::any::Any;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use once_cell::race::OnceBox;

use crate::args::{ArgList, Inputs};
use crate::codec::Codec;
use crate::content_address::ContentAddressed;
use crate::error::TaskFailure;
use crate::key;
use crate::node_ref::NodeRef;
use crate::result_size::{NoSize, Sizer};
use crate::task_value::TaskValue;

/// A type-erased result shared by a value node and the plans that read it.
pub type SharedValue = Arc<dyn Any + Send + Sync>;

/// What every node carries besides its body.
#[doc(hidden)]
pub struct NodeHeader {
    pub(crate) name: &'static str,
    pub(crate) path: &'static str,
    /// The hash part of the key: the low 64 bits of the content hash for pure nodes, the
    /// mixed build number otherwise.
    pub(crate) id: u64,
    pub(crate) pure: bool,
    /// The key was given by [`Delayed::with_key`](crate::Delayed::with_key): such keys
    /// are checked for uniqueness before a computation runs, and a pure node with one
    /// merges only with equal calls under the same key (see `plan`).
    pub(crate) custom_key: AtomicBool,
    /// Whether the key names the same value in every process; see `content_address`.
    /// Worked out on first use, not while building: building is a hot path and only
    /// `Memory` asks.
    pub(crate) content_addressed: ContentAddressed,
    /// Extra attempts after a failure or panic.
    pub(crate) retries: u32,
    /// For a pure node, the high 64 bits of its 128-bit content hash (see
    /// [`id_high`](Self::id_high)); for any other, its build number (see
    /// [`built`](Self::built)). One field for both: a node has only one of them, and every
    /// header byte is paid for per node.
    number: u64,
    /// Boxed so that the header carries one pointer, not a `String` and a lock state (24
    /// bytes less per node, which building and dropping a graph stream through memory).
    key: OnceBox<String>,
}

// The planner numbers nodes by address in units of 64 bytes (see `plan::visited`): two
// live nodes must not share a unit, so every node must be at least that big.
const _: () = assert!(std::mem::size_of::<NodeHeader>() >= 64);

impl NodeHeader {
    pub(crate) fn new(name: &'static str, path: &'static str, pure_id: Option<u128>) -> Self {
        // A pure node's number is its id's high half, any other's its build number.
        let (full, number) = match pure_id {
            // Truncating on purpose: the two halves of the 128-bit id.
            Some(id) => (id, (id >> 64) as u64),
            None => {
                let built = key::next_build_number();
                (u128::from(key::build_id(built)), built)
            }
        };
        NodeHeader {
            name,
            path,
            id: full as u64,
            pure: pure_id.is_some(),
            custom_key: AtomicBool::new(false),
            content_addressed: ContentAddressed::unknown(),
            retries: 0,
            number,
            key: OnceBox::new(),
        }
    }

    /// A header of a non-pure node with a fixed id: for the scheduler's own helper tasks,
    /// which must not take numbers from the build counter (that would shift the keys of
    /// the user's graphs built afterwards).
    pub(crate) fn with_id(name: &'static str, path: &'static str, id: u64) -> Self {
        NodeHeader {
            pure: false,
            ..NodeHeader::new(name, path, Some(u128::from(id)))
        }
    }

    /// A header for a node that stands for an existing one (same key and names). It
    /// takes a build number of its own when the original has one: a build number names
    /// one node object (a kept plan recognises its outputs by it, see `plan::kept`).
    /// Like any user call that builds a node, `persist` thus moves the keys of non-pure
    /// nodes built after it, the same way in every run.
    pub(crate) fn same_as(other: &NodeHeader) -> Self {
        NodeHeader {
            name: other.name,
            path: other.path,
            id: other.id,
            pure: other.pure,
            custom_key: AtomicBool::new(other.custom_key.load(Ordering::Relaxed)),
            content_addressed: other.content_addressed.clone(),
            retries: other.retries,
            number: if other.pure || other.number == 0 {
                other.number
            } else {
                key::next_build_number()
            },
            key: match other.key.get() {
                Some(key) => OnceBox::with_value(Box::new(key.clone())),
                None => OnceBox::new(),
            },
        }
    }

    /// The whole identity: two pure nodes with the same name and `full_id` are one.
    pub(crate) fn full_id(&self) -> u128 {
        (u128::from(self.id_high()) << 64) | u128::from(self.id)
    }

    /// The high 64 bits of a pure node's 128-bit content hash (0 otherwise, build
    /// numbers being unique): merging equal pure calls and the on-disk cache compare the
    /// whole [`full_id`](Self::full_id), only the printed key is short.
    pub(crate) fn id_high(&self) -> u64 {
        if self.pure {
            self.number
        } else {
            0
        }
    }

    /// The build number of a non-pure node (1, 2, ... in the order this process builds
    /// them), 0 for pure and internal ones; never shared by two node objects (a kept plan
    /// recognises its outputs by it, see `plan::kept`). The planner visits a node's
    /// inputs oldest first: graphs are built in loops, so that walks memory in the order
    /// the allocator handed it out instead of jumping between rows (the wavefront planned
    /// 2.7-3.6x faster), and it stays deterministic, as the sequential scheduler's order
    /// must be. A dropped graph frees a node's inputs newest first by it (see
    /// `newest_on_top`).
    pub(crate) fn built(&self) -> u64 {
        if self.pure {
            0
        } else {
            self.number
        }
    }

    /// Feeds this node's identity, all 128 bits, to a pure key of a task that reads it.
    pub(crate) fn hash_identity(&self, hasher: &mut crate::key::StableHasher) {
        use std::hash::Hasher;
        hasher.write(self.name.as_bytes());
        hasher.write_u8(0xff);
        hasher.write_u128(self.full_id());
        // A key given by `with_key` is identity too: equal pure calls reading two equal
        // calls under different keys are two nodes, as the calls they read are.
        if self.custom_key.load(Ordering::Relaxed) {
            hasher.write_u8(0xfe);
            hasher.write(self.key().as_bytes());
            // Closed, since a key has no length in front: a key could otherwise run into
            // what the reader feeds next (a node keyed `k` read with argument bytes `a..`
            // fed what one keyed `ka` fed with `..`, and the two calls were merged). A
            // key is UTF-8, which never holds `0xff`.
            hasher.write_u8(0xff);
        }
    }

    /// Formatted on first use: most graphs never print their keys.
    pub(crate) fn key(&self) -> &str {
        self.key
            .get_or_init(|| Box::new(key::format_key(self.name, self.id)))
    }

    /// Names the node `key` (see `Delayed::with_key`): only through `&mut`, on a header
    /// nobody else sees, since a key once read is borrowed from it.
    pub(crate) fn replace_key(&mut self, key: String) {
        CUSTOM_KEYS_MADE.store(true, Ordering::Relaxed);
        self.key = OnceBox::with_value(Box::new(key));
        *self.custom_key.get_mut() = true;
    }
}

/// Whether any node ever got a key from `with_key`: until one has, computations skip the
/// check that such keys are unique.
static CUSTOM_KEYS_MADE: AtomicBool = AtomicBool::new(false);

pub(crate) fn custom_keys_made() -> bool {
    CUSTOM_KEYS_MADE.load(Ordering::Relaxed)
}

impl NodeHeader {}

/// Whether running a node means calling code or only reading a value it holds.
#[doc(hidden)]
pub enum NodeBody<'a> {
    Task,
    Value(&'a SharedValue),
}

/// The type-erased interface the planner and executor use.
#[doc(hidden)]
pub trait NodeDyn: Send + Sync + 'static {
    fn header(&self) -> &NodeHeader;

    fn header_mut(&mut self) -> &mut NodeHeader;

    fn body(&self) -> NodeBody<'_>;

    /// The name of the result's type, for drawings and error messages. It comes from the
    /// node's type rather than a field: every header field is paid for per node.
    fn type_name(&self) -> &'static str;

    /// Calls `f` with every dependency, in argument order, with its parameter position.
    /// Each is a handle this node holds itself, one per edge, never one another node
    /// holds: the planner takes a node whose only handle it meets for one edge's alone
    /// (see `NodeRef::is_only_handle`).
    fn for_each_dep<'s>(&'s self, f: &mut dyn FnMut(&'s NodeRef, u32));

    /// Appends every dependency to `out`, in `for_each_dep`'s order. The planner's way
    /// in: one dynamic call per node, where `for_each_dep` makes one per dependency
    /// (planning a wavefront: 8% faster).
    fn deps_into<'s>(&'s self, out: &mut Vec<&'s NodeRef>) {
        self.for_each_dep(&mut |d, _| out.push(d));
    }

    /// Runs the task, reading inputs in the order `for_each_dep` lists them.
    fn run(&self, inputs: &Inputs<'_>) -> Result<TaskValue, TaskFailure>;

    /// How this node's result crosses processes, when its type is serializable (only
    /// `#[delayed]` functions with a concrete serde return type have one; see `codec`).
    #[cfg(feature = "cluster")]
    fn codec(&self) -> Option<&'static Codec> {
        None
    }

    /// The size in bytes of `value`, this node's result, when its constructor said how
    /// to measure it (see `result_size`).
    fn result_size(&self, _value: &(dyn Any + Send + Sync)) -> Option<u64> {
        None
    }

    /// For a node that renames another under a key of the user's (see
    /// `Delayed::with_key`): the node it stands for.
    fn renamed_call(&self) -> Option<&NodeRef> {
        None
    }

    /// For a node standing for an invalid operation (see `deferred`): the error that
    /// `compute` returns before running anything.
    fn deferred_error(&self) -> Option<crate::error::Error> {
        None
    }
}

/// The codec of nodes whose result type is unknown to be serializable.
pub(crate) fn no_codec() -> Option<&'static Codec> {
    None
}

/// A call of a delayed function: its arguments, the code that runs it, how to find its
/// result's codec (`C`: a zero-sized closure or fn item, so no memory per node) and how
/// to measure its result (`S`: [`NoSize`] unless a collection's constructor knows).
pub(crate) struct TaskNode<A: ArgList, F, R, C, S = NoSize> {
    header: NodeHeader,
    args: A,
    run: F,
    /// Read on a cluster only, where results cross processes.
    #[cfg(feature = "cluster")]
    codec: C,
    size: S,
    _output: PhantomData<fn() -> (R, C)>,
}

impl<A, F, R, C, S> TaskNode<A, F, R, C, S>
where
    A: ArgList,
    F: Fn(&A, &Inputs<'_>) -> Result<R, TaskFailure> + Send + Sync + 'static,
    R: Send + Sync + 'static,
    C: Fn() -> Option<&'static Codec> + Send + Sync + 'static,
    S: Sizer<R>,
{
    pub(crate) fn new(header: NodeHeader, args: A, run: F, codec: C, size: S) -> Self {
        #[cfg(not(feature = "cluster"))]
        let _ = codec;
        TaskNode {
            header,
            args,
            run,
            #[cfg(feature = "cluster")]
            codec,
            size,
            _output: PhantomData,
        }
    }
}

impl<A, F, R, C, S> NodeDyn for TaskNode<A, F, R, C, S>
where
    A: ArgList,
    F: Fn(&A, &Inputs<'_>) -> Result<R, TaskFailure> + Send + Sync + 'static,
    R: Send + Sync + 'static,
    C: Fn() -> Option<&'static Codec> + Send + Sync + 'static,
    S: Sizer<R>,
{
    fn header(&self) -> &NodeHeader {
        &self.header
    }

    fn header_mut(&mut self) -> &mut NodeHeader {
        &mut self.header
    }

    fn body(&self) -> NodeBody<'_> {
        NodeBody::Task
    }

    fn type_name(&self) -> &'static str {
        std::any::type_name::<R>()
    }

    fn for_each_dep<'s>(&'s self, f: &mut dyn FnMut(&'s NodeRef, u32)) {
        self.args.for_each_dep(f);
    }

    fn deps_into<'s>(&'s self, out: &mut Vec<&'s NodeRef>) {
        self.args.deps_into(out);
    }

    #[inline]
    fn run(&self, inputs: &Inputs<'_>) -> Result<TaskValue, TaskFailure> {
        (self.run)(&self.args, inputs).map(TaskValue::new)
    }

    #[cfg(feature = "cluster")]
    fn codec(&self) -> Option<&'static Codec> {
        (self.codec)()
    }

    fn result_size(&self, value: &(dyn Any + Send + Sync)) -> Option<u64> {
        if !S::MEASURES {
            return None;
        }
        self.size.size(value.downcast_ref::<R>()?)
    }
}

impl<A: ArgList, F, R, C, S> Drop for TaskNode<A, F, R, C, S> {
    fn drop(&mut self) {
        // Dropping the last handle of a long chain would otherwise recurse once per
        // node and overflow the stack; the dependencies go to the thread's drop queue.
        crate::drop_queue::with_drop_queue(|queue| self.args.drain_deps(queue));
    }
}

/// Nodes with at most this many inputs have them ordered by build number, when planned
/// (oldest first) and when dropped (newest first). Wider ones (a gather) keep argument
/// order: their inputs come in the order they were made already, and sorting would read
/// every input's header at once.
pub(crate) const FEW_INPUTS: usize = 8;

/// Data: `dask::delayed(value)` or a persisted result, of type `T`.
pub(crate) struct ValueNode<T> {
    header: NodeHeader,
    value: SharedValue,
    _type: PhantomData<fn() -> T>,
}

impl<T: Send + Sync + 'static> ValueNode<T> {
    pub(crate) fn new(header: NodeHeader, value: T) -> Self {
        ValueNode {
            header,
            value: Arc::new(value),
            _type: PhantomData,
        }
    }
}

impl<T: 'static> NodeDyn for ValueNode<T> {
    fn header(&self) -> &NodeHeader {
        &self.header
    }

    fn header_mut(&mut self) -> &mut NodeHeader {
        &mut self.header
    }

    fn body(&self) -> NodeBody<'_> {
        NodeBody::Value(&self.value)
    }

    fn type_name(&self) -> &'static str {
        std::any::type_name::<T>()
    }

    fn for_each_dep<'s>(&'s self, _f: &mut dyn FnMut(&'s NodeRef, u32)) {}

    fn deps_into<'s>(&'s self, _out: &mut Vec<&'s NodeRef>) {}

    fn run(&self, _inputs: &Inputs<'_>) -> Result<TaskValue, TaskFailure> {
        unreachable!("value nodes are loaded by the planner, never run")
    }
}

#[cfg(test)]
mod tests {
    use crate::Delayed;

    /// A pure node with a given 128-bit id whose value says which node ran.
    fn pure_node(id: u128, value: u32) -> Delayed<u32> {
        static SPEC: crate::__private::TaskSpec =
            crate::__private::test_spec("same", "tests::same", 0);
        crate::__private::task(&SPEC, Some(id), (), move |_, _| Ok(value), super::no_codec)
    }

    #[test]
    fn pure_nodes_merge_only_when_all_128_bits_agree() {
        let low = 0x0123_4567_89ab_cdef_u128;
        let a = pure_node(low, 1);
        let b = pure_node(low | (1 << 64), 2);
        assert_eq!(a.key(), b.key(), "the printed keys show the low half only");
        assert_eq!(crate::graph((&a, &b)).len(), 2);
        assert_eq!(crate::compute((&a, &b)).unwrap(), (1, 2));
        let c = pure_node(low | (1 << 64), 3);
        assert_eq!(crate::graph((&b, &c)).len(), 1, "equal ids are one node");
    }

    /// The inputs `deps_into` lists, as node addresses.
    fn listed(node: &dyn super::NodeDyn) -> Vec<*const u8> {
        let mut out = Vec::new();
        node.deps_into(&mut out);
        out.iter()
            .map(|d| d.node() as *const _ as *const u8)
            .collect()
    }

    /// The inputs `for_each_dep` lists, as node addresses.
    fn walked(node: &dyn super::NodeDyn) -> Vec<*const u8> {
        let mut out = Vec::new();
        node.for_each_dep(&mut |d, _| out.push(d.node() as *const _ as *const u8));
        out
    }

    #[test]
    fn the_planners_listing_of_inputs_is_the_order_tasks_read_them_in() {
        // Tasks read inputs in `for_each_dep`'s order, and the planner lists them with
        // `deps_into`: every kind of argument must list them the same way.
        use crate::{Arg, IntoArg};
        let leaves: Vec<Delayed<u32>> = (0..5u32).map(crate::delayed).collect();
        let at = |i: usize| leaves[i].node() as *const _ as *const u8;
        let mixed: Vec<Arg<u32>> = vec![
            leaves[3].clone().into_arg(),
            7u32.into_arg(),
            leaves[0].clone().into_arg(),
        ];
        static SPEC: crate::__private::TaskSpec =
            crate::__private::test_spec("mixed", "tests::mixed", 0);
        let task = crate::__private::task(
            &SPEC,
            None,
            (
                IntoArg::<u32>::into_arg(&leaves[2]),
                IntoArg::<u32>::into_arg(9u32),
                IntoArg::<Vec<u32>>::into_arg(vec![leaves[4].clone(), leaves[1].clone()]),
                IntoArg::<Vec<u32>>::into_arg(mixed),
            ),
            |_, _| Ok(0u32),
            super::no_codec,
        );
        let expected = vec![at(2), at(4), at(1), at(3), at(0)];
        assert_eq!(walked(task.node()), expected);
        assert_eq!(listed(task.node()), expected);
        let renamed = task.clone().with_key("renamed");
        assert_eq!(
            listed(renamed.node()),
            expected,
            "a renamed task lists its call's"
        );
        let many = crate::map_many_pure("many", 1, &[leaves[1].clone(), leaves[0].clone()], |v| {
            v.len()
        });
        assert_eq!(listed(many.node()), walked(many.node()));
        assert_eq!(listed(many.node()), vec![at(1), at(0)]);
        assert!(listed(leaves[0].node()).is_empty(), "a value has no inputs");
    }

    /// Notes its number when dropped.
    struct Noisy(u32, std::sync::Arc<std::sync::Mutex<Vec<u32>>>);

    impl Drop for Noisy {
        fn drop(&mut self) {
            self.1.lock().unwrap().push(self.0);
        }
    }

    /// A task holding a `Noisy`: it notes `n` when the graph lets go of the task.
    fn noisy(n: u32, log: &std::sync::Arc<std::sync::Mutex<Vec<u32>>>) -> Delayed<u32> {
        let noisy = Noisy(n, log.clone());
        crate::delayed(n).map(move |v| {
            // The whole `Noisy`, not only its field (closures capture the places used).
            let noisy = &noisy;
            v + noisy.0
        })
    }

    #[test]
    fn a_nodes_inputs_are_dropped_newest_first_wherever_they_were_allocated() {
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        // Freed nodes' memory goes to later nodes of their size: nodes are built until
        // one lies below `older` in memory, where the order of addresses would drop it
        // last.
        let address = |d: &Delayed<u32>| (d.node() as *const dyn super::NodeDyn).cast::<u8>();
        let fillers: Vec<Delayed<u32>> = (0..64).map(|_| noisy(0, &log)).collect();
        let older = noisy(1, &log);
        drop(fillers);
        let mut others = Vec::new();
        let newer = loop {
            let candidate = noisy(2, &log);
            if address(&candidate) < address(&older) || others.len() == 1 << 16 {
                break candidate;
            }
            others.push(candidate);
        };
        assert!(
            address(&newer) < address(&older),
            "no freed block was reused"
        );
        drop(others);
        let reader = newer.map2(&older, |a, b| a + b);
        drop((older, newer));
        log.lock().unwrap().clear();
        drop(reader);
        assert_eq!(*log.lock().unwrap(), [2, 1]);
    }

    #[test]
    fn the_header_fills_one_64_byte_line() {
        // Building and dropping a graph stream every node through memory, so each header
        // byte costs time (shrinking it from 112 bytes made building a chain link 5-8 ns
        // cheaper, see BENCHMARKS.md); 64 is also the floor the planner's address
        // numbering needs. The flags and the retry count share one word, the key is
        // boxed, the type name comes from the node's type, and a pure node's high id
        // half shares a field with the build number only non-pure nodes have.
        assert_eq!(std::mem::size_of::<super::NodeHeader>(), 64);
    }

    #[test]
    fn a_pure_node_keeps_all_128_id_bits_and_no_build_number() {
        let id = 0xfedc_ba98_7654_3210_0123_4567_89ab_cdef_u128;
        let node = pure_node(id, 1);
        let header = node.node().header();
        assert_eq!(header.full_id(), id);
        assert_eq!(header.built(), 0);
        let plain = crate::delayed(1_u8);
        let header = plain.node().header();
        assert_ne!(header.built(), 0);
        assert_eq!(header.id_high(), 0);
        assert_eq!(header.full_id(), u128::from(header.id));
    }
}
