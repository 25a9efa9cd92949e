//! Reductions stay accurate where naive formulas do not.

use dask::array::ndarray::{ArrayD, IxDyn};
use dask::array::{self, Array};

const N: usize = 1_000_000;

/// `1e9 + k/1024` for `k` cycling through 0..4096: exactly representable values whose
/// running sum near 1e15 cannot be: every naive addition rounds.
fn data() -> ArrayD<f64> {
    ArrayD::from_shape_fn(IxDyn(&[N]), |i| 1e9 + (i[0] % 4096) as f64 / 1024.0)
}

fn exact_sum() -> f64 {
    let scaled: i128 = (0..N as i128)
        .map(|i| 1_000_000_000i128 * 1024 + i % 4096)
        .sum();
    scaled as f64 / 1024.0
}

#[test]
fn the_sum_of_a_million_values_near_1e9_is_exact_to_an_ulp() {
    let values = data();
    let exact = exact_sum();
    let naive: f64 = values.iter().fold(0.0, |acc, v| acc + v);
    let ulp = exact * f64::EPSILON;
    assert!(
        (naive - exact).abs() > 4.0 * ulp,
        "the data makes a naive sum drift: {naive} vs {exact}"
    );
    for chunks in [1_000, 65_536, N] {
        let x = Array::from_array(values.clone(), chunks);
        let sum = x.sum().compute().unwrap();
        assert!(
            (sum - exact).abs() <= ulp,
            "chunks {chunks}: {sum} vs {exact}"
        );
        let mean = x.mean().compute().unwrap();
        assert!(
            (mean - exact / N as f64).abs() <= 1e9 * f64::EPSILON,
            "{mean}"
        );
    }
}

/// The size: 10⁸ values `1e9 + i/1024` (each exact), generated inside the tasks
/// (`arange` scaled by a power of two: no rounding), summed over 10 blocks. A naive
/// running sum near 10¹⁷ rounds every addition to a multiple of 16.
#[test]
fn the_sum_of_1e8_values_near_1e9_is_exact_to_an_ulp() {
    const N: usize = 100_000_000;
    let x = &(&array::arange(N, 10_000_000) / 1024.0) + 1e9;
    let n = N as i128;
    let scaled = 1_000_000_000i128 * 1024 * n + n * (n - 1) / 2;
    let exact = scaled as f64 / 1024.0;
    let ulp = exact * f64::EPSILON;
    let naive = (0..N).fold(0.0f64, |acc, i| acc + (1e9 + i as f64 / 1024.0));
    assert!(
        (naive - exact).abs() > 1e3 * ulp,
        "the data makes a naive sum drift: {naive} vs {exact}"
    );
    let sum = x.sum().compute().unwrap();
    assert!((sum - exact).abs() <= ulp, "{sum} vs {exact}");
}

#[test]
fn std_of_values_with_a_mean_of_1e9_is_accurate() {
    // 1e9 + (0, 1, 2, 3, ...) mod 4: the variance is exactly 1.25.
    let values = ArrayD::from_shape_fn(IxDyn(&[N]), |i| 1e9 + (i[0] % 4) as f64);
    let x = Array::from_array(values.clone(), 30_001);
    let var = x.var().compute().unwrap();
    assert!((var - 1.25).abs() < 1e-9, "{var}");
    assert!((x.std().compute().unwrap() - 1.25f64.sqrt()).abs() < 1e-9);
    // E[x²] - E[x]² cancels catastrophically here.
    let mean = values.iter().sum::<f64>() / N as f64;
    let naive = values.iter().map(|v| v * v).sum::<f64>() / N as f64 - mean * mean;
    assert!((naive - 1.25).abs() > 1.0, "naive {naive}");
}

#[test]
fn normal_values_have_the_requested_moments() {
    let x = array::random::default_rng(9).normal(1e9, 3.0, 200_000, 20_000);
    let (m, s) = dask::compute((&x.mean(), &x.std())).unwrap();
    assert!((m - 1e9).abs() < 0.05, "{m}");
    assert!((s - 3.0).abs() < 0.05, "{s}");
}

#[test]
fn a_product_over_a_zero_length_axis_is_zeros_as_in_numpy() {
    // The contracted length was derived by division; zero-length blocks made the second
    // operand 0 x 0 and the task panicked.
    let e = array::zeros([0, 4], [2, 2]);
    assert_eq!(
        e.t().matmul(&e).compute().unwrap(),
        ArrayD::<f64>::zeros(IxDyn(&[4, 4]))
    );
    let a = array::ones([3, 0], 2);
    let b = array::ones([0, 5], [1, 2]);
    assert_eq!(
        a.matmul(&b).compute().unwrap(),
        ArrayD::<f64>::zeros(IxDyn(&[3, 5]))
    );
    // Beside it, a product of the same blocks with a length still matches ndarray.
    let m = ArrayD::from_shape_fn(IxDyn(&[3, 4]), |i| (i[0] * 4 + i[1]) as f64);
    let x = Array::from_array(m.clone(), [2, 3]);
    let want = m
        .clone()
        .into_dimensionality::<dask::array::ndarray::Ix2>()
        .unwrap();
    let want = want.dot(&want.t()).into_dyn();
    assert_eq!(x.matmul(&x.t()).compute().unwrap(), want);
}

#[test]
fn clip_keeps_nan_elements_and_a_nan_bound_gives_nan_as_in_numpy() {
    // `f64::max` ignores NaN: a NaN element came out as the lower bound.
    let values = ArrayD::from_shape_vec(IxDyn(&[5]), vec![-3.0, f64::NAN, 0.5, 9.0, 1.0]).unwrap();
    let x = Array::from_array(values, 2);
    let got = x.clip(0.0, 1.0).compute().unwrap();
    let want = [0.0, f64::NAN, 0.5, 1.0, 1.0];
    for (g, w) in got.iter().zip(want) {
        assert!(g == &w || (g.is_nan() && w.is_nan()), "{got:?}");
    }
    assert!(x
        .clip(f64::NAN, 1.0)
        .compute()
        .unwrap()
        .iter()
        .all(|v| v.is_nan()));
    assert!(x
        .clip(0.0, f64::NAN)
        .compute()
        .unwrap()
        .iter()
        .all(|v| v.is_nan()));
}
