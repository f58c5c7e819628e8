"""Logistic regression by gradient descent: the iterative job Spark was built for.

The idea it shows: cache the parsed data once, then run one small MapReduce per
iteration. A chain of Hadoop jobs re-reads and re-parses the text input every iteration;
Spark (and minimr's memory executor) keeps the parsed blocks in the workers' RAM, so
only the first iteration pays for reading the file. --no-cache shows the Hadoop way on
any executor. (On --executor disk, cache() writes the parsed blocks to files that each
iteration reads back: binary numpy blocks, cheap to read; it is re-parsing text that costs.)

    file ──textFile──► (line, n) ──parse──► one numpy block (X, y) per partition ── cache()
                        zipWithIndex                                                 │
    every iteration:                                                                 ▼
      driver ──broadcast w──► map: gradient of the partition's block at w ──(g, loss, count)
        ▲                                                                            │
        └── w <- w - step * g / count ◄── reduce: sum (treeAggregate) ◄──────────────┘

With --batch-fraction 1 this is exactly full-batch gradient descent from w = 0:

    w <- w - step * (1/n) * sum_i x_i (sigmoid(w . x_i) - y_i)

--batch-fraction F < 1 samples each iteration's rows (seed + iteration) and divides by
the sampled count, and --decay uses step / sqrt(iteration), as Spark MLlib's
GradientDescent does. --intercept adds a constant feature 1. The loss printed for an
iteration is the mean logistic loss over that iteration's rows at the weights *before*
its update. Each line is `y x1 .. xd`, y in {0, 1}.

    OPENBLAS_NUM_THREADS=1 python -m examples.lr_sgd --executor memory --iterations 10
"""

import sys
import time

import numpy as np

from examples import _common as common


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
    p = np.exp(-np.logaddexp(0.0, -z))             # sigmoid(z), without overflow
    loss = np.logaddexp(0.0, z) - y * z            # -log likelihood of each row
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
          decay=False, intercept=False, seed=0, on_iteration=None, cache=True):
    """Gradient descent; returns (weights, [{"iteration", "seconds", "loss"}], blocks).
    The parse runs lazily inside the first iteration's job, so its time shows there."""
    width = common.columns(path)
    blocks = (ctx.textFile(path, partitions).zipWithIndex()          # (line, index)
                 .mapPartitions(lambda rows: [parse_block(path, rows, width, intercept)]))
    if cache:
        blocks = blocks.cache()

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


def accuracy(blocks, w):
    """The fraction of rows that w classifies right (predict 1 when w . x > 0)."""
    right, n = blocks.map(lambda b: (int(np.sum((b[0] @ w > 0) == (b[1] == 1))), len(b[1]))) \
                     .reduce(lambda a, b: (a[0] + b[0], a[1] + b[1]))
    return right / n if n else None


def main(argv=None):
    p = common.parser("lr_sgd", __doc__)
    p.add_argument("--iterations", type=common.positive, default=10)
    p.add_argument("--step", type=float, default=1.0, help="step size (default: 1.0)")
    p.add_argument("--batch-fraction", type=float, default=1.0,
                   help="fraction of rows per iteration (default: 1.0, full batch)")
    p.add_argument("--decay", action="store_true", help="step / sqrt(iteration)")
    p.add_argument("--intercept", action="store_true", help="add a constant feature 1")
    p.add_argument("--no-cache", action="store_true",
                   help="re-read and re-parse the file every iteration (as Hadoop jobs do)")
    args = p.parse_args(argv)
    if not 0 < args.batch_fraction <= 1:
        p.error(f"--batch-fraction must be in (0, 1], got {args.batch_fraction}")

    def show(r):
        loss = "(empty batch)" if r["loss"] is None else f"{r['loss']:.6f}"
        print(f"iteration {r['iteration']:3d}  {r['seconds']:8.3f} s  loss {loss}", flush=True)

    with common.input_file(args.input, common.write_logistic, args.seed) as path, \
            common.context(args) as ctx:
        start = time.perf_counter()
        w, history, blocks = train(ctx, path, args.partitions, args.iterations, args.step,
                                   args.batch_fraction, args.decay, args.intercept,
                                   args.seed, on_iteration=show, cache=not args.no_cache)
        result = {"weights": w.tolist(), "accuracy": accuracy(blocks, w)}
        seconds = time.perf_counter() - start
        partitions = blocks.getNumPartitions()

    print(f"lr_sgd on {args.executor} ({args.workers} workers, {partitions} partitions): "
          f"{seconds:.2f} s; training accuracy {result['accuracy']:.4f}")
    print("weights", " ".join(f"{v:.6f}" for v in w))
    common.write_json(args.json, "lr_sgd", args, partitions, seconds, result,
                      iterations=history)
    return 0


if __name__ == "__main__":
    sys.exit(common.guard("lr_sgd", main))
