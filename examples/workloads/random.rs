//! The pseudo-random numbers of the lecture's workloads, shared by `calculation.rs` and
//! `pipeline.rs` beside this file.

/// Counter-based pseudo-random numbers in [0, 1) (SplitMix64's finaliser over the seed and
/// index): value `i` of stream `seed` does not depend on the others, so a chunk can be
/// generated on its own, and NumPy can generate a whole stream in a few vector operations.
pub fn uniform(seed: u64, i: u64) -> f64 {
    let mut z = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i.wrapping_add(0x632B_E59B_D9B4_E019);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}
