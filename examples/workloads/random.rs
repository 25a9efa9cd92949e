//! The pseudo-random numbers of the lecture's workloads, shared by `calculation.rs` and
//! `pipeline.rs` beside this file.

/// The step between values: the golden ratio's conjugate.
const STEP: f64 = 0.618_033_988_749_894_9;
/// Spreads the streams' starting points: √2 − 1.
const STREAM: f64 = 0.414_213_562_373_095_1;

/// Value `i` of stream `seed`, in [0, 1): the fractional part of `i · STEP + start`, a
/// Weyl sequence (evenly spread over [0, 1), not a statistical generator). It stands in
/// for the lecture's `np.random.random` because both sides of the comparison with NumPy
/// must compute the same values, bit for bit, and NumPy makes a whole stream in a few
/// vector passes (`x = arange * STEP + start; x -= floor(x)`: 40 ms for 10M values, less
/// than `np.random.random`'s 50 ms), where a hashing generator cost it 430 ms, a third of
/// `calculation`'s time. Every step is exact or correctly rounded, and Rust does not fuse
/// the multiply and the add, so both sides agree exactly.
pub fn uniform(seed: u64, i: u64) -> f64 {
    let start = seed as f64 * STREAM;
    let start = start - start.floor();
    let x = i as f64 * STEP + start;
    x - x.floor()
}
