//! Saving and loading graphs as files, the format chosen by the extension.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::VizError;
use crate::model::TaskGraph;

/// A file format, as chosen by [`Format::from_path`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// `.dot` or `.gv`.
    Dot,
    /// `.json`: the versioned schema of `viz/SCHEMA.md`.
    Json,
    /// `.svg`.
    Svg,
}

impl Format {
    /// The format for `path`'s extension, in any case: `.dot`/`.gv`, `.json` or `.svg`.
    pub fn from_path(path: &Path) -> Result<Format, VizError> {
        let extension = path
            .extension()
            .ok_or_else(|| VizError::MissingExtension {
                path: path.to_owned(),
            })?
            .to_string_lossy();
        match extension.to_ascii_lowercase().as_str() {
            "dot" | "gv" => Ok(Format::Dot),
            "json" => Ok(Format::Json),
            "svg" => Ok(Format::Svg),
            _ => Err(VizError::UnsupportedExtension {
                extension: extension.into_owned(),
                path: path.to_owned(),
            }),
        }
    }
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> VizError {
    let path: PathBuf = path.to_owned();
    move |source| VizError::Io {
        action,
        path,
        source,
    }
}

impl TaskGraph {
    /// Writes the graph to `path`: DOT for `.dot`/`.gv`, JSON for `.json`, SVG (with the
    /// default [`SvgOptions`](crate::SvgOptions)) for `.svg`. Any other extension is an
    /// error naming it, and nothing is written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), VizError> {
        let path = path.as_ref();
        let text = match Format::from_path(path)? {
            Format::Dot => self.to_dot(),
            Format::Json => self.to_json(),
            Format::Svg => self.to_svg()?,
        };
        std::fs::write(path, text).map_err(io_error("write", path))
    }

    /// Reads a graph saved as `.json` or `.dot`/`.gv`. (An SVG cannot be read back;
    /// any other extension is refused too, with an error listing the ones read.)
    ///
    /// Only regular files are read: a device, FIFO, socket or directory is refused
    /// with [`VizError::NotAFile`] before anything is read from it (a FIFO is opened
    /// without waiting for a writer). At most the format's size limit
    /// ([`MAX_JSON_BYTES`](crate::MAX_JSON_BYTES),
    /// [`MAX_DOT_BYTES`](crate::MAX_DOT_BYTES)) plus one byte is read, so a bigger or
    /// growing file is refused as too large without filling memory.
    pub fn load(path: impl AsRef<Path>) -> Result<TaskGraph, VizError> {
        let path = path.as_ref();
        let format = match Format::from_path(path) {
            Ok(Format::Dot) => Format::Dot,
            Ok(Format::Json) => Format::Json,
            _ => {
                return Err(VizError::UnreadableExtension {
                    extension: path.extension().map(|e| e.to_string_lossy().into_owned()),
                    path: path.to_owned(),
                })
            }
        };
        let limit = match format {
            Format::Dot => crate::MAX_DOT_BYTES,
            _ => crate::MAX_JSON_BYTES,
        };
        let text = read_regular_file(path, limit)?;
        let parsed = match format {
            Format::Dot => TaskGraph::from_dot(&text),
            _ => TaskGraph::from_json(&text),
        };
        parsed.map_err(|source| VizError::Graph {
            path: path.to_owned(),
            source,
        })
    }
}

/// The text of `path`, which must be a regular file of at most `limit` bytes.
fn read_regular_file(path: &Path, limit: usize) -> Result<String, VizError> {
    // Looked at before opening, so that no device is even opened (opening some has
    // effects); the opened handle is checked again in case the path changed between.
    refuse_special(
        path,
        &std::fs::metadata(path).map_err(io_error("read", path))?,
    )?;
    let file = open_for_reading(path).map_err(io_error("read", path))?;
    let metadata = file.metadata().map_err(io_error("read", path))?;
    refuse_special(path, &metadata)?;
    let too_large = |size: u64| VizError::Graph {
        path: path.to_owned(),
        source: crate::GraphError::TooLarge {
            size: usize::try_from(size).unwrap_or(usize::MAX),
            limit,
        },
    };
    // Checked before reading so that a huge file is not loaded only to be refused.
    if metadata.len() > limit as u64 {
        return Err(too_large(metadata.len()));
    }
    // The size may have changed since: read one byte past the limit at most.
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    (&file)
        .take(cap)
        .read_to_end(&mut bytes)
        .map_err(io_error("read", path))?;
    if bytes.len() > limit {
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|_| {
        io_error("read", path)(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })
}

fn refuse_special(path: &Path, metadata: &std::fs::Metadata) -> Result<(), VizError> {
    if metadata.is_file() {
        return Ok(());
    }
    Err(VizError::NotAFile {
        kind: file_kind(&metadata.file_type()),
        path: path.to_owned(),
    })
}

/// Opens `path` for reading without waiting: opening a FIFO blocks until a writer
/// comes, and `O_NONBLOCK` makes it return at once (regular files ignore the flag).
#[cfg(unix)]
fn open_for_reading(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_for_reading(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

#[cfg(unix)]
fn file_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn file_kind(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeInfo;

    fn graph() -> TaskGraph {
        let mut g = TaskGraph::new();
        let a = g.add_node(NodeInfo::task("a-1", "a", "m::a").with_type_name("u8"));
        let b = g.add_node(NodeInfo::task("b-2", "b", "m::b"));
        g.add_edge(a, b, 0);
        g
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dask-viz-save-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    #[test]
    fn the_extension_picks_the_format() {
        for (name, expected) in [
            ("g.dot", Format::Dot),
            ("g.GV", Format::Dot),
            ("dir.v2/g.json", Format::Json),
            ("g.Svg", Format::Svg),
        ] {
            assert_eq!(Format::from_path(Path::new(name)).unwrap(), expected);
        }
        let err = Format::from_path(Path::new("graph.png")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported file extension `.png` in graph.png; use .svg, .dot, .gv or .json"
        );
        let err = Format::from_path(Path::new("graph")).unwrap_err();
        assert!(err.to_string().contains("no file extension"), "{err}");
    }

    #[test]
    fn saves_and_loads_each_format() {
        let g = graph();
        let json = scratch("g.json");
        g.save(&json).unwrap();
        assert_eq!(TaskGraph::load(&json).unwrap(), g);

        let dot = scratch("g.gv");
        g.save(&dot).unwrap();
        assert!(std::fs::read_to_string(&dot)
            .unwrap()
            .starts_with("digraph"));
        let back = TaskGraph::load(&dot).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back.edge_count(), 1);

        let svg = scratch("g.svg");
        g.save(&svg).unwrap();
        assert!(std::fs::read_to_string(&svg).unwrap().contains("</svg>"));
        assert!(TaskGraph::load(&svg).is_err());
    }

    #[test]
    fn an_unknown_extension_writes_nothing() {
        let path = scratch("g.txt");
        let _ = std::fs::remove_file(&path);
        assert!(matches!(
            graph().save(&path),
            Err(VizError::UnsupportedExtension { .. })
        ));
        assert!(!path.exists());
    }

    #[test]
    fn io_and_parse_failures_name_the_file() {
        let err = graph().save("/nonexistent-dir/x/g.json").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot write /nonexistent-dir/x/g.json: "),
            "{err}"
        );
        let bad = scratch("bad.json");
        std::fs::write(&bad, "{\"schema_version\": 1, \"nodes\": [}").unwrap();
        let err = TaskGraph::load(&bad).unwrap_err().to_string();
        assert!(
            err.contains("bad.json: invalid graph JSON at line 1, column 33"),
            "{err}"
        );
    }

    #[test]
    fn load_names_the_formats_it_reads() {
        for (name, reason) in [
            ("g.svg", "an SVG drawing (`.svg`) cannot be read back"),
            ("g.png", "unsupported file extension `.png`"),
            ("g", "the name has no file extension"),
        ] {
            let err = TaskGraph::load(scratch(name)).unwrap_err().to_string();
            assert!(
                err.ends_with(&format!("{name}: {reason}; use .json, .dot or .gv")),
                "{err}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn load_reads_regular_files_only() {
        let link = scratch("null.json");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink("/dev/null", &link).unwrap();
        let err = TaskGraph::load(&link).unwrap_err();
        assert!(matches!(err, VizError::NotAFile { .. }), "{err}");
        assert!(
            err.to_string()
                .ends_with("null.json: it is a character device, not a regular file"),
            "{err}"
        );
        let folder = scratch("folder.dot");
        std::fs::create_dir_all(&folder).unwrap();
        let err = TaskGraph::load(&folder).unwrap_err().to_string();
        assert!(
            err.ends_with("folder.dot: it is a directory, not a regular file"),
            "{err}"
        );
    }
}
