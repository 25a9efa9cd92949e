//! The comparison's charts, as SVG (plotters' SVG backend; its text is left to the
//! viewer's fonts, so no font library is needed here).

use std::error::Error;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One shape's per-task cost at one size and scheduler, in seconds.
pub struct OverheadPoint {
    pub shape: &'static str,
    pub n: usize,
    pub scheduler: &'static str,
    pub dask: f64,
    pub ours: f64,
}

/// Median seconds for `items` calls of `calculation`, each way of running them.
pub struct ScalingPoint {
    pub items: u64,
    pub python_serial: f64,
    pub joblib: f64,
    pub dask: f64,
    pub ours_serial: f64,
    pub ours_parallel: f64,
    pub ours_compute: f64,
}

const OURS: RGBColor = RGBColor(0xd9, 0x5f, 0x02);
const OURS_LIGHT: RGBColor = RGBColor(0xfd, 0xae, 0x6b);
const DASK: RGBColor = RGBColor(0x1f, 0x78, 0xb4);
const DASK_LIGHT: RGBColor = RGBColor(0xa6, 0xce, 0xe3);
const JOBLIB: RGBColor = RGBColor(0x33, 0xa0, 0x2c);

/// Per-task overhead by shape, log scale: one panel per graph size, a group of bars per
/// shape (ours on two threads, Dask threads, Dask sync).
pub fn overhead(path: &Path, points: &[OverheadPoint]) -> Result<(), Box<dyn Error>> {
    let mut sizes: Vec<usize> = points.iter().map(|p| p.n).collect();
    sizes.dedup();
    // A panel per size, but never narrower than the title: a smoke run has one size, and
    // 480 px clipped the title's ends.
    let width = (480 * sizes.len() as u32).max(MIN_OVERHEAD_WIDTH);
    let root = SVGBackend::new(path, (width, 470)).into_drawing_area();
    root.fill(&WHITE)?;
    let (title, rest) = root.split_vertically(40);
    let (keys, body) = rest.split_vertically(30);
    title.draw(&Text::new(
        "Scheduler overhead per task (2 workers, log scale; lower is better)",
        (width as i32 / 2, 22),
        TextStyle::from(("sans-serif", 20).into_font()).pos(Pos::new(HPos::Center, VPos::Center)),
    ))?;
    // One legend for all panels, in its own strip: inside a panel it could cover a bar.
    let bar_keys = [
        ("ours, 2 threads", OURS),
        ("ours, Sync", OURS_LIGHT),
        ("Dask threads", DASK),
        ("Dask sync", DASK_LIGHT),
    ]
    .map(|(name, color)| Key {
        name,
        color,
        mark: Mark::Bar,
    });
    draw_keys_in_a_row(&keys, &bar_keys)?;
    for (panel, &n) in body.split_evenly((1, sizes.len())).iter().zip(&sizes) {
        let at = |scheduler: &str| -> Vec<&OverheadPoint> {
            points
                .iter()
                .filter(|p| p.n == n && p.scheduler == scheduler)
                .collect()
        };
        let (threads, sync) = (at("threads"), at("sync"));
        let shapes: Vec<&str> = threads.iter().map(|p| p.shape).collect();
        let series: [(&str, RGBColor, Vec<f64>); 4] = [
            (
                "ours, 2 threads",
                OURS,
                threads.iter().map(|p| p.ours).collect(),
            ),
            (
                "ours, Sync",
                OURS_LIGHT,
                sync.iter().map(|p| p.ours).collect(),
            ),
            (
                "Dask threads",
                DASK,
                threads.iter().map(|p| p.dask).collect(),
            ),
            (
                "Dask sync",
                DASK_LIGHT,
                sync.iter().map(|p| p.dask).collect(),
            ),
        ];
        let floor = 1e-8; // 10 ns: the bars start here
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!("N = {}", super::report::thousands(n)),
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(
                -0.5f64..shapes.len() as f64 - 0.5,
                (floor..1e-2).log_scale(),
            )?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(BLACK.mix(0.04))
            .x_labels(shapes.len())
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    shapes.get(i as usize).copied().unwrap_or("").to_string()
                } else {
                    String::new()
                }
            })
            .y_desc("time per task")
            .y_label_formatter(&|s| match *s {
                s if s < 1e-6 => format!("{:.0} ns", s * 1e9),
                s if s < 1e-3 => format!("{:.0} µs", s * 1e6),
                s => format!("{:.0} ms", s * 1e3),
            })
            .draw()?;
        let width = 0.8 / series.len() as f64;
        for (k, (_, color, values)) in series.iter().enumerate() {
            let offset = -0.4 + width * k as f64;
            chart.draw_series(values.iter().enumerate().map(|(i, &v)| {
                let x = i as f64 + offset;
                Rectangle::new([(x, floor), (x + width * 0.9, v)], color.filled())
            }))?;
        }
    }
    root.present()?;
    Ok(())
}

/// Serial vs parallel time against the number of `calculation(size)` calls.
pub fn scaling(path: &Path, size: u64, points: &[ScalingPoint]) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, (800 + SCALING_LEGEND_WIDTH, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    // The legend has a column of its own to the right: over the plot it hid a point
    // whenever a run's first sizes were its slowest (as noisy smoke runs can be).
    let (plot, keys) = root.split_horizontally(800);
    let max_items = points.iter().map(|p| p.items).max().unwrap_or(1) as f64;
    let max_time = points
        .iter()
        .flat_map(|p| {
            [
                p.python_serial,
                p.joblib,
                p.dask,
                p.ours_serial,
                p.ours_parallel,
                p.ours_compute,
            ]
        })
        .fold(0.0, f64::max);
    let mut chart = ChartBuilder::on(&plot)
        .caption(
            format!(
                "calculation({}): serial vs parallel, 2 workers",
                super::report::thousands(size as usize)
            ),
            ("sans-serif", 20),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(0.5f64..max_items + 0.5, 0f64..max_time * 1.1)?;
    chart
        .configure_mesh()
        .x_labels(points.len())
        .x_label_formatter(&|x| format!("{x:.0}"))
        .light_line_style(BLACK.mix(0.04))
        .x_desc("number of calculation calls")
        .y_desc("seconds (median)")
        .draw()?;
    type Pick = fn(&ScalingPoint) -> f64;
    let lines: [(&str, RGBColor, bool, Pick); 6] = [
        ("NumPy, serial loop", DASK_LIGHT, false, |p| p.python_serial),
        ("joblib n_jobs=2", JOBLIB, false, |p| p.joblib),
        ("dask.delayed, threads", DASK, false, |p| p.dask),
        ("ours, serial loop", OURS_LIGHT, true, |p| p.ours_serial),
        (
            "ours, Parallel::new(2).map",
            RGBColor(0x75, 0x70, 0xb3),
            true,
            |p| p.ours_parallel,
        ),
        ("ours, dask::compute", OURS, true, |p| p.ours_compute),
    ];
    let mut line_keys = Vec::with_capacity(lines.len());
    for (name, color, ours, pick) in lines {
        let data: Vec<(f64, f64)> = points.iter().map(|p| (p.items as f64, pick(p))).collect();
        let style = ShapeStyle::from(&color).stroke_width(if ours { 3 } else { 2 });
        chart.draw_series(LineSeries::new(data.clone(), style))?;
        line_keys.push(Key {
            name,
            color,
            mark: Mark::Line { ours },
        });
        chart.draw_series(data.iter().map(|&(x, y)| {
            if ours {
                Circle::new((x, y), 4, color.filled()).into_dyn()
            } else {
                TriangleMarker::new((x, y), 5, color.filled()).into_dyn()
            }
        }))?;
    }
    draw_keys_in_a_column(&keys, &line_keys)?;
    root.present()?;
    Ok(())
}

/// Width of the overhead chart with a single panel: its title's length at 20 px.
const MIN_OVERHEAD_WIDTH: u32 = 760;
/// The scaling chart's legend column, right of its plot.
const SCALING_LEGEND_WIDTH: u32 = 210;

/// One legend entry, drawn beside the data rather than over it.
struct Key {
    name: &'static str,
    color: RGBColor,
    mark: Mark,
}

enum Mark {
    /// A filled square, for bars.
    Bar,
    /// A line with the series' marker: a circle for ours, a triangle for Python's.
    Line { ours: bool },
}

fn key_text() -> TextStyle<'static> {
    TextStyle::from(("sans-serif", 13).into_font()).pos(Pos::new(HPos::Left, VPos::Center))
}

/// The mark of `key` with its left end at `(x, y)`, and its name after it.
fn draw_key<DB>(
    area: &DrawingArea<DB, Shift>,
    key: &Key,
    (x, y): (i32, i32),
) -> Result<(), Box<dyn Error>>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    match key.mark {
        Mark::Bar => area.draw(&Rectangle::new(
            [(x, y - 6), (x + 12, y + 6)],
            key.color.filled(),
        ))?,
        Mark::Line { ours } => {
            let style = ShapeStyle::from(&key.color).stroke_width(if ours { 3 } else { 2 });
            area.draw(&PathElement::new([(x, y), (x + 24, y)], style))?;
            if ours {
                area.draw(&Circle::new((x + 12, y), 4, key.color.filled()))?;
            } else {
                area.draw(&TriangleMarker::new((x + 12, y), 5, key.color.filled()))?;
            }
        }
    }
    area.draw(&Text::new(key.name, (x + 32, y), key_text()))?;
    Ok(())
}

/// The keys side by side, spread evenly over the strip `area`.
fn draw_keys_in_a_row<DB>(area: &DrawingArea<DB, Shift>, keys: &[Key]) -> Result<(), Box<dyn Error>>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let (width, height) = area.dim_in_pixel();
    let slot = width as i32 / keys.len().max(1) as i32;
    for (i, key) in keys.iter().enumerate() {
        // Each entry is about 140 px wide; centre it in its slot.
        draw_key(
            area,
            key,
            (i as i32 * slot + (slot - 140).max(0) / 2, height as i32 / 2),
        )?;
    }
    Ok(())
}

/// The keys one under the other, from the top of the column `area`.
fn draw_keys_in_a_column<DB>(
    area: &DrawingArea<DB, Shift>,
    keys: &[Key],
) -> Result<(), Box<dyn Error>>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    for (i, key) in keys.iter().enumerate() {
        draw_key(area, key, (8, 70 + 24 * i as i32))?;
    }
    Ok(())
}

/// The chunk-size sweep: median seconds against chunk size (log scale), one point per
/// chunking (`auto` at the size it chose), for Dask and for us.
pub struct Sweep {
    pub n: usize,
    /// (chunk size, seconds)
    pub dask: Vec<(f64, f64)>,
    pub ours: Vec<(f64, f64)>,
    pub numpy: f64,
    pub plain: f64,
}

pub fn chunk_sweep(path: &Path, sweep: &Sweep) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, (720, 440)).into_drawing_area();
    root.fill(&WHITE)?;
    let all = sweep.dask.iter().chain(&sweep.ours);
    let (lo, hi) = all
        .clone()
        .fold((f64::MAX, 0f64), |(lo, hi), &(c, _)| (lo.min(c), hi.max(c)));
    let top = all
        .map(|&(_, t)| t)
        .chain([sweep.numpy, sweep.plain])
        .fold(0.0, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "mean(sqrt(x**2)) over {} random values, 2 workers",
                super::report::thousands(sweep.n)
            ),
            ("sans-serif", 20),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d((lo / 2.0..hi * 2.0).log_scale(), 0f64..top * 1.1e3)?;
    chart
        .configure_mesh()
        .light_line_style(BLACK.mix(0.04))
        .x_desc("chunk size (elements, log scale)")
        .y_desc("milliseconds (median; lower is better)")
        .draw()?;
    for (name, color, points, ours) in [
        ("dask.array", DASK, &sweep.dask, false),
        ("dask::array (ours)", OURS, &sweep.ours, true),
    ] {
        let mut data: Vec<(f64, f64)> = points.iter().map(|&(c, t)| (c, t * 1e3)).collect();
        data.sort_by(|a, b| a.0.total_cmp(&b.0));
        let style = ShapeStyle::from(&color).stroke_width(if ours { 3 } else { 2 });
        chart
            .draw_series(LineSeries::new(data.clone(), style))?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], style));
        chart.draw_series(
            data.iter()
                .map(|&(x, y)| Circle::new((x, y), 4, color.filled())),
        )?;
    }
    for (name, color, t) in [
        ("NumPy, serial", DASK_LIGHT, sweep.numpy),
        ("plain Rust loop, serial", OURS_LIGHT, sweep.plain),
    ] {
        let style = ShapeStyle::from(&color).stroke_width(2);
        chart
            .draw_series(LineSeries::new(
                [(lo / 2.0, t * 1e3), (hi * 2.0, t * 1e3)],
                style,
            ))?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], style));
    }
    // Upper right: Dask's slow small chunks are at the left, every line falls to the right.
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    root.present()?;
    Ok(())
}
