//! How deep computations nest on one thread, and what that costs its stack.
//!
//! A task may call `compute` (or `Parallel::map`) itself. On a pool worker the inner
//! computation does not block the worker: the worker keeps running jobs while it waits,
//! and those jobs may be more outer tasks that nest in turn. Each level sits on the same
//! thread's stack, so without a bound 2,000 sibling tasks that each nest a small graph
//! overflowed the stack and aborted the process.
//!
//! Two rules bound it:
//! - **Helping stops at [`HELP_DEPTH`].** A worker already that deep in nested waits runs
//!   the inner graph itself, in order, without taking other jobs (see `exec::Pool`). Its
//!   stack then grows only with the user's own nesting, never with the number of
//!   siblings, and no wait can deadlock since nothing is waited for.
//! - **Too little stack is an error.** Each computation that starts checks the stack its
//!   thread has left; below [`MIN_STACK_LEFT`] it fails with
//!   [`Error::NestingTooDeep`](crate::Error::NestingTooDeep) instead of overflowing.
//!   Pool workers get [`WORKER_STACK`] bytes of stack so that deep recursion through
//!   nested computations reaches thousands of levels first.

use std::cell::Cell;

use crate::error::Error;

/// Nested waits on one worker beyond which it stops running other jobs while waiting.
/// Deep enough that nested graphs keep their parallelism when there is little other
/// work; shallow enough that the stack it can take is small.
#[cfg(not(loom))]
pub(crate) const HELP_DEPTH: usize = 8;

/// Stack below which a new computation is refused: room for planning, the scheduler's
/// own frames and a task's frames up to the next nested call.
pub(crate) const MIN_STACK_LEFT: usize = 256 << 10;

/// Stack size of pool worker threads. Only the pages a thread touches are backed by
/// memory, so the reservation costs address space, not RAM.
#[cfg(not(loom))]
pub(crate) const WORKER_STACK: usize = 64 << 20;

thread_local! {
    /// Computations running on this thread: started here and not yet returned.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// One computation in progress on this thread; leaving drops the depth again.
pub(crate) struct Nested {
    depth: usize,
}

impl Nested {
    /// Enters one more level of computation on this thread, or refuses when the stack
    /// left is too small for it.
    pub(crate) fn enter() -> Result<Nested, Error> {
        let depth = DEPTH.with(Cell::get) + 1;
        if let Some(left) = stack_left() {
            if left < MIN_STACK_LEFT {
                return Err(Error::NestingTooDeep {
                    depth,
                    stack_left: left,
                });
            }
        }
        DEPTH.with(|d| d.set(depth));
        Ok(Nested { depth })
    }
}

impl Drop for Nested {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(self.depth - 1));
    }
}

/// How many computations run on the calling thread now.
pub(crate) fn depth() -> usize {
    DEPTH.with(Cell::get)
}

/// Bytes of stack left to the calling thread, where the platform tells.
fn stack_left() -> Option<usize> {
    #[cfg(not(miri))]
    return stacker::remaining_stack();
    // Miri cannot run the foreign calls that find the stack's bounds.
    #[cfg(miri)]
    None
}

#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_levels_and_returns_on_leaving() {
        let outer = Nested::enter().unwrap();
        assert_eq!(depth(), 1);
        {
            let _inner = Nested::enter().unwrap();
            assert_eq!(depth(), 2);
        }
        assert_eq!(depth(), 1);
        drop(outer);
        assert_eq!(depth(), 0);
    }

    #[test]
    fn a_thread_short_of_stack_is_refused_with_an_error() {
        // A thread whose whole stack is below the minimum: the first level is refused.
        let refused = std::thread::Builder::new()
            .stack_size(MIN_STACK_LEFT / 2)
            .spawn(|| Nested::enter().map(|_| depth()))
            .unwrap()
            .join()
            .unwrap();
        match refused {
            Err(Error::NestingTooDeep { depth, stack_left }) => {
                assert_eq!(depth, 1);
                assert!(stack_left < MIN_STACK_LEFT);
            }
            other => panic!("expected NestingTooDeep, got {other:?}"),
        }
    }
}
