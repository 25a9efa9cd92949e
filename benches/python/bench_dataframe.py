"""The Python side of the dataframe rows of `scripts/bench-vs-dask.sh`: Dask (with
pandas and pyarrow) on the lecture's queries, and pandas on the files that
`examples/bench_dataframe.rs run` wrote, so that both sides' results can be compared row
for row on identical data.

    python bench_dataframe.py --data DIR --freq 1s --runs 5 --out python.json

Writes one JSON document: versions, each run's seconds per workload (Dask, 2 threads),
pandas' results on our files, and the peak memory of Dask's read_csv + groupby over its
own CSV files (a fresh process per run: this script started again with --memory-child).
"""

import argparse
import glob
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import time

import dask
import dask.dataframe as dd
import pandas as pd
import pyarrow

# Both sides use two workers: the machine has two cores.
WORKERS = 2


def timed(f, runs):
    seconds = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = f()
        seconds.append(time.perf_counter() - start)
    return result, seconds


def natural(path):
    """Sort key with digit runs compared as numbers (our files' order)."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path)]


def finite(values):
    return [None if (v is None or (isinstance(v, float) and math.isnan(v))) else v for v in values]


def table(frame):
    """A groupby table as {name: [sum x, max y]}."""
    return {str(name): [float(row.x), float(row.y)] for name, row in frame.iterrows()}


def by_name(df):
    return df.groupby("name").agg({"x": "sum", "y": "max"})


def dask_side(scratch, freq, runs, log):
    csv_dir = os.path.join(scratch, "csv")
    parquet_dir = os.path.join(scratch, "parquet")
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(csv_dir)
    seconds = {}

    def record(key, secs):
        seconds[key] = secs
        log(f"{key}: {sorted(secs)[len(secs) // 2] * 1e3:.1f} ms")

    df, secs = timed(lambda: dask.datasets.timeseries(freq=freq).persist(), runs)
    record("make", secs)
    _, secs = timed(lambda: df[df.y > 0].x.sum().compute(), runs)
    record("filter_sum", secs)
    _, secs = timed(lambda: by_name(df).compute(), runs)
    record("groupby", secs)
    _, secs = timed(lambda: df[df.y > 0][["name", "x"]].x.std().compute(), runs)
    record("std", secs)
    _, secs = timed(lambda: df[["x", "y"]].resample("1h").mean().compute(), runs)
    record("resample", secs)
    _, secs = timed(lambda: df[["x"]].rolling("1min").mean().compute(), runs)
    record("rolling", secs)
    _, secs = timed(lambda: df.to_csv(os.path.join(csv_dir, "*.csv")), runs)
    record("to_csv", secs)
    _, secs = timed(lambda: by_name(dd.read_csv(os.path.join(csv_dir, "*.csv"))).compute(), runs)
    record("read_csv_groupby", secs)
    _, secs = timed(lambda: df.to_parquet(parquet_dir), runs)
    record("to_parquet", secs)
    _, secs = timed(lambda: by_name(dd.read_parquet(parquet_dir)).compute(), runs)
    record("read_parquet_groupby", secs)
    return seconds, csv_dir


def pandas_on_our_files(data):
    """The lecture's queries with pandas alone on the files the Rust side wrote."""
    files = sorted(glob.glob(os.path.join(data, "csv", "*.csv")), key=natural)
    frame = pd.concat(
        [pd.read_csv(f, parse_dates=["timestamp"]) for f in files], ignore_index=True
    ).set_index("timestamp")
    positive = frame[frame.y > 0]
    rolled = frame[["x"]].rolling("1min").mean().x
    from_parquet = pd.read_parquet(os.path.join(data, "parquet"))
    return {
        "filter_sum": float(positive.x.sum()),
        "groupby": table(by_name(frame)),
        "std": float(positive[["name", "x"]].x.std()),
        "resample_x": finite([float(v) for v in frame[["x", "y"]].resample("1h").mean().x]),
        "rolling_sum": float(rolled.sum()),
        "rolling_first": finite([float(v) for v in rolled.iloc[:5]]),
        "read_csv_groupby": table(by_name(frame)),
        "read_parquet_groupby": table(by_name(from_parquet)),
        "files": len(files),
    }


def peak_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def memory_child(csv_dir):
    pattern = os.path.join(csv_dir, "*.csv")
    # Load every module and start the pool before the baseline.
    by_name(dask.datasets.timeseries(freq="1h")).compute()
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    before = peak_kib()
    result = by_name(dd.read_csv(pattern)).compute()
    after = peak_kib()
    print(json.dumps({"peak_delta_mib": (after - before) / 1024, "result_rows": len(result)}))


def memory(csv_dir, runs):
    out = []
    for _ in range(runs):
        child = subprocess.run(
            [sys.executable, __file__, "--memory-child", csv_dir],
            check=True,
            capture_output=True,
            text=True,
        )
        out.append(json.loads(child.stdout))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="the directory the Rust side wrote its files to")
    parser.add_argument("--scratch", help="where Dask writes its own files")
    parser.add_argument("--freq", default="1s")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--memory-runs", type=int, default=3)
    parser.add_argument("--out")
    parser.add_argument("--memory-child")
    args = parser.parse_args()
    dask.config.set(scheduler="threads", num_workers=WORKERS)
    if args.memory_child:
        return memory_child(args.memory_child)
    if not (args.data and args.out and args.scratch):
        parser.error("--data, --scratch and --out are required")

    def log(message):
        print(f"  python: {message}", file=sys.stderr, flush=True)

    doc = {
        "versions": {
            "python": platform.python_version(),
            "dask": dask.__version__,
            "pandas": pd.__version__,
            "pyarrow": pyarrow.__version__,
        },
        "workers": WORKERS,
        "load_before": os.getloadavg(),
    }
    doc["seconds"], csv_dir = dask_side(args.scratch, args.freq, args.runs, log)
    doc["memory"] = memory(csv_dir, args.memory_runs)
    doc["pandas"] = pandas_on_our_files(args.data)
    doc["load_after"] = os.getloadavg()
    shutil.rmtree(args.scratch, ignore_errors=True)
    with open(args.out, "w") as out:
        json.dump(doc, out, indent=1)


if __name__ == "__main__":
    main()
