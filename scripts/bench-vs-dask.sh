#!/usr/bin/env bash
# Side-by-side benchmarks against Python Dask, NumPy and joblib (issue #7), in one run on
# this machine: sets up a Python virtual environment with pinned packages from the
# package index (target/bench-venv, reused while benches/python/requirements.txt is
# unchanged), runs benches/python/bench_dask.py, then examples/bench_vs_dask.rs, which
# runs the same workloads, checks that both sides' results agree, prints the table and
# draws the charts. Then the dataframe rows (issue #16): examples/bench_dataframe.rs times
# the lecture's queries and writes its CSV and Parquet files, benches/python/
# bench_dataframe.py times Dask + pandas and runs pandas on our files, and the report
# checks both sides' results agree before printing the table.
#
#   scripts/bench-vs-dask.sh                   # the full run (about 20 minutes): charts in docs/bench/
#   scripts/bench-vs-dask.sh --smoke           # tiny sizes, one run each: checks the harness (CI)
#   scripts/bench-vs-dask.sh --arrays          # the dask.array rows alone (a few minutes):
#                                              # docs/bench/chunk-size.svg only
#   scripts/bench-vs-dask.sh --dataframe-only  # the dataframe rows alone (with --smoke too)
#   scripts/bench-vs-dask.sh --sql-only        # the SQL group-by beside DuckDB alone
#
# A full run ends with the SQL group-by beside DuckDB (scripts/bench-sql-vs-duckdb.sh:
# dask-sql does not install here, so DuckDB's Python package on the same Parquet files).
#
# Outputs: target/bench-vs-dask/{python,rust}.json and table.md. Without network access
# to the package index a plain run prints a notice and skips; under CI=true it fails.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=full
only=all
for arg in "$@"; do
  case "$arg" in
    --smoke) mode=smoke ;;
    --arrays) mode=arrays ;;
    --dataframe-only) only=dataframe ;;
    --sql-only) only=sql ;;
    *) echo "usage: $0 [--smoke | --arrays] [--dataframe-only | --sql-only]" >&2; exit 2 ;;
  esac
done

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

# A smoke run's timings come from tiny sizes and single runs: its table must judge no
# goal ("met" / "missed") and must say that its results agree.
check_smoke_table() {
  if grep -qE ': (met|\*\*missed\*\*)' "$1" || ! grep -q '^smoke: results agree' "$1"; then
    echo "bench-vs-dask: the smoke table $1 judges goals it cannot support" >&2
    exit 1
  fi
}

echo "bench-vs-dask ($mode): load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
if [ "$only" = all ]; then
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

echo "bench-vs-dask: Python side (Dask, NumPy, joblib)"
"$venv/bin/python" benches/python/bench_dask.py "${python_args[@]}"
echo "bench-vs-dask: Rust side, then the checks and the table"
target/release/examples/bench_vs_dask "${rust_args[@]}" | tee "$out/table.md"
if [ "$mode" = smoke ]; then
  check_smoke_table "$out/table.md"
fi
fi

# The dataframe rows: our run writes the files pandas then reads. A smoke run uses the
# debug build with every feature, the one the tests use: its timings judge nothing, and a
# release build of Arrow and Parquet (or a build of other features) would cost CI minutes.
# `--arrays` runs only the array rows.
if [ "$mode" != arrays ] && [ "$only" != sql ]; then
df_files="$out/df-ours"
if [ "$mode" = smoke ]; then
  cargo build --quiet --all-features --example bench_dataframe
  bench_dataframe=target/debug/examples/bench_dataframe
  df_flags=(--smoke); df_sizes=(--freq 1min --runs 1 --memory-runs 1); df_plots="$out/smoke-plots"
else
  cargo build --quiet --release --features dataframe --example bench_dataframe
  bench_dataframe=target/release/examples/bench_dataframe
  df_flags=(); df_sizes=(--freq 1s --runs 5 --memory-runs 3); df_plots=docs/bench
fi
echo "bench-vs-dask: dataframes, Rust side (writes the files)"
"$bench_dataframe" run --data "$df_files" --out "$out/dataframe-rust.json" "${df_flags[@]}"
echo "bench-vs-dask: dataframes, Python side (Dask + pandas, and pandas on our files)"
"$venv/bin/python" benches/python/bench_dataframe.py --data "$df_files" --scratch "$out/df-dask" \
  "${df_sizes[@]}" --out "$out/dataframe-python.json"
"$bench_dataframe" report --rust "$out/dataframe-rust.json" \
  --python "$out/dataframe-python.json" --plots "$df_plots" "${df_flags[@]}" | tee "$out/dataframe.md"
rm -rf "$df_files"
if [ "$mode" = smoke ]; then
  check_smoke_table "$out/dataframe.md"
fi
fi

# The lecture's SQL group-by beside DuckDB on the same Parquet files, in one run (full
# runs and --sql-only; not in smoke runs, which would need a release build of Arrow).
if { [ "$mode" = full ] && [ "$only" = all ]; } || [ "$only" = sql ]; then
  echo "bench-vs-dask: SQL group-by, dask::sql beside DuckDB"
  scripts/bench-sql-vs-duckdb.sh 5 | tee "$out/sql.md"
fi
