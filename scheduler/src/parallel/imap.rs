//! `Parallel::imap`: results in input order while later items still run, with at most a
//! window of results waiting ahead of the consumer (joblib's `return_as="generator"`).
//!
//! A driver thread (one per `imap`, parked most of the time; the calls run on the pool)
//! runs rounds of worker loops. A worker claims items from the input iterator only while
//! they fit in the window `[consumed, consumed + window)`. When the window is full it
//! waits briefly for the consumer to free half of it; if the consumer is slower than
//! that, its round ends, and the driver starts the next one once the consumer has taken
//! results.
//! Result `i` goes to ring slot `i % window`, which is free by then because the window
//! kept `i` from being claimed before result `i - window` was taken.
//!
//! `imap_unordered` shares all of it but the hand-over: results go to a queue in the order
//! they finish, and the window counts results taken instead of the next index.
//!
//! With a timeout, no call starts after the deadline: the worker that finds it passed
//! puts a timeout error where the next result would go, and the map ends there.
//!
//! Wake-ups: the consumer checks its slot and waits while holding `state`; a worker that
//! fills the slot the consumer is due to take locks `state` before notifying, so the
//! notification cannot fall between the check and the wait. The same holds for the driver
//! waiting for room and the consumer taking results.
//!
//! Inside pool work (a task, a `Parallel::map` call) a consumer must not block its worker
//! while it waits for other workers: every worker of the pool may be such a consumer, and
//! then nobody would run the rounds. So:
//! - An `imap` started on a pool worker has no driver thread: its consumer runs the
//!   rounds itself, each time it needs a result and none is ready, as a nested
//!   computation on the pool it works for (as `Parallel::map` does there). While a round
//!   runs, the consumer's worker runs the round's loops or other jobs, and idle workers
//!   take loops too; when none is idle, the consumer's worker runs them all, so the round
//!   finishes whatever the other workers do. After a round every claimed item has its
//!   result, so the consumer never waits for anyone.
//! - An `imap` started elsewhere keeps its driver thread, but a consumer on a pool worker
//!   (the iterator moved into a task) whose result is not ready runs a worker loop of its
//!   own first, claiming and calling items until its result is there. It then waits only
//!   for a result whose call another thread is running already.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::pool_run::{on_pool_worker, run_workers};
use crate::batch::{BatchSize, Batcher};
use crate::error::{panic_message, BoxError, Error};

/// How long a worker that finds the window full waits for the consumer before ending its
/// round. It yields its core meanwhile (the consumer may need it) but keeps its pool
/// thread, so the wait is short: as long as the pool's own spin before parking.
const ROOM_WAIT: Duration = Duration::from_micros(50);

/// What the consumer and the driver wait on.
#[derive(Default)]
struct State {
    /// The driver has returned: every claimed item has its result in a slot.
    driver_done: bool,
    /// Why the driver stopped early, when it was not an item's failure.
    error: Option<Error>,
}

/// Where result `i` waits for the consumer: slot `i % window`.
type Slot<R> = Mutex<Option<Result<R, Error>>>;

struct Shared<R> {
    /// In input order (`imap`): result `i` waits in slot `i % window`. Empty for
    /// `imap_unordered`, whose results wait in `queue` instead.
    slots: Box<[Slot<R>]>,
    /// In finishing order (`imap_unordered`): (input index, result).
    queue: Mutex<std::collections::VecDeque<(usize, Result<R, Error>)>>,
    window: usize,
    /// No call starts after this instant ([`Parallel::timeout`](crate::Parallel::timeout)).
    deadline: Option<(Instant, Duration)>,
    /// Results taken by the consumer; the window starts here.
    consumed: AtomicUsize,
    /// Items claimed from the input so far.
    claimed: AtomicUsize,
    /// Number of items, once the input ran out (`usize::MAX` before).
    total: AtomicUsize,
    /// A call failed or the consumer went away: claim nothing more.
    stop: AtomicBool,
    state: Mutex<State>,
    wake: Condvar,
}

impl<R> Shared<R> {
    fn window(&self) -> usize {
        self.window
    }

    fn ordered(&self) -> bool {
        !self.slots.is_empty()
    }

    /// Hands over the result of item `index`. Returns whether the consumer may be
    /// waiting for exactly this one (so it must be woken).
    fn deliver(&self, index: usize, result: Result<R, Error>) -> bool {
        if self.ordered() {
            *self.slots[index % self.window()].lock() = Some(result);
            index == self.consumed.load(Ordering::Acquire)
        } else {
            let mut queue = self.queue.lock();
            queue.push_back((index, result));
            queue.len() == 1
        }
    }

    /// The timeout error for item `index`, if the deadline has passed.
    fn timed_out(&self, index: usize, running: bool) -> Option<Error> {
        let (at, after) = self.deadline?;
        (Instant::now() >= at).then_some(Error::Parallel(crate::ParallelError::ItemTimeout {
            index,
            after,
            running,
        }))
    }

    /// Whether the consumer frees half the window beyond `claimed` within [`ROOM_WAIT`]:
    /// a worker that finds the window full waits that long before ending its round,
    /// because a consumer that keeps up frees slots within microseconds, while ending the
    /// round and starting the next costs tens of them.
    fn room_appears(&self, claimed: usize) -> bool {
        let deadline = Instant::now() + ROOM_WAIT;
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return false;
            }
            // Half the window, not one slot: claims then stay large.
            let half = self.window().div_ceil(2);
            if self.consumed.load(Ordering::Acquire) + self.window() >= claimed + half {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::yield_now();
        }
    }

    fn notify(&self) {
        let _state = self.state.lock();
        self.wake.notify_all();
    }

    /// Whether the result the consumer takes next is there.
    fn next_ready(&self) -> bool {
        if self.ordered() {
            let index = self.consumed.load(Ordering::Acquire);
            self.slots[index % self.window()].lock().is_some()
        } else {
            !self.queue.lock().is_empty()
        }
    }
}

/// Who runs a worker loop, which decides when it ends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A loop of a round the driver thread started. It takes turns with computations
    /// waiting for the pool, and when the window is full it waits briefly for the
    /// consumer to make room.
    Driven,
    /// A loop of a round the consumer runs itself. It takes turns too, but never waits
    /// for room: the consumer, the only one who makes room, is waiting for the round.
    ConsumerRound,
    /// The consumer's own loop on a pool worker, while its next result is not ready and
    /// a driver thread runs the rounds: it ends as soon as that result is there.
    Helper,
}

struct Source<It> {
    items: It,
    next_index: usize,
    exhausted: bool,
}

/// Moves up to `want` items from `items` into `claim`, guarding each pull: the input is
/// user code, and a panic inside `next` must not unwind through the claim with the
/// source half-updated. Returns the panic's message, if one happened.
fn pull<I>(items: &mut impl Iterator<Item = I>, want: usize, claim: &mut Vec<I>) -> Option<String> {
    claim.reserve(items.size_hint().0.min(want).min(1 << 20));
    for _ in 0..want {
        match catch_unwind(AssertUnwindSafe(|| items.next())) {
            Ok(Some(item)) => claim.push(item),
            Ok(None) => return None,
            Err(payload) => return Some(panic_message(payload)),
        }
    }
    None
}

/// What every worker of the rounds shares.
struct ImapJob<It, F, R> {
    source: Mutex<Source<It>>,
    call: F,
    shared: Arc<Shared<R>>,
    batch: BatchSize,
    workers: usize,
    n_jobs: i32,
}

impl<I, It, R, E, F> ImapJob<It, F, R>
where
    I: Send,
    It: Iterator<Item = I> + Send,
    R: Send,
    F: Fn(I) -> Result<R, E> + Sync,
    E: Into<BoxError>,
{
    /// One worker loop: claims items within the window, calls them and delivers the
    /// results, until the input runs out, the map stops, or `role` says to end.
    fn work(&self, role: Role) {
        let shared = &*self.shared;
        let mut batcher = Batcher::new(self.batch, self.workers);
        let others_waiting = super::pool_run::others_waiting();
        let mut claim = Vec::new();
        while !shared.stop.load(Ordering::Relaxed) {
            let start = {
                let mut source = self.source.lock();
                let end = shared.consumed.load(Ordering::Acquire) + shared.window();
                let room = end.saturating_sub(source.next_index);
                if source.exhausted {
                    return;
                }
                if room == 0 {
                    let claimed = source.next_index;
                    drop(source);
                    if role == Role::Driven && shared.room_appears(claimed) {
                        continue;
                    }
                    return;
                }
                let want = batcher.size_for(room).min(room);
                batcher.start();
                let input_panic = pull(&mut source.items, want, &mut claim);
                let start = source.next_index;
                source.next_index += claim.len();
                if let Some(message) = input_panic {
                    // The item at `next_index` never came. Its slot is inside the window
                    // (the claim stopped short of `room`), so the error takes its place:
                    // the consumer gets every earlier result, then this error. Nothing is
                    // claimed after it, so no result can land under a later index.
                    let index = source.next_index;
                    source.exhausted = true;
                    shared.deliver(
                        index,
                        Err(Error::Parallel(crate::ParallelError::ItemPanic {
                            index,
                            message: format!("the input iterator panicked: {message}"),
                        })),
                    );
                    shared.claimed.store(index + 1, Ordering::Release);
                    shared.stop.store(true, Ordering::Relaxed);
                    shared.notify();
                } else {
                    shared.claimed.store(source.next_index, Ordering::Release);
                    if claim.len() < want {
                        source.exhausted = true;
                        shared.total.store(source.next_index, Ordering::Release);
                        shared.notify();
                    }
                }
                start
            };
            let claimed = claim.len();
            let mut items = claim.drain(..).enumerate();
            for (offset, item) in items.by_ref() {
                let index = start + offset;
                let result = match shared.timed_out(index, false) {
                    // No call starts after the deadline.
                    Some(timeout) => {
                        crate::error::drop_guarded(item);
                        Err(timeout)
                    }
                    None => match catch_unwind(AssertUnwindSafe(|| (self.call)(item))) {
                        // A call that ends past the deadline was running at it.
                        Ok(Ok(value)) => match shared.timed_out(index, true) {
                            Some(timeout) => {
                                crate::error::drop_guarded(value);
                                Err(timeout)
                            }
                            None => Ok(value),
                        },
                        Ok(Err(error)) => Err(Error::Parallel(crate::ParallelError::Item {
                            index,
                            source: error.into(),
                        })),
                        Err(payload) => Err(Error::Parallel(crate::ParallelError::ItemPanic {
                            index,
                            message: panic_message(payload),
                        })),
                    },
                };
                let failed = result.is_err();
                let awaited = shared.deliver(index, result);
                if failed {
                    shared.stop.store(true, Ordering::Relaxed);
                }
                if failed || awaited {
                    shared.notify();
                }
                if failed {
                    // The rest of the claim is dropped uncalled, one by one (see
                    // `buffers::drop_elements` for why).
                    for (_, item) in items {
                        crate::error::drop_guarded(item);
                    }
                    return;
                }
            }
            batcher.finished(claimed);
            let done = match role {
                // Take turns with computations from other threads: the next round
                // queues behind them.
                Role::Driven | Role::ConsumerRound => others_waiting(),
                Role::Helper => shared.next_ready(),
            };
            if done {
                return;
            }
        }
    }

    /// One round of worker loops, returning once every loop has returned: every item
    /// claimed in it has its result then (or the failure that stopped the map). On a
    /// pool worker the loops nest on that pool, as `Parallel::map`'s do.
    fn round(&self, role: Role) -> Result<(), Error> {
        if self.workers == 1 {
            // On this thread: a panic here (only the input iterator can panic outside
            // a call's guard) must still end the map with an error, not a hang.
            self.guarded(role)
        } else {
            run_workers(&|| self.work(role), self.workers, self.n_jobs)
        }
    }

    /// A worker loop on the calling thread, a panic escaping it turned into an error.
    fn guarded(&self, role: Role) -> Result<(), Error> {
        catch_unwind(AssertUnwindSafe(|| self.work(role))).map_err(|payload| Error::Panic {
            key: "parallel-input".into(),
            name: "parallel".into(),
            attempts: 1,
            message: panic_message(payload),
        })
    }

    /// Whether no item will be claimed any more: the input ran out or the map stopped.
    fn over(&self) -> bool {
        self.shared.stop.load(Ordering::Relaxed) || self.source.lock().exhausted
    }

    /// Rounds of worker loops until the input is used up or the map stops.
    fn drive(&self) {
        let shared = &*self.shared;
        loop {
            {
                let mut state = shared.state.lock();
                while !shared.stop.load(Ordering::Relaxed)
                    && shared.claimed.load(Ordering::Acquire)
                        >= shared.consumed.load(Ordering::Acquire) + shared.window()
                {
                    shared.wake.wait(&mut state);
                }
            }
            if self.over() {
                break;
            }
            if let Err(error) = self.round(Role::Driven) {
                shared.stop.store(true, Ordering::Relaxed);
                shared.state.lock().error = Some(error);
                break;
            }
        }
        let mut state = shared.state.lock();
        state.driver_done = true;
        shared.wake.notify_all();
    }
}

/// An imap's rounds for its consumer, the input's and the function's types erased so
/// that the iterators name only the result's.
trait Rounds: Send + Sync {
    /// Runs one round of worker loops that never wait for room (see
    /// [`Role::ConsumerRound`]); then returns whether the map is over (see
    /// [`ImapJob::over`]).
    fn consumer_round(&self) -> Result<bool, Error>;
    /// Runs a [`Role::Helper`] loop on the calling thread.
    fn help(&self) -> Result<(), Error>;
}

impl<I, It, R, E, F> Rounds for ImapJob<It, F, R>
where
    I: Send,
    It: Iterator<Item = I> + Send,
    R: Send,
    F: Fn(I) -> Result<R, E> + Send + Sync,
    E: Into<BoxError>,
{
    fn consumer_round(&self) -> Result<bool, Error> {
        self.round(Role::ConsumerRound)?;
        Ok(self.over())
    }

    fn help(&self) -> Result<(), Error> {
        self.guarded(Role::Helper)
    }
}

/// How a map started: the shared state and who drives its rounds, or the error that kept
/// it from starting. Both iterators wrap one.
pub(super) struct Run<R> {
    shared: Option<Arc<Shared<R>>>,
    /// The rounds, for a consumer that runs them or helps; let go once the map is over.
    job: Option<Arc<dyn Rounds>>,
    /// Whether the consumer runs the rounds, whenever it needs a result and none is
    /// ready (the map was started on a pool worker), instead of a driver thread.
    consumer_drives: bool,
    /// Returned first, when the map could not start.
    early_error: Option<Error>,
    finished: bool,
}

/// What [`Imap::start`] needs besides the input and the function.
pub(crate) struct ImapOptions {
    pub(crate) batch: BatchSize,
    pub(crate) workers: usize,
    /// What the user asked for, to name it in errors.
    pub(crate) n_jobs: i32,
    pub(crate) window: usize,
    pub(crate) ordered: bool,
    pub(crate) timeout: Option<Duration>,
}

impl<R: Send + 'static> Run<R> {
    pub(super) fn start<I, It, E, F>(items: It, call: F, options: ImapOptions) -> Self
    where
        I: Send + 'static,
        It: Iterator<Item = I> + Send + 'static,
        E: Into<BoxError> + 'static,
        F: Fn(I) -> Result<R, E> + Send + Sync + 'static,
    {
        let window = options.window;
        let slots = if options.ordered { window } else { 0 };
        let shared = Arc::new(Shared {
            slots: (0..slots).map(|_| Mutex::new(None)).collect(),
            queue: Mutex::new(std::collections::VecDeque::new()),
            window,
            // A limit too far away for an `Instant` is no limit.
            deadline: options
                .timeout
                .and_then(|limit| Some((Instant::now().checked_add(limit)?, limit))),
            consumed: AtomicUsize::new(0),
            claimed: AtomicUsize::new(0),
            total: AtomicUsize::new(usize::MAX),
            stop: AtomicBool::new(false),
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        });
        let job = Arc::new(ImapJob {
            source: Mutex::new(Source {
                items,
                next_index: 0,
                exhausted: false,
            }),
            call,
            shared: Arc::clone(&shared),
            batch: options.batch,
            workers: options.workers,
            n_jobs: options.n_jobs,
        });
        let rounds: Arc<dyn Rounds> = Arc::clone(&job) as Arc<dyn Rounds>;
        // See the module's docs: on a pool worker, a driver thread's rounds could wait
        // forever for workers that all wait for their results.
        let consumer_drives = on_pool_worker();
        if !consumer_drives {
            // Detached: the driver ends by itself once the calls running at a drop have
            // finished (they own their items and the function, so they may outlive the
            // iterator), and dropping the iterator should not wait for slow calls whose
            // results nobody will read.
            let spawned = std::thread::Builder::new()
                .name("dask-imap".into())
                .spawn(move || job.drive());
            if let Err(error) = spawned {
                return Run::failed(Error::Internal(format!(
                    "could not start the imap driver thread: {error}"
                )));
            }
        }
        Run {
            shared: Some(shared),
            job: Some(rounds),
            consumer_drives,
            early_error: None,
            finished: false,
        }
    }
}

impl<R> Run<R> {
    pub(super) fn failed(error: Error) -> Self {
        Run {
            shared: None,
            job: None,
            consumer_drives: false,
            early_error: Some(error),
            finished: false,
        }
    }

    /// The next result by `take`, which looks for it while `state` is held; `None`
    /// once the map is over.
    fn next_with(
        &mut self,
        mut take: impl FnMut(&Shared<R>) -> Option<(usize, Result<R, Error>)>,
    ) -> Yielded<R> {
        if let Some(error) = self.early_error.take() {
            self.finished = true;
            return Some(Err(error));
        }
        if self.finished {
            return None;
        }
        let shared = self.shared.as_deref()?;
        let (next, finished) =
            wait_for_next(shared, self.job.as_deref(), self.consumer_drives, &mut take);
        if finished {
            self.finished = true;
            // The function and the rest of the input go now, not with the iterator.
            self.job = None;
        }
        next
    }
}

/// What the iterators yield next, with the result's input index: `None` once the map is
/// over.
type Yielded<R> = Option<Result<(usize, R), Error>>;

/// The next result by `take`, and whether the map is over after it. Runs the rounds
/// when `consumer_drives`, and helps on a pool worker otherwise (see the module's docs).
fn wait_for_next<R>(
    shared: &Shared<R>,
    job: Option<&dyn Rounds>,
    consumer_drives: bool,
    take: &mut impl FnMut(&Shared<R>) -> Option<(usize, Result<R, Error>)>,
) -> (Yielded<R>, bool) {
    // Whether the consumer ran a helper loop since it last waited.
    let mut helped = false;
    let mut state = shared.state.lock();
    loop {
        if let Some((index, result)) = take(shared) {
            drop(state);
            shared.consumed.fetch_add(1, Ordering::AcqRel);
            let failed = result.is_err();
            if failed {
                shared.stop.store(true, Ordering::Relaxed);
            }
            // The driver may be waiting for room.
            shared.notify();
            return (Some(result.map(|value| (index, value))), failed);
        }
        // An error that stopped the driver wins over the end of the input: the
        // results it kept from being produced must not look like a complete map.
        if state.driver_done && state.error.is_some() {
            return (state.error.take().map(Err), true);
        }
        let consumed = shared.consumed.load(Ordering::Acquire);
        if shared.total.load(Ordering::Acquire) == consumed || state.driver_done {
            return (None, true);
        }
        match job {
            Some(job) if consumer_drives => {
                let claimed = shared.claimed.load(Ordering::Acquire);
                // `state` is released meanwhile: the round's workers take it to notify.
                let round = MutexGuard::unlocked(&mut state, || job.consumer_round());
                match round {
                    Ok(true) => state.driver_done = true,
                    // A round that had room and input claims at least one item, so this
                    // cannot loop; should it happen all the same, an error ends the map
                    // instead of a loop that never returns.
                    Ok(false) if shared.claimed.load(Ordering::Acquire) == claimed => {
                        shared.stop.store(true, Ordering::Relaxed);
                        state.error = Some(Error::Internal(
                            "an imap round claimed no item while input and room were left".into(),
                        ));
                        state.driver_done = true;
                    }
                    Ok(false) => {}
                    Err(error) => {
                        shared.stop.store(true, Ordering::Relaxed);
                        state.error = Some(error);
                        state.driver_done = true;
                    }
                }
            }
            Some(job) if !helped && on_pool_worker() => {
                helped = true;
                if let Err(error) = MutexGuard::unlocked(&mut state, || job.help()) {
                    shared.stop.store(true, Ordering::Relaxed);
                    return (Some(Err(error)), true);
                }
            }
            _ => {
                helped = false;
                shared.wake.wait(&mut state);
            }
        }
    }
}

impl<R> Drop for Run<R> {
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            shared.stop.store(true, Ordering::Relaxed);
            shared.notify();
        }
    }
}

/// The iterator [`Parallel::imap`](crate::Parallel::imap) returns: each item is the
/// result of the call on the input item at the same position, or the error that ended
/// the map (after which the iterator is finished).
///
/// Dropping it early stops the map at once: calls already running finish in the
/// background, the rest never start.
pub struct Imap<R>(pub(super) Run<R>);

impl<R> Iterator for Imap<R> {
    type Item = Result<R, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0
            .next_with(|shared| {
                // In order: only the result at the next index will do.
                let index = shared.consumed.load(Ordering::Acquire);
                let taken = shared.slots[index % shared.window()].lock().take();
                taken.map(|result| (index, result))
            })
            .map(|result| result.map(|(_, value)| value))
    }
}

/// The iterator [`Parallel::imap_unordered`](crate::Parallel::imap_unordered) returns:
/// `(input index, result)` pairs in the order the calls finish, or the error that ended
/// the map (after which the iterator is finished).
///
/// Dropping it early stops the map at once: calls already running finish in the
/// background, the rest never start.
pub struct ImapUnordered<R>(pub(super) Run<R>);

impl<R> Iterator for ImapUnordered<R> {
    type Item = Result<(usize, R), Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next_with(|shared| shared.queue.lock().pop_front())
    }
}
