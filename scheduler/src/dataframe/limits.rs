//! How many partitions a dataframe may have: an absurd count (`repartition(usize::MAX)`,
//! a `timeseries` cut every nanosecond) must come back as a [`DataFrameError`] while the
//! graph is built, not as a capacity-overflow panic or an endless build.

use super::error::DataFrameError;

/// The most partitions one dataframe may have. Each is a task node (and often several)
/// and an empty batch: 2^24 of them took 13.5 GB and a minute and a half to build, 2^20
/// take under a gigabyte. Dask's advice is partitions of about 100 MB.
pub(crate) const MAX_PARTITIONS: usize = 1 << 20;

/// `Ok` when `n` partitions are allowed; otherwise an error of `op` that says what
/// asked for them (`what`, the words before the count: "asked for", "split_out asks
/// for") and the limit.
pub(crate) fn check_partitions(
    op: &'static str,
    what: &str,
    n: u128,
) -> Result<(), DataFrameError> {
    if n <= MAX_PARTITIONS as u128 {
        return Ok(());
    }
    Err(DataFrameError::Invalid {
        op,
        why: format!("{what} {n} partitions; at most {MAX_PARTITIONS} are allowed"),
    })
}
