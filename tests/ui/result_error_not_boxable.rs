use dask::delayed;

struct NotAnError;

#[delayed]
fn check(x: u8) -> Result<u8, NotAnError> {
    if x > 0 {
        Ok(x)
    } else {
        Err(NotAnError)
    }
}

fn main() {}
