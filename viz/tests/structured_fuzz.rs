//! Structure-aware fuzzing of the DOT and JSON readers, deterministic and bounded so it
//! runs with every `cargo test`.
//!
//! cargo-fuzz (`fuzz/`, `scripts/fuzz.sh`) mutates bytes and rarely builds a document
//! nested 60 deep with an HTML label in front; these generators build such documents
//! on purpose: nested subgraphs and edges between them, HTML-like labels with nested
//! `<>`, quoted strings with escapes and braces, `//`, `/* */` and `#` comments in
//! between, node defaults, and nesting hidden behind each of those forms. What they
//! check on every document:
//!
//! - the reader returns, within seconds, a graph or an error: never a panic or abort;
//! - an error's message is short and not empty;
//! - a document nested deeper than `MAX_DOT_NESTING` behind any valid form is refused
//!   as too deep (the pre-scan reads every form as the parser does);
//! - reading in runs of statements (as documents above 16 MiB are read) gives what
//!   reading whole gives;
//! - a graph read is valid, its JSON reads back equal, its DOT reads back with the
//!   same keys and edges, and it draws as well-formed SVG.
//!
//! `DASK_VIZ_FUZZ_CASES` (default 2,000 DOT documents and 1,000 JSON ones) and
//! `DASK_VIZ_FUZZ_SEED` (default 0) run it longer or differently; a failure prints the
//! document, to be saved under `fuzz/regressions/`. `DASK_VIZ_FUZZ_SAVE_DOT=DIR`
//! writes the first 12 documents of each outcome (read, or refused with each kind of
//! error) into DIR: the `gen-*` seeds of `fuzz/corpus/from_dot/`.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use dask_viz::{Engine, GraphError, NodeInfo, SvgOptions, TaskGraph, MAX_DOT_NESTING};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// Longer than any one document may take, even in a debug build on a busy machine.
const TIME_PER_DOCUMENT: Duration = Duration::from_secs(20);

/// Error messages quote at most a few shortened lines of the input.
const MAX_MESSAGE: usize = 4096;

fn runner(default_cases: u32) -> TestRunner {
    let cases = std::env::var("DASK_VIZ_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    let seed: u64 = std::env::var("DASK_VIZ_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..].copy_from_slice(&0x5eed_u64.to_le_bytes());
    let config = Config {
        cases,
        failure_persistence: None,
        // Shrinking re-runs slow documents many times; the failing one is printed whole.
        max_shrink_iters: 64,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::XorShift, &bytes))
}

// ---------------------------------------------------------------- DOT generators

fn plain_id() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-zA-Z_][a-zA-Z0-9_]{0,5}",
        1 => prop::sample::select(vec!["node", "edge", "graph", "subgraph", "strict", "n", "_"])
            .prop_map(str::to_owned),
        1 => "-?[0-9]{1,3}(\\.[0-9]{1,2})?",
    ]
}

/// Text inside a quoted string: escapes, braces, comment and HTML look-alikes, entities,
/// line breaks and characters XML forbids.
fn quoted_id() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        3 => "[a-z ]{1,4}",
        1 => prop::sample::select(vec![
            "\\\"", "\\\\", "\\n", "\\l", "\\N", "{", "}", "{{", "<", ">", "<<", ">>", "#", "//",
            "/*", "*/", "\n", "\r\n", "&amp;", "&lt;", "&#65;", "&#xFFFE;", "é", "\u{fffe}",
            "\u{1}", "\t", ";", "->", "[", "]", "=",
        ])
        .prop_map(str::to_owned),
    ];
    prop::collection::vec(part, 0..6).prop_map(|parts| format!("\"{}\"", parts.concat()))
}

/// An HTML-like id: `<`, content, `>`, optional whitespace, `>`. The content may end
/// the id early (`>>`), which makes the rest a syntax error; that is fine too.
fn html_id() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        3 => "[a-z ]{1,4}",
        1 => prop::sample::select(vec![
            "<b>", "</b>", "<", "<<", ">", "{", "}", "\"", "#", "//", "/*", "&amp;", "\n", "> x",
            "<br/>", "<table><tr><td>", "</td></tr></table>",
        ])
        .prop_map(str::to_owned),
    ];
    let closing = prop::sample::select(vec![">>", "> >", ">\r\n>", ">\n\t>"]);
    (prop::collection::vec(part, 1..5), closing)
        .prop_map(|(parts, closing)| format!("<{}{closing}", parts.concat()))
}

fn id() -> impl Strategy<Value = String> {
    prop_oneof![4 => plain_id(), 3 => quoted_id(), 1 => html_id()]
}

/// Between tokens: whitespace and comments of every kind.
fn gap() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        " ",
        " ",
        " ",
        "\n",
        "\r\n",
        "\t",
        " // c {\n",
        " # c }\n",
        " /* { */ ",
        " /* \n } */ ",
        "\n# x\r",
    ])
    .prop_map(str::to_owned)
}

/// After a statement: a gap or a `;` (which the grammar takes only there).
fn after_statement() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        " ",
        " ",
        " ",
        "\n",
        "\r\n",
        "\t",
        " // c {\n",
        " # c }\n",
        " /* { */ ",
        " /* \n } */ ",
        "\n# x\r",
        " ; ",
    ])
    .prop_map(str::to_owned)
}

fn attributes() -> impl Strategy<Value = String> {
    let attribute = (
        prop_oneof![
            3 => prop::sample::select(vec!["label", "shape", "tooltip"]).prop_map(str::to_owned),
            1 => plain_id(),
        ],
        prop_oneof![
            2 => id(),
            1 => prop::sample::select(vec!["box", "ellipse", "record", "\"\\N\""]).prop_map(str::to_owned),
        ],
        prop::sample::select(vec![" ", ", ", "; ", "\n"]),
    )
        .prop_map(|(name, value, sep)| format!("{name}={value}{sep}"));
    prop::collection::vec(attribute, 0..4).prop_map(|a| format!("[{}]", a.concat()))
}

fn statement() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        3 => (id(), prop::option::of(attributes()))
            .prop_map(|(id, attrs)| format!("{id} {}", attrs.unwrap_or_default())),
        3 => (prop::collection::vec(id(), 2..4), gap(), prop::option::of(attributes()))
            .prop_map(|(ends, gap, attrs)| {
                format!("{}{gap}{}", ends.join(" -> "), attrs.unwrap_or_default())
            }),
        1 => (prop::sample::select(vec!["node", "edge", "graph"]), attributes())
            .prop_map(|(kind, attrs)| format!("{kind} {attrs}")),
        1 => (plain_id(), id()).prop_map(|(name, value)| format!("{name}={value}")),
    ];
    leaf.prop_recursive(6, 48, 5, |inner| {
        let body = (prop::collection::vec((inner, after_statement()), 0..5)).prop_map(|stmts: Vec<(String, String)>| {
            stmts
                .into_iter()
                .map(|(s, g)| format!("{s}{g}"))
                .collect::<String>()
        })
        .boxed();
        prop_oneof![
            2 => (prop::option::of(plain_id()), body.clone())
                .prop_map(|(name, body)| format!("subgraph {} {{ {body} }}", name.unwrap_or_default())),
            1 => (id(), body)
                .prop_map(|(from, body)| format!("{from} -> subgraph {{ {body} }}")),
        ]
    })
}

fn document() -> impl Strategy<Value = String> {
    let body = prop::collection::vec((statement(), after_statement()), 0..8).prop_map(|stmts| {
        stmts
            .into_iter()
            .map(|(s, g)| format!("{s}{g}"))
            .collect::<String>()
    });
    let head = prop::sample::select(vec![
        "digraph",
        "digraph g",
        "strict digraph",
        "graph",
        "digraph \"x\"",
    ]);
    let well_formed =
        (head, gap(), body).prop_map(|(head, gap, body)| format!("{head} {{{gap}{body}}}\n"));
    // Some documents are damaged: cut short or with one character changed.
    (
        well_formed,
        0..8u8,
        any::<prop::sample::Index>(),
        prop::sample::select(vec!['{', '}', '"', '<', '>', '#', '/', '\n', '\r', 'x']),
    )
        .prop_map(|(text, damage, at, c)| {
            let at = at.index(text.len() + 1);
            let at = (0..=at)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            match damage {
                0 => text[..at].to_owned(),
                1 => format!("{}{c}{}", &text[..at], &text[at..]),
                _ => text,
            }
        })
}

/// Forms that hide braces from a careless pre-scan, each valid DOT before a nest.
const HIDING: [&str; 10] = [
    "a [label=<<<x>>];",
    "a [label=<x> \r\n >];",
    "a [label=\"\\\"{\"];",
    "a [label=\"}}}}\"];",
    "# comment\r",
    "// comment }}}\n",
    "/* } */",
    "/* /* } */",
    "a [label=<<b>}}</b>>];",
    "\"é}\" -> b;",
];

/// A nest of `depth` subgraphs behind one of the hiding forms.
fn deep_document() -> impl Strategy<Value = (usize, String)> {
    (
        prop::sample::select(HIDING.to_vec()),
        prop_oneof![
            0..=MAX_DOT_NESTING + 2,
            Just(MAX_DOT_NESTING - 1),
            Just(MAX_DOT_NESTING),
            60..200usize
        ],
        any::<bool>(),
    )
        .prop_map(|(prefix, depth, edge)| {
            // Edges from a new node at each level (`e3 -> subgraph { … }`), or bare nests.
            let opens: String = (0..depth)
                .map(|i| {
                    if edge {
                        format!("e{i} -> subgraph {{ ")
                    } else {
                        "subgraph { ".to_owned()
                    }
                })
                .collect();
            let text = format!("digraph {{ {prefix} {opens} x {} }}", "} ".repeat(depth));
            (depth + 1, text)
        })
}

// ---------------------------------------------------------------- checks

fn edge_pairs(graph: &TaskGraph) -> HashMap<(String, String), usize> {
    let mut pairs = HashMap::new();
    for (from, to, _) in graph.edges() {
        let key = (graph.node(from).key.clone(), graph.node(to).key.clone());
        *pairs.entry(key).or_insert(0) += 1;
    }
    pairs
}

/// XML 1.0's `Char` production.
fn allowed_in_xml(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}')
}

/// What every graph a reader accepts must satisfy.
fn check_accepted(graph: &TaskGraph) -> Result<(), TestCaseError> {
    prop_assert!(graph.validate().is_ok());
    let json = graph.to_json();
    let back = TaskGraph::from_json(&json);
    prop_assert_eq!(back.as_ref(), Ok(graph), "{}", json);
    let dot = graph.to_dot();
    match TaskGraph::from_dot(&dot) {
        Ok(back) => {
            // Every key reads back exactly, control characters and all (those the
            // tooltip cannot show travel in the `dask_key` attribute).
            let keys = |g: &TaskGraph| g.nodes().map(|(_, n)| n.key.clone()).collect::<Vec<_>>();
            prop_assert_eq!(keys(&back), keys(graph), "{}", dot);
            prop_assert_eq!(edge_pairs(&back), edge_pairs(graph), "{}", dot);
        }
        Err(GraphError::DuplicateKey { .. } | GraphError::Cycle { .. }) => {}
        Err(err) => prop_assert!(
            false,
            "from_dot refused what to_dot wrote: {}\n{}",
            err,
            dot
        ),
    }
    if graph.len() <= 200 {
        let svg = graph
            .to_svg_with(&SvgOptions::default().engine(Engine::Embedded))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(
            svg.chars().all(allowed_in_xml),
            "SVG with a character XML forbids"
        );
    }
    Ok(())
}

fn check_error(err: &GraphError) -> Result<(), TestCaseError> {
    let message = err.to_string();
    prop_assert!(!message.is_empty());
    prop_assert!(
        message.len() <= MAX_MESSAGE,
        "{} bytes: {}",
        message.len(),
        message
    );
    Ok(())
}

fn read_dot(text: &str) -> Result<Result<TaskGraph, GraphError>, TestCaseError> {
    let started = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| TaskGraph::from_dot(text)))
        .map_err(|_| TestCaseError::fail(format!("from_dot panicked on {text:?}")))?;
    prop_assert!(
        started.elapsed() < TIME_PER_DOCUMENT,
        "{:?} for {:?}",
        started.elapsed(),
        text
    );
    Ok(result)
}

/// Checks one document; the kind of error it was refused with, if it was.
fn check_dot(text: &str) -> Result<Option<String>, TestCaseError> {
    let whole = read_dot(text)?;
    let runs = catch_unwind(AssertUnwindSafe(|| TaskGraph::from_dot_in_runs(text, 1)))
        .map_err(|_| TestCaseError::fail(format!("reading in runs panicked on {text:?}")))?;
    match (&whole, &runs) {
        (Ok(a), Ok(b)) => prop_assert_eq!(a, b, "whole and in runs differ: {:?}", text),
        (Err(a), Err(b)) => prop_assert_eq!(
            std::mem::discriminant(a),
            std::mem::discriminant(b),
            "{:?}: {} / {}",
            text,
            a,
            b
        ),
        _ => prop_assert!(false, "{:?}: whole {:?}, in runs {:?}", text, whole, runs),
    }
    match whole {
        Ok(graph) => check_accepted(&graph).map(|()| None),
        Err(err) => {
            check_error(&err)?;
            let kind = format!("{err:?}");
            Ok(Some(
                kind[..kind.find([' ', '{', '(']).unwrap_or(kind.len())].to_owned(),
            ))
        }
    }
}

#[test]
fn generated_dot_documents_read_or_fail_cleanly() {
    let outcomes = std::cell::RefCell::new(HashMap::<String, usize>::new());
    let result = runner(2_000).run(&document(), |text| {
        let outcome = check_dot(&text)?.unwrap_or_else(|| "read".to_owned());
        let mut outcomes = outcomes.borrow_mut();
        let seen = outcomes.entry(outcome.clone()).or_default();
        *seen += 1;
        if let Some(dir) = std::env::var_os("DASK_VIZ_FUZZ_SAVE_DOT").filter(|_| *seen <= 12) {
            let path = std::path::Path::new(&dir).join(format!("gen-{outcome}-{seen}.dot"));
            std::fs::write(path, &text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        Ok(())
    });
    if let Err(err) = result {
        panic!("{err}");
    }
    let outcomes = outcomes.into_inner();
    eprintln!("DOT outcomes: {outcomes:?}");
    // The generator must reach both sides, or it tests little.
    assert!(outcomes.get("read").is_some_and(|&n| n > 0), "{outcomes:?}");
    assert!(outcomes.len() > 2, "{outcomes:?}");
}

#[test]
fn nesting_hidden_behind_any_form_is_measured() {
    let result = runner(200).run(&deep_document(), |(depth, text)| {
        let result = read_dot(&text)?;
        if depth > MAX_DOT_NESTING {
            prop_assert!(
                matches!(result, Err(GraphError::DotTooDeep { depth: d, .. }) if d == depth),
                "{:?}: {:?}",
                text,
                result
            );
        } else {
            prop_assert!(result.is_ok(), "{:?}: {:?}", text, result);
        }
        Ok(())
    });
    if let Err(err) = result {
        panic!("{err}");
    }
}

// ---------------------------------------------------------------- JSON

fn text_field() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z_:]{0,12}",
        1 => prop::collection::vec(any::<char>(), 0..6).prop_map(|c| c.into_iter().collect()),
        1 => prop::sample::select(vec!["\"", "\\", "\n", "<script>", "}{", "\u{fffe}", ""])
            .prop_map(str::to_owned),
    ]
}

fn graph() -> impl Strategy<Value = TaskGraph> {
    let node = (
        any::<bool>(),
        text_field(),
        text_field(),
        prop::option::of(text_field()),
        prop::option::of(any::<u64>()),
        prop::option::of(any::<u64>()),
        prop::option::of(any::<u64>()),
    );
    (
        prop::collection::vec(node, 0..12),
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                any::<prop::sample::Index>(),
                0..4u32,
            ),
            0..20,
        ),
    )
        .prop_map(|(nodes, edges)| {
            let mut graph = TaskGraph::new();
            let ids: Vec<_> = nodes
                .into_iter()
                .enumerate()
                .map(|(i, (task, name, path, type_name, size, order, time))| {
                    let key = format!("k{i}-{name}");
                    let mut info = if task {
                        NodeInfo::task(key, name, path)
                    } else {
                        NodeInfo::value(key, name, path)
                    };
                    info.type_name = type_name;
                    info.size = size;
                    info.order = order;
                    info.duration_ns = time;
                    graph.add_node(info)
                })
                .collect();
            if !ids.is_empty() {
                for (a, b, position) in edges {
                    let (a, b) = (a.index(ids.len()), b.index(ids.len()));
                    // Only forward edges: acyclic by construction.
                    if a < b {
                        graph.add_edge(ids[a], ids[b], position);
                    }
                }
            }
            graph
        })
}

#[test]
fn generated_graphs_and_damaged_json_read_or_fail_cleanly() {
    let damaged = (graph(), any::<prop::sample::Index>(), 0..6u8, any::<char>());
    let result = runner(1_000).run(&damaged, |(graph, at, damage, c)| {
        let json = graph.to_json();
        let back = TaskGraph::from_json(&json);
        prop_assert_eq!(back.as_ref(), Ok(&graph));
        let at = at.index(json.len() + 1);
        let at = (0..=at)
            .rev()
            .find(|&i| json.is_char_boundary(i))
            .unwrap_or(0);
        let text = match damage {
            0 => json[..at].to_owned(),
            1 => format!("{}{c}{}", &json[..at], &json[at..]),
            2 => format!("{}{}", &json[..at], "[".repeat(1000)),
            _ => json.replacen("\"task\"", "\"thunk\"", usize::from(damage) - 2),
        };
        let result = catch_unwind(AssertUnwindSafe(|| TaskGraph::from_json(&text)))
            .map_err(|_| TestCaseError::fail(format!("from_json panicked on {text:?}")))?;
        match result {
            Ok(read) => check_accepted(&read),
            Err(err) => check_error(&err),
        }
    });
    if let Err(err) = result {
        panic!("{err}");
    }
}
