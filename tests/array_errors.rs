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
