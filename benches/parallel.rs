//! `cargo bench --bench parallel`: the table of `examples/bench_parallel.rs`.

#[path = "../examples/bench_parallel.rs"]
mod harness;

fn main() {
    harness::main();
}
