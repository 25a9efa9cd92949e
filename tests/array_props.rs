//! `dask::array` against `ndarray` computed eagerly, for random shapes, chunkings and
//! values.

use dask::array::ndarray::{self, ArrayD, Axis, IxDyn, SliceInfoElem};
use dask::array::{self, Array};
use proptest::prelude::*;

/// A shape of 1 or 2 axes, chunk sizes for it, and values.
fn arrays() -> impl Strategy<Value = (ArrayD<f64>, Vec<usize>)> {
    prop::collection::vec(1usize..9, 1..=2).prop_flat_map(|shape| {
        let n: usize = shape.iter().product();
        let chunks: Vec<_> = shape.iter().map(|&d| 1..=d).collect();
        (
            prop::collection::vec(-100.0f64..100.0, n),
            chunks,
            Just(shape),
        )
            .prop_map(|(values, chunks, shape)| {
                (
                    ArrayD::from_shape_vec(IxDyn(&shape), values).unwrap(),
                    chunks,
                )
            })
    })
}

fn close(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    a.shape() == b.shape()
        && a.iter()
            .zip(b)
            .all(|(x, y)| (x - y).abs() <= 1e-9 * (1.0 + y.abs()))
}

fn near(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + b.abs())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn elementwise_chains_match_ndarray((data, chunks) in arrays(), other in 1usize..9) {
        let x = Array::from_array(data.clone(), chunks);
        // The second operand comes in other chunks: it is rechunked to match.
        let y = Array::from_array(data.mapv(|v| v * 0.5 + 3.0), other);
        let got = ((&x * 2.0 + 1.0).powi(2).sqrt() - &y) / 3.0;
        let got = (got.abs().clip(0.0, 50.0) + (1.0 - &x).neg()).compute().unwrap();
        let y0 = data.mapv(|v| v * 0.5 + 3.0);
        let mut want = ((&data * 2.0 + 1.0).mapv(|v| v.powi(2).sqrt()) - &y0) / 3.0;
        want = want.mapv(|v| v.abs().clamp(0.0, 50.0)) + (1.0 - &data).mapv(|v| -v);
        prop_assert!(close(&got, &want), "{got:?} vs {want:?}");
    }

    #[test]
    fn reductions_match_ndarray((data, chunks) in arrays(), split in 2usize..5) {
        let x = Array::from_array(data.clone(), chunks).split_every(split);
        let n = data.len() as f64;
        let mean = data.sum() / n;
        let var = data.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let (sum, m, v, s, lo, hi, amin, amax) = dask::compute((
            &x.sum(), &x.mean(), &x.var(), &x.std(), &x.min(), &x.max(), &x.argmin(), &x.argmax(),
        )).unwrap();
        prop_assert!(near(sum, data.sum()));
        prop_assert!(near(m, mean));
        prop_assert!(near(v, var));
        prop_assert!(near(s, var.sqrt()));
        let flat: Vec<f64> = data.iter().copied().collect();
        let want_lo = flat.iter().copied().fold(f64::INFINITY, f64::min);
        let want_hi = flat.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        prop_assert_eq!(lo, want_lo);
        prop_assert_eq!(hi, want_hi);
        prop_assert_eq!(amin, flat.iter().position(|&v| v == want_lo).unwrap());
        prop_assert_eq!(amax, flat.iter().position(|&v| v == want_hi).unwrap());
    }

    #[test]
    fn axis_reductions_match_ndarray((data, chunks) in arrays(), split in 2usize..4) {
        let x = Array::from_array(data.clone(), chunks);
        for axis in 0..data.ndim() {
            let r = (&x + 1.0).split_every(split);
            prop_assert!(close(&r.sum_axis(axis).compute().unwrap(), &(&data + 1.0).sum_axis(Axis(axis))));
            prop_assert!(close(&r.mean_axis(axis).compute().unwrap(), &(&data + 1.0).mean_axis(Axis(axis)).unwrap()));
            let want_max = data.fold_axis(Axis(axis), f64::NEG_INFINITY, |a, b| a.max(*b));
            prop_assert!(close(&x.max_axis(axis).compute().unwrap(), &want_max));
            let want_min = data.fold_axis(Axis(axis), f64::INFINITY, |a, b| a.min(*b));
            prop_assert!(close(&x.min_axis(axis).compute().unwrap(), &want_min));
        }
    }

    #[test]
    fn slices_match_ndarray(
        (data, chunks) in arrays(),
        picks in prop::collection::vec((0u8..3, 0usize..10, 0usize..10, prop_oneof![Just(1isize), Just(2), Just(3), Just(-1), Just(-2)]), 2),
    ) {
        let x = Array::from_array(data.clone(), chunks);
        let elems: Vec<SliceInfoElem> = data.shape().iter().zip(&picks).map(|(&len, &(kind, a, b, step))| {
            let (a, b) = (a.min(len), b.min(len));
            match kind {
                0 => SliceInfoElem::Index((a.min(len - 1)) as isize),
                1 => SliceInfoElem::Slice { start: a.min(b) as isize, end: Some(a.max(b) as isize), step },
                _ => SliceInfoElem::Slice { start: -(len as isize), end: None, step },
            }
        }).collect();
        let got = x.slice(elems.as_slice()).compute().unwrap();
        let want = data.slice(elems.as_slice()).to_owned();
        prop_assert!(close(&got, &want), "{elems:?}: {got:?} vs {want:?}");
    }

    #[test]
    fn shape_operations_match_ndarray((data, chunks) in arrays(), re in 1usize..9, axis in 0usize..2) {
        let x = Array::from_array(data.clone(), chunks);
        prop_assert!(close(&x.t().compute().unwrap(), &data.t().to_owned()));
        prop_assert!(close(&x.rechunk(re).compute().unwrap(), &data));
        prop_assert!(close(&(&x + &x.t().t()).compute().unwrap(), &(&data * 2.0)));
        let axis = axis % data.ndim();
        let y = Array::from_array(data.clone(), re);
        let joined = array::concatenate(&[x.clone(), y], axis).compute().unwrap();
        prop_assert!(close(&joined, &ndarray::concatenate(Axis(axis), &[data.view(), data.view()]).unwrap()));
        let stacked = array::stack(&[x.clone(), x.clone()], axis).compute().unwrap();
        prop_assert!(close(&stacked, &ndarray::stack(Axis(axis), &[data.view(), data.view()]).unwrap()));
        // A reshape of a single-chunk array always works.
        let n = data.len();
        let flat = x.rechunk(data.shape().to_vec()).reshape(n).compute().unwrap();
        prop_assert_eq!(flat.iter().copied().collect::<Vec<_>>(), data.iter().copied().collect::<Vec<_>>());
    }

    #[test]
    fn matmul_matches_ndarray(
        (m, k, n) in (1usize..8, 1usize..8, 1usize..8),
        (ca, cb, cc) in (1usize..8, 1usize..8, 1usize..8),
        seed in 0u64..1000,
    ) {
        let rng = array::random::default_rng(seed);
        let a = rng.random([m, k], [ca, cb]);
        let b = (rng.random([k, n], [cc, ca]) - 0.5) * 3.0;
        let (ea, eb) = (a.compute().unwrap(), b.compute().unwrap());
        let to2 = |x: &ArrayD<f64>| x.clone().into_dimensionality::<ndarray::Ix2>().unwrap();
        let want = to2(&ea).dot(&to2(&eb)).into_dyn();
        prop_assert!(close(&a.matmul(&b).compute().unwrap(), &want));
        // tensordot over both axes of a with the transposed a: a sum of squares.
        let t = a.tensordot(&a, (vec![0, 1], vec![0, 1])).compute().unwrap();
        prop_assert!(near(t[[]], ea.mapv(|v| v * v).sum()));
    }
}

#[test]
fn reshape_splits_a_chunked_axis_into_rows() {
    let data = ArrayD::from_shape_vec(IxDyn(&[12]), (0..12).map(f64::from).collect()).unwrap();
    let x = Array::from_array(data.clone(), 6);
    let y = x.reshape([4, 3]);
    assert_eq!(y.chunks(), vec![vec![2, 2], vec![3]]);
    assert_eq!(
        y.compute().unwrap(),
        data.into_shape_with_order(IxDyn(&[4, 3])).unwrap()
    );
    let back = y.reshape(12);
    assert_eq!(back.chunks(), vec![vec![6, 6]]);
}

#[test]
fn transposes_of_blocks_larger_than_a_tile_match_ndarray() {
    let data = ArrayD::from_shape_fn(IxDyn(&[70, 45]), |i| (i[0] * 1000 + i[1]) as f64);
    for chunks in [vec![70, 45], vec![33, 40]] {
        let x = Array::from_array(data.clone(), chunks);
        assert_eq!(x.t().compute().unwrap(), data.t().to_owned());
    }
    let cube = ArrayD::from_shape_fn(IxDyn(&[4, 5, 6]), |i| {
        (i[0] * 100 + i[1] * 10 + i[2]) as f64
    });
    let x = Array::from_array(cube.clone(), [3, 5, 4]);
    assert_eq!(
        x.transpose(vec![2, 0, 1]).compute().unwrap(),
        cube.view().permuted_axes(IxDyn(&[2, 0, 1])).to_owned()
    );
}

#[test]
fn transposes_of_generated_arrays_are_generated_in_place() {
    let rng = array::random::default_rng(3);
    let x = rng.random([7, 5], [3, 2]);
    let eager = x.compute().unwrap();
    assert_eq!(x.t().compute().unwrap(), eager.t().to_owned());
    let y = (x.powi(2) + 1.0).transpose(vec![1, 0]);
    assert_eq!(
        y.compute().unwrap(),
        (eager.mapv(|v| v * v) + 1.0).t().to_owned()
    );
    let c = rng.normal(0.0, 1.0, [3, 4, 5], [2, 3, 2]);
    let ce = c.compute().unwrap();
    assert_eq!(
        c.transpose(vec![2, 0, 1]).compute().unwrap(),
        ce.view().permuted_axes(IxDyn(&[2, 0, 1])).to_owned()
    );
    let r = array::arange(12, 4).reshape([3, 4]);
    assert_eq!(
        r.t().compute().unwrap(),
        r.compute().unwrap().t().to_owned()
    );
    // x + x.T of a random matrix: one task per block, no block materialized.
    let s = rng.random([40, 40], 10);
    let se = s.compute().unwrap();
    let both = &s + &s.t();
    assert_eq!(dask::graph(&both).len(), 16);
    assert_eq!(both.compute().unwrap(), &se + &se.t());
    assert!(near(both.sum().compute().unwrap(), (&se + &se.t()).sum()));
    // Its reductions compute blocks (i, j) and (j, i) in one task: 4 + 6 pairs of the
    // 16 blocks, then the tree and the final step.
    assert_eq!(dask::graph(&both.sum()).len(), 10 + 2 + 1 + 1);
    // A transpose of a transpose goes through blocks, with the same values.
    assert_eq!(s.t().t().compute().unwrap(), se);
    assert_eq!((&s.t().t() + &s).compute().unwrap(), &se * 2.0);
}

/// Reductions of `x op x.T` over generated values pair blocks (i, j) and (j, i) in one
/// task: every element is still computed and reduced, in both operand orders, for any
/// chunking (uneven last chunks too).
#[test]
fn reductions_of_x_op_its_transpose_match_ndarray() {
    let rng = array::random::default_rng(5);
    for (side, chunks) in [(37, 10), (64, 64), (70, 33), (5, 1)] {
        let x = rng.normal(1e3, 2.0, [side, side], chunks);
        let e = x.compute().unwrap();
        let et = e.t().to_owned();
        for (y, eager) in [
            (&x + &x.t(), &e + &et),
            (&x.t() - &x, &et - &e),
            (&x - &x.t(), &e - &et),
            (&x.t() * &x, &et * &e),
        ] {
            let n = eager.len() as f64;
            let mean = eager.sum() / n;
            let var = eager.mapv(|v| (v - mean).powi(2)).sum() / n;
            let sum = y.sum().compute().unwrap();
            assert!(
                (sum - eager.sum()).abs() <= 1e-9 * eager.mapv(f64::abs).sum(),
                "{side} {chunks}: {sum} vs {}",
                eager.sum()
            );
            assert!((y.var().compute().unwrap() - var).abs() <= 1e-9 * var.max(1.0));
            assert!((y.std().compute().unwrap() - var.sqrt()).abs() <= 1e-9 * var.max(1.0));
            // Extremes keep their first index: computed block by block.
            assert_eq!(
                y.argmax().compute().unwrap(),
                eager.iter().enumerate().fold(
                    0,
                    |m, (i, v)| if *v > eager.as_slice().unwrap()[m] {
                        i
                    } else {
                        m
                    }
                )
            );
        }
    }
    // Not square, or other chunks per axis: no pairing, same results.
    let x = rng.random([30, 30], [10, 15]);
    let e = x.compute().unwrap();
    let y = &x + &x.t().rechunk([10, 15]);
    assert!(near(y.sum().compute().unwrap(), (&e + &e.t()).sum()));
}
