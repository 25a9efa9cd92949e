//! Results, laziness, execution counts, gathering, scheduler choice and nesting.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::ThreadId;
use std::time::Duration;

use dask::{delayed, Config, Delayed, Scheduler};

fn threads(n: usize) -> Config {
    Config::default().scheduler(Scheduler::Threads(n))
}

fn sync() -> Config {
    Config::default().scheduler(Scheduler::Sync)
}

static LAZY_RUNS: AtomicUsize = AtomicUsize::new(0);

#[delayed]
fn counted_square(x: i64) -> i64 {
    LAZY_RUNS.fetch_add(1, Ordering::SeqCst);
    x * x
}

#[test]
fn building_runs_nothing_and_compute_runs_each_call_once() {
    let squares: Vec<Delayed<i64>> = (0..6).map(counted_square).collect();
    let total = squares[0].map(|v| *v);
    assert_eq!(
        LAZY_RUNS.load(Ordering::SeqCst),
        0,
        "building must not run tasks"
    );
    drop(total);
    assert_eq!(dask::compute(&squares).unwrap(), vec![0, 1, 4, 9, 16, 25]);
    assert_eq!(LAZY_RUNS.load(Ordering::SeqCst), 6);
    // Computing again runs again (no hidden cache), as in Dask.
    assert_eq!(dask::compute(&squares[..2]).unwrap(), vec![0, 1]);
    assert_eq!(LAZY_RUNS.load(Ordering::SeqCst), 8);
}

static SHARED_RUNS: AtomicUsize = AtomicUsize::new(0);

#[delayed]
fn shared_source(n: u32) -> Vec<u32> {
    SHARED_RUNS.fetch_add(1, Ordering::SeqCst);
    (0..n).collect()
}

#[delayed]
fn sum_of(v: &Vec<u32>) -> u32 {
    v.iter().sum()
}

#[delayed]
fn len_of(v: &Vec<u32>) -> usize {
    v.len()
}

#[test]
fn a_node_shared_by_several_outputs_runs_exactly_once() {
    for config in [sync(), threads(1), threads(2), threads(4)] {
        SHARED_RUNS.store(0, Ordering::SeqCst);
        let src = shared_source(10);
        let a = sum_of(&src);
        let b = sum_of(&src);
        let c = len_of(src.clone());
        let (x, y, z) = dask::compute_with((&a, &b, &c), &config).unwrap();
        assert_eq!((x, y, z), (45, 45, 10));
        assert_eq!(SHARED_RUNS.load(Ordering::SeqCst), 1, "{config:?}");
        // The same output twice is one node too.
        SHARED_RUNS.store(0, Ordering::SeqCst);
        let outs = dask::compute_with(&[a.clone(), a.clone(), b.clone()], &config).unwrap();
        assert_eq!(outs, vec![45, 45, 45]);
        assert_eq!(SHARED_RUNS.load(Ordering::SeqCst), 1);
    }
}

static PURE_RUNS: AtomicUsize = AtomicUsize::new(0);

#[delayed(pure)]
fn pure_load(name: String, scale: u32) -> u32 {
    PURE_RUNS.fetch_add(1, Ordering::SeqCst);
    name.len() as u32 * scale
}

#[test]
fn identical_pure_calls_built_separately_are_one_node() {
    let a = pure_load("abc".to_string(), 2);
    let b = pure_load("abc".to_string(), 2);
    let c = pure_load("abc".to_string(), 3);
    assert_eq!(a.key(), b.key());
    assert_ne!(a.key(), c.key());
    assert_eq!(dask::graph(&[a.clone(), b.clone(), c.clone()]).len(), 2);
    PURE_RUNS.store(0, Ordering::SeqCst);
    assert_eq!(dask::compute(&[a, b, c]).unwrap(), vec![6, 6, 9]);
    assert_eq!(PURE_RUNS.load(Ordering::SeqCst), 2);
}

#[delayed]
fn concat(parts: Vec<String>) -> String {
    parts.join(",")
}

#[delayed]
fn label(i: usize) -> String {
    format!("p{i}")
}

#[test]
fn gathered_vectors_keep_their_order() {
    for config in [sync(), threads(2)] {
        let parts: Vec<Delayed<String>> = (0..50).map(label).collect();
        let joined = concat(parts);
        let expected: Vec<String> = (0..50).map(|i| format!("p{i}")).collect();
        assert_eq!(joined.compute_with(&config).unwrap(), expected.join(","));
    }
}

/// Notes `tag` in `log` when its task runs: the sequential scheduler's order made visible.
fn noted(log: &Arc<Mutex<Vec<u32>>>, tag: u32, inputs: &[&Delayed<u32>]) -> Delayed<u32> {
    let log = Arc::clone(log);
    let note = move |_: &u32| {
        log.lock().unwrap().push(tag);
        tag
    };
    match inputs {
        [] => delayed(0u32).map(note),
        [a] => a.map(note),
        [a, b] => a.map2(b, move |_, _| note(&0)),
        _ => unreachable!("at most two inputs"),
    }
}

#[delayed]
fn three_inputs(a: &u32, b: &u32, c: &u32) -> u32 {
    a + b + c
}

#[test]
fn the_sequential_scheduler_takes_each_tasks_inputs_in_the_order_they_were_built() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let taken = |out: &Delayed<u32>| {
        log.lock().unwrap().clear();
        out.compute_with(&sync()).unwrap();
        std::mem::take(&mut *log.lock().unwrap())
    };
    // Arguments in the other order than the program built them.
    let (older, newer) = (noted(&log, 1, &[]), noted(&log, 2, &[]));
    let both = noted(&log, 3, &[&newer, &older]);
    assert_eq!(taken(&both), [1, 2, 3]);
    assert_eq!(taken(&both), [1, 2, 3], "the same order every time");
    let (a, b, c) = (
        noted(&log, 1, &[]),
        noted(&log, 2, &[]),
        noted(&log, 3, &[]),
    );
    assert_eq!(taken(&three_inputs(&c, &a, &b)), [1, 2, 3]);
    // A wavefront whose cells read (left, up): the walk goes row by row, as it was
    // built, not down a column of left neighbours first.
    let side = 3;
    let mut cells: Vec<Delayed<u32>> = Vec::new();
    for r in 0..side {
        for c in 0..side {
            let tag = (r * side + c) as u32;
            let left = (c > 0).then(|| cells[r * side + c - 1].clone());
            let up = (r > 0).then(|| cells[(r - 1) * side + c].clone());
            let cell = match (&left, &up) {
                (Some(l), Some(u)) => noted(&log, tag, &[l, u]),
                (Some(x), None) | (None, Some(x)) => noted(&log, tag, &[x]),
                (None, None) => noted(&log, tag, &[]),
            };
            cells.push(cell);
        }
    }
    assert_eq!(taken(cells.last().unwrap()), (0..9).collect::<Vec<u32>>());
}

#[delayed]
fn thread_of(_i: usize) -> ThreadId {
    std::thread::current().id()
}

#[test]
fn sync_runs_every_task_on_the_calling_thread() {
    let ids: Vec<Delayed<ThreadId>> = (0..20).map(thread_of).collect();
    let seen = dask::compute_with(&ids, &sync()).unwrap();
    assert!(seen.iter().all(|&id| id == std::thread::current().id()));
}

#[test]
fn the_thread_pool_runs_tasks_on_its_workers() {
    let ids: Vec<Delayed<ThreadId>> = (0..20).map(thread_of).collect();
    let seen = dask::compute_with(&ids, &threads(2)).unwrap();
    assert!(seen.iter().all(|&id| id != std::thread::current().id()));
    assert!(seen.iter().collect::<HashSet<_>>().len() <= 2);
}

/// A barrier that gives up after a timeout, so a scheduler that runs tasks one at a time
/// fails the test instead of hanging it. The timeout is long (60 s): the second worker
/// may first have to finish other tests' tasks on the shared pool, on a loaded machine.
struct TimedBarrier {
    arrived: Mutex<usize>,
    all_here: Condvar,
}

static MEETING: TimedBarrier = TimedBarrier {
    arrived: Mutex::new(0),
    all_here: Condvar::new(),
};

#[delayed]
fn meet(_who: usize) -> bool {
    let mut arrived = MEETING.arrived.lock().unwrap();
    *arrived += 1;
    MEETING.all_here.notify_all();
    let (arrived, timeout) = MEETING
        .all_here
        .wait_timeout_while(arrived, Duration::from_secs(60), |n| *n < 2)
        .unwrap();
    drop(arrived);
    !timeout.timed_out()
}

#[test]
fn two_threads_really_run_two_tasks_at_once() {
    let both = [meet(0), meet(1)];
    assert_eq!(
        dask::compute_with(&both, &threads(2)).unwrap(),
        vec![true, true]
    );
}

#[delayed]
fn inner_sum(n: u64, config: Option<Scheduler>) -> u64 {
    let parts: Vec<Delayed<u64>> = (0..n).map(|i| dask::delayed(i).map(|v| v * 2)).collect();
    let config = match config {
        Some(s) => Config::default().scheduler(s),
        None => Config::default(),
    };
    dask::compute_with(&parts, &config).unwrap().iter().sum()
}

#[delayed]
fn add_all(parts: Vec<u64>) -> u64 {
    parts.iter().sum()
}

#[test]
fn nested_compute_on_one_worker_does_not_deadlock() {
    for inner in [None, Some(Scheduler::Threads(1))] {
        let outer: Vec<Delayed<u64>> = (0..8).map(|_| inner_sum(100, inner)).collect();
        let total = add_all(outer);
        assert_eq!(total.compute_with(&threads(1)).unwrap(), 8 * 9900);
    }
}

#[delayed]
fn inner_threads(n: usize) -> Vec<String> {
    let parts: Vec<Delayed<String>> = (0..n)
        .map(|i| dask::delayed(i).map(|_| std::thread::current().name().unwrap_or("?").to_string()))
        .collect();
    dask::compute(&parts).unwrap()
}

#[test]
fn nested_compute_with_the_default_config_stays_on_the_current_pool() {
    let outer: Vec<Delayed<Vec<String>>> = (0..4).map(|_| inner_threads(50)).collect();
    let names: HashSet<String> = dask::compute_with(&outer, &threads(3))
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    // The 3-thread pool's workers, no new threads and not the default pool's.
    assert!(names.len() <= 3, "{names:?}");
    assert!(
        names.iter().all(|n| n.starts_with("dask-worker-")),
        "{names:?}"
    );
}

/// The persist test's own counter: the shared-node test, which may run at the same
/// time, resets and checks `SHARED_RUNS`.
static PERSISTED_RUNS: AtomicUsize = AtomicUsize::new(0);

#[delayed]
fn persisted_source(n: u32) -> Vec<u32> {
    PERSISTED_RUNS.fetch_add(1, Ordering::SeqCst);
    (0..n).collect()
}

#[test]
fn persisted_values_are_reused_and_keep_their_keys() {
    let src = persisted_source(5);
    let kept = dask::persist(std::slice::from_ref(&src))
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(kept.key(), src.key());
    assert_eq!(sum_of(&kept).compute().unwrap(), 10);
    assert_eq!(len_of(&kept).compute().unwrap(), 5);
    assert_eq!(PERSISTED_RUNS.load(Ordering::SeqCst), 1);
    let g = dask::graph(&sum_of(&kept));
    assert_eq!(g.len(), 2);
    assert!(g
        .nodes()
        .any(|(_, n)| n.kind == dask::NodeKind::Value && n.key == src.key()));
}

#[test]
fn an_empty_output_list_and_value_only_graphs_compute() {
    let none: Vec<Delayed<i32>> = vec![];
    assert_eq!(dask::compute(&none).unwrap(), Vec::<i32>::new());
    let v = dask::delayed(vec![1, 2, 3]);
    assert_eq!(
        dask::compute_with(&[v.clone(), v], &threads(2)).unwrap(),
        vec![vec![1, 2, 3]; 2]
    );
}

#[test]
fn impossible_options_are_refused() {
    let x = dask::delayed(1);
    let err = x
        .compute_with(&Config::default().scheduler(Scheduler::Threads(0)))
        .unwrap_err();
    assert!(err.to_string().contains("Threads(0)"), "{err}");
}

#[test]
fn a_long_chain_builds_computes_and_drops_without_overflowing_the_stack() {
    let mut x = dask::delayed(0u64);
    for _ in 0..300_000 {
        x = x.map(|v| v + 1);
    }
    assert_eq!(x.compute_with(&threads(2)).unwrap(), 300_000);
    assert_eq!(x.compute_with(&sync()).unwrap(), 300_000);
    drop(x);
}

#[test]
fn a_drop_that_panics_inside_a_graph_leaves_later_graph_drops_working() {
    static DROPPED: AtomicUsize = AtomicUsize::new(0);
    struct Bomb(bool);
    impl Drop for Bomb {
        fn drop(&mut self) {
            DROPPED.fetch_add(1, Ordering::SeqCst);
            if self.0 {
                panic!("bomb");
            }
        }
    }
    let chain = |bomb_at: usize| {
        let mut x = dask::delayed(0u64);
        for i in 0..100 {
            let bomb = Bomb(i == bomb_at);
            x = x.map(move |v| {
                let _ = &bomb;
                v + 1
            });
        }
        x
    };
    // Runs on its own thread so that no other test's drops share its drop queue.
    std::thread::spawn(move || {
        let first = chain(50);
        assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(first))).is_err());
        let partly = DROPPED.load(Ordering::SeqCst);
        assert!(
            (1..100).contains(&partly),
            "{partly} closures dropped before the panic"
        );
        // The next graph dropped on this thread drops its own nodes and the first
        // graph's rest: nothing is lost, nothing stays queued.
        drop(chain(usize::MAX));
        assert_eq!(DROPPED.load(Ordering::SeqCst), 200);
    })
    .join()
    .unwrap();
}

/// Counts its live instances (clones included); the count lives in the test that makes
/// them.
struct Tracked(std::sync::Arc<AtomicUsize>);

impl Clone for Tracked {
    fn clone(&self) -> Self {
        Tracked::new(&self.0)
    }
}

impl Tracked {
    fn new(live: &std::sync::Arc<AtomicUsize>) -> Self {
        live.fetch_add(1, Ordering::SeqCst);
        Tracked(live.clone())
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Tasks that each make one `Tracked`, all reading one value node, and their live count.
struct TrackedParts {
    live: std::sync::Arc<AtomicUsize>,
    source: Delayed<()>,
}

impl TrackedParts {
    fn new() -> Self {
        TrackedParts {
            live: std::sync::Arc::new(AtomicUsize::new(0)),
            source: dask::delayed(()),
        }
    }

    fn part(&self) -> Delayed<Tracked> {
        let live = self.live.clone();
        self.source.map(move |_| Tracked::new(&live))
    }

    fn parts(&self, n: usize) -> Vec<Delayed<Tracked>> {
        (0..n).map(|_| self.part()).collect()
    }

    fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }
}

/// A collection of two nodes whose computed value is the first alone: the second
/// output is collected (it runs) but never taken.
struct FirstOfTwo(Delayed<Tracked>, Delayed<Tracked>);

impl dask::Outputs for &FirstOfTwo {
    type Values = Tracked;

    fn collect<'s>(&'s self, nodes: &mut dask::OutputNodes<'_, 's>) {
        nodes.push(&self.0);
        nodes.push(&self.1);
    }

    fn extract(&self, results: &mut dask::OutputReader<'_, '_>) -> Result<Tracked, dask::Error> {
        results.take()
    }
}

#[delayed]
fn count_tracked(parts: &Vec<Tracked>) -> usize {
    parts.len()
}

#[test]
fn every_result_is_dropped_by_compute_whether_or_not_each_output_is_taken() {
    for config in [sync(), threads(2)] {
        let made = TrackedParts::new();
        let parts = made.parts(50);
        let joined = count_tracked(&parts);
        // Every output taken: only the returned values stay alive.
        let (all, count) = dask::compute_with((&parts, &joined), &config).unwrap();
        assert_eq!(count, 50);
        assert_eq!(made.live(), 50);
        drop(all);
        assert_eq!(made.live(), 0);
        // One of two outputs taken: the other's value is dropped with the computation.
        let pair = FirstOfTwo(made.part(), made.part());
        let first = dask::compute_with(&pair, &config).unwrap();
        assert_eq!(made.live(), 1, "the untaken output was dropped");
        drop(first);
        assert_eq!(made.live(), 0);
    }
}

/// A collection that reads one value more than it collected.
struct ReadsTooMany(Delayed<u32>);

impl dask::Outputs for &ReadsTooMany {
    type Values = (u32, u32);

    fn collect<'s>(&'s self, nodes: &mut dask::OutputNodes<'_, 's>) {
        nodes.push(&self.0);
    }

    fn extract(&self, results: &mut dask::OutputReader<'_, '_>) -> Result<(u32, u32), dask::Error> {
        Ok((results.take()?, results.take()?))
    }
}

#[test]
fn a_collection_reading_more_outputs_than_it_collected_gets_an_error_not_a_panic() {
    for config in [sync(), threads(2)] {
        let error = dask::compute_with(&ReadsTooMany(dask::delayed(3u32)), &config).unwrap_err();
        assert!(
            matches!(&error, dask::Error::Internal(m) if m == "output 1 was read, but only 1 were collected"),
            "{error:?}"
        );
    }
}

/// How many `Tracked` values are alive while the task holds its gathered inputs.
#[delayed]
fn live_while_gathered(parts: Vec<Tracked>) -> usize {
    parts[0].0.load(Ordering::SeqCst)
}

/// The same on the second attempt: the first fails after gathering its inputs.
#[delayed(retries = 1)]
fn live_on_second_attempt(
    parts: Vec<Tracked>,
    attempts: Arc<AtomicUsize>,
) -> Result<usize, String> {
    match attempts.fetch_add(1, Ordering::SeqCst) {
        0 => Err(format!("first attempt with {} parts", parts.len())),
        _ => Ok(parts[0].0.load(Ordering::SeqCst)),
    }
}

#[delayed]
fn after(_tracked: &Tracked, _gathered: &usize) -> bool {
    true
}

#[test]
fn a_gather_moves_only_what_it_reads_last_and_clones_the_rest() {
    for config in [sync(), threads(2)] {
        let made = TrackedParts::new();
        // Their only reader: both moved in, none cloned.
        let alone = live_while_gathered(vec![made.part(), made.part()]);
        assert_eq!(dask::compute_with(&alone, &config).unwrap(), 2);
        assert_eq!(made.live(), 0);
        let (a, b, c) = (made.part(), made.part(), made.part());
        // `a` is read again after the gather, `b` twice by it, `c` is an output too: each
        // of the four is cloned, and the three results stay in their slots meanwhile.
        let gathered = live_while_gathered(vec![a.clone(), b.clone(), b.clone(), c.clone()]);
        let later = after(&a, &gathered);
        let (live, ran_after, kept) = dask::compute_with((&gathered, &later, &c), &config).unwrap();
        assert_eq!((live, ran_after), (3 + 4, true));
        assert_eq!(made.live(), 1, "only the output's value is left");
        drop(kept);
        assert_eq!(made.live(), 0);
        // A task that may run again clones every input, on each attempt.
        let attempts = Arc::new(AtomicUsize::new(0));
        let retried = live_on_second_attempt(vec![a.clone(), b.clone(), b, c], attempts.clone());
        let (live, _) = dask::compute_with((&retried, &after(&a, &retried)), &config).unwrap();
        assert_eq!(attempts.load(Ordering::SeqCst), 2);
        assert_eq!(live, 3 + 4, "the first attempt's clones are gone");
        assert_eq!(made.live(), 0);
    }
}

#[delayed]
fn consume_tracked(parts: Vec<Tracked>) -> usize {
    parts.len()
}

#[delayed]
fn consume_then_fail(parts: Vec<Tracked>) -> Result<usize, String> {
    Err(format!("refused {} parts", parts.len()))
}

#[delayed]
fn move_one_borrow_one(moved: Tracked, borrowed: &Tracked) -> usize {
    drop(moved);
    usize::from(borrowed.0.load(Ordering::SeqCst) > 0)
}

#[test]
fn a_join_that_moves_every_input_out_leaves_no_value_behind() {
    for config in [sync(), threads(2)] {
        let made = TrackedParts::new();
        let parts = made.parts(100);
        // The join is each part's only reader: it moves them all out.
        let total = consume_tracked(parts.clone());
        assert_eq!(dask::compute_with(&total, &config).unwrap(), 100);
        assert_eq!(made.live(), 0, "every part dropped once");
        // Moved out, then the task fails: the parts are gone with it all the same.
        let refused = consume_then_fail(parts);
        let error = dask::compute_with(&refused, &config).unwrap_err();
        assert!(error.to_string().contains("refused 100 parts"), "{error}");
        assert_eq!(made.live(), 0, "every part dropped once");
        // One input moved out, one borrowed: the borrowed one is still released.
        let mixed = move_one_borrow_one(made.part(), made.part());
        assert_eq!(dask::compute_with(&mixed, &config).unwrap(), 1);
        assert_eq!(made.live(), 0, "both inputs dropped once");
    }
}
