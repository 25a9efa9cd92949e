use dask::delayed;

#[delayed(retries = 1000)]
fn too_many(x: u8) -> u8 {
    x
}

#[delayed(retries = "3")]
fn not_a_number(x: u8) -> u8 {
    x
}

#[delayed(retries = 2, retries = 3)]
fn twice(x: u8) -> u8 {
    x
}

fn main() {
    let _ = (too_many(1), not_a_number(1), twice(1));
}
