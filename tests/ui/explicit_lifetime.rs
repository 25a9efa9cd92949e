use dask::delayed;

#[delayed]
fn len(text: &'static str) -> usize {
    text.len()
}

fn main() {}
