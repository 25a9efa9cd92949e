//! Tasks that read a variable number of nodes by reference: what collections (such as
//! `dask::array`) need to combine chunks without cloning them.

use std::hash::{Hash, Hasher};

use crate::args::{ArgDeps, Inputs};
use crate::codec::Codec;
use crate::delayed::{sized_task_node, Delayed};
use crate::drop_queue::DropQueue;
use crate::error::{BoxError, TaskFailure};
use crate::node::{no_codec, NodeHeader};
use crate::node_ref::NodeRef;
use crate::operators::{feed_type, feed_type_of};
use crate::result_size::{NoSize, Sizer};

/// A pure task reading every node of `inputs` by reference, in order.
///
/// It is keyed by `name`, `tag` and the inputs' keys: two calls with equal tags over the
/// same inputs are one node of the graph (Dask's tokenized keys), so `tag` must describe
/// everything `f` does that the inputs do not (an operation and its parameters). `name`
/// is the node's display name and the path drawings group it by.
///
/// ```
/// let parts: Vec<dask::Delayed<Vec<f64>>> =
///     (0..3).map(|i| dask::delayed(vec![i as f64; 4])).collect();
/// let total = dask::map_many_pure("total", (), &parts, |chunks: &[&Vec<f64>]| {
///     chunks.iter().map(|c| c.iter().sum::<f64>()).sum::<f64>()
/// });
/// let again = dask::map_many_pure("total", (), &parts, |_: &[&Vec<f64>]| 0.0);
/// assert_eq!(total.key(), again.key());
/// assert_eq!(total.compute().unwrap(), 12.0);
/// ```
pub fn map_many_pure<T, U, F>(
    name: &'static str,
    tag: impl Hash,
    inputs: &[Delayed<T>],
    f: F,
) -> Delayed<U>
where
    T: Send + Sync + 'static,
    U: Send + Sync + 'static,
    F: Fn(&[&T]) -> U + Send + Sync + 'static,
{
    try_map_many_pure(name, tag, inputs, move |values: &[&T]| {
        Ok::<U, std::convert::Infallible>(f(values))
    })
}

/// [`map_many_pure`] for a fallible `f`: an `Err` fails the computation with a
/// [`Error::Task`](crate::Error::Task) naming this node.
pub fn try_map_many_pure<T, U, E, F>(
    name: &'static str,
    tag: impl Hash,
    inputs: &[Delayed<T>],
    f: F,
) -> Delayed<U>
where
    T: Send + Sync + 'static,
    U: Send + Sync + 'static,
    E: Into<BoxError>,
    F: Fn(&[&T]) -> Result<U, E> + Send + Sync + 'static,
{
    // A user's tag need not say the result's type, or be of one type across calls: the
    // two type names keep calls that differ only in those apart (`f` is not part of
    // the key). The collections' own tasks skip them: their tags name the operation,
    // and hashing two long type names cost about 350 ns a task.
    let id = pure_id_with(name, &tag, inputs, |hasher| {
        feed_type::<U>(hasher);
        feed_type_of(&tag, hasher);
    });
    many_task(name, Some(id), inputs, f, no_codec, NoSize)
}

/// [`map_many_pure`] with a codec for the result (`codec` is how a collection's task
/// results cross processes on the cluster backend) and a sizer (how the dashboard
/// learns the bytes a result holds). Shared by the collections.
pub(crate) fn pure_task<T, U, F>(
    name: &'static str,
    tag: impl Hash,
    inputs: &[Delayed<T>],
    f: F,
    codec: fn() -> Option<&'static Codec>,
    size: impl Sizer<U>,
) -> Delayed<U>
where
    T: Send + Sync + 'static,
    U: Send + Sync + 'static,
    F: Fn(&[&T]) -> U + Send + Sync + 'static,
{
    let f = move |values: &[&T]| Ok::<U, std::convert::Infallible>(f(values));
    try_pure_task(name, tag, inputs, f, codec, size)
}

/// [`try_map_many_pure`] with a codec for the result (see [`pure_task`]).
pub(crate) fn try_pure_task<T, U, E, F>(
    name: &'static str,
    tag: impl Hash,
    inputs: &[Delayed<T>],
    f: F,
    codec: fn() -> Option<&'static Codec>,
    size: impl Sizer<U>,
) -> Delayed<U>
where
    T: Send + Sync + 'static,
    U: Send + Sync + 'static,
    E: Into<BoxError>,
    F: Fn(&[&T]) -> Result<U, E> + Send + Sync + 'static,
{
    many_task(
        name,
        Some(pure_id(name, &tag, inputs)),
        inputs,
        f,
        codec,
        size,
    )
}

/// The task behind [`try_map_many_pure`]: keyed by `id` when pure (by build order
/// otherwise), with `codec` telling how its result crosses processes (collections that
/// know their result types are serializable pass one).
pub(crate) fn many_task<T, U, E, F>(
    name: &'static str,
    id: Option<u128>,
    inputs: &[Delayed<T>],
    f: F,
    codec: fn() -> Option<&'static Codec>,
    size: impl Sizer<U>,
) -> Delayed<U>
where
    T: Send + Sync + 'static,
    U: Send + Sync + 'static,
    E: Into<BoxError>,
    F: Fn(&[&T]) -> Result<U, E> + Send + Sync + 'static,
{
    let header = NodeHeader::new(name, name, id);
    sized_task_node(
        header,
        (ManyNodes(inputs.to_vec()),),
        move |args: &(ManyNodes<T>,), inputs: &Inputs<'_>| {
            let values = args
                .0
                 .0
                .iter()
                .map(|_| inputs.next_borrowed::<T>())
                .collect::<Result<Vec<&T>, TaskFailure>>()?;
            f(&values).map_err(|e| TaskFailure::Failed(e.into()))
        },
        codec,
        size,
    )
}

/// The key hash of a collection's pure task (see [`pure_task`]), through the one
/// function every derived key goes through.
pub(crate) fn pure_id<T>(name: &str, tag: &impl Hash, inputs: &[Delayed<T>]) -> u128 {
    pure_id_with(name, tag, inputs, |_| {})
}

/// [`pure_id`], with `types` fed between the name and the tag (see
/// [`try_map_many_pure`]).
fn pure_id_with<T>(
    name: &str,
    tag: &impl Hash,
    inputs: &[Delayed<T>],
    types: impl FnOnce(&mut crate::key::StableHasher),
) -> u128 {
    crate::operators::derived_id("map_many_pure", |hasher| {
        hasher.write(name.as_bytes());
        hasher.write_u8(0xff);
        types(hasher);
        tag.hash(hasher);
        hasher.write_usize(inputs.len());
        for input in inputs {
            input.node().header().hash_identity(hasher);
        }
    })
}

/// Nodes read one after the other by a single parameter.
struct ManyNodes<T>(Vec<Delayed<T>>);

impl<T: Send + Sync + 'static> ArgDeps for ManyNodes<T> {
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
}
