use dask::delayed;

#[delayed]
fn sum(count: usize, ...) -> usize {
    count
}

fn main() {}
