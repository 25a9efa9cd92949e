//! Keys are the same in every run and every process.

use dask::{delayed, Delayed};

#[delayed]
fn step(x: u64) -> u64 {
    x + 1
}

#[delayed(pure)]
fn pure_step(x: u64, tag: String) -> u64 {
    x + tag.len() as u64
}

fn build_and_list_keys() -> Vec<String> {
    let a = step(1);
    let b = step(a.clone());
    let c = pure_step(b.clone(), "t".to_string());
    let d = dask::delayed(5u64);
    [a, b, c, d]
        .iter()
        .map(|d: &Delayed<u64>| d.key().to_string())
        .collect()
}

const CHILD: &str = "DASK_KEYS_CHILD";

/// The child process of the test below: prints the keys of a fixed graph. Ignored in
/// normal runs (it would check nothing there); the parent runs it with `--ignored`.
#[test]
#[ignore = "run as a child process by keys_are_identical_in_separate_processes"]
fn keys_child() {
    assert!(
        std::env::var_os(CHILD).is_some(),
        "run through the parent test"
    );
    println!("KEYS {}", build_and_list_keys().join(" "));
}

fn keys_from_a_new_process() -> Vec<String> {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "keys_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("KEYS ").map(|(_, keys)| keys))
        .expect("child printed keys");
    line.split(' ').map(str::to_string).collect()
}

#[test]
fn keys_are_identical_in_separate_processes() {
    let first = keys_from_a_new_process();
    let second = keys_from_a_new_process();
    assert_eq!(first.len(), 4);
    assert_eq!(first, second);
    assert!(
        first[0].starts_with("step-") && first[2].starts_with("pure_step-"),
        "{first:?}"
    );
    assert!(
        first
            .iter()
            .all(|k| k.rsplit('-').next().unwrap().len() == 16),
        "{first:?}"
    );
}

#[test]
fn pure_keys_do_not_depend_on_build_order_or_process() {
    // A pure call with plain arguments hashes only its path, its source fingerprint and
    // its arguments: pinned here, so a change of the hashing (which would invalidate
    // on-disk caches) cannot slip by. Editing `pure_step`'s code changes this value, by
    // design; reformatting it or its comments does not.
    let k = pure_step(3, "ab".to_string());
    let again = pure_step(3, "ab".to_string());
    assert_eq!(k.key(), again.key());
    assert_eq!(k.key(), PINNED_PURE_KEY);
}

const PINNED_PURE_KEY: &str = "pure_step-7ffab73cd29b5d10";
