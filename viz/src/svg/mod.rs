//! SVG drawings: our own layered layout, or Graphviz's `dot` where it is installed.

mod draw;
pub(crate) mod escape;
mod graphviz;

pub use graphviz::{DOT_SVG_BASE_BYTES, DOT_SVG_BYTES_PER_INPUT_BYTE};
mod measure;

use crate::error::VizError;
use crate::model::TaskGraph;
use crate::options::{Engine, SvgOptions};
use crate::scene;

/// Whether Graphviz's `dot` program is on `PATH` (what [`Engine::Auto`] checks).
pub fn dot_available() -> bool {
    graphviz::find_dot().is_some()
}

impl TaskGraph {
    /// The graph as SVG with the default [`SvgOptions`]: coloured by function,
    /// collapsed by function above
    /// [`DEFAULT_COLLAPSE_ABOVE`](crate::DEFAULT_COLLAPSE_ABOVE) nodes, laid out by
    /// Graphviz's `dot` when it is installed and by the embedded layout otherwise.
    ///
    /// With the default [`Engine::Auto`] this does not fail; the `Result` is for
    /// [`Engine::Dot`].
    pub fn to_svg(&self) -> Result<String, VizError> {
        self.to_svg_with(&SvgOptions::default())
    }

    /// The graph as SVG with the given engine, direction, colouring and collapse
    /// threshold.
    pub fn to_svg_with(&self, options: &SvgOptions) -> Result<String, VizError> {
        let scene = scene::build(self, options.color, options.collapse_above);
        match options.engine {
            Engine::Embedded => Ok(draw::svg(&scene, options.rankdir)),
            Engine::Dot => graphviz::svg(&scene, options.rankdir, options.dot_timeout),
            // Whatever stops `dot` (missing, failing, out of time or output), the
            // embedded layout still draws the graph.
            Engine::Auto => match graphviz::svg(&scene, options.rankdir, options.dot_timeout) {
                Ok(svg) => Ok(svg),
                Err(_) => Ok(draw::svg(&scene, options.rankdir)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{ColorBy, Engine, NodeInfo, RankDir, SvgOptions, TaskGraph};

    fn embedded() -> SvgOptions {
        SvgOptions::default().engine(Engine::Embedded)
    }

    fn pipelines(n: usize) -> TaskGraph {
        let mut g = TaskGraph::new();
        for i in 0..n {
            let gen = g.add_node(
                NodeInfo::task(
                    format!("generate_data-{i}"),
                    "generate_data",
                    "p::generate_data",
                )
                .with_type_name("alloc::vec::Vec<f64>")
                .with_size(8_000_000),
            );
            let tr = g.add_node(NodeInfo::task(
                format!("transform_data-{i}"),
                "transform_data",
                "p::transform_data",
            ));
            g.add_edge(gen, tr, 0);
        }
        g
    }

    #[test]
    fn embedded_svg_has_a_shape_and_label_per_node() {
        let svg = pipelines(3).to_svg_with(&embedded()).unwrap();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<ellipse").count(), 6);
        // Six result boxes, one background.
        assert_eq!(svg.matches("<rect").count(), 7);
        assert_eq!(svg.matches("class=\"edge\"").count(), 9);
        assert_eq!(svg.matches(">generate_data</text>").count(), 3);
        assert_eq!(svg.matches(">Vec&lt;f64&gt;</text>").count(), 3);
        assert_eq!(svg.matches(">8.0 MB</text>").count(), 3);
        assert!(svg.contains("<title>generate_data-0\nfunction: p::generate_data"));
    }

    #[test]
    fn text_is_escaped() {
        let mut g = TaskGraph::new();
        g.add_node(NodeInfo::task(
            "<script>alert(1)</script>",
            "<script>x</script>",
            "a&b\u{0}",
        ));
        let svg = g.to_svg_with(&embedded()).unwrap();
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(svg.contains("a&amp;b\u{fffd}"));
        assert!(!svg.contains('\u{0}'));
    }

    #[test]
    fn big_graphs_are_collapsed_with_counts() {
        let g = pipelines(300);
        let svg = g.to_svg_with(&embedded()).unwrap();
        assert_eq!(svg.matches("<ellipse").count(), 2);
        assert!(svg.contains(">×300</text>"));
        assert!(svg.contains("class=\"edge-label\""));
        assert!(svg.contains(">300</text>"));
        assert!(svg.contains("600 nodes collapsed into 2 function groups"));
        let full = g.to_svg_with(&embedded().collapse_above(None)).unwrap();
        assert_eq!(full.matches("<ellipse").count(), 600);
    }

    #[test]
    fn every_direction_and_colouring_draws() {
        let g = pipelines(2);
        for rankdir in [
            RankDir::TopToBottom,
            RankDir::LeftToRight,
            RankDir::BottomToTop,
            RankDir::RightToLeft,
        ] {
            for color in [
                ColorBy::None,
                ColorBy::Function,
                ColorBy::Order,
                ColorBy::Duration,
            ] {
                let svg = g
                    .to_svg_with(&embedded().rankdir(rankdir).color(color))
                    .unwrap();
                assert_eq!(svg.matches("<ellipse").count(), 4);
            }
        }
    }

    #[test]
    fn an_empty_graph_is_an_empty_drawing() {
        let svg = TaskGraph::new().to_svg_with(&embedded()).unwrap();
        assert!(svg.contains("</svg>"));
        assert!(!svg.contains("<ellipse"));
    }
}
