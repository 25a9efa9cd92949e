//! The dataframe rows of the comparison with Dask + pandas (issue #16), run through
//! `scripts/bench-vs-dask.sh [--smoke]` in three steps:
//!
//! ```text
//! bench_dataframe run --data DIR --out OURS.json [--smoke]      # our timings, our files
//! python bench_dataframe.py --data DIR --out PYTHON.json ...     # Dask's, and pandas on our files
//! bench_dataframe report --rust OURS.json --python PYTHON.json [--plots DIR] [--smoke]
//! bench_dataframe in-memory rolling,groupby [--runs N]        # chosen rows alone, for speed work
//! bench_dataframe chained [--runs N]                          # building long chains of row-wise steps
//! ```
//!
//! `run` times the lecture's queries on the demo table (make it, filter + sum, groupby,
//! std, hourly resample, rolling, to_csv, read_csv + groupby, to_parquet, read_parquet +
//! groupby; 2 workers, as Dask's side: `persist`, `to_csv` and `to_parquet` run on the
//! default pool, one thread per core, which is 2 on the machine of BENCHMARKS.md), writes the CSV and Parquet files pandas then
//! reads, records the queries' results, and measures peak memory of a groupby over the
//! CSV files in a fresh process (`memory-child`). `report` checks that our results and
//! pandas' on the same files agree, then prints the table (medians) and draws
//! `dataframe.svg`.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use dask::dataframe::arrow::array::{Array, Float64Array, StringArray};
use dask::dataframe::arrow::record_batch::RecordBatch;
use dask::dataframe::{agg, col, lit, read_csv, read_parquet, DataFrame};
use dask::datasets::{timeseries, TimeseriesOptions};
use dask::{Config, Scheduler};
use serde_json::{json, Value};

type BoxResult<T> = Result<T, Box<dyn Error>>;

/// Both sides run on two workers: the machine has two cores.
const WORKERS: usize = 2;

fn config() -> Config {
    Config::default().scheduler(Scheduler::Threads(WORKERS))
}

/// The rows of the table: id, what it measures, and the speedup the issue asks for.
const ROWS: [(&str, &str, f64); 10] = [
    ("make", "make the table (timeseries + persist)", 5.0),
    ("filter_sum", "filter + sum on the persisted table", 5.0),
    ("groupby", "groupby(name).agg(sum x, max y)", 5.0),
    ("std", "df[df.y > 0][[name, x]].x.std()", 5.0),
    ("resample", "resample(1h).mean()", 5.0),
    ("rolling", "rolling(1min).mean()", 5.0),
    ("to_csv", "to_csv, 30 files", 3.0),
    ("read_csv_groupby", "read_csv + groupby", 3.0),
    ("to_parquet", "to_parquet", 1.5),
    ("read_parquet_groupby", "read_parquet + groupby", 1.5),
];

fn options(freq: &str) -> TimeseriesOptions {
    TimeseriesOptions {
        freq: freq.into(),
        ..Default::default()
    }
}

fn timed<R>(runs: usize, mut f: impl FnMut() -> BoxResult<R>) -> BoxResult<(R, Vec<f64>)> {
    let mut seconds = Vec::with_capacity(runs);
    let mut result = None;
    for _ in 0..runs {
        let start = Instant::now();
        result = Some(f()?);
        seconds.push(start.elapsed().as_secs_f64());
    }
    Ok((result.ok_or("no run")?, seconds))
}

fn by_name(df: &DataFrame) -> DataFrame {
    df.groupby(["name"]).agg([agg::sum("x"), agg::max("y")])
}

/// A groupby table as `{name: [sum x, max y]}`.
fn table_json(batch: &RecordBatch) -> BoxResult<Value> {
    let names = batch
        .column(0)
        .as_any()
        .downcast_ref::<StringArray>()
        .ok_or("names")?;
    let floats = |i: usize| -> BoxResult<&Float64Array> {
        Ok(batch
            .column(i)
            .as_any()
            .downcast_ref::<Float64Array>()
            .ok_or("a float column")?)
    };
    let (x, y) = (floats(1)?, floats(2)?);
    let mut out = serde_json::Map::new();
    for i in 0..batch.num_rows() {
        out.insert(names.value(i).to_string(), json!([x.value(i), y.value(i)]));
    }
    Ok(Value::Object(out))
}

fn column_values(batch: &RecordBatch, name: &str) -> BoxResult<Vec<Option<f64>>> {
    Ok(batch
        .column_by_name(name)
        .ok_or("no such column")?
        .as_any()
        .downcast_ref::<Float64Array>()
        .ok_or("a float column")?
        .iter()
        .collect())
}

fn run(data: &Path, out: &Path, smoke: bool) -> BoxResult<()> {
    let (freq, runs) = if smoke { ("1min", 1) } else { ("1s", 5) };
    let cfg = config();
    let csv_dir = data.join("csv");
    let parquet_dir = data.join("parquet");
    let _ = std::fs::remove_dir_all(data);
    std::fs::create_dir_all(&csv_dir)?;
    let csv_pattern = csv_dir.join("*.csv").to_string_lossy().into_owned();
    let mut times = serde_json::Map::new();
    let mut record = |id: &str, seconds: Vec<f64>| {
        eprintln!(
            "  rust: {id}: {:.1} ms",
            median(&seconds) * 1e3 // progress only; the table takes medians too
        );
        times.insert(id.to_string(), json!(seconds));
    };

    let (p, s) = timed(runs, || Ok(timeseries(options(freq)).persist()?))?;
    record("make", s);
    let (filter_sum, s) = timed(runs, || {
        Ok(p.filter(col("y").gt(lit(0.0)))
            .column("x")
            .sum()
            .compute_with(&cfg)?)
    })?;
    record("filter_sum", s);
    let (groupby, s) = timed(runs, || Ok(by_name(&p).compute_with(&cfg)?))?;
    record("groupby", s);
    let (std, s) = timed(runs, || {
        Ok(p.filter(col("y").gt(lit(0.0)))
            .select(["name", "x"])
            .column("x")
            .std()
            .compute_with(&cfg)?)
    })?;
    record("std", s);
    let (hourly, s) = timed(runs, || {
        Ok(p.select(["x", "y"])
            .resample("1h")
            .mean()
            .compute_with(&cfg)?)
    })?;
    record("resample", s);
    let (rolled, s) = timed(runs, || {
        Ok(p.select(["x"]).rolling("1min").mean().compute_with(&cfg)?)
    })?;
    record("rolling", s);
    let (_, s) = timed(runs, || Ok(p.to_csv(&csv_pattern)?))?;
    record("to_csv", s);
    let (from_csv, s) = timed(runs, || {
        Ok(by_name(&read_csv(&csv_pattern)?).compute_with(&cfg)?)
    })?;
    record("read_csv_groupby", s);
    let (_, s) = timed(runs, || Ok(p.to_parquet(&parquet_dir)?))?;
    record("to_parquet", s);
    let (from_parquet, s) = timed(runs, || {
        Ok(by_name(&read_parquet(&parquet_dir)?).compute_with(&cfg)?)
    })?;
    record("read_parquet_groupby", s);

    let rolling_x = column_values(&rolled, "x")?;
    let rolling_sum: f64 = rolling_x.iter().flatten().sum();
    let memory = memory(&csv_dir, if smoke { 1 } else { 3 })?;
    let doc = json!({
        "freq": freq,
        "runs": runs,
        "rows": p.len().compute()?,
        "npartitions": p.npartitions(),
        "load_before": load_average(),
        "seconds": times,
        "results": {
            "filter_sum": filter_sum,
            "groupby": table_json(&groupby)?,
            "std": std,
            "resample_x": column_values(&hourly, "x")?,
            "rolling_sum": rolling_sum,
            "rolling_first": rolling_x.iter().take(5).collect::<Vec<_>>(),
            "read_csv_groupby": table_json(&from_csv)?,
            "read_parquet_groupby": table_json(&from_parquet)?,
        },
        "memory": memory,
    });
    std::fs::write(out, serde_json::to_string_pretty(&doc)?)?;
    Ok(())
}

/// Peak memory of `read_csv + groupby` over the files, each run in a fresh process.
fn memory(csv_dir: &Path, runs: usize) -> BoxResult<Value> {
    let mut runs_out = vec![];
    for _ in 0..runs {
        let child = Command::new(std::env::current_exe()?)
            .args(["memory-child", &csv_dir.to_string_lossy()])
            .output()?;
        if !child.status.success() {
            return Err(String::from_utf8_lossy(&child.stderr).into_owned().into());
        }
        runs_out.push(serde_json::from_slice::<Value>(&child.stdout)?);
    }
    Ok(Value::Array(runs_out))
}

fn peak_kib() -> BoxResult<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .ok_or("no VmHWM")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .ok_or("empty VmHWM")?
        .parse()?)
}

fn memory_child(csv_dir: &Path) -> BoxResult<()> {
    let pattern = csv_dir.join("*.csv").to_string_lossy().into_owned();
    let df = read_csv(&pattern)?;
    // One partition's size in memory, the unit of the issue's bound; then the pool
    // started and the modules loaded before the baseline, as on the Python side.
    let partition = df.to_delayed()[0].compute()?;
    let partition_mib = partition.get_array_memory_size() as f64 / (1 << 20) as f64;
    drop(partition);
    by_name(&timeseries(options("1h"))).compute_with(&config())?;
    std::fs::write("/proc/self/clear_refs", "5")?;
    let before = peak_kib()?;
    let table = by_name(&df).compute_with(&config())?;
    let after = peak_kib()?;
    println!(
        "{}",
        json!({
            "peak_delta_mib": (after - before) as f64 / 1024.0,
            "partition_mib": partition_mib,
            "result_rows": table.num_rows(),
        })
    );
    Ok(())
}

/// The read_csv + groupby row alone, for work on the CSV reader: writes the 30 files
/// under `DIR/csv` when they are not there yet, then prints each run's time and the
/// peak memory of one run in a fresh process.
fn read_csv_only(data: &Path, runs: usize) -> BoxResult<()> {
    let csv_dir = data.join("csv");
    let pattern = csv_dir.join("*.csv").to_string_lossy().into_owned();
    if read_csv(&pattern).is_err() {
        std::fs::create_dir_all(&csv_dir)?;
        timeseries(options("1s")).to_csv(&pattern)?;
    }
    let cfg = config();
    let (table, seconds) = timed(runs, || {
        Ok(by_name(&read_csv(&pattern)?).compute_with(&cfg)?)
    })?;
    let ms: Vec<String> = seconds.iter().map(|s| format!("{:.1}", s * 1e3)).collect();
    println!(
        "read_csv + groupby: median {:.1} ms, runs {} ms; {} groups; load {:?}",
        median(&seconds) * 1e3,
        ms.join(" "),
        table.num_rows(),
        load_average()
    );
    println!("memory: {}", memory(&csv_dir, 1)?);
    Ok(())
}

/// Chosen in-memory rows alone (`groupby`, `std`, `resample`, `rolling`, `filter_sum`), on
/// the persisted table, for speed work: prints each row's median, its runs and the load.
fn in_memory_only(which: &str, runs: usize) -> BoxResult<()> {
    let cfg = config();
    let p = timeseries(options("1s")).persist()?;
    for row in which.split(',') {
        let seconds = match row {
            "groupby" => timed(runs, || Ok(by_name(&p).compute_with(&cfg)?))?.1,
            "std" => {
                timed(runs, || {
                    Ok(p.filter(col("y").gt(lit(0.0)))
                        .select(["name", "x"])
                        .column("x")
                        .std()
                        .compute_with(&cfg)?)
                })?
                .1
            }
            "resample" => {
                timed(runs, || {
                    Ok(p.select(["x", "y"])
                        .resample("1h")
                        .mean()
                        .compute_with(&cfg)?)
                })?
                .1
            }
            "rolling" => {
                timed(runs, || {
                    Ok(p.select(["x"]).rolling("1min").mean().compute_with(&cfg)?)
                })?
                .1
            }
            // The rolling row's partitions, not concatenated: what the concatenation
            // into one batch costs is the difference.
            "rolling_parts" => {
                timed(runs, || {
                    let parts = p.select(["x"]).rolling("1min").mean().to_delayed();
                    Ok(dask::compute_with(&parts, &cfg)?.len())
                })?
                .1
            }
            "filter_sum" => {
                timed(runs, || {
                    Ok(p.filter(col("y").gt(lit(0.0)))
                        .column("x")
                        .sum()
                        .compute_with(&cfg)?)
                })?
                .1
            }
            other => return Err(format!("no in-memory row `{other}`").into()),
        };
        let ms: Vec<String> = seconds.iter().map(|s| format!("{:.1}", s * 1e3)).collect();
        println!(
            "{row}: median {:.1} ms, runs {} ms; load {:?}",
            median(&seconds) * 1e3,
            ms.join(" "),
            load_average()
        );
    }
    Ok(())
}

fn load_average() -> Vec<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| {
            s.split_whitespace()
                .take(3)
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn numbers(v: &Value) -> BoxResult<Vec<f64>> {
    v.as_array()
        .and_then(|xs| xs.iter().map(Value::as_f64).collect())
        .ok_or_else(|| format!("not a list of numbers: {v}").into())
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

/// Our results against pandas' on the same files: the differences, if any.
fn check(ours: &Value, pandas: &Value) -> Vec<String> {
    let mut bad = vec![];
    let mut scalar = |key: &str| {
        let (a, b) = (ours[key].as_f64(), pandas[key].as_f64());
        match (a, b) {
            (Some(a), Some(b)) if close(a, b) => {}
            _ => bad.push(format!("{key}: ours {a:?}, pandas {b:?}")),
        }
    };
    scalar("filter_sum");
    scalar("std");
    scalar("rolling_sum");
    for key in ["groupby", "read_csv_groupby", "read_parquet_groupby"] {
        let (a, b) = (&ours[key], &pandas[key]);
        let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
            bad.push(format!("{key}: missing"));
            continue;
        };
        if a.len() != b.len() || a.len() != 26 {
            bad.push(format!("{key}: {} groups, pandas {}", a.len(), b.len()));
        }
        for (name, va) in a {
            let ok = b.get(name).is_some_and(|vb| {
                (0..2).all(|i| match (va[i].as_f64(), vb[i].as_f64()) {
                    (Some(x), Some(y)) => close(x, y),
                    _ => false,
                })
            });
            if !ok {
                bad.push(format!("{key} {name}: ours {va}, pandas {:?}", b.get(name)));
            }
        }
    }
    for key in ["resample_x", "rolling_first"] {
        let list = |v: &Value| -> Vec<Option<f64>> {
            v.as_array()
                .map(|xs| xs.iter().map(Value::as_f64).collect())
                .unwrap_or_default()
        };
        let (a, b) = (list(&ours[key]), list(&pandas[key]));
        let same = a.len() == b.len()
            && a.iter().zip(&b).all(|(x, y)| match (x, y) {
                (Some(x), Some(y)) => close(*x, *y),
                (None, None) => true,
                _ => false,
            });
        if !same || a.is_empty() {
            bad.push(format!(
                "{key}: {} values, pandas {}; differ",
                a.len(),
                b.len()
            ));
        }
    }
    bad
}

fn report(rust: &Path, python: &Path, plots: Option<&Path>, smoke: bool) -> BoxResult<()> {
    let ours: Value = serde_json::from_str(&std::fs::read_to_string(rust)?)?;
    let py: Value = serde_json::from_str(&std::fs::read_to_string(python)?)?;
    let bad = check(&ours["results"], &py["pandas"]);
    if !bad.is_empty() {
        return Err(format!(
            "our results and pandas' on the same files differ:\n  {}",
            bad.join("\n  ")
        )
        .into());
    }
    let mode = if smoke { "smoke" } else { "full" };
    println!();
    println!(
        "### Dataframes ({mode}): the demo table, {} rows in {} partitions, 2 workers",
        ours["rows"], ours["npartitions"]
    );
    println!();
    println!(
        "Dask {} with pandas {} and pyarrow {}; load average before: ours {}, Python {}; \
         medians of {} runs (min-max).",
        py["versions"]["dask"].as_str().unwrap_or("?"),
        py["versions"]["pandas"].as_str().unwrap_or("?"),
        py["versions"]["pyarrow"].as_str().unwrap_or("?"),
        ours["load_before"],
        py["load_before"],
        ours["runs"]
    );
    println!();
    println!("| workload | Dask | ours | speedup | goal |");
    println!("|---|---:|---:|---:|---|");
    let mut bars = vec![];
    for (id, what, goal) in ROWS {
        let theirs = numbers(&py["seconds"][id])?;
        let mine = numbers(&ours["seconds"][id])?;
        let (t, m) = (median(&theirs), median(&mine));
        let range = |xs: &[f64]| {
            let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            format!("{} ({}-{})", ms(median(xs)), ms(lo), ms(hi))
        };
        let verdict = if smoke {
            format!("{goal}x (not judged)")
        } else if t / m >= goal {
            format!("{goal}x: met")
        } else {
            format!("{goal}x: **missed**")
        };
        println!(
            "| {what} | {} | {} | {:.1}x | {verdict} |",
            range(&theirs),
            range(&mine),
            t / m
        );
        bars.push((what, t, m));
    }
    let mem = |v: &Value, key: &str| -> Vec<f64> {
        v.as_array()
            .map(|runs| runs.iter().filter_map(|r| r[key].as_f64()).collect())
            .unwrap_or_default()
    };
    let (peak, part) = (
        median(&mem(&ours["memory"], "peak_delta_mib")),
        median(&mem(&ours["memory"], "partition_mib")),
    );
    let dask_peak = median(&mem(&py["memory"], "peak_delta_mib"));
    let bound = (WORKERS + 2) as f64 * part;
    println!();
    println!(
        "Peak memory of read_csv + groupby over the {} CSV files (a fresh process each, \
         VmHWM growth): ours {peak:.0} MiB, Dask {dask_peak:.0} MiB; one partition is \
         {part:.1} MiB in memory, so (workers + 2) partitions are {bound:.0} MiB{}.",
        ours["npartitions"],
        if smoke {
            String::new()
        } else if peak <= bound {
            " (bound: met)".to_string()
        } else {
            " (bound: **missed**)".to_string()
        }
    );
    println!();
    println!("{mode}: results agree with pandas on the same files");
    if let Some(dir) = plots {
        std::fs::create_dir_all(dir)?;
        plot(&dir.join("dataframe.svg"), &bars)?;
    }
    Ok(())
}

fn ms(seconds: f64) -> String {
    let v = seconds * 1e3;
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    }
}

/// Horizontal bars per workload, log scale: Dask and ours.
fn plot(path: &Path, bars: &[(&str, f64, f64)]) -> BoxResult<()> {
    use plotters::prelude::*;
    let height = 80 + 44 * bars.len() as u32;
    let root = SVGBackend::new(path, (900, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let lo = bars
        .iter()
        .flat_map(|b| [b.1, b.2])
        .fold(f64::INFINITY, f64::min)
        * 1e3
        / 2.0;
    let hi = bars.iter().flat_map(|b| [b.1, b.2]).fold(0.0, f64::max) * 1e3 * 2.0;
    let n = bars.len() as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Dataframes: median time per workload (2 workers, log scale; lower is better)",
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(290)
        .build_cartesian_2d((lo.max(1e-3)..hi).log_scale(), 0.0..n)?;
    let labels: Vec<String> = bars.iter().map(|b| b.0.to_string()).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc("milliseconds")
        .y_labels(bars.len() * 2 + 1)
        .y_label_formatter(&|y| {
            let i = (n - y - 0.5).round();
            if (n - y - 0.5 - i).abs() < 0.01 && i >= 0.0 && (i as usize) < labels.len() {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        })
        .draw()?;
    let dask = RGBColor(0x1f, 0x78, 0xb4);
    let ours = RGBColor(0xd9, 0x5f, 0x02);
    for (i, (_, t, m)) in bars.iter().enumerate() {
        let top = n - i as f64;
        for (value, color, offset) in [(*t, dask, 0.1), (*m, ours, 0.5)] {
            chart.draw_series(std::iter::once(Rectangle::new(
                [
                    (lo.max(1e-3), top - offset - 0.35),
                    (value * 1e3, top - offset),
                ],
                color.filled(),
            )))?;
        }
    }
    for (name, color) in [("Dask + pandas", dask), ("ours", ours)] {
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE)
        .border_style(BLACK)
        .position(SeriesLabelPosition::LowerRight)
        .draw()?;
    root.present()?;
    Ok(())
}

fn arg(args: &[String], name: &str) -> Option<PathBuf> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
}

/// Building a dataframe of n chained filters (each a step fused into the partition's
/// task), then computing it: the median of `runs`, per chain length. A program that
/// adds steps in a loop pays this.
fn chained(runs: usize) -> BoxResult<()> {
    let batch = RecordBatch::try_from_iter([(
        "x",
        std::sync::Arc::new(Float64Array::from(vec![1.0, 2.0])) as _,
    )])?;
    println!("| chained filters | build (median of {runs}) | compute |");
    println!("|---:|---:|---:|");
    for n in [1_000usize, 4_000, 16_000] {
        let (mut builds, mut computes) = (Vec::new(), Vec::new());
        for _ in 0..runs.max(1) {
            let start = Instant::now();
            let mut df = DataFrame::from_batches(vec![batch.clone()])?;
            for _ in 0..n {
                df = df.filter(col("x").gt(lit(0.0)));
            }
            builds.push(start.elapsed().as_secs_f64());
            let start = Instant::now();
            assert_eq!(df.compute()?.num_rows(), 2);
            computes.push(start.elapsed().as_secs_f64());
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2] * 1e3
        };
        println!(
            "| {n} | {:.1} ms | {:.1} ms |",
            median(&mut builds),
            median(&mut computes)
        );
    }
    Ok(())
}

fn main() -> BoxResult<()> {
    let args: Vec<String> = std::env::args().collect();
    let smoke = args.iter().any(|a| a == "--smoke");
    let need = |name: &str| arg(&args, name).ok_or_else(|| format!("{name} is required"));
    match args.get(1).map(String::as_str) {
        Some("run") => run(&need("--data")?, &need("--out")?, smoke),
        Some("memory-child") => memory_child(Path::new(args.get(2).ok_or("a directory")?)),
        Some("read-csv") => read_csv_only(
            &need("--data")?,
            arg(&args, "--runs").map_or(Ok(5), |r| r.to_string_lossy().parse())?,
        ),
        Some("in-memory") => in_memory_only(
            args.get(2).ok_or("rows, comma-separated")?,
            arg(&args, "--runs").map_or(Ok(9), |r| r.to_string_lossy().parse())?,
        ),
        Some("chained") => {
            chained(arg(&args, "--runs").map_or(Ok(5), |r| r.to_string_lossy().parse())?)
        }
        Some("report") => report(
            &need("--rust")?,
            &need("--python")?,
            arg(&args, "--plots").as_deref(),
            smoke,
        ),
        _ => Err(
            "usage: bench_dataframe run|report|memory-child|read-csv|in-memory|chained ...".into(),
        ),
    }
}
