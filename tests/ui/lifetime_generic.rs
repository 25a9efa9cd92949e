use dask::delayed;

#[delayed]
fn first<'a>(items: &Vec<String>) -> String {
    items[0].clone()
}

fn main() {}
