//! Combining delayed values the way Dask users do with `delayed` itself: closures over
//! several inputs (`zip`, `map2`), tuple unpacking (`unzip`, Dask's `nout`), gathering
//! containers (`collect`, `FromIterator`), and naming or keying single nodes
//! (`with_key`, `map_pure`, `delayed_pure`).

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

use crate::args::{Arg, Inputs, IntoArg};
use crate::delayed::{task_node, Delayed};
use crate::error::TaskFailure;
use crate::key_hash::KeyHash;
use crate::node::{no_codec, NodeBody, NodeDyn, NodeHeader, ValueNode};
use crate::node_ref::NodeRef;
use crate::operators::{derived_id, feed_type, feed_type_of};
use crate::task_value::TaskValue;

impl<A: Send + Sync + 'static> Delayed<A> {
    /// Both values as a pair, lazily (pure): the way to hand several delayed values to
    /// one closure (`a.zip(&b).map(|(a, b)| ...)`). Each is cloned into the pair;
    /// [`map2`](Self::map2) borrows instead.
    ///
    /// ```
    /// let a = dask::delayed(2);
    /// let b = dask::delayed("x".to_string());
    /// let both = a.zip(&b);
    /// assert_eq!(both.compute().unwrap(), (2, "x".to_string()));
    /// ```
    pub fn zip<B>(&self, other: &Delayed<B>) -> Delayed<(A, B)>
    where
        A: Clone,
        B: Clone + Send + Sync + 'static,
    {
        let id = derived_id("zip", |h| {
            self.node().header().hash_identity(h);
            other.node().header().hash_identity(h);
        });
        let header = NodeHeader::new("zip", "zip", Some(id));
        task_node(
            header,
            (Arg::Node(self.clone()), Arg::Node(other.clone())),
            |args: &(Arg<A>, Arg<B>), inputs: &Inputs<'_>| {
                Ok::<_, TaskFailure>((args.0.owned(inputs)?, args.1.owned(inputs)?))
            },
            no_codec,
        )
    }

    /// A task from a closure reading this value and `other` by reference (Dask's
    /// `delayed(lambda a, b: ...)(x, y)`); no copy of either. Like [`map`](Self::map)
    /// it is not pure: each call is its own node.
    ///
    /// ```
    /// let xs = dask::delayed(vec![1.0, 2.0, 3.0]);
    /// let scale = dask::delayed(10.0);
    /// let total = xs.map2(&scale, |xs: &Vec<f64>, s: &f64| xs.iter().sum::<f64>() * s);
    /// assert_eq!(total.compute().unwrap(), 60.0);
    /// ```
    pub fn map2<B, U, F>(&self, other: &Delayed<B>, f: F) -> Delayed<U>
    where
        B: Send + Sync + 'static,
        U: Send + Sync + 'static,
        F: Fn(&A, &B) -> U + Send + Sync + 'static,
    {
        let header = NodeHeader::new("map2", std::any::type_name::<F>(), None);
        task_node(
            header,
            (Arg::Node(self.clone()), Arg::Node(other.clone())),
            move |args: &(Arg<A>, Arg<B>), inputs: &Inputs<'_>| {
                let a = args.0.borrowed(inputs)?;
                let b = args.1.borrowed(inputs)?;
                Ok::<_, TaskFailure>(f(&a, &b))
            },
            no_codec,
        )
    }

    /// [`map`](Self::map), but pure: keyed by `tag` and this node's key, so equal calls
    /// built separately are one node and `Memory` can cache it. `tag` must name
    /// everything the closure does (Dask's `delayed(f, pure=True)`).
    ///
    /// ```
    /// let x = dask::delayed(4);
    /// let a = x.map_pure("square", |v| v * v);
    /// let b = x.map_pure("square", |v| v * v);
    /// assert_eq!(a.key(), b.key());
    /// assert_eq!(dask::graph(&[a, b]).len(), 2); // x and one square
    /// ```
    pub fn map_pure<U, F>(&self, tag: impl KeyHash, f: F) -> Delayed<U>
    where
        U: Send + Sync + 'static,
        F: Fn(&A) -> U + Send + Sync + 'static,
    {
        let id = derived_id("map_pure", |h| {
            // `f` is not part of the key: tags of different types, or closures of
            // different result types, must not make one node.
            feed_type::<U>(h);
            feed_type_of(&tag, h);
            tag.key_hash(h);
            self.node().header().hash_identity(h);
        });
        let header = NodeHeader::new("map", std::any::type_name::<F>(), Some(id));
        task_node(
            header,
            (Arg::Node(self.clone()),),
            move |args: &(Arg<A>,), inputs: &Inputs<'_>| {
                let value = args.0.borrowed(inputs)?;
                Ok::<_, TaskFailure>(f(&value))
            },
            no_codec,
        )
    }

    /// This node under the key `key` (Dask's `dask_key_name`): its key in drawings,
    /// errors and the profiler. Keys must be unique within a computation: two different
    /// nodes with one key fail `compute` with [`Error::DuplicateKey`](crate::Error::DuplicateKey)
    /// before anything runs. Keys are identity: equal pure calls under different keys
    /// are different nodes, under one key one node.
    ///
    /// Other handles of the node keep their key: when they exist, the handle returned is
    /// a node of its own for the same call (same inputs, same code), so computing both
    /// runs it under each key. Only this handle's node is renamed in place.
    ///
    /// ```
    /// let x = dask::delayed(1).map(|v| v + 1).with_key("incremented");
    /// assert_eq!(x.key(), "incremented");
    /// assert_eq!(x.compute().unwrap(), 2);
    /// let y = x.clone().with_key("again");
    /// assert_eq!((x.key(), y.key()), ("incremented", "again"));
    /// assert_eq!(dask::compute(&[x, y]).unwrap(), [2, 2]);
    /// ```
    pub fn with_key(mut self, key: impl Into<String>) -> Delayed<A> {
        let key = key.into();
        // The key it has already (given, or its own: then it stays an ordinary node,
        // merged with equal pure calls as before).
        if self.key() == key {
            return self;
        }
        if let Some(node) = self.node_mut() {
            node.header_mut().replace_key(key);
            return self;
        }
        // Renaming a shared node would change the key other handles read (or, once read,
        // leave them with a key the node no longer has).
        let original = self.node().header();
        let mut header = NodeHeader::new(
            original.name,
            original.path,
            original.pure.then(|| original.full_id()),
        );
        header.retries = original.retries;
        header.replace_key(key);
        // A renamed node stands for its call directly, never for another renamed node:
        // a chain of them (`d = d.clone().with_key(..)` in a loop) would otherwise be
        // walked by recursion, to run, plan or drop it, and overflow the stack.
        let call = match self.node().renamed_call() {
            Some(call) => call.clone(),
            None => self.into_node(),
        };
        let mut inputs = Vec::new();
        call.node().deps_into(&mut inputs);
        let inputs = inputs.into_iter().cloned().collect();
        Delayed::from_node(NodeRef::new(Rekeyed {
            header,
            inputs,
            call,
        }))
    }
}

/// The node of [`Delayed::with_key`] on a shared handle: the same call as `call`, under
/// a key of its own. It reads `call`'s inputs and runs `call`'s code, so `call` itself
/// is not an input (a graph of this node alone has no node under the old key).
///
/// Its edges are handles of its own to the call's inputs, not the call's: the planner
/// takes a node whose handle count is 1 for one edge's alone (`NodeRef::is_only_handle`),
/// which holds only while every edge is a handle. Listing the call's handles, an input
/// that only the call held was reached through two edges (the call's and this node's)
/// behind one handle, and planned, and run, under each when both were computed. The
/// cost is one count per input, paid when a shared handle is renamed.
struct Rekeyed {
    header: NodeHeader,
    /// `call`'s inputs, in its order. Dropped before `call`, which holds them too, so
    /// dropping them frees nothing (the call's own drop frees iteratively).
    inputs: Box<[NodeRef]>,
    /// Never a `Rekeyed` node itself (see `with_key`).
    call: NodeRef,
}

impl NodeDyn for Rekeyed {
    fn header(&self) -> &NodeHeader {
        &self.header
    }

    fn renamed_call(&self) -> Option<&NodeRef> {
        Some(&self.call)
    }

    fn header_mut(&mut self) -> &mut NodeHeader {
        &mut self.header
    }

    fn body(&self) -> NodeBody<'_> {
        self.call.node().body()
    }

    fn type_name(&self) -> &'static str {
        self.call.node().type_name()
    }

    fn for_each_dep<'s>(&'s self, f: &mut dyn FnMut(&'s NodeRef, u32)) {
        // The call's parameter positions, with this node's own handles.
        let mut own = self.inputs.iter();
        self.call.node().for_each_dep(&mut |_, position| {
            f(
                own.next().expect("one handle per input of the call"),
                position,
            );
        });
    }

    fn deps_into<'s>(&'s self, out: &mut Vec<&'s NodeRef>) {
        out.extend(self.inputs.iter());
    }

    fn run(&self, inputs: &Inputs<'_>) -> Result<TaskValue, TaskFailure> {
        self.call.node().run(inputs)
    }

    #[cfg(feature = "cluster")]
    fn codec(&self) -> Option<&'static crate::codec::Codec> {
        self.call.node().codec()
    }

    fn result_size(&self, value: &(dyn std::any::Any + Send + Sync)) -> Option<u64> {
        self.call.node().result_size(value)
    }

    fn deferred_error(&self) -> Option<crate::Error> {
        self.call.node().deferred_error()
    }
}

/// Fails when two different nodes of a plan carry one key from
/// [`Delayed::with_key`].
pub(crate) fn check_custom_keys(plan: &crate::plan::Plan<'_>) -> Result<(), crate::Error> {
    use std::sync::atomic::Ordering;
    if !crate::node::custom_keys_made() {
        return Ok(());
    }
    let mut seen: HashMap<&str, *const ()> = HashMap::new();
    for planned in plan.graph().nodes() {
        let header = planned.header();
        if header.custom_key.load(Ordering::Relaxed) {
            let node = *planned as *const dyn NodeDyn as *const ();
            if seen
                .insert(header.key(), node)
                .is_some_and(|other| other != node)
            {
                return Err(crate::Error::DuplicateKey {
                    key: header.key().to_string(),
                    reason: "two different nodes of this computation have it",
                });
            }
        }
    }
    if seen.is_empty() {
        return Ok(());
    }
    // A given key may also be one that another node has of its own (a pure node's
    // content key): the computation ran, and its graph's JSON could not be read back.
    for planned in plan.graph().nodes() {
        let header = planned.header();
        if header.custom_key.load(Ordering::Relaxed) {
            continue;
        }
        let node = *planned as *const dyn NodeDyn as *const ();
        if seen.get(header.key()).is_some_and(|&other| other != node) {
            return Err(crate::Error::DuplicateKey {
                key: header.key().to_string(),
                reason: "two different nodes of this computation have it",
            });
        }
    }
    Ok(())
}

/// A plain value as a pure data node (Dask's `delayed(value, pure=True)`): keyed by its
/// content, so equal values wrapped twice are one node.
///
/// ```
/// let a = dask::delayed_pure(vec![1.5, 2.5]);
/// let b = dask::delayed_pure(vec![1.5, 2.5]);
/// assert_eq!(a.key(), b.key());
/// assert_ne!(a.key(), dask::delayed_pure(vec![1.5]).key());
/// ```
pub fn delayed_pure<T: KeyHash + Send + Sync + 'static>(value: T) -> Delayed<T> {
    // The type too: `0u64`, `0.0f64` and an empty `Vec` feed the same bytes.
    let id = derived_id("value", |h| {
        feed_type::<T>(h);
        value.key_hash(h);
    });
    let header = NodeHeader::new("value", "value", Some(id));
    Delayed::from_node(NodeRef::new(ValueNode::new(header, value)))
}

macro_rules! unzip_tuples {
    ($( ($($name:ident : $idx:tt),+) )*) => {$(
        impl<$($name: Clone + Send + Sync + 'static),+> Delayed<($($name,)+)> {
            /// One delayed value per element (Dask's `nout`): pure `getitem` nodes keyed
            /// by this node's key and the position, so the keys are deterministic.
            pub fn unzip(&self) -> ($(Delayed<$name>,)+) {
                ($( self.element::<$name>($idx, |t| t.$idx.clone()), )+)
            }
        }
    )*};
}

unzip_tuples! {
    (A: 0, B: 1)
    (A: 0, B: 1, C: 2)
    (A: 0, B: 1, C: 2, D: 3)
    (A: 0, B: 1, C: 2, D: 3, E: 4)
    (A: 0, B: 1, C: 2, D: 3, E: 4, F: 5)
}

impl<T: Send + Sync + 'static> Delayed<T> {
    /// Element `position` of this (tuple) value, as `pick` reads it.
    fn element<E: Send + Sync + 'static>(&self, position: usize, pick: fn(&T) -> E) -> Delayed<E> {
        let id = derived_id("getitem", |h| {
            self.node().header().hash_identity(h);
            position.key_hash(h);
        });
        let header = NodeHeader::new("getitem", "getitem", Some(id));
        task_node(
            header,
            (Arg::Node(self.clone()),),
            move |args: &(Arg<T>,), inputs: &Inputs<'_>| {
                Ok::<_, TaskFailure>(pick(&*args.0.borrowed(inputs)?))
            },
            no_codec,
        )
    }
}

/// The identity of a gathering node of type `Out` over `nodes` (and plain keys, fed by
/// `keys`). The type tells apart gathers that read the same nodes into different
/// containers (a `HashMap` and a `BTreeMap`), and empty ones.
fn gather_id<'n, Out>(
    op: &str,
    nodes: impl Iterator<Item = &'n dyn NodeDyn>,
    keys: impl FnOnce(&mut crate::key::StableHasher),
) -> u128 {
    derived_id(op, |h| {
        feed_type::<Out>(h);
        for node in nodes {
            node.header().hash_identity(h);
        }
        h.write_u8(0xff);
        keys(h);
    })
}

/// `iter.collect::<Delayed<Vec<T>>>()`: one pure node whose value is every element's,
/// in order (Dask traverses lists of delayed values the same way).
///
/// ```
/// use dask::Delayed;
/// let parts: Delayed<Vec<i32>> = (1..=3).map(|i| dask::delayed(i * 10)).collect();
/// assert_eq!(parts.compute().unwrap(), vec![10, 20, 30]);
/// ```
impl<T: Clone + Send + Sync + 'static> FromIterator<Delayed<T>> for Delayed<Vec<T>> {
    fn from_iter<I: IntoIterator<Item = Delayed<T>>>(iter: I) -> Self {
        let items: Vec<Delayed<T>> = iter.into_iter().collect();
        let id = gather_id::<Vec<T>>("list", items.iter().map(|d| d.node()), |_| {});
        let header = NodeHeader::new("list", "list", Some(id));
        task_node(
            header,
            (IntoArg::<Vec<T>>::into_arg(items),),
            |args: &(Arg<Vec<T>>,), inputs: &Inputs<'_>| args.0.owned(inputs),
            no_codec,
        )
    }
}

macro_rules! gather_maps {
    ($($Map:ident [$($bound:tt)*] $name:literal),*) => {$(
        /// Collects `(key, Delayed<value>)` pairs into one pure node holding the map
        /// (Dask traverses dicts of delayed values the same way).
        impl<K, V> FromIterator<(K, Delayed<V>)> for Delayed<$Map<K, V>>
        where
            K: $($bound)* + KeyHash + Clone + Send + Sync + 'static,
            V: Clone + Send + Sync + 'static,
        {
            fn from_iter<I: IntoIterator<Item = (K, Delayed<V>)>>(iter: I) -> Self {
                let (keys, values): (Vec<K>, Vec<Delayed<V>>) = iter.into_iter().unzip();
                let id = gather_id::<$Map<K, V>>($name, values.iter().map(|d| d.node()), |h| keys.key_hash(h));
                let header = NodeHeader::new($name, $name, Some(id));
                task_node(
                    header,
                    (Arg::Value(keys), IntoArg::<Vec<V>>::into_arg(values)),
                    |args: &(Arg<Vec<K>>, Arg<Vec<V>>), inputs: &Inputs<'_>| {
                        let keys = args.0.owned(inputs)?;
                        let values = args.1.owned(inputs)?;
                        Ok::<_, TaskFailure>(keys.into_iter().zip(values).collect())
                    },
                    no_codec,
                )
            }
        }
    )*};
}

gather_maps!(HashMap [Eq + Hash] "dict", BTreeMap [Ord] "dict");

/// What [`collect`] accepts: a tuple whose items are plain values or delayed values.
pub trait CollectTuple<Out> {
    #[doc(hidden)]
    fn collect_tuple(self) -> Delayed<Out>;
}

macro_rules! collect_tuples {
    ($( ($($x:ident $a:ident : $idx:tt),+) )*) => {$(
        impl<$($x, $a),+> CollectTuple<($($a,)+)> for ($($x,)+)
        where
            $( $x: IntoArg<$a>, $a: KeyHash + Clone + Send + Sync + 'static, )+
        {
            fn collect_tuple(self) -> Delayed<($($a,)+)> {
                let args = ($( self.$idx.into_arg(), )+);
                // Each item closed by `0xff`, so that no item's bytes can run into the
                // next one's.
                let id = derived_id("tuple", |h| {
                    feed_type::<($($a,)+)>(h);
                    $( args.$idx.key_hash(h); h.write_u8(0xff); )+
                });
                let header = NodeHeader::new("tuple", "tuple", Some(id));
                task_node(
                    header,
                    args,
                    |args: &($(Arg<$a>,)+), inputs: &Inputs<'_>| {
                        Ok::<_, TaskFailure>(($( args.$idx.owned(inputs)?, )+))
                    },
                    no_codec,
                )
            }
        }
    )*};
}

collect_tuples! {
    (X0 A0: 0)
    (X0 A0: 0, X1 A1: 1)
    (X0 A0: 0, X1 A1: 1, X2 A2: 2)
    (X0 A0: 0, X1 A1: 1, X2 A2: 2, X3 A3: 3)
    (X0 A0: 0, X1 A1: 1, X2 A2: 2, X3 A3: 3, X4 A4: 4)
    (X0 A0: 0, X1 A1: 1, X2 A2: 2, X3 A3: 3, X4 A4: 4, X5 A5: 5)
}

/// One pure node holding a tuple of plain and delayed values (Dask's
/// `delayed((a, b, 3))`). The element types come from the annotation.
///
/// ```
/// use dask::Delayed;
/// let a = dask::delayed(1.5);
/// let t: Delayed<(f64, i32, String)> = dask::collect((&a, 7, "x".to_string()));
/// assert_eq!(t.compute().unwrap(), (1.5, 7, "x".to_string()));
/// ```
pub fn collect<Out, Items: CollectTuple<Out>>(items: Items) -> Delayed<Out> {
    items.collect_tuple()
}
