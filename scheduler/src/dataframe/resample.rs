//! `resample(rule)`: time bins of the datetime index, aggregated per bin. Bins are a
//! grouped aggregation keyed by the index rounded down to the rule (aligned to the
//! epoch, which for rules dividing a day is pandas' default `origin="start_day"`), so a
//! bin that straddles partitions merges exactly in the combine tree.

use super::error::DataFrameError;
use super::freq::parse_freq;
use super::groupby::{Agg, AggFunc};
use super::rowwise::RowOp;
use super::DataFrame;

/// The bin column while the aggregation runs; renamed to the index after.
const BIN: &str = "__dask_resample_bin";

/// The rows per bin, counted to find the bins of a frame with no column but its index
/// (see `Resample::aggregate`), dropped after.
const BIN_ROWS: &str = "__dask_resample_rows";

/// A dataframe binned by time, waiting for its aggregate (Dask's `Resampler`).
#[derive(Clone, Debug)]
pub struct Resample {
    frame: DataFrame,
    rule: String,
}

impl DataFrame {
    /// Bins the rows by their datetime index into `rule`-long bins (`"1h"`, `"15min"`,
    /// `"1D"`): every non-index column is aggregated per bin. The result is one
    /// partition indexed by the bin start, sorted; bins without rows are left out. A
    /// frame of no column but its index gives the bins alone, as pandas does.
    pub fn resample(&self, rule: &str) -> Resample {
        Resample {
            frame: self.clone(),
            rule: rule.to_string(),
        }
    }
}

macro_rules! resample_aggs {
    ($($(#[$doc:meta])* $name:ident => $func:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(&self) -> DataFrame {
            self.aggregate(AggFunc::$func)
        }
    )*};
}

impl Resample {
    fn aggregate(&self, func: AggFunc) -> DataFrame {
        let op = "resample";
        if self.frame.error().is_some() {
            return self.frame.clone();
        }
        let Some(index) = self.frame.index().map(str::to_string) else {
            return DataFrame::invalid(DataFrameError::Invalid {
                op,
                why: "the dataframe has no index; resample needs a datetime index".into(),
            });
        };
        let every = match parse_freq(op, &self.rule) {
            Ok(ns) => ns,
            Err(e) => return DataFrame::invalid(e),
        };
        let binned = self.frame.then(RowOp::FloorTime {
            column: index.clone(),
            every,
            name: BIN.into(),
        });
        let aggs: Vec<Agg> = self
            .frame
            .columns()
            .into_iter()
            .map(|c| Agg {
                func,
                column: c,
                alias: None,
            })
            .collect();
        if aggs.is_empty() {
            // Only the index: pandas gives the bins with rows and no columns. The rows
            // of each bin are counted, which finds the bins, and the count dropped.
            let count = Agg {
                func: AggFunc::Count,
                column: index.clone(),
                alias: Some(BIN_ROWS.into()),
            };
            return binned
                .groupby([BIN])
                .agg([count])
                .drop([BIN_ROWS])
                .rename([(BIN, index.as_str())]);
        }
        binned
            .groupby([BIN])
            .agg(aggs)
            .rename([(BIN, index.as_str())])
    }

    resample_aggs! {
        /// The mean per bin.
        mean => Mean;
        /// The sum per bin.
        sum => Sum;
        /// The smallest value per bin.
        min => Min;
        /// The largest value per bin.
        max => Max;
        /// The values that are not null per bin.
        count => Count;
        /// The first value per bin.
        first => First;
        /// The last value per bin.
        last => Last;
        /// The sample standard deviation per bin.
        std => Std;
    }
}
