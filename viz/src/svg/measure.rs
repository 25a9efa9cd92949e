//! How big text and shapes will be, without a font engine.
//!
//! Widths come from Helvetica's published metrics (Arial and Liberation Sans share
//! them), scaled up a little so that a wider fallback font still fits inside its
//! shape: a label spilling out of its node is worse than some spare room.

use crate::layout::NodeSpec;
use crate::scene::{Form, Shape};

/// Font size of node labels, in px.
pub(crate) const NODE_FONT: f64 = 14.0;
/// Font size of edge labels and the caption, in px.
pub(crate) const SMALL_FONT: f64 = 12.0;
/// Line height as a multiple of the font size.
pub(crate) const LINE_HEIGHT: f64 = 1.25;

/// Room for fonts wider than Helvetica (DejaVu Sans runs about 10% wider).
const SAFETY: f64 = 1.12;

/// Helvetica advance widths in thousandths of an em, for ASCII 32 (space) to 126 (`~`).
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
    278, // ' ' to '/'
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, // digits
    278, 278, 584, 584, 584, 556, 1015, // ':' to '@'
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, // 'A' to 'M'
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, // 'N' to 'Z'
    278, 278, 278, 469, 556, 333, // '[' to '`'
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, // 'a' to 'm'
    556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, // 'n' to 'z'
    334, 260, 334, 584, // '{' to '~'
];

/// East Asian wide characters and emoji take a full em.
fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F
        | 0x2E80..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x1F300..=0x1FAFF
        | 0x20000..=0x3FFFD)
}

fn char_width(c: char) -> f64 {
    let thousandths = match c as u32 {
        code @ 32..=126 => HELVETICA[(code - 32) as usize],
        _ if is_wide(c) => 1000,
        // Accented Latin, Greek, Cyrillic: about an average lowercase letter, rounded up.
        _ => 620,
    };
    f64::from(thousandths) / 1000.0
}

/// Width in px of `text` on one line at `font_size` px.
pub(crate) fn text_width(text: &str, font_size: f64) -> f64 {
    text.chars().map(char_width).sum::<f64>() * font_size * SAFETY
}

/// (width, height) of a block of lines.
pub(crate) fn block(lines: &[String], font_size: f64) -> (f64, f64) {
    let width = lines
        .iter()
        .map(|l| text_width(l, font_size))
        .fold(0.0, f64::max);
    let height = lines.len().max(1) as f64 * font_size * LINE_HEIGHT;
    (width, height)
}

/// Padding between a label and its box, horizontally and vertically.
const BOX_PAD: (f64, f64) = (10.0, 5.0);
/// Padding of the label's rectangle before fitting the ellipse around it.
const ELLIPSE_PAD: (f64, f64) = (6.0, 2.0);

/// A shape just big enough for its label: a box with padding, or the ellipse
/// through the corners of the padded label rectangle (√2 times its half sides).
pub(crate) fn node_spec(shape: &Shape) -> NodeSpec {
    let (w, h) = block(&shape.lines, NODE_FONT);
    match shape.form {
        Form::Box => NodeSpec {
            width: (w + 2.0 * BOX_PAD.0).max(40.0),
            height: h + 2.0 * BOX_PAD.1,
            round: false,
        },
        Form::Ellipse => NodeSpec {
            width: ((w + 2.0 * ELLIPSE_PAD.0) * std::f64::consts::SQRT_2).max(54.0),
            height: (h + 2.0 * ELLIPSE_PAD.1) * std::f64::consts::SQRT_2,
            round: true,
        },
    }
}

/// Size of an edge label with a little room around it.
pub(crate) fn edge_label(text: &str) -> (f64, f64) {
    (
        text_width(text, SMALL_FONT) + 8.0,
        SMALL_FONT * LINE_HEIGHT + 2.0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::Role;

    #[test]
    fn the_table_covers_printable_ascii() {
        assert_eq!(char_width(' '), 0.278);
        assert_eq!(char_width('A'), 0.667);
        assert_eq!(char_width('a'), 0.556);
        assert_eq!(char_width('~'), 0.584);
        assert_eq!(char_width('W'), 0.944);
        assert_eq!(char_width('中'), 1.0);
    }

    #[test]
    fn longer_labels_get_wider_shapes() {
        let shape = |text: &str, form| Shape {
            id: "n0".into(),
            form,
            role: Role::Task,
            lines: vec![text.to_owned()],
            tooltip: String::new(),
            fill: None,
            key: None,
        };
        let short = node_spec(&shape("f", Form::Ellipse));
        let long = node_spec(&shape("generate_data_with_a_long_name", Form::Ellipse));
        assert!(long.width > short.width);
        let boxed = node_spec(&shape("generate_data_with_a_long_name", Form::Box));
        assert!(boxed.width >= text_width("generate_data_with_a_long_name", NODE_FONT) + 20.0);
        assert!(
            long.width > boxed.width,
            "the ellipse goes around the text's corners"
        );
    }
}
