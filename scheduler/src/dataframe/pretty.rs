//! Text tables: a batch as pandas prints a frame, and a lazy dataframe as Dask prints
//! its structure.

use std::fmt;

use arrow_array::{Array, RecordBatch};
use arrow_cast::display::{ArrayFormatter, FormatOptions};

use super::expr::dtype_name;
use super::Frame;

/// Rows shown at each end of a long table (pandas shows 5 and 5 past 60 rows).
const EDGE_ROWS: usize = 5;
const MAX_ROWS: usize = 60;

/// `batch` as a text table, as pandas prints a frame: a row number column, right-aligned
/// cells, nulls as `<NA>`, and for more than 60 rows the first and last 5 with `...`
/// between and the size under it. A batch of no columns (every column dropped) prints
/// as pandas prints an empty-columns frame: `Empty DataFrame`, `Columns: []` and its
/// row numbers (the first and last 5 past 60 rows).
///
/// ```
/// use std::sync::Arc;
/// use dask::dataframe::arrow::{array::{Float64Array, StringArray}, record_batch::RecordBatch};
/// let batch = RecordBatch::try_from_iter([
///     ("name", Arc::new(StringArray::from(vec!["Alice", "Bob"])) as _),
///     ("x", Arc::new(Float64Array::from(vec![Some(0.5), None])) as _),
/// ]).unwrap();
/// assert_eq!(dask::dataframe::pretty(&batch), "    name     x\n0  Alice   0.5\n1    Bob  <NA>\n");
/// ```
pub fn pretty(batch: &RecordBatch) -> String {
    let n = batch.num_rows();
    let rows: Vec<Option<usize>> = if n > MAX_ROWS {
        (0..EDGE_ROWS)
            .map(Some)
            .chain([None])
            .chain((n - EDGE_ROWS..n).map(Some))
            .collect()
    } else {
        (0..n).map(Some).collect()
    };
    if batch.num_columns() == 0 {
        // A table of row numbers alone would print as a blank header over a list.
        let index: Vec<String> = rows
            .iter()
            .map(|r| r.map_or("...".to_string(), |r| r.to_string()))
            .collect();
        return format!(
            "Empty DataFrame\nColumns: []\nIndex: [{}]\n",
            index.join(", ")
        );
    }
    let options = FormatOptions::default().with_null("<NA>");
    let mut table: Vec<Vec<String>> = Vec::new();
    let mut header = vec![String::new()];
    header.extend(batch.schema().fields().iter().map(|f| f.name().clone()));
    table.push(header);
    let formatters: Vec<Option<ArrayFormatter<'_>>> = batch
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).ok())
        .collect();
    for row in &rows {
        let mut line = vec![row.map_or("...".to_string(), |r| r.to_string())];
        for (c, f) in formatters.iter().enumerate() {
            line.push(match (row, f) {
                (None, _) => "...".to_string(),
                (Some(r), Some(f)) => f.value(*r).to_string(),
                (Some(r), None) => format!("{:?}", batch.column(c).slice(*r, 1)),
            });
        }
        table.push(line);
    }
    let mut out = render(&table);
    if n > MAX_ROWS {
        out.push_str(&format!("\n[{n} rows x {} columns]\n", batch.num_columns()));
    }
    out
}

/// Right-aligns `table`'s cells in columns; the first column is left-aligned.
fn render(table: &[Vec<String>]) -> String {
    let width = table.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..width)
        .map(|c| {
            table
                .iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Padded by hand: `format!`'s width stops at 65,535, and a longer cell or column
    // name panicked there.
    let pad = |line: &mut String, cell: &str, width: usize| {
        line.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
    };
    let mut out = String::new();
    for row in table {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c == 0 {
                line.push_str(cell);
                pad(&mut line, cell, widths[0]);
            } else {
                line.push_str("  ");
                pad(&mut line, cell, widths[c]);
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The lazy structure, as Dask prints a dataframe before computing it.
pub(crate) fn structure(f: &mut fmt::Formatter<'_>, frame: &Frame) -> fmt::Result {
    let nparts = frame.base.len();
    let index = frame.index.as_deref();
    let columns: Vec<_> = frame
        .schema
        .fields()
        .iter()
        .filter(|c| Some(c.name().as_str()) != index)
        .collect();
    let labels = division_labels(frame);
    let mut table = Vec::new();
    let mut header = vec![String::new()];
    header.extend(columns.iter().map(|c| c.name().clone()));
    table.push(header);
    let mut npart = vec![format!("npartitions={nparts}")];
    npart.extend(columns.iter().map(|_| String::new()));
    table.push(npart);
    let shown: Vec<Option<usize>> = if labels.len() > 4 {
        vec![
            Some(0),
            Some(1),
            None,
            Some(labels.len() - 2),
            Some(labels.len() - 1),
        ]
    } else {
        (0..labels.len()).map(Some).collect()
    };
    for (i, row) in shown.iter().enumerate() {
        let mut line = vec![row.map_or("...".to_string(), |r| labels[r].clone())];
        line.extend(columns.iter().map(|c| {
            if i == 0 {
                dtype_name(c.data_type())
            } else {
                "...".to_string()
            }
        }));
        table.push(line);
    }
    f.write_str(&format!("Dask DataFrame Structure:\n{}", render(&table)))?;
    let steps = frame.ops.len() + 1;
    let name = frame
        .ops
        .last()
        .map(|step| step.0.name())
        .unwrap_or(frame.label);
    write!(
        f,
        "Dask Name: {name}, {steps} expression{}",
        if steps == 1 { "" } else { "s" }
    )
}

/// The index labels of the structure: divisions when known (dates without a time of
/// day shown as dates, as pandas does), blanks otherwise.
fn division_labels(frame: &Frame) -> Vec<String> {
    let Some(div) = &frame.divisions else {
        return vec![String::new(); frame.base.len() + 1];
    };
    let options = FormatOptions::default();
    let Ok(fmt) = ArrayFormatter::try_new(div.as_ref(), &options) else {
        return vec![String::new(); div.len()];
    };
    let labels: Vec<String> = (0..div.len()).map(|i| fmt.value(i).to_string()).collect();
    if labels.iter().all(|l| l.ends_with("T00:00:00")) {
        labels
            .iter()
            .map(|l| l.trim_end_matches("T00:00:00").to_string())
            .collect()
    } else {
        labels
    }
}
