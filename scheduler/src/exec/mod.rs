//! The work-stealing executor: persistent pools of workers with LIFO deques (locality,
//! depth-first order) that steal from each other's other end, a global injector for
//! computations started outside the pool, and parking for idle workers.

mod job;
mod pool;
mod sleep;
mod worker;

pub(crate) use pool::{default_threads, Pool};
