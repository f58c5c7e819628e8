"""Logistic regression by gradient descent in plain PySpark: two twins of examples/lr_sgd.py.

    blocks       parse each partition into one numpy block (X, y), cache it; an iteration
                 is one map (the block's gradient, a BLAS call) and one reduce
    per-record   the Spark paper's program: one parsed point per record, cached; an
                 iteration maps every point to its gradient term and reduces them

Both apply, from w = 0, exactly  w <- w - step * (1/n) * sum_i x_i (sigmoid(w . x_i) - y_i)
with y in {0, 1} (input lines `y x1 .. xd`). The parsed data is persisted at `level` (a
StorageLevel; cache() by default); `level=None` re-reads and re-parses the text every
iteration, the way a chain of Hadoop jobs does. The functions take any `sc` with the RDD API,
so they run on a minimr Context unchanged (comparisons/iteration_gap.py does that).

    python -m comparisons.lr_sgd --input points.txt --iterations 10 --form blocks
"""

import argparse
import json
import time

import numpy as np

CACHE = "cache()"          # the default level: whatever cache() means on the engine


# ------------------------------------------------------------------------ blocks

def parse_block(lines):
    """Lines of one partition -> (X (n, d), y (n,)), the way most programs parse text:
    split each line, float() each field, one numpy array for the partition."""
    rows = [[float(v) for v in line.split()] for line in lines if line.strip()]
    if not rows:
        return np.zeros((0, 0)), np.zeros(0)
    data = np.array(rows)
    return np.ascontiguousarray(data[:, 1:]), data[:, 0].copy()


def block_gradient(block, w):
    x, y = block
    if len(y) == 0:
        return np.zeros_like(w), 0
    p = 1.0 / (1.0 + np.exp(-(x @ w)))                      # (n,)
    return x.T @ (p - y), len(y)


def add_pairs(a, b):
    return a[0] + b[0], a[1] + b[1]


def blocks_rdd(sc, path, partitions=None, level=CACHE):
    blocks = sc.textFile(path, partitions).mapPartitions(lambda it: [parse_block(it)])
    return persisted(blocks, level)


def persisted(rdd, level):
    return rdd if level is None else rdd.cache() if level is CACHE else rdd.persist(level)


def train_blocks(sc, path, iterations=10, step=1.0, partitions=None, level=CACHE,
                 on_iteration=None):
    """Returns (w, [seconds of each iteration]); `on_iteration(i, seconds)` after each."""
    blocks = blocks_rdd(sc, path, partitions, level)
    out = descend(sc, blocks, block_gradient, _dim(path), iterations, step, on_iteration)
    blocks.unpersist()
    return out


def descend(sc, data, gradient, dim, iterations, step, on_iteration=None):
    """The driver's loop, one job per iteration: broadcast w, map, reduce, update."""
    w = np.zeros(dim)
    seconds = []
    for i in range(1, iterations + 1):
        start = time.perf_counter()
        wb = sc.broadcast(w)
        g, n = data.map(lambda record: gradient(record, wb.value)).reduce(add_pairs)
        w = w - step * g / n
        seconds.append(time.perf_counter() - start)
        if on_iteration:
            on_iteration(i, seconds[-1])
    return w, seconds


# -------------------------------------------------------------------- per record

def parse_point(line):
    values = np.array(line.split(), dtype=np.float64)
    return values[0], values[1:]                             # (y, x)


def point_gradient(point, w):
    y, x = point
    return x * (1.0 / (1.0 + np.exp(-x.dot(w))) - y), 1


def points_rdd(sc, path, partitions=None, level=CACHE):
    points = sc.textFile(path, partitions).filter(lambda line: line.strip()).map(parse_point)
    return persisted(points, level)


def train_records(sc, path, iterations=10, step=1.0, partitions=None, level=CACHE,
                  on_iteration=None):
    points = points_rdd(sc, path, partitions, level)
    out = descend(sc, points, point_gradient, _dim(path), iterations, step, on_iteration)
    points.unpersist()
    return out


def _dim(path):
    with open(path) as f:
        for line in f:
            if line.split():
                return len(line.split()) - 1
    raise ValueError(f"bad input: {path}: no data lines")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m comparisons.lr_sgd", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", required=True)
    p.add_argument("--form", choices=["blocks", "records"], default="blocks")
    p.add_argument("--no-cache", action="store_true")
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--step", type=float, default=1.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--partitions", type=int, default=4)
    args = p.parse_args(argv)
    from comparisons._spark import spark_context
    sc = spark_context(args.workers)
    train = train_blocks if args.form == "blocks" else train_records
    w, seconds = train(sc, args.input, args.iterations, args.step, args.partitions,
                       level=None if args.no_cache else CACHE,
                       on_iteration=lambda i, s: print(f"iteration {i}: {s:.3f} s", flush=True))
    print(json.dumps({"weights": w.tolist(), "seconds": seconds}))
    sc.stop()


if __name__ == "__main__":
    main()
