//! Random DAGs of small integer tasks (the same graph for the same generator state, in
//! every process), for the stress and cluster tests, with a counter of task runs.

use std::sync::atomic::{AtomicUsize, Ordering};

use dask::{delayed, Delayed};

use super::Lcg;

/// Task runs since the last reset, across every graph of the test binary.
pub static RUNS: AtomicUsize = AtomicUsize::new(0);

pub fn mix(a: u64, b: u64) -> u64 {
    (a ^ b.rotate_left(17))
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(29)
}

#[delayed]
pub fn seed(x: u64) -> u64 {
    RUNS.fetch_add(1, Ordering::Relaxed);
    mix(x, 1)
}

#[delayed]
pub fn one(salt: u64, a: &u64) -> u64 {
    RUNS.fetch_add(1, Ordering::Relaxed);
    mix(salt, *a)
}

#[delayed]
pub fn two_owned(salt: u64, a: u64, b: u64) -> u64 {
    RUNS.fetch_add(1, Ordering::Relaxed);
    mix(mix(salt, a), b)
}

#[delayed]
pub fn many(salt: u64, inputs: Vec<u64>) -> u64 {
    RUNS.fetch_add(1, Ordering::Relaxed);
    inputs.iter().fold(salt, |acc, &x| mix(acc, x))
}

#[delayed]
pub fn vector(salt: u64, a: &u64) -> Vec<u64> {
    RUNS.fetch_add(1, Ordering::Relaxed);
    (0..(salt % 5)).map(|i| mix(i, *a)).collect()
}

#[delayed]
pub fn vector_sum(v: Vec<u64>) -> u64 {
    RUNS.fetch_add(1, Ordering::Relaxed);
    v.iter().fold(7, |acc, &x| mix(acc, x))
}

/// Builds a random DAG; returns its outputs (with repeats) and the number of distinct
/// tasks the outputs need.
pub fn random_graph(rng: &mut Lcg, max_nodes: u64) -> (Vec<Delayed<u64>>, usize) {
    let n = 1 + rng.below(max_nodes) as usize;
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
                (one(salt, dask::delayed(a as u64)), vec![])
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
