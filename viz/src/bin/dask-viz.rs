//! `dask-viz`: renders a saved task graph (`.json` or `.dot`) to SVG, DOT or JSON.
//!
//! ```text
//! dask-viz render graph.json -o graph.svg --rankdir LR --collapse=200 --engine embedded
//! ```
//!
//! `render` prints what it wrote, and refuses to replace an existing file unless
//! `--force` is given.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

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

    /// Fill colours: function, order, duration or none.
    #[arg(long, value_name = "BY", value_parser = parse::<ColorBy>)]
    color: Option<ColorBy>,

    /// Replace FILE if it already exists (without this, an existing file is an error).
    #[arg(long)]
    force: bool,
}

fn parse<T: std::str::FromStr<Err = String>>(text: &str) -> Result<T, String> {
    text.parse()
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
    #[error("{} already exists; pass --force to overwrite it", .path.display())]
    Exists { path: PathBuf },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Render(render) => run_render(render),
        Command::Info { input } => run_info(&input),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("dask-viz: error: {err}");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                // Transparent and `#[source]` errors repeat their cause in the message.
                if !err.to_string().contains(&cause.to_string()) {
                    eprintln!("  caused by: {cause}");
                }
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

fn run_render(render: Render) -> Result<(), CliError> {
    let output = render
        .output
        .clone()
        .unwrap_or_else(|| render.input.with_extension("svg"));
    // Checked before reading: a wrong output name should not wait for a big input.
    let format = Format::from_path(&output)?;
    let graph = TaskGraph::load(&render.input)?;
    if render.color == Some(ColorBy::Duration)
        && graph.nodes().all(|(_, n)| n.duration_ns.is_none())
    {
        eprintln!(
            "dask-viz: warning: {} has no task timings; --color duration leaves every node grey",
            render.input.display()
        );
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
                || render.color.is_some()
            {
                return Err(CliError::Usage(
                    "--rankdir, --collapse, --no-collapse, --engine and --color apply to \
                     .svg and .dot output, not .json"
                        .to_owned(),
                ));
            }
            graph.to_json()
        }
        Format::Dot => {
            if render.engine.is_some() {
                return Err(CliError::Usage(
                    "--engine applies to .svg output only".to_owned(),
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
            options = options.collapse_above(collapse.unwrap_or(Some(DEFAULT_COLLAPSE_ABOVE)));
            graph.to_svg_with(&options)?
        }
    };
    write(&output, &text, render.force)?;
    println!(
        "wrote {} ({} bytes; {} nodes, {} edges)",
        output.display(),
        text.len(),
        graph.len(),
        graph.edge_count()
    );
    Ok(())
}

/// Writes `text` to `path`; an existing file is only replaced with `force`. Without it
/// the file is created with `create_new`, so nothing can appear in between the check
/// and the write.
fn write(path: &Path, text: &str, force: bool) -> Result<(), CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            CliError::Exists {
                path: path.to_owned(),
            }
        } else {
            CliError::Write {
                path: path.to_owned(),
                source,
            }
        }
    })?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(|source| CliError::Write {
        path: path.to_owned(),
        source,
    })
}

fn run_info(input: &Path) -> Result<(), CliError> {
    let graph = TaskGraph::load(input)?;
    let collapsed = graph.collapse_by_function();
    println!(
        "{} nodes, {} edges, {} functions",
        graph.len(),
        graph.edge_count(),
        collapsed.groups().len()
    );
    for group in collapsed.groups() {
        println!("{:>8}  {}", group.count(), group.path);
    }
    Ok(())
}
