#!/usr/bin/env bash
# Runs the scheduler's unit tests under Miri, which checks the `unsafe` result-slot code
# for undefined behaviour. Needs the nightly toolchain's miri and rust-src components.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
installed=$(rustup component list --toolchain nightly --installed 2>/dev/null)
for component in miri rust-src; do
  grep -q "^$component" <<<"$installed" || rustup component add "$component" --toolchain nightly
done
# Pool threads live for the whole process, so they are still running when a test ends.
# crossbeam-epoch (under crossbeam-deque) is sound under Tree Borrows but not Stacked
# Borrows; crossbeam runs its own Miri checks with Tree Borrows too.
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-tree-borrows -Zmiri-ignore-leaks}"
CARGO_TARGET_DIR=target/miri cargo +nightly miri test -p dask --lib -- --skip loom
