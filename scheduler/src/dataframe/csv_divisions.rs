//! The divisions of CSV files read with an index column: each file's first value and
//! the last file's last value, parsed from the ends of the files (a few lines each, not
//! the whole file), and the check each partition's task makes that its file keeps to
//! them.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{SchemaRef, SortOptions};

/// Bytes read from the end of the last file to find its last line.
const TAIL_BYTES: u64 = 64 * 1024;

/// The divisions, when every file has a data row and the first values are in order.
pub(super) fn from_file_ends(
    files: &[PathBuf],
    schema: &SchemaRef,
    index: &str,
) -> Option<ArrayRef> {
    let at = schema.index_of(index).ok()?;
    let mut values = Vec::with_capacity(files.len() + 1);
    let mut header = String::new();
    for file in files {
        let mut reader = BufReader::new(std::fs::File::open(file).ok()?);
        header.clear();
        reader.read_line(&mut header).ok()?;
        let mut first = String::new();
        reader.read_line(&mut first).ok()?;
        values.push(parse_row(&header, &first, schema, at)?);
    }
    let last = last_line(files.last()?)?;
    values.push(parse_row(&header, &last, schema, at)?);
    let refs: Vec<&dyn Array> = values.iter().map(|a| a.as_ref()).collect();
    let all = arrow_select::concat::concat(&refs).ok()?;
    if all.null_count() > 0 {
        return None;
    }
    let cmp =
        arrow_ord::ord::make_comparator(all.as_ref(), all.as_ref(), SortOptions::default()).ok()?;
    let n = all.len();
    // Strictly increasing first values; the last value at or after the last first value.
    let ordered = (1..n - 1).all(|i| cmp(i - 1, i).is_lt()) && cmp(n - 2, n - 1).is_le();
    ordered.then_some(all)
}

/// The value of column `at` in one CSV line, parsed as the schema says.
fn parse_row(header: &str, line: &str, schema: &SchemaRef, at: usize) -> Option<ArrayRef> {
    if line.trim().is_empty() {
        return None;
    }
    let text = format!("{}\n{}\n", header.trim_end(), line.trim_end());
    let mut reader = arrow_csv::ReaderBuilder::new(schema.clone())
        .with_header(true)
        .build(text.as_bytes())
        .ok()?;
    let batch: RecordBatch = reader.next()?.ok()?;
    (batch.num_rows() == 1).then(|| batch.column(at).clone())
}

/// The last non-empty line of a file (not its header).
fn last_line(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let from = len.saturating_sub(TAIL_BYTES);
    file.seek(SeekFrom::Start(from)).ok()?;
    let mut tail = String::new();
    file.read_to_string(&mut tail).ok()?;
    let mut lines = tail.lines().filter(|l| !l.trim().is_empty());
    let last = lines.next_back()?;
    // A file whose only line is its header has no data row.
    let whole_file = from == 0;
    if whole_file && tail.lines().filter(|l| !l.trim().is_empty()).count() < 2 {
        return None;
    }
    Some(last.to_string())
}

/// What a partition's task checks: its index sorted and within `[lo, hi)` (`[lo, hi]`
/// for the last file).
pub(super) struct Check {
    pub(super) index: String,
    pub(super) lo: ArrayRef,
    pub(super) hi: ArrayRef,
    pub(super) last: bool,
}

impl Check {
    pub(super) fn holds(&self, path: &Path, batch: &RecordBatch) -> Result<(), String> {
        let fail = |why: String| {
            Err(format!(
                "{}: {why}; the divisions read from the files' first and last rows assume \
                 files sorted by `{}`, each after the previous one: read without `index` \
                 and call `set_index`",
                path.display(),
                self.index
            ))
        };
        let column = batch
            .column_by_name(&self.index)
            .ok_or_else(|| format!("{}: no column `{}`", path.display(), self.index))?;
        let n = column.len();
        if column.null_count() > 0 {
            return fail(format!("the index `{}` has a missing value", self.index));
        }
        let own = arrow_ord::ord::make_comparator(
            column.as_ref(),
            column.as_ref(),
            SortOptions::default(),
        )
        .map_err(|e| e.to_string())?;
        if let Some(i) = (1..n).find(|&i| own(i - 1, i).is_gt()) {
            return fail(format!("the index is not sorted at data row {}", i + 1));
        }
        if n == 0 {
            return Ok(());
        }
        let to_lo = arrow_ord::ord::make_comparator(
            column.as_ref(),
            self.lo.as_ref(),
            SortOptions::default(),
        )
        .map_err(|e| e.to_string())?;
        let to_hi = arrow_ord::ord::make_comparator(
            column.as_ref(),
            self.hi.as_ref(),
            SortOptions::default(),
        )
        .map_err(|e| e.to_string())?;
        let beyond = if self.last {
            to_hi(n - 1, 0).is_gt()
        } else {
            to_hi(n - 1, 0).is_ge()
        };
        if to_lo(0, 0).is_lt() || beyond {
            return fail(
                "the index leaves the range between this file's first row and \
                         the next file's"
                    .to_string(),
            );
        }
        Ok(())
    }
}
