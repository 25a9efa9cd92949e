//! A tour of `dask::array` in 2-D: a random matrix, `x + x.T`, a slice, sums along an
//! axis, a standard deviation, a matrix product, a rechunk, persist, and the graph drawn
//! as SVG.
//!
//! ```text
//! cargo run --release --example array [-- OUT_DIR]
//! ```

use dask::array::ndarray::s;
use dask::array::{random::default_rng, Chunks};

fn main() -> Result<(), dask::Error> {
    let out = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "target".into()));
    std::fs::create_dir_all(&out).map_err(|e| dask::Error::InvalidConfig(e.to_string()))?;

    let x = default_rng(42).random([2_000, 2_000], [500, 500]);
    println!("x           = {x}");

    let y = &x + &x.t();
    println!("x + x.T     = {y}");
    let total = y.sum();
    let start = std::time::Instant::now();
    let value = total.compute()?;
    println!(
        "(x + x.T).sum() = {value:.3} in {:.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    let corner = y.slice(s![..10, 5]);
    println!("y[:10, 5]   = {}", corner.compute()?);

    let col_sums = y.sum_axis(0);
    println!("y.sum(0)    = {col_sums}");
    let (sums, sd) = dask::compute((&col_sums, &y.std()))?;
    println!("  first sums: {:.3}", sums.slice(s![..4]));
    println!(
        "y.std()     = {sd:.6} (two uniforms summed: about {:.6})",
        (2.0f64 / 12.0).sqrt()
    );

    let p = x.matmul(&x.t());
    println!("x @ x.T     = {p}");
    println!("  trace     = {:.3}", p.compute()?.diag().sum());

    let r = y.rechunk([1_000, 250]);
    println!("rechunked   = {r}");

    let held = y.persist()?;
    println!("persisted   = {held} (blocks held in memory)");
    println!("held mean   = {:.6}", held.mean().compute()?);

    let auto = x.rechunk(Chunks::Auto);
    println!(
        "auto chunks = {:?}",
        auto.chunks().iter().map(Vec::len).collect::<Vec<_>>()
    );

    let path = out.join("array.svg");
    (&x + &x.t()).sum_axis(1).visualize(&path)?;
    println!("graph of (x + x.T).sum(1): {}", path.display());
    Ok(())
}
