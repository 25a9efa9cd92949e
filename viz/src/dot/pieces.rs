//! A big DOT document cut into runs of whole top-level statements, so it can be parsed
//! a run at a time.
//!
//! The parser keeps about 70 bytes per byte of input while it works (a token for
//! every character of every quoted string), so `to_dot`'s 270 MB for a million nodes
//! could not be parsed whole. Cut into runs of about a megabyte, the parser only ever
//! holds one run.
//!
//! A cut is made only at a line feed where the whole-document parse, too, ends one
//! statement and starts the next, so reading the runs one after another gives the
//! same statements:
//!
//! - at the top level (inside the graph's braces, outside any subgraph, attribute
//!   list, string, comment or HTML-like id);
//! - when the next line starts an id (a letter, digit, `_` or `"`), never `->`, `[`,
//!   `:`, `=`, `;`, `{`, `<` or a comment, which could continue the statement before;
//! - when the last non-blank line ends with an id, `]`, `}` or `;` (not `->`, `=`,
//!   `>`…), and holds no comment and no `subgraph` keyword (whose id and body may
//!   follow on later lines) outside its strings.
//!
//! Anything unusual simply means no cut there; a document without a cut is one run.

use super::nesting::{scan, Mark};

/// A document's frame and its runs of statements.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Pieces<'a> {
    /// The document with every statement left out (`digraph name {` … `}`): parsed on
    /// its own, it says whether the graph is directed.
    pub frame: String,
    /// Runs of whole top-level statements in order, each with its first line (1-based).
    pub runs: Vec<(usize, &'a str)>,
}

fn starts_an_id(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'"'
}

/// Whether `line` (with no comment or `subgraph` in its code) ends a statement.
fn ends_a_statement(line: &str) -> bool {
    let trimmed = line.trim_end_matches([' ', '\t', '\r']);
    trimmed
        .bytes()
        .last()
        .is_some_and(|b| starts_an_id(b) || matches!(b, b']' | b'}' | b';'))
}

/// Cuts `text` into runs of at least `run_bytes` (the last may be shorter), or `None`
/// when it is not one `… { … }` graph as far as the scan can tell (the whole parse
/// then says what is wrong).
pub(crate) fn split(text: &str, run_bytes: usize) -> Option<Pieces<'_>> {
    let bytes = text.as_bytes();
    let (mut depth, mut lists) = (0usize, 0usize);
    let (mut open, mut close) = (None, None);
    let mut cuts = Vec::new();
    let mut line_start = 0;
    // Whether the last non-blank line ends a statement.
    let mut ended = false;
    // Whether the current line has a comment or `subgraph` outside its strings.
    let mut unsure = false;
    let mut malformed = false;
    scan(text, |at, mark| {
        if close.is_some() {
            // Anything but comments and blanks after the graph: the parser says what.
            malformed |= matches!(mark, Mark::Open | Mark::OpenList);
            return;
        }
        match mark {
            Mark::Open => {
                depth += 1;
                if open.is_none() {
                    open = Some(at);
                }
            }
            Mark::Close => {
                depth = depth.saturating_sub(1);
                if depth == 0 && open.is_some() {
                    close = Some(at);
                }
            }
            Mark::OpenList => lists += 1,
            Mark::CloseList => lists = lists.saturating_sub(1),
            Mark::Comment | Mark::Subgraph => unsure = true,
            Mark::Newline => {
                let line = &text[line_start..at];
                line_start = at + 1;
                if !line.trim().is_empty() {
                    ended = !unsure && ends_a_statement(line);
                }
                unsure = false;
                let next = bytes[at + 1..]
                    .iter()
                    .copied()
                    .find(|b| !matches!(b, b' ' | b'\t' | b'\r'));
                if depth == 1 && lists == 0 && ended && next.is_some_and(starts_an_id) {
                    cuts.push(at + 1);
                }
            }
        }
    });
    let (open, close) = (open?, close?);
    if malformed {
        return None;
    }
    let mut frame = String::with_capacity(open + 1 + text.len() - close);
    frame.push_str(&text[..=open]);
    frame.push_str(&text[close..]);

    let mut runs = Vec::new();
    let mut start = open + 1;
    for cut in cuts.into_iter().filter(|&cut| cut > open && cut < close) {
        if cut - start >= run_bytes {
            runs.push(start..cut);
            start = cut;
        }
    }
    runs.push(start..close);
    let (mut line, mut counted) = (1, 0);
    let runs = runs
        .into_iter()
        .map(|range| {
            line += bytes[counted..range.start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            counted = range.start;
            (line, &text[range])
        })
        .collect();
    Some(Pieces { frame, runs })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(text: &str) -> Vec<&str> {
        split(text, 1)
            .unwrap()
            .runs
            .into_iter()
            .map(|(_, r)| r)
            .collect()
    }

    #[test]
    fn statements_on_their_own_lines_are_cut() {
        let text = "digraph g {\n  a [label=x]\n  a -> b\n  \"c\";\n}\n";
        let pieces = split(text, 1).unwrap();
        assert_eq!(pieces.frame, "digraph g {}\n");
        // Not after `{`: only after a line that ends a statement.
        assert_eq!(
            pieces.runs,
            [
                (1, "\n  a [label=x]\n"),
                (3, "  a -> b\n"),
                (4, "  \"c\";\n")
            ]
        );
        // Runs of at least 20 bytes.
        assert_eq!(
            split(text, 20).unwrap().runs,
            [(1, "\n  a [label=x]\n  a -> b\n"), (4, "  \"c\";\n")]
        );
    }

    #[test]
    fn statements_that_go_on_are_not_cut() {
        let whole = |text: &str| assert_eq!(runs(text).len(), 1, "{text:?}");
        whole("digraph {a\n-> b}");
        whole("digraph {a ->\nb}");
        whole("digraph {a\n[label=x]}");
        whole("digraph {a [label=x,\nshape=box]}");
        whole("digraph {a\n:p}");
        whole("digraph {a =\nb}");
        whole("digraph {a\n= b}");
        whole("digraph {a\n;b}");
        whole("digraph {subgraph\nname\n{ b }}");
        whole("digraph {subgraph\n\nname { b }}");
        whole("digraph {subgraph name\n{ b }}");
        whole("digraph {subgraph { a\nb }}");
        whole("digraph {a -> <<b>x</b>>\nb}");
        whole("digraph {a # c\nb}");
        whole("digraph {a /* c\n*/ b}");
        whole("digraph {a\n// c\n-> b}");
        whole("digraph {a [label=\"x\ny\"]}");
        assert_eq!(runs("digraph {a\n\nb\n}"), ["a\n\n", "b\n"]);
        assert_eq!(
            runs("digraph {a [label=<<b>x</b>>]\nb}"),
            ["a [label=<<b>x</b>>]\n", "b"]
        );
    }

    #[test]
    fn comment_and_keyword_look_alikes_in_strings_do_not_stop_cuts() {
        let text = "digraph {\n a [tooltip=\"http://x # subgraph /* */\"]\n b\n}";
        assert_eq!(
            runs(text),
            ["\n a [tooltip=\"http://x # subgraph /* */\"]\n", " b\n"]
        );
        // The grammar reads `subgraphs` as `subgraph` named `s`; `xsubgraph` is an id.
        assert_eq!(runs("digraph {\nsubgraphs\nb\n}").len(), 1);
        assert_eq!(runs("digraph {\nxsubgraph\nb\n}"), ["\nxsubgraph\n", "b\n"]);
        assert_eq!(runs("digraph {\nx subgraph\nb\n}").len(), 1);
    }

    #[test]
    fn only_one_graph_is_split() {
        assert_eq!(split("digraph { a", 1), None);
        assert_eq!(split("digraph { a } { b }", 1), None);
        assert_eq!(split("digraph a", 1), None);
        assert!(split("digraph { a } // done\n", 1).is_some());
    }
}
