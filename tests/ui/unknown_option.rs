use dask::delayed;

#[delayed(retry = 3)]
fn once(x: u8) -> u8 {
    x
}

fn main() {
    // The function still expands: calls type-check, only the option is reported.
    let _ = once(1);
}
