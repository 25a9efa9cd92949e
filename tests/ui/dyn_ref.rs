use std::fmt::Display;

use dask::delayed;

#[delayed]
fn show(value: &dyn Display) -> String {
    value.to_string()
}

fn main() {}
