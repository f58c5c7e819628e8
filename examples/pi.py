"""Monte Carlo pi: throw darts at the unit square, count those inside the quarter circle.

The idea it shows: a map-only job with a tiny reduce, and how to make a random
computation reproducible when it is cut into tasks. Each partition draws from its own
random stream, seeded by (--seed, partition index), never by which worker runs it or
when; so the estimate is the same on every executor and any number of workers (change
--partitions and you change the streams, so the estimate moves slightly).

    parallelize(range(P), P) ──mapPartitionsWithIndex──► inside count of partition i ──sum──► pi
                                 rng(seed, i) draws its share of the samples       ≈ 4 * inside / N

    python -m examples.pi --executor memory --samples 20000000
"""

import sys
import time

import numpy as np

from examples import _common as common

BATCH = 1 << 20     # darts drawn at a time, to bound memory


def share(samples, partitions, index):
    """Partition `index`'s part of `samples`: as equal as possible, the first ones +1."""
    return samples // partitions + (index < samples % partitions)


def count_inside(seed, index, n):
    """Throw n darts from the stream (seed, index); return how many land inside."""
    rng = np.random.default_rng([seed, index])
    inside = 0
    for start in range(0, n, BATCH):
        xy = rng.random((min(BATCH, n - start), 2))             # (b, 2) in [0, 1)
        inside += int(np.count_nonzero((xy * xy).sum(axis=1) <= 1.0))
    return inside


def estimate_pi(ctx, samples, partitions=4, seed=0):
    """Returns the result dict {"estimate", "samples", "inside"}."""
    inside = (ctx.parallelize(range(partitions), partitions)
                 .mapPartitionsWithIndex(
                     lambda i, _: [count_inside(seed, i, share(samples, partitions, i))])
                 .sum())
    return {"estimate": 4.0 * inside / samples, "samples": samples, "inside": inside}


def main(argv=None):
    p = common.parser("pi", __doc__, input=False)
    p.add_argument("--samples", type=common.positive, default=10_000_000,
                   help="darts to throw (default: 10,000,000)")
    args = p.parse_args(argv)

    with common.context(args) as ctx:
        start = time.perf_counter()
        result = estimate_pi(ctx, args.samples, args.partitions, args.seed)
        seconds = time.perf_counter() - start

    print(f"pi on {common.where(args, args.partitions)}: {seconds:.2f} s")
    print(f"pi ~ {result['estimate']:.6f} ({result['inside']} of {result['samples']} inside; "
          f"error {abs(result['estimate'] - np.pi):.2e})")
    common.write_json(args.json, "pi", args, args.partitions, seconds, result)
    return 0


if __name__ == "__main__":
    sys.exit(common.guard("pi", main))
