//! Random arrays from a counter-based generator: element `i` of an array with seed `s`
//! is a pure function of `(s, i)` (splitmix64's output for position `i` of stream `s`),
//! so the values do not depend on the chunking, blocks are generated independently on
//! any worker, and a seeded array's tasks are pure (Dask's `RandomState` draws per
//! block and cannot promise this: dask#1684).

use std::hash::BuildHasher;

use serde::{Deserialize, Serialize};

use super::blockwise::{Expr, Generator, Scalar};
use super::chunks::{Chunks, Shape};
use super::error::{ArrayError, Dims};
use super::simd::{vectorized, Kernel};
use super::Array;

/// Which values a random array holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Distribution {
    /// Uniform in `[0, 1)`.
    Uniform { seed: u64 },
    /// Normal with this mean and standard deviation (Box-Muller).
    Normal {
        seed: u64,
        mean: Scalar,
        std: Scalar,
    },
}

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// splitmix64's output for counter `i` of the stream keyed by `key`.
#[inline(always)]
fn bits(key: u64, i: u64) -> u64 {
    crate::key::mix(key.wrapping_add(i.wrapping_add(1).wrapping_mul(GOLDEN)))
}

/// The top 52 bits as a float in `[0, 1)`: they become the mantissa of a float in
/// `[1, 2)`, minus 1. Bit operations and one subtraction vectorize; converting a `u64`
/// to `f64` has no vector instruction before AVX-512 and took most of the time.
#[inline(always)]
fn unit(key: u64, i: u64) -> f64 {
    to_unit(bits(key, i))
}

#[inline(always)]
fn to_unit(bits: u64) -> f64 {
    f64::from_bits(0x3ff0_0000_0000_0000 | (bits >> 12)) - 1.0
}

/// A seed spread over all bits, so that seeds 1 and 2 give unrelated streams.
fn stream_key(seed: u64) -> u64 {
    crate::key::mix(seed ^ 0x5851_f42d_4c95_7f2d)
}

impl Distribution {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Distribution::Uniform { .. } => "random",
            Distribution::Normal { .. } => "normal",
        }
    }

    /// The elements at flat indices `first + k * stride` for each `out[k]`.
    pub(crate) fn fill(self, first: u64, stride: u64, out: &mut [f64]) {
        vectorized(Fill {
            dist: self,
            first,
            stride,
            out,
        })
    }
}

/// [`Distribution::fill`]'s loops, compiled for the CPU (see `simd`).
struct Fill<'a> {
    dist: Distribution,
    first: u64,
    stride: u64,
    out: &'a mut [f64],
}

impl Kernel for Fill<'_> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let Fill {
            dist,
            first,
            stride,
            out,
        } = self;
        match dist {
            Distribution::Uniform { seed } => {
                // `bits(key, first + k * stride)` with the counter's multiplication
                // by GOLDEN turned into an addition per element: vector 64-bit
                // multiplications are emulated with three 32-bit ones before AVX-512,
                // and this one was a third of them.
                let mut counter =
                    stream_key(seed).wrapping_add(first.wrapping_add(1).wrapping_mul(GOLDEN));
                let step = stride.wrapping_mul(GOLDEN);
                for v in out.iter_mut() {
                    *v = to_unit(crate::key::mix(counter));
                    counter = counter.wrapping_add(step);
                }
            }
            Distribution::Normal { seed, mean, std } => {
                let (key, mean, std) = (stream_key(seed), mean.get(), std.get());
                for (i, v) in out.iter_mut().enumerate() {
                    let n = first + i as u64 * stride;
                    // 1 - u lies in (0, 1]: its logarithm is finite.
                    let u1 = 1.0 - unit(key, 2 * n);
                    let u2 = unit(key, 2 * n + 1);
                    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                    *v = mean + std * z;
                }
            }
        }
    }
}

/// A seeded generator, NumPy's `default_rng(seed)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rng {
    seed: u64,
}

/// A generator whose arrays depend only on `seed` and the shape, never on the chunks.
///
/// ```
/// use dask::array::random::default_rng;
/// let a = default_rng(7).random(1_000, 100).compute().unwrap();
/// let b = default_rng(7).random(1_000, 333).compute().unwrap();
/// assert_eq!(a, b);
/// ```
pub fn default_rng(seed: u64) -> Rng {
    Rng { seed }
}

impl Rng {
    /// Uniform values in `[0, 1)`.
    pub fn random(&self, shape: impl Into<Shape>, chunks: impl Into<Chunks>) -> Array {
        let dist = Distribution::Uniform { seed: self.seed };
        Array::generated(
            "random",
            Expr::Generate(Generator::Random(dist)),
            shape,
            chunks,
        )
    }

    /// Normally distributed values. A negative or NaN `std` is an error, as in NumPy
    /// (the values would silently be those of `-std`, or all NaN).
    pub fn normal(
        &self,
        mean: f64,
        std: f64,
        shape: impl Into<Shape>,
        chunks: impl Into<Chunks>,
    ) -> Array {
        let wrong = if std.is_nan() {
            Some("the standard deviation is NaN".to_string())
        } else {
            (std < 0.0).then(|| format!("the standard deviation {std} is negative"))
        };
        if let Some(why) = wrong {
            return Array::invalid(ArrayError::Invalid {
                op: "normal",
                shape: Dims(shape.into().0),
                why,
            });
        }
        let dist = Distribution::Normal {
            seed: self.seed,
            mean: Scalar::new(mean),
            std: Scalar::new(std),
        };
        Array::generated(
            "normal",
            Expr::Generate(Generator::Random(dist)),
            shape,
            chunks,
        )
    }
}

/// Uniform values in `[0, 1)` from a seed drawn from the operating system's entropy
/// (two calls give different arrays); use [`default_rng`] to reproduce values.
pub fn random(shape: impl Into<Shape>, chunks: impl Into<Chunks>) -> Array {
    let seed = std::collections::hash_map::RandomState::new().hash_one(0u8);
    default_rng(seed).random(shape, chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_values_look_uniform() {
        let mut v = vec![0.0; 100_000];
        Distribution::Uniform { seed: 1 }.fill(0, 1, &mut v);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        assert!(v.iter().all(|x| (0.0..1.0).contains(x)));
        let mut w = vec![0.0; 10];
        Distribution::Uniform { seed: 1 }.fill(5, 1, &mut w);
        assert_eq!(&v[5..15], &w[..]);
    }

    #[test]
    fn normal_values_have_their_moments() {
        let mut v = vec![0.0; 200_000];
        let dist = Distribution::Normal {
            seed: 3,
            mean: Scalar::new(5.0),
            std: Scalar::new(2.0),
        };
        dist.fill(0, 1, &mut v);
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
        assert!((mean - 5.0).abs() < 0.02, "{mean}");
        assert!((var.sqrt() - 2.0).abs() < 0.02, "{var}");
    }
}
