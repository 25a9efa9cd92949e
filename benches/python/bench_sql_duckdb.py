"""DuckDB's time for the lecture's group-by query on the Parquet files that
`bench_sql --parquet DIR` wrote (scripts/bench-sql-vs-duckdb.sh runs both)."""
import statistics
import sys
import time

import duckdb

directory, runs = sys.argv[1], int(sys.argv[2])
con = duckdb.connect()
con.execute("SET threads TO 2")
query = (
    "SELECT name, SUM(x) AS x, MAX(y) AS y "
    f"FROM read_parquet('{directory}/*.parquet') WHERE y > 0 GROUP BY name"
)
con.execute(query).fetchall()
times = []
for _ in range(runs):
    start = time.perf_counter()
    rows = con.execute(query).fetchall()
    times.append(time.perf_counter() - start)
assert len(rows) == 26, rows
print(f"duckdb {duckdb.__version__} parquet group-by ({runs} runs): {statistics.median(times) * 1e3:.1f} ms")
