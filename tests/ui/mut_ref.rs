use dask::delayed;

#[delayed]
fn push(items: &mut Vec<i32>, x: i32) {
    items.push(x);
}

fn main() {}
