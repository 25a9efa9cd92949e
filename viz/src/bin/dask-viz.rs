//! `dask-viz`: renders a saved task graph (`.json` or `.dot`) to SVG, DOT or JSON.
//!
//! ```text
//! dask-viz render graph.json -o graph.svg --rankdir LR --collapse=200 --engine embedded
//! ```
//!
//! `render` prints what it wrote, and refuses to replace an existing file unless
//! `--force` is given. With `--force` the new file is written beside the old one and
//! renamed over it, so a failed write leaves the old file as it was.
//!
//! Exit codes: 0 on success, 1 on an error (a message on stderr), 2 on a usage error.
//! When the reader of standard output goes away (`dask-viz info g.json | head -2`),
//! the command stops quietly with 0, as the programs of a `head` pipeline do: what is
//! left unprinted was not wanted, and `render` has written its file by then. Any other
//! failure to write standard output (`> /dev/full`) is an error, exit code 1.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use dask_viz::{
    ColorBy, DotOptions, Engine, Format, RankDir, SvgOptions, TaskGraph, VizError,
    DEFAULT_COLLAPSE_ABOVE,
};

#[derive(Parser)]
#[command(name = "dask-viz", version, about = "Draw dask task graphs")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render a graph saved as .json or .dot into .svg, .dot/.gv or .json.
    Render(Render),
    /// Print node, edge and function counts of a saved graph.
    Info {
        /// The graph: a .json (schema in viz/SCHEMA.md) or .dot/.gv file.
        input: PathBuf,
    },
}

#[derive(clap::Args)]
struct Render {
    /// The graph: a .json (schema in viz/SCHEMA.md) or .dot/.gv file.
    input: PathBuf,

    /// Where to write; the extension picks the format. Default: INPUT with .svg.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Direction of the drawing: TB, LR, BT or RL.
    #[arg(long, value_name = "DIR", value_parser = parse::<RankDir>)]
    rankdir: Option<RankDir>,

    /// Show one node per function: always with `--collapse`, or when the graph has
    /// more than N nodes with `--collapse=N`. SVG collapses above 500 nodes anyway.
    #[arg(
        long,
        value_name = "N",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "0",
        conflicts_with = "no_collapse"
    )]
    collapse: Option<usize>,

    /// Never collapse, however big the graph.
    #[arg(long)]
    no_collapse: bool,

    /// Layout engine for SVG: auto (Graphviz `dot` if installed), embedded or dot.
    #[arg(long, value_name = "ENGINE", value_parser = parse::<Engine>)]
    engine: Option<Engine>,

    /// How long Graphviz `dot` may run before it is killed (SVG only; default 60).
    /// Then `--engine dot` fails and `--engine auto` draws with the embedded layout.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    dot_timeout: Option<Duration>,

    /// Fill colours: function, order, duration or none.
    #[arg(long, value_name = "BY", value_parser = parse::<ColorBy>)]
    color: Option<ColorBy>,

    /// Replace FILE if it already exists (without this, an existing file is an error).
    /// The old file stays as it was unless the new one is written in full.
    #[arg(long)]
    force: bool,
}

fn parse<T: std::str::FromStr<Err = String>>(text: &str) -> Result<T, String> {
    text.parse()
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("`{text}` is not a positive number of seconds"))
}

/// Failures of the command itself, beside the library's.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Viz(#[from] VizError),
    #[error("{0}")]
    Usage(String),
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: no temporary file could be created beside it: {source}", .path.display())]
    TempFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} already exists; pass --force to overwrite it", .path.display())]
    Exists { path: PathBuf },
    #[error("{} is a directory; name a file to write with -o", .path.display())]
    IsDirectory { path: PathBuf },
    /// A broken pipe is not reported (see the crate docs).
    #[error("cannot write to standard output: {0}")]
    Stdout(std::io::Error),
}

/// Lines for standard output; errors go back to `main` as [`CliError::Stdout`].
fn say(out: &mut impl Write, line: std::fmt::Arguments<'_>) -> Result<(), CliError> {
    out.write_fmt(line)
        .and_then(|()| out.write_all(b"\n"))
        .map_err(CliError::Stdout)
}

/// Standard error: if even that cannot be written, there is no one left to tell.
fn complain(line: std::fmt::Arguments<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_fmt(line).and_then(|()| err.write_all(b"\n"));
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::stdout().lock();
    let result = match cli.command {
        Command::Render(render) => run_render(render, &mut out),
        Command::Info { input } => run_info(&input, &mut out),
    }
    .and_then(|()| out.flush().map_err(CliError::Stdout));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Stdout(err)) if err.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(err) => {
            complain(format_args!("dask-viz: error: {err}"));
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                // Transparent and `#[source]` errors repeat their cause in the message.
                if !err.to_string().contains(&cause.to_string()) {
                    complain(format_args!("  caused by: {cause}"));
                }
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

fn run_render(render: Render, out: &mut impl Write) -> Result<(), CliError> {
    let output = render
        .output
        .clone()
        .unwrap_or_else(|| render.input.with_extension("svg"));
    // Checked before reading: a wrong output name should not wait for a big input.
    let format = Format::from_path(&output)?;
    if output.is_dir() {
        return Err(CliError::IsDirectory { path: output });
    }
    let graph = TaskGraph::load(&render.input)?;
    if render.color == Some(ColorBy::Duration)
        && graph.nodes().all(|(_, n)| n.duration_ns.is_none())
    {
        complain(format_args!(
            "dask-viz: warning: {} has no task timings; --color duration leaves every node grey",
            render.input.display()
        ));
    }
    let collapse = if render.no_collapse {
        Some(None)
    } else {
        render.collapse.map(Some)
    };
    let text = match format {
        Format::Json => {
            if render.rankdir.is_some()
                || collapse.is_some()
                || render.engine.is_some()
                || render.dot_timeout.is_some()
                || render.color.is_some()
            {
                return Err(CliError::Usage(
                    "--rankdir, --collapse, --no-collapse, --engine, --dot-timeout and \
                     --color apply to .svg and .dot output, not .json"
                        .to_owned(),
                ));
            }
            graph.to_json()
        }
        Format::Dot => {
            if render.engine.is_some() || render.dot_timeout.is_some() {
                return Err(CliError::Usage(
                    "--engine and --dot-timeout apply to .svg output only".to_owned(),
                ));
            }
            let mut options = DotOptions::default();
            if let Some(rankdir) = render.rankdir {
                options = options.rankdir(rankdir);
            }
            if let Some(color) = render.color {
                options = options.color(color);
            }
            if let Some(threshold) = collapse {
                options = options.collapse_above(threshold);
            }
            graph.to_dot_with(&options)
        }
        _ => {
            let mut options = SvgOptions::default();
            if let Some(rankdir) = render.rankdir {
                options = options.rankdir(rankdir);
            }
            if let Some(color) = render.color {
                options = options.color(color);
            }
            if let Some(engine) = render.engine {
                options = options.engine(engine);
            }
            if let Some(limit) = render.dot_timeout {
                options = options.dot_timeout(limit);
            }
            options = options.collapse_above(collapse.unwrap_or(Some(DEFAULT_COLLAPSE_ABOVE)));
            graph.to_svg_with(&options)?
        }
    };
    write(&output, &text, render.force)?;
    say(
        out,
        format_args!(
            "wrote {} ({} bytes; {} nodes, {} edges)",
            output.display(),
            text.len(),
            graph.len(),
            graph.edge_count()
        ),
    )
}

/// Writes `text` to `path`; an existing file is only replaced with `force`.
fn write(path: &Path, text: &str, force: bool) -> Result<(), CliError> {
    // Checked again here (render checked before reading): a directory is never
    // "already existing output", and renaming over it would fail obscurely.
    if path.is_dir() {
        return Err(CliError::IsDirectory {
            path: path.to_owned(),
        });
    }
    if force {
        replace(path, text)
    } else {
        create(path, text)
    }
}

/// Creates `path` with `create_new`, so nothing can appear in between the check and
/// the write. A write that fails halfway removes the file it created.
fn create(path: &Path, text: &str) -> Result<(), CliError> {
    let write_error = |source| CliError::Write {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|source| {
            if source.kind() != std::io::ErrorKind::AlreadyExists {
                write_error(source)
            } else if path.is_dir() {
                CliError::IsDirectory {
                    path: path.to_owned(),
                }
            } else {
                CliError::Exists {
                    path: path.to_owned(),
                }
            }
        })?;
    if let Err(source) = file.write_all(text.as_bytes()) {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(write_error(source));
    }
    Ok(())
}

/// Replaces `path` all at once: the text goes to a new file in the same directory,
/// which is renamed over `path` only once it is complete, so a failed write (a full
/// disk, a size limit) leaves the old file untouched. The new file keeps the old
/// one's permissions.
fn replace(path: &Path, text: &str) -> Result<(), CliError> {
    let (temp, mut file) = temp_beside(path).map_err(|source| CliError::TempFile {
        path: path.to_owned(),
        source,
    })?;
    let mut finish = || {
        file.write_all(text.as_bytes())?;
        if let Ok(old) = std::fs::metadata(path) {
            file.set_permissions(old.permissions())?;
        }
        file.sync_all()?;
        std::fs::rename(&temp, path)
    };
    finish().map_err(|source| {
        let _ = std::fs::remove_file(&temp);
        CliError::Write {
            path: path.to_owned(),
            source,
        }
    })
}

/// A new, hidden file next to `path`: `.NAME.dask-viz-PID-N.tmp`.
fn temp_beside(path: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    let name = path.file_name().unwrap_or(path.as_os_str());
    let mut last = None;
    for attempt in 0..100 {
        let mut temp_name = OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".dask-viz-{}-{attempt}.tmp", std::process::id()));
        let temp = path.with_file_name(temp_name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
        {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

fn run_info(input: &Path, out: &mut impl Write) -> Result<(), CliError> {
    let graph = TaskGraph::load(input)?;
    let collapsed = graph.collapse_by_function();
    say(
        out,
        format_args!(
            "{} nodes, {} edges, {} functions",
            graph.len(),
            graph.edge_count(),
            collapsed.groups().len()
        ),
    )?;
    for group in collapsed.groups() {
        say(out, format_args!("{:>8}  {}", group.count(), group.path))?;
    }
    Ok(())
}
