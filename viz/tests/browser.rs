//! The SVG as a browser draws it: headless Chromium loads a page with the drawing of
//! three generate → transform → aggregate pipelines, a script checks that every
//! function name is rendered, non-empty, inside the viewport and inside its node's
//! shape, and a screenshot must not be blank.
//!
//! Needs `chromium` (`/usr/bin/chromium` or on `PATH`): skipped with a notice without
//! it, except when `CI=true`, where it fails.

mod support;

use std::path::{Path, PathBuf};

use dask_viz::{dot_available, Engine, SvgOptions};
use support::{assert_screenshot_not_blank, chromium, have, pipelines, scratch_dir};

const NAMES: [&str; 3] = ["generate_data", "transform_data", "aggregate_data"];
const PIPELINES: usize = 3;

/// Where screenshots are kept for people to look at: `<target>/viz-artifacts/`.
fn artifacts_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp
        .parent()
        .map_or_else(|| tmp.join("viz-artifacts"), |t| t.join("viz-artifacts"));
    std::fs::create_dir_all(&dir).expect("create artifacts directory");
    dir
}

/// The SVG's size in CSS px, from its `width`/`height` (Graphviz writes pt).
fn svg_size(svg: &str) -> (f64, f64) {
    let tag_start = svg.find("<svg").expect("an <svg> element");
    let tag = &svg[tag_start..tag_start + svg[tag_start..].find('>').unwrap_or(0)];
    let attribute = |name: &str| -> f64 {
        let marker = format!(" {name}=\"");
        let start = tag.find(&marker).expect("width and height") + marker.len();
        let value = &tag[start..start + tag[start..].find('"').unwrap_or(0)];
        match value.strip_suffix("pt") {
            Some(points) => points.parse::<f64>().unwrap() * 4.0 / 3.0,
            None => value.trim_end_matches("px").parse().unwrap(),
        }
    };
    (attribute("width"), attribute("height"))
}

/// The check that runs in the page. It writes `PASS` or `FAIL` and the reasons into
/// `#verdict`, which `--dump-dom` shows.
const CHECK: &str = r#"
(function () {
  const names = __NAMES__;
  const expected = __EXPECTED__;
  const checkShapes = __CHECK_SHAPES__;
  const problems = [];
  const vw = window.innerWidth, vh = window.innerHeight;
  const texts = Array.from(document.querySelectorAll('svg text'));
  const show = r => `${r.left.toFixed(1)},${r.top.toFixed(1)}..${r.right.toFixed(1)},${r.bottom.toFixed(1)}`;
  for (const name of names) {
    const found = texts.filter(t => t.textContent.trim() === name);
    if (found.length !== expected) {
      problems.push(`${name}: ${found.length} <text> elements, expected ${expected}`);
    }
    for (const t of found) {
      const r = t.getBoundingClientRect();
      if (!(r.width > 0 && r.height > 0)) problems.push(`${name}: empty bounding box`);
      if (r.left < 0 || r.top < 0 || r.right > vw || r.bottom > vh) {
        problems.push(`${name}: ${show(r)} is outside the ${vw}x${vh} viewport`);
      }
    }
  }
  if (checkShapes) {
    for (const t of document.querySelectorAll('svg g.node text')) {
      const shape = t.closest('g.node').querySelector('ellipse, rect');
      const r = t.getBoundingClientRect(), s = shape.getBoundingClientRect();
      const cx = (s.left + s.right) / 2, cy = (s.top + s.bottom) / 2;
      const rx = s.width / 2, ry = s.height / 2;
      const corners = [[r.left, r.top], [r.right, r.top], [r.left, r.bottom], [r.right, r.bottom]];
      // Glyph boxes include line spacing above and below the letters, so the
      // vertical test allows a little of it to poke out.
      const inside = ([x, y]) => shape.tagName === 'rect'
        ? x >= s.left - 0.5 && x <= s.right + 0.5 && y >= s.top - 3 && y <= s.bottom + 3
        : ((x - cx) / rx) ** 2 + ((y - cy) / (ry + 3)) ** 2 <= 1.0;
      if (!corners.every(inside)) {
        problems.push(`"${t.textContent}": text ${show(r)} spills out of its ${shape.tagName} ${show(s)}`);
      }
    }
  }
  document.getElementById('verdict').textContent =
    problems.length === 0 ? 'PASS' : 'FAIL\n' + problems.join('\n');
})();
"#;

fn page(svg: &str, check_shapes: bool) -> String {
    // Inline SVG in HTML takes no XML prolog or doctype.
    let svg = &svg[svg.find("<svg").expect("an <svg> element")..];
    let names = format!("{NAMES:?}");
    let script = CHECK
        .replace("__NAMES__", &names)
        .replace("__EXPECTED__", &PIPELINES.to_string())
        .replace("__CHECK_SHAPES__", &check_shapes.to_string());
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><style>body {{ margin: 0; }} \
         #verdict {{ position: absolute; left: -9999px; }}</style></head>\n<body>\n{svg}\n\
         <pre id=\"verdict\">NOT RUN</pre>\n<script>{script}</script>\n</body></html>\n"
    )
}

/// Loads `svg` in a page and returns what its check says (`PASS` or `FAIL` and why),
/// with the window size that fits the drawing, or `None` without Chromium.
fn verdict(label: &str, svg: &str, check_shapes: bool) -> Option<(String, Browser)> {
    let Some(program) = support::find_chromium() else {
        have("chromium", false);
        return None;
    };
    let dir = scratch_dir(&format!("browser-{label}"));
    let html = dir.join("graph.html");
    std::fs::write(&html, page(svg, check_shapes)).unwrap();
    std::fs::write(dir.join("graph.svg"), svg).unwrap();
    let (w, h) = svg_size(svg);
    let browser = Browser {
        program,
        url: format!("file://{}", html.display()),
        window: format!("{},{}", w.ceil() as u32 + 40, h.ceil() as u32 + 40),
        dir,
    };
    let run = chromium(
        &browser.program,
        &browser.dir.join("profile-dom"),
        &[
            "--dump-dom".to_owned(),
            format!("--window-size={}", browser.window),
        ],
        &browser.url,
        &browser.dir.join("dump"),
    );
    assert!(
        run.status.success(),
        "chromium --dump-dom failed: {}",
        run.stderr
    );
    let verdict = run
        .stdout
        .split("<pre id=\"verdict\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_else(|| panic!("no verdict in the page:\n{}", run.stdout));
    let verdict = verdict
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    Some((verdict, browser))
}

struct Browser {
    program: PathBuf,
    url: String,
    /// Window size for Chromium, `W,H`.
    window: String,
    dir: PathBuf,
}

fn check_in_browser(label: &str, svg: &str, check_shapes: bool) {
    let Some((verdict, browser)) = verdict(label, svg, check_shapes) else {
        return;
    };
    assert_eq!(verdict, "PASS", "the page's check failed:\n{verdict}");

    let screenshot = artifacts_dir().join(format!("pipelines-{label}.png"));
    assert_screenshot_not_blank(
        &browser.program,
        &browser.dir,
        &browser.window,
        &browser.url,
        &screenshot,
    );
}

#[test]
fn embedded_drawing_renders_in_chromium() {
    let svg = pipelines(PIPELINES)
        .to_svg_with(&SvgOptions::default().engine(Engine::Embedded))
        .unwrap();
    check_in_browser("embedded", &svg, true);
}

#[test]
fn dot_drawing_renders_in_chromium() {
    if !have("dot", dot_available()) {
        return;
    }
    let svg = pipelines(PIPELINES)
        .to_svg_with(&SvgOptions::default().engine(Engine::Dot))
        .unwrap();
    check_in_browser("dot", &svg, false);
}

/// The page's check must be able to fail, or its PASS means nothing.
#[test]
fn the_check_catches_a_broken_drawing() {
    let broken = concat!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200">"#,
        r#"<g class="node"><rect x="10" y="10" width="40" height="20"/>"#,
        r#"<text x="12" y="25">generate_data</text></g>"#,
        r#"<text x="-500" y="50">transform_data</text>"#,
        r#"<text x="20" y="80" font-size="0">aggregate_data</text>"#,
        "</svg>"
    );
    let Some((verdict, _)) = verdict("broken", broken, true) else {
        return;
    };
    assert!(verdict.starts_with("FAIL"), "{verdict}");
    for expected in [
        "generate_data: 1 <text> elements, expected 3",
        "transform_data: -500",
        "is outside the",
        "aggregate_data: empty bounding box",
        "\"generate_data\": text",
        "spills out of its rect",
    ] {
        assert!(
            verdict.contains(expected),
            "missing {expected:?} in:\n{verdict}"
        );
    }
}
