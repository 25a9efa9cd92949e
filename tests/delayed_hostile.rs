//! Unusual and hostile uses of the graph-building API: values whose bytes look alike,
//! keys that run into what follows them, long chains of renamed handles, user types
//! whose operators panic. Each must give the right answer or a clear `dask::Error`,
//! never a merged node of another type, a wrong value or an abort.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use dask::{delayed, Delayed, Error};

/// `0u64`, `0.0f64` and an empty `Vec<u8>` all feed eight zero bytes to a key: as pure
/// values they were one node, and two of the three outputs had no value of their type.
#[test]
fn pure_values_of_different_types_with_equal_bytes_are_different_nodes() {
    let int = dask::delayed_pure(0u64);
    let float = dask::delayed_pure(0.0f64);
    let empty = dask::delayed_pure(Vec::<u8>::new());
    assert_ne!(int.key(), float.key());
    assert_ne!(int.key(), empty.key());
    assert_eq!(dask::graph((&int, &float, &empty)).len(), 3);
    assert_eq!(
        dask::compute((&int, &float, &empty)).unwrap(),
        (0, 0.0, Vec::new())
    );
    // And what reads them: each `add` reads the value of its own type.
    let (a, b) = (&int + 1, &float + 1.0);
    assert_eq!(dask::compute((&a, &b)).unwrap(), (1, 1.0));
    // Equal values of one type are still one node.
    assert_eq!(dask::delayed_pure(0.0f64).key(), float.key());
}

#[test]
fn tuples_of_different_types_with_equal_bytes_are_different_nodes() {
    let int: Delayed<(u64,)> = dask::collect((0u64,));
    let float: Delayed<(f64,)> = dask::collect((0.0f64,));
    assert_eq!(dask::compute((&int, &float)).unwrap(), ((0,), (0.0,)));
    // Little-endian: `1u16, 5u8` feeds 01 00 | 05, `0x0500_0001u32` feeds 01 00 00 05,
    // and each item's marker byte 00 fills the gap.
    let pair: Delayed<(u16, u8)> = dask::collect((1u16, 5u8));
    let single: Delayed<(u32,)> = dask::collect((0x0500_0001u32,));
    assert_eq!(
        dask::compute((&pair, &single)).unwrap(),
        ((1, 5), (0x0500_0001,))
    );
}

#[test]
fn gathers_into_different_containers_are_different_nodes() {
    let ints: Delayed<Vec<i32>> = Vec::new().into_iter().collect();
    let floats: Delayed<Vec<f64>> = Vec::new().into_iter().collect();
    assert_eq!(
        dask::compute((&ints, &floats)).unwrap(),
        (Vec::new(), Vec::new())
    );
    let one = dask::delayed(1);
    let hash: Delayed<HashMap<String, i32>> =
        [("a".to_string(), one.clone())].into_iter().collect();
    let tree: Delayed<BTreeMap<String, i32>> =
        [("a".to_string(), one.clone())].into_iter().collect();
    let (hash, tree) = dask::compute((&hash, &tree)).unwrap();
    assert_eq!(hash, HashMap::from([("a".to_string(), 1)]));
    assert_eq!(tree, BTreeMap::from([("a".to_string(), 1)]));
    // The same gather built twice is still one node.
    let again: Delayed<Vec<i32>> = [one.clone()].into_iter().collect();
    let same: Delayed<Vec<i32>> = [one].into_iter().collect();
    assert_eq!(again.key(), same.key());
}

/// The closure is not part of a pure key, so what the key does hold must tell calls
/// apart: tags of different types whose bytes are equal, or closures of different result
/// types under one tag, were merged (a wrong value, or a value of another type).
#[test]
fn map_pure_tags_and_results_of_different_types_are_different_nodes() {
    let x = dask::delayed_pure(3i64);
    let plus = x.map_pure(0u64, |v| v + 1);
    let times = x.map_pure(0.0f64, |v| v * 10);
    assert_eq!(dask::compute((&plus, &times)).unwrap(), (4, 30));
    let number = x.map_pure("show", |v| *v);
    let text = x.map_pure("show", |v| v.to_string());
    assert_eq!(
        dask::compute((&number, &text)).unwrap(),
        (3, "3".to_string())
    );
    // Equal calls are one node as before.
    assert_eq!(x.map_pure("show", |v| *v).key(), number.key());
}

#[test]
fn map_many_pure_tags_and_results_of_different_types_are_different_nodes() {
    let none: &[Delayed<i32>] = &[];
    let count = dask::map_many_pure("describe", (), none, |xs: &[&i32]| xs.len());
    let text = dask::map_many_pure("describe", (), none, |_: &[&i32]| "none".to_string());
    assert_eq!(
        dask::compute((&count, &text)).unwrap(),
        (0, "none".to_string())
    );
    // `u32` and `i32` hash to the same bytes.
    let parts = [dask::delayed(5)];
    let plus = dask::map_many_pure("scale", 2u32, &parts, |xs: &[&i32]| xs[0] + 2);
    let times = dask::map_many_pure("scale", 2i32, &parts, |xs: &[&i32]| xs[0] * 2);
    assert_eq!(dask::compute((&plus, &times)).unwrap(), (7, 10));
    assert_eq!(
        dask::map_many_pure("scale", 2u32, &parts, |xs: &[&i32]| xs[0] + 2).key(),
        plus.key()
    );
}

/// A key from `with_key` is part of its node's identity, with no length in front: what
/// a derived key fed after it could be read as part of it. Two pure nodes of one call
/// under the keys `k` and `ka`, indexed by `"ab"` and `"b"`, fed the same bytes, and
/// both `getitem`s gave the value at `"ab"`.
#[test]
fn a_given_key_does_not_run_into_what_follows_it() {
    let map = dask::delayed_pure(0u8).map_pure("make", |_| {
        HashMap::from([("ab".to_string(), 1), ("b".to_string(), 2)])
    });
    let x = map.clone().with_key("k").get("ab");
    let y = map.clone().with_key("ka").get("b");
    assert_ne!(x.key(), y.key());
    assert_eq!(dask::compute((&x, &y)).unwrap(), (1, 2));
    // The same in a tuple: the first item's key swallowed the second item's length.
    let a = dask::delayed_pure(1u8);
    let nine: Delayed<(u8, Vec<u8>)> = dask::collect((&a.clone().with_key("k"), vec![0u8; 9]));
    let empty: Delayed<(u8, Vec<u8>)> =
        dask::collect((&a.clone().with_key("k\0\t\0\0\0\0\0\0\0"), Vec::<u8>::new()));
    assert_eq!(
        dask::compute((&nine, &empty)).unwrap(),
        ((1, vec![0; 9]), (1, vec![]))
    );
}

/// A renamed node and the call it stands for read the same inputs: behind them, a task
/// the call alone held a handle to is reached through two edges. Read by one join of
/// more inputs than the planner walks alone (8,192), part of the graph is planned in
/// parts on the pool's threads, and each part must plan such a task once too.
#[test]
fn renamed_calls_and_their_originals_share_their_inputs_in_wide_joins() {
    let runs = Arc::new(AtomicUsize::new(0));
    let mut inputs = Vec::new();
    for i in 0..6_000u64 {
        let counter = runs.clone();
        let source = delayed(i).map(move |v| {
            counter.fetch_add(1, Ordering::SeqCst);
            v * 2
        });
        let call = source.map(|v| v + 1);
        drop(source); // the call's argument is now the source's only handle
        inputs.push(call.clone().with_key(format!("renamed-{i}")));
        inputs.push(call);
    }
    let sum = dask::map_many_pure("sum", 0, &inputs, |values| {
        values.iter().copied().sum::<u64>()
    });
    // The join's handles become the only ones: the parts plan these nodes themselves.
    drop(inputs);
    for config in [
        dask::Config::default().scheduler(dask::Scheduler::Threads(2)),
        dask::Config::default().scheduler(dask::Scheduler::Sync),
    ] {
        runs.store(0, Ordering::SeqCst);
        let total = dask::compute_with(std::slice::from_ref(&sum), &config).unwrap()[0];
        assert_eq!(total, 2 * (6_000 * 5_999 + 6_000), "{config:?}");
        assert_eq!(
            runs.load(Ordering::SeqCst),
            6_000,
            "each source once: {config:?}"
        );
    }
    // value, source and call per input, the renamed calls, the sum
    assert_eq!(dask::graph(&sum).len(), 6_000 * 4 + 1);
}

/// `d = d.clone().with_key(..)` in a loop: each renamed handle stood for the one before
/// it, and running, planning or dropping the last one recursed once per renaming
/// (a stack overflow: the process aborted).
#[test]
fn a_long_chain_of_renamed_handles_does_not_recurse() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let mut d = dask::delayed(1u64).map(move |v| {
        counter.fetch_add(1, Ordering::SeqCst);
        v + 1
    });
    let first = d.clone();
    for i in 0..50_000 {
        let keep = d.clone();
        d = keep.clone().with_key(format!("k{i}"));
    }
    assert_eq!(d.key(), "k49999");
    assert_eq!(d.compute().unwrap(), 2);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let graph = dask::graph((&d, &first));
    assert_eq!(
        graph.len(),
        3,
        "the value, the call and the call under k49999"
    );
    assert!(graph.to_dot().contains("k49999"));
    drop(first);
    drop(d);
}

/// An operator of the user's type that panics (here `i32::MAX + 1` in a debug build)
/// fails its task; the caller gets an error naming the operation and the pool is usable.
#[test]
fn a_panicking_operator_or_clone_fails_the_computation_only() {
    if cfg!(debug_assertions) {
        let err = (dask::delayed(i32::MAX) + 1).compute().unwrap_err();
        assert!(
            matches!(&err, Error::Panic { name, message, .. }
                if name == "add" && message.contains("overflow")),
            "{err}"
        );
    }
    #[derive(Debug)]
    struct CloneFails;
    impl Clone for CloneFails {
        fn clone(&self) -> Self {
            panic!("no copies")
        }
    }
    let value = dask::delayed(0u8).map(|_| CloneFails);
    // `zip` takes both by value: the second read clones.
    let err = value.zip(&value).compute().unwrap_err();
    assert!(
        matches!(&err, Error::Panic { message, .. } if message.contains("no copies")),
        "{err}"
    );
    assert_eq!((dask::delayed(2i32) * 21).compute().unwrap(), 42);
}

#[delayed(pure)]
fn ident<T: std::hash::Hash + Clone + Send + Sync + 'static>(x: T) -> T {
    x
}

#[delayed(pure)]
fn fill<const N: usize>(x: u8) -> Vec<u8> {
    vec![x; N]
}

/// A generic pure function's type and const arguments are part of its key: `0u64` and
/// `0i64` feed equal bytes, and the two calls were one node whose value had the other's
/// type (an internal error); `fill::<2>` and `fill::<3>` of one byte were one node
/// (a wrong value). Equal calls of one instance still merge.
#[test]
fn generic_pure_functions_keep_instances_apart() {
    let (a, b) = (ident(0u64), ident(0i64));
    assert_ne!(a.key(), b.key());
    assert_eq!(dask::compute((&a, &b)).unwrap(), (0u64, 0i64));
    assert_eq!(ident(7u64).key(), ident(7u64).key());
    let (two, three) = (fill::<2>(9), fill::<3>(9));
    assert_eq!(
        dask::compute((&two, &three)).unwrap(),
        (vec![9; 2], vec![9; 3])
    );
}

#[delayed(pure)]
fn pair_len(x: &u8, v: Vec<u8>) -> usize {
    usize::from(*x) + v.len()
}

/// A key from `with_key` is closed in the identity every reader hashes, `#[delayed(pure)]`
/// arguments included: a key could run into the bytes of the next argument, and two
/// different calls were merged.
#[test]
fn a_given_key_does_not_run_into_the_next_argument() {
    // Pure, so that both renamed nodes share its identity and only the keys differ.
    let p = dask::delayed_pure(1u8);
    let first = pair_len(p.clone().with_key("k"), vec![0; 9]);
    let second = pair_len(p.with_key("k\0\t\0\0\0\0\0\0\0"), Vec::<u8>::new());
    assert_ne!(first.key(), second.key());
    assert_eq!(dask::compute((&first, &second)).unwrap(), (10, 1));
}
