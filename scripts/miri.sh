#!/usr/bin/env bash
# Runs the scheduler's unit tests under Miri, which checks the `unsafe` result-slot code
# for undefined behaviour. Needs the nightly toolchain's miri and rust-src components.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! rustup component list --toolchain nightly --installed 2>/dev/null | grep -q '^miri'; then
  rustup component add miri rust-src --toolchain nightly
fi
# Pool threads live for the whole process, so they are still running when a test ends.
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-ignore-leaks}"
CARGO_TARGET_DIR=target/miri cargo +nightly miri test -p dask --lib -- --skip loom
