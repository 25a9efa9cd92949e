//! `dask::Memory` when something other than a regular file has an entry's name: a FIFO
//! (named pipe) is never opened, since opening one waits for a writer forever; it is
//! reported, recomputed and replaced like a corrupt entry.
#![cfg(unix)]

mod support;
#[path = "support/within.rs"]
mod within;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use dask::{delayed, Memory};
use within::within;

/// A directory of its own for each test (tests run in parallel), emptied first.
fn fresh_dir(test: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("dask-memory-special-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The one `.bin` entry file under `dir`.
fn the_entry(dir: &Path) -> PathBuf {
    let mut files = Vec::new();
    for folder in std::fs::read_dir(dir).unwrap() {
        let folder = folder.unwrap().path();
        if folder.is_dir() {
            for file in std::fs::read_dir(&folder).unwrap() {
                let file = file.unwrap().path();
                if file.extension().is_some_and(|e| e == "bin") {
                    files.push(file);
                }
            }
        }
    }
    assert_eq!(files.len(), 1, "{files:?}");
    files.pop().unwrap()
}

/// Replaces `path` with a FIFO (the `mkfifo` program: the tests use no C bindings).
fn replace_with_fifo(path: &Path) {
    std::fs::remove_file(path).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo {}", path.display());
    assert!(is_fifo(path));
}

fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

static RUNS: AtomicUsize = AtomicUsize::new(0);

#[delayed(pure)]
fn piped(x: u64) -> String {
    RUNS.fetch_add(1, Ordering::SeqCst);
    format!("piped {x}")
}

#[test]
fn contains_answers_false_for_a_fifo_without_waiting_for_a_writer() {
    let dir = fresh_dir("contains");
    let memory = Memory::new(&dir).unwrap();
    memory.cache(&piped(1)).unwrap().compute().unwrap();
    let entry = the_entry(&dir);
    assert!(memory.contains(&piped(1)).unwrap());
    replace_with_fifo(&entry);
    let asked = memory.clone();
    let contained = within("contains with a FIFO as the entry", move || {
        asked.contains(&piped(1)).map_err(|e| e.to_string())
    });
    assert_eq!(contained, Ok(false));
    assert!(is_fifo(&entry), "contains changes nothing");
    let _ = std::fs::remove_dir_all(&dir);
}

const FIFO_CHILD: &str = "DASK_MEMORY_FIFO_CHILD";

/// A hit node whose entry becomes a FIFO before it runs: the value is recomputed
/// (counted as a corrupt entry), the FIFO replaced by the entry, and the next run hits.
/// Run in a child process by the test below, which reads its warnings on stderr.
#[test]
#[ignore = "run as a child process by a_fifo_in_place_of_an_entry_is_recomputed_and_replaced"]
fn fifo_entry_child() {
    let dir = PathBuf::from(std::env::var_os(FIFO_CHILD).expect("run through the parent"));
    let memory = Memory::new(&dir).unwrap();
    let expected = "piped 2".to_string();
    assert_eq!(
        memory.cache(&piped(2)).unwrap().compute().unwrap(),
        expected
    );
    let entry = the_entry(&dir);
    let good = std::fs::read(&entry).unwrap();

    // Between `cache` (the entry was a file: a hit node) and `compute`.
    let node = memory.cache(&piped(2)).unwrap();
    assert_eq!(dask::graph(&node).len(), 1, "a hit node");
    replace_with_fifo(&entry);
    let runs = RUNS.load(Ordering::SeqCst);
    let value = within("a hit node whose entry is a FIFO", move || {
        node.compute().map_err(|e| e.to_string())
    });
    assert_eq!(value, Ok(expected.clone()));
    assert_eq!(RUNS.load(Ordering::SeqCst), runs + 1, "recomputed");
    let stats = memory.stats();
    assert_eq!((stats.hits, stats.misses, stats.corrupt), (0, 2, 1));
    assert!(!is_fifo(&entry));
    assert_eq!(std::fs::read(&entry).unwrap(), good, "the entry is back");

    // The rewritten entry is a plain hit.
    assert_eq!(
        memory.cache(&piped(2)).unwrap().compute().unwrap(),
        expected
    );
    assert_eq!(RUNS.load(Ordering::SeqCst), runs + 1);
    assert_eq!(memory.stats().hits, 1);

    // A FIFO already there when `cache` looks: not a hit, so the original is computed
    // in the graph and its entry replaces the FIFO.
    replace_with_fifo(&entry);
    let cached = memory.clone();
    let value = within("caching over a FIFO", move || {
        cached
            .cache(&piped(2))
            .and_then(|node| node.compute())
            .map_err(|e| e.to_string())
    });
    assert_eq!(value, Ok(expected));
    assert_eq!(RUNS.load(Ordering::SeqCst), runs + 2);
    assert_eq!(std::fs::read(&entry).unwrap(), good);
    println!("FIFO CHILD DONE");
}

#[test]
fn a_fifo_in_place_of_an_entry_is_recomputed_and_replaced() {
    let dir = fresh_dir("load");
    let out = support::run_test_alone("fifo_entry_child", &[(FIFO_CHILD, dir.to_str().unwrap())]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("FIFO CHILD DONE"), "{stdout}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("dask: warning: "))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].starts_with("dask: warning: cache entry ")
            && warnings[0].contains("for `piped` (piped-")
            && warnings[0].ends_with("is a FIFO (named pipe), not a regular file; recomputing it"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
