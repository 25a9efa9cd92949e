use dask::delayed;

#[delayed]
extern "C" fn callback(x: i32) -> i32 {
    x
}

fn main() {}
