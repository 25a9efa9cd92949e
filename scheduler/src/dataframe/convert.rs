//! The expression kinds SQL needs beyond arithmetic and comparison: `CASE` (choosing a
//! value per row), `CAST` (converting types) and `DATE_TRUNC` (rounding timestamps down
//! to a calendar unit). Their types are checked in `expr.rs`; the kernels are here.

use std::fmt;

use arrow_array::{Array, ArrayRef, BooleanArray, Int64Array};
use arrow_schema::{ArrowError, DataType, TimeUnit};
use serde::{Deserialize, Serialize};

use super::rowwise::unit_nanos;

/// The types [`Expr::Cast`](super::Expr::Cast) converts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CastType {
    /// `bool`.
    Boolean,
    /// `int64` (from a float: truncated toward zero).
    Int64,
    /// `float64`.
    Float64,
    /// `string`.
    Utf8,
    /// `datetime64[ns]` (from a string: ISO 8601, `2000-01-01` or `2000-01-01T06:00:00`).
    Timestamp,
}

impl CastType {
    /// The Arrow type of the values after the cast.
    pub fn data_type(self) -> DataType {
        match self {
            CastType::Boolean => DataType::Boolean,
            CastType::Int64 => DataType::Int64,
            CastType::Float64 => DataType::Float64,
            CastType::Utf8 => DataType::Utf8,
            CastType::Timestamp => DataType::Timestamp(TimeUnit::Nanosecond, None),
        }
    }
}

impl fmt::Display for CastType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::expr::dtype_name(&self.data_type()))
    }
}

/// The units [`Expr::DateTrunc`](super::Expr::DateTrunc) rounds down to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TruncUnit {
    Second,
    Minute,
    Hour,
    Day,
    /// The first day of the month (proleptic Gregorian calendar, UTC).
    Month,
    /// The first day of the year.
    Year,
}

impl TruncUnit {
    /// The unit named as SQL names it (`'hour'`, case-insensitive), or `None`.
    pub fn parse(name: &str) -> Option<TruncUnit> {
        Some(match name.to_ascii_lowercase().as_str() {
            "second" => TruncUnit::Second,
            "minute" => TruncUnit::Minute,
            "hour" => TruncUnit::Hour,
            "day" => TruncUnit::Day,
            "month" => TruncUnit::Month,
            "year" => TruncUnit::Year,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            TruncUnit::Second => "second",
            TruncUnit::Minute => "minute",
            TruncUnit::Hour => "hour",
            TruncUnit::Day => "day",
            TruncUnit::Month => "month",
            TruncUnit::Year => "year",
        }
    }

    /// The unit's length in nanoseconds, where it has a fixed one.
    fn fixed_nanos(self) -> Option<i64> {
        Some(match self {
            TruncUnit::Second => 1_000_000_000,
            TruncUnit::Minute => 60_000_000_000,
            TruncUnit::Hour => 3_600_000_000_000,
            TruncUnit::Day => 86_400_000_000_000,
            TruncUnit::Month | TruncUnit::Year => return None,
        })
    }
}

impl fmt::Display for TruncUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `values` converted to `to`. Arrow's cast, except that a value that does not convert
/// (`'abc'` to int64) is an error rather than a silent null.
pub(crate) fn cast(values: &ArrayRef, to: CastType) -> Result<ArrayRef, ArrowError> {
    let options = arrow_cast::CastOptions {
        safe: false,
        ..Default::default()
    };
    arrow_cast::cast_with_options(values.as_ref(), &to.data_type(), &options)
}

/// Timestamps rounded down to the start of `unit`, in their own type.
pub(crate) fn date_trunc(values: &ArrayRef, unit: TruncUnit) -> Result<ArrayRef, ArrowError> {
    let DataType::Timestamp(time_unit, _) = values.data_type() else {
        return Err(ArrowError::InvalidArgumentError(format!(
            "date_trunc of a {} value",
            values.data_type()
        )));
    };
    let per = unit_nanos(time_unit);
    let raw = arrow_cast::cast(values.as_ref(), &DataType::Int64)?;
    let raw = raw
        .as_any()
        .downcast_ref::<Int64Array>()
        .ok_or_else(|| ArrowError::CastError("timestamp as int64".into()))?;
    // A time near the type's lowest rounds down to a start before it: an error naming
    // the value, as pandas' `OutOfBoundsDatetime`, not an overflow (a panic, or in a
    // release build a wrapped time far in the future).
    let out_of_range = |t: i64| {
        ArrowError::ComputeError(format!(
            "date_trunc('{unit}'): the start of the {unit} of {t} (in the column's unit since \
             1970-01-01) is before the earliest time the column's type can hold"
        ))
    };
    let out: Int64Array = match unit.fixed_nanos() {
        // Units coarser than the column's own: a multiple of the step; finer: unchanged.
        Some(nanos) => {
            let step = (nanos / per).max(1);
            raw.iter()
                .map(|t| {
                    t.map(|t| {
                        t.div_euclid(step)
                            .checked_mul(step)
                            .ok_or_else(|| out_of_range(t))
                    })
                    .transpose()
                })
                .collect::<Result<_, _>>()?
        }
        None => {
            let per_day = 86_400_000_000_000 / per;
            raw.iter()
                .map(|t| {
                    t.map(|t| {
                        let (y, m, _) = civil_from_days(t.div_euclid(per_day));
                        let m = if unit == TruncUnit::Year { 1 } else { m };
                        days_from_civil(y, m, 1)
                            .checked_mul(per_day)
                            .ok_or_else(|| out_of_range(t))
                    })
                    .transpose()
                })
                .collect::<Result<_, _>>()?
        }
    };
    arrow_cast::cast(&out, values.data_type())
}

/// `CASE`: for each row, the value of the first branch whose condition is true (null
/// counts as false), else `otherwise`; all already of type `to`.
pub(crate) fn case(
    branches: &[(BooleanArray, ArrayRef)],
    otherwise: ArrayRef,
) -> Result<ArrayRef, ArrowError> {
    let mut out = otherwise;
    // Later branches first, so that an earlier true condition wins.
    for (mask, value) in branches.iter().rev() {
        out = arrow_select::zip::zip(mask, value, &out)?;
    }
    Ok(out)
}

/// Year, month (1..=12) and day of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for the proleptic Gregorian calendar).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The day count since 1970-01-01 of a date (the inverse of [`civil_from_days`]).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips_and_knows_leap_years() {
        for z in [-800_000, -1, 0, 1, 59, 60, 11_016, 19_000, 2_000_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        // 2000-01-01 is day 10_957; 2000 is a leap year, so day 11_016 is February 29th.
        assert_eq!(civil_from_days(10_957), (2000, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        // 1900 is not: February has 28 days.
        assert_eq!(
            civil_from_days(days_from_civil(1900, 2, 28) + 1),
            (1900, 3, 1)
        );
    }
}
