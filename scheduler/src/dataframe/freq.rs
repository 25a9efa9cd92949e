//! Pandas frequency strings (`"1s"`, `"1min"`, `"1h"`, `"1D"`) as nanoseconds.

use super::error::DataFrameError;

/// The length of `freq` in nanoseconds: an optional count then a unit (`ns`, `us`,
/// `ms`, `s`, `min` or `T`, `h` or `H`, `D` or `d`, `W`).
pub(crate) fn parse_freq(op: &'static str, freq: &str) -> Result<i64, DataFrameError> {
    let bad = |why: &str| DataFrameError::Invalid {
        op,
        why: format!("frequency {freq:?}: {why} (examples: \"1s\", \"5min\", \"1h\", \"1D\")"),
    };
    let s = freq.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (count, unit) = s.split_at(split);
    let count: i64 = if count.is_empty() {
        1
    } else {
        count.parse().map_err(|_| bad("count too large"))?
    };
    let unit_ns: i64 = match unit {
        "ns" | "N" => 1,
        "us" | "U" => 1_000,
        "ms" | "L" => 1_000_000,
        "s" | "S" => 1_000_000_000,
        "min" | "T" => 60_000_000_000,
        "h" | "H" => 3_600_000_000_000,
        "D" | "d" => 86_400_000_000_000,
        "W" => 7 * 86_400_000_000_000,
        "" => return Err(bad("no unit")),
        _ => return Err(bad("unknown unit")),
    };
    match count.checked_mul(unit_ns) {
        Some(0) => Err(bad("zero length")),
        Some(ns) => Ok(ns),
        None => Err(bad("too long")),
    }
}
