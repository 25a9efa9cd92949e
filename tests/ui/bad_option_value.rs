use dask::delayed;

#[delayed(name = load)]
fn load(x: u8) -> u8 {
    x
}

#[delayed(pure = true)]
fn pure_load(x: u8) -> u8 {
    x
}

#[delayed(name = "")]
fn unnamed(x: u8) -> u8 {
    x
}

fn main() {}
