//! How deep a DOT document nests `{ … }`, counted before parsing.
//!
//! The parser (graphviz-rust's pest grammar) and its tree conversion recurse once per
//! level, so the count must never be lower than the depth the parser reaches. It
//! therefore reads each lexical form exactly as that grammar does:
//!
//! - a quoted string runs from `"` to the next `"` not escaped by `\` (a `\` escapes
//!   any one character);
//! - an HTML-like id starts at `<` and ends at the first `>` followed by optional
//!   whitespace (space, tab, `\n`, `\r\n`) and another `>`; its `<` and `>` are *not*
//!   counted as nesting (`<<<x>>` is one id, `<<x` in `<` … `>>`);
//! - `/* … */` comments end at the first `*/` (no nesting); `//` and `#` comments end
//!   at `\n`, `\r\n` or a lone `\r`.
//!
//! An unterminated form makes the parser stop there, so braces after it are never
//! reached; counting stops too.
//!
//! The same scan finds where the document can be cut into pieces of statements
//! (see `pieces.rs`).

/// What the scan reports, each at its byte offset; only outside strings, comments
/// and HTML-like ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mark {
    Open,
    Close,
    /// `[`, `]`: attribute lists.
    OpenList,
    CloseList,
    Newline,
    /// The start of a comment of any kind.
    Comment,
    /// The keyword `subgraph`, also where an id follows without a space: the grammar
    /// reads `subgraphs { }` as a subgraph named `s`.
    Subgraph,
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Code,
    Quoted,
    LineComment,
    BlockComment,
    /// Inside an HTML-like id; `true` once it holds at least one character.
    Html(bool),
}

/// DOT's whitespace inside the HTML terminator `> … >`: `\r` only as part of `\r\n`.
fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    loop {
        match bytes.get(at..at + 2) {
            Some([b'\r', b'\n']) => at += 2,
            _ => match bytes.get(at) {
                Some(b' ' | b'\t' | b'\n') => at += 1,
                _ => return at,
            },
        }
    }
}

/// Deepest `{` nesting outside strings, comments and HTML-like ids.
pub(crate) fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    scan(text, |_, mark| match mark {
        Mark::Open => {
            depth += 1;
            deepest = deepest.max(depth);
        }
        Mark::Close => depth = depth.saturating_sub(1),
        _ => {}
    });
    deepest
}

/// Calls `on` for every brace and line feed that the parser reads as code, in order,
/// until the end of `text` or until the parser would stop.
///
/// Works on bytes: every delimiter is ASCII, and UTF-8 continuation bytes never equal
/// an ASCII byte, so a multi-byte character cannot be mistaken for one.
pub(crate) fn scan(text: &str, mut on: impl FnMut(usize, Mark)) {
    let bytes = text.as_bytes();
    let mut state = State::Code;
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        let next = bytes.get(at + 1).copied();
        at += 1;
        state = match state {
            State::Code => match (b, next) {
                (b'"', _) => State::Quoted,
                (b'#', _) | (b'/', Some(b'/')) => {
                    on(at - 1, Mark::Comment);
                    State::LineComment
                }
                (b'/', Some(b'*')) => {
                    on(at - 1, Mark::Comment);
                    at += 1;
                    State::BlockComment
                }
                (b's', _)
                    if bytes[at - 1..].starts_with(b"subgraph")
                        && !(at >= 2
                            && (bytes[at - 2].is_ascii_alphanumeric()
                                || bytes[at - 2] == b'_')) =>
                {
                    on(at - 1, Mark::Subgraph);
                    State::Code
                }
                (b'<', _) => State::Html(false),
                (b'{', _) => {
                    on(at - 1, Mark::Open);
                    State::Code
                }
                (b'}', _) => {
                    on(at - 1, Mark::Close);
                    State::Code
                }
                (b'\n', _) => {
                    on(at - 1, Mark::Newline);
                    State::Code
                }
                (b'[', _) => {
                    on(at - 1, Mark::OpenList);
                    State::Code
                }
                (b']', _) => {
                    on(at - 1, Mark::CloseList);
                    State::Code
                }
                _ => State::Code,
            },
            State::Quoted => match b {
                b'\\' => {
                    at += 1;
                    State::Quoted
                }
                b'"' => State::Code,
                _ => State::Quoted,
            },
            State::LineComment => match b {
                b'\n' => {
                    on(at - 1, Mark::Newline);
                    State::Code
                }
                b'\r' => State::Code,
                _ => State::LineComment,
            },
            State::BlockComment => match (b, next) {
                (b'*', Some(b'/')) => {
                    at += 1;
                    State::Code
                }
                _ => State::BlockComment,
            },
            State::Html(started) => {
                let closing =
                    b == b'>' && bytes.get(skip_whitespace(bytes, at)).copied() == Some(b'>');
                match (closing, started) {
                    (true, true) => {
                        at = skip_whitespace(bytes, at) + 1;
                        State::Code
                    }
                    // `<>>` is no id at all: the parse fails here.
                    (true, false) => return,
                    (false, _) => State::Html(true),
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::nesting_depth;

    #[test]
    fn braces_in_strings_comments_and_html_do_not_count() {
        assert_eq!(nesting_depth("digraph { a [label=\"{{{{\"] }"), 1);
        assert_eq!(nesting_depth("digraph { // {{{{\n /* {{ */ # {{\n }"), 1);
        assert_eq!(nesting_depth("digraph { a [label=<<b>{{</b>>] }"), 1);
        assert_eq!(nesting_depth("digraph { subgraph { subgraph { } } }"), 3);
        assert_eq!(nesting_depth("digraph { a [label=\"\\\"{{\"] { } }"), 2);
        assert_eq!(nesting_depth("digraph { /* a */ { /* } */ } }"), 2);
    }

    #[test]
    fn html_ids_end_where_the_grammar_ends_them() {
        // `<<<x>>` is one id: `<`, then `<<x`, then `>>`; the braces after it count.
        assert_eq!(nesting_depth("digraph { a [label=<<<x>>] { { } } }"), 3);
        // Whitespace between the closing `>`s, including CRLF but not a lone CR.
        assert_eq!(nesting_depth("digraph { a [label=<x> \r\n\t>] { } }"), 2);
        assert_eq!(nesting_depth("digraph { a [label=<x>\r> {{ >] }"), 1);
        // `<>>` is not an id: the parser stops there.
        assert_eq!(nesting_depth("digraph { a [label=<>>] { { } } }"), 1);
    }

    #[test]
    fn line_comments_end_at_any_newline() {
        // A lone CR ends `#` and `//` comments for the parser.
        assert_eq!(nesting_depth("digraph { # x\r{ { } } }"), 3);
        assert_eq!(nesting_depth("digraph { // x\r\n{ } }"), 2);
        assert_eq!(nesting_depth("digraph { #{{{\n }"), 1);
    }

    #[test]
    fn multi_byte_characters_are_skipped() {
        assert_eq!(nesting_depth("digraph { \"ü{\" é { } }"), 2);
    }
}
