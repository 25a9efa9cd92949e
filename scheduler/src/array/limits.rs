//! Sizes an array may not reach, checked from shapes and chunks while the graph is
//! built: an absurd shape or chunking must come back as an [`ArrayError`], not as a
//! capacity-overflow panic, an aborting allocation or a product that wraps around.

use std::sync::OnceLock;

use super::error::{ArrayError, Dims};

/// The most chunks one array may have. Each chunk is a task node of a few hundred
/// bytes, so 2^26 of them are already gigabytes of graph before any data.
pub(crate) const MAX_BLOCKS: usize = 1 << 26;

const ELEMENT_BYTES: usize = std::mem::size_of::<f64>();

/// Checks an array's element count, chunk count and largest chunk for `op`.
/// `blocks_per_axis` and `largest_chunk` describe the chunking per axis, so the chunk
/// lists themselves need not exist yet (they would be too big to allocate).
pub(crate) fn check(
    op: &'static str,
    shape: &[usize],
    blocks_per_axis: impl IntoIterator<Item = usize>,
    largest_chunk: impl IntoIterator<Item = usize>,
) -> Result<(), ArrayError> {
    let invalid = |why: String| ArrayError::Invalid {
        op,
        shape: Dims(shape.to_vec()),
        why,
    };
    if element_bytes(shape).is_none() {
        return Err(invalid(
            "it has more elements than an address space can hold".into(),
        ));
    }
    let blocks = blocks_per_axis
        .into_iter()
        .try_fold(1usize, usize::checked_mul)
        .filter(|&n| n <= MAX_BLOCKS);
    if blocks.is_none() {
        return Err(invalid(format!(
            "the chunks would make more than {MAX_BLOCKS} tasks; choose bigger chunks"
        )));
    }
    let chunk: Vec<usize> = largest_chunk.into_iter().collect();
    if let (Some(bytes), Some(memory)) = (element_bytes(&chunk), physical_memory()) {
        if bytes > memory {
            return Err(invalid(format!(
                "one chunk of shape {} would take {bytes} bytes, more than this machine's \
                 memory ({memory} bytes); choose smaller chunks",
                Dims(chunk)
            )));
        }
    }
    Ok(())
}

/// [`check`] for chunk lists that exist already.
pub(crate) fn check_chunks(
    op: &'static str,
    shape: &[usize],
    chunks: &[Vec<usize>],
) -> Result<(), ArrayError> {
    check(
        op,
        shape,
        chunks.iter().map(Vec::len),
        chunks.iter().map(|c| c.iter().copied().max().unwrap_or(0)),
    )
}

/// Whether the values of a whole array of `shape` can be gathered in memory, as
/// `compute` does.
pub(crate) fn check_gather(shape: &[usize]) -> Result<(), ArrayError> {
    match (element_bytes(shape), physical_memory()) {
        (Some(bytes), Some(memory)) if bytes > memory => Err(ArrayError::Invalid {
            op: "compute",
            shape: Dims(shape.to_vec()),
            why: format!(
                "the result would take {bytes} bytes, more than this machine's memory \
                 ({memory} bytes); reduce it first, or compute its chunks one by one \
                 (`to_delayed`)"
            ),
        }),
        _ => Ok(()),
    }
}

/// Bytes of `f64` elements in `shape`, unless they do not fit in `isize`. An empty
/// array takes no bytes, but its other axes count too: ndarray refuses (panics on) any
/// shape whose non-zero lengths multiply past `isize::MAX`, so `(0, 2^63)` computed to a
/// panic, and concatenating such arrays overflowed.
fn element_bytes(shape: &[usize]) -> Option<usize> {
    let bytes = shape
        .iter()
        .filter(|&&dim| dim != 0)
        .try_fold(ELEMENT_BYTES, |bytes, &dim| bytes.checked_mul(dim))
        .filter(|&bytes| isize::try_from(bytes).is_ok())?;
    Some(if shape.contains(&0) { 0 } else { bytes })
}

/// The machine's physical memory, where the system says (Linux: `/proc/meminfo`).
fn physical_memory() -> Option<usize> {
    static MEMORY: OnceLock<Option<usize>> = OnceLock::new();
    *MEMORY.get_or_init(|| {
        let info = std::fs::read_to_string("/proc/meminfo").ok()?;
        let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
        let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
        kib.checked_mul(1024)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_counts_that_overflow_are_refused() {
        assert_eq!(element_bytes(&[3, 4]), Some(96));
        assert_eq!(element_bytes(&[]), Some(8));
        assert_eq!(element_bytes(&[1 << 40, 1 << 40]), None);
        assert_eq!(element_bytes(&[usize::MAX / 8 + 1]), None);
        assert_eq!(element_bytes(&[0, 1 << 59]), Some(0));
        assert_eq!(element_bytes(&[0, 1 << 60]), None);
    }

    #[test]
    fn too_many_blocks_is_an_error_naming_the_limit() {
        let e = check("full", &[1 << 40], [1 << 40], [1]).unwrap_err();
        assert!(e.to_string().contains("more than 67108864 tasks"), "{e}");
        assert!(check("full", &[1 << 20], [1 << 20], [1]).is_ok());
    }
}
