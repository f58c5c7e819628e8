"""Benchmarks for the memory executor. They print figures; they assert nothing.

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.memory_bench [all|lr|empty|wordcount]

    lr          logistic-regression gradient over cached numpy blocks, 500,000 x 10 and 4x
                that, per iteration (median of the later iterations) against one process
                running the same numpy code over the same data
    empty       an empty 2-worker job, one task per worker: median wall time
    wordcount   a word count whose shuffle moves > 500 MB between workers: the driver's
                peak RSS (getrusage ru_maxrss of the driver process alone)

Each part runs in a fresh process (`all`), so one part's peak RSS does not leak into
another's. numpy is pinned to one BLAS thread in the baseline and in every worker.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")          # before numpy is imported, here and in workers

import random  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from operator import add  # noqa: E402

import numpy as np  # noqa: E402

import minimr  # noqa: E402

DIM = 10


def make_block(seed, rows):
    """One partition of the LR data set: (X (rows, DIM), y (rows,)), the same in any process."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((rows, DIM))
    y = (X @ np.linspace(-1, 1, DIM) + rng.standard_normal(rows) > 0).astype(np.float64)
    return X, y


def gradient(block, w):
    X, y = block
    return X.T @ (1.0 / (1.0 + np.exp(-(X @ w))) - y)        # (DIM,)


def timed_gradient(block, w):
    """(gradient, CPU seconds this process spent on it): CPU time does not grow when
    other programs share the cores; wall time does."""
    t = time.process_time()
    g = gradient(block, w)
    return g, time.process_time() - t


def add_pairs(a, b):
    return a[0] + b[0], a[1] + b[1]


def bench_lr(rows, workers=2, iterations=9):
    """Baseline and minimr iterations alternate, so both see the same machine load."""
    parts = workers
    per = rows // parts
    # the baseline: one process, the same blocks, the same arithmetic
    blocks = [make_block(p, per) for p in range(parts)]
    X = np.concatenate([b[0] for b in blocks])
    y = np.concatenate([b[1] for b in blocks])
    del blocks
    with minimr.Context(executor="memory", workers=workers) as ctx:
        points = ctx.range(parts, numSlices=parts).map(lambda p: make_block(p, per)).cache()
        t = time.perf_counter()
        points.count()
        first = time.perf_counter() - t
        w_base, w = np.zeros(DIM), np.zeros(DIM)
        base, base_cpu, times, in_tasks, task_cpu = [], [], [], [], []
        for _ in range(iterations):
            t, c = time.perf_counter(), time.process_time()
            w_base = w_base - 1e-6 * gradient((X, y), w_base)
            base.append(time.perf_counter() - t)
            base_cpu.append(time.process_time() - c)

            t = time.perf_counter()
            g, cpu = points.map(lambda b: timed_gradient(b, w)).reduce(add_pairs)
            w = w - 1e-6 * g
            times.append(time.perf_counter() - t)
            task_cpu.append(cpu)                                     # summed over the tasks
            (stage,) = ctx.jobs[-1]["stages"]
            in_tasks.append(stage["task_seconds"] / stage["tasks"])   # mean time inside a task
        recomputed = ctx.status()["recomputed"]
    assert np.allclose(w, w_base), "minimr and numpy disagree"
    med = lambda xs: statistics.median(xs[1:]) * 1e3                  # noqa: E731  ms
    b, m = med(base), med(times)
    print(f"lr {rows:>9,} x {DIM}: numpy loop {b:7.2f} ms/iter | minimr memory "
          f"{workers} workers {m:7.2f} ms/iter | ratio {m / b:.2f}\n"
          f"    (median of {iterations - 1} later iterations, alternating; wall time inside "
          f"a task {med(in_tasks):.2f} ms; CPU per iteration: numpy {med(base_cpu):.2f} ms, "
          f"minimr tasks {med(task_cpu):.2f} ms in all; load+cache {first:.2f} s; "
          f"recomputed {len(recomputed)})")


def bench_empty(runs=300):
    with minimr.Context(executor="memory", workers=2) as ctx:
        empty = ctx.parallelize([], 2)
        noop = lambda it: None                            # noqa: E731
        for _ in range(20):
            empty.foreachPartition(noop)                  # warm up
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            empty.foreachPartition(noop)
            times.append(time.perf_counter() - t)
        per_worker = [w["tasks_run"] for w in ctx.status()["workers"]]
    q = statistics.quantiles(times, n=10)
    print(f"empty 2-worker job (2 tasks): median {statistics.median(times) * 1e3:.3f} ms, "
          f"p10 {q[0] * 1e3:.3f} ms, p90 {q[-1] * 1e3:.3f} ms over {runs} jobs; "
          f"tasks per worker {per_worker}")


def lines_of(part, n_lines):
    """Synthetic text: 10 words of 16 characters per line, drawn from 2^60, so nearly all
    distinct and the map-side combine cannot shrink the shuffle."""
    rng = random.Random(part)
    for _ in range(n_lines):
        yield " ".join(["w%015x" % rng.getrandbits(60) for _ in range(10)])


def bench_wordcount(maps=16, reduces=8, lines_per_map=160_000):
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    with minimr.Context(executor="memory", workers=2) as ctx:
        counts = (ctx.range(maps, numSlices=maps).flatMap(lambda p: lines_of(p, lines_per_map))
                  .flatMap(str.split).map(lambda w: (w, 1)).reduceByKey(add, reduces))
        distinct, total = counts.map(lambda kv: (1, kv[1])).reduce(add_pairs)
        stages = [s for job in ctx.jobs for s in job["stages"]]
        workers_peak = [_peak_rss_kb(w["pid"]) for w in ctx.status()["workers"]]
    written = sum(s.get("map_output_materialized_bytes", 0) for s in stages)
    fetched = sum(s.get("shuffle_bytes_fetched", 0) for s in stages)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"wordcount: {total:,} words, {distinct:,} distinct; shuffle wrote "
          f"{written / 1e6:,.0f} MB, fetched {fetched / 1e6:,.0f} MB worker-to-worker; "
          f"driver peak RSS {peak / 1024:.0f} MB (at start {rss0 / 1024:.0f} MB); "
          f"workers' peak RSS {', '.join(f'{k / 1024:.0f}' for k in workers_peak)} MB; "
          f"{time.perf_counter() - t:.1f} s")


def _peak_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))


def main(argv):
    what = argv[1] if len(argv) > 1 else "all"
    if what in ("-h", "--help"):
        print(__doc__)
    elif what == "all":
        print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} cores, "
              f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
        for part in ("empty", "lr", "wordcount"):
            subprocess.run([sys.executable, "-m", "benchmarks.memory_bench", part], check=True)
    elif what == "lr":
        scale = int(argv[2]) if len(argv) > 2 else 1
        bench_lr(500_000 // scale)
        bench_lr(2_000_000 // scale)
    elif what == "empty":
        bench_empty()
    elif what == "wordcount":
        bench_wordcount(*(int(a) for a in argv[2:]))
    else:
        sys.exit(f"unknown benchmark {what!r}: all, lr, empty or wordcount")


if __name__ == "__main__":
    main(sys.argv)
