"""Random sampling with PySpark's random stream, so the same seed picks the same records.

Each partition draws from ``Random(seed ^ split)`` after ten warm-up draws (seeds of
neighbouring partitions are close); without replacement a record is kept when a uniform
draw is below the fraction (Bernoulli), with replacement it is repeated Poisson(fraction)
times. randomSplit keeps a record when the draw falls in [lower, fraction): its splits
share one stream, so each record lands in exactly one. sampleByKey takes a fraction per
key. ``fraction_for_sample_size`` is Spark's oversampling rule for takeSample.
Used by RDD.sample, sampleByKey, randomSplit (rdd.py) and RDD.takeSample (actions.py).
"""

import math
import random
import sys


class Sampler:
    """Per-partition random sampling, with PySpark's random stream: Random(seed ^ split),
    ten warm-up draws, then one uniform draw (or a Poisson count) per record."""

    def __init__(self, with_replacement, fraction, seed=None, lower=0.0):
        self.seed = seed if seed is not None else random.randint(0, sys.maxsize)
        self.with_replacement, self.fraction, self.lower = with_replacement, fraction, lower

    def func(self, split, it):
        rng = random.Random(self.seed ^ split)
        for _ in range(10):          # the first draws of close seeds are alike
            rng.randint(0, 1)
        f = self.fraction            # a number, or {key: fraction} (sampleByKey)
        fraction = (lambda kv: f[kv[0]]) if isinstance(f, dict) else (lambda _: f)
        if not self.with_replacement:
            return (x for x in it if self.lower <= rng.random() < fraction(x))
        return (x for x in it for _ in range(poisson(rng, fraction(x))))


def poisson(rng, mean):
    """A Poisson(mean) draw: Knuth's product of uniforms, or sums of exponentials."""
    k = 0
    if mean < 20.0:
        limit, p = math.exp(-mean), rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
    else:
        p = rng.expovariate(mean)
        while p < 1.0:
            k += 1
            p += rng.expovariate(mean)
    return k


def fraction_for_sample_size(num, total, with_replacement):
    """A sampling rate that yields at least `num` records 99.99% of the time (Spark)."""
    fraction = num / total
    if with_replacement:
        return fraction + (9 if num < 12 else 5) * math.sqrt(fraction / total)
    gamma = -math.log(0.00005) / total
    return min(1.0, fraction + gamma + math.sqrt(gamma * gamma + 2 * gamma * fraction))
