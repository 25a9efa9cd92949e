//! Text safe to put into SVG (XML) content and attribute values.

/// Whether XML 1.0 allows `c` in a document (its `Char` production): tab, newline,
/// carriage return, and everything from U+0020 except U+FFFE and U+FFFF (Rust `char`s
/// are never surrogates). One forbidden character makes the whole document unreadable
/// for a browser or an XML parser.
pub(crate) fn allowed_in_xml(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
}

/// `text` with every character XML forbids replaced by U+FFFD; markup is left alone.
/// For text that is about to become XML by other hands (Graphviz), and for what it
/// hands back.
pub(crate) fn xml_chars(text: &str) -> String {
    text.chars()
        .map(|c| if allowed_in_xml(c) { c } else { '\u{fffd}' })
        .collect()
}

/// Escapes markup characters and replaces characters XML 1.0 forbids (most control
/// characters, U+FFFE and U+FFFF).
pub(crate) fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if allowed_in_xml(c) => out.push(c),
            _ => out.push('\u{fffd}'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_forbidden_characters_are_neutralised() {
        assert_eq!(
            xml("<script>alert(\"x&y\")</script>'"),
            "&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;&#39;"
        );
        assert_eq!(xml("a\u{0}b\u{1b}c\nd"), "a\u{fffd}b\u{fffd}c\nd");
        assert_eq!(xml("\u{fffe}\u{ffff}\t\r"), "\u{fffd}\u{fffd}\t\r");
    }

    #[test]
    fn allowed_characters_follow_the_xml_char_production() {
        for c in [
            '\t',
            '\n',
            '\r',
            ' ',
            '\u{7f}',
            '\u{85}',
            '\u{d7ff}',
            '\u{e000}',
            '\u{fffd}',
            '\u{10000}',
            '\u{10ffff}',
        ] {
            assert!(allowed_in_xml(c), "{c:?}");
        }
        for c in [
            '\u{0}', '\u{8}', '\u{b}', '\u{c}', '\u{1f}', '\u{fffe}', '\u{ffff}',
        ] {
            assert!(!allowed_in_xml(c), "{c:?}");
        }
        assert_eq!(xml_chars("<a\u{1}\u{ffff}>"), "<a\u{fffd}\u{fffd}>");
    }
}
