//! One colour per function in every picture: the graph drawing (which knows a
//! function's path), the timeline and the report (which know its display name).

use dask_viz::{
    ColorBy, Engine, NodeInfo, Report, SummaryRow, SvgOptions, TaskGraph, Timeline, TimelineBar,
};

const FUNCTIONS: [&str; 4] = ["generate_data", "aggregate_data", "chunk_sum", "mean_of"];

/// `name` → fill of the ellipse whose first text line is `name`.
fn graph_fills(svg: &str) -> Vec<(String, String)> {
    svg.split("<g class=\"node")
        .skip(1)
        .filter_map(|node| {
            let ellipse = &node[node.find("<ellipse")?..];
            let fill = attribute(ellipse, "fill");
            let text = &node[node.find("<text")?..];
            let name = &text[text.find('>')? + 1..text.find("</text>")?];
            Some((name.to_owned(), fill))
        })
        .collect()
}

fn attribute(tag: &str, name: &str) -> String {
    let start = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
    tag[start..start + tag[start..].find('"').unwrap()].to_owned()
}

#[test]
fn a_function_has_one_colour_in_graph_timeline_and_report() {
    let mut graph = TaskGraph::new();
    let mut timeline = Timeline::new(vec!["worker 0".into()]);
    for (i, name) in FUNCTIONS.iter().enumerate() {
        graph.add_node(NodeInfo::task(
            format!("{name}-{i}"),
            *name,
            format!("pipeline::{name}"),
        ));
        let start = i as u64 * 1_000;
        timeline.add(TimelineBar::new(
            0,
            start,
            start + 900,
            *name,
            format!("{name}-{i}"),
        ));
    }
    let options = SvgOptions::default()
        .engine(Engine::Embedded)
        .color(ColorBy::Function);
    let graph_svg = graph.to_svg_with(&options).unwrap();
    let in_graph = graph_fills(&graph_svg);
    assert_eq!(in_graph.len(), FUNCTIONS.len(), "{graph_svg}");

    let timeline_svg = timeline.to_svg();
    let report = Report::new("run")
        .summary(
            FUNCTIONS
                .iter()
                .map(|name| SummaryRow::new(*name, 1, 900, 900, 900))
                .collect(),
        )
        .timeline_svg(timeline_svg.clone())
        .to_html();
    for (name, fill) in &in_graph {
        let bar = timeline_svg
            .split("<rect class=\"task\"")
            .find(|bar| bar.contains(&format!("<title>{name} ")))
            .unwrap();
        assert_eq!(&attribute(bar, "fill"), fill, "{name}: timeline bar");
        let legend = timeline_svg
            .split("<rect class=\"legend\"")
            .find(|entry| entry.contains(&format!(">{name}</text>")))
            .unwrap();
        assert_eq!(&attribute(legend, "fill"), fill, "{name}: timeline legend");
        assert!(
            report.contains(&format!(
                "<span class=\"swatch\" style=\"background:{fill}\"></span>{name}</td>"
            )),
            "{name}: report summary"
        );
    }
    // Not all one colour: the check above would pass trivially otherwise.
    let mut distinct: Vec<&String> = in_graph.iter().map(|(_, fill)| fill).collect();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() > 1);
}
