#!/usr/bin/env bash
# The lecture's SQL group-by on the same Parquet files (Dask's demo table, 30 files):
# `dask::sql` (examples/bench_sql.rs) beside DuckDB's Python package, in one run.
# dask-sql is not used: it does not install here. DuckDB goes into target/duckdb-venv.
#
#   scripts/bench-sql-vs-duckdb.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-9}"
venv=target/duckdb-venv
data=target/bench-sql-parquet
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import duckdb" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check duckdb
fi
rm -rf "$data"
cargo build --quiet --release --features sql --example bench_sql
echo "load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
target/release/examples/bench_sql "$runs" --parquet "$data"
"$venv/bin/python" benches/python/bench_sql_duckdb.py "$data" "$runs"
rm -rf "$data"
