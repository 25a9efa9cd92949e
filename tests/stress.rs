//! Thousands of random DAGs, computed on the thread pool with 1 to 4 workers, must give
//! exactly what the sequential scheduler gives, with every task run exactly once.

use std::sync::atomic::Ordering;

use dask::{Config, Delayed, Scheduler};

mod support;
use support::random_graph::{random_graph, RUNS};
use support::Lcg;

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
        let (outputs, tasks) = random_graph(&mut rng, 60);
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
    let graphs: Vec<Vec<Delayed<u64>>> = (0..50).map(|_| random_graph(&mut rng, 60).0).collect();
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

/// Random graphs computed inside the tasks of an outer computation: the worker that
/// runs a nested computation also holds the outer one's jobs, and must finish both.
#[test]
fn random_graphs_computed_inside_tasks_match_the_sequential_scheduler() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = Lcg(0xbee5);
    let sync = Config::default().scheduler(Scheduler::Sync);
    for round in 0..200 {
        let graphs: Vec<Vec<Delayed<u64>>> = (0..6).map(|_| random_graph(&mut rng, 40).0).collect();
        let expected: Vec<Vec<u64>> = graphs
            .iter()
            .map(|g| dask::compute_with(g, &sync).unwrap())
            .collect();
        let config = Config::default().scheduler(Scheduler::Threads(1 + round % 3));
        let outer: Vec<Delayed<Vec<u64>>> = graphs
            .into_iter()
            .map(|g| {
                let config = config.clone();
                dask::delayed(()).map(move |_| dask::compute_with(&g, &config).unwrap())
            })
            .collect();
        let got = dask::compute_with(&outer, &config).unwrap();
        assert_eq!(got, expected, "round {round} on {config:?}");
    }
}
