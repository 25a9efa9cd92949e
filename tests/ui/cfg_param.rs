use dask::delayed;

#[delayed]
fn scaled(x: f64, #[cfg(any())] factor: f64) -> f64 {
    x
}

fn main() {}
