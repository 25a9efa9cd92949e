//! Nodes standing for an operation found invalid while the graph was built (an array
//! reshape the chunks cannot express, mismatched shapes): builders stay chainable, and
//! `compute` reports the error before any task runs.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::Error;
use crate::plan::Plan;

/// How many invalid nodes exist: while none does, `compute` skips looking for them.
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The error of the first invalid node in the plan, if any.
pub(crate) fn check(plan: &Plan<'_>) -> Result<(), Error> {
    if LIVE.load(Ordering::Relaxed) == 0 {
        return Ok(());
    }
    match plan
        .graph()
        .nodes()
        .iter()
        .find_map(|pn| pn.deferred_error())
    {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

// Only collections build invalid nodes; name another feature here when one does.
#[cfg(any(feature = "array", feature = "dataframe"))]
pub(crate) use invalid_node::invalid;

#[cfg(any(feature = "array", feature = "dataframe"))]
mod invalid_node {
    use std::sync::atomic::Ordering;
    use std::sync::Arc;

    use super::LIVE;
    use crate::args::Inputs;
    use crate::delayed::Delayed;
    use crate::error::{Error, TaskFailure};
    use crate::node::{NodeBody, NodeDyn, NodeHeader};
    use crate::node_ref::NodeRef;

    type MakeError = Arc<dyn Fn() -> Error + Send + Sync>;

    struct InvalidNode {
        header: NodeHeader,
        error: MakeError,
        /// `std::any::type_name` of the result type (not a type parameter: callers'
        /// types need not be `'static`).
        type_name: fn() -> &'static str,
    }

    impl Drop for InvalidNode {
        fn drop(&mut self) {
            LIVE.fetch_sub(1, Ordering::Relaxed);
        }
    }

    impl NodeDyn for InvalidNode {
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
            (self.type_name)()
        }

        fn for_each_dep<'s>(&'s self, _f: &mut dyn FnMut(&'s NodeRef, u32)) {}

        fn run(&self, _inputs: &Inputs<'_>) -> Result<crate::task_value::TaskValue, TaskFailure> {
            // Reached only where `check` is not consulted first; fail as a task then.
            Err(TaskFailure::Failed(Box::new((self.error)())))
        }

        fn deferred_error(&self) -> Option<Error> {
            Some((self.error)())
        }
    }

    /// A node that makes every computation reading it fail with `error()` before it
    /// runs.
    pub(crate) fn invalid<T>(name: &'static str, error: MakeError) -> Delayed<T> {
        LIVE.fetch_add(1, Ordering::Relaxed);
        let header = NodeHeader::new(name, "dask::invalid", None);
        Delayed::from_node(NodeRef::new(InvalidNode {
            header,
            error,
            type_name: std::any::type_name::<T>,
        }))
    }
}
