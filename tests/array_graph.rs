//! How array graphs are built: fusion, shared nodes, mixing with delayed values.

use std::sync::atomic::{AtomicUsize, Ordering};

use dask::array::ndarray::{ArrayD, IxDyn};
use dask::array::{self, random::default_rng, Array};
use dask::{delayed, Delayed};

#[test]
fn an_elementwise_chain_is_one_task_per_block() {
    let x = default_rng(1).random(1_000, 100);
    let y = x.powi(2).sqrt();
    assert_eq!(
        dask::graph(&y).len(),
        10,
        "random, powi and sqrt fuse into one task per block"
    );
    let z = (&y + &x) * 2.0 - 1.0;
    assert_eq!(dask::graph(&z).len(), 10);
    assert_eq!(z.to_delayed()[0].name(), "sub");
}

#[test]
fn a_reductions_first_step_fuses_into_the_chain() {
    let x = default_rng(1).random(1_000, 100);
    let m = x.powi(2).sqrt().split_every(4).mean();
    // 10 partial tasks (random, powi, sqrt and the partial state in each), a tree of
    // 3 + 1 merges, and the final mean.
    assert_eq!(dask::graph(&m).len(), 10 + 3 + 1 + 1);
    let names: Vec<String> = dask::graph(&m)
        .nodes()
        .map(|(_, n)| n.name.clone())
        .collect();
    assert_eq!(names.iter().filter(|n| *n == "sum-partial").count(), 10);
    assert!(
        !names.iter().any(|n| n == "sqrt" || n == "random"),
        "{names:?}"
    );
}

#[test]
fn equal_arrays_built_twice_are_the_same_nodes() {
    let a = default_rng(5).random([40, 40], 10).powi(2).sum();
    let b = default_rng(5).random([40, 40], 10).powi(2).sum();
    assert_eq!(a.key(), b.key());
    let g = dask::graph((&a, &b));
    assert_eq!(g.len(), dask::graph(&a).len());
    // Another seed, another chunking or another operation: other keys.
    assert_ne!(
        a.key(),
        default_rng(6).random([40, 40], 10).powi(2).sum().key()
    );
    assert_ne!(
        a.key(),
        default_rng(5).random([40, 40], 20).powi(2).sum().key()
    );
    assert_ne!(
        a.key(),
        default_rng(5).random([40, 40], 10).powi(3).sum().key()
    );
    // sum and mean share their partial states, var and std theirs.
    let x = default_rng(5).random(1_000, 100);
    let both = dask::graph((&x.sum(), &x.mean())).len();
    assert_eq!(both, dask::graph(&x.mean()).len() + 1);
    let both = dask::graph((&x.var(), &x.std())).len();
    assert_eq!(both, dask::graph(&x.std()).len() + 1);
    assert_eq!(
        dask::graph((&x.mean(), &x.std())).len(),
        2 * dask::graph(&x.std()).len()
    );
}

#[test]
fn arrays_and_delayed_values_share_one_compute() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let x = default_rng(3).random(10_000, 1_000);
    let total = x.sum();
    let doubled: Delayed<f64> = total.map(|t| {
        RUNS.fetch_add(1, Ordering::SeqCst);
        t * 2.0
    });
    let y = &x + 1.0;
    let (t, d, arr) = dask::compute((&total, &doubled, &y)).unwrap();
    assert_eq!(d, 2.0 * t);
    assert_eq!(arr.len(), 10_000);
    assert!((arr.sum() - (t + 10_000.0)).abs() < 1e-6);
    assert_eq!(RUNS.load(Ordering::SeqCst), 1);
    // The sum's tree is in the graph once although two outputs read it.
    let g = dask::graph((&total, &doubled));
    assert_eq!(g.len(), dask::graph(&total).len() + 1);
}

#[dask::delayed]
fn scale(block: &ArrayD<f64>, by: f64) -> ArrayD<f64> {
    block * by
}

#[test]
fn blocks_go_through_delayed_functions_and_back() {
    let x = array::arange(10, 4);
    let scaled: Vec<Delayed<ArrayD<f64>>> =
        x.to_delayed().into_iter().map(|b| scale(b, 10.0)).collect();
    let y = Array::from_delayed(scaled, x.chunks());
    let want: Vec<f64> = (0..10).map(|i| i as f64 * 10.0).collect();
    assert_eq!(
        y.compute().unwrap().iter().copied().collect::<Vec<_>>(),
        want
    );
    assert_eq!(y.sum().compute().unwrap(), 450.0);
    // A block of another shape than declared is an error naming both shapes.
    let wrong = vec![delayed(ArrayD::zeros(IxDyn(&[3])))];
    let err = Array::from_delayed(wrong, vec![vec![4]])
        .compute()
        .unwrap_err();
    assert!(
        err.to_string().contains("(3,)") && err.to_string().contains("(4,)"),
        "{err}"
    );
}

#[test]
fn persisted_arrays_do_not_recompute() {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let x = array::ones(100, 10).map_blocks(|b| {
        RUNS.fetch_add(1, Ordering::SeqCst);
        b * 3.0
    });
    let held = x.persist().unwrap();
    assert_eq!(RUNS.load(Ordering::SeqCst), 10);
    assert_eq!(held.sum().compute().unwrap(), 300.0);
    assert_eq!((&held * 2.0).max().compute().unwrap(), 6.0);
    assert_eq!(RUNS.load(Ordering::SeqCst), 10);
    assert_eq!(held.to_delayed()[0].key(), x.to_delayed()[0].key());
}

#[test]
fn metadata_and_display_need_no_computation() {
    let x = default_rng(0).random([100, 60], [30, 25]);
    assert_eq!(x.shape(), &[100, 60]);
    assert_eq!(x.ndim(), 2);
    assert_eq!(x.len(), 100);
    assert_eq!(x.numblocks(), vec![4, 3]);
    assert_eq!(x.chunks(), vec![vec![30, 30, 30, 10], vec![25, 25, 10]]);
    assert_eq!(
        x.sqrt().to_string(),
        "dask.array<sqrt, shape=(100, 60), dtype=f64, chunksize=(30, 25), chunks=12, tasks=12>"
    );
}

#[test]
fn visualize_draws_one_node_per_block_task() {
    let dir = std::env::temp_dir().join(format!("dask-array-viz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("x.json");
    let x = Array::from_array(ArrayD::zeros(IxDyn(&[40, 40])), 10);
    (&x + &x.t()).visualize(&path).unwrap();
    let g = dask::TaskGraph::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // 16 blocks of data, 16 transposes, 16 fused adds.
    assert_eq!(g.len(), 48);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn seeds_do_not_depend_on_the_chunking() {
    let rng = default_rng(2024);
    let a = rng.random([30, 20], [7, 9]).compute().unwrap();
    let b = rng.random([30, 20], [30, 20]).compute().unwrap();
    let c = rng
        .random([30, 20], dask::array::Chunks::Auto)
        .compute()
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(a, c);
    let n1 = rng.normal(1.0, 2.0, 1000, 3).compute().unwrap();
    let n2 = rng.normal(1.0, 2.0, 1000, 1000).compute().unwrap();
    assert_eq!(n1, n2);
    assert_ne!(
        a,
        default_rng(2025)
            .random([30, 20], [7, 9])
            .compute()
            .unwrap()
    );
    // Seeded from entropy: two calls differ.
    let e1 = array::random(100, 10).compute().unwrap();
    let e2 = array::random(100, 10).compute().unwrap();
    assert_ne!(e1, e2);
}

#[test]
fn array_tasks_are_pure_enough_for_the_disk_cache() {
    let dir = std::env::temp_dir().join(format!("dask-array-memory-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let total = || {
        default_rng(8)
            .random([50, 40], [20, 15])
            .powi(2)
            .t()
            .sum_axis(0)
            .sum()
    };
    let first = dask::Memory::new(&dir).unwrap();
    let a = first.cache(&total()).unwrap().compute().unwrap();
    assert_eq!((first.stats().hits, first.stats().misses), (0, 1));
    // Another cache on the same directory, with the graph built again: a hit.
    let second = dask::Memory::new(&dir).unwrap();
    let b = second.cache(&total()).unwrap().compute().unwrap();
    assert_eq!((second.stats().hits, second.stats().misses), (1, 0));
    assert_eq!(a, b);
    // A closure over blocks has no content key: refused, with the reason.
    let closure = default_rng(8).random(10, 5).map_blocks(|b| b.clone()).sum();
    let err = second.cache(&closure).unwrap_err();
    assert!(
        matches!(
            err,
            dask::Error::Cache(dask::CacheError::NotCacheable { .. })
        ),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_broadcast_row_of_generated_values_is_generated_at_its_own_positions() {
    // Fused into the matrix's blocks, `arange(3)` was generated at the matrix's flat
    // positions: row 1 got 3, 4, 5 added instead of 0, 1, 2.
    let m = ArrayD::from_shape_fn(IxDyn(&[4, 6]), |i| (i[0] * 6 + i[1]) as f64);
    let ramp = ArrayD::from_shape_fn(IxDyn(&[6]), |i| i[0] as f64);
    for (matrix_chunks, row_chunks) in [([1, 1], 1), ([2, 3], 3), ([4, 6], 6), ([3, 2], 4)] {
        let x = Array::from_array(m.clone(), matrix_chunks);
        let row = array::arange(6, row_chunks);
        let want = &m + &ramp;
        assert_eq!((&x + &row).compute().unwrap(), want, "{matrix_chunks:?}");
        assert_eq!((&row + &x).compute().unwrap(), want, "{matrix_chunks:?}");
        assert_eq!((&x + &row).sum().compute().unwrap(), want.sum());
        // Random values: every row of the broadcast equals the row computed alone.
        let noise = default_rng(5).random(6, row_chunks);
        let alone = noise.compute().unwrap();
        let spread = ((&x * 0.0) + &noise).compute().unwrap();
        for r in spread.outer_iter() {
            assert_eq!(r, alone, "{matrix_chunks:?}");
        }
        // Transposed generated values broadcast too.
        let square = default_rng(6).random([6, 6], row_chunks);
        let cube = Array::from_array(ArrayD::zeros(IxDyn(&[2, 6, 6])), [1, 6, 6]);
        let spread = (&cube + &square.t()).compute().unwrap();
        let alone = square.t().compute().unwrap();
        for plane in spread.outer_iter() {
            assert_eq!(plane, alone, "{matrix_chunks:?}");
        }
    }
}

#[test]
fn rows_and_repeated_operands_broadcast_as_numpy() {
    let m = ArrayD::from_shape_fn(IxDyn(&[6, 4]), |i| (i[0] * 4 + i[1]) as f64);
    let row = ArrayD::from_shape_fn(IxDyn(&[4]), |i| 10.0 * i[0] as f64);
    let x = Array::from_array(m.clone(), [4, 3]);
    let r = Array::from_array(row.clone(), 2);
    assert_eq!((&x + &r).compute().unwrap(), &m + &row);
    assert_eq!((&r - &x).compute().unwrap(), &row - &m);
    assert_eq!((&x * &x).compute().unwrap(), &m * &m);
    assert_eq!((&x * &x).to_delayed().len(), 4);
    let col = Array::from_array(ArrayD::zeros(IxDyn(&[6])), 2);
    assert!(
        (&x + &col).error().is_some(),
        "a column does not broadcast against rows"
    );
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Array>();
}
