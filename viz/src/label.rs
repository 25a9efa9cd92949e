//! The text written on nodes: short type names, human sizes, bounded lengths.

/// Labels longer than this are cut with an ellipsis; the full text stays in the tooltip.
/// Long labels would otherwise make one node as wide as the whole drawing.
pub(crate) const MAX_LABEL_CHARS: usize = 48;

const UNITS: [&str; 6] = ["kB", "MB", "GB", "TB", "PB", "EB"];

/// `8_000_000` → `8.0 MB`. Decimal units, as Dask's `format_bytes` rounds them for
/// display; the exact byte count goes in the tooltip.
pub(crate) fn format_bytes(bytes: u64) -> String {
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Reads back what [`format_bytes`] wrote (approximately: the rounding is lost).
pub(crate) fn parse_bytes(text: &str) -> Option<u64> {
    let (number, unit) = text.trim().split_once(' ')?;
    let value: f64 = number.parse().ok()?;
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    let scale = if unit == "B" {
        1.0
    } else {
        let power = UNITS.iter().position(|u| *u == unit)? as i32 + 1;
        1000f64.powi(power)
    };
    let bytes = (value * scale).round();
    (bytes <= u64::MAX as f64).then_some(bytes as u64)
}

/// `alloc::vec::Vec<alloc::string::String>` → `Vec<String>`: `std::any::type_name`
/// spells out module paths that only make labels wide.
pub(crate) fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    // Where the path currently being written started in `out`; a `::` drops it.
    let mut path_start = 0;
    let mut chars = full.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            out.truncate(path_start);
        } else {
            out.push(c);
            if !(c.is_alphanumeric() || c == '_') {
                path_start = out.len();
            }
        }
    }
    out
}

/// Cuts `text` to [`MAX_LABEL_CHARS`] characters and makes it one line.
pub(crate) fn bounded(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match one_line.char_indices().nth(MAX_LABEL_CHARS - 1) {
        Some((cut, _)) if one_line.chars().count() > MAX_LABEL_CHARS => {
            format!("{}…", &one_line[..cut])
        }
        _ => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_dask() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(999), "999 B");
        assert_eq!(format_bytes(1000), "1.0 kB");
        assert_eq!(format_bytes(8_000_000), "8.0 MB");
        assert_eq!(format_bytes(999_999), "1.0 MB");
        assert_eq!(format_bytes(u64::MAX), "18.4 EB");
    }

    #[test]
    fn sizes_read_back() {
        for bytes in [0, 12, 8_000_000, 24_000_000_000] {
            assert_eq!(parse_bytes(&format_bytes(bytes)), Some(bytes));
        }
        assert_eq!(parse_bytes("Vec<f64>"), None);
        assert_eq!(parse_bytes("-1 MB"), None);
        assert_eq!(parse_bytes("1e400 EB"), None);
    }

    #[test]
    fn type_names_lose_their_module_paths() {
        assert_eq!(short_type_name("alloc::vec::Vec<f64>"), "Vec<f64>");
        assert_eq!(
            short_type_name("std::collections::hash::map::HashMap<alloc::string::String, i32>"),
            "HashMap<String, i32>"
        );
        assert_eq!(
            short_type_name("(f64, &[core::option::Option<u8>])"),
            "(f64, &[Option<u8>])"
        );
        assert_eq!(short_type_name("pipeline::Stats"), "Stats");
    }

    #[test]
    fn long_labels_are_cut() {
        let long = "x".repeat(100);
        let cut = bounded(&long);
        assert_eq!(cut.chars().count(), MAX_LABEL_CHARS);
        assert!(cut.ends_with('…'));
        assert_eq!(bounded("a\nb"), "a b");
        assert_eq!(
            bounded(&"y".repeat(MAX_LABEL_CHARS)),
            "y".repeat(MAX_LABEL_CHARS)
        );
    }
}
