//! How a drawing is configured: direction, colouring, collapsing, layout engine.

use std::time::Duration;

use crate::color::ColorBy;

/// Drawings of graphs with more nodes than this show one node per function instead
/// (see [`TaskGraph::collapse_by_function`](crate::TaskGraph::collapse_by_function)).
/// Around this size a node-per-task drawing stops being readable on a screen.
pub const DEFAULT_COLLAPSE_ABOVE: usize = 500;

/// How long Graphviz's `dot` may run for one drawing before it is killed (see
/// [`SvgOptions::dot_timeout`]). Generous for drawings of the default collapsed size;
/// raise it for very large uncollapsed graphs. A fixed bound, so a `dot` that hangs
/// (or a program of that name that is not Graphviz) cannot stall a drawing for ever.
pub const DEFAULT_DOT_TIMEOUT: Duration = Duration::from_secs(60);

/// Which way dependencies flow in a drawing.
///
/// The default is [`TopToBottom`](RankDir::TopToBottom): inputs at the top, results
/// below, in the order a program reads. (Dask draws bottom-to-top by default; pass
/// [`BottomToTop`](RankDir::BottomToTop) to match it.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RankDir {
    /// Graphviz `TB`.
    #[default]
    TopToBottom,
    /// Graphviz `LR`: suits long pipelines on wide screens.
    LeftToRight,
    /// Graphviz `BT`.
    BottomToTop,
    /// Graphviz `RL`.
    RightToLeft,
}

impl RankDir {
    /// The Graphviz spelling: `TB`, `LR`, `BT` or `RL`.
    pub fn as_dot(self) -> &'static str {
        match self {
            RankDir::TopToBottom => "TB",
            RankDir::LeftToRight => "LR",
            RankDir::BottomToTop => "BT",
            RankDir::RightToLeft => "RL",
        }
    }

    /// Whether ranks (layers) follow each other horizontally.
    pub(crate) fn is_horizontal(self) -> bool {
        matches!(self, RankDir::LeftToRight | RankDir::RightToLeft)
    }

    /// Whether later ranks are drawn above or left of earlier ones.
    pub(crate) fn is_reversed(self) -> bool {
        matches!(self, RankDir::BottomToTop | RankDir::RightToLeft)
    }
}

impl std::str::FromStr for RankDir {
    type Err = String;

    /// Accepts the Graphviz spellings in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "TB" => Ok(RankDir::TopToBottom),
            "LR" => Ok(RankDir::LeftToRight),
            "BT" => Ok(RankDir::BottomToTop),
            "RL" => Ok(RankDir::RightToLeft),
            _ => Err(format!("unknown rankdir `{s}`; expected TB, LR, BT or RL")),
        }
    }
}

/// Options for [`TaskGraph::to_dot_with`](crate::TaskGraph::to_dot_with).
///
/// The default is a plain export: every node, no fill colours, top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DotOptions {
    pub rankdir: RankDir,
    pub color: ColorBy,
    /// Collapse by function when the graph has more nodes than this; `None` never does.
    pub collapse_above: Option<usize>,
}

impl Default for DotOptions {
    fn default() -> Self {
        DotOptions {
            rankdir: RankDir::default(),
            color: ColorBy::None,
            collapse_above: None,
        }
    }
}

impl DotOptions {
    pub fn rankdir(mut self, rankdir: RankDir) -> Self {
        self.rankdir = rankdir;
        self
    }

    pub fn color(mut self, color: ColorBy) -> Self {
        self.color = color;
        self
    }

    pub fn collapse_above(mut self, threshold: Option<usize>) -> Self {
        self.collapse_above = threshold;
        self
    }
}

/// Who computes the positions in an SVG drawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Engine {
    /// Graphviz `dot` when it is on `PATH` and succeeds, else [`Embedded`](Engine::Embedded):
    /// a `dot` that fails, runs past [`SvgOptions::dot_timeout`] or writes more than
    /// its output limit ([`limits`](crate::limits)) is stopped and the embedded layout
    /// draws instead.
    #[default]
    Auto,
    /// This crate's own layered layout: no system program needed, same output everywhere.
    Embedded,
    /// Graphviz `dot`; an error when it is missing, fails, runs past
    /// [`SvgOptions::dot_timeout`] or writes more than its output limit.
    Dot,
}

impl std::str::FromStr for Engine {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Engine::Auto),
            "embedded" => Ok(Engine::Embedded),
            "dot" | "graphviz" => Ok(Engine::Dot),
            _ => Err(format!(
                "unknown engine `{s}`; expected auto, embedded or dot"
            )),
        }
    }
}

/// Options for [`TaskGraph::to_svg_with`](crate::TaskGraph::to_svg_with).
///
/// The default colours by function and collapses graphs above
/// [`DEFAULT_COLLAPSE_ABOVE`] nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SvgOptions {
    pub engine: Engine,
    pub rankdir: RankDir,
    pub color: ColorBy,
    /// Collapse by function when the graph has more nodes than this; `None` never does.
    pub collapse_above: Option<usize>,
    /// How long Graphviz's `dot` may run before it is killed, with everything it
    /// started; default [`DEFAULT_DOT_TIMEOUT`].
    pub dot_timeout: Duration,
}

impl Default for SvgOptions {
    fn default() -> Self {
        SvgOptions {
            engine: Engine::default(),
            rankdir: RankDir::default(),
            color: ColorBy::default(),
            collapse_above: Some(DEFAULT_COLLAPSE_ABOVE),
            dot_timeout: DEFAULT_DOT_TIMEOUT,
        }
    }
}

impl SvgOptions {
    pub fn engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    pub fn rankdir(mut self, rankdir: RankDir) -> Self {
        self.rankdir = rankdir;
        self
    }

    pub fn color(mut self, color: ColorBy) -> Self {
        self.color = color;
        self
    }

    pub fn collapse_above(mut self, threshold: Option<usize>) -> Self {
        self.collapse_above = threshold;
        self
    }

    /// How long Graphviz's `dot` may run (engines [`Auto`](Engine::Auto) and
    /// [`Dot`](Engine::Dot)). When the time is up it is killed: `Dot` fails with
    /// [`VizError::DotTimedOut`](crate::VizError::DotTimedOut), `Auto` draws with
    /// the embedded layout.
    pub fn dot_timeout(mut self, limit: Duration) -> Self {
        self.dot_timeout = limit;
        self
    }
}
