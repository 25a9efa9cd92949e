//! Property tests: random DAGs whose tasks succeed, fail, panic, sleep or fail a few
//! times before succeeding (with retries), computed with 1 to 4 threads under both
//! error policies.
//!
//! - Where every needed task can succeed, the results equal `Scheduler::Sync`'s.
//! - Otherwise the reported errors are exactly the failing tasks (failing fast: one of
//!   them; collecting: each failing task that is not itself downstream of a failure).
//! - Nothing downstream of a failure ran, and every task that ran, ran once plus its
//!   retries.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use dask::{delayed, Config, Delayed, Error, ErrorPolicy, Scheduler};
use proptest::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Behaviour {
    Ok,
    Fail,
    Panic,
    Slow(u64),
    /// Fails this many times, then succeeds; run with two retries.
    Flaky(usize),
}

impl Behaviour {
    fn retries(self) -> usize {
        if matches!(self, Behaviour::Flaky(_)) {
            2
        } else {
            0
        }
    }

    fn fails(self) -> bool {
        match self {
            Behaviour::Fail | Behaviour::Panic => true,
            Behaviour::Flaky(k) => k > 2,
            _ => false,
        }
    }

    /// How many times the task runs when nothing stops it.
    fn attempts(self) -> usize {
        match self {
            Behaviour::Flaky(k) => (k + 1).min(3),
            _ => 1,
        }
    }
}

static BEHAVIOUR: Mutex<Vec<Behaviour>> = Mutex::new(Vec::new());
static ATTEMPTS: Mutex<Vec<AtomicUsize>> = Mutex::new(Vec::new());

#[derive(Debug, thiserror::Error)]
#[error("node {0} failed")]
struct Boom(usize);

fn body(id: usize, inputs: &[u64]) -> Result<u64, Boom> {
    let attempt = ATTEMPTS.lock().unwrap()[id].fetch_add(1, Ordering::SeqCst) + 1;
    let behaviour = BEHAVIOUR.lock().unwrap()[id];
    match behaviour {
        Behaviour::Ok => {}
        Behaviour::Fail => return Err(Boom(id)),
        Behaviour::Panic => panic!("node {id} panicked"),
        Behaviour::Slow(ms) => std::thread::sleep(Duration::from_millis(ms)),
        Behaviour::Flaky(k) => {
            if attempt <= k {
                return Err(Boom(id));
            }
        }
    }
    Ok(inputs.iter().fold(id as u64 * 0x9E37_79B9, |acc, &x| {
        acc.rotate_left(7) ^ x.wrapping_mul(31)
    }))
}

#[delayed]
fn node(id: usize, inputs: Vec<u64>) -> Result<u64, Boom> {
    body(id, &inputs)
}

#[delayed(retries = 2)]
fn retried_node(id: usize, inputs: Vec<u64>) -> Result<u64, Boom> {
    body(id, &inputs)
}

#[derive(Debug, Clone)]
struct Case {
    behaviour: Vec<Behaviour>,
    deps: Vec<Vec<usize>>,
    outputs: Vec<usize>,
    threads: usize,
    collect: bool,
}

fn behaviour() -> impl Strategy<Value = Behaviour> {
    prop_oneof![
        6 => Just(Behaviour::Ok),
        1 => Just(Behaviour::Fail),
        1 => Just(Behaviour::Panic),
        1 => (0u64..3).prop_map(Behaviour::Slow),
        1 => (1usize..4).prop_map(Behaviour::Flaky),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..20)
        .prop_flat_map(|n| {
            let deps = (0..n)
                .map(|i| proptest::collection::vec(0..i.max(1), 0..if i == 0 { 1 } else { 4 }))
                .collect::<Vec<_>>();
            (
                proptest::collection::vec(behaviour(), n),
                deps,
                proptest::collection::vec(0..n, 1..4),
                1usize..=4,
                any::<bool>(),
            )
        })
        .prop_map(|(behaviour, deps, outputs, threads, collect)| {
            // The first node has no dependencies (its generated list is `0..0`-bounded).
            let deps = deps
                .into_iter()
                .enumerate()
                .map(|(i, d)| if i == 0 { vec![] } else { d })
                .collect();
            Case {
                behaviour,
                deps,
                outputs,
                threads,
                collect,
            }
        })
}

fn build(case: &Case) -> Vec<Delayed<u64>> {
    let mut nodes: Vec<Delayed<u64>> = Vec::new();
    for (id, deps) in case.deps.iter().enumerate() {
        let inputs: Vec<Delayed<u64>> = deps.iter().map(|&d| nodes[d].clone()).collect();
        nodes.push(if case.behaviour[id].retries() > 0 {
            retried_node(id, inputs)
        } else {
            node(id, inputs)
        });
    }
    case.outputs.iter().map(|&o| nodes[o].clone()).collect()
}

fn reset(case: &Case) {
    *BEHAVIOUR.lock().unwrap() = case.behaviour.clone();
    *ATTEMPTS.lock().unwrap() = (0..case.behaviour.len())
        .map(|_| AtomicUsize::new(0))
        .collect();
}

fn attempts() -> Vec<usize> {
    ATTEMPTS
        .lock()
        .unwrap()
        .iter()
        .map(|a| a.load(Ordering::SeqCst))
        .collect()
}

/// Nodes the outputs need, and for each whether it is downstream of a failing node.
fn analyse(case: &Case) -> (Vec<bool>, Vec<bool>) {
    let n = case.deps.len();
    let mut needed = vec![false; n];
    let mut stack = case.outputs.clone();
    while let Some(i) = stack.pop() {
        if !std::mem::replace(&mut needed[i], true) {
            stack.extend(&case.deps[i]);
        }
    }
    let mut downstream = vec![false; n];
    for i in 0..n {
        downstream[i] = case.deps[i]
            .iter()
            .any(|&d| downstream[d] || case.behaviour[d].fails());
    }
    (needed, downstream)
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let (needed, downstream) = analyse(case);
    let outputs = build(case);
    let policy = if case.collect {
        ErrorPolicy::Collect
    } else {
        ErrorPolicy::FailFast
    };
    let config = Config::default()
        .scheduler(Scheduler::Threads(case.threads))
        .errors(policy);
    let failing: BTreeSet<usize> = (0..case.deps.len())
        .filter(|&i| needed[i] && case.behaviour[i].fails())
        .collect();

    if failing.is_empty() {
        reset(case);
        let expected = dask::compute_with(&outputs, &Config::default().scheduler(Scheduler::Sync));
        reset(case);
        let got = dask::compute_with(&outputs, &config);
        prop_assert_eq!(got.as_ref().ok(), expected.as_ref().ok());
        prop_assert!(got.is_ok(), "{:?}", got.err().map(|e| e.to_string()));
        for (i, &a) in attempts().iter().enumerate() {
            let want = if needed[i] {
                case.behaviour[i].attempts()
            } else {
                0
            };
            prop_assert_eq!(a, want, "node {} ({:?})", i, case.behaviour[i]);
        }
        return Ok(());
    }

    reset(case);
    let err = match dask::compute_with(&outputs, &config) {
        Ok(v) => return Err(TestCaseError::fail(format!("expected failure, got {v:?}"))),
        Err(e) => e,
    };
    let ran = attempts();
    let reported: Vec<usize> = match &err {
        Error::Failures(errors) => errors.iter().map(failing_id).collect(),
        e => vec![failing_id(e)],
    };
    for &id in &reported {
        prop_assert!(
            failing.contains(&id),
            "reported node {} is not a failing node",
            id
        );
        prop_assert!(
            !downstream[id],
            "reported node {} is downstream of a failure",
            id
        );
    }
    for i in 0..case.deps.len() {
        if downstream[i] {
            prop_assert_eq!(ran[i], 0, "node {} is downstream of a failure but ran", i);
        }
        prop_assert!(
            ran[i] <= case.behaviour[i].attempts(),
            "node {} ran {} times",
            i,
            ran[i]
        );
        if !needed[i] {
            prop_assert_eq!(ran[i], 0, "node {} is not needed", i);
        }
    }
    if case.collect {
        let expected: BTreeSet<usize> = failing
            .iter()
            .copied()
            .filter(|&i| !downstream[i])
            .collect();
        let got: BTreeSet<usize> = reported.iter().copied().collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(
            reported.len(),
            failing.iter().filter(|&&i| !downstream[i]).count()
        );
        for i in 0..case.deps.len() {
            if needed[i] && !downstream[i] {
                prop_assert_eq!(
                    ran[i],
                    case.behaviour[i].attempts(),
                    "node {} should have run",
                    i
                );
            }
        }
    } else {
        prop_assert!(!matches!(err, Error::Failures(_)));
    }
    Ok(())
}

/// The node id of a task error: from "node {id} failed" or "node {id} panicked".
fn failing_id(e: &Error) -> usize {
    let text = e.to_string();
    let after = text.split("node ").nth(1).expect("a node's own message");
    after.split(' ').next().unwrap().parse().expect("a node id")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_failing_graphs_behave(case in case()) {
        std::panic::set_hook(Box::new(|_| {}));
        check(&case)?;
    }
}
