//! Text in and out of DOT quoted strings.
//!
//! DOT itself only escapes `\"` inside quotes, but label-like attributes are Graphviz
//! "escString"s where `\\`, `\n`, `\N`, `\G`… mean something, and Graphviz decodes
//! HTML entities in labels. So a literal backslash is written `\\` (else `\N` in a
//! name would print the node id), and `&`, `<`, `>` are written as entities: this also
//! keeps `<script>` out of the DOT text when it is embedded in a web page.

/// `text` as a quoted DOT string with escString and entity escapes.
pub(crate) fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A raw CR or other control character would either end the line in some
            // readers or be invisible; neither belongs in a label.
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Lines joined with escString newlines, centred as Graphviz does by default.
pub(crate) fn quoted_lines(lines: &[String]) -> String {
    quoted(&lines.join("\n"))
}

/// The text of a DOT id as the parser hands it over: plain ids as they are, quoted
/// strings unquoted and unescaped, HTML-like labels with their tags dropped.
pub(crate) fn unquoted(raw: &str) -> String {
    if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        decode_entities(&unescape(inner))
    } else if let Some(inner) = raw.strip_prefix('<').and_then(|r| r.strip_suffix('>')) {
        decode_entities(&strip_tags(inner.trim()))
    } else {
        raw.to_owned()
    }
}

/// Undoes the quoting (`\"`), line continuations and the escString escapes we write.
/// Other escString sequences (`\N`, `\G`…) name things we cannot know; they keep
/// their letter.
fn unescape(inner: &str) -> String {
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'l' | 'r') => out.push('\n'),
            Some('\n') => {}
            Some('\r') => {
                // A CRLF line continuation.
                let rest = chars.as_str();
                if let Some(after) = rest.strip_prefix('\n') {
                    chars = after.chars();
                }
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// A node key as text without control characters, for the `dask_key` attribute: `\`
/// becomes `\\`, newline, CR and tab `\n`, `\r`, `\t`, any other control character
/// `\u{hex}`; the empty key is `\e` (Graphviz drops an empty attribute when it
/// rewrites a file, `dot -Tdot`). [`quoted`] then makes it a DOT string, and
/// [`decode_key`] after [`unquoted`] gives the key back exactly, which the tooltip
/// cannot (it shows control characters as spaces and its lines are the key's lines).
pub(crate) fn encode_key(key: &str) -> String {
    use std::fmt::Write;
    if key.is_empty() {
        return "\\e".to_owned();
    }
    let mut out = String::with_capacity(key.len() + 8);
    for c in key.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// Undoes [`encode_key`]; `None` for text it cannot have written.
pub(crate) fn decode_key(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '\\' => out.push('\\'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            // No text: how the empty key is written.
            'e' => {}
            'u' => {
                let rest = chars.as_str().strip_prefix('{')?;
                let end = rest.find('}').filter(|&end| (1..=6).contains(&end))?;
                let hex = &rest[..end];
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(char::from_u32(u32::from_str_radix(hex, 16).ok()?)?);
                chars = rest[end + 1..].chars();
            }
            _ => return None,
        }
    }
    Some(out)
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut depth = 0usize;
    for c in html.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Named entities we write plus the numeric forms; unknown ones stay as written.
fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest[1..]
            .find(';')
            .filter(|&end| end <= 10)
            .and_then(|end| entity(&rest[1..=end]).map(|c| (c, end + 2)));
        match decoded {
            Some((c, used)) => {
                out.push(c);
                rest = &rest[used..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some('\u{a0}'),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_backslashes_and_newlines_are_escaped() {
        assert_eq!(quoted(r#"say "hi"\now"#), r#""say \"hi\"\\now""#);
        assert_eq!(quoted("a\nb"), r#""a\nb""#);
        assert_eq!(quoted("a\rb\tc"), r#""a b c""#);
    }

    #[test]
    fn markup_becomes_entities() {
        assert_eq!(
            quoted("<script>alert('x') & more</script>"),
            "\"&lt;script&gt;alert('x') &amp; more&lt;/script&gt;\""
        );
    }

    #[test]
    fn escaping_round_trips() {
        for text in [
            "plain",
            r#"say "hi""#,
            r"back\slash \N \G",
            "two\nlines",
            "<script>alert(1)</script>",
            "&amp; already",
            "Vec<HashMap<&str, f64>>",
            "trailing\\",
            "ünïcødé 🦀",
        ] {
            assert_eq!(unquoted(&quoted(text)), text, "{text}");
        }
    }

    #[test]
    fn keys_round_trip_through_the_key_attribute() {
        for key in [
            "",
            "plain",
            "plain\nnewline",
            "cr\r\nlf\ttab",
            r#"back\slash \n \\ "quotes""#,
            "\u{0}\u{7f}\u{85}\u{9f} controls",
            "<&amp;> ünïcødé 🦀",
            "\\u{41}",
        ] {
            let encoded = encode_key(key);
            assert!(!encoded.chars().any(char::is_control), "{encoded:?}");
            assert_eq!(
                decode_key(&unquoted(&quoted(&encoded))).as_deref(),
                Some(key),
                "{key:?}"
            );
        }
        assert_eq!(encode_key("a\nb\\c"), r"a\nb\\c");
        assert_eq!(encode_key(""), r"\e");
        for bad in [
            r"\",
            r"\x",
            r"\u",
            r"\u{}",
            r"\u{d800}",
            r"\u{1234567}",
            r"\u{12",
            r"\u{+41}",
        ] {
            assert_eq!(decode_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn other_id_forms_are_read() {
        assert_eq!(unquoted("n0"), "n0");
        assert_eq!(unquoted("<<b>bold</b> &amp; x>"), "bold & x");
        assert_eq!(unquoted("\"line\\\ncontinued\""), "linecontinued");
        assert_eq!(unquoted("\"&#65;&#x42;&bogus;&\""), "AB&bogus;&");
    }
}
