//! Idioms of Dask's own `dask/tests/test_delayed.py`, written as a Dask user moving to
//! this library would write them. Each test names the Dask test it ports; together they
//! are the examples of `docs/dask-idioms.md`.

use std::collections::{BTreeMap, HashMap};

use dask::{delayed, Delayed, Error, IntoArg};

#[delayed]
fn inc(x: i64) -> i64 {
    x + 1
}

#[delayed]
fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

/// `test_operators`: arithmetic between delayed values and plain numbers.
#[test]
fn operators() {
    let a = dask::delayed(10i64);
    let b = dask::delayed(3i64);
    assert_eq!((&a + &b).compute().unwrap(), 13);
    assert_eq!((&a - 1).compute().unwrap(), 9);
    assert_eq!((1 - &a).compute().unwrap(), -9);
    assert_eq!((&a * &b).compute().unwrap(), 30);
    assert_eq!((&a / &b).compute().unwrap(), 3);
    assert_eq!((&a % &b).compute().unwrap(), 1);
    assert_eq!((-&a).compute().unwrap(), -10);
    assert_eq!((&a & 6).compute().unwrap(), 2);
    assert_eq!((&a | &b).compute().unwrap(), 11);
    assert_eq!((5 ^ &a).compute().unwrap(), 15);
    let x = dask::delayed(1.5f64);
    assert_eq!((2.0 * &x).compute().unwrap(), 3.0);
    assert_eq!((x.clone() / 0.5).compute().unwrap(), 3.0);
    // Owned operands too, mixing owned and borrowed.
    assert_eq!((a.clone() + b.clone()).compute().unwrap(), 13);
    assert_eq!((a.clone() + &b).compute().unwrap(), 13);
    assert_eq!((&a + b).compute().unwrap(), 13);
    // Strings: `String + &str` is `Add`, through a node holding the `&'static str`.
    let s = dask::delayed(String::from("ab"));
    let c = dask::delayed("c");
    assert_eq!((&s + &c).compute().unwrap(), "abc");
}

/// `test_comparisons` (Dask's operators `<`, `==`; methods here).
#[test]
fn comparisons() {
    let a = dask::delayed(2i64);
    let b = dask::delayed(3i64);
    assert!(a.lt(&b).compute().unwrap());
    assert!(a.le(2).compute().unwrap());
    assert!(!a.gt(2).compute().unwrap());
    assert!(b.ge(&a).compute().unwrap());
    assert!(a.eq_(2).compute().unwrap());
    assert!(a.ne_(&b).compute().unwrap());
    assert!(dask::delayed(0.5).gt(0.25).compute().unwrap());
}

/// `test_common_subexpressions`: equal expressions built twice are one node.
#[test]
fn common_subexpressions() {
    let a = dask::delayed(vec![1i64, 2, 3]);
    let first = a.get(0) + a.get(0);
    let again = a.get(0) + a.get(0);
    assert_eq!(first.key(), again.key());
    // The value, one getitem and one add.
    assert_eq!(dask::graph(&[first.clone(), again]).len(), 3);
    assert_eq!(first.compute().unwrap(), 2);
    assert_ne!(a.get(1).key(), a.get(0).key());
    assert_ne!((a.get(0) + 1).key(), (a.get(0) + 2).key());
    // Keys are content: the same in a fresh build.
    assert_eq!((a.get(0) * 2).key(), (a.get(0) * 2).key());
}

/// `test_getattr`/`getitem` on containers: `d[0]`, `d["a"]`.
#[test]
fn indexing() {
    let list = dask::delayed(vec![10, 20, 30]);
    assert_eq!(list.get(2).compute().unwrap(), 30);
    let map: Delayed<HashMap<String, i32>> =
        dask::delayed(HashMap::from([("a".to_string(), 1), ("b".to_string(), 2)]));
    assert_eq!(map.get("b").compute().unwrap(), 2);
    // Out of range: the task panics, the computation fails with a clear error.
    let err = list.get(5).compute().unwrap_err();
    assert!(
        matches!(&err, Error::Panic { name, .. } if name == "getitem"),
        "{err}"
    );
}

/// `delayed(lambda a, b: ...)(x, y)`: several inputs to one closure.
#[test]
fn closures_over_several_inputs() {
    let xs = dask::delayed(vec![1.0, 2.0, 3.0]);
    let scale = dask::delayed(2.0);
    let scaled = xs.map2(&scale, |xs: &Vec<f64>, s: &f64| {
        xs.iter().map(|x| x * s).collect::<Vec<_>>()
    });
    assert_eq!(scaled.compute().unwrap(), vec![2.0, 4.0, 6.0]);
    let pair = xs.zip(&scale).map(|(xs, s)| xs.len() as f64 * s);
    assert_eq!(pair.compute().unwrap(), 6.0);
}

/// `test_delayed_with_nout`/`nout=2`: unpacking a tuple result.
#[test]
fn tuple_unpacking() {
    let pair = dask::delayed(2i64).map(|x| (x * 10, format!("{x}")));
    let (number, text) = pair.unzip();
    assert_eq!(number.compute().unwrap(), 20);
    assert_eq!(text.compute().unwrap(), "2");
    let (again, _) = pair.unzip();
    assert_eq!(number.key(), again.key(), "deterministic keys");
    let triple = dask::delayed((1u8, 2u16, 3u32));
    let (a, b, c) = triple.unzip();
    assert_eq!(dask::compute((&a, &b, &c)).unwrap(), (1, 2, 3));
}

/// `test_lists`, `test_dicts`, `test_literates`: containers of delayed values.
#[test]
fn gathering_containers() {
    let list: Delayed<Vec<i64>> = (0..4).map(inc).collect();
    assert_eq!(list.compute().unwrap(), vec![1, 2, 3, 4]);
    let again: Delayed<Vec<i64>> = (0..4).map(inc).collect();
    assert_ne!(
        list.key(),
        again.key(),
        "inc is not pure, so neither list is the other"
    );

    let map: Delayed<HashMap<String, i64>> = [("x".to_string(), inc(1)), ("y".to_string(), inc(2))]
        .into_iter()
        .collect();
    assert_eq!(map.compute().unwrap()["y"], 3);
    let sorted: Delayed<BTreeMap<i32, i64>> = (0..3).map(|k| (k, inc(k as i64))).collect();
    assert_eq!(
        sorted.compute().unwrap().into_iter().collect::<Vec<_>>(),
        vec![(0, 1), (1, 2), (2, 3)]
    );

    let a = inc(5);
    let tuple: Delayed<(i64, &'static str, f64)> = dask::collect((&a, "plain", 0.5));
    assert_eq!(tuple.compute().unwrap(), (6, "plain", 0.5));
}

/// A `Vec<T>` parameter takes arrays of delayed values and lists mixing both kinds.
#[test]
fn vec_parameters_take_arrays_and_mixed_lists() {
    assert_eq!(total([inc(1), inc(2)]).compute().unwrap(), 5);
    let mixed = vec![inc(1).into_arg(), 10i64.into_arg(), (&inc(2)).into_arg()];
    assert_eq!(total(mixed).compute().unwrap(), 15);
}

/// `dask_key_name=`: naming a node's key.
#[test]
fn key_names() {
    let x = inc(1).with_key("my-key");
    assert_eq!(x.key(), "my-key");
    assert_eq!(x.compute().unwrap(), 2);
    // A key read before renaming: the only handle is renamed all the same.
    let y = inc(2);
    let _ = y.key().to_string();
    let y = y.with_key("renamed");
    assert_eq!(y.key(), "renamed");

    // Two different nodes with one key cannot be computed together.
    let a = inc(1).with_key("same");
    let b = inc(2).with_key("same");
    match dask::compute(&[a.clone(), b]) {
        Err(Error::DuplicateKey { key, .. }) => assert_eq!(key, "same"),
        other => panic!("expected DuplicateKey, got {other:?}"),
    }
    // Apart, each computes.
    assert_eq!(a.compute().unwrap(), 2);

    // A given key that another node has of its own (a pure node's content key) is one
    // key for two nodes too.
    let own = dask::delayed_pure(4i64).map_pure("square", |v| v * v);
    let borrowed_key = dask::delayed_pure(3i64)
        .map_pure("square", |v| v * v)
        .with_key(own.key().to_string());
    for outputs in [
        vec![borrowed_key.clone(), own.clone()],
        vec![own.clone(), borrowed_key.clone()],
    ] {
        match dask::compute(&outputs) {
            Err(Error::DuplicateKey { key, .. }) => assert_eq!(key, own.key()),
            other => panic!("expected DuplicateKey, got {other:?}"),
        }
    }
    let value = dask::delayed(7i64).with_key(own.key().to_string());
    assert!(matches!(
        dask::compute(&[value.clone(), own.clone()]),
        Err(Error::DuplicateKey { .. })
    ));
    // Each alone computes.
    assert_eq!(value.compute().unwrap(), 7);
    assert_eq!(borrowed_key.compute().unwrap(), 9);

    // A shared node whose key was read is not renamed under its other handles: the
    // renamed handle gets a node of its own (the same call under the new key).
    let shared = inc(3);
    let old_key = shared.key().to_string();
    let other_handle = shared.clone();
    let renamed = shared.with_key("late");
    assert_eq!(renamed.key(), "late");
    assert_eq!(other_handle.key(), old_key);
    assert_eq!(renamed.compute().unwrap(), 4);
    assert_eq!(other_handle.compute().unwrap(), 4);
    assert_eq!(dask::graph((&renamed, &other_handle)).len(), 2);
    assert_eq!(dask::compute(&[renamed, other_handle]).unwrap(), [4, 4]);
}

/// `delayed(x, pure=True)` and `delayed(f, pure=True)(x)`.
#[test]
fn pure_values_and_closures() {
    assert_eq!(
        dask::delayed_pure(vec![1.0, 2.0]).key(),
        dask::delayed_pure(vec![1.0, 2.0]).key()
    );
    assert_ne!(
        dask::delayed_pure(0.0f64).key(),
        dask::delayed_pure(-0.0f64).key(),
        "floats by bit pattern"
    );
    let x = dask::delayed_pure(3i64);
    let a = x.map_pure("square", |v| v * v);
    let b = x.map_pure("square", |v| v * v);
    assert_eq!(a.key(), b.key());
    assert_ne!(a.key(), x.map_pure("cube", |v| v * v * v).key());
    assert_eq!(dask::compute(&[a, b]).unwrap(), vec![9, 9]);
}

#[delayed(pure)]
fn mean(values: &Vec<f64>) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

#[delayed(pure)]
fn scale(x: f64, factor: f32, label: &str) -> f64 {
    let _ = label;
    x * f64::from(factor)
}

/// A scientific user's pure functions take floats and containers of them directly,
/// hashed by bit pattern.
#[test]
fn pure_functions_over_floats() {
    assert_eq!(mean(vec![1.0, 2.0]).key(), mean(vec![1.0, 2.0]).key());
    assert_ne!(mean(vec![1.0, 2.0]).key(), mean(vec![2.0, 1.0]).key());
    assert_ne!(scale(0.0, 1.0, "a").key(), scale(-0.0, 1.0, "a").key());
    assert_eq!(scale(1.5, 2.0, "a").key(), scale(1.5, 2.0, "a").key());
    assert_ne!(scale(1.5, 2.0, "a").key(), scale(1.5, 2.0, "b").key());
    assert_eq!(
        scale(mean(vec![1.0, 3.0]), 2.0, "x").compute().unwrap(),
        4.0
    );
}

/// Not `Hash`: a logger handle.
#[derive(Clone)]
struct Logger;

#[delayed(pure, ignore(verbose, logger))]
fn fit(data: &Vec<i64>, verbose: bool, logger: Logger) -> i64 {
    let _ = (verbose, logger);
    data.iter().sum()
}

/// joblib's `Memory.cache(ignore=[...])`: arguments that do not change the result stay
/// out of the key, and need not be hashable.
#[test]
fn ignored_arguments_stay_out_of_the_key() {
    let a = fit(vec![1, 2], true, Logger);
    let b = fit(vec![1, 2], false, Logger);
    assert_eq!(a.key(), b.key());
    assert_ne!(a.key(), fit(vec![1, 3], true, Logger).key());
    assert_eq!(dask::compute(&[a, b]).unwrap(), vec![3, 3]);
}
