"""k nearest neighbours: a small query set against a big training set.

The idea it shows: broadcast the small side, map over the big side, reduce the partial
answers. No shuffle at all: the queries travel to every task once (a broadcast), each
map task answers them from its own slice of the training data, and one reduce merges
the per-partition answers into the global k nearest.

    query file ──driver reads──► Q (m, d) ──broadcast──┐
                                                       ▼
    train file ──textFile──► (line, n) ──parse──► block X (n_p, d) ──► local k nearest
    (P splits)                zipWithIndex                              (m, k) per partition
                                                                              │ reduce:
                                                       merge two (m, k) into one (m, k)
                                                                              ▼
                                                            vote per query ──► predictions

Distances are Euclidean (compared squared: the same order). Among equal distances the
training point on the lower line wins; among equally common labels, the smaller label.
Each line is `label x1 .. xd`: an integer label, then d floats, whitespace-separated.

    python -m examples.knn --executor memory --train train.txt --query query.txt --k 5
"""

import sys
import time

import numpy as np

from examples import _common as common

PAIRS_PER_CHUNK = 1 << 22       # bound the (queries, points, d) difference array


# ------------------------------------------------------------------ parsing a block

def parse_block(path, numbered_lines, width):
    """(line, index) pairs -> labels (n,), points (n, d), line numbers (n,).
    Blank lines are skipped; any other line must have `width` numbers."""
    labels, points, numbers = [], [], []
    for values, where, index in common.numeric_rows(path, numbered_lines, width, "a label"):
        if not values[0].is_integer():
            raise ValueError(f"bad input: {where}: label '{values[0]:g}' is not an integer")
        labels.append(int(values[0]))
        points.append(values[1:])
        numbers.append(index + 1)
    return (np.array(labels, dtype=np.int64),
            np.array(points, dtype=np.float64).reshape(len(labels), width - 1),
            np.array(numbers, dtype=np.int64))


# ------------------------------------------------------------- map, reduce, vote

def squared_distances(queries, points):
    """(m, d), (n, d) -> (m, n): sum of squared differences, pair by pair (no
    |q|^2 - 2 q.x + |x|^2 trick, so the value of a pair does not depend on its block)."""
    return ((queries[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)


def local_nearest(block, queries, k):
    """Map: one partition's k nearest points to every query, nearest first, as three
    (m, k') arrays (squared distance, label, line number); k' = min(k, points here)."""
    labels, points, numbers = block
    k = min(k, len(labels))
    dist = np.empty((len(queries), k))
    order = np.empty((len(queries), k), dtype=np.int64)
    step = max(1, PAIRS_PER_CHUNK // max(1, points.size))
    for s in range(0, len(queries), step):
        d2 = squared_distances(queries[s:s + step], points)            # (step, n_p)
        # stable: equal distances keep file order, i.e. the lower line first
        nearest = np.argsort(d2, axis=1, kind="stable")[:, :k]
        order[s:s + step] = nearest
        dist[s:s + step] = np.take_along_axis(d2, nearest, axis=1)
    return dist, labels[order], numbers[order]


def merge(a, b, k):
    """Reduce: two partial answers -> the k nearest of both, by (distance, line)."""
    dist, labels, numbers = (np.concatenate([x, y], axis=1) for x, y in zip(a, b))
    best = np.lexsort((numbers, dist), axis=1)[:, :k]          # last key sorts first
    return tuple(np.take_along_axis(x, best, axis=1) for x in (dist, labels, numbers))


def vote(labels):
    """The most common label; np.unique sorts, so argmax picks the smallest of a tie."""
    values, counts = np.unique(labels, return_counts=True)
    return int(values[np.argmax(counts)])


def k_nearest(ctx, train_path, query_path, k=5, partitions=4):
    """Classify every query; returns (result dict, partition count of the training data)."""
    width = common.columns(train_path)
    truth, q, _ = parse_block(query_path, common.numbered_lines(query_path), width)
    queries = ctx.broadcast(q)

    train = ctx.textFile(train_path, partitions).zipWithIndex()     # (line, index)
    dist, labels, numbers = (
        train.mapPartitions(lambda rows: [local_nearest(parse_block(train_path, rows, width),
                                                        queries.value, k)])
             .reduce(lambda a, b: merge(a, b, k)))

    predictions = [vote(row) for row in labels]
    accuracy = float(np.mean(np.array(predictions) == truth)) if len(truth) else None
    return {"predictions": predictions, "accuracy": accuracy}, train.getNumPartitions()


def main(argv=None):
    p = common.parser("knn", __doc__, input=False)
    p.add_argument("--train", "--input", metavar="PATH",
                   help="training points (default: generated, with --query)")
    p.add_argument("--query", metavar="PATH", help="points to classify")
    p.add_argument("--k", type=common.positive, default=5, help="neighbours (default: 5)")
    args = p.parse_args(argv)
    if (args.train is None) != (args.query is None):
        p.error("give both --train and --query, or neither (generated data)")

    def train_data(f, seed):
        common.write_clusters(f, seed, n=10_000, part=0)

    def query_data(f, seed):
        common.write_clusters(f, seed, n=300, part=1)

    with common.input_file(args.train, train_data, args.seed) as train_path, \
            common.input_file(args.query, query_data, args.seed) as query_path, \
            common.context(args) as ctx:
        start = time.perf_counter()
        result, partitions = k_nearest(ctx, train_path, query_path, args.k, args.partitions)
        seconds = time.perf_counter() - start

    print(f"knn k={args.k} on {common.where(args, partitions)}: {seconds:.2f} s")
    shown = " ".join(map(str, result["predictions"][:20]))
    more = " ..." if len(result["predictions"]) > 20 else ""
    print(f"{len(result['predictions'])} predictions: {shown}{more}")
    if result["accuracy"] is not None:
        print(f"accuracy {result['accuracy']:.4f}")
    common.write_json(args.json, "knn", args, partitions, seconds, result, k=args.k)
    return 0


if __name__ == "__main__":
    sys.exit(common.guard("knn", main))
