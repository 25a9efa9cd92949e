//! Computations inside tasks: many nesting siblings and deep recursion end with results
//! or a clear error, never a stack overflow (which would abort this whole test binary).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use dask::{delayed, Config, Delayed, Error, Parallel, Scheduler};

#[path = "support/within.rs"]
mod within;
use within::within;

#[delayed]
fn inc(x: u64) -> u64 {
    x + 1
}

/// Each outer task computes a small graph of its own. A worker waiting for its inner
/// graph used to run sibling outer tasks on top of its stack, so 2,000 siblings
/// overflowed it.
#[test]
fn tens_of_thousands_of_siblings_each_computing_a_graph_finish() {
    for threads in [1, 2, 3] {
        let outer: Vec<Delayed<u64>> = (0..20_000u64)
            .map(|i| {
                dask::delayed(i).map(|&i| {
                    let inner = dask::compute(&[inc(i), inc(i + 1)]).unwrap();
                    inner[0] + inner[1]
                })
            })
            .collect();
        let config = Config::default().scheduler(Scheduler::Threads(threads));
        let values = dask::compute_with(&outer, &config).unwrap();
        assert_eq!(values.len(), 20_000);
        for (i, v) in values.into_iter().enumerate() {
            assert_eq!(v, 2 * i as u64 + 3, "outer task {i} on {threads} threads");
        }
    }
}

#[test]
fn thousands_of_siblings_each_running_a_parallel_map_finish() {
    let outer: Vec<Delayed<u64>> = (0..10_000u64)
        .map(|i| {
            dask::delayed(i).map(|&i| {
                Parallel::new(2)
                    .map(0..4u64, |x| x + i)
                    .unwrap()
                    .into_iter()
                    .sum()
            })
        })
        .collect();
    let values = dask::compute(&outer).unwrap();
    for (i, v) in values.into_iter().enumerate() {
        assert_eq!(v, 4 * i as u64 + 6);
    }
}

/// Set when some level was refused for lack of stack.
static REFUSED: AtomicBool = AtomicBool::new(false);
/// The deepest level that ran.
static DEEPEST: AtomicUsize = AtomicUsize::new(0);

/// Computes `levels` more levels, each inside the task of the one above; returns how
/// many ran. A refused level stops the descent and is recorded.
fn descend(level: usize, levels: usize) -> usize {
    DEEPEST.fetch_max(level, Ordering::Relaxed);
    if levels == 0 {
        return 0;
    }
    let below = dask::delayed(level).map(move |&l| descend(l + 1, levels - 1));
    match below.compute() {
        Ok(ran) => ran + 1,
        Err(Error::NestingTooDeep { depth, stack_left }) => {
            assert!(depth >= 1 && stack_left < 1 << 20, "{depth} {stack_left}");
            REFUSED.store(true, Ordering::Relaxed);
            0
        }
        Err(other) => panic!("level {level}: unexpected error {other}"),
    }
}

/// One test, so the two descents do not share the statics.
#[test]
fn deep_recursion_runs_a_thousand_levels_and_then_fails_with_an_error() {
    assert_eq!(descend(0, 1_000), 1_000);
    assert!(!REFUSED.load(Ordering::Relaxed), "1,000 levels fit");

    // Far deeper than any stack: the descent stops with NestingTooDeep, not an abort.
    let ran = descend(0, 10_000_000);
    assert!(
        REFUSED.load(Ordering::Relaxed),
        "the descent was refused somewhere"
    );
    assert!((1_000..10_000_000).contains(&ran), "ran {ran} levels");
    eprintln!(
        "nesting: {ran} levels ran before the stack limit (deepest {})",
        DEEPEST.load(Ordering::Relaxed)
    );
}

/// The sequential scheduler nests on the calling thread's own stack, whatever its size.
#[test]
fn a_small_thread_stack_gives_an_error_instead_of_an_overflow() {
    let ran = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(|| {
            fn down(levels: usize) -> Result<usize, String> {
                if levels == 0 {
                    return Ok(0);
                }
                let below = dask::delayed(levels).map(|&l| down(l - 1));
                let config = Config::default().scheduler(Scheduler::Sync);
                match below.compute_with(&config) {
                    Ok(inner) => inner.map(|n| n + 1),
                    Err(e @ Error::NestingTooDeep { .. }) => Err(e.to_string()),
                    Err(other) => panic!("unexpected error {other}"),
                }
            }
            down(100_000)
        })
        .unwrap()
        .join()
        .expect("no overflow");
    let message = ran.expect_err("100,000 levels cannot fit in 1 MiB");
    assert!(
        message.starts_with("computations nested too deep: this one would be level "),
        "{message}"
    );
}

/// Computes `x + levels` as `levels` computations nested inside each other's tasks,
/// alternating between a pool of one thread and one of three.
fn across_pools(x: u32, levels: u32) -> u32 {
    if levels == 0 {
        return x;
    }
    let threads = if levels.is_multiple_of(2) { 3 } else { 1 };
    let config = Config::default().scheduler(Scheduler::Threads(threads));
    dask::delayed(x)
        .map(move |&v| across_pools(v + 1, levels - 1))
        .compute_with(&config)
        .unwrap()
}

/// A task on the one-thread pool computes on the three-thread pool, whose task computes
/// on the one-thread pool again. The one-thread pool's only worker used to park while it
/// waited for the other pool, so the innermost job, queued on its own pool, never ran.
#[test]
fn computations_nested_across_pools_finish() {
    assert_eq!(within("A -> B -> A", || across_pools(0, 3)), 3);
    // Deeper than the nesting depth at which waiting workers stop helping: the inner
    // graphs then run on the waiting thread.
    assert_eq!(within("twelve levels", || across_pools(0, 12)), 12);
    // Many at once, on both pools.
    let outer: Vec<Delayed<u32>> = (0..64u32)
        .map(|i| dask::delayed(i).map(|&i| across_pools(i, 5)))
        .collect();
    let values = within("64 at once", move || {
        dask::compute_with(&outer, &Config::default().scheduler(Scheduler::Threads(3))).unwrap()
    });
    assert_eq!(values, (5..69u32).collect::<Vec<_>>());
}
