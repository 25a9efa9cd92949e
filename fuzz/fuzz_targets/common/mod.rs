//! Checks shared by both targets, run on every graph a reader accepts.
//!
//! A panic anywhere here is a finding: libFuzzer turns it into a crash and saves the
//! input under `fuzz/artifacts/<target>/`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

use dask_viz::{ColorBy, DotOptions, Engine, GraphError, RankDir, SvgOptions, TaskGraph};

/// The embedded SVG layout is only run on graphs up to this size, so one input costs
/// milliseconds and libFuzzer's `-timeout` catches real hangs, not big layouts.
pub const MAX_DRAWN_NODES: usize = 200;

/// Crates whose panics `TaskGraph::from_dot` catches (it wraps `graphviz_rust::parse`
/// in `catch_unwind` and returns `GraphError::DotSyntax`).
const CAUGHT_BY_FROM_DOT: &[&str] = &["/graphviz-rust-", "/pest-", "/dot-structures-"];

static TOLERATED: AtomicUsize = AtomicUsize::new(0);

/// libfuzzer-sys installs a panic hook that aborts before unwinding, which would turn
/// the parser panics `from_dot` deliberately catches into crashes. This hook lets
/// panics raised inside the DOT parser's crates unwind (noting the first few on
/// stderr); every other panic aborts as before. A parser panic that nothing catches
/// still aborts, in libfuzzer-sys's own `catch_unwind` around the target.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let abort_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_parser = info
                .location()
                .is_some_and(|l| CAUGHT_BY_FROM_DOT.iter().any(|c| l.file().contains(c)));
            if in_parser {
                let n = TOLERATED.fetch_add(1, Ordering::Relaxed);
                if n < 5 {
                    eprintln!("note: DOT parser panic (from_dot catches it): {info}");
                }
                return;
            }
            abort_hook(info);
        }));
    });
}

/// Reads `data` as text; invalid UTF-8 is replaced rather than skipped, so no
/// mutation is wasted (the readers take `&str`, so raw bytes cannot reach them).
pub fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Everything a graph accepted by a reader must survive.
pub fn check_accepted(graph: &TaskGraph) {
    // A reader only hands out graphs that hold the invariants it checks.
    if let Err(err) = graph.validate() {
        panic!("a reader returned a graph that fails validate(): {err}");
    }

    // JSON: what we write reads back to an equal graph.
    let json = graph.to_json();
    match TaskGraph::from_json(&json) {
        Ok(back) => assert!(
            back == *graph,
            "to_json → from_json gave a different graph\n{json}"
        ),
        Err(err) => panic!("from_json refused what to_json wrote: {err}\n{json}"),
    }

    // DOT: writing never panics, in every mode, and what we write is DOT we can parse.
    let dot = graph.to_dot();
    let _ = graph.to_dot_with(
        &DotOptions::default()
            .rankdir(RankDir::LeftToRight)
            .color(ColorBy::Function)
            .collapse_above(Some(0)),
    );
    let _ = graph.to_dot_with(&DotOptions::default().color(ColorBy::Duration));
    check_dot_round_trip(graph, &dot);

    let collapsed = graph.collapse_by_function();
    assert_eq!(
        collapsed.groups().iter().map(|g| g.count()).sum::<usize>(),
        graph.len(),
        "collapsing lost or duplicated nodes"
    );

    // SVG from the embedded layout (never Engine::Auto: that would run Graphviz's
    // `dot` where it is installed). Node by node, and collapsed, whose groups may form
    // cycles the layout has to break.
    if graph.len() <= MAX_DRAWN_NODES {
        let embedded = SvgOptions::default().engine(Engine::Embedded);
        for options in [
            embedded.clone(),
            embedded
                .clone()
                .rankdir(RankDir::BottomToTop)
                .color(ColorBy::Order)
                .collapse_above(Some(0)),
            embedded
                .rankdir(RankDir::RightToLeft)
                .color(ColorBy::Duration),
        ] {
            match graph.to_svg_with(&options) {
                Ok(svg) => assert!(
                    svg.trim_end().ends_with("</svg>"),
                    "unterminated SVG for {options:?}"
                ),
                Err(err) => panic!("embedded SVG failed for {options:?}: {err}"),
            }
        }
    }
}

/// Text the DOT writer escapes to a space (control characters) or that the reader
/// cannot tell from a missing value (an empty key) does not survive a DOT round trip;
/// the reader is documented as best effort for those.
fn survives_dot(text: &str) -> bool {
    !text.chars().any(char::is_control)
}

/// `from_dot(to_dot(g))`: never a syntax error (the writer must emit valid DOT), and
/// for graphs whose text survives DOT escaping the reader's documented promise: the
/// same nodes in the same order (keys, kinds, paths, types, sizes, orders, times;
/// names are shortened in labels) and the same edges between the same keys
/// (positions are renumbered).
fn check_dot_round_trip(graph: &TaskGraph, dot: &str) {
    let back = match TaskGraph::from_dot(dot) {
        Ok(back) => back,
        Err(GraphError::DotSyntax { message }) => {
            panic!("from_dot cannot parse what to_dot wrote: {message}\n{dot}")
        }
        Err(err @ (GraphError::DotTooDeep { .. } | GraphError::TooLarge { .. })) => {
            panic!("from_dot refused what to_dot wrote: {err}\n{dot}")
        }
        // Lossy text (see `survives_dot`) can make two keys read back equal.
        Err(_) => return,
    };
    let clean = graph.nodes().all(|(_, n)| {
        !n.key.is_empty()
            && survives_dot(&n.key)
            && survives_dot(&n.path)
            && n.type_name.as_deref().is_none_or(survives_dot)
    });
    if !clean {
        return;
    }
    assert_eq!(
        back.len(),
        graph.len(),
        "DOT round trip changed the node count\n{dot}"
    );
    for ((_, a), (_, b)) in graph.nodes().zip(back.nodes()) {
        assert_eq!(a.key, b.key, "DOT round trip changed a key\n{dot}");
        assert_eq!(
            a.kind, b.kind,
            "DOT round trip changed the kind of {:?}\n{dot}",
            a.key
        );
        assert_eq!(
            a.path, b.path,
            "DOT round trip changed the path of {:?}\n{dot}",
            a.key
        );
        if a.type_name.is_some() {
            assert_eq!(
                a.type_name, b.type_name,
                "DOT round trip changed the type of {:?}\n{dot}",
                a.key
            );
        }
        assert_eq!(
            a.size, b.size,
            "DOT round trip changed the size of {:?}\n{dot}",
            a.key
        );
        assert_eq!(
            a.order, b.order,
            "DOT round trip changed the order of {:?}\n{dot}",
            a.key
        );
        assert_eq!(
            a.duration_ns, b.duration_ns,
            "DOT round trip changed the time of {:?}\n{dot}",
            a.key
        );
    }
    assert_eq!(
        edge_pairs(graph),
        edge_pairs(&back),
        "DOT round trip changed the edges\n{dot}"
    );
}

/// Edges as a multiset of (dependency key, reader key).
fn edge_pairs(graph: &TaskGraph) -> HashMap<(String, String), usize> {
    let mut pairs = HashMap::new();
    for (from, to, _) in graph.edges() {
        let key = (graph.node(from).key.clone(), graph.node(to).key.clone());
        *pairs.entry(key).or_insert(0) += 1;
    }
    pairs
}
