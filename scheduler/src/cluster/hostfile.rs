//! Reading a host file (`-h`): one `host:port` per line, in process order.

use std::fs;
use std::io::Read;

use super::{ClusterError, MAX_PROCESSES};

/// The most a host file may hold. One of a 64-process cluster is a few kilobytes; the
/// limit keeps a wrong path (a log, a disk image) from being read into memory whole.
pub(crate) const MAX_HOSTFILE_BYTES: u64 = 1 << 20;

/// The addresses listed in the host file at `path` (blank lines and `#` comments
/// skipped), refusing anything but a regular file of at most [`MAX_HOSTFILE_BYTES`] and
/// more than [`MAX_PROCESSES`] addresses.
pub(crate) fn read_addresses(path: &str) -> Result<Vec<String>, ClusterError> {
    let cannot =
        |why: String| ClusterError::Config(format!("cannot read the host file {path}: {why}"));
    let file = open_regular(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    file.take(MAX_HOSTFILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(e.to_string()))?;
    if bytes.len() as u64 > MAX_HOSTFILE_BYTES {
        return Err(cannot(format!(
            "it is larger than {MAX_HOSTFILE_BYTES} bytes, far more than the addresses of \
             {MAX_PROCESSES} processes take"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|e| cannot(format!("it is not UTF-8 ({e})")))?;
    let mut addresses = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if addresses.len() == MAX_PROCESSES {
            return Err(cannot(format!(
                "it lists more than {MAX_PROCESSES} addresses, and a cluster has at most \
                 {MAX_PROCESSES} processes"
            )));
        }
        addresses.push(line.to_string());
    }
    Ok(addresses)
}

/// Opens `path` for reading if it is a regular file (or a symbolic link to one).
///
/// Opening a FIFO waits for a writer, forever if none comes, and reading a device such
/// as `/dev/zero` never ends. On Unix the file is opened with `O_NONBLOCK`, which makes
/// opening a FIFO return at once (reads of a regular file ignore the flag), and the open
/// handle is checked, so that nothing can be swapped in between a look and the open.
fn open_regular(path: &str) -> Result<fs::File, String> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    {
        // Elsewhere there are no FIFOs to open by name; still look before opening.
        let looked_at = fs::metadata(path).map_err(|e| e.to_string())?;
        if !looked_at.is_file() {
            return Err(not_a_file(looked_at.file_type()));
        }
    }
    let file = options.open(path).map_err(|e| e.to_string())?;
    let opened = file.metadata().map_err(|e| e.to_string())?;
    if !opened.is_file() {
        return Err(not_a_file(opened.file_type()));
    }
    Ok(file)
}

/// Why a file that is not a regular file is refused.
fn not_a_file(file_type: fs::FileType) -> String {
    format!(
        "it is {}; a host file must be a regular file",
        kind_of(file_type)
    )
}

/// What a file that is not a regular file is.
fn kind_of(file_type: fs::FileType) -> &'static str {
    if file_type.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_char_device() || file_type.is_block_device() {
            return "a device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}
