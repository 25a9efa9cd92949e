//! Saving and loading graphs as files, the format chosen by the extension.

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

    /// Reads a graph saved as `.json` or `.dot`/`.gv`. (An SVG cannot be read back.)
    pub fn load(path: impl AsRef<Path>) -> Result<TaskGraph, VizError> {
        let path = path.as_ref();
        let format = Format::from_path(path)?;
        if format == Format::Svg {
            return Err(VizError::UnsupportedExtension {
                extension: "svg".to_owned(),
                path: path.to_owned(),
            });
        }
        // Checked before reading so that a huge file is not loaded only to be refused.
        let limit = match format {
            Format::Dot => crate::MAX_DOT_BYTES,
            _ => crate::MAX_JSON_BYTES,
        };
        let size = std::fs::metadata(path)
            .map_err(io_error("read", path))?
            .len();
        if size > limit as u64 {
            return Err(VizError::Graph {
                path: path.to_owned(),
                source: crate::GraphError::TooLarge {
                    size: usize::try_from(size).unwrap_or(usize::MAX),
                    limit,
                },
            });
        }
        let text = std::fs::read_to_string(path).map_err(io_error("read", path))?;
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
}
