//! `dask::Memory`: hits skip the upstream, edits invalidate, bad entries are recomputed,
//! processes share a directory safely, non-pure nodes are refused.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use dask::{delayed, Delayed, Error, Memory};

/// A directory of its own for each test (tests run in parallel), emptied first.
fn fresh_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dask-disk-cache-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The `.bin` entry files under `dir`, sorted.
fn entry_files(dir: &Path) -> Vec<PathBuf> {
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
    files.sort();
    files
}

#[test]
fn memory_is_a_shareable_handle() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    shareable::<Memory>();
    shareable::<dask::CacheStats>();
    shareable::<dask::CacheSize>();
}

// ---- hits and misses ----

static GENERATED: AtomicUsize = AtomicUsize::new(0);
static SUMMED: AtomicUsize = AtomicUsize::new(0);

#[delayed(pure)]
fn generate(n: u64) -> Vec<u64> {
    GENERATED.fetch_add(1, Ordering::SeqCst);
    (0..n).collect()
}

#[delayed(pure)]
fn sum(data: &Vec<u64>) -> u64 {
    SUMMED.fetch_add(1, Ordering::SeqCst);
    data.iter().sum()
}

#[test]
fn a_hit_loads_the_value_and_skips_the_whole_upstream() {
    let dir = fresh_dir("hit");
    let memory = Memory::new(&dir).unwrap();

    let first = memory.cache(&sum(generate(100))).unwrap();
    assert_eq!(first.name(), "cached");
    assert_eq!(dask::graph(&first).len(), 3, "a miss computes the original");
    assert_eq!(first.compute().unwrap(), 4950);
    assert_eq!(GENERATED.load(Ordering::SeqCst), 1);
    assert_eq!(SUMMED.load(Ordering::SeqCst), 1);
    let stats = memory.stats();
    assert_eq!((stats.hits, stats.misses, stats.corrupt), (0, 1, 0));
    assert_eq!(memory.size().unwrap().entries, 1);

    // Built again from scratch, as a new run of the program would.
    let second = memory.cache(&sum(generate(100))).unwrap();
    assert_eq!(
        second.key(),
        first.key(),
        "hit and miss nodes share their key"
    );
    assert_eq!(dask::graph(&second).len(), 1, "a hit has no inputs");
    assert_eq!(second.compute().unwrap(), 4950);
    assert_eq!(
        GENERATED.load(Ordering::SeqCst),
        1,
        "the upstream did not run"
    );
    assert_eq!(SUMMED.load(Ordering::SeqCst), 1);
    let stats = memory.stats();
    assert_eq!((stats.hits, stats.misses, stats.corrupt), (1, 1, 0));

    // Other arguments are another entry; a new Memory on the same directory (another
    // process, say) sees the entries, and counts on its own.
    let other = Memory::new(&dir).unwrap();
    assert_eq!(
        other.cache(&sum(generate(10))).unwrap().compute().unwrap(),
        45
    );
    assert_eq!(
        other.cache(&sum(generate(100))).unwrap().compute().unwrap(),
        4950
    );
    let stats = other.stats();
    assert_eq!((stats.hits, stats.misses), (1, 1));
    assert_eq!(memory.stats().hits, 1);
    assert_eq!(other.size().unwrap().entries, 2);
    let _ = std::fs::remove_dir_all(&dir);
}

static INNER_RUNS: AtomicUsize = AtomicUsize::new(0);
static OUTER_RUNS: AtomicUsize = AtomicUsize::new(0);

#[delayed(pure)]
fn inner(x: u32) -> String {
    INNER_RUNS.fetch_add(1, Ordering::SeqCst);
    format!("<{x}>")
}

#[delayed(pure)]
fn outer(s: String) -> String {
    OUTER_RUNS.fetch_add(1, Ordering::SeqCst);
    s.repeat(2)
}

#[test]
fn cached_nodes_downstream_of_cached_nodes_hit_on_the_next_run() {
    let dir = fresh_dir("chain");
    let memory = Memory::new(&dir).unwrap();
    let build = || {
        let a = memory.cache(&inner(7)).unwrap();
        memory.cache(&outer(&a)).unwrap()
    };
    let first = build();
    assert_eq!(first.compute().unwrap(), "<7><7>");
    let second = build();
    assert_eq!(second.key(), first.key());
    assert_eq!(second.compute().unwrap(), "<7><7>");
    assert_eq!(INNER_RUNS.load(Ordering::SeqCst), 1);
    assert_eq!(OUTER_RUNS.load(Ordering::SeqCst), 1);
    let stats = memory.stats();
    assert_eq!(
        (stats.hits, stats.misses),
        (1, 2),
        "the outer hit hides the inner"
    );
    // Caching a cached node changes nothing.
    assert_eq!(memory.cache(&second).unwrap().key(), second.key());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_cached_node_merges_with_equal_calls_and_not_with_its_input() {
    let dir = fresh_dir("merge");
    let memory = Memory::new(&dir).unwrap();
    let original = square(99);
    let a = memory.cache(&original).unwrap();
    let b = memory.cache(&square(99)).unwrap();
    assert_ne!(a.key(), original.key());
    assert_eq!(
        dask::graph((&a, &b)).len(),
        2,
        "one original, one cached node"
    );
    assert_eq!(dask::compute((&a, &b)).unwrap(), (9801, 9801));
    assert_eq!(memory.stats().misses, 1);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- refusals ----

#[delayed]
fn not_pure(x: u64) -> u64 {
    x + 1
}

#[delayed(pure)]
fn pure_inc(x: u64) -> u64 {
    x + 1
}

fn refusal<T>(memory: &Memory, node: &Delayed<T>) -> String
where
    T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
{
    match memory.cache(node) {
        Err(e @ Error::Cache(dask::CacheError::NotCacheable { .. })) => {
            assert_eq!(e.key(), Some(node.key()));
            e.to_string()
        }
        Err(other) => panic!("another error: {other}"),
        Ok(_) => panic!("{} was cached", node.key()),
    }
}

#[test]
fn nodes_that_are_not_pure_all_the_way_up_are_refused() {
    let dir = fresh_dir("refuse");
    let memory = Memory::new(&dir).unwrap();

    let plain = not_pure(1);
    let message = refusal(&memory, &plain);
    assert!(
        message.starts_with(&format!(
            "cannot cache `not_pure` ({}): it is not pure",
            plain.key()
        )),
        "{message}"
    );
    assert!(message.contains("#[delayed(pure)]"), "{message}");

    let over_plain = pure_inc(pure_inc(&plain));
    let message = refusal(&memory, &over_plain);
    assert!(
        message.contains(&format!(
            "depends on `not_pure` ({}), which is not pure",
            plain.key()
        )),
        "{message}"
    );

    let data = dask::delayed(5u64);
    let message = refusal(&memory, &pure_inc(&data));
    assert!(
        message.contains(&format!("depends on `value` ({})", data.key())),
        "{message}"
    );
    assert!(message.contains("dask::delayed(value)"), "{message}");
    assert!(message.contains("plain argument"), "{message}");

    let closure = pure_inc(1).map(|v| v * 2);
    let message = refusal(&memory, &closure);
    assert!(message.contains("it is a `map` closure"), "{message}");

    assert!(memory.cache(&pure_inc(pure_inc(1))).is_ok());
    assert_eq!(memory.size().unwrap().entries, 0, "refusing writes nothing");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- bad entries ----

static LABEL_RUNS: AtomicUsize = AtomicUsize::new(0);

#[delayed(pure)]
fn label(x: u64) -> String {
    LABEL_RUNS.fetch_add(1, Ordering::SeqCst);
    format!("label number {x}")
}

#[delayed(pure)]
fn square(x: u64) -> u64 {
    x * x
}

const CORRUPT_CHILD: &str = "DASK_DISK_CACHE_CORRUPT_CHILD";

/// Damages the one entry of `label(3)` in each of several ways, and checks each time that
/// the value is recomputed, correct, counted and rewritten. Run in a child process by
/// the test below, which reads its warnings on stderr.
#[test]
#[ignore = "run as a child process by bad_entries_are_recomputed_with_a_warning"]
fn bad_entries_child() {
    let dir = PathBuf::from(std::env::var_os(CORRUPT_CHILD).expect("run through the parent"));
    let memory = Memory::new(&dir).unwrap();
    let expected = "label number 3".to_string();
    assert_eq!(
        memory.cache(&label(3)).unwrap().compute().unwrap(),
        expected
    );
    let [entry] = entry_files(&dir).try_into().unwrap();
    let good = std::fs::read(&entry).unwrap();
    // An entry of another node and type, for the "wrong entry" case.
    assert_eq!(memory.cache(&square(5)).unwrap().compute().unwrap(), 25);
    let other = entry_files(&dir).into_iter().find(|f| *f != entry).unwrap();
    let other = std::fs::read(other).unwrap();

    let mut flipped = good.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x10;
    let mut flipped_header = good.clone();
    flipped_header[20] ^= 0x01;
    let damages: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() - 3].to_vec()),
        ("header only", good[..56].to_vec()),
        ("empty", Vec::new()),
        ("payload bit flip", flipped),
        ("identity bit flip", flipped_header),
        (
            "garbage",
            b"this is not a cache entry at all, just text".repeat(3),
        ),
        ("another node's entry", other),
    ];
    for (round, (what, bytes)) in damages.iter().enumerate() {
        std::fs::write(&entry, bytes).unwrap();
        let runs = LABEL_RUNS.load(Ordering::SeqCst);
        let node = memory.cache(&label(3)).unwrap();
        assert_eq!(
            dask::graph(&node).len(),
            1,
            "{what}: a hit node was expected"
        );
        assert_eq!(node.compute().unwrap(), expected, "{what}");
        assert_eq!(
            LABEL_RUNS.load(Ordering::SeqCst),
            runs + 1,
            "{what}: recomputed"
        );
        assert_eq!(memory.stats().corrupt, round as u64 + 1, "{what}");
        assert_eq!(
            std::fs::read(&entry).unwrap(),
            good,
            "{what}: entry rewritten"
        );
    }
    // The rewritten entry is a plain hit again.
    let runs = LABEL_RUNS.load(Ordering::SeqCst);
    assert_eq!(
        memory.cache(&label(3)).unwrap().compute().unwrap(),
        expected
    );
    assert_eq!(LABEL_RUNS.load(Ordering::SeqCst), runs);
    let stats = memory.stats();
    assert_eq!((stats.hits, stats.corrupt), (1, damages.len() as u64));
    assert_eq!(stats.misses, 2 + damages.len() as u64);

    // An entry removed between `cache` and `compute`: recomputed as well.
    let node = memory.cache(&label(3)).unwrap();
    std::fs::remove_file(&entry).unwrap();
    assert_eq!(node.compute().unwrap(), expected);
    assert_eq!(std::fs::read(&entry).unwrap(), good);
    println!("DAMAGES {}", damages.len());
}

#[test]
fn bad_entries_are_recomputed_with_a_warning() {
    let dir = fresh_dir("corrupt");
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "bad_entries_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CORRUPT_CHILD, &dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    let damages: usize = stdout
        .lines()
        .find_map(|l| l.split_once("DAMAGES ").map(|(_, n)| n.trim()))
        .expect("the child ran")
        .parse()
        .unwrap();
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("dask: warning: cache entry "))
        .collect();
    assert_eq!(warnings.len(), damages + 1, "{stderr}");
    assert!(warnings
        .iter()
        .all(|w| w.contains("`label` (label-") && w.ends_with("; recomputing it")));
    assert!(
        warnings.iter().any(|w| w.contains("is truncated")),
        "{stderr}"
    );
    assert!(warnings.iter().any(|w| w.contains("checksum")), "{stderr}");
    assert!(
        warnings.iter().any(|w| w.contains("not a cache entry")),
        "{stderr}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("another node's value or another type")),
        "{stderr}"
    );
    assert!(
        warnings.last().unwrap().contains("has disappeared"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

static CHECKED_RUNS: AtomicUsize = AtomicUsize::new(0);

#[delayed(pure)]
fn checked(x: u64) -> String {
    CHECKED_RUNS.fetch_add(1, Ordering::SeqCst);
    format!("checked {x}")
}

/// Format version 3's header length (version 2's) and the offsets in it (see `memory/entry.rs`).
const HEADER_LEN: usize = 56;
const NODE_ID_HIGH_HALF: std::ops::Range<usize> = 24..32;
const PAYLOAD_LEN: std::ops::Range<usize> = 48..56;

/// The CRC-32 at bytes 12..16 made right again for the bytes from 16 on.
fn reseal(entry: &mut [u8]) {
    let crc = crc32(&entry[16..]);
    entry[12..16].copy_from_slice(&crc.to_le_bytes());
}

/// CRC-32 (IEEE), bit by bit: the tests need no crate for it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The process's peak resident memory in bytes, reset to the current size first where
/// Linux allows (`clear_refs` 5), or `None` off Linux.
fn peak_memory(reset: bool) -> Option<u64> {
    if reset {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

const REFUSED_CHILD: &str = "DASK_DISK_CACHE_REFUSED_CHILD";
const THREE_GIB: u64 = 3 << 30;

/// Entries that look right at first sight and are not: each is refused from its header
/// (without reading a huge file), recomputed and rewritten. Run in a child process by the
/// test below, which reads its warnings on stderr.
#[test]
#[ignore = "run as a child process by entries_are_refused_from_their_header"]
fn refused_entries_child() {
    let dir = PathBuf::from(std::env::var_os(REFUSED_CHILD).expect("run through the parent"));
    let memory = Memory::new(&dir).unwrap();
    let expected = "checked 5".to_string();
    assert_eq!(
        memory.cache(&checked(5)).unwrap().compute().unwrap(),
        expected
    );
    let [entry] = entry_files(&dir).try_into().unwrap();
    let good = std::fs::read(&entry).unwrap();
    assert_eq!(&good[8..12], &3u32.to_le_bytes(), "format version 3");
    let stem = entry.file_stem().unwrap().to_str().unwrap().to_string();
    assert_eq!(stem.len(), 32, "128-bit names");

    // The same entry for a node whose id differs in its high 64 bits only (so the short,
    // printed key is the same): a sound entry, sealed, but not this node's value.
    let mut other_node = good.clone();
    other_node[NODE_ID_HIGH_HALF.start] ^= 0x01;
    reseal(&mut other_node);
    // An entry of format version 1 (64-bit ids, 40-byte header) under the new name.
    let mut version_1 = b"DASKMEM\0".to_vec();
    version_1.extend_from_slice(&1u32.to_le_bytes());
    version_1.extend_from_slice(&[0; 4]);
    version_1.extend_from_slice(&good[16..24]);
    version_1.extend_from_slice(&good[32..40]);
    let payload = &good[HEADER_LEN..];
    version_1.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    version_1.extend_from_slice(payload);
    reseal(&mut version_1);
    // 3 GiB files, sparse (nothing is written but the first bytes): our header declaring
    // a payload that fills the file, and a file that is not ours at all.
    let mut huge = good[..HEADER_LEN].to_vec();
    huge[PAYLOAD_LEN].copy_from_slice(&(THREE_GIB - HEADER_LEN as u64).to_le_bytes());
    let foreign = b"PK\x03\x04, say a zip archive".to_vec();
    let cases: [(&str, Vec<u8>, u64); 4] = [
        ("another node, same short key", other_node, 0),
        ("format version 1", version_1, 0),
        ("3 GiB declared", huge, THREE_GIB),
        ("3 GiB foreign", foreign, THREE_GIB),
    ];
    let peak_before = peak_memory(true);
    for (round, (what, bytes, sparse_len)) in cases.iter().enumerate() {
        let file = std::fs::File::create(&entry).unwrap();
        std::io::Write::write_all(&mut &file, bytes).unwrap();
        if *sparse_len > 0 {
            file.set_len(*sparse_len).unwrap();
        }
        drop(file);
        let runs = CHECKED_RUNS.load(Ordering::SeqCst);
        let node = memory.cache(&checked(5)).unwrap();
        assert_eq!(dask::graph(&node).len(), 1, "{what}: a hit node");
        assert_eq!(node.compute().unwrap(), expected, "{what}");
        assert_eq!(CHECKED_RUNS.load(Ordering::SeqCst), runs + 1, "{what}");
        assert_eq!(memory.stats().corrupt, round as u64 + 1, "{what}");
        assert_eq!(std::fs::read(&entry).unwrap(), good, "{what}: rewritten");
    }
    if let (Some(before), Some(after)) = (peak_before, peak_memory(false)) {
        assert!(
            after < before + (256 << 20),
            "the 3 GiB files were read: peak memory {before} -> {after} bytes"
        );
    }
    println!("CASES {}", cases.len());
}

#[test]
fn entries_are_refused_from_their_header() {
    let dir = fresh_dir("refused");
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "refused_entries_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(REFUSED_CHILD, &dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("CASES 4"), "{stdout}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("dask: warning: cache entry "))
        .collect();
    let expected = [
        "holds another node's value or another type",
        "has the old format version 1 (written by an older dask), expected 3",
        "declares a 3221225416-byte value, over the 1073741824-byte limit of an entry",
        "is not a cache entry (wrong magic bytes)",
    ];
    assert_eq!(warnings.len(), expected.len(), "{stderr}");
    for (warning, problem) in warnings.iter().zip(expected) {
        assert!(
            warning.contains(problem) && warning.ends_with("; recomputing it"),
            "{warning}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

static UNWRITTEN_RUNS: AtomicUsize = AtomicUsize::new(0);

#[delayed(pure)]
fn unwritable(x: u64) -> u64 {
    UNWRITTEN_RUNS.fetch_add(1, Ordering::SeqCst);
    x + 1000
}

#[test]
fn a_failed_write_still_returns_the_value() {
    let dir = fresh_dir("unwritable");
    let memory = Memory::new(&dir).unwrap();
    // A file where the function's folder would go: the entry cannot be written.
    std::fs::write(dir.join("disk_cache__unwritable"), b"in the way").unwrap();
    assert_eq!(
        memory.cache(&unwritable(1)).unwrap().compute().unwrap(),
        1001
    );
    assert_eq!(
        memory.cache(&unwritable(1)).unwrap().compute().unwrap(),
        1001
    );
    assert_eq!(UNWRITTEN_RUNS.load(Ordering::SeqCst), 2);
    let stats = memory.stats();
    assert_eq!((stats.hits, stats.misses, stats.write_failures), (0, 2, 2));
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- clear and size ----

#[test]
fn size_counts_entries_and_clear_removes_only_them() {
    let dir = fresh_dir("clear");
    let memory = Memory::new(&dir).unwrap();
    assert_eq!(memory.size().unwrap(), dask::CacheSize::default());
    let nodes: Vec<Delayed<u64>> = (0..3).map(|i| memory.cache(&square(i)).unwrap()).collect();
    assert_eq!(dask::compute(&nodes).unwrap(), vec![0, 1, 4]);
    let size = memory.size().unwrap();
    let on_disk: u64 = entry_files(&dir)
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    assert_eq!((size.entries, size.bytes), (3, on_disk));
    assert!(on_disk > 3 * 40);

    let keep = dir.join("notes.txt");
    std::fs::write(&keep, b"mine").unwrap();
    memory.clear().unwrap();
    assert_eq!(memory.size().unwrap().entries, 0);
    assert!(entry_files(&dir).is_empty());
    assert!(keep.exists(), "clear leaves files it did not make");
    assert!(!dir.join("disk_cache__square").exists(), "empty folders go");

    // After a clear, entries are computed and written again.
    let again = memory.cache(&square(2)).unwrap();
    assert_eq!(dask::graph(&again).len(), 2);
    assert_eq!(again.compute().unwrap(), 4);
    assert_eq!(memory.size().unwrap().entries, 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn clear_and_size_leave_files_the_cache_did_not_write() {
    let dir = fresh_dir("foreign");
    let memory = Memory::new(&dir).unwrap();
    let nodes: Vec<Delayed<u64>> = (10..12)
        .map(|i| memory.cache(&square(i)).unwrap())
        .collect();
    assert_eq!(dask::compute(&nodes).unwrap(), vec![100, 121]);
    let ours = entry_files(&dir);
    assert_eq!(ours.len(), 2);
    let our_bytes: u64 = ours
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    let folder = ours[0].parent().unwrap().to_owned();

    // Someone else's files, some named or shaped like ours.
    let hex = "0123456789abcdef0123456789abcdef";
    let foreign: Vec<(PathBuf, &[u8])> = vec![
        (dir.join("user").join("precious.bin"), b"precious"),
        (
            dir.join("user").join(format!("{hex}.bin")),
            b"DASKMEM\0 in a folder not ours",
        ),
        (
            dir.join("user__data").join(format!("{hex}.bin")),
            b"not an entry",
        ),
        (
            folder.join("precious.bin"),
            b"DASKMEM\0 under a name not ours",
        ),
        (folder.join(format!("{hex}.bin")), b"not an entry either"),
        (
            folder.join(format!(".{hex}.bin.1.2.tmp")),
            b"not a temporary entry",
        ),
        (dir.join("notes.txt"), b"mine"),
    ];
    for (path, bytes) in &foreign {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    // An entry of format version 1 (16 hex digits, our magic) and a temporary file left
    // by a crashed write: ours, counted and cleared.
    let old = folder.join("0123456789abcdef.bin");
    std::fs::write(&old, b"DASKMEM\0\x01\0\0\0 an old entry").unwrap();
    let crashed = folder.join(format!(".{hex}.bin.99.0.tmp"));
    std::fs::write(&crashed, b"DASK").unwrap();
    let old_len = std::fs::metadata(&old).unwrap().len();

    let size = memory.size().unwrap();
    assert_eq!((size.entries, size.bytes), (3, our_bytes + old_len));
    memory.clear().unwrap();
    for (path, bytes) in &foreign {
        assert_eq!(
            std::fs::read(path).ok().as_deref(),
            Some(*bytes),
            "{} was touched",
            path.display()
        );
    }
    for gone in ours.iter().chain([&old, &crashed]) {
        assert!(!gone.exists(), "{} is still there", gone.display());
    }
    assert!(folder.exists(), "a folder holding other files stays");
    assert_eq!(memory.size().unwrap(), dask::CacheSize::default());
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- two processes ----

const WRITER_CHILD: &str = "DASK_DISK_CACHE_WRITER_CHILD";
const SHARED_KEYS: u64 = 64;

#[delayed(pure)]
fn block(i: u64) -> Vec<u64> {
    (0..20_000).map(|j| i * 1_000_003 + j).collect()
}

fn expected_block(i: u64) -> Vec<u64> {
    block_eager(i)
}

/// Caches the same blocks as its sibling process, into the same directory, at the same
/// time, several rounds over (later rounds read what either process wrote).
#[test]
#[ignore = "run as a child process by two_processes_share_one_directory"]
fn concurrent_writer_child() {
    let dir = PathBuf::from(std::env::var_os(WRITER_CHILD).expect("run through the parent"));
    let memory = Memory::new(&dir).unwrap();
    for _round in 0..3 {
        let nodes: Vec<Delayed<Vec<u64>>> = (0..SHARED_KEYS)
            .map(|i| memory.cache(&block(i)).unwrap())
            .collect();
        let values = dask::compute(&nodes).unwrap();
        for (i, value) in values.iter().enumerate() {
            assert!(*value == expected_block(i as u64), "block {i}");
        }
    }
    let stats = memory.stats();
    println!(
        "STATS hits={} misses={} corrupt={}",
        stats.hits, stats.misses, stats.corrupt
    );
}

#[test]
fn two_processes_share_one_directory() {
    let dir = fresh_dir("processes");
    let spawn = || {
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "concurrent_writer_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(WRITER_CHILD, &dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children = [spawn(), spawn()];
    for child in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
        assert!(
            stdout.contains("STATS ") && stdout.contains("corrupt=0"),
            "{stdout}"
        );
        assert!(!stderr.contains("dask: warning:"), "{stderr}");
    }
    // Every entry is complete and right, and no temporary file is left.
    let memory = Memory::new(&dir).unwrap();
    assert_eq!(memory.size().unwrap().entries, SHARED_KEYS);
    let nodes: Vec<Delayed<Vec<u64>>> = (0..SHARED_KEYS)
        .map(|i| memory.cache(&block(i)).unwrap())
        .collect();
    let values = dask::compute(&nodes).unwrap();
    for (i, value) in values.iter().enumerate() {
        assert!(*value == expected_block(i as u64), "block {i}");
    }
    let stats = memory.stats();
    assert_eq!(
        (stats.hits, stats.misses, stats.corrupt),
        (SHARED_KEYS, 0, 0)
    );
    for folder in std::fs::read_dir(&dir).unwrap() {
        let folder = folder.unwrap().path();
        if folder.is_dir() {
            for file in std::fs::read_dir(&folder).unwrap() {
                let file = file.unwrap().path();
                assert_eq!(file.extension().unwrap(), "bin", "{}", file.display());
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- editing a function ----

/// Builds `tests/cache_fixture` (with `--features v2` or without) in a target directory
/// of its own, and returns a copy of the binary under `name`.
fn build_fixture(v2: bool, name: &str) -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cache-fixture");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--quiet", "-p", "dask-cache-fixture"])
        .env("CARGO_TARGET_DIR", &target);
    if v2 {
        command.args(["--features", "v2"]);
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "building the fixture failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let built = target.join("debug").join(format!(
        "dask-cache-fixture{}",
        std::env::consts::EXE_SUFFIX
    ));
    let copy = target.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    std::fs::copy(&built, &copy).unwrap();
    copy
}

fn run_fixture(binary: &Path, dir: &Path) -> String {
    let out = Command::new(binary).arg(dir).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn editing_a_function_body_invalidates_its_entries() {
    let dir = fresh_dir("edit");
    let v1 = build_fixture(false, "fixture-v1");
    let v2 = build_fixture(true, "fixture-v2");
    assert_eq!(run_fixture(&v1, &dir), "value=40 hits=0 misses=1");
    assert_eq!(run_fixture(&v1, &dir), "value=40 hits=1 misses=0");
    // Same module, name and arguments; another body: a miss, and the new value.
    assert_eq!(run_fixture(&v2, &dir), "value=400 hits=0 misses=1");
    assert_eq!(run_fixture(&v2, &dir), "value=400 hits=1 misses=0");
    // Both versions' entries live side by side in the function's folder.
    assert_eq!(run_fixture(&v1, &dir), "value=40 hits=1 misses=0");
    let files = entry_files(&dir);
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files
        .iter()
        .all(|f| f.parent().unwrap().ends_with("dask_cache_fixture__scaled")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[delayed(pure)]
fn squared(x: u64) -> u64 {
    x * x
}

#[delayed(pure)]
fn cube(x: u64) -> u64 {
    x * x * x
}

/// joblib's `check_call_in_cache`, `clear` for one function, and the `.gitignore` it
/// writes into a new cache folder.
#[test]
fn contains_and_clear_function_and_gitignore() {
    let dir = fresh_dir("contains");
    let memory = Memory::new(&dir).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join(".gitignore")).unwrap(),
        "# Created by dask::Memory automatically.\n*\n"
    );
    assert!(!memory.contains(&squared(3)).unwrap());
    memory.cache(&squared(3)).unwrap().compute().unwrap();
    memory.cache(&cube(3)).unwrap().compute().unwrap();
    assert!(memory.contains(&squared(3)).unwrap());
    assert!(!memory.contains(&squared(4)).unwrap(), "another argument");
    // Not pure: refused as `cache` refuses it.
    let impure = dask::delayed(3u64).map(|x| x + 1);
    assert!(matches!(
        memory.contains(&impure),
        Err(Error::Cache(dask::CacheError::NotCacheable { .. }))
    ));
    // A damaged entry is not "in the cache".
    for file in entry_files(&dir) {
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..20]).unwrap();
    }
    assert!(!memory.contains(&squared(3)).unwrap());
    assert!(!memory.contains(&cube(3)).unwrap());

    let dir = fresh_dir("clear_function");
    let memory = Memory::new(&dir).unwrap();
    memory.cache(&squared(5)).unwrap().compute().unwrap();
    memory.cache(&cube(5)).unwrap().compute().unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    memory
        .clear_function(&format!("{}::squared", module_path!()))
        .unwrap();
    assert!(!memory.contains(&squared(5)).unwrap());
    assert!(memory.contains(&cube(5)).unwrap());
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "mine"
    );
}

/// joblib's `reduce_size`: least recently used entries go first, a load counts as a use,
/// and entries unused past the age limit go.
#[test]
fn reduce_size_evicts_the_least_recently_used() {
    use std::time::{Duration, SystemTime};
    let dir = fresh_dir("reduce_size");
    let memory = Memory::new(&dir).unwrap();
    for x in 0..5 {
        memory.cache(&squared(x)).unwrap().compute().unwrap();
    }
    assert_eq!(memory.size().unwrap().entries, 5);
    // Age every entry by x hours (squared(0) newest), then use squared(4) again.
    let hour = Duration::from_secs(3600);
    for x in 0..5u64 {
        let file = entry_files(&dir)
            .into_iter()
            .find(|f| {
                let bytes = std::fs::read(f).unwrap();
                // Our entries end with the postcard value: x * x as a varint.
                bytes.last() == Some(&((x * x) as u8))
            })
            .unwrap();
        let when = SystemTime::now() - hour * (x as u32 + 1);
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(when)
            .unwrap();
    }
    assert_eq!(memory.cache(&squared(4)).unwrap().compute().unwrap(), 16);

    let removed = memory
        .reduce_size(dask::CacheLimits::default().items(3))
        .unwrap();
    assert_eq!(removed.entries, 2);
    // Kept: squared(4) (just loaded) and the two newest, squared(0) and squared(1).
    let kept: Vec<bool> = (0..5)
        .map(|x| memory.contains(&squared(x)).unwrap())
        .collect();
    assert_eq!(kept, [true, true, false, false, true]);

    let removed = memory
        .reduce_size(dask::CacheLimits::default().age(Duration::from_secs(90 * 60)))
        .unwrap();
    assert_eq!(removed.entries, 1, "squared(1), unused for two hours");
    let size = memory.size().unwrap();
    assert_eq!(size.entries, 2);
    memory
        .reduce_size(dask::CacheLimits::default().bytes(size.bytes - 1))
        .unwrap();
    assert_eq!(memory.size().unwrap().entries, 1);
    assert!(
        memory.contains(&squared(4)).unwrap(),
        "the most recently used stays"
    );
}
