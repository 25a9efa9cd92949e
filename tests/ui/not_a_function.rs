use dask::delayed;

#[delayed]
struct Settings {
    threads: usize,
}

fn main() {}
