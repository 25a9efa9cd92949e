//! `DataFrame::explain`: the lazy plan as text, before anything runs. The dataframe's
//! metadata (partitions, index, divisions, columns), the row-wise steps still pending
//! (fused into one task per partition when it runs), and the graph's stages in order:
//! how many tasks each has, and for a tree reduction how many levels it merges in.

use std::collections::HashMap;
use std::fmt::Write;

use super::expr::dtype_name;
use super::rowwise::RowOp;
use super::DataFrame;
use crate::{Error, NodeKind};

/// One stage of the graph: the nodes of one name.
struct Stage {
    name: String,
    tasks: usize,
    values: usize,
    /// The longest chain of nodes of this name (a tree's levels).
    levels: usize,
    /// Where the stage starts: its nodes' smallest depth in the graph.
    depth: usize,
}

impl DataFrame {
    /// The lazy plan as text (as Dask's `explain`): metadata, the pending row-wise steps
    /// fused into each partition's task, and the graph's stages with their task counts
    /// and tree levels. Runs nothing; an invalid dataframe gives its error, as
    /// [`compute`](Self::compute) would.
    ///
    /// ```
    /// use dask::dataframe::{agg, col, lit};
    /// use dask::datasets::{timeseries, TimeseriesOptions};
    ///
    /// let df = timeseries(TimeseriesOptions { freq: "1h".into(), ..Default::default() });
    /// let plan = df
    ///     .filter(col("y").gt(lit(0.0)))
    ///     .groupby(["name"])
    ///     .agg([agg::sum("x")])
    ///     .explain()
    ///     .unwrap();
    /// assert!(plan.contains("groupby-chunk: 30 tasks"));
    /// assert!(plan.contains("groupby-combine: 5 tasks, a tree of 2 levels"));
    /// assert!(df.select(["nope"]).explain().is_err());
    /// ```
    pub fn explain(&self) -> Result<String, Error> {
        let frame = self.frame()?;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "DataFrame: {} partition{}, index {}, divisions {}",
            frame.base.len(),
            if frame.base.len() == 1 { "" } else { "s" },
            frame
                .index
                .as_deref()
                .map_or("none".to_string(), |ix| format!("`{ix}`")),
            if frame.divisions.is_some() {
                "known"
            } else {
                "unknown"
            }
        );
        let columns: Vec<String> = frame
            .schema
            .fields()
            .iter()
            .map(|f| format!("{}: {}", f.name(), dtype_name(f.data_type())))
            .collect();
        let _ = writeln!(out, "columns: {}", columns.join(", "));
        if frame.ops.is_empty() {
            let _ = writeln!(out, "pending row-wise steps: none");
        } else {
            let _ = writeln!(
                out,
                "pending row-wise steps, fused into one task per partition:"
            );
            for step in frame.ops.iter() {
                let _ = writeln!(out, "  {}", describe(&step.0));
            }
        }
        let stages = stages(self);
        let total: usize = stages.iter().map(|s| s.tasks).sum();
        let _ = writeln!(out, "graph: {total} tasks, by stage in order:");
        for s in &stages {
            let mut line = format!("  {}: ", s.name);
            if s.tasks > 0 {
                line += &format!("{} task{}", s.tasks, if s.tasks == 1 { "" } else { "s" });
            }
            if s.values > 0 {
                if s.tasks > 0 {
                    line += ", ";
                }
                line += &format!(
                    "{} value{} (held in memory)",
                    s.values,
                    if s.values == 1 { "" } else { "s" }
                );
            }
            if s.levels > 1 {
                line += &format!(", a tree of {} levels", s.levels);
            }
            let _ = writeln!(out, "{line}");
        }
        Ok(out)
    }
}

fn describe(op: &RowOp) -> String {
    match op {
        RowOp::Filter(e) => format!("filter {e}"),
        RowOp::Select(c) => format!("select {}", c.join(", ")),
        RowOp::WithColumn(name, e) => format!("with_column {name} = {e}"),
        RowOp::Drop(c) => format!("drop {}", c.join(", ")),
        RowOp::Rename(pairs) => format!(
            "rename {}",
            pairs
                .iter()
                .map(|(a, b)| format!("{a} -> {b}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        RowOp::FloorTime { column, every, .. } => {
            format!("bin {column} to multiples of {every} ns")
        }
    }
}

/// The graph's nodes grouped by name, in order of depth.
fn stages(df: &DataFrame) -> Vec<Stage> {
    let graph = crate::graph(df);
    let ids: Vec<_> = graph.nodes().map(|(id, _)| id).collect();
    let mut depth: HashMap<usize, usize> = HashMap::new();
    let mut level: HashMap<usize, usize> = HashMap::new();
    // Depths by repeated relaxation in node order: the plan lists nodes after their
    // dependencies, so one pass settles them; a second pass guards the assumption.
    for _ in 0..2 {
        for &id in &ids {
            let name = &graph.node(id).name;
            let (mut d, mut l) = (0, 1);
            for dep in graph.dependencies(id) {
                d = d.max(depth.get(&dep.index()).copied().unwrap_or(0) + 1);
                if &graph.node(dep).name == name {
                    l = l.max(level.get(&dep.index()).copied().unwrap_or(1) + 1);
                }
            }
            depth.insert(id.index(), d);
            level.insert(id.index(), l);
        }
    }
    let mut stages: Vec<Stage> = Vec::new();
    for &id in &ids {
        let node = graph.node(id);
        let at = match stages.iter().position(|s| s.name == node.name) {
            Some(i) => i,
            None => {
                stages.push(Stage {
                    name: node.name.clone(),
                    tasks: 0,
                    values: 0,
                    levels: 1,
                    depth: usize::MAX,
                });
                stages.len() - 1
            }
        };
        let s = &mut stages[at];
        match node.kind {
            NodeKind::Task => s.tasks += 1,
            NodeKind::Value => s.values += 1,
        }
        s.levels = s.levels.max(level[&id.index()]);
        s.depth = s.depth.min(depth[&id.index()]);
    }
    stages.sort_by_key(|s| s.depth);
    stages
}
