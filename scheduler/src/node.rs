//! Graph nodes: what a `Delayed` handle points to.
//!
//! A node is immutable once built: its dependencies are fixed, so graphs are acyclic by
//! construction and can be shared between threads and computations. A node never holds
//! its own result; results live in the per-computation plan (see `plan`), so the same
//! node can take part in several computations at once.

use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use crate::args::{ArgList, Inputs};
use crate::codec::Codec;
use crate::content_address::ContentAddressed;
use crate::error::TaskFailure;
use crate::key;
use crate::plan::VisitMark;

/// A type-erased result shared by a value node and the plans that read it.
pub type SharedValue = Arc<dyn Any + Send + Sync>;

/// What every node carries besides its body.
#[doc(hidden)]
pub struct NodeHeader {
    pub(crate) name: &'static str,
    pub(crate) path: &'static str,
    pub(crate) type_name: &'static str,
    /// The hash part of the key: content hash for pure nodes, mixed build number otherwise.
    pub(crate) id: u64,
    pub(crate) pure: bool,
    /// Whether the key names the same value in every process; see `content_address`.
    /// Worked out on first use, not while building: building is a hot path and only
    /// `Memory` asks.
    pub(crate) content_addressed: ContentAddressed,
    /// Extra attempts after a failure or panic.
    pub(crate) retries: u32,
    key: OnceLock<String>,
    /// Planning bookkeeping; see `plan::VisitMark`.
    pub(crate) mark: VisitMark,
}

impl NodeHeader {
    pub(crate) fn new<T>(name: &'static str, path: &'static str, pure_id: Option<u64>) -> Self {
        NodeHeader {
            name,
            path,
            type_name: std::any::type_name::<T>(),
            id: pure_id.unwrap_or_else(key::next_build_id),
            pure: pure_id.is_some(),
            content_addressed: ContentAddressed::unknown(),
            retries: 0,
            key: OnceLock::new(),
            mark: VisitMark::new(),
        }
    }

    /// A header of a non-pure node with a fixed id: for the scheduler's own helper tasks,
    /// which must not take numbers from the build counter (that would shift the keys of
    /// the user's graphs built afterwards).
    pub(crate) fn with_id<T>(name: &'static str, path: &'static str, id: u64) -> Self {
        NodeHeader {
            id,
            pure: false,
            ..NodeHeader::new::<T>(name, path, Some(id))
        }
    }

    /// A header for a node that stands for an existing one (same key and names).
    pub(crate) fn same_as(other: &NodeHeader) -> Self {
        NodeHeader {
            name: other.name,
            path: other.path,
            type_name: other.type_name,
            id: other.id,
            pure: other.pure,
            content_addressed: other.content_addressed.clone(),
            retries: other.retries,
            key: other.key.clone(),
            mark: VisitMark::new(),
        }
    }

    /// Feeds this node's key to a pure key of a task that reads it.
    pub(crate) fn hash_identity(&self, hasher: &mut crate::key::StableHasher) {
        use std::hash::Hasher;
        hasher.write(self.name.as_bytes());
        hasher.write_u8(0xff);
        hasher.write_u64(self.id);
    }

    /// Formatted on first use: most graphs never print their keys.
    pub(crate) fn key(&self) -> &str {
        self.key.get_or_init(|| key::format_key(self.name, self.id))
    }
}

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

    fn body(&self) -> NodeBody<'_>;

    /// Calls `f` with every dependency, in argument order, with its parameter position.
    fn for_each_dep<'s>(&'s self, f: &mut dyn FnMut(&'s dyn NodeDyn, u32));

    /// Runs the task, reading inputs in the order `for_each_dep` lists them.
    fn run(&self, inputs: &Inputs<'_>) -> Result<Box<dyn Any + Send + Sync>, TaskFailure>;

    /// How this node's result crosses processes, when its type is serializable (only
    /// `#[delayed]` functions with a concrete serde return type have one; see `codec`).
    fn codec(&self) -> Option<&'static Codec> {
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

/// A call of a delayed function: its arguments, the code that runs it, and how to find
/// its result's codec (`C`: a zero-sized closure or fn item, so no memory per node).
pub(crate) struct TaskNode<A: ArgList, F, R, C> {
    header: NodeHeader,
    args: A,
    run: F,
    codec: C,
    _output: PhantomData<fn() -> R>,
}

impl<A, F, R, C> TaskNode<A, F, R, C>
where
    A: ArgList,
    F: Fn(&A, &Inputs<'_>) -> Result<R, TaskFailure> + Send + Sync + 'static,
    R: Send + Sync + 'static,
    C: Fn() -> Option<&'static Codec> + Send + Sync + 'static,
{
    pub(crate) fn new(header: NodeHeader, args: A, run: F, codec: C) -> Self {
        TaskNode {
            header,
            args,
            run,
            codec,
            _output: PhantomData,
        }
    }
}

impl<A, F, R, C> NodeDyn for TaskNode<A, F, R, C>
where
    A: ArgList,
    F: Fn(&A, &Inputs<'_>) -> Result<R, TaskFailure> + Send + Sync + 'static,
    R: Send + Sync + 'static,
    C: Fn() -> Option<&'static Codec> + Send + Sync + 'static,
{
    fn header(&self) -> &NodeHeader {
        &self.header
    }

    fn body(&self) -> NodeBody<'_> {
        NodeBody::Task
    }

    fn for_each_dep<'s>(&'s self, f: &mut dyn FnMut(&'s dyn NodeDyn, u32)) {
        self.args.for_each_dep(f);
    }

    #[inline]
    fn run(&self, inputs: &Inputs<'_>) -> Result<Box<dyn Any + Send + Sync>, TaskFailure> {
        (self.run)(&self.args, inputs).map(|v| Box::new(v) as Box<dyn Any + Send + Sync>)
    }

    fn codec(&self) -> Option<&'static Codec> {
        (self.codec)()
    }
}

impl<A: ArgList, F, R, C> Drop for TaskNode<A, F, R, C> {
    fn drop(&mut self) {
        // Dropping the last handle of a long chain would otherwise recurse once per
        // node and overflow the stack; hand the dependencies to an explicit work list.
        let mut deps = Vec::new();
        self.args.drain_deps(&mut deps);
        drop_iteratively(deps);
    }
}

thread_local! {
    static DROP_QUEUE: RefCell<Option<Vec<Arc<dyn NodeDyn>>>> = const { RefCell::new(None) };
}

/// Drops node handles without recursion: nested drops triggered while draining append
/// to the queue of the outermost call instead of recursing.
pub(crate) fn drop_iteratively(handles: Vec<Arc<dyn NodeDyn>>) {
    if handles.is_empty() {
        return;
    }
    let mut handles = Some(handles);
    let outermost = DROP_QUEUE
        .try_with(|q| {
            let mut q = q.borrow_mut();
            match q.as_mut() {
                Some(queue) => {
                    queue.extend(handles.take().into_iter().flatten());
                    false
                }
                None => {
                    *q = Some(Vec::new());
                    true
                }
            }
        })
        // Thread-local storage is gone while the thread exits: drop plainly.
        .unwrap_or(false);
    let Some(mut work) = handles.filter(|_| outermost) else {
        return;
    };
    loop {
        while let Some(handle) = work.pop() {
            drop(handle);
        }
        let more = DROP_QUEUE.with(|q| {
            let mut q = q.borrow_mut();
            match q.as_mut() {
                Some(queue) if !queue.is_empty() => Some(std::mem::take(queue)),
                _ => {
                    *q = None;
                    None
                }
            }
        });
        match more {
            Some(next) => work = next,
            None => break,
        }
    }
}

/// Data: `dask::delayed(value)` or a persisted result.
pub(crate) struct ValueNode {
    header: NodeHeader,
    value: SharedValue,
}

impl ValueNode {
    pub(crate) fn new(header: NodeHeader, value: SharedValue) -> Self {
        ValueNode { header, value }
    }
}

impl NodeDyn for ValueNode {
    fn header(&self) -> &NodeHeader {
        &self.header
    }

    fn body(&self) -> NodeBody<'_> {
        NodeBody::Value(&self.value)
    }

    fn for_each_dep<'s>(&'s self, _f: &mut dyn FnMut(&'s dyn NodeDyn, u32)) {}

    fn run(&self, _inputs: &Inputs<'_>) -> Result<Box<dyn Any + Send + Sync>, TaskFailure> {
        unreachable!("value nodes are loaded by the planner, never run")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_header_stays_within_112_bytes() {
        // Every node carries one; the content-addressed flag lives in padding.
        assert!(
            std::mem::size_of::<super::NodeHeader>() <= 112,
            "{}",
            std::mem::size_of::<super::NodeHeader>()
        );
    }
}
