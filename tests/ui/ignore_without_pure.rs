use dask::delayed;

#[delayed(ignore(verbose))]
fn a(x: u32, verbose: bool) -> u32 {
    let _ = verbose;
    x
}

#[delayed(pure, ignore(vrebose))]
fn b(x: u32, verbose: bool) -> u32 {
    let _ = verbose;
    x
}

fn main() {}
