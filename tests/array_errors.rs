//! Invalid array operations: the builder stays chainable and `compute`/`persist` return
//! a `dask::Error` naming the operation and the shapes, before any task runs.

use std::sync::atomic::{AtomicUsize, Ordering};

use dask::array::ndarray::{s, ArrayD, IxDyn};
use dask::array::{self, Array, ArrayError};

fn message(result: Result<impl std::fmt::Debug, dask::Error>) -> String {
    match result {
        Err(e @ dask::Error::Array(_)) => e.to_string(),
        other => panic!("expected an array error, got {other:?}"),
    }
}

fn matrix(rows: usize, cols: usize, chunks: usize) -> Array {
    array::arange(rows * cols, rows * cols)
        .reshape([rows, cols])
        .rechunk(chunks)
}

#[test]
fn mismatched_shapes() {
    let a = matrix(3, 4, 2);
    let b = matrix(4, 3, 2);
    assert_eq!(
        message((&a + &b).compute()),
        "`add`: shapes (3, 4) and (4, 3) do not match"
    );
    assert_eq!(
        message(a.matmul(&a).compute()),
        "`matmul`: shapes (3, 4) and (3, 4) do not match"
    );
    assert_eq!(
        message(array::concatenate(&[a.clone(), b.clone()], 0).compute()),
        "`concatenate`: shapes (3, 4) and (4, 3) do not match"
    );
    assert_eq!(
        message(array::stack(&[a.clone(), b], 0).compute()),
        "`stack`: shapes (3, 4) and (4, 3) do not match"
    );
    assert_eq!(
        message(a.transpose(vec![0, 0]).compute()),
        "`transpose` on shape (3, 4): [0, 0] is not a permutation of the 2 axes"
    );
}

#[test]
fn chunks_that_do_not_add_up() {
    let data = ArrayD::zeros(IxDyn(&[10]));
    assert_eq!(
        message(Array::from_array(data.clone(), vec![vec![3, 3]]).compute()),
        "`from_array`: chunks [[3, 3]] do not fit shape (10,): the sizes on axis 0 add up to 6, not 10"
    );
    assert_eq!(
        message(Array::from_array(data, 0).compute()),
        "`from_array`: chunks [[0]] do not fit shape (10,): chunk size 0 on axis 0"
    );
    assert_eq!(
        message(array::zeros([4, 4], [2, 2, 2]).compute()),
        "`full`: chunks [[2, 2, 2]] do not fit shape (4, 4): 3 chunk sizes for 2 axes"
    );
    assert_eq!(
        message(array::ones(6, 2).rechunk(vec![vec![5]]).compute()),
        "`rechunk`: chunks [[5]] do not fit shape (6,): the sizes on axis 0 add up to 5, not 6"
    );
}

#[test]
fn axes_out_of_range() {
    let a = matrix(4, 4, 2);
    assert_eq!(
        message(a.sum_axis(2).compute()),
        "`sum_axis`: axis 2 is out of range for an array of shape (4, 4) (2 axes)"
    );
    assert_eq!(
        message(a.mean_axis(5).compute()),
        "`mean_axis`: axis 5 is out of range for an array of shape (4, 4) (2 axes)"
    );
    assert_eq!(
        message(array::concatenate(&[a.clone(), a.clone()], 2).compute()),
        "`concatenate`: axis 2 is out of range for an array of shape (4, 4) (2 axes)"
    );
    assert_eq!(
        message(a.tensordot(&a, (vec![3], vec![0])).compute()),
        "`tensordot`: axis 3 is out of range for an array of shape (4, 4) (2 axes)"
    );
}

#[test]
fn slices_out_of_bounds() {
    let a = array::arange(10, 3);
    assert_eq!(
        message(a.slice(s![..20]).compute()),
        "`slice`: slice 0..20 is out of bounds for length 10 on axis 0 of an array of shape (10,)"
    );
    assert_eq!(
        message(a.slice(s![10]).compute()),
        "`slice`: index 10 is out of bounds for length 10 on axis 0 of an array of shape (10,)"
    );
    assert_eq!(
        message(matrix(3, 4, 2).slice(s![.., -5]).compute()),
        "`slice`: index -5 is out of bounds for length 4 on axis 1 of an array of shape (3, 4)"
    );
    assert_eq!(
        message(a.slice(s![1, 2]).compute()),
        "`slice` on shape (10,): 2 indices for 1 axes"
    );
}

#[test]
fn a_reshape_the_chunks_cannot_express_names_a_rechunk_that_works() {
    let a = array::arange(12, 5);
    let err = message(a.reshape([4, 3]).compute());
    assert_eq!(
        err,
        "`reshape` from (12,) to (4, 3): the chunks [[5, 5, 2]] cannot be reshaped chunk by chunk; rechunk first, e.g. `.rechunk([[12]])`"
    );
    // The suggestion works.
    assert_eq!(
        a.rechunk(vec![vec![12]])
            .reshape([4, 3])
            .compute()
            .unwrap()
            .shape(),
        &[4, 3]
    );
    assert_eq!(
        message(a.reshape([5, 3]).compute()),
        "`reshape` on shape (12,): cannot hold the 12 elements in shape (5, 3)"
    );
}

#[test]
fn reductions_without_identity_over_empty_arrays() {
    let empty = array::zeros(0, 4);
    assert_eq!(empty.sum().compute().unwrap(), 0.0);
    assert!(empty.mean().compute().unwrap().is_nan());
    assert_eq!(
        message(empty.min().compute()),
        "`min` on shape (0,): a reduction with no identity over an empty array"
    );
    assert_eq!(
        message(empty.argmax().compute()),
        "`argmax` on shape (0,): a reduction with no identity over an empty array"
    );
}

#[test]
fn errors_travel_through_chains_and_stop_everything_before_it_runs() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let counted = array::ones(100, 10).map_blocks(|b| {
        RUNS.fetch_add(1, Ordering::SeqCst);
        b.clone()
    });
    let bad = (&counted + &array::ones(50, 10))
        .sqrt()
        .t()
        .rechunk(5)
        .slice(s![..3]);
    assert!(matches!(
        bad.error(),
        Some(ArrayError::ShapeMismatch { .. })
    ));
    assert_eq!(bad.shape(), &[] as &[usize]);
    let expected = "`add`: shapes (100,) and (50,) do not match";
    assert_eq!(message(bad.compute()), expected);
    assert_eq!(message(bad.persist()), expected);
    assert_eq!(message(bad.sum().compute()), expected);
    // A delayed value downstream of the invalid array fails the whole computation,
    // and nothing else in it runs.
    let downstream = bad.max().map(|m| m + 1.0);
    let good = counted.sum();
    assert_eq!(message(dask::compute((&good, &downstream))), expected);
    assert_eq!(message(dask::compute((&good, &bad))), expected);
    assert_eq!(RUNS.load(Ordering::SeqCst), 0, "no task ran");
    assert!(bad
        .visualize(std::env::temp_dir().join("never.svg"))
        .is_err());
    assert!(bad.to_string().contains(expected));
    // The valid parts still compute.
    assert_eq!(good.compute().unwrap(), 100.0);
}

#[test]
fn a_block_function_returning_another_shape_is_an_error() {
    let x = array::ones(10, 5).map_blocks(|b| b.slice(s![..2]).to_owned().into_dyn());
    let err = x.compute().unwrap_err();
    assert!(
        err.to_string()
            .contains("`map_blocks`: shapes (5,) and (2,) do not match"),
        "{err}"
    );
}

/// Absurd sizes are errors found while the graph is built: before, these panicked with
/// "capacity overflow", aborted the process on an allocation of terabytes, or (a shape
/// whose element count overflows) wrapped around and returned a wrong sum.
#[test]
fn absurd_sizes_are_errors_not_aborts_or_wrong_results() {
    let huge = 1usize << 40;
    let cases = [
        (
            message(array::zeros([usize::MAX, 2], [1, 1]).sum().compute()),
            "`full` on shape (18446744073709551615, 2): it has more elements than an address space can hold",
        ),
        (
            message(array::zeros([huge, huge], [huge, huge]).sum().compute()),
            "`full` on shape (1099511627776, 1099511627776): it has more elements than an address space can hold",
        ),
        (
            message(array::ones(1usize << 62, array::Chunks::Auto).sum().compute()),
            "`full` on shape (4611686018427387904,): it has more elements than an address space can hold",
        ),
        (
            message(array::arange(huge, 1).sum().compute()),
            "`arange` on shape (1099511627776,): the chunks would make more than 67108864 tasks; choose bigger chunks",
        ),
        (
            message(
                array::ones([1 << 20, 1], 1)
                    .matmul(&array::ones([1, 1 << 20], 1))
                    .sum()
                    .compute(),
            ),
            "`matmul` on shape (1048576, 1048576): the chunks would make more than 67108864 tasks; choose bigger chunks",
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
    // Bigger than any machine's memory: one chunk, or the gathered result. (The memory
    // is read from /proc/meminfo; elsewhere only the allocation itself can fail.)
    if !cfg!(target_os = "linux") {
        return;
    }
    let chunk = message(array::ones(huge, huge).sum().compute());
    assert!(
        chunk.starts_with("`full` on shape (1099511627776,): one chunk of shape (1099511627776,) would take 8796093022208 bytes, more than this machine's memory"),
        "{chunk}"
    );
    let gathered = message(array::ones(huge, 1 << 24).compute());
    assert!(
        gathered.starts_with(
            "`compute` on shape (1099511627776,): the result would take 8796093022208 bytes"
        ),
        "{gathered}"
    );
    // Big but possible stays possible: 2^20 elements in 1,024 chunks, and 2^16 chunks of
    // one element (their offsets were summed afresh for every block: quadratic, 48 s
    // for 2^19 blocks in a release build).
    assert_eq!(
        array::ones(1 << 20, 1 << 10).sum().compute().unwrap(),
        (1 << 20) as f64
    );
    assert_eq!(
        array::arange(1 << 16, 1).sum().compute().unwrap(),
        ((1u64 << 16) * ((1 << 16) - 1) / 2) as f64
    );
}

#[test]
fn chunk_sizes_and_shapes_that_overflow_are_errors() {
    // Sizes that wrapped around to the axis length were accepted: computing then
    // aborted the process allocating an 8 TB chunk, or hung.
    let wrapped = vec![vec![
        1usize << 40,
        0usize.wrapping_sub(1 << 40).wrapping_add(10),
    ]];
    let err = message(array::zeros([10], wrapped).sum().compute());
    assert!(
        err.contains("the sizes on axis 0 add up to more than a usize holds, not 10"),
        "{err}"
    );
    let err = message(array::zeros([0], vec![vec![usize::MAX, 1]]).compute());
    assert!(err.contains("more than a usize holds"), "{err}");
    let err = message(
        array::ones(5, 5)
            .rechunk(vec![vec![usize::MAX, 6]])
            .compute(),
    );
    assert!(err.contains("more than a usize holds"), "{err}");
    let block = array::ones(3, 3).to_delayed();
    let err = message(Array::from_delayed(block, vec![vec![usize::MAX, 3]]).compute());
    assert!(err.contains("more than a usize holds"), "{err}");
    // An element count that overflows wrapped around too.
    let err = message(
        array::zeros([0], 1)
            .reshape(vec![1usize << 32, 1 << 32])
            .compute(),
    );
    assert!(
        err.starts_with("`reshape` on shape (0,): cannot hold the 0 elements"),
        "{err}"
    );
}

fn vector(values: &[f64], chunks: usize) -> Array {
    Array::from_array(
        ArrayD::from_shape_vec(IxDyn(&[values.len()]), values.to_vec()).unwrap(),
        chunks,
    )
}

/// Zero-length axes hold nothing, but the other axes still have to fit ndarray (whose
/// non-zero lengths must multiply to at most `isize::MAX`) and `usize`. Before, `(0,
/// 2^63)` was accepted and its computation panicked, and concatenating 32 arrays of
/// shape `(0, 2^59)` along axis 1 overflowed while adding up the lengths (16 of them
/// made a shape that panicked in `compute` itself).
#[test]
fn empty_arrays_whose_other_axes_are_absurd_are_errors() {
    assert_eq!(
        message(array::zeros([0, 1usize << 63], [1, 1usize << 63]).compute()),
        "`full` on shape (0, 9223372036854775808): it has more elements than an address space can hold"
    );
    let a = array::zeros([0, 1usize << 59], [1, 1usize << 59]);
    assert_eq!(a.compute().unwrap().shape(), &[0, 1 << 59]);
    assert_eq!(
        message(array::concatenate(&vec![a.clone(); 16], 1).compute()),
        "`concatenate` on shape (0, 9223372036854775808): it has more elements than an address space can hold"
    );
    assert_eq!(
        message(array::concatenate(&vec![a; 32], 1).compute()),
        "`concatenate` on shape (0, 576460752303423488): the lengths on axis 1 add up to more than a usize holds"
    );
}

/// Reducing away the only empty axis gives a full array, which may be too big: before,
/// its one chunk of 8 TiB was allocated by a task and aborted the process.
#[test]
fn reducing_away_an_empty_axis_checks_the_result_size() {
    let empty = array::zeros([0, 1 << 20, 1 << 20], [1, 1 << 20, 1 << 20]);
    assert_eq!(empty.sum().compute().unwrap(), 0.0);
    if !cfg!(target_os = "linux") {
        return;
    }
    for err in [
        message(empty.sum_axis(0).sum().compute()),
        message(empty.mean_axis(0).max().compute()),
    ] {
        assert!(
            err.contains("on shape (1048576, 1048576): one chunk of shape (1048576, 1048576) would take 8796093022208 bytes"),
            "{err}"
        );
    }
    // Small ones are NumPy's: sums of nothing are 0, means NaN.
    let small = array::zeros([0, 3], 2);
    assert_eq!(
        small.sum_axis(0).compute().unwrap(),
        ArrayD::<f64>::zeros(IxDyn(&[3]))
    );
    assert!(small
        .mean_axis(0)
        .compute()
        .unwrap()
        .iter()
        .all(|v| v.is_nan()));
}

/// Concatenating an array that is empty along the axis left a chunk of size 0 inside a
/// longer axis, which no rechunk accepts: adding an array of other chunks, or joining
/// along another axis, panicked while building.
#[test]
fn concatenating_empty_arrays_leaves_no_empty_chunks() {
    let a = array::arange(4, 2);
    let joined = array::concatenate(&[a.clone(), array::zeros(0, 1), a.clone()], 0);
    assert_eq!(joined.chunks(), vec![vec![2, 2, 2, 2]]);
    let sum = (&joined + &array::arange(8, 3)).compute().unwrap();
    let want: Vec<f64> = [0.0, 1.0, 2.0, 3.0, 0.0, 1.0, 2.0, 3.0]
        .iter()
        .zip(0..)
        .map(|(v, i)| v + f64::from(i))
        .collect();
    assert_eq!(sum.as_slice().unwrap(), want.as_slice());

    let rows = array::ones([2, 2], 1);
    let tall = array::concatenate(&[rows.clone(), array::zeros([0, 2], 1), rows], 0);
    let wide = array::concatenate(&[tall, array::full([4, 3], 2.0, 4)], 1);
    let got = wide.compute().unwrap();
    let want = ArrayD::from_shape_fn(IxDyn(&[4, 5]), |i| if i[1] < 2 { 1.0 } else { 2.0 });
    assert_eq!(got, want);
    // All empty: still empty, with the right shape.
    let none = array::concatenate(&[array::zeros([0, 2], 1), array::zeros([0, 2], 1)], 0);
    assert_eq!(none.compute().unwrap().shape(), &[0, 2]);
}

/// NumPy reshapes an empty array to any shape of no elements; this was refused with a
/// suggested rechunk that changed nothing.
#[test]
fn empty_arrays_reshape_to_any_empty_shape() {
    let empty = array::zeros([0, 3], [1, 1]);
    let r = empty.reshape([3, 0]);
    assert_eq!(r.compute().unwrap().shape(), &[3, 0]);
    assert_eq!(r.sum().compute().unwrap(), 0.0);
    let r = array::zeros([2, 0, 4], 1).reshape(vec![0, 5, 7]);
    assert_eq!(r.compute().unwrap().shape(), &[0, 5, 7]);
    assert_eq!(
        message(empty.reshape([3, 1]).compute()),
        "`reshape` on shape (0, 3): cannot hold the 0 elements in shape (3, 1)"
    );
}

/// `linspace` ends at `stop` exactly, as NumPy's does; computed as `start + i * step`
/// the last value was a rounding off for some counts (`linspace(0.1, 0.7, 7)`).
#[test]
fn linspace_ends_exactly_at_stop() {
    for num in 2..100usize {
        let got = array::linspace(0.1, 0.7, num, 7).compute().unwrap();
        let step = (0.7 - 0.1) / (num - 1) as f64;
        let want = ArrayD::from_shape_fn(IxDyn(&[num]), |i| {
            if i[0] == num - 1 {
                0.7
            } else {
                0.1 + i[0] as f64 * step
            }
        });
        assert_eq!(got, want, "num {num}");
    }
    assert_eq!(
        array::linspace(3.0, 5.0, 1, 1)
            .compute()
            .unwrap()
            .as_slice()
            .unwrap(),
        &[3.0]
    );
    assert_eq!(array::linspace(3.0, 5.0, 0, 1).compute().unwrap().len(), 0);
    assert_eq!(
        array::linspace(5.0, 3.0, 5, 2)
            .compute()
            .unwrap()
            .as_slice()
            .unwrap(),
        &[5.0, 4.5, 4.0, 3.5, 3.0]
    );
}

/// NumPy refuses a negative or NaN scale; the values were silently those of `-std`, or
/// all NaN.
#[test]
fn normal_values_with_a_negative_std_are_an_error() {
    let rng = array::random::default_rng(1);
    assert_eq!(
        message(rng.normal(0.0, -1.0, 3, 3).compute()),
        "`normal` on shape (3,): the standard deviation -1 is negative"
    );
    assert_eq!(
        message(rng.normal(0.0, f64::NAN, 3, 3).compute()),
        "`normal` on shape (3,): the standard deviation is NaN"
    );
    assert_eq!(rng.normal(2.0, 0.0, 3, 3).sum().compute().unwrap(), 6.0);
}

/// A sum that meets an infinity, or overflows, is infinite as in NumPy; the
/// compensation's error term (`inf - inf`) made it NaN, and so the mean.
#[test]
fn sums_with_infinities_are_infinite_not_nan() {
    let mut values = vec![1.0; 100];
    values[3] = f64::INFINITY;
    for chunks in [100, 7, 1] {
        let x = vector(&values, chunks);
        assert_eq!(x.sum().compute().unwrap(), f64::INFINITY, "chunks {chunks}");
        assert_eq!(
            x.mean().compute().unwrap(),
            f64::INFINITY,
            "chunks {chunks}"
        );
        assert!(x.var().compute().unwrap().is_nan(), "chunks {chunks}");
    }
    for chunks in [2, 1] {
        assert_eq!(
            vector(&[1e308, 1e308], chunks).sum().compute().unwrap(),
            f64::INFINITY
        );
        assert_eq!(
            vector(&[f64::NEG_INFINITY, 1.0], chunks)
                .sum()
                .compute()
                .unwrap(),
            f64::NEG_INFINITY
        );
        let both = vector(&[f64::INFINITY, f64::NEG_INFINITY], chunks);
        assert!(both.sum().compute().unwrap().is_nan());
    }
    let x = array::full([40, 40], f64::INFINITY, 8);
    assert_eq!((&x + &x.t()).sum().compute().unwrap(), f64::INFINITY);
    assert_eq!(
        vector(&[f64::NEG_INFINITY; 64], 64)
            .sum()
            .compute()
            .unwrap(),
        f64::NEG_INFINITY
    );
}

/// Slices with steps, in both directions, over many chunkings, as ndarray slices.
/// Selections are computed per block: listing every selected index made `x[1:]` of a
/// 2^36-element array allocate hundreds of GiB (an abort), and finding each index's
/// block by a scan made a slice of 2^16 blocks take minutes to build.
#[test]
fn stepped_slices_match_ndarray_and_do_not_list_every_index() {
    let data = ArrayD::from_shape_fn(IxDyn(&[11]), |i| i[0] as f64);
    let chunkings: [Vec<usize>; 4] = [vec![11], vec![3, 3, 3, 2], vec![1; 11], vec![5, 6]];
    let bounds = [None, Some(0), Some(2), Some(-3), Some(4), Some(11)];
    for chunks in &chunkings {
        let x = Array::from_array(data.clone(), vec![chunks.clone()]);
        for start in bounds {
            for end in bounds {
                for step in [1, 2, 3, -1, -2, -4, 20, -20] {
                    let info = ndarray_slice(start, end, step);
                    let got = x.slice(info).compute().unwrap();
                    let want = data.slice(info).to_owned();
                    assert_eq!(got, want, "{chunks:?} {start:?}..{end:?};{step}");
                }
            }
        }
    }
    let m = ArrayD::from_shape_fn(IxDyn(&[7, 9]), |i| (i[0] * 10 + i[1]) as f64);
    let x = Array::from_array(m.clone(), vec![vec![2, 2, 3], vec![4, 1, 4]]);
    assert_eq!(
        x.slice(s![..;-2, 1..8;3]).compute().unwrap(),
        m.slice(s![..;-2, 1..8;3]).to_owned().into_dyn()
    );
    assert_eq!(
        x.slice(s![1..5;-1, -1]).compute().unwrap(),
        m.slice(s![1..5;-1, -1]).to_owned().into_dyn()
    );

    let huge = array::zeros(1usize << 36, 1usize << 24);
    let y = huge.slice(s![1..;-3]);
    assert_eq!(y.shape(), &[((1usize << 36) - 1).div_ceil(3)]);
    assert_eq!(y.numblocks(), vec![4096]);
    assert_eq!(
        huge.slice(s![5..]).chunks()[0][..2],
        [(1 << 24) - 5, 1 << 24]
    );
}

fn ndarray_slice(
    start: Option<isize>,
    end: Option<isize>,
    step: isize,
) -> ndarray::SliceInfo<[ndarray::SliceInfoElem; 1], IxDyn, IxDyn> {
    let elem = ndarray::SliceInfoElem::Slice {
        start: start.unwrap_or(0),
        end,
        step,
    };
    ndarray::SliceInfo::try_from([elem]).unwrap()
}

/// Rechunking between many chunkings gives the same values (its overlaps are found in
/// one pass over both chunk lists, no longer by scanning every old chunk for each new
/// one, which took minutes for 2^16 blocks).
#[test]
fn rechunks_between_uneven_chunks_keep_the_values() {
    let m = ArrayD::from_shape_fn(IxDyn(&[13, 6]), |i| (i[0] * 6 + i[1]) as f64);
    let chunkings: [Vec<usize>; 5] = [
        vec![13],
        vec![1; 13],
        vec![4, 4, 5],
        vec![6, 7],
        vec![2, 9, 2],
    ];
    for old in &chunkings {
        let x = Array::from_array(m.clone(), vec![old.clone(), vec![6]]);
        for new in &chunkings {
            let y = x.rechunk(vec![new.clone(), vec![1, 5]]);
            assert_eq!(y.chunks(), vec![new.clone(), vec![1, 5]]);
            assert_eq!(y.compute().unwrap(), m, "{old:?} -> {new:?}");
        }
    }
    let empty = array::zeros([0, 4], 1);
    assert_eq!(
        empty
            .rechunk(vec![vec![0, 0], vec![4]])
            .compute()
            .unwrap()
            .shape(),
        &[0, 4]
    );
}

#[test]
fn stacking_no_arrays_names_stack() {
    assert_eq!(
        message(array::stack(&[], 0).compute()),
        "`stack` on shape (): no arrays to stack"
    );
}

/// A reshape of an empty array still reads its blocks where the chunks allow it (here
/// adding an axis of length 1), so a block that fails fails the reshape too; generated
/// zeros in their place dropped the failure.
#[test]
fn an_empty_reshape_keeps_its_input_where_it_can() {
    let wrong = vec![dask::delayed(ArrayD::zeros(IxDyn(&[2, 3])))];
    let declared = Array::from_delayed(wrong, vec![vec![0], vec![3]]);
    let e = declared
        .reshape([0, 1, 3])
        .compute()
        .unwrap_err()
        .to_string();
    assert!(e.contains("from_delayed") && e.contains("(0, 3)"), "{e}");
}
