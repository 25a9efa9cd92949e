//! Why a node cannot be cached, in words that say what to change.
//!
//! Only a content-addressed node (pure, and everything upstream pure) has a key that
//! names the same value in every run; any other key is numbered in build order, so an
//! entry stored under it could be read back by an unrelated computation. The message
//! names the node that breaks the chain: the cached node itself or the nearest node
//! upstream that is not pure.

use crate::content_address::is_content_addressed;
use crate::error::Error;
use crate::node::{NodeBody, NodeDyn};

pub(crate) fn not_cacheable(node: &dyn NodeDyn) -> Error {
    let header = node.header();
    let reason = if header.pure {
        let culprit = first_impure_upstream(node);
        format!(
            "its result depends on `{}` ({}), which {}",
            culprit.header().name,
            culprit.header().key(),
            why_not_pure(culprit)
        )
    } else {
        format!("it {}", why_not_pure(node))
    };
    Error::Cache(crate::CacheError::NotCacheable {
        key: header.key().to_string(),
        name: header.name.to_string(),
        reason,
    })
}

/// Follows dependencies that are not content-addressed up to a node that is not pure.
fn first_impure_upstream(node: &dyn NodeDyn) -> &dyn NodeDyn {
    let mut current = node;
    loop {
        let mut next = None;
        current.for_each_dep(&mut |dep, _| {
            if next.is_none() && !is_content_addressed(dep.node()) {
                next = Some(dep.node());
            }
        });
        match next {
            Some(dep) if !dep.header().pure => return dep,
            Some(dep) => current = dep,
            // A pure node that is not content-addressed always has such an input; a
            // persisted one stands for its original, which did.
            None => return current,
        }
    }
}

fn why_not_pure(node: &dyn NodeDyn) -> &'static str {
    let header = node.header();
    let is_data = matches!(node.body(), NodeBody::Value(_));
    if is_data && header.path == "value" {
        "is a `dask::delayed(value)` data node: its key is numbered in build order, \
         not derived from the value; pass the value as a plain argument of a \
         `#[delayed(pure)]` function instead"
    } else if header.name == "map" && !header.pure {
        "is a `map` closure: a closure has no stable identity; move it into a \
         `#[delayed(pure)]` function"
    } else if header.pure {
        "is a persisted result of a computation that was not pure all the way up; \
         make every function upstream `#[delayed(pure)]`"
    } else {
        "is not pure: its key is numbered in build order, not derived from its \
         inputs; declare its function `#[delayed(pure)]` (and every function upstream)"
    }
}
