//! The work-stealing executor: persistent pools of workers with LIFO deques (locality,
//! depth-first order) that steal from each other's other end, a global injector for
//! computations started outside the pool, and parking for idle workers.

pub(crate) mod chunks;
#[cfg(any(not(loom), test))]
pub(crate) mod job;
// Loom builds model the protocols (job, sleep); they run no real pool.
#[cfg(not(loom))]
mod pool;
#[cfg(any(not(loom), test))]
pub(crate) mod sleep;
#[cfg(not(loom))]
mod worker;

#[cfg(all(not(loom), feature = "cluster"))]
pub(crate) use pool::Feed;
#[cfg(not(loom))]
pub(crate) use pool::{check_threads, default_threads, Pool, MAX_THREADS};
