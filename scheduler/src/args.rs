//! How a task's parameters are supplied: a plain value embedded in the task, the result
//! of another node, or the gathered results of many nodes (`Vec<Delayed<T>>`).

use std::cell::Cell;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use crate::delayed::Delayed;
use crate::drop_queue::DropQueue;
use crate::error::{InputMismatch, TaskFailure};
use crate::key::StableHasher;
use crate::node_ref::NodeRef;
use crate::plan::Plan;
use crate::shared_gather::{gather_owned, owned_input, SHARED_FROM};

/// One argument of a `#[delayed]` function's builder, as it will reach the task: a plain
/// value, another node's result, or many nodes' results gathered into one value.
///
/// Builders take `impl IntoArg<T>` and turn what they are given into an `Arg<T>` with
/// [`IntoArg::into_arg`]; an `Arg<T>` is itself accepted wherever a `T` is (it implements
/// `IntoArg<T>`), so code that decides at run time whether a parameter is a constant or
/// an upstream node can hold the choice as a value:
///
/// ```
/// use dask::{delayed, Arg, Delayed};
///
/// #[delayed]
/// fn scale(x: f64, factor: f64) -> f64 {
///     x * factor
/// }
///
/// let calibrated = true;
/// let measured: Delayed<f64> = dask::delayed(2.0);
/// let factor: Arg<f64> = if calibrated { Arg::Node(measured) } else { Arg::Value(1.0) };
/// assert_eq!(scale(4.0, factor).compute().unwrap(), 8.0);
/// ```
pub enum Arg<T> {
    /// A plain value, embedded in the task (not a graph node, as in Dask).
    Value(T),
    /// The result of another node.
    Node(Delayed<T>),
    /// The results of many nodes gathered into one value (`Vec<Delayed<U>>` → `Vec<U>`).
    Gather(Box<dyn Gather<T>>),
    /// Dependencies were handed to the iterative drop; the task is being destroyed.
    #[doc(hidden)]
    Drained,
}

/// Anything a builder parameter of type `T` accepts: `T` itself, `&T` (cloned into the
/// task), `Delayed<T>`, `&Delayed<T>`, and for `Vec<U>` also `Vec<Delayed<U>>`,
/// `&Vec<Delayed<U>>` and `&[Delayed<U>]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be passed as a `{T}` parameter of a delayed function",
    label = "expected a `{T}`, a `Delayed<{T}>` or a reference to either",
    note = "a `Vec<U>` parameter also takes `Vec<Delayed<U>>`, `&Vec<Delayed<U>>` or `&[Delayed<U>]`"
)]
pub trait IntoArg<T> {
    fn into_arg(self) -> Arg<T>;
}

impl<T: Send + Sync + 'static> IntoArg<T> for T {
    fn into_arg(self) -> Arg<T> {
        Arg::Value(self)
    }
}

impl<T: Clone + Send + Sync + 'static> IntoArg<T> for &T {
    fn into_arg(self) -> Arg<T> {
        Arg::Value(self.clone())
    }
}

impl IntoArg<String> for &str {
    fn into_arg(self) -> Arg<String> {
        Arg::Value(self.to_string())
    }
}

/// An argument chosen earlier is passed on as it is.
impl<T: Send + Sync + 'static> IntoArg<T> for Arg<T> {
    fn into_arg(self) -> Arg<T> {
        self
    }
}

impl<T: Send + Sync + 'static> IntoArg<T> for Delayed<T> {
    fn into_arg(self) -> Arg<T> {
        Arg::Node(self)
    }
}

impl<T: Send + Sync + 'static> IntoArg<T> for &Delayed<T> {
    fn into_arg(self) -> Arg<T> {
        Arg::Node(self.clone())
    }
}

impl<T: Clone + Send + Sync + 'static> IntoArg<Vec<T>> for Vec<Delayed<T>> {
    fn into_arg(self) -> Arg<Vec<T>> {
        Arg::Gather(Box::new(GatherVec(self)))
    }
}

impl<T: Clone + Send + Sync + 'static> IntoArg<Vec<T>> for &Vec<Delayed<T>> {
    fn into_arg(self) -> Arg<Vec<T>> {
        Arg::Gather(Box::new(GatherVec(self.clone())))
    }
}

impl<T: Clone + Send + Sync + 'static> IntoArg<Vec<T>> for &[T] {
    fn into_arg(self) -> Arg<Vec<T>> {
        Arg::Value(self.to_vec())
    }
}

impl<T: Clone + Send + Sync + 'static> IntoArg<Vec<T>> for &[Delayed<T>] {
    fn into_arg(self) -> Arg<Vec<T>> {
        Arg::Gather(Box::new(GatherVec(self.to_vec())))
    }
}

impl<T: Clone + Send + Sync + 'static, const N: usize> IntoArg<Vec<T>> for [Delayed<T>; N] {
    fn into_arg(self) -> Arg<Vec<T>> {
        Arg::Gather(Box::new(GatherVec(self.into())))
    }
}

/// A list mixing delayed and plain values (`vec![a.into_arg(), 3.into_arg()]`), for a
/// `Vec<T>` parameter: the task reads the nodes and keeps the values, in order.
impl<T: Clone + Send + Sync + 'static> IntoArg<Vec<T>> for Vec<Arg<T>> {
    fn into_arg(self) -> Arg<Vec<T>> {
        // Plain values get a build number each for pure keys, as non-pure nodes do: the
        // element type need not be `Hash`, and two lists with different values must
        // never share a key.
        let stamps = self
            .iter()
            .filter(|arg| matches!(arg, Arg::Value(_)))
            .map(|_| crate::key::next_build_id())
            .collect();
        Arg::Gather(Box::new(GatherMixed(self, stamps)))
    }
}

/// A parameter fed by several nodes at once.
pub trait Gather<T>: Send + Sync + 'static {
    #[doc(hidden)]
    fn for_each_dep<'s>(&'s self, f: &mut dyn FnMut(&'s NodeRef, u32), position: u32);
    /// Appends every dependency to `out`, in `for_each_dep`'s order.
    #[doc(hidden)]
    fn deps_into<'s>(&'s self, out: &mut Vec<&'s NodeRef>) {
        self.for_each_dep(&mut |d, _| out.push(d), 0);
    }
    #[doc(hidden)]
    fn drain_deps(&mut self, out: &mut DropQueue);
    #[doc(hidden)]
    fn collect(&self, inputs: &Inputs<'_>) -> Result<T, TaskFailure>;
    #[doc(hidden)]
    fn hash_keys(&self, hasher: &mut StableHasher);
}

struct GatherVec<T>(Vec<Delayed<T>>);

impl<T: Clone + Send + Sync + 'static> Gather<Vec<T>> for GatherVec<T> {
    fn for_each_dep<'s>(&'s self, f: &mut dyn FnMut(&'s NodeRef, u32), position: u32) {
        for d in &self.0 {
            f(d.node_ref(), position);
        }
    }

    fn deps_into<'s>(&'s self, out: &mut Vec<&'s NodeRef>) {
        out.extend(self.0.iter().map(Delayed::node_ref));
    }

    fn drain_deps(&mut self, out: &mut DropQueue) {
        out.push_list(std::mem::take(&mut self.0));
    }

    fn collect(&self, inputs: &Inputs<'_>) -> Result<Vec<T>, TaskFailure> {
        inputs.next_owned_many(self.0.len())
    }

    fn hash_keys(&self, hasher: &mut StableHasher) {
        hasher.write_usize(self.0.len());
        for d in &self.0 {
            d.node().header().hash_identity(hasher);
        }
    }
}

/// The list, and the build numbers of its plain values.
struct GatherMixed<T>(Vec<Arg<T>>, Vec<u64>);

impl<T: Clone + Send + Sync + 'static> Gather<Vec<T>> for GatherMixed<T> {
    fn for_each_dep<'s>(&'s self, f: &mut dyn FnMut(&'s NodeRef, u32), position: u32) {
        for arg in &self.0 {
            arg.for_each_dep(f, position);
        }
    }

    fn drain_deps(&mut self, out: &mut DropQueue) {
        for arg in &mut self.0 {
            arg.drain_deps(out);
        }
    }

    fn collect(&self, inputs: &Inputs<'_>) -> Result<Vec<T>, TaskFailure> {
        self.0.iter().map(|arg| arg.owned(inputs)).collect()
    }

    fn hash_keys(&self, hasher: &mut StableHasher) {
        hasher.write_usize(self.0.len());
        let mut stamps = self.1.iter();
        for arg in &self.0 {
            match arg {
                Arg::Value(_) => hasher.write_u64(*stamps.next().unwrap_or(&0)),
                other => other.hash_deps(hasher),
            }
        }
    }
}

/// A borrowed parameter: a reference into an upstream result, or a value the task
/// assembled itself (a gathered `Vec`).
pub enum ArgRef<'a, T> {
    Borrowed(&'a T),
    Owned(T),
}

impl<T> Deref for ArgRef<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        match self {
            ArgRef::Borrowed(r) => r,
            ArgRef::Owned(v) => v,
        }
    }
}

// The methods below are the generated code's way of reading an argument back inside
// the task (through `dask::__private`); they name types that only that code sees.
impl<T: Send + Sync + 'static> Arg<T> {
    /// The parameter by value: embedded values are cloned (a task can run again),
    /// upstream results are moved out when this is their last reader.
    #[doc(hidden)]
    #[inline]
    pub fn owned(&self, inputs: &Inputs<'_>) -> Result<T, TaskFailure>
    where
        T: Clone,
    {
        match self {
            Arg::Value(v) => Ok(v.clone()),
            Arg::Node(_) => inputs.next_owned(),
            Arg::Gather(g) => g.collect(inputs),
            Arg::Drained => Err(mismatch("argument used after drop")),
        }
    }

    /// The parameter by reference, without copying upstream results.
    #[doc(hidden)]
    #[inline]
    pub fn borrowed<'a>(&'a self, inputs: &Inputs<'a>) -> Result<ArgRef<'a, T>, TaskFailure> {
        match self {
            Arg::Value(v) => Ok(ArgRef::Borrowed(v)),
            Arg::Node(_) => inputs.next_borrowed().map(ArgRef::Borrowed),
            Arg::Gather(g) => g.collect(inputs).map(ArgRef::Owned),
            Arg::Drained => Err(mismatch("argument used after drop")),
        }
    }

    /// Feeds the argument's identity to a pure key: values by content, nodes by key.
    #[doc(hidden)]
    pub fn stable_hash(&self, hasher: &mut StableHasher)
    where
        T: Hash,
    {
        match self {
            Arg::Value(v) => {
                hasher.write_u8(0);
                v.hash(hasher);
            }
            other => other.hash_deps(hasher),
        }
    }

    /// [`stable_hash`](Self::stable_hash) for values that are [`KeyHash`](crate::KeyHash) instead of
    /// `Hash` (floats): the operands of pure operators and combinators, and the pure
    /// parameters `#[delayed(pure)]` hashes that way.
    #[doc(hidden)]
    pub fn key_hash(&self, hasher: &mut StableHasher)
    where
        T: crate::KeyHash,
    {
        match self {
            Arg::Value(v) => {
                hasher.write_u8(0);
                v.key_hash(hasher);
            }
            other => other.hash_deps(hasher),
        }
    }

    /// The identities of the nodes an argument reads.
    fn hash_deps(&self, hasher: &mut StableHasher) {
        match self {
            Arg::Value(_) | Arg::Drained => {}
            Arg::Node(d) => {
                hasher.write_u8(1);
                d.node().header().hash_identity(hasher);
            }
            Arg::Gather(g) => {
                hasher.write_u8(2);
                g.hash_keys(hasher);
            }
        }
    }
}

/// One element of a task's argument tuple, seen without its type.
pub trait ArgDeps: Send + Sync + 'static {
    #[doc(hidden)]
    fn for_each_dep<'s>(&'s self, f: &mut dyn FnMut(&'s NodeRef, u32), position: u32);
    /// Appends every dependency to `out`, in `for_each_dep`'s order.
    #[doc(hidden)]
    fn deps_into<'s>(&'s self, out: &mut Vec<&'s NodeRef>) {
        self.for_each_dep(&mut |d, _| out.push(d), 0);
    }
    #[doc(hidden)]
    fn drain_deps(&mut self, out: &mut DropQueue);
}

impl<T: Send + Sync + 'static> ArgDeps for Arg<T> {
    #[inline]
    fn for_each_dep<'s>(&'s self, f: &mut dyn FnMut(&'s NodeRef, u32), position: u32) {
        match self {
            Arg::Value(_) | Arg::Drained => {}
            Arg::Node(d) => f(d.node_ref(), position),
            Arg::Gather(g) => g.for_each_dep(f, position),
        }
    }

    #[inline]
    fn deps_into<'s>(&'s self, out: &mut Vec<&'s NodeRef>) {
        match self {
            Arg::Value(_) | Arg::Drained => {}
            Arg::Node(d) => out.push(d.node_ref()),
            Arg::Gather(g) => g.deps_into(out),
        }
    }

    fn drain_deps(&mut self, out: &mut DropQueue) {
        match std::mem::replace(self, Arg::Drained) {
            Arg::Node(d) => out.push(d.into_node()),
            Arg::Gather(mut g) => g.drain_deps(out),
            Arg::Value(_) | Arg::Drained => {}
        }
    }
}

/// A task's whole argument tuple.
pub trait ArgList: Send + Sync + 'static {
    #[doc(hidden)]
    fn for_each_dep<'s>(&'s self, f: &mut dyn FnMut(&'s NodeRef, u32));
    /// Appends every dependency to `out`, in `for_each_dep`'s order.
    #[doc(hidden)]
    fn deps_into<'s>(&'s self, out: &mut Vec<&'s NodeRef>);
    #[doc(hidden)]
    fn drain_deps(&mut self, out: &mut DropQueue);
}

macro_rules! arg_list_for_tuples {
    ($( ( $($name:ident : $idx:tt),* ) )*) => {$(
        impl<$($name: ArgDeps),*> ArgList for ($($name,)*) {
            #[inline]
            #[allow(unused_variables)]
            fn for_each_dep<'s>(&'s self, f: &mut dyn FnMut(&'s NodeRef, u32)) {
                $( self.$idx.for_each_dep(f, $idx); )*
            }

            #[inline]
            #[allow(unused_variables)]
            fn deps_into<'s>(&'s self, out: &mut Vec<&'s NodeRef>) {
                $( self.$idx.deps_into(out); )*
            }

            #[allow(unused_variables)]
            fn drain_deps(&mut self, out: &mut DropQueue) {
                $( self.$idx.drain_deps(out); )*
            }
        }
    )*};
}

arg_list_for_tuples! {
    ()
    (A0: 0)
    (A0: 0, A1: 1)
    (A0: 0, A1: 1, A2: 2)
    (A0: 0, A1: 1, A2: 2, A3: 3)
    (A0: 0, A1: 1, A2: 2, A3: 3, A4: 4)
    (A0: 0, A1: 1, A2: 2, A3: 3, A4: 4, A5: 5)
    (A0: 0, A1: 1, A2: 2, A3: 3, A4: 4, A5: 5, A6: 6)
    (A0: 0, A1: 1, A2: 2, A3: 3, A4: 4, A5: 5, A6: 6, A7: 7)
    (A0: 0, A1: 1, A2: 2, A3: 3, A4: 4, A5: 5, A6: 6, A7: 7, A8: 8)
    (A0: 0, A1: 1, A2: 2, A3: 3, A4: 4, A5: 5, A6: 6, A7: 7, A8: 8, A9: 9)
    (A0: 0, A1: 1, A2: 2, A3: 3, A4: 4, A5: 5, A6: 6, A7: 7, A8: 8, A9: 9, A10: 10)
    (A0: 0, A1: 1, A2: 2, A3: 3, A4: 4, A5: 5, A6: 6, A7: 7, A8: 8, A9: 9, A10: 10, A11: 11)
}

/// A running task's view of its upstream results, read in argument order.
pub struct Inputs<'a> {
    plan: &'a Plan<'a>,
    deps: &'a [u32],
    cursor: Cell<usize>,
    /// The task may run again (it has retries): inputs are cloned, never moved out.
    keep_inputs: bool,
    /// Inputs whose slot this task emptied by moving the value out as its last reader.
    emptied: Cell<usize>,
}

impl<'a> Inputs<'a> {
    pub(crate) fn new(plan: &'a Plan<'a>, deps: &'a [u32], keep_inputs: bool) -> Self {
        Inputs {
            plan,
            deps,
            cursor: Cell::new(0),
            keep_inputs,
            emptied: Cell::new(0),
        }
    }

    /// Whether the task moved every input out as its last reader: releasing them would
    /// find each slot empty and each count at its last holder, so it can be skipped (a
    /// join over a million inputs then does not read their nodes a second time).
    pub(crate) fn emptied_all(&self) -> bool {
        self.emptied.get() == self.deps.len()
    }

    /// Back to the first input, for another attempt.
    pub(crate) fn rewind(&self) {
        self.cursor.set(0);
    }

    #[inline]
    fn next_dep(&self) -> Result<u32, TaskFailure> {
        let i = self.cursor.get();
        self.cursor.set(i + 1);
        self.deps
            .get(i)
            .copied()
            .ok_or_else(|| mismatch("more inputs read than the task has"))
    }

    /// The next `count` inputs by value, as [`next_owned`](Self::next_owned) takes one:
    /// a gather's loop, with the cursor moved once and the vector sized up front; many
    /// inputs are gathered by idle workers too (`shared_gather`).
    pub(crate) fn next_owned_many<T: Clone + Send + Sync + 'static>(
        &self,
        count: usize,
    ) -> Result<Vec<T>, TaskFailure> {
        let start = self.cursor.get();
        let deps = self
            .deps
            .get(start..start + count)
            .ok_or_else(|| mismatch("more inputs read than the task has"))?;
        self.cursor.set(start + count);
        if count >= SHARED_FROM {
            let (values, emptied) = gather_owned(self.plan, deps, self.keep_inputs);
            self.emptied.set(self.emptied.get() + emptied);
            return values.ok_or_else(|| mismatch("input missing or of another type"));
        }
        let mut values = Vec::with_capacity(count);
        for &d in deps {
            values.push(self.owned_input(d)?);
        }
        Ok(values)
    }

    /// Input `d` by value: cloned when the task may run again, else moved out when this
    /// is its last reader (and counted as emptied) and cloned otherwise.
    #[inline]
    fn owned_input<T: Clone + Send + Sync + 'static>(&self, d: u32) -> Result<T, TaskFailure> {
        let (value, emptied) = owned_input(self.plan, self.keep_inputs, d);
        self.emptied.set(self.emptied.get() + usize::from(emptied));
        value.ok_or_else(|| mismatch("input missing or of another type"))
    }

    #[inline]
    pub(crate) fn next_borrowed<T: Send + Sync + 'static>(&self) -> Result<&'a T, TaskFailure> {
        let d = self.next_dep()?;
        self.plan
            .borrow_result(d)
            .ok_or_else(|| mismatch("input missing or of another type"))
    }

    #[inline]
    pub(crate) fn next_owned<T: Clone + Send + Sync + 'static>(&self) -> Result<T, TaskFailure> {
        self.owned_input(self.next_dep()?)
    }
}

fn mismatch(what: &'static str) -> TaskFailure {
    TaskFailure::Failed(Box::new(InputMismatch(what)))
}
