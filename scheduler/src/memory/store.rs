//! The cache directory: where entries live, how they are written so that no reader ever
//! sees half a file, and how the whole cache is measured and cleared.
//!
//! ```text
//! <dir>/CACHEDIR.TAG                          marks the folder as a cache for backup tools
//! <dir>/<crate__module__function>/<32 hex>.bin   one entry (see `entry.rs`)
//! <dir>/<crate__module__function>/.<32 hex>.bin.<pid>.<n>.tmp   an entry being written
//! ```
//!
//! A directory may hold other things (a user's files, another tool's): `size` and
//! `clear` only count and remove files that have both our layout (a folder name
//! `folder_name` can make, an entry or temporary name as above, 16 hex digits for entries
//! of format version 1) and our magic bytes at the start; everything else stays.
//!
//! A write goes to a temporary file in the entry's own folder (unique per process and
//! write), is flushed to disk, then renamed over the entry. Rename within one file system
//! replaces the target atomically, so readers in this or any other process see either
//! the old complete entry or the new complete one, and two writers of the same entry
//! leave one of their (identical) files.

use std::fmt;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use std::time::SystemTime;

use super::entry::MAGIC;
use super::limits::{to_evict, CacheLimits, Candidate};
use crate::error::Error;

const ENTRY_EXTENSION: &str = "bin";
const TEMP_EXTENSION: &str = "tmp";
/// Folder names stay well under every file system's limit for one path component.
const MAX_FOLDER_LEN: usize = 120;

/// The size of the entries in a cache directory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheSize {
    /// Number of entries (cached values).
    pub entries: u64,
    /// Their total size on disk in bytes (file lengths).
    pub bytes: u64,
}

#[derive(Debug)]
pub(crate) struct Store {
    dir: PathBuf,
}

fn io_error<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> Error + 'p {
    move |source| {
        Error::Cache(crate::CacheError::Io {
            action,
            path: path.to_owned(),
            source,
        })
    }
}

impl Store {
    /// Opens the cache in `dir`, creating it (with its parents) if needed. Refuses an
    /// empty path with [`Error::InvalidConfig`].
    pub(crate) fn open(dir: PathBuf) -> Result<Store, Error> {
        if dir.as_os_str().is_empty() {
            // File operations would resolve it against the current directory (the
            // cache's `.gitignore` of `*` hiding a whole project from git there), while
            // listing it fails: refused before anything is written.
            return Err(Error::InvalidConfig(
                "Memory::new(\"\"): the cache directory path is empty; name a folder \
                 (\"cache\", or \".\" for the current directory)"
                    .into(),
            ));
        }
        fs::create_dir_all(&dir).map_err(io_error("create", &dir))?;
        let tag = dir.join("CACHEDIR.TAG");
        let ignore = dir.join(".gitignore");
        if !ignore.exists() {
            // As joblib does: a cache folder inside a repository stays out of it.
            let _ = write_atomically(&ignore, b"# Created by dask::Memory automatically.\n*\n");
        }
        if !tag.exists() {
            // Best effort: a read-only cache shared by others still works without it.
            let _ = write_atomically(
                &tag,
                b"Signature: 8a477f597d28d172789f06886806bc55\n\
                  # This file marks a dask::Memory cache directory; see https://bford.info/cachedir/\n",
            );
        }
        Ok(Store { dir })
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of one entry of the function at `function_path`.
    pub(crate) fn entry_path(&self, function_path: &str, file_stem: &str) -> PathBuf {
        let mut path = self.dir.join(folder_name(function_path));
        path.push(file_stem);
        path.set_extension(ENTRY_EXTENSION);
        path
    }

    /// Writes `bytes` as the entry at `entry`, replacing whatever has its name: an
    /// older entry, or a FIFO or other special file that took its place (a rename
    /// replaces any file but a directory).
    pub(crate) fn write(&self, entry: &Path, bytes: &[u8]) -> Result<(), Error> {
        if let Some(folder) = entry.parent() {
            fs::create_dir_all(folder).map_err(io_error("create", folder))?;
        }
        write_atomically(entry, bytes).map_err(io_error("write", entry))
    }

    /// Every entry or temporary file of ours in the function folders, with its length.
    fn for_each_file(
        &self,
        mut f: impl FnMut(&Path, Kind, u64) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let folders = fs::read_dir(&self.dir).map_err(io_error("list", &self.dir))?;
        for folder in folders {
            let folder = folder.map_err(io_error("list", &self.dir))?;
            // Only our folders: anything else a user put here is left alone. The file
            // type is the entry's own: a symbolic link is not followed out of the cache.
            if !folder.file_type().is_ok_and(|t| t.is_dir())
                || !folder.file_name().to_str().is_some_and(is_function_folder)
            {
                continue;
            }
            let folder = folder.path();
            let files = match fs::read_dir(&folder) {
                Ok(files) => files,
                // Removed by a concurrent clear.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_error("list", &folder)(e)),
            };
            for file in files {
                let file = file.map_err(io_error("list", &folder))?;
                let path = file.path();
                let name = file.file_name();
                let kind = match name.to_str() {
                    Some(name) if is_entry_name(name) => Kind::Entry,
                    Some(name) if is_temporary_name(name) => Kind::Temporary,
                    _ => continue,
                };
                let len = match file.metadata() {
                    Ok(meta) if meta.is_file() => meta.len(),
                    Ok(_) => continue,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io_error("inspect", &path)(e)),
                };
                match starts_like_ours(&path, kind) {
                    Ok(true) => f(&path, kind, len)?,
                    Ok(false) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_error("inspect", &path)(e)),
                }
            }
        }
        Ok(())
    }

    pub(crate) fn size(&self) -> Result<CacheSize, Error> {
        let mut size = CacheSize::default();
        self.for_each_file(|_, kind, len| {
            if kind == Kind::Entry {
                size.entries += 1;
                size.bytes += len;
            }
            Ok(())
        })?;
        Ok(size)
    }

    /// Removes every entry (and temporary file) and the folders left empty. Files and
    /// folders that are not ours are kept (see the module's docs).
    pub(crate) fn clear(&self) -> Result<(), Error> {
        self.remove_where(|_| true)
    }

    /// [`clear`](Self::clear) for the entries of one function.
    pub(crate) fn clear_function(&self, function_path: &str) -> Result<(), Error> {
        let folder = self.dir.join(folder_name(function_path));
        self.remove_where(|path| path.parent() == Some(folder.as_path()))
    }

    /// Evicts entries under `limits` (see `limits.rs`); returns what it removed.
    pub(crate) fn reduce(&self, limits: &CacheLimits) -> Result<CacheSize, Error> {
        let mut entries = Vec::new();
        self.for_each_file(|path, kind, len| {
            if kind == Kind::Entry {
                let last_use = fs::metadata(path)
                    .and_then(|meta| meta.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                entries.push(Candidate {
                    path: path.to_owned(),
                    bytes: len,
                    last_use,
                });
            }
            Ok(())
        })?;
        let mut removed = CacheSize::default();
        for entry in to_evict(entries, limits, SystemTime::now()) {
            match fs::remove_file(&entry.path) {
                Ok(()) => {
                    removed.entries += 1;
                    removed.bytes += entry.bytes;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error("remove", &entry.path)(e)),
            }
            if let Some(folder) = entry.path.parent() {
                // Fails unless it was the folder's last entry: the folder stays then.
                let _ = fs::remove_dir(folder);
            }
        }
        Ok(removed)
    }

    /// Removes our files for which `pick` holds, and the folders left empty.
    fn remove_where(&self, pick: impl Fn(&Path) -> bool) -> Result<(), Error> {
        let mut folders = Vec::new();
        self.for_each_file(|path, _, _| {
            if !pick(path) {
                return Ok(());
            }
            match fs::remove_file(path) {
                Ok(()) => {}
                // Already removed by another process's clear.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error("remove", path)(e)),
            }
            if let Some(folder) = path.parent() {
                if folders.last().map(PathBuf::as_path) != Some(folder) {
                    folders.push(folder.to_owned());
                }
            }
            Ok(())
        })?;
        for folder in folders {
            // Fails while another process is writing into it: the folder stays.
            let _ = fs::remove_dir(folder);
        }
        Ok(())
    }
}

/// Why an entry's file was not opened for reading.
#[derive(Debug)]
pub(crate) enum Unopened {
    Missing,
    /// Something other than a regular file has the entry's name (its kind, in words).
    NotAFile(&'static str),
    Io(io::Error),
}

impl fmt::Display for Unopened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unopened::Missing => f.write_str("has disappeared"),
            Unopened::NotAFile(kind) => write!(f, "is a {kind}, not a regular file"),
            Unopened::Io(e) => write!(f, "cannot be read ({e})"),
        }
    }
}

/// Opens the entry file at `path` for reading, with its length, if it is a regular file
/// (or a symbolic link to one).
///
/// Anything else is refused: opening a FIFO waits for a writer, forever if none comes,
/// and a device or socket is no entry either. On Unix the file is opened with
/// `O_NONBLOCK`, which makes opening a FIFO return at once (reads of a regular file
/// ignore the flag), and the handle is then checked: a look at the path before opening
/// would leave a window for a FIFO renamed into place between the look and the open.
pub(crate) fn open_entry(path: &Path) -> Result<(fs::File, u64), Unopened> {
    let unopened = |e: io::Error| match e.kind() {
        io::ErrorKind::NotFound => Unopened::Missing,
        _ => Unopened::Io(e),
    };
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    {
        // Elsewhere there are no FIFOs to open by name; a directory still fails below.
        let looked_at = fs::metadata(path).map_err(unopened)?;
        if !looked_at.is_file() {
            return Err(Unopened::NotAFile(kind_of(looked_at.file_type())));
        }
    }
    let file = options.open(path).map_err(unopened)?;
    let opened = file.metadata().map_err(Unopened::Io)?;
    if !opened.is_file() {
        return Err(Unopened::NotAFile(kind_of(opened.file_type())));
    }
    Ok((file, opened.len()))
}

/// What a file that is not a regular file is, for a warning.
fn kind_of(file_type: fs::FileType) -> &'static str {
    if file_type.is_dir() {
        return "directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "FIFO (named pipe)";
        }
        if file_type.is_socket() {
            return "socket";
        }
        if file_type.is_char_device() {
            return "character device";
        }
        if file_type.is_block_device() {
            return "block device";
        }
    }
    "special file"
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Entry,
    Temporary,
}

/// Whether `name` is one [`folder_name`] can make: a function path always has a `::`.
fn is_function_folder(name: &str) -> bool {
    name.len() <= MAX_FOLDER_LEN
        && name.contains("__")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Lower-case hex digits, as many as an entry name of format version 2 (32) or 1 (16).
fn is_entry_stem(stem: &str) -> bool {
    (stem.len() == 32 || stem.len() == 16)
        && stem.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `<hex>.bin`.
fn is_entry_name(name: &str) -> bool {
    name.strip_suffix(ENTRY_EXTENSION)
        .and_then(|rest| rest.strip_suffix('.'))
        .is_some_and(is_entry_stem)
}

/// `.<hex>.bin.<pid>.<n>.tmp`, as `write_atomically` names them.
fn is_temporary_name(name: &str) -> bool {
    let Some(inner) = name
        .strip_prefix('.')
        .and_then(|rest| rest.strip_suffix(TEMP_EXTENSION))
        .and_then(|rest| rest.strip_suffix('.'))
    else {
        return false;
    };
    let mut parts = inner.rsplitn(3, '.');
    let numbers = [parts.next(), parts.next()];
    let entry = parts.next();
    numbers
        .iter()
        .all(|n| n.is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())))
        && entry.is_some_and(is_entry_name)
}

/// Whether the file starts with our magic bytes. A temporary file may be shorter (a
/// write cut off by a crash): then what it has must be the start of them.
fn starts_like_ours(path: &Path, kind: Kind) -> io::Result<bool> {
    let mut start = [0u8; MAGIC.len()];
    let mut file = fs::File::open(path)?;
    let mut got = 0;
    while got < start.len() {
        match file.read(&mut start[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let complete = got == MAGIC.len() || kind == Kind::Temporary;
    Ok(complete && start[..got] == MAGIC[..got])
}

/// A folder name for a function path: `crate::module::f` becomes `crate__module__f`,
/// other characters a file name may not hold become `_`.
fn folder_name(function_path: &str) -> String {
    let mut name: String = function_path
        .replace("::", "__")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    // ASCII only, so any byte index is a char boundary. Entry names carry the full
    // identity, so two paths sharing a folder cannot mix their entries.
    name.truncate(MAX_FOLDER_LEN);
    if name.is_empty() {
        name.push('_');
    }
    name
}

/// Temporary names are unique per process (pid) and per write within it (counter).
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn write_atomically(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let file_name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("entry");
    let temp = target.with_file_name(format!(
        ".{file_name}.{}.{}.{TEMP_EXTENSION}",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut file = fs::File::create_new(&temp)?;
        file.write_all(bytes)?;
        // On disk before the rename makes it visible: a crash cannot leave a renamed
        // but empty entry behind.
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, target)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_are_plain() {
        assert_eq!(
            folder_name("my_crate::stage::load"),
            "my_crate__stage__load"
        );
        assert_eq!(folder_name("a::<b as c>::d"), "a___b_as_c___d");
        assert_eq!(folder_name(""), "_");
        assert_eq!(folder_name(&"x".repeat(500)).len(), MAX_FOLDER_LEN);
    }

    #[test]
    fn only_our_names_are_recognised() {
        assert!(is_function_folder(&folder_name("my_crate::stage::load")));
        assert!(is_function_folder(&folder_name(&"x::".repeat(100))));
        for foreign in ["user", "my data__x", "a__b.c", ".git", ""] {
            assert!(!is_function_folder(foreign), "{foreign}");
        }
        let stem = "0123456789abcdef0123456789abcdef";
        assert!(is_entry_name(&format!("{stem}.bin")));
        assert!(is_entry_name("0123456789abcdef.bin"), "format version 1");
        for foreign in [
            "precious.bin",
            "0123456789ABCDEF0123456789ABCDEF.bin",
            "0123456789abcdef0123456789abcde.bin",
            "0123456789abcdef0123456789abcdef.bin.bak",
            "0123456789abcdef0123456789abcdef",
            ".bin",
        ] {
            assert!(!is_entry_name(foreign), "{foreign}");
        }
        assert!(is_temporary_name(&format!(".{stem}.bin.123.0.tmp")));
        for foreign in [
            format!("{stem}.bin.123.0.tmp"),
            format!(".{stem}.bin.123.tmp"),
            format!(".{stem}.bin.x.0.tmp"),
            format!(".{stem}.bin..0.tmp"),
            ".notes.bin.1.2.tmp".to_string(),
            "scratch.tmp".to_string(),
        ] {
            assert!(!is_temporary_name(&foreign), "{foreign}");
        }
    }
}
