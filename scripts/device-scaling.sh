#!/usr/bin/env bash
# The scaling figures of issue 17 on a many-core machine (a lent device machine, say),
# from a binary built here: tiny tasks (`--scaling`: 1M tasks and a join, per-task cost
# on 1, 2, 4, ... threads) and coarse tasks (`--scaling-coarse`: 2^18 tasks of about
# 7 µs, parallel efficiency). Both print the Markdown tables BENCHMARKS.md quotes.
#
#   scripts/device-scaling.sh build        # here: builds and copies the binary to device/
#   scripts/device-scaling.sh run          # there: runs both tables from device/
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  build)
    cargo build --release --example bench_scheduler
    mkdir -p device
    cp target/release/examples/bench_scheduler device/
    ;;
  run)
    nproc
    lscpu | grep -E '^Model name|^CPU\(s\)' || true
    ./device/bench_scheduler --scaling
    ./device/bench_scheduler --scaling-coarse
    ;;
  *)
    echo "usage: $0 build|run" >&2
    exit 2
    ;;
esac
