use dask::delayed;

struct Handle(u32);

#[delayed]
fn open(handle: Handle) -> u32 {
    handle.0
}

fn main() {}
