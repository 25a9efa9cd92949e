#!/usr/bin/env bash
# The project's test command (the README's second command; CI runs it with CI=true).
# Installs what the tests need, then runs every test of the workspace with every feature,
# the loom models of the scheduler's protocols, Miri over its unsafe code, and a smoke run
# of the scheduler benchmark and of the comparison with Python Dask.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/test-deps.sh

# Model checking of the task, sleep and completion protocols (scheduler/src/loom_tests.rs).
# Its own target dir keeps the `--cfg loom` build from invalidating the normal one. Built
# with -D warnings: code that only the loom build leaves unused shows nowhere else.
LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-5}" RUSTFLAGS="--cfg loom -D warnings" \
  CARGO_TARGET_DIR=target/loom cargo test --release --lib loom_

# Miri over the scheduler's unit tests: its `unsafe` result slots (see scripts/miri.sh).
scripts/miri.sh

# The benchmark harness must keep working; tiny sizes, one table.
cargo run --release --example bench_scheduler -- --quick

# The lecture's joblib example end to end: Parallel, then Memory (the second pass must be
# served from the cache, or the example fails).
cargo run --release --example image_flipper

# The live dashboard's example, one round of the lecture's workloads on a free loopback
# port, and its overhead benchmark at a tiny size (both must keep working). Debug builds
# with every feature: the same build as the test run below, not one more.
DASK_DASHBOARD_ONCE=1 DASK_DASHBOARD_ADDR=127.0.0.1:0 \
  cargo run --all-features --example dashboard -- --size 200000
cargo run --all-features --example bench_dashboard -- --runs 1 --size 100000 --fan 10000

# The comparison with Python Dask and joblib: tiny sizes, one run each; checks that both
# sides run and agree (sets up its Python environment; fails under CI=true if it cannot).
scripts/bench-vs-dask.sh --smoke

# Every test of the workspace with every feature (unit, integration, UI, browser, doc
# tests; `tracing`'s span per task, the cluster scheduler on 127.0.0.1 and, as root,
# across two network namespaces): one build of the whole feature set. Last, so the run
# ends with its summary.
cargo test --workspace --all-features
