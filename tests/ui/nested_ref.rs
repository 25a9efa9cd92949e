use dask::delayed;

#[delayed]
fn or_zero(x: Option<&i32>) -> i32 {
    x.copied().unwrap_or(0)
}

fn main() {}
