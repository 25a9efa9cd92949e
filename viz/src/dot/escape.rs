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
    fn other_id_forms_are_read() {
        assert_eq!(unquoted("n0"), "n0");
        assert_eq!(unquoted("<<b>bold</b> &amp; x>"), "bold & x");
        assert_eq!(unquoted("\"line\\\ncontinued\""), "linecontinued");
        assert_eq!(unquoted("\"&#65;&#x42;&bogus;&\""), "AB&bogus;&");
    }
}
