//! Drawing through Graphviz's `dot` program, when it is installed.

use std::path::PathBuf;

use graphviz_rust::cmd::Format;
use graphviz_rust::printer::PrinterContext;

use super::escape::xml_chars;
use crate::dot::write;
use crate::error::VizError;
use crate::options::RankDir;
use crate::scene::Scene;

/// Where `dot` is on `PATH`, if it is. Checked before running it so that `Auto` can
/// tell "not installed" (fall back quietly) from "installed but failed".
pub(crate) fn find_dot() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let names: &[&str] = if cfg!(windows) {
        &["dot.exe", "dot"]
    } else {
        &["dot"]
    };
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &std::path::Path) -> bool {
    path.is_file()
}

pub(crate) fn svg(scene: &Scene, rankdir: RankDir) -> Result<String, VizError> {
    if find_dot().is_none() {
        return Err(VizError::DotNotFound);
    }
    let graph = write::graph(&xml_safe(scene), rankdir);
    let output = graphviz_rust::exec(
        graph,
        &mut PrinterContext::default(),
        vec![Format::Svg.into()],
    )
    .map_err(|e| VizError::DotFailed {
        message: e.to_string(),
    })?;
    let svg = String::from_utf8(output).map_err(|_| VizError::DotFailed {
        message: "`dot` wrote SVG that is not UTF-8".to_owned(),
    })?;
    // Whatever `dot` copied through from elsewhere (fonts, its own messages), the
    // document we hand on is well-formed.
    Ok(xml_chars(&svg))
}

/// The scene with every character XML forbids replaced: Graphviz copies label and
/// tooltip text into its SVG as it is, so U+FFFE or a control character in a name
/// would make the drawing unreadable. (`to_dot` keeps them: DOT is not XML.)
fn xml_safe(scene: &Scene) -> Scene {
    let mut safe = scene.clone();
    for shape in &mut safe.shapes {
        for line in &mut shape.lines {
            *line = xml_chars(line);
        }
        shape.tooltip = xml_chars(&shape.tooltip);
    }
    for link in &mut safe.links {
        link.label = link.label.as_deref().map(xml_chars);
    }
    safe.caption = safe.caption.as_deref().map(xml_chars);
    safe
}
