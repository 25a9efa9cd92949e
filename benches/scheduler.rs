//! `cargo bench --bench scheduler`: the table of `examples/bench_scheduler.rs`.

#[path = "../examples/bench_scheduler.rs"]
mod harness;

fn main() {
    harness::main();
}
