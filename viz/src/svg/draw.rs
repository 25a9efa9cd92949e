//! A [`Scene`] drawn as SVG with the embedded layout.

use std::fmt::Write;

use super::escape::xml;
use super::measure::{self, LINE_HEIGHT, NODE_FONT, SMALL_FONT};
use crate::layout::{self, EdgeSpec, Layout, Point, Segment};
use crate::options::RankDir;
use crate::scene::{Form, Scene};

const FONT_FAMILY: &str = "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif";
const STROKE: &str = "#4d4d4d";
/// Room above the drawing for the caption.
const CAPTION_HEIGHT: f64 = 26.0;

pub(crate) fn svg(scene: &Scene, rankdir: RankDir) -> String {
    let nodes: Vec<_> = scene.shapes.iter().map(measure::node_spec).collect();
    let edges: Vec<EdgeSpec> = scene
        .links
        .iter()
        .map(|link| EdgeSpec {
            from: link.from,
            to: link.to,
            label: link.label.as_deref().map(measure::edge_label),
        })
        .collect();
    let layout = layout::layout(&nodes, &edges, rankdir);
    render(scene, &layout)
}

/// Coordinates with one decimal: enough for a screen, and keeps big drawings small.
fn num(v: f64) -> String {
    let rounded = (v * 10.0).round() / 10.0;
    if rounded == rounded.trunc() {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}

fn point(p: Point) -> String {
    format!("{},{}", num(p.x), num(p.y))
}

fn render(scene: &Scene, layout: &Layout) -> String {
    let caption_height = if scene.caption.is_some() {
        CAPTION_HEIGHT
    } else {
        0.0
    };
    let caption_width = scene.caption.as_deref().map_or(0.0, |c| {
        measure::text_width(c, SMALL_FONT) + 2.0 * layout::MARGIN
    });
    let width = layout.width.max(caption_width);
    let height = layout.height + caption_height;
    // A rough size guess saves most reallocations on big drawings.
    let mut out = String::with_capacity(400 + scene.shapes.len() * 400 + scene.links.len() * 120);
    let _ = write!(
        out,
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" "#,
            r#"font-family="{font}" font-size="{size}">"#,
            "\n"
        ),
        w = num(width),
        h = num(height),
        font = FONT_FAMILY,
        size = num(NODE_FONT),
    );
    let _ = writeln!(
        out,
        r#"<defs><marker id="dask-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{STROKE}"/></marker></defs>"#
    );
    let _ = writeln!(
        out,
        r#"<rect class="background" x="0" y="0" width="{}" height="{}" fill="white"/>"#,
        num(width),
        num(height)
    );
    if let Some(caption) = &scene.caption {
        let _ = writeln!(
            out,
            r##"<text class="caption" x="{}" y="{}" font-size="{}" fill="#333">{}</text>"##,
            num(layout::MARGIN),
            num(layout::MARGIN + SMALL_FONT * 0.35),
            num(SMALL_FONT),
            xml(caption)
        );
    }
    let _ = writeln!(
        out,
        r#"<g class="graph" transform="translate(0,{})">"#,
        num(caption_height)
    );
    render_edges(&mut out, scene, layout);
    render_nodes(&mut out, scene, layout);
    out.push_str("</g>\n</svg>\n");
    out
}

fn render_edges(out: &mut String, scene: &Scene, layout: &Layout) {
    out.push_str("<g class=\"edges\">\n");
    for route in &layout.routes {
        let mut d = format!("M{}", point(route.start));
        for segment in &route.segments {
            match *segment {
                Segment::Line(p) => {
                    let _ = write!(d, " L{}", point(p));
                }
                Segment::Curve(a, b, p) => {
                    let _ = write!(d, " C{} {} {}", point(a), point(b), point(p));
                }
            }
        }
        let marker = if route.arrow {
            r#" marker-end="url(#dask-arrow)""#
        } else {
            ""
        };
        let _ = writeln!(
            out,
            r#"<path class="edge" d="{d}" fill="none" stroke="{STROKE}" stroke-width="1.2"{marker}/>"#
        );
    }
    out.push_str("</g>\n<g class=\"edge-labels\">\n");
    for route in &layout.routes {
        let label = scene.links.get(route.edge).and_then(|l| l.label.as_ref());
        let (Some(label), Some(at)) = (label, route.label_at) else {
            continue;
        };
        let (w, h) = measure::edge_label(label);
        // The white backing interrupts the line so the number reads cleanly.
        let _ = writeln!(
            out,
            r##"<g class="edge-label"><rect x="{}" y="{}" width="{}" height="{}" rx="3" fill="white" fill-opacity="0.9"/><text x="{}" y="{}" text-anchor="middle" font-size="{}" fill="#333">{}</text></g>"##,
            num(at.x - w / 2.0),
            num(at.y - h / 2.0),
            num(w),
            num(h),
            num(at.x),
            num(at.y + SMALL_FONT * 0.35),
            num(SMALL_FONT),
            xml(label)
        );
    }
    out.push_str("</g>\n");
}

fn render_nodes(out: &mut String, scene: &Scene, layout: &Layout) {
    out.push_str("<g class=\"nodes\">\n");
    for (shape, placed) in scene.shapes.iter().zip(&layout.nodes) {
        let fill = shape
            .fill
            .map_or_else(|| "white".to_owned(), |c| c.to_string());
        let text_fill = shape
            .fill
            .map_or_else(|| "#000000".to_owned(), |c| c.text_color().to_string());
        let c = placed.center;
        let _ = write!(
            out,
            r#"<g class="node {}" id="{}"><title>{}</title>"#,
            shape.role.class(),
            xml(&shape.id),
            xml(&shape.tooltip)
        );
        match shape.form {
            Form::Ellipse => {
                let _ = write!(
                    out,
                    r#"<ellipse cx="{}" cy="{}" rx="{}" ry="{}" fill="{fill}" stroke="{STROKE}"/>"#,
                    num(c.x),
                    num(c.y),
                    num(placed.width / 2.0),
                    num(placed.height / 2.0)
                );
            }
            Form::Box => {
                let _ = write!(
                    out,
                    r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}" stroke="{STROKE}"/>"#,
                    num(c.x - placed.width / 2.0),
                    num(c.y - placed.height / 2.0),
                    num(placed.width),
                    num(placed.height)
                );
            }
        }
        let line_height = NODE_FONT * LINE_HEIGHT;
        let first = c.y - (shape.lines.len() as f64 - 1.0) * line_height / 2.0;
        for (i, line) in shape.lines.iter().enumerate() {
            let _ = write!(
                out,
                r#"<text x="{}" y="{}" text-anchor="middle" fill="{text_fill}">{}</text>"#,
                num(c.x),
                num(first + i as f64 * line_height + NODE_FONT * 0.35),
                xml(line)
            );
        }
        out.push_str("</g>\n");
    }
    out.push_str("</g>\n");
}
