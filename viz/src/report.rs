//! A run's report as one self-contained HTML page: figures, the summary table, the
//! timeline and the graph. No script, no stylesheet or font from the network: it opens
//! from a file on a machine without a connection. Every text from the run (function
//! names, keys) is escaped.

use std::fmt::Write;

use crate::color::for_function;
use crate::svg::escape::xml;
use crate::timeline::format_ns;

/// One line of a report's per-function summary.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SummaryRow {
    pub name: String,
    pub count: u64,
    pub total_ns: u64,
    pub mean_ns: u64,
    pub max_ns: u64,
}

impl SummaryRow {
    pub fn new(
        name: impl Into<String>,
        count: u64,
        total_ns: u64,
        mean_ns: u64,
        max_ns: u64,
    ) -> Self {
        SummaryRow {
            name: name.into(),
            count,
            total_ns,
            mean_ns,
            max_ns,
        }
    }
}

/// What goes into [`Report::to_html`]. The SVGs are inserted as they are (they come
/// from [`Timeline::to_svg`](crate::Timeline::to_svg) and
/// [`TaskGraph::to_svg_with`](crate::TaskGraph::to_svg_with), which escape their text);
/// everything else is escaped here.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Report {
    pub title: String,
    /// Label and value, in order (`tasks`, `wall time`, ...).
    pub figures: Vec<(String, String)>,
    pub summary: Vec<SummaryRow>,
    pub timeline_svg: String,
    pub graph_svg: Option<String>,
}

impl Report {
    pub fn new(title: impl Into<String>) -> Self {
        Report {
            title: title.into(),
            ..Report::default()
        }
    }

    pub fn figure(mut self, label: impl Into<String>, value: impl Into<String>) -> Self {
        self.figures.push((label.into(), value.into()));
        self
    }

    pub fn summary(mut self, rows: Vec<SummaryRow>) -> Self {
        self.summary = rows;
        self
    }

    pub fn timeline_svg(mut self, svg: String) -> Self {
        self.timeline_svg = svg;
        self
    }

    pub fn graph_svg(mut self, svg: String) -> Self {
        self.graph_svg = Some(svg);
        self
    }

    /// The page.
    ///
    /// ```
    /// use dask_viz::{Report, SummaryRow};
    /// let html = Report::new("run")
    ///     .figure("tasks", "1")
    ///     .summary(vec![SummaryRow::new("<script>alert(1)</script>", 1, 10, 10, 10)])
    ///     .to_html();
    /// assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    /// assert!(!html.contains("<script>"));
    /// ```
    pub fn to_html(&self) -> String {
        let mut out = String::with_capacity(
            4096 + self.timeline_svg.len() + self.graph_svg.as_ref().map_or(0, String::len),
        );
        let title = xml(&self.title);
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width\">\
             <title>{title}</title>\n<style>{STYLE}</style></head>\n<body>\n<h1>{title}</h1>\n"
        );
        out.push_str("<section id=\"figures\"><table class=\"figures\">\n");
        for (label, value) in &self.figures {
            let _ = writeln!(
                out,
                "<tr><th>{}</th><td>{}</td></tr>",
                xml(label),
                xml(value)
            );
        }
        out.push_str("</table></section>\n");
        out.push_str(
            "<section id=\"summary\"><h2>Time per function</h2>\n<table class=\"summary\">\
             <thead><tr><th>function</th><th>count</th><th>total</th><th>mean</th><th>max</th>\
             </tr></thead><tbody>\n",
        );
        for row in &self.summary {
            let _ = writeln!(
                out,
                "<tr><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td>\
                 <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                for_function(&row.name),
                xml(&row.name),
                row.count,
                format_ns(row.total_ns),
                format_ns(row.mean_ns),
                format_ns(row.max_ns)
            );
        }
        out.push_str("</tbody></table></section>\n");
        out.push_str("<section id=\"timeline\"><h2>Timeline</h2>\n");
        out.push_str(inline_svg(&self.timeline_svg));
        out.push_str("</section>\n");
        if let Some(graph) = &self.graph_svg {
            out.push_str(
                "<section id=\"graph\"><h2>Graph (darker: more time spent)</h2>\n<div class=\"graph\">",
            );
            out.push_str(inline_svg(graph));
            out.push_str("</div></section>\n");
        }
        out.push_str("</body></html>\n");
        out
    }
}

/// An SVG document without its XML prolog and doctype, which HTML does not take.
fn inline_svg(svg: &str) -> &str {
    svg.find("<svg").map_or("", |start| &svg[start..])
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#222}\
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}\
table{border-collapse:collapse}th,td{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:left}\
table.summary td:not(:first-child){text-align:right;font-variant-numeric:tabular-nums}\
div.graph{overflow:auto;max-width:100%}div.graph svg{max-width:100%;height:auto}\
span.swatch{display:inline-block;width:.8em;height:.8em;margin-right:.4em;border:1px solid #999}";
