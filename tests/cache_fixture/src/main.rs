//! Usage: `dask-cache-fixture <cache dir>`. Caches `scaled(4)` in the directory, computes
//! it and prints `value=<v> hits=<h> misses=<m>`.

use dask::{delayed, Memory};

/// The first version of the function.
#[cfg(not(feature = "v2"))]
#[delayed(pure)]
fn scaled(x: u64) -> u64 {
    x * 10
}

/// The same function, edited.
#[cfg(feature = "v2")]
#[delayed(pure)]
fn scaled(x: u64) -> u64 {
    x * 100
}

fn main() -> Result<(), dask::Error> {
    let dir = std::env::args_os()
        .nth(1)
        .expect("a cache directory argument");
    let memory = Memory::new(dir)?;
    let value = memory.cache(&scaled(4))?.compute()?;
    let stats = memory.stats();
    println!("value={value} hits={} misses={}", stats.hits, stats.misses);
    Ok(())
}
