"""Monte Carlo pi in plain PySpark: the twin of examples/pi.py.

Each partition draws its darts from its own stream numpy.random.default_rng([seed, i]),
so the estimate depends only on (samples, partitions, seed), never on the engine.

    parallelize(range(P), P) ──mapPartitionsWithIndex(count inside)──► sum ──► 4 * inside / N
"""

import numpy as np

BATCH = 1 << 20


def inside_count(seed, index, n):
    rng = np.random.default_rng([seed, index])
    inside = 0
    while n > 0:                                      # in batches, to bound memory
        xy = rng.random((min(BATCH, n), 2))
        inside += int(np.count_nonzero((xy ** 2).sum(axis=1) <= 1.0))
        n -= len(xy)
    return inside


def estimate_pi(sc, samples, partitions=4, seed=0):
    def part(i, _):
        n = samples // partitions + (i < samples % partitions)
        yield inside_count(seed, i, n)
    inside = sc.parallelize(range(partitions), partitions).mapPartitionsWithIndex(part).sum()
    return {"estimate": 4.0 * inside / samples, "samples": samples, "inside": inside}
