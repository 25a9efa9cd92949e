use dask::delayed;

#[delayed]
fn name() -> &'static str {
    "x"
}

fn main() {}
