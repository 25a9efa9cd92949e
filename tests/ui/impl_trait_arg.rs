use dask::delayed;

#[delayed]
fn label(name: impl Into<String>) -> String {
    name.into()
}

fn main() {}
