#!/usr/bin/env bash
# Side-by-side benchmarks against Python Dask, NumPy and joblib (issue #7), in one run on
# this machine: sets up a Python virtual environment with pinned packages from the
# package index (target/bench-venv, reused while benches/python/requirements.txt is
# unchanged), runs benches/python/bench_dask.py, then examples/bench_vs_dask.rs, which
# runs the same workloads, checks that both sides' results agree, prints the table and
# draws the charts.
#
#   scripts/bench-vs-dask.sh           # the full run (about 15 minutes): charts in docs/bench/
#   scripts/bench-vs-dask.sh --smoke   # tiny sizes, one run each: checks the harness (CI)
#   scripts/bench-vs-dask.sh --arrays  # the dask.array rows alone (a few minutes):
#                                      # docs/bench/chunk-size.svg only
#
# Outputs: target/bench-vs-dask/{python,rust}.json and table.md. Without network access
# to the package index a plain run prints a notice and skips; under CI=true it fails.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=full
case "${1:-}" in
  --smoke) mode=smoke ;;
  --arrays) mode=arrays ;;
  "") ;;
  *) echo "usage: $0 [--smoke | --arrays]" >&2; exit 2 ;;
esac

out=target/bench-vs-dask
venv=target/bench-venv
requirements=benches/python/requirements.txt
mkdir -p "$out"

skip_or_fail() {
  if [ "${CI:-}" = "true" ]; then
    echo "bench-vs-dask: $1" >&2
    exit 1
  fi
  echo "bench-vs-dask: $1; skipping the comparison with Python Dask" >&2
  exit 0
}

command -v python3 >/dev/null 2>&1 || skip_or_fail "python3 is not installed"
# The environment is rebuilt when the pinned versions change (the stamp is a copy of the
# requirements it was built from).
if ! cmp -s "$requirements" "$venv/requirements.installed" 2>/dev/null; then
  echo "bench-vs-dask: setting up $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || skip_or_fail "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" \
    || { rm -rf "$venv"; skip_or_fail "pip could not install $requirements (no network?)"; }
  cp "$requirements" "$venv/requirements.installed"
fi

cargo build --quiet --release --example bench_vs_dask

python_args=(--out "$out/python.json")
rust_args=(--python "$out/python.json" --json "$out/rust.json")
if [ "$mode" = smoke ]; then
  python_args+=(--smoke)
  rust_args+=(--smoke --plots "$out/smoke-plots")
elif [ "$mode" = arrays ]; then
  python_args+=(--arrays)
  rust_args+=(--arrays --plots docs/bench)
else
  rust_args+=(--plots docs/bench)
fi

echo "bench-vs-dask ($mode): load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
echo "bench-vs-dask: Python side (Dask, NumPy, joblib)"
"$venv/bin/python" benches/python/bench_dask.py "${python_args[@]}"
echo "bench-vs-dask: Rust side, then the checks and the table"
target/release/examples/bench_vs_dask "${rust_args[@]}" | tee "$out/table.md"
if [ "$mode" = smoke ]; then
  # A smoke run's timings come from tiny sizes and single runs: its table must judge no
  # goal ("met" / "missed") and must say that its results agree.
  if grep -qE ': (met|\*\*missed\*\*)' "$out/table.md" \
    || ! grep -q '^smoke: results agree' "$out/table.md"; then
    echo "bench-vs-dask: the smoke table judges goals it cannot support" >&2
    exit 1
  fi
fi
