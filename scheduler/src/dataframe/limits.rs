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

/// The most partitions `sort_values` and `set_index` sort at once. Each output partition
/// reads every input partition (its range of rows may lie in any of them), so sorting
/// `n` partitions adds `n²` task inputs: 2^13 of them make 67 million, 2^15 a billion,
/// at some tens of bytes each in the graph and its plan (an estimate, not measured):
/// gigabytes, then more memory than a machine has.
pub(crate) const MAX_SORTED_PARTITIONS: usize = 1 << 13;

/// `Ok` when `n` partitions may be sorted by `op`; otherwise an error that says why
/// and what to do.
pub(crate) fn check_sorted_partitions(op: &'static str, n: usize) -> Result<(), DataFrameError> {
    if n <= MAX_SORTED_PARTITIONS {
        return Ok(());
    }
    Err(DataFrameError::Invalid {
        op,
        why: format!(
            "sorting {n} partitions makes every output partition read every input ({} task \
             inputs); at most {MAX_SORTED_PARTITIONS} partitions are sorted at once \
             (repartition to fewer first)",
            (n as u128) * (n as u128)
        ),
    })
}
