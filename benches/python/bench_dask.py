"""The Python side of `scripts/bench-vs-dask.sh`: Dask, NumPy and joblib on the workloads
that `examples/bench_vs_dask.rs` runs with our scheduler.

Writes one JSON document: the sizes it used (the Rust side runs exactly those), every
result value (checked against the Rust side before any time is shown) and every run's
time in seconds (the Rust side takes medians). Memory figures come from a fresh Python
process per measurement (this script started again with --memory-child).

    python bench_dask.py --out python.json [--smoke] [--arrays]
"""

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time

import dask
import dask.local
import dask.threaded
import joblib
import numpy as np
from dask import delayed

# Both sides use two workers: the machine has two cores.
WORKERS = 2

FULL = {
    "runs": 5,
    "overhead_ns": [10_000, 100_000],
    "calculation_size": 10_000_000,
    "calculation_calls": 5,
    "scaling_size": 1_000_000,
    "scaling_items": list(range(1, 9)),
    "pipeline_sizes": [1_000_000, 2_000_000, 3_000_000],
    "bar_items": 6,
    "bar_runs": 21,
    "memory_tasks": 50,
    "memory_elems": 1_000_000,
    "array_size": 10_000_000,
    "array_chunks": [100_000, 2_000_000, 5_000_000, "auto"],
    "array_side": 10_000,
    "array_side_chunk": 1_000,
    "matmul_side": 4_000,
    "matmul_chunk": 1_000,
}

SMOKE = {
    "runs": 1,
    "overhead_ns": [1_000],
    "calculation_size": 20_000,
    "calculation_calls": 5,
    "scaling_size": 10_000,
    "scaling_items": [1, 2],
    "pipeline_sizes": [1_000, 2_000, 3_000],
    "bar_items": 6,
    "bar_runs": 1,
    "memory_tasks": 50,
    "memory_elems": 1_000,
    "array_size": 100_000,
    "array_chunks": [1_000, 20_000, 50_000, "auto"],
    "array_side": 200,
    "array_side_chunk": 50,
    "matmul_side": 200,
    "matmul_chunk": 50,
}


def timed(f, runs):
    """(the last result, the seconds of each of `runs` calls)."""
    seconds = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = f()
        seconds.append(time.perf_counter() - start)
    return result, seconds


# ---- Scheduler overhead: the four shapes of examples/workloads/shapes.rs, with the
# ---- same u64 counts, as plain dict graphs (Dask's leanest path: no Delayed objects,
# ---- no graph optimisation; building chains of Delayed objects is quadratic in Dask).


def source():
    return 1


def leaf(root):
    return root


def join(parts):
    return sum(parts)


def link(prev):
    return prev + 1


def pair(left, right):
    return left + right


def cell1(neighbour):
    return neighbour + 1


def cell2(left, up):
    return max(left, up) + 1


def tree_leaves(n):
    return (1 << (n - 1).bit_length()) // 2


def side(n):
    return math.isqrt(n)


def shape_graph(shape, n):
    """(dict graph, output key) for a shape, as examples/workloads/shapes.rs builds it."""
    if shape == "fan":
        dsk = {"source": (source,)}
        for i in range(n):
            dsk[f"leaf-{i}"] = (leaf, "source")
        dsk["join"] = (join, [f"leaf-{i}" for i in range(n)])
        return dsk, "join"
    if shape == "chain":
        dsk = {"link-0": (source,)}
        for i in range(1, n):
            dsk[f"link-{i}"] = (link, f"link-{i - 1}")
        return dsk, f"link-{n - 1}"
    if shape == "tree":
        level = [f"source-{i}" for i in range(tree_leaves(n))]
        dsk = {key: (source,) for key in level}
        depth = 0
        while len(level) > 1:
            depth += 1
            upper = []
            for i in range(0, len(level), 2):
                key = f"pair-{depth}-{i // 2}"
                dsk[key] = (pair, level[i], level[i + 1])
                upper.append(key)
            level = upper
        return dsk, level[0]
    if shape == "wave":
        s = side(n)
        dsk = {}
        for i in range(s):
            for j in range(s):
                key = f"cell-{i}-{j}"
                if i == 0 and j == 0:
                    dsk[key] = (source,)
                elif i == 0:
                    dsk[key] = (cell1, f"cell-0-{j - 1}")
                elif j == 0:
                    dsk[key] = (cell1, f"cell-{i - 1}-0")
                else:
                    dsk[key] = (cell2, f"cell-{i}-{j - 1}", f"cell-{i - 1}-{j}")
        return dsk, f"cell-{s - 1}-{s - 1}"
    raise ValueError(shape)


def run_threads(dsk, key):
    return dask.threaded.get(dsk, [key], num_workers=WORKERS)[0]


def run_sync(dsk, key):
    return dask.local.get_sync(dsk, [key])[0]


def overhead(config, log):
    rows = []
    for n in config["overhead_ns"]:
        for shape in ["fan", "chain", "tree", "wave"]:
            dsk, key = shape_graph(shape, n)
            for scheduler, run in [("threads", run_threads), ("sync", run_sync)]:
                result, seconds = timed(lambda: run(dsk, key), config["runs"])
                log(f"overhead {shape} n={n} {scheduler}: {min(seconds):.3f} s")
                rows.append(
                    {
                        "shape": shape,
                        "n": n,
                        "tasks": len(dsk),
                        "scheduler": scheduler,
                        "result": result,
                        "seconds": seconds,
                    }
                )
    return rows


# ---- The lecture's workloads, with the numbers of examples/workloads/random.rs so that
# ---- both sides compute the same values.

STEP = 0.6180339887498949  # the golden ratio's conjugate
STREAM = 0.4142135623730951  # sqrt(2) - 1


def uniform(seed, size):
    """Values 0..size of stream `seed` in [0, 1), bit for bit as `uniform(seed, i)` in
    examples/workloads/random.rs: the fractional parts of i * STEP + start."""
    start = seed * STREAM
    start -= math.floor(start)
    x = np.arange(size, dtype=np.float64)
    x *= STEP
    x += start
    x -= np.floor(x)
    return x


def calculation(size, seed):
    """The lecture's calculation: ten rounds of sqrt + sin, then the mean."""
    x = uniform(seed, size)
    for _ in range(10):
        x = np.sqrt(x) + np.sin(x)
    return float(x.mean())


def calculations(config, log):
    size, calls, runs = config["calculation_size"], config["calculation_calls"], config["runs"]
    seeds = range(calls)
    parallel = joblib.Parallel(n_jobs=WORKERS)
    # Start joblib's worker processes before timing (our pool is started too).
    parallel(joblib.delayed(calculation)(1000, s) for s in seeds)
    out = {"size": size, "calls": calls}

    serial, out["serial"] = timed(lambda: [calculation(size, s) for s in seeds], runs)
    log(f"calculation serial: {min(out['serial']):.2f} s")
    jl, out["joblib"] = timed(
        lambda: parallel(joblib.delayed(calculation)(size, s) for s in seeds), runs
    )
    log(f"calculation joblib: {min(out['joblib']):.2f} s")
    dk, out["dask"] = timed(
        lambda: list(
            dask.compute(
                *[delayed(calculation)(size, s) for s in seeds],
                scheduler="threads",
                num_workers=WORKERS,
            )
        ),
        runs,
    )
    log(f"calculation dask: {min(out['dask']):.2f} s")
    out["results"] = {"serial": serial, "joblib": jl, "dask": dk}
    return out


def scaling(config, log):
    """Serial vs parallel time against the number of calculation calls."""
    size, runs = config["scaling_size"], config["runs"]
    parallel = joblib.Parallel(n_jobs=WORKERS)
    rows = []
    for items in config["scaling_items"]:
        seeds = range(items)
        row = {"items": items}
        _, row["serial"] = timed(lambda: [calculation(size, s) for s in seeds], runs)
        _, row["joblib"] = timed(
            lambda: parallel(joblib.delayed(calculation)(size, s) for s in seeds), runs
        )
        _, row["dask"] = timed(
            lambda: dask.compute(
                *[delayed(calculation)(size, s) for s in seeds],
                scheduler="threads",
                num_workers=WORKERS,
            ),
            runs,
        )
        rows.append(row)
    log(f"scaling: {len(rows)} points")
    return {"size": size, "rows": rows}


def generate_data(size):
    return uniform(size, size)


def transform_data(data):
    return np.sin(data * 2.0) + np.sqrt(data)


def aggregate_data(data):
    return {"mean": float(data.mean()), "std": float(data.std()), "max": float(data.max())}


def pipeline(config, log):
    sizes, runs = config["pipeline_sizes"], config["runs"]
    out = {"sizes": sizes}
    serial, out["numpy"] = timed(
        lambda: [aggregate_data(transform_data(generate_data(n))) for n in sizes], runs
    )

    def with_dask():
        outs = [
            delayed(aggregate_data)(delayed(transform_data)(delayed(generate_data)(n)))
            for n in sizes
        ]
        return list(dask.compute(*outs, scheduler="threads", num_workers=WORKERS))

    dk, out["dask"] = timed(with_dask, runs)
    log(f"pipeline: numpy {min(out['numpy']) * 1e3:.0f} ms, dask {min(out['dask']) * 1e3:.0f} ms")
    out["results"] = {"numpy": serial, "dask": dk}
    return out


def bar(x):
    """The lecture's first example's function (examples/workloads/map.rs)."""
    return x * x


def bar_map(config, log):
    items, runs = config["bar_items"], config["bar_runs"]
    parallel = joblib.Parallel(n_jobs=WORKERS)
    parallel(joblib.delayed(bar)(x) for x in range(items))  # start the workers
    result, seconds = timed(lambda: parallel(joblib.delayed(bar)(x) for x in range(items)), runs)
    log(f"bar: joblib {min(seconds) * 1e3:.2f} ms")
    return {"items": items, "result": result, "joblib": seconds}


# ---- Peak memory of a tree reduction over big arrays: one fresh process per figure.


def make(i, elems):
    return np.full(elems, float(i + 1))


def add(left, right):
    return left + right


def total(data):
    return float(data.sum())


def tree_reduction(tasks, elems):
    """Pairwise sums over `tasks` arrays (an odd one out moves up a level), then the sum
    of the last array's elements; examples/bench_vs_dask.rs builds the same tree."""
    level = [delayed(make)(i, elems) for i in range(tasks)]
    while len(level) > 1:
        level = [
            delayed(add)(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
            for i in range(0, len(level), 2)
        ]
    return delayed(total)(level[0])


def peak_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def reset_peak():
    """Makes VmHWM the current resident size (Linux's clear_refs, value 5)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def memory_child(scheduler, tasks, elems):
    out = tree_reduction(tasks, elems)
    # Start the thread pool and load every module before the baseline.
    dask.compute(tree_reduction(2, 10), scheduler=scheduler, num_workers=WORKERS)
    reset_peak()
    before = peak_kib()
    (result,) = dask.compute(out, scheduler=scheduler, num_workers=WORKERS)
    after = peak_kib()
    print(json.dumps({"result": result, "peak_delta_mib": (after - before) / 1024}))


def memory(config, log):
    tasks, elems, runs = config["memory_tasks"], config["memory_elems"], config["runs"]
    out = {"tasks": tasks, "elems": elems}
    for scheduler in ["threads", "sync"]:
        deltas, results = [], []
        for _ in range(runs):
            child = subprocess.run(
                [sys.executable, __file__, "--memory-child", scheduler, str(tasks), str(elems)],
                check=True,
                capture_output=True,
                text=True,
            )
            measured = json.loads(child.stdout)
            deltas.append(measured["peak_delta_mib"])
            results.append(measured["result"])
        out[scheduler] = deltas
        out[f"{scheduler}_results"] = results
        log(f"memory {scheduler}: {sorted(deltas)[len(deltas) // 2]:.0f} MiB")
    return out


def arrays(config, log):
    """dask.array: the lecture's chunk-size sweep of mean(sqrt(x**2)), random values
    generated inside the timing, against serial NumPy; (x + x.T).sum() in 2-D; a chunked
    matmul against NumPy's dot (OpenBLAS). Results are random, so the Rust side checks
    them against their expected values, not against ours."""
    import dask.array as da

    n, runs = config["array_size"], config["runs"]
    out = {"size": n, "sweep": []}
    for chunks in config["array_chunks"]:
        x = da.random.random(n, chunks=chunks)
        m = da.sqrt(x**2).mean()
        r, secs = timed(lambda: float(m.compute(scheduler="threads", num_workers=WORKERS)), runs)
        out["sweep"].append(
            {"chunks": chunks, "numblocks": x.numblocks[0], "result": r, "seconds": secs}
        )
        log(f"array sweep {chunks}: {min(secs) * 1e3:.0f} ms")

    def numpy_serial():
        x = np.random.random(n)
        return float(np.sqrt(x**2).mean())

    out["numpy_result"], out["numpy"] = timed(numpy_serial, runs)

    side, chunk = config["array_side"], config["array_side_chunk"]
    x = da.random.random((side, side), chunks=(chunk, chunk))
    total = (x + x.T).sum()
    out["transpose_sum_result"], out["transpose_sum"] = timed(
        lambda: float(total.compute(scheduler="threads", num_workers=WORKERS)), runs
    )
    log(f"array (x + x.T).sum(): {min(out['transpose_sum']) * 1e3:.0f} ms")

    side, chunk = config["matmul_side"], config["matmul_chunk"]
    a = da.random.random((side, side), chunks=(chunk, chunk))
    b = da.random.random((side, side), chunks=(chunk, chunk))
    product_mean = a.dot(b).mean()
    out["matmul_result"], out["matmul"] = timed(
        lambda: float(product_mean.compute(scheduler="threads", num_workers=WORKERS)), runs
    )
    an, bn = np.random.random((side, side)), np.random.random((side, side))
    out["numpy_dot_result"], out["numpy_dot"] = timed(lambda: float((an @ bn).mean()), runs)
    log(f"array matmul: dask {min(out['matmul']):.2f} s, numpy {min(out['numpy_dot']):.2f} s")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="where to write the JSON document")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run each")
    parser.add_argument("--arrays", action="store_true", help="only the dask.array rows")
    parser.add_argument("--memory-child", nargs=3, metavar=("SCHEDULER", "TASKS", "ELEMS"))
    args = parser.parse_args()
    if args.memory_child:
        scheduler, tasks, elems = args.memory_child
        return memory_child(scheduler, int(tasks), int(elems))
    if not args.out:
        parser.error("--out is required")

    config = SMOKE if args.smoke else FULL

    def log(message):
        print(f"  python: {message}", file=sys.stderr, flush=True)

    doc = {
        "config": config,
        "versions": {
            "python": platform.python_version(),
            "dask": dask.__version__,
            "numpy": np.__version__,
            "joblib": joblib.__version__,
        },
        "workers": WORKERS,
        "load_before": os.getloadavg(),
    }
    if not args.arrays:
        doc["overhead"] = overhead(config, log)
        doc["calculation"] = calculations(config, log)
        doc["scaling"] = scaling(config, log)
        doc["pipeline"] = pipeline(config, log)
        doc["bar"] = bar_map(config, log)
        doc["memory"] = memory(config, log)
    doc["array"] = arrays(config, log)
    doc["load_after"] = os.getloadavg()
    with open(args.out, "w") as out:
        json.dump(doc, out, indent=1)


if __name__ == "__main__":
    main()
