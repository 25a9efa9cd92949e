//! Thousands of random DAGs, computed on the thread pool with 1 to 4 workers, must give
//! exactly what the sequential scheduler gives, with every task run exactly once.

use std::sync::atomic::{AtomicUsize, Ordering};

use dask::{delayed, Config, Delayed, Scheduler};

mod support;
use support::Lcg;

static RUNS: AtomicUsize = AtomicUsize::new(0);

fn mix(a: u64, b: u64) -> u64 {
    (a ^ b.rotate_left(17))
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(29)
}

#[delayed]
fn seed(x: u64) -> u64 {
    RUNS.fetch_add(1, Ordering::Relaxed);
    mix(x, 1)
}

#[delayed]
fn one(salt: u64, a: &u64) -> u64 {
    RUNS.fetch_add(1, Ordering::Relaxed);
    mix(salt, *a)
}

#[delayed]
fn two_owned(salt: u64, a: u64, b: u64) -> u64 {
    RUNS.fetch_add(1, Ordering::Relaxed);
    mix(mix(salt, a), b)
}

#[delayed]
fn many(salt: u64, inputs: Vec<u64>) -> u64 {
    RUNS.fetch_add(1, Ordering::Relaxed);
    inputs.iter().fold(salt, |acc, &x| mix(acc, x))
}

#[delayed]
fn vector(salt: u64, a: &u64) -> Vec<u64> {
    RUNS.fetch_add(1, Ordering::Relaxed);
    (0..(salt % 5)).map(|i| mix(i, *a)).collect()
}

#[delayed]
fn vector_sum(v: Vec<u64>) -> u64 {
    RUNS.fetch_add(1, Ordering::Relaxed);
    v.iter().fold(7, |acc, &x| mix(acc, x))
}

/// Builds a random DAG; returns its outputs (with repeats) and the number of distinct
/// tasks the outputs need.
fn random_graph(rng: &mut Lcg) -> (Vec<Delayed<u64>>, usize) {
    let n = 1 + rng.below(60) as usize;
    let mut nodes: Vec<Delayed<u64>> = Vec::with_capacity(n);
    let mut deps: Vec<Vec<usize>> = Vec::with_capacity(n);
    for i in 0..n {
        let salt = rng.next();
        let pick = |rng: &mut Lcg| rng.below(i as u64) as usize;
        let kind = if i == 0 { 0 } else { rng.below(6) };
        let (node, d) = match kind {
            0 => (seed(salt), vec![]),
            1 => {
                let a = pick(rng);
                (one(salt, &nodes[a]), vec![a])
            }
            2 => {
                let (a, b) = (pick(rng), pick(rng));
                (two_owned(salt, &nodes[a], &nodes[b]), vec![a, b])
            }
            3 => {
                let k = rng.below(6) as usize;
                let picks: Vec<usize> = (0..k).map(|_| pick(rng)).collect();
                let inputs: Vec<Delayed<u64>> = picks.iter().map(|&p| nodes[p].clone()).collect();
                (many(salt, inputs), picks)
            }
            4 => {
                let a = pick(rng);
                (vector_sum(vector(salt, &nodes[a])), vec![a, usize::MAX])
            }
            _ => {
                let a = pick(rng);
                (
                    one(salt, dask::delayed(nodes[a].key().len() as u64)),
                    vec![],
                )
            }
        };
        nodes.push(node);
        deps.push(d);
    }
    let outputs: Vec<usize> = (0..1 + rng.below(5))
        .map(|_| rng.below(n as u64) as usize)
        .collect();
    // Count the tasks the outputs need (a `vector_sum` node hides one extra task).
    let mut needed = vec![false; n];
    let mut stack = outputs.clone();
    let mut tasks = 0;
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut needed[i], true) {
            continue;
        }
        tasks += 1;
        for &d in &deps[i] {
            if d == usize::MAX {
                tasks += 1;
            } else {
                stack.push(d);
            }
        }
    }
    (outputs.iter().map(|&i| nodes[i].clone()).collect(), tasks)
}

/// These tests share the run counter.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn random_graphs_match_the_sequential_scheduler() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let graphs = std::env::var("DASK_STRESS_GRAPHS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    let mut rng = Lcg(0x5eed);
    let sync = Config::default().scheduler(Scheduler::Sync);
    let pools: Vec<Config> = (1..=4)
        .map(|t| Config::default().scheduler(Scheduler::Threads(t)))
        .collect();
    for g in 0..graphs {
        let (outputs, tasks) = random_graph(&mut rng);
        RUNS.store(0, Ordering::Relaxed);
        let expected = dask::compute_with(&outputs, &sync).unwrap();
        assert_eq!(
            RUNS.load(Ordering::Relaxed),
            tasks,
            "graph {g}: Sync ran each needed task once"
        );
        let config = &pools[g % pools.len()];
        RUNS.store(0, Ordering::Relaxed);
        let got = dask::compute_with(&outputs, config).unwrap();
        assert_eq!(got, expected, "graph {g} on {config:?}");
        assert_eq!(
            RUNS.load(Ordering::Relaxed),
            tasks,
            "graph {g} on {config:?}: each task once"
        );
    }
}

#[test]
fn concurrent_computes_on_shared_nodes_from_many_threads_agree() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = Lcg(0xfeed);
    let graphs: Vec<Vec<Delayed<u64>>> = (0..50).map(|_| random_graph(&mut rng).0).collect();
    let sync = Config::default().scheduler(Scheduler::Sync);
    let expected: Vec<Vec<u64>> = graphs
        .iter()
        .map(|g| dask::compute_with(g, &sync).unwrap())
        .collect();
    std::thread::scope(|s| {
        for t in 0..4 {
            let (graphs, expected) = (&graphs, &expected);
            s.spawn(move || {
                let config = Config::default().scheduler(Scheduler::Threads(1 + t % 2));
                for round in 0..20 {
                    for (g, want) in graphs.iter().zip(expected).skip((round + t) % 7) {
                        assert_eq!(&dask::compute_with(g, &config).unwrap(), want);
                    }
                }
            });
        }
    });
}
