"""StatCounter: count, mean, variance, min and max of numbers in one pass, mergeable
across partitions (Chan et al.'s parallel variance), as PySpark's rdd.stats() returns.
Made by RDD.stats (actions.py), one per partition, then merged in the driver."""

import math


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
