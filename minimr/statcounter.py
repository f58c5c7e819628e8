"""What the numeric actions (actions.py) compute per partition and merge in the driver.

    StatCounter     count, mean, variance, min and max of numbers in one pass, mergeable
                    (Chan et al.'s parallel variance), as PySpark's rdd.stats() returns
    sketch / estimate_distinct   a HyperLogLog: about how many distinct values, in one
                    pass and little memory (countApproxDistinct)
    BoundedFloat    the type of sumApprox / meanApprox (minimr's are exact)
"""

import math
from hashlib import blake2b

from .shuffle import stable_hash

_M64 = (1 << 64) - 1


class StatCounter:
    """count, mean, variance, min and max in one pass, mergeable (Chan et al.)."""

    def __init__(self, values=()):
        self.n, self.mu, self.m2 = 0, 0.0, 0.0
        self.maxValue, self.minValue = float("-inf"), float("inf")
        for v in values:
            self.merge(v)

    def merge(self, value):
        delta = value - self.mu
        self.n += 1
        self.mu += delta / self.n
        self.m2 += delta * (value - self.mu)
        self.maxValue, self.minValue = max(self.maxValue, value), min(self.minValue, value)
        return self

    def mergeStats(self, other):
        if other.n == 0:
            return self
        if self.n == 0:
            self.n, self.mu, self.m2 = other.n, other.mu, other.m2
        else:
            delta = other.mu - self.mu
            n = self.n + other.n
            if other.n * 10 < self.n:
                self.mu += delta * other.n / n
            elif self.n * 10 < other.n:
                self.mu = other.mu - delta * self.n / n
            else:
                self.mu = (self.mu * self.n + other.mu * other.n) / n
            self.m2 += other.m2 + delta * delta * self.n * other.n / n
            self.n = n
        self.maxValue, self.minValue = max(self.maxValue, other.maxValue), min(self.minValue, other.minValue)
        return self

    def count(self):
        return self.n

    def mean(self):
        return self.mu            # 0.0 when empty, as PySpark

    def sum(self):
        return self.n * self.mu

    def variance(self):
        return self.m2 / self.n if self.n else float("nan")

    def sampleVariance(self):
        return self.m2 / (self.n - 1) if self.n > 1 else float("nan")

    def stdev(self):
        return math.sqrt(self.variance())

    def sampleStdev(self):
        return math.sqrt(self.sampleVariance())

    def max(self):
        return self.maxValue

    def min(self):
        return self.minValue

    def asDict(self, sample=False):
        """As PySpark's, flag included: the *sample* stdev and variance by default, the
        population ones with ``sample=True`` (its docstring's example: stdev 1.291 for
        [1, 2, 3, 4])."""
        return {"count": self.count(), "mean": self.mean(), "sum": self.sum(),
                "min": self.min(), "max": self.max(),
                "stdev": self.stdev() if sample else self.sampleStdev(),
                "variance": self.variance() if sample else self.sampleVariance()}

    def __repr__(self):
        return (f"(count: {self.n}, mean: {self.mean()}, stdev: {self.stdev()}, "
                f"max: {self.maxValue}, min: {self.minValue})")


class BoundedFloat(float):
    """An approximate result with its confidence and bounds (PySpark's type). minimr
    runs the whole job, so its results are exact: confidence 1.0, low == high."""

    def __new__(cls, mean, confidence, low, high):
        obj = float.__new__(cls, mean)
        obj.confidence, obj.low, obj.high = confidence, low, high
        return obj


def sketch(p, values):
    """A HyperLogLog over 2**p registers, kept sparse: {register: rank}. A value's
    64-bit hash picks a register (top p bits); its rank is 1 + the leading zeros of
    the rest. Many distinct values make some rank high; the ranks estimate how many."""
    registers = {}
    for x in values:        # stable_hash(7) is 7: blake2b spreads the bits over 64
        key = (stable_hash(x) & _M64).to_bytes(8, "little")
        h = int.from_bytes(blake2b(key, digest_size=8).digest(), "little")
        j, rank = h >> (64 - p), 65 - p - (h & ((1 << (64 - p)) - 1)).bit_length()
        if rank > registers.get(j, 0):
            registers[j] = rank
    return registers


def merge_sketches(a, b):
    return {j: max(a.get(j, 0), b.get(j, 0)) for j in a.keys() | b.keys()}


def estimate_distinct(p, registers):
    """Flajolet et al.'s estimate, with linear counting while registers are empty."""
    m, zeros = 1 << p, (1 << p) - len(registers)
    e = 0.7213 / (1 + 1.079 / m) * m * m / (zeros + sum(2.0 ** -r for r in registers.values()))
    return round(m * math.log(m / zeros)) if e <= 2.5 * m and zeros else round(e)
