//! `Delayed<T>`: a cheap handle to a node of a lazy task graph.

use std::fmt;
use std::marker::PhantomData;

use crate::args::{Arg, ArgList, Inputs};
use crate::codec::Codec;
use crate::error::{Error, TaskFailure};
use crate::node::{no_codec, NodeDyn, NodeHeader, TaskNode, ValueNode};
use crate::node_ref::NodeRef;

/// A value that will be computed: the output of a lazy call. Cloning is a reference
/// count; the handle is `Send + Sync` and can be passed to other delayed calls, to
/// [`compute`](crate::compute) or drawn with [`visualize`](Delayed::visualize).
///
/// ```
/// use dask::Delayed;
/// let x: Delayed<i64> = dask::delayed(20);
/// let y = x.map(|v| v + 1).map(|v| v * 2);
/// assert_eq!(y.compute().unwrap(), 42);
/// ```
#[must_use = "a Delayed value runs nothing until it is computed"]
pub struct Delayed<T> {
    node: NodeRef,
    _output: PhantomData<fn() -> T>,
}

impl<T> Clone for Delayed<T> {
    fn clone(&self) -> Self {
        Delayed {
            node: self.node.clone(),
            _output: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Delayed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Delayed({})", self.node.node().header().key())
    }
}

impl<T> Delayed<T> {
    pub(crate) fn from_node(node: NodeRef) -> Self {
        Delayed {
            node,
            _output: PhantomData,
        }
    }

    pub(crate) fn node(&self) -> &dyn NodeDyn {
        self.node.node()
    }

    pub(crate) fn into_node(self) -> NodeRef {
        self.node
    }

    pub(crate) fn node_ref(&self) -> &NodeRef {
        &self.node
    }

    /// The node, when this handle is the only one (nobody else can see a change).
    pub(crate) fn node_mut(&mut self) -> Option<&mut dyn NodeDyn> {
        self.node.get_mut()
    }

    /// The node's key, Dask style `name-<16 hex digits>`: unique in the graph and the same
    /// in every run of the same program. A pure call's key is the same in every program
    /// with the same function source: it hashes the function's path, a fingerprint of its
    /// tokens (docs and comments aside) and its arguments.
    pub fn key(&self) -> &str {
        self.node.node().header().key()
    }

    /// The display name: the function's name, `#[delayed(name = "...")]`, `map` for
    /// closures, `value` for [`delayed`](crate::delayed()) data.
    pub fn name(&self) -> &'static str {
        self.node.node().header().name
    }
}

impl<T: Send + Sync + 'static> Delayed<T> {
    /// Computes this value (and everything it needs) on the default scheduler.
    ///
    /// The result is moved out of the computation when nothing else holds it, and cloned
    /// when it is shared (for example a persisted value).
    pub fn compute(&self) -> Result<T, Error>
    where
        T: Clone,
    {
        self.compute_with(&crate::Config::default())
    }

    /// [`compute`](Self::compute) with options.
    pub fn compute_with(&self, config: &crate::Config) -> Result<T, Error>
    where
        T: Clone,
    {
        let mut values = crate::compute_with(std::slice::from_ref(self), config)?;
        Ok(values.pop().expect("one output gives one value"))
    }

    /// Writes this value's graph (as [`graph`](crate::graph()) gives it) to `path`; the
    /// format follows the extension: `.svg` (drawn without any system program; with
    /// Graphviz's layout when `dot` is installed), `.dot`/`.gv` or `.json`.
    ///
    /// ```no_run
    /// let total = dask::delayed(vec![1, 2, 3]).map(|v: &Vec<i32>| v.iter().sum::<i32>());
    /// total.visualize("total.svg")?;
    /// # Ok::<(), dask::Error>(())
    /// ```
    pub fn visualize(&self, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
        crate::graph::graph_of_nodes(&[self.node_ref()]).save(path)?;
        Ok(())
    }

    /// An ad-hoc task from a closure reading this value by reference (Dask's
    /// `delayed(lambda x: ...)(value)`). Its display name is `map`.
    pub fn map<U, F>(&self, f: F) -> Delayed<U>
    where
        U: Send + Sync + 'static,
        F: Fn(&T) -> U + Send + Sync + 'static,
    {
        let header = NodeHeader::new("map", std::any::type_name::<F>(), None);
        // A closure's result type is generic here, so it has no codec: a `map` node
        // cannot send its result to another process.
        task_node(
            header,
            (Arg::Node(self.clone()),),
            move |args, inputs| {
                let value = args.0.borrowed(inputs)?;
                Ok(f(&value))
            },
            no_codec,
        )
    }
}

/// Wraps a plain value as a data node of the graph (Dask's `delayed(obj)`): readers
/// borrow it without copying; a reader that takes it by value gets a clone.
///
/// ```
/// let data = dask::delayed(vec![1.0, 2.0, 3.0]);
/// let total = data.map(|v: &Vec<f64>| v.iter().sum::<f64>());
/// assert_eq!(total.compute().unwrap(), 6.0);
/// ```
pub fn delayed<T: Send + Sync + 'static>(value: T) -> Delayed<T> {
    let header = NodeHeader::new("value", "value", None);
    Delayed::from_node(NodeRef::new(ValueNode::new(header, value)))
}

/// A data node standing for an already computed node: same key and name.
pub(crate) fn persisted<T: Send + Sync + 'static>(original: &Delayed<T>, value: T) -> Delayed<T> {
    // Settled now: the data node has no inputs to work it out from later.
    crate::content_address::is_content_addressed(original.node());
    let header = NodeHeader::same_as(original.node().header());
    Delayed::from_node(NodeRef::new(ValueNode::new(header, value)))
}

pub(crate) fn task_node<A, F, R, C>(header: NodeHeader, args: A, run: F, codec: C) -> Delayed<R>
where
    A: ArgList,
    F: Fn(&A, &Inputs<'_>) -> Result<R, TaskFailure> + Send + Sync + 'static,
    R: Send + Sync + 'static,
    C: Fn() -> Option<&'static Codec> + Send + Sync + 'static,
{
    sized_task_node(header, args, run, codec, crate::result_size::NoSize)
}

/// [`task_node`] whose result `size` can measure (see `result_size`).
pub(crate) fn sized_task_node<A, F, R, C, S>(
    header: NodeHeader,
    args: A,
    run: F,
    codec: C,
    size: S,
) -> Delayed<R>
where
    A: ArgList,
    F: Fn(&A, &Inputs<'_>) -> Result<R, TaskFailure> + Send + Sync + 'static,
    R: Send + Sync + 'static,
    C: Fn() -> Option<&'static Codec> + Send + Sync + 'static,
    S: crate::result_size::Sizer<R>,
{
    Delayed::from_node(NodeRef::new(TaskNode::new(header, args, run, codec, size)))
}
