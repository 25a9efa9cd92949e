use std::rc::Rc;

use dask::delayed;

#[delayed]
fn share(x: u32) -> Rc<u32> {
    Rc::new(x)
}

fn main() {}
