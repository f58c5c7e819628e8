"""k-means by Lloyd's algorithm: the RDD paper's second iterative workload.

Like lr_sgd, it keeps the parsed points in RAM and runs one small MapReduce per
iteration; unlike lr_sgd, each point costs more in the map (a distance to every center,
not one dot product), so keeping the data in memory saves a smaller share of an
iteration. The RDD paper measured that (100 GB, 100 nodes; later iterations: Hadoop
106 s, HadoopBinMem 87 s, Spark 33 s): parsing is a smaller part of a k-means
iteration than of a logistic-regression one.

    python -m examples.kmeans --executor disk      # every iteration reads and parses the text
    python -m examples.kmeans --executor memory    # only the first does

    file ──textFile──► (line, n) ──parse──► one numpy block (n, d) per partition ── persist
                        zipWithIndex    └──► one row per record ── takeSample(k, seed): centers
    every iteration:                                                                     │
      driver ──broadcast centers──► map: nearest center of each row of the block ───────┘
        ▲                               -> (j, (sum of its rows, count, squared distances))
        └── center j <- sum_j / count_j ◄── reduceByKey: add ◄──────────────────────────┘

Each iteration is exactly one step of Lloyd's algorithm:

    assign every point to its nearest center (squared Euclidean distance; among equally
    near centers the lowest index); then move each center to the mean of its points
    (a center with no points stays where it is, as in Spark's example)

The initial centers are `takeSample(False, k, seed)` of a per-row RDD of the same file,
as Spark's own kmeans.py does, so they are the same on every executor. Unlike Spark's
example, the points are cached as one numpy block per partition, not one record per
point: a per-point map in Python costs so much that the per-iteration gap all but
vanishes (the map, not the reading, would be the iteration). The "cost" printed for an
iteration is the sum of squared distances of the points to their nearest center, at the
centers *before* its update; "shift" is how far the centers moved, sum of squares
(Spark's example stops when it falls under a threshold; this one runs --iterations).

Input lines are whitespace-separated numbers, the same count on every line (blank lines
are skipped). With no --input it generates 200,000 points of 10 features around 10
well-separated centers.

    OPENBLAS_NUM_THREADS=1 python -m examples.kmeans --executor memory --k 10
"""

import sys
import time

import numpy as np

from minimr import StorageLevel

from examples import _common as common

DEFAULT_ROWS, DEFAULT_DIM = 200_000, 10


# -------------------------------------------------------------------------- parsing

def parse_rows(path, numbered_lines, width):
    """(line, index) pairs -> one numpy row (d,) per non-blank line (else a ValueError
    naming the file and line)."""
    for values, _, _ in common.numeric_rows(path, numbered_lines, width, None):
        yield np.array(values)


def parse_block(path, numbered_lines, width):
    """(line, index) pairs -> one (n, d) block."""
    rows = [values for values, _, _ in common.numeric_rows(path, numbered_lines, width, None)]
    return np.array(rows, dtype=np.float64).reshape(len(rows), width)


# ------------------------------------------------------------------- map and reduce

def nearest(points, centers):
    """Each row's nearest center (lowest index among equals) and its squared distance.

    All pairs at once as |x|^2 - 2 x.c + |c|^2 (one matrix product). Rows whose two
    nearest centers are closer than that formula's rounding can tell apart are decided
    again by the exact sum of squared differences, so a row's answer never depends on
    how the rows were blocked (and equals a plain loop's)."""
    xx = np.einsum("ij,ij->i", points, points)                       # (n,)
    cc = np.einsum("ij,ij->i", centers, centers)                     # (k,)
    d2 = xx[:, None] - 2.0 * (points @ centers.T) + cc               # (n, k)
    near = d2.argmin(axis=1)
    if len(centers) > 1:
        two = np.partition(d2, 1, axis=1)                            # two smallest first
        unsure = two[:, 1] - two[:, 0] <= 1e-9 * (xx + cc.max())
        if unsure.any():
            exact = ((points[unsure, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
            near[unsure] = exact.argmin(axis=1)
    return near, ((points - centers[near]) ** 2).sum(axis=1)


def cluster_sums(block, centers):
    """Map: for each center j that is nearest to some rows of the block,
    (j, (sum of those rows (d,), their count, sum of their squared distances))."""
    k, d = centers.shape
    near, dist = nearest(block, centers)
    counts = np.bincount(near, minlength=k)
    sums = np.stack([np.bincount(near, weights=block[:, c], minlength=k) for c in range(d)],
                    axis=1)                                          # (k, d)
    cost = np.bincount(near, weights=dist, minlength=k)
    return [(j, (sums[j], int(counts[j]), cost[j])) for j in np.flatnonzero(counts)]


def add(a, b):
    """Reduce: (sum, count, cost) + (sum, count, cost)."""
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


# ------------------------------------------------------------------------- the loop

def points_rdd(ctx, path, partitions=4, level=StorageLevel.MEMORY_ONLY):
    """(blocks, rows): the points as one numpy block per partition, persisted at `level`
    (None: not persisted), and as one numpy row per record (for takeSample)."""
    width = common.columns(path)
    numbered = ctx.textFile(path, partitions).zipWithIndex()      # (line, index)
    blocks = numbered.mapPartitions(lambda it: [parse_block(path, it, width)])
    rows = numbered.mapPartitions(lambda it: parse_rows(path, it, width))
    return (blocks if level is None else blocks.persist(level)), rows


def initial_centers(rows, k, seed, path):
    """k records of the file (no record twice), chosen as Spark's example chooses them."""
    picked = rows.takeSample(False, k, seed)
    if len(picked) < k:
        raise ValueError(f"bad input: {path}: k = {k} centers, but the file has only "
                         f"{len(picked)} points")
    return np.array(picked)


def train(ctx, path, k=10, partitions=4, iterations=10, seed=0,
          level=StorageLevel.MEMORY_ONLY, on_iteration=None):
    """Lloyd's algorithm; returns (centers (k, d), [{"iteration", "seconds", "cost",
    "shift"}], blocks). The parse runs inside the first iteration's job, so its time
    shows there; choosing the initial centers (a count and a sample) runs before."""
    blocks, rows = points_rdd(ctx, path, partitions, level)
    centers = initial_centers(rows, k, seed, path)
    history = []
    for i in range(1, iterations + 1):
        start = time.perf_counter()
        current = ctx.broadcast(centers)
        stats = (blocks.flatMap(lambda block: cluster_sums(block, current.value))
                       .reduceByKey(add).collectAsMap())               # j -> (sum, count, cost)
        moved = centers.copy()
        for j, (total, count, _) in stats.items():
            moved[j] = total / count
        current.destroy()
        record = {"iteration": i, "seconds": time.perf_counter() - start,
                  "cost": float(sum(s[2] for s in stats.values())),
                  "shift": float(((moved - centers) ** 2).sum())}
        centers = moved
        history.append(record)
        if on_iteration:
            on_iteration(record)
    return centers, history, blocks


def cost(blocks, centers):
    """Sum of squared distances of the points to their nearest center (one more job)."""
    return float(blocks.map(lambda block: float(nearest(block, centers)[1].sum())).sum())


# ----------------------------------------------------------------------- default data

def write_blobs(f, seed, n=DEFAULT_ROWS, d=DEFAULT_DIM, k=10, chunk=50_000):
    """`x1 .. xd` lines: n points around k centers drawn uniformly in [-10, 10]^d, with
    unit normal noise (centers ~25 apart on average: well separated)."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-10, 10, size=(k, d))
    labels = rng.integers(0, k, size=n)
    row = " ".join(["%.5f"] * d)
    for s in range(0, n, chunk):
        points = centers[labels[s:s + chunk]] + rng.normal(0, 1.0, size=(len(labels[s:s + chunk]), d))
        f.write("\n".join(row % tuple(p) for p in points.tolist()) + "\n")


def main(argv=None):
    p = common.parser("kmeans", __doc__)
    p.add_argument("--k", type=common.positive, default=10, help="clusters (default: 10)")
    p.add_argument("--iterations", type=common.positive, default=10,
                   help="Lloyd steps, one job each (default: 10)")
    common.storage_level_option(p, "the parsed blocks are")
    args = p.parse_args(argv)
    level = args.storage_level

    def show(r):
        print(f"iteration {r['iteration']:3d}  {r['seconds']:8.3f} s  cost {r['cost']:.6g}  "
              f"shift {r['shift']:.3g}", flush=True)

    with common.input_file(args.input, write_blobs, args.seed) as path, \
            common.context(args) as ctx:
        start = time.perf_counter()
        centers, history, blocks = train(ctx, path, args.k, args.partitions, args.iterations,
                                         args.seed, getattr(StorageLevel, level, None),
                                         on_iteration=show)
        result = {"centers": centers.tolist(), "cost": cost(blocks, centers)}
        seconds = time.perf_counter() - start
        partitions = blocks.getNumPartitions()

    print(f"kmeans on {common.where(args, partitions)}, storage level {level}: "
          f"{seconds:.2f} s; k = {args.k}, cost {result['cost']:.6g}")
    for c in centers:
        print("center", " ".join(f"{v:.6f}" for v in c))
    print(common.summary(history))
    common.write_json(args.json, "kmeans", args, partitions, seconds, result,
                      iterations=history, storage_level=level, k=args.k)
    return 0


if __name__ == "__main__":
    sys.exit(common.guard("kmeans", main))
