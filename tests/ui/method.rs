use dask::delayed;

struct Table;

impl Table {
    #[delayed]
    fn rows(&self) -> usize {
        0
    }
}

fn main() {}
