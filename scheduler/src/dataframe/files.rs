//! The files of a `read_*` glob and of a `to_*` pattern: `*` in the file name only,
//! matches in natural order (`2.csv` before `10.csv`), so partition order survives a
//! round trip.

use std::path::{Path, PathBuf};

use super::error::DataFrameError;

/// The files matching `pattern`, whose last component may hold `*`s, in natural order.
pub(crate) fn glob(op: &'static str, pattern: &str) -> Result<Vec<PathBuf>, DataFrameError> {
    let path = Path::new(pattern);
    let io = |why: String| DataFrameError::Io {
        op,
        path: pattern.to_string(),
        why,
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io("no file name in the pattern".into()))?;
    if !name.contains('*') {
        return if path.is_file() {
            Ok(vec![path.to_path_buf()])
        } else {
            Err(io("no such file".into()))
        };
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let entries =
        std::fs::read_dir(&dir).map_err(|e| io(format!("cannot list {}: {e}", dir.display())))?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| e.file_name().to_str().is_some_and(|n| matches(name, n)))
        .map(|e| e.path())
        .collect();
    if found.is_empty() {
        return Err(io("no file matches".into()));
    }
    found.sort_by(|a, b| natural(&a.to_string_lossy(), &b.to_string_lossy()));
    Ok(found)
}

/// Whether `name` matches `pattern`, where `*` stands for any run of characters.
fn matches(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

/// Orders names with digit runs compared as numbers.
fn natural(a: &str, b: &str) -> std::cmp::Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for ((da, sa), (db, sb)) in ca.iter().zip(&cb) {
        let ord = if *da && *db {
            let (ta, tb) = (sa.trim_start_matches('0'), sb.trim_start_matches('0'));
            ta.len().cmp(&tb.len()).then(ta.cmp(tb))
        } else {
            sa.cmp(sb)
        };
        if ord.is_ne() {
            return ord;
        }
    }
    ca.len().cmp(&cb.len())
}

/// The path of partition `i` under `pattern` (`*` replaced by `name`).
pub(crate) fn fill(op: &'static str, pattern: &str, name: &str) -> Result<PathBuf, DataFrameError> {
    if pattern.matches('*').count() != 1 {
        return Err(DataFrameError::Invalid {
            op,
            why: format!(
                "the pattern {pattern:?} must hold exactly one `*` (the partition's name)"
            ),
        });
    }
    Ok(PathBuf::from(pattern.replacen('*', name, 1)))
}

/// The file of each of `partitions` partitions: `pattern` with its `*` replaced by
/// `name(i)`. A name must be a file name, not a path, and names must differ: two
/// partitions given one file silently kept only the last one written.
pub(crate) fn partition_paths(
    op: &'static str,
    pattern: &str,
    partitions: usize,
    name: impl Fn(usize) -> String,
) -> Result<Vec<PathBuf>, DataFrameError> {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut paths = Vec::with_capacity(partitions);
    for i in 0..partitions {
        let n = name(i);
        if n.is_empty() || n == "." || n == ".." || n.contains(['/', '\\']) {
            return Err(DataFrameError::Invalid {
                op,
                why: format!(
                    "the name function gave {n:?} for partition {i}; a partition's name \
                     must be a file name, not a path"
                ),
            });
        }
        if let Some(j) = seen.insert(n.clone(), i) {
            return Err(DataFrameError::Invalid {
                op,
                why: format!(
                    "the name function gave {n:?} for partitions {j} and {i}; each \
                     partition needs a file of its own"
                ),
            });
        }
        paths.push(fill(op, pattern, &n)?);
    }
    Ok(paths)
}

/// Writes `path` through a temporary file renamed into place, so that a failed write
/// leaves no partial file under the final name.
pub(crate) fn write_atomic(
    path: &Path,
    write: impl FnOnce(std::fs::File) -> Result<(), String>,
) -> Result<(), String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = std::fs::File::create(&tmp)
        .map_err(|e| format!("cannot create {}: {e}", tmp.display()))
        .and_then(write)
        .and_then(|()| {
            std::fs::rename(&tmp, path)
                .map_err(|e| format!("cannot rename to {}: {e}", path.display()))
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
