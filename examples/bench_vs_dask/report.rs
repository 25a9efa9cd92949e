//! The comparison table: one row per workload, Python's figure beside ours, the ratio and
//! the goal it is held against.

use serde_json::{json, Value};

/// What a figure measures, which decides how it is printed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unit {
    /// Seconds per task.
    PerTask,
    /// Seconds for the whole workload.
    Seconds,
    /// Mebibytes.
    MiB,
}

/// The median, minimum and maximum of several runs.
#[derive(Clone, Copy, Debug)]
pub struct Figure {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub unit: Unit,
}

impl Figure {
    fn new(values: &[f64], unit: Unit) -> Figure {
        assert!(!values.is_empty(), "a figure needs at least one run");
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Figure {
            median: sorted[sorted.len() / 2],
            min: sorted[0],
            max: sorted[sorted.len() - 1],
            unit,
        }
    }

    /// Whole-workload times in seconds.
    pub fn of(seconds: &[f64]) -> Figure {
        Figure::new(seconds, Unit::Seconds)
    }

    /// Per-task cost from whole-graph times.
    pub fn per_task(seconds: &[f64], tasks: usize) -> Figure {
        let per: Vec<f64> = seconds.iter().map(|s| s / tasks as f64).collect();
        Figure::new(&per, Unit::PerTask)
    }

    /// Peak memory deltas in MiB.
    pub fn mib(values: &[f64]) -> Figure {
        Figure::new(values, Unit::MiB)
    }

    /// `median (min–max)`, in a unit chosen by the median's size.
    fn show(&self) -> String {
        match self.unit {
            Unit::MiB => {
                let digits = if self.median >= 10.0 { 0 } else { 2 };
                format!(
                    "{:.digits$} MiB ({:.digits$}–{:.digits$})",
                    self.median, self.min, self.max
                )
            }
            Unit::PerTask | Unit::Seconds => {
                let (scale, name) = match self.median {
                    m if m < 1e-6 => (1e9, "ns"),
                    m if m < 1e-3 => (1e6, "µs"),
                    m if m < 1.0 => (1e3, "ms"),
                    _ => (1.0, "s"),
                };
                let per = if self.unit == Unit::PerTask {
                    "/task"
                } else {
                    ""
                };
                let digits = |x: f64| match x * scale {
                    v if v >= 100.0 => format!("{v:.0}"),
                    v if v >= 10.0 => format!("{v:.1}"),
                    v => format!("{v:.2}"),
                };
                format!(
                    "{} {name}{per} ({}–{})",
                    digits(self.median),
                    digits(self.min),
                    digits(self.max)
                )
            }
        }
    }

    fn to_json(self) -> Value {
        json!({"median": self.median, "min": self.min, "max": self.max, "unit": format!("{:?}", self.unit)})
    }
}

/// The ratio a row is held against, if any.
#[derive(Clone, Copy, Debug)]
pub enum Goal {
    /// Python's figure is at least this many times ours.
    AtLeast(f64),
    None,
}

pub struct Row {
    pub workload: String,
    pub python: String,
    pub python_figure: Figure,
    pub ours: String,
    pub ours_figure: Figure,
    pub goal: Goal,
}

impl Row {
    pub fn overhead(shape: &str, n: usize, scheduler: &str, dask: Figure, ours: Figure) -> Row {
        let (python, mine, goal) = match scheduler {
            "threads" => ("Dask threads", "ours, 2 threads", Goal::AtLeast(500.0)),
            _ => ("Dask sync", "ours, Sync", Goal::None),
        };
        Row {
            workload: format!("overhead: {shape}, N = {}", thousands(n)),
            python: python.into(),
            python_figure: dask,
            ours: mine.into(),
            ours_figure: ours,
            goal,
        }
    }

    /// A lecture workload, held to "at least as fast as Python".
    pub fn seconds(workload: &str, python: &str, theirs: Figure, ours: &str, mine: Figure) -> Row {
        Row {
            workload: workload.into(),
            python: python.into(),
            python_figure: theirs,
            ours: ours.into(),
            ours_figure: mine,
            goal: Goal::AtLeast(1.0),
        }
    }

    /// Peak memory, with how many arrays of `array_mib` that is.
    pub fn memory(
        workload: &str,
        scheduler: &str,
        dask: Figure,
        ours: Figure,
        array_mib: f64,
    ) -> Row {
        let (python, mine) = match scheduler {
            "threads" => ("Dask threads", "ours, 2 threads"),
            _ => ("Dask sync", "ours, Sync"),
        };
        let arrays = |f: &Figure| format!("{:.1} arrays", f.median / array_mib);
        Row {
            workload: workload.into(),
            python: format!("{python} ({})", arrays(&dask)),
            python_figure: dask,
            ours: format!("{mine} ({})", arrays(&ours)),
            ours_figure: ours,
            goal: Goal::None,
        }
    }

    fn ratio(&self) -> f64 {
        self.python_figure.median / self.ours_figure.median
    }

    fn verdict(&self) -> String {
        match self.goal {
            Goal::AtLeast(x) if self.ratio() >= x => format!("≥ {x}x: met"),
            Goal::AtLeast(x) => format!("≥ {x}x: **missed**"),
            Goal::None => "—".into(),
        }
    }
}

#[derive(Default)]
pub struct Table {
    pub rows: Vec<Row>,
}

impl Table {
    /// A lecture workload's row from both sides' run times in seconds.
    pub fn push_seconds(
        &mut self,
        workload: &str,
        python: &str,
        theirs: &[f64],
        ours: &str,
        mine: &[f64],
    ) {
        let row = Row::seconds(workload, python, Figure::of(theirs), ours, Figure::of(mine));
        self.rows.push(row);
    }

    /// The table in Markdown. `judged`: whether each row's ratio is held against its
    /// goal. A smoke run's sizes are too small and its single runs too noisy for that, so
    /// its table has no goal column and says so instead of printing "met" or "missed".
    pub fn markdown(&self, judged: bool) -> String {
        let mut out = if judged {
            String::from(
                "| workload | Python | median (min–max) | ours | median (min–max) | Python / ours | goal |\n\
                 |---|---|---|---|---|---|---|\n",
            )
        } else {
            String::from(
                "| workload | Python | median (min–max) | ours | median (min–max) | Python / ours |\n\
                 |---|---|---|---|---|---|\n",
            )
        };
        for row in &self.rows {
            let ratio = match row.ratio() {
                r if r >= 100.0 => format!("{r:.0}x"),
                r => format!("{r:.2}x"),
            };
            out += &format!(
                "| {} | {} | {} | {} | {} | {} |",
                row.workload,
                row.python,
                row.python_figure.show(),
                row.ours,
                row.ours_figure.show(),
                ratio,
            );
            if judged {
                out += &format!(" {} |", row.verdict());
            }
            out.push('\n');
        }
        if !judged {
            out += "\nsmoke: results agree; timings not meaningful at these sizes (no goal is judged).\n";
        }
        out
    }

    pub fn to_json(&self) -> Value {
        Value::Array(
            self.rows
                .iter()
                .map(|r| {
                    json!({
                        "workload": r.workload,
                        "python": r.python,
                        "python_figure": r.python_figure.to_json(),
                        "ours": r.ours,
                        "ours_figure": r.ours_figure.to_json(),
                        "ratio": r.ratio(),
                    })
                })
                .collect(),
        )
    }
}

/// `100000` as `100,000`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
