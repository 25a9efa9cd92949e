//! `#[delayed]` seen from a user's crate: what the builders accept, what the tasks
//! receive, and what `compute` returns.

// `&Vec<T>` parameters are the API's way to read a gathered `Vec<Delayed<T>>` without a
// copy; borrowed arguments (`&three`) exercise the builders' `&T` form on purpose.
#![allow(clippy::ptr_arg, clippy::needless_borrows_for_generic_args)]

use std::fmt;

use dask::{delayed, Delayed};

#[delayed]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[delayed]
fn generate(n: usize) -> Vec<f64> {
    (0..n).map(|i| i as f64).collect()
}

#[delayed]
fn total(data: &Vec<f64>) -> f64 {
    data.iter().sum()
}

/// Owned and borrowed parameters side by side.
#[delayed]
fn scale_into(mut data: Vec<f64>, factor: &f64) -> Vec<f64> {
    for x in &mut data {
        *x *= factor;
    }
    data
}

#[test]
fn plain_values_build_a_task_that_runs_only_when_computed() {
    let sum: Delayed<i64> = add(2, 3);
    assert_eq!(sum.name(), "add");
    assert!(sum.key().starts_with("add-"), "{}", sum.key());
    assert_eq!(sum.compute().unwrap(), 5);
}

#[test]
fn builders_accept_values_references_and_delayed_handles() {
    let two = dask::delayed(2i64);
    let three = 3i64;
    let a = add(&two, &three); // &Delayed<i64>, &i64
    let b = add(two, a.clone()); // Delayed<i64> by value
    assert_eq!(dask::compute(&[a, b]).unwrap(), vec![5, 7]);
}

#[test]
fn borrowed_and_owned_parameters_chain() {
    let data = generate(4);
    let sums = vec![
        total(&data),
        total(scale_into(&data, 10.0)),
        total(scale_into(data, &dask::delayed(0.5))),
    ];
    assert_eq!(dask::compute(&sums).unwrap(), vec![6.0, 60.0, 3.0]);
}

#[delayed]
fn concat(parts: Vec<String>) -> String {
    parts.join("+")
}

#[delayed]
fn lengths(parts: &Vec<String>) -> Vec<usize> {
    parts.iter().map(String::len).collect()
}

#[delayed]
fn word(i: usize) -> String {
    "ab".repeat(i)
}

#[test]
fn vec_parameters_gather_delayed_elements_in_order() {
    let words: Vec<Delayed<String>> = (1..=3).map(word).collect();
    let joined = concat(words.clone());
    let lens = lengths(&words);
    assert_eq!(joined.compute().unwrap(), "ab+abab+ababab");
    assert_eq!(lens.compute().unwrap(), vec![2, 4, 6]);
    // A plain Vec still works.
    assert_eq!(
        concat(vec!["x".to_string(), "y".to_string()])
            .compute()
            .unwrap(),
        "x+y"
    );
}

#[derive(Debug)]
struct TooBig(u32);

impl fmt::Display for TooBig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is too big", self.0)
    }
}

impl std::error::Error for TooBig {}

#[delayed]
fn checked(x: u32) -> Result<u32, TooBig> {
    if x > 10 {
        Err(TooBig(x))
    } else {
        Ok(x * 2)
    }
}

#[delayed]
fn parse_number(text: &str) -> std::io::Result<i32> {
    text.trim()
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

type MyResult<T> = Result<T, String>;
mod aliases {
    pub type Result<T> = std::result::Result<T, String>;
}

#[delayed]
fn non_empty(text: String) -> aliases::Result<usize> {
    if text.is_empty() {
        Err("empty text".to_string())
    } else {
        Ok(text.len())
    }
}

/// Not named `Result`: the `Result` is the task's value.
#[delayed]
fn kept(x: u8) -> MyResult<u8> {
    Err(format!("kept {x}"))
}

#[test]
fn result_returns_give_the_ok_value() {
    let doubled: Delayed<u32> = checked(4);
    assert_eq!(doubled.compute().unwrap(), 8);
    let parsed: Delayed<i32> = parse_number(" 42 ");
    assert_eq!(parsed.compute().unwrap(), 42);
    let len: Delayed<usize> = non_empty("abc".to_string());
    assert_eq!(len.compute().unwrap(), 3);
    let value: Delayed<MyResult<u8>> = kept(1);
    assert_eq!(value.compute().unwrap(), Err("kept 1".to_string()));
}

#[test]
fn an_err_fails_the_computation_with_key_name_and_source() {
    let bad = checked(11);
    let key = bad.key().to_string();
    let error = add(
        checked(1).map(|v| i64::from(*v)),
        bad.map(|v| i64::from(*v)),
    )
    .compute()
    .unwrap_err();
    let message = error.to_string();
    assert!(message.contains(&key), "{message}");
    assert!(message.contains("checked"), "{message}");
    assert!(message.contains("11 is too big"), "{message}");
    assert_eq!(error.key(), Some(key.as_str()));
    assert_eq!(error.task_name(), Some("checked"));

    let error = parse_number("x").compute().unwrap_err();
    assert!(error.to_string().contains("invalid digit"), "{error}");
    let error = non_empty(String::new()).compute().unwrap_err();
    assert!(error.to_string().contains("empty text"), "{error}");
}

#[delayed]
fn largest<T: PartialOrd + Clone>(items: &Vec<T>, floor: T) -> T {
    items
        .iter()
        .fold(floor, |best, x| if *x > best { x.clone() } else { best })
}

#[delayed]
fn repeat<T, const N: usize>(item: T) -> Vec<T>
where
    T: Clone,
{
    vec![item; N]
}

#[test]
fn generic_functions_keep_their_parameters() {
    let numbers = dask::delayed(vec![3, 9, 4]);
    assert_eq!(largest(&numbers, 5).compute().unwrap(), 9);
    assert_eq!(largest(vec![1.5, 0.5], 2.0).compute().unwrap(), 2.0);
    let words = repeat::<&'static str, 3>("hi");
    assert_eq!(words.compute().unwrap(), vec!["hi"; 3]);
    let nested = repeat::<Vec<i32>, 2>(repeat::<i32, 2>(7));
    assert_eq!(nested.compute().unwrap(), vec![vec![7, 7], vec![7, 7]]);
    assert_eq!(repeat_eager::<u8, 2>(1), vec![1, 1]);
}

#[delayed(name = "load-csv")]
fn load(rows: usize) -> usize {
    rows
}

#[test]
fn name_sets_the_display_name_and_the_key_prefix() {
    let rows = load(3);
    assert_eq!(rows.name(), "load-csv");
    assert!(rows.key().starts_with("load-csv-"), "{}", rows.key());
    let graph = dask::graph(std::slice::from_ref(&rows));
    assert_eq!(graph.len(), 1);
    assert_eq!(rows.compute().unwrap(), 3);
}

#[delayed(pure)]
fn pure_add(a: i64, b: i64) -> i64 {
    a + b
}

#[delayed(pure, name = "summed")]
fn pure_sum(values: &Vec<i64>, label: &str) -> String {
    format!("{label}={}", values.iter().sum::<i64>())
}

#[test]
fn pure_calls_are_keyed_by_content() {
    assert_eq!(pure_add(1, 2).key(), pure_add(1, 2).key());
    assert_ne!(pure_add(1, 2).key(), pure_add(2, 1).key());
    assert_ne!(pure_add(1, 2).key(), add(1, 2).key());
    assert_ne!(add(1, 2).key(), add(1, 2).key());

    let a = pure_sum(vec![1, 2], "x");
    let b = pure_sum(&vec![1, 2], String::from("x"));
    assert_eq!(a.key(), b.key());
    assert!(a.key().starts_with("summed-"), "{}", a.key());
    assert_ne!(a.key(), pure_sum(vec![1, 2], "y").key());

    // Both outputs are one node: the graph runs it once.
    let graph = dask::graph(&[a.clone(), b.clone()]);
    assert_eq!(graph.len(), 1);
    assert_eq!(dask::compute(&[a, b]).unwrap(), vec!["x=3", "x=3"]);
}

#[test]
fn pure_calls_fed_delayed_hash_the_dependency_key() {
    let shared = dask::delayed(5i64);
    let other = dask::delayed(5i64);
    assert_eq!(pure_add(&shared, 1).key(), pure_add(&shared, 1).key());
    // Same value, another node: another key.
    assert_ne!(pure_add(&shared, 1).key(), pure_add(&other, 1).key());
    // A node and a plain value of the same content are different arguments.
    assert_ne!(pure_add(&shared, 1).key(), pure_add(5, 1).key());
    // Pure upstream nodes built separately are the same node, so their readers are too.
    assert_eq!(
        pure_add(pure_add(1, 1), 1).key(),
        pure_add(pure_add(1, 1), 1).key()
    );
    assert_eq!(pure_add(pure_add(1, 1), 1).compute().unwrap(), 3);
}

#[delayed]
fn shout(text: &str, times: usize) -> String {
    text.to_uppercase().repeat(times)
}

#[delayed]
fn sum_slice(values: &[u32]) -> u32 {
    values.iter().sum()
}

#[test]
fn str_and_slice_parameters_are_held_as_string_and_vec() {
    let owned = String::from("ab");
    let texts = vec![
        shout("hi", 2),
        shout(&owned, 1),
        shout(owned.clone(), 1),
        shout(dask::delayed(String::from("x")), 3),
        shout(word(1), 1),
    ];
    assert_eq!(
        dask::compute(&texts).unwrap(),
        vec!["HIHI", "AB", "AB", "XXX", "AB"]
    );

    let parts: Vec<Delayed<u32>> = (1..=4).map(dask::delayed).collect();
    let sums = vec![
        sum_slice(vec![1, 2, 3]),
        sum_slice(&parts),
        sum_slice(dask::delayed(vec![10, 20])),
    ];
    assert_eq!(dask::compute(&sums).unwrap(), vec![6, 10, 30]);
    assert_eq!(sum_slice_eager(&[1, 1]), 2);
}

#[derive(Clone)]
struct Point {
    x: i32,
    y: i32,
}

#[delayed]
#[allow(clippy::toplevel_ref_arg)]
fn dot((a, b): (i32, i32), Point { x, y }: Point, _: u8, ref r: i32) -> i32 {
    a * x + b * y + r
}

#[test]
fn patterns_in_parameters_keep_working() {
    let p = dask::delayed(Point { x: 10, y: 100 });
    assert_eq!(dot((1, 2), p, 0, 3).compute().unwrap(), 213);
    assert_eq!(dot_eager((1, 1), Point { x: 1, y: 1 }, 0, 0), 2);
}

/// Counts the words of a text.
///
/// The eager function keeps these docs and attributes.
#[delayed]
#[inline]
#[allow(clippy::needless_pass_by_value, unused_mut)]
#[must_use]
pub fn count_words(mut text: String) -> usize {
    text.split_whitespace().count()
}

#[test]
fn the_eager_function_stays_callable_with_its_attributes() {
    assert_eq!(count_words_eager("a b c".to_string()), 3);
    assert_eq!(total_eager(&generate_eager(4)), 6.0);
    assert_eq!(add_eager(1, 2), 3);
    assert_eq!(count_words("x y".to_string()).compute().unwrap(), 2);
}

static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[delayed]
fn seed() -> u64 {
    RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    42
}

#[delayed]
fn nothing(x: u64) {
    assert_eq!(x, 42);
}

#[test]
fn zero_parameters_and_unit_returns() {
    let before = RUNS.load(std::sync::atomic::Ordering::SeqCst);
    let s = seed();
    let done: Delayed<()> = nothing(&s);
    // Building ran nothing.
    assert_eq!(RUNS.load(std::sync::atomic::Ordering::SeqCst), before);
    assert_eq!(
        dask::compute(&[done.clone(), nothing(42)]).unwrap(),
        vec![(), ()]
    );
    assert_eq!(s.compute().unwrap(), 42);
    assert!(RUNS.load(std::sync::atomic::Ordering::SeqCst) > before);
}

#[delayed]
#[allow(clippy::too_many_arguments)]
fn twelve(
    a: u64,
    b: &u64,
    c: u64,
    d: &u64,
    e: u64,
    f: &u64,
    g: u64,
    h: &u64,
    i: u64,
    j: &u64,
    k: u64,
    l: &str,
) -> u64 {
    a + b * 2
        + c * 3
        + d * 4
        + e * 5
        + f * 6
        + g * 7
        + h * 8
        + i * 9
        + j * 10
        + k * 11
        + l.len() as u64 * 12
}

#[test]
fn twelve_parameters_is_the_maximum_and_works() {
    let one = dask::delayed(1u64);
    let r = twelve(&one, &one, 1, 1, &one, 1, 1, &one, 1, 1, one.clone(), "x");
    assert_eq!(r.compute().unwrap(), (1..=12).sum::<u64>());
}

mod nested {
    use dask::delayed;

    #[delayed(pure)]
    pub(crate) fn inc(x: i32) -> i32 {
        x + 1
    }
}

#[test]
fn visibility_and_paths_follow_the_function() {
    let a = nested::inc(1);
    assert_eq!(a.compute().unwrap(), 2);
    assert_eq!(nested::inc_eager(1), 2);
    // The pure key hashes the full path, so a function of the same name elsewhere
    // gets other keys.
    assert_ne!(a.key(), pure_add(1, 1).key());
}

#[test]
fn functions_defined_in_a_block_work() {
    #[delayed]
    fn local(x: i32) -> i32 {
        x * 3
    }
    assert_eq!(local(local(2)).compute().unwrap(), 18);
}

/// `#[delayed]` on associated functions: the builder is `Type::f`, the eager function
/// `Type::f_eager`, and the body may use `Self::`.
struct Stats;

impl Stats {
    fn scale() -> f64 {
        10.0
    }

    #[delayed]
    fn scaled_mean(xs: &Vec<f64>) -> f64 {
        xs.iter().sum::<f64>() / xs.len() as f64 * Self::scale()
    }

    #[delayed(pure)]
    pub fn twice(x: u64) -> u64 {
        2 * x
    }

    /// No `Self` anywhere: still an associated function.
    #[delayed]
    fn plus_one(x: u64) -> u64 {
        x + 1
    }
}

#[test]
fn associated_functions_in_impl_blocks_build_tasks() {
    let mean = Stats::scaled_mean(dask::delayed(vec![1.0, 2.0, 3.0]));
    assert_eq!(mean.name(), "scaled_mean");
    assert_eq!(mean.compute().unwrap(), 20.0);
    assert_eq!(Stats::scaled_mean_eager(&vec![4.0]), 40.0);
    assert_eq!(Stats::twice(3).key(), Stats::twice(3).key(), "pure");
    assert_eq!(Stats::plus_one(Stats::twice(4)).compute().unwrap(), 9);
    assert_eq!(Stats::plus_one_eager(1), 2);
}
