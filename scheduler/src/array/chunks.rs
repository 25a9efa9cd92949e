//! Shapes and chunk sizes: how an array is cut into blocks.

use super::error::{ArrayError, Dims};
use super::limits;

/// An array's shape: `usize` for 1-D, `[usize; N]` or `Vec<usize>` for N-D.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Shape(pub Vec<usize>);

impl From<usize> for Shape {
    fn from(n: usize) -> Self {
        Shape(vec![n])
    }
}

impl<const N: usize> From<[usize; N]> for Shape {
    fn from(dims: [usize; N]) -> Self {
        Shape(dims.to_vec())
    }
}

impl From<Vec<usize>> for Shape {
    fn from(dims: Vec<usize>) -> Self {
        Shape(dims)
    }
}

impl From<&[usize]> for Shape {
    fn from(dims: &[usize]) -> Self {
        Shape(dims.to_vec())
    }
}

/// How to cut an array into chunks.
///
/// - A size (`100_000`, `[1_000, 1_000]`, `vec![..]`): chunks of that size along each
///   axis (one size applies to every axis), the last chunk of an axis taking the rest.
/// - Explicit sizes per axis (`vec![vec![3, 3, 4]]`), which must add up to the shape.
/// - [`Chunks::Auto`]: chosen from the shape and the pool size. Each chunk aims at
///   about 4 MiB (8 bytes per `f64`): large enough that the cost of a task (a few
///   microseconds) is lost in its work, small enough to fit a core's cache a few times
///   over and to keep memory low. Arrays under 4 MiB per worker are still cut into
///   about 4 chunks per worker (no chunk under 256 KiB), so that every worker has work
///   and one slow chunk does not hold up the rest. Dask's 128 MiB default would make a
///   single chunk of a 10-million-element array, and no parallelism. Chunks are kept
///   roughly square in N-D, and even along each axis.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Chunks {
    /// Chosen by the library; see the type's documentation.
    #[default]
    Auto,
    /// One chunk size per axis (or one for all axes).
    Size(Vec<usize>),
    /// Every chunk's size along every axis.
    Explicit(Vec<Vec<usize>>),
}

impl From<usize> for Chunks {
    fn from(n: usize) -> Self {
        Chunks::Size(vec![n])
    }
}

impl<const N: usize> From<[usize; N]> for Chunks {
    fn from(sizes: [usize; N]) -> Self {
        Chunks::Size(sizes.to_vec())
    }
}

impl From<Vec<usize>> for Chunks {
    fn from(sizes: Vec<usize>) -> Self {
        Chunks::Size(sizes)
    }
}

impl From<Vec<Vec<usize>>> for Chunks {
    fn from(sizes: Vec<Vec<usize>>) -> Self {
        Chunks::Explicit(sizes)
    }
}

impl From<&[Vec<usize>]> for Chunks {
    fn from(sizes: &[Vec<usize>]) -> Self {
        Chunks::Explicit(sizes.to_vec())
    }
}

/// Bytes an automatic chunk aims at.
const AUTO_TARGET_BYTES: usize = 4 << 20;
/// No automatic chunk is cut smaller than this to make more of them.
const AUTO_MIN_BYTES: usize = 256 << 10;
/// Chunks per worker that automatic chunking tries to give small arrays.
const AUTO_CHUNKS_PER_WORKER: usize = 4;

impl Chunks {
    /// The chunk sizes along each axis for `shape`, or why they do not fit.
    pub(crate) fn resolve(
        &self,
        op: &'static str,
        shape: &[usize],
    ) -> Result<Vec<Vec<usize>>, ArrayError> {
        let bad = |chunks: Vec<Vec<usize>>, why: String| ArrayError::BadChunks {
            op,
            shape: Dims(shape.to_vec()),
            chunks,
            why,
        };
        match self {
            Chunks::Auto => {
                limits::check(op, shape, [], [])?;
                let sizes = auto_sizes(shape, workers());
                split_checked(op, shape, &sizes)
            }
            Chunks::Size(sizes) => {
                let sizes: Vec<usize> = match sizes.len() {
                    1 => vec![sizes[0]; shape.len()],
                    n if n == shape.len() => sizes.clone(),
                    n => {
                        return Err(bad(
                            vec![sizes.clone()],
                            format!("{n} chunk sizes for {} axes", shape.len()),
                        ))
                    }
                };
                if let Some(axis) = sizes.iter().position(|&s| s == 0) {
                    return Err(bad(vec![sizes], format!("chunk size 0 on axis {axis}")));
                }
                split_checked(op, shape, &sizes)
            }
            Chunks::Explicit(per_axis) => {
                if per_axis.len() != shape.len() {
                    return Err(bad(
                        per_axis.clone(),
                        format!("{} axes of chunks for {} axes", per_axis.len(), shape.len()),
                    ));
                }
                for (axis, (sizes, &dim)) in per_axis.iter().zip(shape).enumerate() {
                    // Checked: sizes that wrap around to the axis length passed, and the
                    // chunk memory check that follows then overflowed too (an abort
                    // allocating the chunk, or a hang).
                    let total = sizes.iter().try_fold(0usize, |t, &s| t.checked_add(s));
                    if total != Some(dim) {
                        let total =
                            total.map_or("more than a usize holds".into(), |t| t.to_string());
                        return Err(bad(
                            per_axis.clone(),
                            format!("the sizes on axis {axis} add up to {total}, not {dim}"),
                        ));
                    }
                    if sizes.is_empty() || (dim > 0 && sizes.contains(&0)) {
                        return Err(bad(
                            per_axis.clone(),
                            format!("axis {axis} has an empty chunk list or a chunk of size 0"),
                        ));
                    }
                }
                limits::check_chunks(op, shape, per_axis)?;
                Ok(per_axis.clone())
            }
        }
    }
}

/// Cuts every axis of `shape` into chunks of its size in `sizes`, after checking that
/// the result stays within [`limits`] (before the chunk lists are allocated).
fn split_checked(
    op: &'static str,
    shape: &[usize],
    sizes: &[usize],
) -> Result<Vec<Vec<usize>>, ArrayError> {
    limits::check(
        op,
        shape,
        shape
            .iter()
            .zip(sizes)
            .map(|(&dim, &size)| dim.div_ceil(size).max(1)),
        shape.iter().zip(sizes).map(|(&dim, &size)| dim.min(size)),
    )?;
    Ok(shape
        .iter()
        .zip(sizes)
        .map(|(&dim, &size)| even_split(dim, size))
        .collect())
}

/// Chunks of `size` along an axis of length `dim`, the last one taking the rest; an
/// empty axis has one empty chunk.
fn even_split(dim: usize, size: usize) -> Vec<usize> {
    if dim == 0 {
        return vec![0];
    }
    let mut out = vec![size; dim / size];
    if !dim.is_multiple_of(size) {
        out.push(dim % size);
    }
    out
}

/// The worker count of the default scheduler.
fn workers() -> usize {
    match crate::Config::default().effective_scheduler() {
        crate::Scheduler::Threads(n) => n.max(1),
        _ => 1,
    }
}

/// `Chunks::Auto` for `f64` elements and `workers` workers (see [`Chunks`]).
#[cfg(test)]
pub(crate) fn auto_chunks(shape: &[usize], workers: usize) -> Vec<Vec<usize>> {
    let sizes = auto_sizes(shape, workers);
    shape
        .iter()
        .zip(sizes)
        .map(|(&dim, size)| even_split(dim, size))
        .collect()
}

/// The chunk size along each axis that `Chunks::Auto` picks; the shape's element count
/// fits in `usize` (checked by the caller).
fn auto_sizes(shape: &[usize], workers: usize) -> Vec<usize> {
    let total: usize = shape.iter().product();
    let bytes = total.saturating_mul(8);
    let by_size = bytes.div_ceil(AUTO_TARGET_BYTES);
    let for_workers = (AUTO_CHUNKS_PER_WORKER * workers).min(bytes / AUTO_MIN_BYTES);
    let count = by_size.max(for_workers).max(1);
    let mut per_chunk = total.div_ceil(count).max(1) as f64;
    // Axes shorter than an even share take their whole length; the rest split evenly.
    let mut order: Vec<usize> = (0..shape.len()).collect();
    order.sort_by_key(|&a| shape[a]);
    let mut sizes = vec![0usize; shape.len()];
    for (done, &axis) in order.iter().enumerate() {
        let left = (shape.len() - done) as f64;
        let side = per_chunk.powf(1.0 / left).round().max(1.0) as usize;
        let size = side.min(shape[axis]).max(1);
        sizes[axis] = size;
        per_chunk = (per_chunk / size as f64).max(1.0);
    }
    shape
        .iter()
        .zip(sizes)
        .map(|(&dim, size)| {
            if dim == 0 {
                return 1;
            }
            let blocks = dim.div_ceil(size);
            dim.div_ceil(blocks)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_cuts_the_lectures_array_into_several_chunks_per_worker() {
        let chunks = auto_chunks(&[10_000_000], 2);
        assert_eq!(chunks[0].len(), 20);
        assert!(chunks[0].iter().all(|&c| c * 8 <= 4 << 20));
        assert_eq!(chunks[0].iter().sum::<usize>(), 10_000_000);
        // A small array still gets work for every worker.
        assert_eq!(auto_chunks(&[1_000_000], 2)[0].len(), 8);
        // 2-D chunks are square-ish.
        let two = auto_chunks(&[10_000, 10_000], 2);
        assert_eq!(two[0].len(), two[1].len());
        assert_eq!(auto_chunks(&[0], 2), vec![vec![0]]);
    }

    #[test]
    fn explicit_chunks_must_add_up() {
        let err = Chunks::from(vec![vec![3, 3]])
            .resolve("from_array", &[10])
            .unwrap_err();
        assert!(err.to_string().contains("add up to 6, not 10"), "{err}");
        assert_eq!(
            Chunks::from(4).resolve("x", &[10]).unwrap(),
            vec![vec![4, 4, 2]]
        );
    }
}
