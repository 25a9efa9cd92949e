//! A join over tens of thousands of inputs is gathered in chunks by several workers
//! (`scheduler/src/shared_gather.rs`): the values arrive in order, each exactly once,
//! moved or cloned as on one thread, and a panicking `Clone` fails the task with its
//! message, dropping every value gathered so far exactly once, on every scheduler.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::Mutex;

use dask::{compute_with, delayed, Config, Delayed, Error, Scheduler};

/// Bigger than the size above which gathers are shared (four chunks of 1,024), and not a
/// multiple of the chunk, so the last chunk is short.
const WIDE: usize = 4 * 1024 * 3 + 123;

const SCHEDULERS: [Scheduler; 4] = [
    Scheduler::Sync,
    Scheduler::Threads(1),
    Scheduler::Threads(2),
    Scheduler::Threads(4),
];

/// Serializes the tests that count live `Tracked` values.
static COUNTING: Mutex<()> = Mutex::new(());

/// Values alive right now, and clones made in all.
static LIVE: AtomicI64 = AtomicI64::new(0);
static CLONES: AtomicUsize = AtomicUsize::new(0);

/// A value that counts its copies and panics when cloning `poison`.
#[derive(Debug, PartialEq)]
struct Tracked {
    id: u64,
    poison: u64,
}

impl Tracked {
    fn new(id: u64, poison: u64) -> Self {
        LIVE.fetch_add(1, Ordering::SeqCst);
        Tracked { id, poison }
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        assert!(self.id != self.poison, "cloning {} is refused", self.id);
        CLONES.fetch_add(1, Ordering::SeqCst);
        Tracked::new(self.id, self.poison)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

#[delayed]
fn make(id: u64, poison: u64) -> Tracked {
    Tracked::new(id, poison)
}

#[delayed]
fn ids(parts: &Vec<Tracked>) -> Vec<u64> {
    parts.iter().map(|t| t.id).collect()
}

#[delayed(retries = 1)]
fn ids_retried(parts: &Vec<Tracked>) -> Vec<u64> {
    parts.iter().map(|t| t.id).collect()
}

#[delayed]
fn first_id(part: &Tracked) -> u64 {
    part.id
}

fn config(scheduler: Scheduler) -> Config {
    Config::default().scheduler(scheduler)
}

fn sources(poison: u64) -> Vec<Delayed<Tracked>> {
    (0..WIDE as u64).map(|id| make(id, poison)).collect()
}

#[test]
fn a_wide_gather_moves_every_input_in_order_on_every_scheduler() {
    let _serial = COUNTING.lock().unwrap_or_else(|e| e.into_inner());
    for scheduler in SCHEDULERS {
        CLONES.store(0, Ordering::SeqCst);
        let join = ids(sources(u64::MAX));
        let got = compute_with(&[join], &config(scheduler)).unwrap();
        assert_eq!(
            got[0],
            (0..WIDE as u64).collect::<Vec<u64>>(),
            "{scheduler:?}"
        );
        // Each input has the join as its only reader: moved out, never cloned.
        assert_eq!(CLONES.load(Ordering::SeqCst), 0, "{scheduler:?}");
        assert_eq!(
            LIVE.load(Ordering::SeqCst),
            0,
            "{scheduler:?}: values left alive"
        );
    }
}

#[test]
fn inputs_with_other_readers_or_a_retried_reader_are_cloned_in_order() {
    let _serial = COUNTING.lock().unwrap_or_else(|e| e.into_inner());
    for scheduler in SCHEDULERS {
        CLONES.store(0, Ordering::SeqCst);
        let parts = sources(u64::MAX);
        // Every 7th input is also read by a task of its own: those may be cloned.
        let others: Vec<Delayed<u64>> = parts.iter().step_by(7).map(first_id).collect();
        let join = ids(parts.clone());
        let retried = ids_retried(parts);
        let mut outputs: Vec<Delayed<Vec<u64>>> = vec![join, retried];
        outputs.extend(others.into_iter().map(|o| o.map(|v| vec![*v])));
        let got = compute_with(&outputs, &config(scheduler)).unwrap();
        let all: Vec<u64> = (0..WIDE as u64).collect();
        assert_eq!(got[0], all, "{scheduler:?}");
        assert_eq!(got[1], all, "{scheduler:?}");
        let singles: Vec<u64> = got[2..].iter().map(|v| v[0]).collect();
        assert_eq!(
            singles,
            all.iter().copied().step_by(7).collect::<Vec<u64>>()
        );
        // The retried join keeps its inputs (clones all of them); the other join takes
        // what the retried one leaves, and clones what a single reader still needs.
        let clones = CLONES.load(Ordering::SeqCst);
        assert!(
            (WIDE..=2 * WIDE).contains(&clones),
            "{scheduler:?}: {clones} clones"
        );
        assert_eq!(
            LIVE.load(Ordering::SeqCst),
            0,
            "{scheduler:?}: values left alive"
        );
    }
}

#[test]
fn a_panicking_clone_in_a_wide_gather_fails_the_task_and_drops_every_value_once() {
    let _serial = COUNTING.lock().unwrap_or_else(|e| e.into_inner());
    // A retried reader clones every input; the clone of input `poison` panics, in the
    // middle of a chunk that is neither the first nor the last.
    let poison = (WIDE / 2) as u64 + 5;
    for scheduler in SCHEDULERS {
        let join = ids_retried(sources(poison));
        let err = compute_with(&[join], &config(scheduler)).unwrap_err();
        match &err {
            Error::Panic { name, message, .. } => {
                assert_eq!(name, "ids_retried", "{scheduler:?}");
                assert!(
                    message.contains(&format!("cloning {poison} is refused")),
                    "{scheduler:?}: {message}"
                );
            }
            other => panic!("{scheduler:?}: expected a task panic, got {other:?}"),
        }
        assert_eq!(
            LIVE.load(Ordering::SeqCst),
            0,
            "{scheduler:?}: values left alive"
        );
        // The pool still runs graphs afterwards.
        let again = ids(sources(u64::MAX));
        let got = compute_with(&[again], &config(scheduler)).unwrap();
        assert_eq!(got[0].len(), WIDE);
        assert_eq!(LIVE.load(Ordering::SeqCst), 0);
    }
}

#[test]
fn wide_gathers_inside_tasks_share_the_pool_of_the_outer_computation() {
    // Three tasks each compute a wide join of their own (nested on the pool's workers,
    // which then also take chunks of each other's gathers).
    let inner = |offset: u64| {
        let parts: Vec<Delayed<u64>> = (0..WIDE as u64)
            .map(|i| dask::delayed(i).map(move |v| v + offset))
            .collect();
        dask::delayed(()).map(move |_| {
            let sum = sum_all(parts.clone());
            dask::compute_with(&[sum], &config(Scheduler::Threads(2))).unwrap()[0]
        })
    };
    let outer: Vec<Delayed<u64>> = (0..3).map(inner).collect();
    let got = compute_with(&outer, &config(Scheduler::Threads(2))).unwrap();
    let n = WIDE as u64;
    let expected: Vec<u64> = (0..3).map(|o| n * (n - 1) / 2 + o * n).collect();
    assert_eq!(got, expected);
}

#[delayed]
fn sum_all(parts: &Vec<u64>) -> u64 {
    parts.iter().sum()
}
