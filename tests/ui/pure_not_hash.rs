use dask::delayed;

#[delayed(pure)]
fn mean(values: &Vec<f64>) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn main() {}
