use dask::delayed;

#[delayed(pure, pure)]
fn twice(x: u8) -> u8 {
    x
}

#[delayed(name = "a", name = "b")]
fn named(x: u8) -> u8 {
    x
}

fn main() {}
