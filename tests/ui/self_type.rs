use dask::delayed;

struct Meters(f64);

impl Meters {
    #[delayed]
    fn new(value: f64) -> Self {
        Meters(value)
    }
}

fn main() {}
