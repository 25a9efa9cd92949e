//! `dask::Memory` with types whose serde form postcard's positional format cannot hold
//! faithfully: never stored, so never loaded as another value; computed every time with
//! a warning naming the type and why.

mod support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use dask::{delayed, Memory};
use serde::{Deserialize, Serialize};

/// A directory of its own for each test (tests run in parallel), emptied first.
fn fresh_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dask-memory-serde-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// `a` is left out when it is `None`: postcard would then read `b`'s byte as `a`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Sparse {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    a: Option<u8>,
    b: u8,
    c: Vec<u8>,
}

static SPARSE_RUNS: AtomicUsize = AtomicUsize::new(0);

#[delayed(pure)]
fn sparse(a: Option<u8>, b: u8) -> Sparse {
    SPARSE_RUNS.fetch_add(1, Ordering::SeqCst);
    Sparse {
        a,
        b,
        c: vec![5, 0],
    }
}

/// Serializes as the bare content; its `Deserialize` needs a self-describing format.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
enum Loose {
    Number(u32),
    Text(String),
}

static LOOSE_RUNS: AtomicUsize = AtomicUsize::new(0);

#[delayed(pure)]
fn loose(x: u32) -> Loose {
    LOOSE_RUNS.fetch_add(1, Ordering::SeqCst);
    Loose::Number(x)
}

const SERDE_CHILD: &str = "DASK_MEMORY_SERDE_CHILD";

/// Runs each function twice through the cache and checks values, runs and what was
/// stored. Run in a child process by the test below, which reads the warnings.
#[test]
#[ignore = "run as a child process by values_postcard_cannot_hold_are_computed_every_time"]
fn serde_formats_child() {
    let dir = PathBuf::from(std::env::var_os(SERDE_CHILD).expect("run through the parent"));
    let memory = Memory::new(&dir).unwrap();

    // A value that skips `a`: both runs compute, neither returns another value.
    let expected = Sparse {
        a: None,
        b: 1,
        c: vec![5, 0],
    };
    for run in 1..=2 {
        let node = memory.cache(&sparse(None, 1)).unwrap();
        assert_eq!(node.compute().unwrap(), expected, "run {run}");
        assert_eq!(
            SPARSE_RUNS.load(Ordering::SeqCst),
            run,
            "computed each time"
        );
    }
    assert_eq!(memory.size().unwrap().entries, 0, "nothing stored");
    let stats = memory.stats();
    assert_eq!((stats.hits, stats.misses, stats.write_failures), (0, 2, 2));

    // The same type when nothing is skipped is stored and loaded as usual.
    let full = Sparse {
        a: Some(9),
        b: 1,
        c: vec![5, 0],
    };
    for _ in 0..2 {
        let node = memory.cache(&sparse(Some(9), 1)).unwrap();
        assert_eq!(node.compute().unwrap(), full);
    }
    assert_eq!(SPARSE_RUNS.load(Ordering::SeqCst), 3, "the second run hit");
    assert_eq!(memory.size().unwrap().entries, 1);

    // An untagged enum encodes but does not decode: not stored, so no entry is found
    // corrupt on every later run.
    for run in 1..=2 {
        let node = memory.cache(&loose(7)).unwrap();
        assert_eq!(node.compute().unwrap(), Loose::Number(7), "run {run}");
        assert_eq!(LOOSE_RUNS.load(Ordering::SeqCst), run);
    }
    assert_eq!(memory.size().unwrap().entries, 1, "only `full`'s entry");
    let stats = memory.stats();
    assert_eq!(
        (stats.hits, stats.corrupt, stats.write_failures),
        (1, 0, 4),
        "{stats:?}"
    );
    println!("SERDE CHILD DONE");
}

#[test]
fn values_postcard_cannot_hold_are_computed_every_time() {
    let dir = fresh_dir("formats");
    let out = support::run_test_alone(
        "serde_formats_child",
        &[(SERDE_CHILD, dir.to_str().unwrap())],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("SERDE CHILD DONE"), "{stdout}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("dask: warning: "))
        .collect();
    assert_eq!(warnings.len(), 4, "{stderr}");
    for warning in &warnings[..2] {
        assert!(
            warning.starts_with("dask: warning: cannot cache `sparse` (sparse-")
                && warning.ends_with(
                    "): `memory_serde_formats::Sparse` skips fields when serializing \
                     (`skip_serializing_if`, here field `a` of `Sparse`), which postcard's \
                     format cannot represent; the value is used uncached"
                ),
            "{warning}"
        );
    }
    for warning in &warnings[2..] {
        assert!(
            warning.starts_with("dask: warning: cannot cache `loose` (loose-")
                && warning.contains("`memory_serde_formats::Loose` does not decode back")
                && warning.ends_with("; the value is used uncached"),
            "{warning}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
