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

#[delayed(pure)]
fn pure_inc(x: u64) -> u64 {
    x + 1
}

/// The keys of `graph`'s nodes, sorted.
fn keys_of(graph: &dask::TaskGraph) -> Vec<String> {
    let mut keys: Vec<String> = graph.nodes().map(|(_, n)| n.key.clone()).collect();
    keys.sort();
    keys
}

#[test]
fn equal_pure_calls_given_different_keys_are_two_nodes() {
    // Keys are identity (Dask's `dask_key_name`): merging them would lose a key.
    let (a, b) = (pure_inc(1).with_key("A"), pure_inc(1).with_key("B"));
    let graph = dask::graph((&a, &b));
    assert_eq!(keys_of(&graph), ["A", "B"]);
    let dot = graph.to_dot();
    assert!(
        dot.contains("tooltip=\"A\\n") && dot.contains("tooltip=\"B\\n"),
        "{dot}"
    );
    assert_eq!(dask::compute(&[a, b]).unwrap(), [2, 2]);
    // One given key and the content key: two nodes as well.
    let (given, own) = (pure_inc(5).with_key("given"), pure_inc(5));
    let graph = dask::graph((&given, &own));
    assert_eq!(
        keys_of(&graph),
        ["given".to_string(), own.key().to_string()]
    );
    assert_eq!(dask::compute(&[given, own]).unwrap(), [6, 6]);
    // Equal calls under one key stay one node.
    let (a, b) = (pure_inc(7).with_key("same"), pure_inc(7).with_key("same"));
    assert_eq!(dask::graph((&a, &b)).len(), 1);
    assert_eq!(dask::compute(&[a, b]).unwrap(), [8, 8]);
    // Equal pure calls reading them are two nodes too: each keeps its input's key.
    let (a, b) = (pure_inc(1).with_key("A"), pure_inc(1).with_key("B"));
    let (ra, rb) = (pure_inc(&a), pure_inc(&b));
    assert_ne!(ra.key(), rb.key());
    let graph = dask::graph((&ra, &rb));
    assert_eq!(graph.len(), 4);
    let keys = keys_of(&graph);
    assert!(
        keys.contains(&"A".to_string()) && keys.contains(&"B".to_string()),
        "{keys:?}"
    );
    assert_eq!(dask::compute(&[ra, rb]).unwrap(), [3, 3]);
    // Different content under one key is two nodes with one key.
    let (c, d) = (pure_inc(1).with_key("clash"), pure_inc(2).with_key("clash"));
    match dask::compute(&[c, d]) {
        Err(dask::Error::DuplicateKey { key, .. }) => assert_eq!(key, "clash"),
        other => panic!("expected DuplicateKey, got {other:?}"),
    }
}

#[test]
fn a_new_key_on_a_shared_handle_leaves_the_other_handles_node_alone() {
    let y = step(1);
    let old = y.key().to_string();
    let z = y.clone().with_key("other");
    assert_eq!(y.key(), old);
    assert_eq!(z.key(), "other");
    assert_eq!(y.compute().unwrap(), 2, "the original still computes");
    assert_eq!(z.compute().unwrap(), 2);
    let graph = dask::graph((&y, &z));
    assert_eq!(keys_of(&graph), {
        let mut keys = vec![old.clone(), "other".to_string()];
        keys.sort();
        keys
    });
    assert_eq!(dask::compute(&[y.clone(), z]).unwrap(), [2, 2]);
    assert_eq!(y.compute().unwrap(), 2, "and computes again");
}

#[test]
fn a_new_key_on_a_shared_handle_before_any_key_was_read_renames_only_that_handle() {
    let y = step(10);
    let reader = step(y.clone());
    let z = y.clone().with_key("early");
    assert_eq!(z.key(), "early");
    assert_ne!(y.key(), "early");
    // The reader still reads the node under its own key.
    let graph = dask::graph((&reader, &z));
    assert_eq!(graph.len(), 3);
    assert!(graph.find(y.key()).is_some() && graph.find("early").is_some());
    assert_eq!(dask::compute(&[reader, z, y]).unwrap(), [12, 11, 11]);
}

#[test]
fn a_new_key_on_a_shared_pure_handle_is_a_node_of_its_own() {
    let p = pure_inc(20);
    let q = p.clone().with_key("q");
    assert_ne!(p.key(), "q");
    assert_eq!(dask::graph((&p, &q)).len(), 2);
    assert_eq!(dask::compute(&[p, q]).unwrap(), [21, 21]);
}

#[test]
fn the_same_key_again_on_a_shared_handle_is_the_same_node() {
    let y = step(3).with_key("kept");
    let z = y.clone().with_key("kept");
    assert_eq!(dask::graph((&y, &z)).len(), 1);
    let own = step(4);
    let again = own.clone().with_key(own.key().to_string());
    assert_eq!(dask::graph((&own, &again)).len(), 1);
    assert_eq!(dask::compute(&[y, z, own, again]).unwrap(), [4, 4, 5, 5]);
}
