//! `cargo bench --bench scheduler`: the table of `examples/bench_scheduler.rs`.
include!("../examples/bench_scheduler.rs");
