//! NumPy broadcasting of `+ - * /` between arrays, against ndarray's own broadcasting
//! computed eagerly: shapes aligned from the right, missing leading axes of length 1, an
//! axis of length 1 stretched to the other operand's length, any other mismatch an error.

use dask::array::ndarray::{ArrayD, Axis, IxDyn};
use dask::array::{self, random::default_rng, Array, ArrayError, Chunks};
use proptest::prelude::*;

/// Distinct non-zero values (no division by zero), depending on `seed`.
fn data(shape: &[usize], seed: usize) -> ArrayD<f64> {
    let mut n = 0usize;
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        n += 1;
        let v = ((n * 7_919 + seed * 104_729) % 1_000) as f64 / 100.0 + 0.5;
        if (n + seed).is_multiple_of(3) {
            -v
        } else {
            v
        }
    })
}

const OPS: [&str; 4] = ["add", "sub", "mul", "div"];

fn lazy(op: &str, a: &Array, b: &Array) -> Array {
    match op {
        "add" => a + b,
        "sub" => a - b,
        "mul" => a * b,
        "div" => a / b,
        _ => unreachable!(),
    }
}

fn eager(op: &str, a: &ArrayD<f64>, b: &ArrayD<f64>) -> ArrayD<f64> {
    match op {
        "add" => a + b,
        "sub" => a - b,
        "mul" => a * b,
        "div" => a / b,
        _ => unreachable!(),
    }
}

fn message(result: Result<impl std::fmt::Debug, dask::Error>) -> String {
    match result {
        Err(e @ dask::Error::Array(_)) => e.to_string(),
        other => panic!("expected an array error, got {other:?}"),
    }
}

/// Every pair (in both orders), operator and chunking (chunks of 1, 2 and 3 along every
/// axis, most of which do not divide the axis) against ndarray.
#[test]
fn a_table_of_shape_pairs_matches_ndarray() {
    let pairs: &[(&[usize], &[usize])] = &[
        (&[3, 4], &[3, 1]),
        (&[3, 4], &[1, 4]),
        (&[3, 1], &[1, 4]),
        (&[5, 1, 4], &[3, 1]),
        (&[2, 3, 4], &[4]),
        (&[2, 3, 4], &[3, 4]),
        (&[2, 3, 4], &[2, 1, 1]),
        (&[1], &[3, 4]),
        (&[1, 1], &[3, 4]),
        (&[3, 4], &[3, 4]),
        (&[], &[3, 4]),
        (&[], &[5]),
        (&[], &[]),
        (&[1], &[]),
        (&[0, 4], &[1, 4]),
        (&[0, 4], &[4]),
        (&[0, 1], &[1, 3]),
        (&[2, 0], &[2, 1]),
        (&[1], &[0]),
        (&[0], &[]),
        (&[3, 0, 2], &[1, 2]),
    ];
    for &(sa, sb) in pairs {
        for (sa, sb) in [(sa, sb), (sb, sa)] {
            let (da, db) = (data(sa, 1), data(sb, 2));
            for ca in 1..=3 {
                for cb in 1..=3 {
                    let a = Array::from_array(da.clone(), ca);
                    let b = Array::from_array(db.clone(), cb);
                    let lazy: Vec<Array> = OPS.iter().map(|op| lazy(op, &a, &b)).collect();
                    let got = dask::compute((&lazy[0], &lazy[1], &lazy[2], &lazy[3]))
                        .unwrap_or_else(|e| panic!("{sa:?} op {sb:?}: {e}"));
                    let got = [got.0, got.1, got.2, got.3];
                    for ((op, got), x) in OPS.iter().zip(got).zip(&lazy) {
                        let want = eager(op, &da, &db);
                        assert_eq!(x.shape(), want.shape(), "{sa:?} {op} {sb:?}");
                        assert_eq!(got, want, "{sa:?} {op} {sb:?}, chunks {ca} and {cb}");
                    }
                }
            }
        }
    }
}

#[test]
fn chunks_follow_the_operand_that_is_not_stretched() {
    let col = Array::from_array(data(&[5, 1], 1), vec![vec![2, 3], vec![1]]);
    let row = Array::from_array(data(&[1, 7], 2), vec![vec![1], vec![3, 3, 1]]);
    let outer = &col * &row;
    assert_eq!(outer.shape(), &[5, 7]);
    assert_eq!(outer.chunks(), vec![vec![2, 3], vec![3, 3, 1]]);
    assert_eq!((&row * &col).chunks(), vec![vec![2, 3], vec![3, 3, 1]]);
    // Both operands long on an axis: the chunks of the operand of more axes (then the
    // left one); the other is rechunked to match.
    let cube = Array::from_array(data(&[2, 5, 7], 3), vec![vec![1, 1], vec![4, 1], vec![7]]);
    assert_eq!(
        (&col + &cube).chunks(),
        vec![vec![1, 1], vec![4, 1], vec![7]]
    );
    let m = Array::from_array(data(&[5, 7], 4), [3, 2]);
    assert_eq!((&m - &outer).chunks(), vec![vec![3, 2], vec![2, 2, 2, 1]]);
    assert_eq!(
        (&m - &outer).compute().unwrap(),
        data(&[5, 7], 4) - data(&[5, 1], 1) * data(&[1, 7], 2)
    );
    // An axis of length 1 in both stays one chunk of 1; empty axes take the empty
    // operand's chunks.
    let one = Array::from_array(data(&[1, 1], 5), 1);
    assert_eq!((&one + &col).chunks(), vec![vec![2, 3], vec![1]]);
    let empty = array::zeros([0, 7], 2);
    assert_eq!((&row + &empty).shape(), &[0, 7]);
    assert_eq!((&row + &empty).chunks(), vec![vec![0], vec![3, 3, 1]]);
    let empty_col = array::zeros([0, 1], 2);
    assert_eq!((&empty_col * &row).chunks(), vec![vec![0], vec![3, 3, 1]]);
    assert_eq!((&empty_col * &row).compute().unwrap().shape(), &[0, 7]);
    assert!(matches!(
        (&col + &empty).error(),
        Some(ArrayError::ShapeMismatch { .. })
    ));
}

fn close(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    a.shape() == b.shape() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-12)
}

#[test]
fn numpy_idioms() {
    let (n, m) = (5, 7);
    let dx = data(&[n, m], 9).mapv(f64::abs);
    let x = Array::from_array(dx.clone(), [2, 3]);
    // Rows normalised to sum to 1.
    let rows = (&x / x.sum_axis(1).reshape([n, 1])).compute().unwrap();
    let want = &dx / &dx.sum_axis(Axis(1)).insert_axis(Axis(1));
    assert!(close(&rows, &want), "{rows:?} vs {want:?}");
    for r in rows.outer_iter() {
        assert!((r.sum() - 1.0).abs() < 1e-12);
    }
    // Columns centred (a row broadcast).
    let centred = (&x - x.mean_axis(0)).compute().unwrap();
    let want = &dx - &dx.mean_axis(Axis(0)).unwrap();
    assert!(close(&centred, &want), "{centred:?} vs {want:?}");
    // An outer product: both operands stretch.
    let col = array::arange(n, 2).reshape([n, 1]);
    // A row in uneven chunks: adding an axis of length 1 keeps them.
    let row = (array::arange(m, 3) + 1.0).reshape([1, m]);
    assert_eq!(row.chunks(), [vec![1], vec![3, 3, 1]]);
    let outer = (&col * &row).compute().unwrap();
    let want = ArrayD::from_shape_fn(IxDyn(&[n, m]), |i| (i[0] * (i[1] + 1)) as f64);
    assert_eq!(outer, want);
    // Its reductions read the stretched blocks too.
    assert_eq!((&col * &row).sum().compute().unwrap(), want.sum());
    assert_eq!(
        (&col * &row).sum_axis(0).compute().unwrap(),
        want.sum_axis(Axis(0))
    );
    assert_eq!(
        (&col * &row).sum_axis(1).compute().unwrap(),
        want.sum_axis(Axis(1))
    );
}

/// Adding or removing axes of length 1 keeps the other axes' chunks, whatever they are
/// (Dask's `x.reshape(1, n)`, `x[:, None]`): such a reshape used to need a single chunk
/// along every axis after the first that changed.
#[test]
fn axes_of_length_one_come_and_go_under_any_chunks() {
    let cases: &[(&[usize], &[usize], &[usize])] = &[
        (&[7], &[3], &[1, 7]),
        (&[7], &[3], &[7, 1]),
        (&[7], &[3], &[1, 7, 1]),
        (&[2, 1, 5], &[1, 1, 2], &[2, 5]),
        (&[2, 1, 5], &[1, 1, 2], &[1, 2, 5, 1]),
        (&[1, 1], &[1, 1], &[]),
        (&[], &[], &[1, 1]),
    ];
    for &(from, chunks, to) in cases {
        let d = data(from, from.len());
        let x = Array::from_array(d.clone(), chunks.to_vec());
        let y = x.reshape(to.to_vec());
        let want = d.clone().into_shape_with_order(IxDyn(to)).unwrap();
        assert_eq!(
            y.compute().unwrap(),
            want,
            "{from:?} in {chunks:?} to {to:?}"
        );
        // The longer axes keep their chunks, in order.
        let longer = |c: Vec<Vec<usize>>, s: &[usize]| -> Vec<Vec<usize>> {
            c.into_iter()
                .zip(s)
                .filter(|(_, &d)| d != 1)
                .map(|(c, _)| c)
                .collect()
        };
        assert_eq!(longer(y.chunks(), to), longer(x.chunks(), from));
    }
    // Other reshapes still need chunks that regroup whole rows.
    let x = Array::from_array(data(&[4, 6], 1), [2, 4]);
    let e = message(x.reshape([24]).compute());
    assert!(e.contains("reshape"), "{e}");
}

/// Values generated from their positions (`arange`, `linspace`, random values, their
/// transposes) keep the values of their own positions when stretched along an axis,
/// not those of the result's positions.
#[test]
fn generated_values_stretched_along_an_axis_keep_their_own_positions() {
    for chunks in [1, 2, 3, 4] {
        // The brief's example: rows 0, 1, 2.
        let col = array::arange(3, chunks).reshape([3, 1]);
        let want = ArrayD::from_shape_fn(IxDyn(&[3, 4]), |i| i[0] as f64);
        assert_eq!(
            (&col + &array::zeros([3, 4], chunks)).compute().unwrap(),
            want
        );
        assert_eq!((&array::zeros([3, 4], 2) + &col).compute().unwrap(), want);
        // A row of `arange` against a column stretched the other way.
        let ramp = array::arange(4, chunks);
        let zcol = array::zeros([3, 1], chunks);
        let want = ArrayD::from_shape_fn(IxDyn(&[3, 4]), |i| i[1] as f64);
        assert_eq!((&zcol + &ramp).compute().unwrap(), want, "{chunks}");
        assert_eq!((&ramp - &zcol).compute().unwrap(), want, "{chunks}");
        // Random columns and rows of the same number of axes, fused without a reshape.
        let rng = default_rng(11);
        let rcol = rng.random([4, 1], chunks);
        let alone = rcol.compute().unwrap();
        let column = alone.index_axis(Axis(1), 0).to_owned();
        let spread = (&rcol + &array::zeros([4, 5], chunks)).compute().unwrap();
        for c in spread.axis_iter(Axis(1)) {
            assert_eq!(c, column, "{chunks}");
        }
        let rrow = rng.random([1, 5], chunks);
        let alone = rrow.compute().unwrap();
        let spread = (&array::ones([4, 5], chunks) * &rrow).compute().unwrap();
        for r in spread.outer_iter() {
            assert_eq!(r, alone.index_axis(Axis(0), 0), "{chunks}");
        }
        // Stretched along an axis and given leading axes at once.
        let spread = (&array::zeros([2, 4, 3], chunks) + &rcol)
            .compute()
            .unwrap();
        for plane in spread.outer_iter() {
            for c in plane.axis_iter(Axis(1)) {
                assert_eq!(c, column, "{chunks}");
            }
        }
        // Position-dependent on both sides: each at its own positions.
        let m = default_rng(12).random([4, 5], chunks);
        let both = (&m + &rcol).compute().unwrap();
        assert_eq!(both, m.compute().unwrap() + rcol.compute().unwrap());
        let outer = (&rcol * &rrow).compute().unwrap();
        assert_eq!(outer, rcol.compute().unwrap() * rrow.compute().unwrap());
        // `linspace` and a transpose of random values as columns.
        let lin = array::linspace(0.0, 1.0, 4, chunks).reshape([4, 1]);
        let want = lin.compute().unwrap() + ArrayD::<f64>::zeros(IxDyn(&[4, 3]));
        assert_eq!((&lin + &array::zeros([4, 3], 2)).compute().unwrap(), want);
        let t = rng.random([1, 4], chunks).t();
        let want = t.compute().unwrap() * ArrayD::<f64>::ones(IxDyn(&[4, 6]));
        assert_eq!((&t * &array::ones([4, 6], 3)).compute().unwrap(), want);
        // A reduction of the broadcast reads the same values.
        let sum = (&rcol + &array::zeros([4, 5], chunks))
            .sum()
            .compute()
            .unwrap();
        assert!((sum - 5.0 * column.sum()).abs() < 1e-12);
    }
}

#[test]
fn a_fused_chain_with_stretching_is_one_task_per_block() {
    let (da, db, dc) = (data(&[3, 1], 1), data(&[1, 4], 2), data(&[4], 3));
    let a = Array::from_array(da.clone(), vec![vec![2, 1], vec![1]]);
    let b = Array::from_array(db.clone(), vec![vec![1], vec![3, 1]]);
    let c = Array::from_array(dc.clone(), vec![vec![3, 1]]);
    let z = (&a + &b) * &c - 1.0;
    assert_eq!(z.shape(), &[3, 4]);
    assert_eq!(z.chunks(), vec![vec![2, 1], vec![3, 1]]);
    let inputs = dask::graph((&a, &b, &c)).len();
    assert_eq!(
        dask::graph(&z).len(),
        inputs + 4,
        "one task per block of the result"
    );
    assert_eq!(z.to_delayed()[0].name(), "sub");
    let want = (&da + &db) * &dc - 1.0;
    assert_eq!(z.compute().unwrap(), want);
    // `c` in other chunks is rechunked, and the chain stays fused.
    let c2 = Array::from_array(dc.clone(), 1);
    let z2 = (&a + &b) * &c2 - 1.0;
    assert_eq!(z2.compute().unwrap(), want);
    assert_eq!((&a / &z2).compute().unwrap(), &da / &want);
    // Constants stretch without any task of their own.
    let ones = array::ones([3, 1], 2) + array::full([1, 4], 2.0, 3);
    assert_eq!(dask::graph(&ones).len(), 4);
    assert_eq!(
        ones.compute().unwrap(),
        ArrayD::from_elem(IxDyn(&[3, 4]), 3.0)
    );
    // Position-dependent values stretched: their own blocks, then the fused result.
    let r = default_rng(3).random([3, 1], 2) + array::zeros([3, 4], 2);
    assert_eq!(dask::graph(&r).len(), 2 + 4);
}

#[test]
fn incompatible_shapes_name_the_operation_and_both_shapes() {
    let a = Array::from_array(data(&[3, 4], 1), 2);
    let b = Array::from_array(data(&[3, 2], 2), 2);
    assert_eq!(
        message((&a + &b).compute()),
        "`add`: shapes (3, 4) and (3, 2) do not match"
    );
    let c = Array::from_array(data(&[2, 3, 4], 3), 2);
    let d = Array::from_array(data(&[5, 1], 4), 2);
    assert_eq!(
        message((&c - &d).compute()),
        "`sub`: shapes (2, 3, 4) and (5, 1) do not match"
    );
    assert_eq!(
        message((&d * &c).compute()),
        "`mul`: shapes (5, 1) and (2, 3, 4) do not match"
    );
    // An empty axis broadcasts against 1 only.
    let empty = array::zeros(0, 1);
    assert_eq!(
        message((&empty / &array::ones(3, 1)).compute()),
        "`div`: shapes (0,) and (3,) do not match"
    );
    assert!(matches!(
        (&a + &b).error(),
        Some(ArrayError::ShapeMismatch { op: "add", .. })
    ));
    // The error travels through what is built on it.
    assert_eq!(
        message(((&a + &b).sqrt() + &a).sum().compute()),
        "`add`: shapes (3, 4) and (3, 2) do not match"
    );
}

#[test]
fn results_too_big_are_errors_not_aborts() {
    let big = 1usize << 40;
    let col = array::zeros([big, 1], Chunks::Size(vec![1 << 24, 1]));
    let row = array::zeros([1, big], Chunks::Size(vec![1, 1 << 24]));
    assert_eq!(col.error(), None);
    let outer = &col * &row;
    match outer.error() {
        Some(ArrayError::Invalid {
            op: "mul", shape, ..
        }) => assert_eq!(shape.0, [big, big]),
        other => panic!("{other:?}"),
    }
    assert!(message(outer.sum().compute()).contains("more elements"));
    // Too many blocks: each chunk small, but 2^40 of them.
    let col = array::zeros([1 << 20, 1], 1);
    let row = array::zeros([1, 1 << 20], 1);
    let e = message((&col + &row).compute());
    assert!(e.contains("`add`") && e.contains("tasks"), "{e}");
}

/// A broadcast-compatible pair of shapes, each operand's chunk sizes and seed, and the
/// operator.
#[derive(Debug, Clone)]
struct Case {
    a: (Vec<usize>, Vec<usize>),
    b: (Vec<usize>, Vec<usize>),
    op: usize,
}

/// An operand for a result of shape `out`: some leading axes dropped, some stretched
/// (length 1), and chunk sizes.
fn operand(out: Vec<usize>) -> impl Strategy<Value = (Vec<usize>, Vec<usize>)> {
    let n = out.len();
    (
        0..=n,
        prop::collection::vec(any::<bool>(), n),
        prop::collection::vec(1usize..5, n),
    )
        .prop_map(move |(drop, stretch, chunks)| {
            let shape = (drop..n)
                .map(|a| if stretch[a] { 1 } else { out[a] })
                .collect();
            (shape, chunks[drop..].to_vec())
        })
}

fn cases() -> impl Strategy<Value = Case> {
    let dim = prop_oneof![1 => Just(0usize), 6 => 1usize..5];
    prop::collection::vec(dim, 0..=3).prop_flat_map(|out| {
        (operand(out.clone()), operand(out), 0usize..4).prop_map(|(a, b, op)| Case { a, b, op })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn broadcasting_matches_ndarray(case in cases(), seed in 0usize..100) {
        let (da, db) = (data(&case.a.0, seed), data(&case.b.0, seed + 1));
        let a = Array::from_array(da.clone(), case.a.1.clone());
        let b = Array::from_array(db.clone(), case.b.1.clone());
        let op = OPS[case.op];
        let got = lazy(op, &a, &b).compute().unwrap();
        prop_assert_eq!(&got, &eager(op, &da, &db));
        // A chain over the broadcast, fused, against the same chain eagerly.
        let chained = (lazy(op, &a, &b) * 2.0 + &b).compute().unwrap();
        prop_assert_eq!(chained, eager(op, &da, &db) * 2.0 + &db);
    }
}
