//! The fast path of `read_csv` for plain files: no quote character and no carriage
//! return anywhere (as `to_csv` writes numbers, timestamps and names without commas),
//! columns of the types CSV inference gives. Fields are then cut at every `,` and `\n`
//! in one pass over the bytes, only the columns asked for are converted (by
//! arrow-cast's parsers, those arrow-csv uses, so values are the same), and the
//! partition is built in one batch. arrow-csv's record splitter, a general state
//! machine for quoting and escapes, was most of the time of a `read_csv` + groupby.
//!
//! A file that is not plain, or a type not handled here, gives `Ok(None)` and is read by
//! arrow-csv instead: the answer is the same, only slower.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, PrimitiveBuilder, StringBuilder};
use arrow_array::types::{
    Float64Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_cast::parse::Parser;
use arrow_schema::{DataType, Field, SchemaRef, TimeUnit};

/// Bytes read from the file at a time; a line longer than this grows the buffer.
const CHUNK: usize = 256 * 1024;

/// How one column's cells become values.
enum Column {
    /// Not asked for: cut out, not converted.
    Skip,
    Utf8(StringBuilder),
    Int64(PrimitiveBuilder<Int64Type>),
    Float64(PrimitiveBuilder<Float64Type>),
    Boolean(BooleanBuilder),
    Timestamp(TimeUnit, Vec<Option<i64>>),
}

/// Why a file could not be read here.
pub(super) enum Failure {
    /// A cell that does not parse: the field, its 1-based line in the file, the text.
    Cell {
        field: Field,
        line: usize,
        text: String,
    },
    /// Anything else (I/O, header, number of fields, UTF-8), as the message to show.
    Other(String),
}

/// The file read with the columns at `projection` (all when `None`), or `None` when it
/// is not plain or holds a type this path does not convert. Its header must be
/// `expected` (the first file's, as written; the schema's names may have been made
/// unique).
pub(super) fn read(
    path: &Path,
    expected: &[String],
    schema: &SchemaRef,
    projection: Option<&[usize]>,
    read_schema: &SchemaRef,
) -> Result<Option<RecordBatch>, Failure> {
    let fields = schema.fields();
    let wanted = |i: usize| projection.is_none_or(|p| p.contains(&i));
    let mut file = std::fs::File::open(path).map_err(|e| Failure::Other(e.to_string()))?;
    let len = file.metadata().map(|m| m.len() as usize).unwrap_or(0);
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK.min(len + 1));
    let mut eof = fill(&mut file, &mut buf)?;
    // A UTF-8 byte order mark (Excel's "CSV UTF-8" starts with one) is not part of the
    // first name: the schema was inferred without it.
    if buf.starts_with(b"\xEF\xBB\xBF") {
        buf.drain(..3);
    }
    // The header: one line, the first file's names in order.
    let Some(end) = buf.iter().position(|&b| b == b'\n') else {
        return Ok(None);
    };
    if !plain(&buf[..end]) {
        return Ok(None);
    }
    let header = std::str::from_utf8(&buf[..end]).map_err(|e| Failure::Other(e.to_string()))?;
    let names: Vec<&str> = header.split(',').collect();
    if names != expected {
        return Err(Failure::Other(format!(
            "CSV header does not match the first file's: the file has `{header}`, the \
             first file `{}`",
            expected.join(",")
        )));
    }
    // Rows, estimated from the lines of the first read, only to reserve: the builders
    // grow past it, and the arrays are shrunk to their length at the end.
    let first_lines = memchr::memchr_iter(b'\n', &buf[end + 1..]).count().max(1);
    let rows_guess = if eof {
        first_lines + 1
    } else {
        let per_row = (buf.len() - end - 1) / first_lines;
        (len / per_row.max(1)).saturating_mul(51) / 50 + 16
    };
    let mut columns = Vec::with_capacity(fields.len());
    for (i, f) in fields.iter().enumerate() {
        if !wanted(i) {
            columns.push(Column::Skip);
            continue;
        }
        columns.push(match f.data_type() {
            DataType::Utf8 => {
                Column::Utf8(StringBuilder::with_capacity(rows_guess, rows_guess * 4))
            }
            DataType::Int64 => Column::Int64(PrimitiveBuilder::with_capacity(rows_guess)),
            DataType::Float64 => Column::Float64(PrimitiveBuilder::with_capacity(rows_guess)),
            DataType::Boolean => Column::Boolean(BooleanBuilder::with_capacity(rows_guess)),
            DataType::Timestamp(unit, None) => {
                Column::Timestamp(*unit, Vec::with_capacity(rows_guess))
            }
            _ => return Ok(None),
        });
    }
    let utc: arrow_array::timezone::Tz = "+00:00"
        .parse()
        .map_err(|e: arrow_schema::ArrowError| Failure::Other(e.to_string()))?;
    let mut start = end + 1;
    let mut line = 2;
    loop {
        // The whole lines in the buffer.
        let last = match buf[start..].iter().rposition(|&b| b == b'\n') {
            Some(p) => start + p + 1,
            None if eof => buf.len(),
            None => {
                buf.drain(..start);
                start = 0;
                eof = fill(&mut file, &mut buf)?;
                continue;
            }
        };
        let lines = &buf[start..last];
        if !plain(lines) {
            return Ok(None);
        }
        let text = match std::str::from_utf8(lines) {
            Ok(t) => t,
            Err(e) => {
                let at = line
                    + lines[..e.valid_up_to()]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count();
                return Err(Failure::Other(format!(
                    "invalid UTF-8 at line {at} of the file"
                )));
            }
        };
        if !rows(text, &mut line, &mut columns, fields, &utc)? {
            return Ok(None);
        }
        if eof && last == buf.len() {
            break;
        }
        buf.drain(..last);
        start = 0;
        eof = fill(&mut file, &mut buf)?;
    }
    let mut arrays: Vec<ArrayRef> = columns
        .into_iter()
        .filter_map(|c| match c {
            Column::Skip => None,
            Column::Utf8(mut b) => Some(Arc::new(b.finish()) as ArrayRef),
            Column::Int64(mut b) => Some(Arc::new(b.finish()) as ArrayRef),
            Column::Float64(mut b) => Some(Arc::new(b.finish()) as ArrayRef),
            Column::Boolean(mut b) => Some(Arc::new(b.finish()) as ArrayRef),
            Column::Timestamp(unit, v) => Some(match unit {
                TimeUnit::Second => timestamps::<TimestampSecondType>(v),
                TimeUnit::Millisecond => timestamps::<TimestampMillisecondType>(v),
                TimeUnit::Microsecond => timestamps::<TimestampMicrosecondType>(v),
                TimeUnit::Nanosecond => timestamps::<TimestampNanosecondType>(v),
            }),
        })
        .collect();
    for a in &mut arrays {
        if let Some(a) = Arc::get_mut(a) {
            a.shrink_to_fit();
        }
    }
    // The rows counted by `line` (from 2, the line after the header): a projection of no
    // columns has no array to take the count from.
    crate::dataframe::batch_with_rows(read_schema.clone(), arrays, line - 2)
        .map(Some)
        .map_err(|e| Failure::Other(e.to_string()))
}

fn timestamps<T: arrow_array::types::ArrowTimestampType>(v: Vec<Option<i64>>) -> ArrayRef {
    Arc::new(v.into_iter().collect::<arrow_array::PrimitiveArray<T>>())
}

/// Appends up to `CHUNK` more bytes of the file to `buf` (without zeroing them first);
/// true at the end of the file.
fn fill(file: &mut std::fs::File, buf: &mut Vec<u8>) -> Result<bool, Failure> {
    let got = file
        .take(CHUNK as u64)
        .read_to_end(buf)
        .map_err(|e| Failure::Other(e.to_string()))?;
    Ok(got < CHUNK)
}

/// No quote and no carriage return: every `,` separates fields and every `\n` ends a
/// row.
fn plain(bytes: &[u8]) -> bool {
    memchr::memchr2(b'"', b'\r', bytes).is_none()
}

/// Converts the rows of `text` (whole lines; the last may lack its `\n`), counting
/// `line`. False where a line is empty (arrow-csv decides what that means).
fn rows(
    text: &str,
    line: &mut usize,
    columns: &mut [Column],
    fields: &arrow_schema::Fields,
    utc: &arrow_array::timezone::Tz,
) -> Result<bool, Failure> {
    let n = columns.len();
    let bytes = text.as_bytes();
    let mut field = 0;
    let mut from = 0;
    // At each `,` or `\n` (at `i`): the cell before it. False at an empty line.
    let mut at = |i: usize, line: &mut usize| -> Result<bool, Failure> {
        let newline = bytes[i] == b'\n';
        if newline && i == from && field == 0 {
            return Ok(false);
        }
        if field < n {
            cell(
                &text[from..i],
                &mut columns[field],
                *line,
                &fields[field],
                utc,
            )?;
        }
        field += 1;
        from = i + 1;
        if newline {
            if field != n {
                return Err(wrong_count(*line, n, field));
            }
            field = 0;
            *line += 1;
        }
        Ok(true)
    };
    // Delimiters found eight bytes at a time: each word's `,` and `\n` bytes are
    // marked at once (the exact zero-byte test of "Bit Twiddling Hacks"), then walked.
    // Cells here are about 15 bytes, too short for a `memchr` call per cell to pay for
    // its setup (it was a fifth of the time).
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const ONES: u64 = 0x0101_0101_0101_0101;
    let zeros = |v: u64| !(((v & LOW).wrapping_add(LOW)) | v | LOW);
    let words = bytes.chunks_exact(8);
    let whole = bytes.len() - words.remainder().len();
    for (w, word) in words.enumerate() {
        let v = u64::from_le_bytes([
            word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7],
        ]);
        let mut marks = zeros(v ^ (ONES * u64::from(b','))) | zeros(v ^ (ONES * u64::from(b'\n')));
        while marks != 0 {
            let i = w * 8 + marks.trailing_zeros() as usize / 8;
            marks &= marks - 1;
            if !at(i, line)? {
                return Ok(false);
            }
        }
    }
    for (i, &b) in bytes.iter().enumerate().skip(whole) {
        if (b == b',' || b == b'\n') && !at(i, line)? {
            return Ok(false);
        }
    }
    if from < bytes.len() || field > 0 {
        // The file's last line, without its `\n`: its last cell.
        if field < n {
            cell(
                &text[from..],
                &mut columns[field],
                *line,
                &fields[field],
                utc,
            )?;
        }
        field += 1;
        if field != n {
            return Err(wrong_count(*line, n, field));
        }
        *line += 1;
    }
    Ok(true)
}

fn wrong_count(line: usize, expected: usize, got: usize) -> Failure {
    Failure::Other(format!(
        "incorrect number of fields at line {line} of the file, expected {expected} got {got}"
    ))
}

/// One cell into its column; an empty cell is null, as in arrow-csv.
fn cell(
    s: &str,
    column: &mut Column,
    line: usize,
    field: &Field,
    utc: &arrow_array::timezone::Tz,
) -> Result<(), Failure> {
    let bad = || Failure::Cell {
        field: field.clone(),
        line,
        text: s.to_string(),
    };
    match column {
        Column::Skip => {}
        Column::Utf8(b) => {
            if s.is_empty() {
                b.append_null()
            } else {
                b.append_value(s)
            }
        }
        Column::Float64(b) => {
            if s.is_empty() {
                b.append_null()
            } else {
                b.append_value(Float64Type::parse(s).ok_or_else(bad)?)
            }
        }
        Column::Int64(b) => {
            if s.is_empty() {
                b.append_null()
            } else {
                b.append_value(Int64Type::parse(s).ok_or_else(bad)?)
            }
        }
        Column::Boolean(b) => {
            if s.is_empty() {
                b.append_null()
            } else if s.eq_ignore_ascii_case("true") {
                b.append_value(true)
            } else if s.eq_ignore_ascii_case("false") {
                b.append_value(false)
            } else {
                return Err(bad());
            }
        }
        Column::Timestamp(unit, v) => {
            if s.is_empty() {
                v.push(None);
            } else {
                let t = arrow_cast::parse::string_to_datetime(utc, s).map_err(|_| bad())?;
                v.push(Some(match unit {
                    TimeUnit::Second => t.timestamp(),
                    TimeUnit::Millisecond => t.timestamp_millis(),
                    TimeUnit::Microsecond => t.timestamp_micros(),
                    TimeUnit::Nanosecond => t.timestamp_nanos_opt().ok_or_else(bad)?,
                }));
            }
        }
    }
    Ok(())
}
