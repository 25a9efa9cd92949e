//! A Gantt chart of a run: one row per worker, one bar per task attempt, coloured by
//! function (the same colours as the graph drawings), with an escaped tooltip each.

use std::borrow::Cow;
use std::fmt::Write;

use crate::axis::ticks;
use crate::color::for_function;
use crate::svg::escape::xml;

/// One task attempt on a [`Timeline`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimelineBar {
    /// Index into the row names given to [`Timeline::new`]; a row beyond them is
    /// drawn, labelled `row N`, when a bar is on it.
    pub row: usize,
    pub start_ns: u64,
    pub end_ns: u64,
    /// The function's display name: decides the colour and shows in the legend.
    pub name: String,
    /// Shown in the tooltip.
    pub key: String,
    /// False for an attempt that failed (drawn with a red outline).
    pub ok: bool,
}

impl TimelineBar {
    pub fn new(
        row: usize,
        start_ns: u64,
        end_ns: u64,
        name: impl Into<String>,
        key: impl Into<String>,
    ) -> Self {
        TimelineBar {
            row,
            start_ns,
            end_ns: end_ns.max(start_ns),
            name: name.into(),
            key: key.into(),
            ok: true,
        }
    }

    pub fn failed(mut self) -> Self {
        self.ok = false;
        self
    }
}

/// Workers on the y axis, time on the x axis.
///
/// ```
/// use dask_viz::{Timeline, TimelineBar};
/// let mut timeline = Timeline::new(vec!["worker 0".into(), "worker 1".into()]);
/// timeline.add(TimelineBar::new(0, 0, 1_000, "load", "load-1"));
/// timeline.add(TimelineBar::new(1, 200, 900, "<b>", "k"));
/// let svg = timeline.to_svg();
/// assert_eq!(svg.matches("<rect class=\"task\"").count(), 2);
/// assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    /// Names of the first rows, each drawn whether or not a bar is on it.
    rows: Vec<String>,
    bars: Vec<TimelineBar>,
}

const WIDTH: f64 = 960.0;
const LABEL_WIDTH: f64 = 110.0;
const ROW_HEIGHT: f64 = 22.0;
const ROW_GAP: f64 = 4.0;
const TOP: f64 = 10.0;
const AXIS_HEIGHT: f64 = 28.0;
const LEGEND_LINE: f64 = 18.0;

impl Timeline {
    pub fn new(rows: Vec<String>) -> Self {
        Timeline {
            rows,
            bars: Vec::new(),
        }
    }

    /// Adds a bar. A row beyond the named ones is drawn as `row N` below them, only
    /// if a bar is on it: the drawing grows with the bars, not with the row numbers
    /// (rows 0, 5 and `usize::MAX` of an unnamed timeline are three lanes).
    pub fn add(&mut self, bar: TimelineBar) {
        self.bars.push(bar);
    }

    /// The lanes drawn, top to bottom (every named row, then the other rows that hold
    /// a bar, in row order), and the rows beyond the named ones, sorted.
    fn lanes(&self) -> (Vec<Cow<'_, str>>, Vec<usize>) {
        let named = self.rows.len();
        let mut extra: Vec<usize> = self
            .bars
            .iter()
            .map(|b| b.row)
            .filter(|&row| row >= named)
            .collect();
        extra.sort_unstable();
        extra.dedup();
        let labels = self
            .rows
            .iter()
            .map(|name| Cow::Borrowed(name.as_str()))
            .chain(extra.iter().map(|row| Cow::Owned(format!("row {row}"))))
            .collect();
        (labels, extra)
    }

    pub fn bars(&self) -> &[TimelineBar] {
        &self.bars
    }

    /// The chart as a standalone SVG document (also valid inline in HTML). Every bar is
    /// a `<rect class="task">` with a `<title>` tooltip: function, key, start and
    /// duration.
    pub fn to_svg(&self) -> String {
        // The fields are public: a bar may end before it starts. It is drawn as
        // ending where it starts, and no subtraction below can go below zero.
        let end_of = |b: &TimelineBar| b.end_ns.max(b.start_ns);
        let t0 = self.bars.iter().map(|b| b.start_ns).min().unwrap_or(0);
        let t1 = self.bars.iter().map(end_of).max().unwrap_or(0);
        let span = (t1 - t0).max(1) as f64;
        let plot = WIDTH - LABEL_WIDTH - 10.0;
        let x = |ns: u64| LABEL_WIDTH + ns.saturating_sub(t0) as f64 / span * plot;
        let (lanes, extra) = self.lanes();
        let named = self.rows.len();
        let lane_of = |row: usize| {
            if row < named {
                row
            } else {
                named + extra.binary_search(&row).unwrap_or_else(|at| at)
            }
        };
        let rows_bottom = TOP + lanes.len() as f64 * (ROW_HEIGHT + ROW_GAP);
        let mut names: Vec<&str> = self.bars.iter().map(|b| b.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let legend_top = rows_bottom + AXIS_HEIGHT;
        let height = legend_top + names.len() as f64 * LEGEND_LINE + 8.0;

        let mut out = String::with_capacity(256 + self.bars.len() * 200);
        let _ = writeln!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"timeline\" width=\"{WIDTH}\" \
             height=\"{height:.0}\" viewBox=\"0 0 {WIDTH} {height:.0}\" \
             font-family=\"sans-serif\" font-size=\"12\">"
        );
        out.push_str("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        for (i, row) in lanes.iter().enumerate() {
            let y = TOP + i as f64 * (ROW_HEIGHT + ROW_GAP);
            let _ = writeln!(
                out,
                "<rect class=\"lane\" x=\"{LABEL_WIDTH}\" y=\"{y:.1}\" width=\"{plot:.1}\" \
                 height=\"{ROW_HEIGHT}\" fill=\"#f4f4f4\"/><text class=\"row\" x=\"{:.1}\" \
                 y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                LABEL_WIDTH - 6.0,
                y + ROW_HEIGHT * 0.7,
                xml(row)
            );
        }
        for bar in &self.bars {
            let y = TOP + lane_of(bar.row) as f64 * (ROW_HEIGHT + ROW_GAP);
            let left = x(bar.start_ns);
            let end = end_of(bar);
            // At least a pixel wide: a sub-microsecond task must still be visible.
            let width = (x(end) - left).max(1.0);
            let fill = for_function(&bar.name);
            let stroke = if bar.ok {
                String::new()
            } else {
                " stroke=\"#d00000\" stroke-width=\"1.5\"".to_owned()
            };
            let _ = writeln!(
                out,
                "<rect class=\"task\" x=\"{left:.2}\" y=\"{:.1}\" width=\"{width:.2}\" \
                 height=\"{:.1}\" fill=\"{fill}\"{stroke}><title>{} {}\nstart {} · {}{}</title></rect>",
                y + 1.0,
                ROW_HEIGHT - 2.0,
                xml(&bar.name),
                xml(&bar.key),
                format_ns(bar.start_ns - t0),
                format_ns(end - bar.start_ns),
                if bar.ok { "" } else { " (failed)" },
            );
        }
        // Axis: round ticks (1-2-5 steps) in one unit.
        let _ = writeln!(
            out,
            "<line x1=\"{LABEL_WIDTH}\" y1=\"{rows_bottom:.1}\" x2=\"{:.1}\" y2=\"{rows_bottom:.1}\" stroke=\"#555\"/>",
            LABEL_WIDTH + plot
        );
        for (i, tick) in ticks(t1 - t0).iter().enumerate() {
            let tx = LABEL_WIDTH + tick.offset_ns as f64 / span * plot;
            // Labels near the ends are anchored inside the plot.
            let anchor = if i == 0 {
                "start"
            } else if tx > LABEL_WIDTH + plot - 30.0 {
                "end"
            } else {
                "middle"
            };
            let _ = writeln!(
                out,
                "<line x1=\"{tx:.1}\" y1=\"{rows_bottom:.1}\" x2=\"{tx:.1}\" y2=\"{:.1}\" stroke=\"#555\"/>\
                 <text class=\"tick\" x=\"{tx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{}</text>",
                rows_bottom + 4.0,
                rows_bottom + 17.0,
                tick.label
            );
        }
        for (i, name) in names.iter().enumerate() {
            let y = legend_top + i as f64 * LEGEND_LINE;
            let fill = for_function(name);
            let _ = writeln!(
                out,
                "<rect class=\"legend\" x=\"{LABEL_WIDTH}\" y=\"{y:.1}\" width=\"12\" height=\"12\" \
                 fill=\"{fill}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                LABEL_WIDTH + 18.0,
                y + 10.0,
                xml(name)
            );
        }
        out.push_str("</svg>\n");
        out
    }
}

/// A duration in nanoseconds as people read it: `1.5 ms`, `320 µs`, `2.00 s`. Shared by
/// the drawings here and the text summaries of `dask`'s profiler, so both print alike.
#[doc(hidden)]
pub fn format_ns(ns: u64) -> String {
    let ns = ns as f64;
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.1} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_ticks_are_round_and_in_one_unit() {
        let mut timeline = Timeline::new(vec!["w0".into()]);
        timeline.add(TimelineBar::new(0, 5_000, 5_000 + 397_900_000, "f", "k"));
        let svg = timeline.to_svg();
        let labels: Vec<&str> = svg
            .split("<text class=\"tick\"")
            .skip(1)
            .map(|t| &t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()])
            .collect();
        assert_eq!(labels, ["0 ms", "100 ms", "200 ms", "300 ms"]);
        // 100 ms of the 397.9 ms span is a quarter of the plot, less a little.
        let plot = WIDTH - LABEL_WIDTH - 10.0;
        let second = format!("x=\"{:.1}\"", LABEL_WIDTH + 100.0 / 397.9 * plot);
        assert!(
            svg.contains(&format!("<text class=\"tick\" {second}")),
            "{second}"
        );
    }

    #[test]
    fn bars_are_placed_by_time_and_never_vanish() {
        let mut timeline = Timeline::new(vec!["w0".into()]);
        timeline.add(TimelineBar::new(0, 1_000, 1_000_000, "long", "l"));
        timeline.add(TimelineBar::new(2, 500_000, 500_001, "short", "s").failed());
        let svg = timeline.to_svg();
        assert_eq!(
            svg.matches("<rect class=\"lane\"").count(),
            2,
            "the named row and row 2; row 1 holds no bar"
        );
        assert!(svg.contains(">row 2</text>") && !svg.contains(">row 1</text>"));
        assert!(
            svg.contains("stroke=\"#d00000\""),
            "the failed bar is outlined"
        );
        assert!(svg.contains("(failed)</title>"));
        // The 1 ns bar is still a pixel wide.
        assert!(svg.contains("width=\"1.00\""));
    }

    /// `(label, y)` of every lane, and the `y` of every bar, in drawing order.
    fn lanes_and_bars(svg: &str) -> (Vec<(String, String)>, Vec<String>) {
        let attr = |tag: &str, name: &str| {
            let at = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            tag[at..at + tag[at..].find('"').unwrap()].to_owned()
        };
        let lanes = svg
            .lines()
            .filter(|l| l.starts_with("<rect class=\"lane\""))
            .map(|l| {
                let label = &l[l.find("end\">").unwrap() + 5..l.find("</text>").unwrap()];
                (label.to_owned(), attr(l, "y"))
            })
            .collect();
        let bars = svg
            .lines()
            .filter(|l| l.starts_with("<rect class=\"task\""))
            .map(|l| attr(l, "y"))
            .collect();
        (lanes, bars)
    }

    #[test]
    fn far_rows_cost_one_lane_each() {
        // A far row used to add a `row N` lane for every row before it: row 100,000
        // drew 100,001 lanes, usize::MAX aborted for want of memory.
        let mut near = Timeline::new(vec!["w0".into()]);
        near.add(TimelineBar::new(100_000, 0, 10, "f", "k"));
        let svg = near.to_svg();
        assert!(svg.len() < 4_000, "{} bytes", svg.len());
        assert_eq!(
            lanes_and_bars(&svg),
            (
                vec![
                    ("w0".to_owned(), "10.0".to_owned()),
                    ("row 100000".to_owned(), "36.0".to_owned())
                ],
                vec!["37.0".to_owned()]
            )
        );
        let mut timeline = Timeline::new(Vec::new());
        timeline.add(TimelineBar::new(usize::MAX, 0, 10, "f", "k"));
        timeline.add(TimelineBar::new(5, 0, 10, "f", "k"));
        timeline.add(TimelineBar::new(0, 0, 10, "f", "k"));
        timeline.add(TimelineBar::new(5, 10, 20, "f", "k"));
        let svg = timeline.to_svg();
        assert!(svg.len() < 4_000, "{} bytes", svg.len());
        let (lanes, bars) = lanes_and_bars(&svg);
        let max = format!("row {}", usize::MAX);
        assert_eq!(
            lanes,
            [
                ("row 0".to_owned(), "10.0".to_owned()),
                ("row 5".to_owned(), "36.0".to_owned()),
                (max, "62.0".to_owned()),
            ]
        );
        // Each bar in its row's lane (one pixel below the lane's top).
        assert_eq!(bars, ["63.0", "37.0", "11.0", "37.0"]);
        assert!(svg.contains("height=\"142\""), "{svg}");

        // Named rows, then every row after them used: one lane each, in row order,
        // 26 px apart, exactly as when `add` filled in the rows.
        let mut timeline = Timeline::new(vec!["worker 0".into(), "worker 1".into()]);
        for row in [3, 1, 0, 2] {
            timeline.add(TimelineBar::new(row, 0, 10, "f", "k"));
        }
        let (lanes, bars) = lanes_and_bars(&timeline.to_svg());
        let expected: Vec<(String, String)> = ["worker 0", "worker 1", "row 2", "row 3"]
            .iter()
            .zip(["10.0", "36.0", "62.0", "88.0"])
            .map(|(l, y)| (l.to_string(), y.to_owned()))
            .collect();
        assert_eq!(lanes, expected);
        assert_eq!(bars, ["89.0", "37.0", "11.0", "63.0"]);
        // A named row without bars is still drawn.
        let idle = Timeline::new(vec!["worker 0".into(), "worker 1".into()]);
        assert_eq!(lanes_and_bars(&idle.to_svg()).0.len(), 2);
    }

    #[test]
    fn a_bar_ending_before_it_starts_does_not_overflow() {
        // The fields are public, so `end_ns < start_ns` can reach `to_svg`: the spans
        // were unchecked subtractions (a panic in debug builds, a huge width in release).
        let mut bar = TimelineBar::new(0, 1_000, 2_000, "f", "k");
        bar.end_ns = 0;
        let mut timeline = Timeline::new(vec!["w0".into()]);
        timeline.add(bar);
        let svg = timeline.to_svg();
        assert!(svg.contains("width=\"1.00\""), "{svg}");
        assert!(svg.contains("start 0 ns · 0 ns</title>"), "{svg}");
        let mut late = TimelineBar::new(0, 5_000, 6_000, "g", "l");
        late.end_ns = 1;
        timeline.add(late);
        let svg = timeline.to_svg();
        assert!(svg.contains("start 4.0 µs · 0 ns</title>"), "{svg}");
    }
}
