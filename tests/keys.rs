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

// Was `pure_step-7ffab73cd29b5d10` with the 64-bit FNV-1a keys of cache format 1.
const PINNED_PURE_KEY: &str = "pure_step-a21a3ff70100ba8d";

/// Two calls whose keys collided under the 64-bit FNV-1a keys of format version 1.
#[delayed(pure)]
fn collide(x: u64, y: u8) -> (u64, u8) {
    (x, y)
}

#[test]
fn calls_whose_64_bit_keys_collided_are_kept_apart() {
    // Found by a rho search on the old scheme (FNV-1a 64 from the function's seed): under
    // it both calls were `collide-b82a5c4b25675070`, so the plan merged them and the
    // second value was silently the first one's (and a disk cache would have returned
    // it too).
    let (x1, y1) = (0x00ee_9b03_5243_9242, 0xbd);
    let (x2, y2) = (0x0053_efbc_7916_85c9, 0x61);
    let a = collide(x1, y1);
    let b = collide(x2, y2);
    assert_ne!(a.key(), b.key());
    assert_eq!(dask::graph((&a, &b)).len(), 2, "not merged");
    assert_eq!(dask::compute((&a, &b)).unwrap(), ((x1, y1), (x2, y2)));
}
