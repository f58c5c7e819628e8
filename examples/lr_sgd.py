"""Logistic regression by gradient descent: the iterative job Spark was built for.

The idea it shows: keep the parsed data in RAM once, then run one small MapReduce per
iteration. A chain of Hadoop jobs re-reads and re-parses the text input every iteration;
Spark (and minimr's memory executor) keeps the parsed blocks in the workers' RAM, so only
the first iteration pays for reading the file. Run it twice and compare:

    python -m examples.lr_sgd --executor disk      # every iteration reads and parses the text
    python -m examples.lr_sgd --executor memory    # only the first does

Both persist the parsed blocks with cache() (--storage-level MEMORY_ONLY). On the disk
executor nothing but files survives between jobs, so a memory level is computed again
by every iteration, as in a chain of Hadoop jobs; --storage-level DISK_ONLY writes the
parsed blocks to files that each iteration reads back (the RDD paper's HadoopBinMem);
--storage-level NONE (or --no-cache) persists nothing, on any executor.

    file ──textFile──► (line, n) ──parse──► one numpy block (X, y) per partition ── persist
                        zipWithIndex                                                  │
    every iteration:                                                                  ▼
      driver ──broadcast w──► map: gradient of the partition's block at w ──(g, loss, count)
        ▲                                                                             │
        └── w <- w - step * g / count ◄── reduce: sum (treeAggregate) ◄───────────────┘

With --batch-fraction 1 this is exactly full-batch gradient descent from w = 0:

    w <- w - step * (1/n) * sum_i x_i (sigmoid(w . x_i) - y_i)

--batch-fraction F < 1 samples each iteration's rows (seed + iteration) and divides by
the sampled count, and --decay uses step / sqrt(iteration), as Spark MLlib's
GradientDescent does. --intercept adds a constant feature 1. The loss printed for an
iteration is the mean logistic loss over that iteration's rows at the weights *before*
its update. Each line is `y x1 .. xd`, y in {0, 1}. With no --input it generates 200,000
rows of 10 features (17 MB of text).

    OPENBLAS_NUM_THREADS=1 python -m examples.lr_sgd --executor memory --iterations 10
"""

import sys
import time

import numpy as np

from minimr import StorageLevel

from examples import _common as common

LEVELS = common.LEVELS
DEFAULT_ROWS = 200_000


# ------------------------------------------------------------------ parsing a block

def parse_block(path, numbered_lines, width, intercept):
    """(line, index) pairs -> X (n, d [+1]), y (n,). Blank lines are skipped; any other
    line must have `width` numbers and y must be 0 or 1."""
    rows = []
    for values, where, _ in common.numeric_rows(path, numbered_lines, width, "y"):
        if values[0] not in (0.0, 1.0):
            raise ValueError(f"bad input: {where}: y must be 0 or 1, got '{values[0]:g}'")
        rows.append(values)
    data = np.array(rows, dtype=np.float64).reshape(len(rows), width)
    x, y = data[:, 1:], data[:, 0]
    if intercept:
        x = np.hstack([x, np.ones((len(x), 1))])
    return np.ascontiguousarray(x), y


# ------------------------------------------------------------- map and reduce

def gradient(block, w):
    """Map: one block's summed gradient and logistic loss at w, and its row count."""
    x, y = block
    z = x @ w                                      # (n,)
    softplus = np.logaddexp(0.0, z)                # log(1 + e^z), without overflow
    p = np.exp(z - softplus)                       # sigmoid(z) = e^z / (1 + e^z)
    loss = softplus - y * z                        # -log likelihood of each row
    return x.T @ (p - y), loss.sum(), len(y)


def add(a, b):
    """Reduce: (gradient, loss, count) + (gradient, loss, count)."""
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def sample_rows(seed, fraction):
    """A mini-batch: each row kept with probability `fraction`, from a stream fixed by
    the iteration's seed and the partition index (so every executor picks the same rows)."""
    def sample(index, blocks):
        rng = np.random.default_rng([seed, index])
        for x, y in blocks:
            keep = rng.random(len(y)) < fraction
            yield x[keep], y[keep]
    return sample


def train(ctx, path, partitions=4, iterations=10, step=1.0, batch_fraction=1.0,
          decay=False, intercept=False, seed=0, on_iteration=None, cache=True,
          storage_level=None):
    """Gradient descent; returns (weights, [{"iteration", "seconds", "loss"}], blocks).
    The parse runs lazily inside the first iteration's job, so its time shows there.
    The blocks are persisted at `storage_level` (a StorageLevel; default MEMORY_ONLY,
    i.e. cache()); cache=False persists nothing."""
    width = common.columns(path)
    blocks = (ctx.textFile(path, partitions).zipWithIndex()          # (line, index)
                 .mapPartitions(lambda rows: [parse_block(path, rows, width, intercept)]))
    if cache:
        blocks = blocks.persist(storage_level or StorageLevel.MEMORY_ONLY)

    w = np.zeros(width - 1 + intercept)
    history = []
    for i in range(1, iterations + 1):
        start = time.perf_counter()
        current = ctx.broadcast(w)
        batch = blocks if batch_fraction >= 1 else \
            blocks.mapPartitionsWithIndex(sample_rows(seed + i, batch_fraction))
        g, loss, count = (batch.map(lambda block: gradient(block, current.value))
                               .treeAggregate((0.0, 0.0, 0), add, add))
        if count:                                  # an empty mini-batch: no step (as MLlib)
            rate = step / np.sqrt(i) if decay else step
            w = w - rate * g / count
        current.destroy()
        record = {"iteration": i, "seconds": time.perf_counter() - start,
                  "loss": loss / count if count else None}
        history.append(record)
        if on_iteration:
            on_iteration(record)
    return w, history, blocks


summary = common.summary      # "first iteration 1.234 s; later iterations median 0.012 s"


def accuracy(blocks, w):
    """The fraction of rows that w classifies right (predict 1 when w . x > 0)."""
    right, n = blocks.map(lambda b: (int(np.sum((b[0] @ w > 0) == (b[1] == 1))), len(b[1]))) \
                     .reduce(lambda a, b: (a[0] + b[0], a[1] + b[1]))
    return right / n if n else None


def main(argv=None):
    p = common.parser("lr_sgd", __doc__)
    p.add_argument("--iterations", type=common.positive, default=10,
                   help="gradient steps, one job each (default: 10)")
    p.add_argument("--step", type=float, default=1.0, help="step size (default: 1.0)")
    p.add_argument("--batch-fraction", type=float, default=1.0,
                   help="fraction of rows per iteration (default: 1.0, full batch)")
    p.add_argument("--decay", action="store_true", help="step / sqrt(iteration)")
    p.add_argument("--intercept", action="store_true", help="add a constant feature 1")
    common.storage_level_option(p, "the parsed blocks are")
    p.add_argument("--no-cache", action="store_true", help="the same as --storage-level NONE")
    args = p.parse_args(argv)
    if not 0 < args.batch_fraction <= 1:
        p.error(f"--batch-fraction must be in (0, 1], got {args.batch_fraction}")
    level = "NONE" if args.no_cache else args.storage_level

    def show(r):
        loss = "(empty batch)" if r["loss"] is None else f"{r['loss']:.6f}"
        print(f"iteration {r['iteration']:3d}  {r['seconds']:8.3f} s  loss {loss}", flush=True)

    write_default = lambda f, seed: common.write_logistic(f, seed, n=DEFAULT_ROWS)  # noqa: E731
    with common.input_file(args.input, write_default, args.seed) as path, \
            common.context(args) as ctx:
        start = time.perf_counter()
        w, history, blocks = train(ctx, path, args.partitions, args.iterations, args.step,
                                   args.batch_fraction, args.decay, args.intercept,
                                   args.seed, on_iteration=show, cache=level != "NONE",
                                   storage_level=getattr(StorageLevel, level, None))
        result = {"weights": w.tolist(), "accuracy": accuracy(blocks, w)}
        seconds = time.perf_counter() - start
        partitions = blocks.getNumPartitions()

    print(f"lr_sgd on {common.where(args, partitions)}, storage level {level}: "
          f"{seconds:.2f} s; training accuracy {result['accuracy']:.4f}")
    print("weights", " ".join(f"{v:.6f}" for v in w))
    print(summary(history))
    common.write_json(args.json, "lr_sgd", args, partitions, seconds, result,
                      iterations=history, storage_level=level)
    return 0


if __name__ == "__main__":
    sys.exit(common.guard("lr_sgd", main))
