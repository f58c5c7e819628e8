"""The RDD's actions: each runs a job (scheduler.run_job) and brings values back.

    _run_job(func, partitions)   func(iterator) -> value, once per partition, as tasks
    collect, count, take, first, isEmpty, takeOrdered, top, takeSample, toLocalIterator
    reduce, fold, aggregate, treeAggregate, treeReduce, sum, min, max
    stats, mean, variance, stdev (and sample*), histogram, countByValue, countByKey,
    collectAsMap, lookup, reduceByKeyLocally
    countApproxDistinct (a HyperLogLog), countApprox, sumApprox, meanApprox (exact)
    foreach, foreachPartition, saveAsTextFile, saveAsPickleFile (Hadoop's output
    commit, io.py)

Each action is its per-partition part (run in tasks) plus how the driver combines the
partitions' values. RDD (rdd.py) inherits these methods.
"""

import bisect
import contextlib
import copy
import functools
import heapq
import itertools
import math
import numbers
import operator
import os
import random
import sys
from collections import Counter, defaultdict
from functools import reduce as _reduce

from . import io, spill
from .errors import MinimrError
from .sampling import fraction_for_sample_size
from .scheduler import run_job
from .shuffle import combine, identity
from .statcounter import BoundedFloat, StatCounter, estimate_distinct, merge_sketches, sketch
from .task import TaskContext


class Actions:
    """Mixed into RDD (rdd.py)."""

    def _run_job(self, func, partitions=None):
        """One value per partition: the action's per-partition part, run as tasks."""
        return run_job(self.ctx, self._node, func, partitions)

    def collect(self):
        return [x for part in self._run_job(list) for x in part]

    def count(self):
        """
        >>> ctx.parallelize(range(10), 3).count()
        10
        """
        return sum(self._run_job(lambda it: sum(1 for _ in it)))

    def take(self, num):
        """The first `num` records, scanning one partition, then more as needed (4x at a
        time), like PySpark: a take on a big dataset reads as little as it can.

        >>> ctx.parallelize(range(100), 10).take(3)
        [0, 1, 2]
        """
        items, total, scanned = [], self.getNumPartitions(), 0
        while len(items) < num and scanned < total:
            try_parts = 1
            if scanned > 0:
                try_parts = scanned * 4 if not items else min(
                    max(int(1.5 * num * scanned / len(items)) - scanned, 1), scanned * 4)
            left = num - len(items)
            parts = range(scanned, min(scanned + try_parts, total))
            for part in self._run_job(lambda it: list(itertools.islice(it, left)), parts):
                items.extend(part)
            scanned += try_parts
        return items[:num]

    def toLocalIterator(self, prefetchPartitions=False):
        """The records, one partition (one job) at a time: the driver holds one
        partition, not the dataset."""
        for p in range(self.getNumPartitions()):
            yield from self._run_job(list, [p])[0]

    def first(self):
        rows = self.take(1)
        if not rows:
            raise ValueError("RDD is empty")
        return rows[0]

    def isEmpty(self):
        return self.getNumPartitions() == 0 or not self.take(1)

    def takeOrdered(self, num, key=None):
        """
        >>> ctx.parallelize([5, 1, 4, 2], 2).takeOrdered(2)
        [1, 2]
        """
        if num < 0:
            raise ValueError("top N cannot be negative.")
        parts = self._run_job(lambda it: heapq.nsmallest(num, it, key))
        return heapq.nsmallest(num, itertools.chain.from_iterable(parts), key)

    def top(self, num, key=None):
        """
        >>> ctx.parallelize([5, 1, 4, 2], 2).top(2)
        [5, 4]
        """
        parts = self._run_job(lambda it: heapq.nlargest(num, it, key))
        return heapq.nlargest(num, itertools.chain.from_iterable(parts), key)

    def takeSample(self, withReplacement, num, seed=None):
        """A fixed-size random sample; PySpark's algorithm, so the same seed gives the
        same sample as PySpark for the same partitions."""
        max_size = sys.maxsize - int(10.0 * math.sqrt(sys.maxsize))
        if num < 0:
            raise ValueError("Sample size cannot be negative.")
        if num > max_size:
            raise ValueError(f"Sample size cannot be greater than {max_size}.")
        if num == 0 or self.getNumPartitions() == 0:
            return []
        total = self.count()
        if total == 0:
            return []
        rand = random.Random(seed)
        if not withReplacement and num >= total:
            samples = self.collect()
            rand.shuffle(samples)
            return samples
        fraction = fraction_for_sample_size(num, total, withReplacement)
        samples = self.sample(withReplacement, fraction, seed).collect()
        while len(samples) < num:       # rare: the oversampled fraction fell short
            samples = self.sample(withReplacement, fraction, rand.randint(0, sys.maxsize)).collect()
        rand.shuffle(samples)
        return samples[:num]

    def reduce(self, f):
        """
        >>> ctx.parallelize(range(5), 2).reduce(operator.add)
        10
        """
        parts = [v for part in self._run_job(lambda it: _reduce_part(f, it)) for v in part]
        if not parts:
            raise ValueError("Can not reduce() empty RDD")
        return _reduce(f, parts)

    def fold(self, zeroValue, op):
        """Fold each partition from zeroValue, then fold the partition results from
        zeroValue again (so zeroValue counts once per partition, plus once).

        >>> ctx.parallelize([1, 2, 3], 2).fold(0, operator.add)
        6
        """
        return _reduce(op, self._run_job(lambda it: _reduce(op, it, zeroValue)), zeroValue)

    def aggregate(self, zeroValue, seqOp, combOp):
        """
        >>> ctx.parallelize([1, 2, 3], 2).aggregate((0, 0), lambda a, x: (a[0] + x, a[1] + 1), lambda a, b: (a[0] + b[0], a[1] + b[1]))
        (6, 3)
        """
        parts = self._run_job(lambda it: _reduce(seqOp, it, copy.deepcopy(zeroValue)))
        return _reduce(combOp, parts, zeroValue)

    def treeAggregate(self, zeroValue, seqOp, combOp, depth=2):
        """aggregate, but the partition results are combined in rounds of shuffles
        (a tree of about `depth` levels) instead of all at once in the driver.

        >>> ctx.parallelize(range(100), 10).treeAggregate(0, operator.add, operator.add)
        4950
        """
        if depth < 1:
            raise ValueError(f"Depth cannot be smaller than 1 but got depth = {depth}.")
        if self.getNumPartitions() == 0:
            return zeroValue
        partial = self.mapPartitions(lambda it: [_reduce(seqOp, it, copy.deepcopy(zeroValue))])
        n = partial.getNumPartitions()
        scale = max(math.ceil(n ** (1.0 / depth)), 2)
        while n > scale + n / scale:          # one more level pays for itself
            n = int(n / scale)
            partial = (partial.mapPartitionsWithIndex(_keyed_by_index(n))
                       .reduceByKey(combOp, n).values())
        return partial.reduce(combOp)

    def treeReduce(self, f, depth=2):
        """PySpark's way: each value paired with "empty?", the zero value (None, True)."""
        def op(a, b):
            return b if a[1] else a if b[1] else (f(a[0], b[0]), False)
        value, empty = self.map(lambda x: (x, False)).treeAggregate((None, True), op, op, depth)
        if empty:
            raise ValueError("Cannot reduce empty RDD.")
        return value

    def sum(self):
        """
        >>> ctx.parallelize([1.5, 2.5]).sum()
        4.0
        """
        return self.mapPartitions(lambda it: [sum(it)]).fold(0, operator.add)

    def min(self, key=None):
        return self.reduce(min if key is None else (lambda a, b: min(a, b, key=key)))

    def max(self, key=None):
        return self.reduce(max if key is None else (lambda a, b: max(a, b, key=key)))

    def stats(self):
        return self.mapPartitions(lambda it: [StatCounter(it)]).reduce(StatCounter.mergeStats)

    def mean(self):
        """
        >>> ctx.parallelize([1, 2, 3, 4]).mean()
        2.5
        """
        return self.stats().mean()

    def variance(self):
        return self.stats().variance()

    def stdev(self):
        return self.stats().stdev()

    def sampleVariance(self):
        return self.stats().sampleVariance()

    def sampleStdev(self):
        return self.stats().sampleStdev()

    def histogram(self, buckets):
        """(buckets, counts): `buckets` evenly spaced boundaries between min and max (an
        int), or the boundaries given (sorted); each bucket holds [b_i, b_i+1), the last
        one [b_n-1, b_n]. None and NaN are left out. PySpark's rules, its messages too.

        >>> ctx.parallelize([1, 2, 3, 4, 5, 5.5, 10]).histogram(3)
        ([1, 4, 7, 10], [3, 3, 1])
        """
        def number(x):
            return x is not None and not (isinstance(x, float) and math.isnan(x))
        if isinstance(buckets, int):
            if buckets < 1:
                raise ValueError("number of buckets must be >= 1")
            values = self.filter(number)
            lo, hi = values.map(lambda x: (x, x)).reduce(
                lambda a, b: (min(a[0], b[0]), max(a[1], b[1])))
            if lo == hi or buckets == 1:
                return [lo, hi], [values.count()]
            if not (isinstance(lo, numbers.Number) and isinstance(hi, numbers.Number)):
                raise TypeError("Can not generate buckets with non-number in RDD")
            inc = (hi - lo) / buckets
            if math.isinf(inc):
                raise ValueError("Can not generate buckets with infinite value")
            inc = int(inc) if int(inc) * buckets == hi - lo else (hi - lo) * 1.0 / buckets
            buckets, even = [i * inc + lo for i in range(buckets)] + [hi], True
        elif isinstance(buckets, (list, tuple)):
            problem = ("buckets should have more than one value" if len(buckets) < 2 else
                       "can not have None or NaN in buckets" if not all(map(number, buckets)) else
                       "buckets should be sorted" if sorted(buckets) != list(buckets) else
                       "buckets should not contain duplicated values" if len(set(buckets)) < len(buckets)
                       else None)
            if problem:
                raise ValueError(problem)
            lo, hi, even = buckets[0], buckets[-1], False
            with contextlib.suppress(TypeError):       # bounds without "-": not even
                steps = [b - a for a, b in zip(buckets, buckets[1:])]
                even, inc = max(steps) - min(steps) < 1e-10, (hi - lo) / (len(buckets) - 1)
        else:
            raise TypeError("buckets should be a list or tuple or number(int or long)")

        def count(it):
            counts = [0] * len(buckets)
            for x in it:
                if number(x) and lo <= x <= hi:
                    counts[int((x - lo) / inc) if even else bisect.bisect_right(buckets, x) - 1] += 1
            counts[-2] += counts[-1]                # the last bucket includes its upper bound
            return [counts[:-1]]
        return buckets, self.mapPartitions(count).reduce(lambda a, b: [i + j for i, j in zip(a, b)])

    def countApproxDistinct(self, relativeSD=0.05):
        """About how many distinct records: a HyperLogLog per partition, merged
        (statcounter.sketch); within a few relativeSD of the exact count.

        >>> ctx.parallelize(range(1000)).countApproxDistinct() in range(850, 1150)
        True
        """
        if relativeSD < 0.000017:
            raise ValueError("relativeSD should be greater than 0.000017")
        p = max(4, math.ceil(2.0 * math.log(1.054 / relativeSD) / math.log(2)))   # Spark's
        registers = _reduce(merge_sketches, self._run_job(functools.partial(sketch, p)), {})
        return estimate_distinct(p, registers)

    # Spark answers these with what it has when `timeout` (ms) runs out, or the exact
    # value if the job ends first; minimr's jobs always run to their end: exact values.
    def countApprox(self, timeout, confidence=0.95):
        return self.count()

    def sumApprox(self, timeout, confidence=0.95):
        total = self.mapPartitions(lambda it: [float(sum(it))]).sum()
        return BoundedFloat(total, 1.0, total, total)

    def meanApprox(self, timeout, confidence=0.95):
        mean = self.map(float).mean()
        return BoundedFloat(mean, 1.0, mean, mean)

    def countByValue(self):
        """
        >>> sorted(ctx.parallelize(["a", "b", "a"]).countByValue().items())
        [('a', 2), ('b', 1)]
        """
        total = defaultdict(int)           # PySpark's type; each partition counts in a Counter
        for part in self._run_job(Counter):
            for k, c in part.items():
                total[k] += c
        return total

    def countByKey(self):
        return self.map(lambda kv: kv[0]).countByValue()

    def collectAsMap(self):
        return dict(self.collect())

    def reduceByKeyLocally(self, func):
        """reduceByKey whose result comes to the driver as a dict, without a shuffle.

        >>> sorted(ctx.parallelize([("a", 1), ("b", 2), ("a", 3)], 2).reduceByKeyLocally(operator.add).items())
        [('a', 4), ('b', 2)]
        """
        def merge(a, b):
            return dict(combine(itertools.chain(a.items(), b.items()), identity, func))
        return self.mapPartitions(lambda it: [dict(combine(it, identity, func))]).reduce(merge)

    def lookup(self, key):
        """Values for `key`. With a known partitioner only one partition is read."""
        values = self.filter(lambda kv: kv[0] == key).values()
        if self.partitioner is not None:
            return values._run_job(list, [self.partitioner(key)])[0]
        return values.collect()

    def foreach(self, f):
        self._run_job(lambda it: [f(x) for x in it] and None)

    def foreachPartition(self, f):

        def run(it):
            out = f(it)
            if out is not None and hasattr(out, "__iter__"):
                for _ in out:           # a generator's body runs only when consumed
                    pass
        self._run_job(run)

    def saveAsTextFile(self, path, compressionCodecClass=None):
        """One ``part-NNNNN`` file per partition (``str(record)`` per line) plus
        ``_SUCCESS``, through Hadoop's commit protocol (io.py): readers never see a
        partial output. An existing `path` is refused before any work starts."""
        if compressionCodecClass is not None:
            raise MinimrError("saveAsTextFile: compression is not supported by minimr")
        self._save(path, io.write_lines)

    def saveAsPickleFile(self, path, batchSize=10):
        """Batches of `batchSize` pickled records (0: 1024) in ``part-NNNNN`` files with
        their crc-checked index (the disk executor's cache format, spill.write_pickles),
        read back by Context.pickleFile. Not Hadoop's SequenceFile, which PySpark writes."""
        self._save(path, lambda name, it: spill.write_pickles(name, it, batchSize or 1024))

    def _save(self, path, write):
        """Each task writes its partition with ``write(file name, records)``; the job
        commits all the files, or leaves nothing."""
        path = os.path.abspath(io.local_path(path))
        io.check_output_dir(path)

        def task(it):
            tc = TaskContext.get()
            return io.write_part(path, tc.partitionId(), tc.attemptNumber(), lambda f: write(f, it))
        try:
            self._run_job(task)
        except BaseException:
            io.abort_job(path)
            raise
        io.commit_job(path)


def _keyed_by_index(width):
    """(i % width, x) for each x of partition i: bound now, not when a task runs."""
    return lambda i, it: ((i % width, x) for x in it)


def _reduce_part(f, it):
    """[f folded over a partition's records], or [] if it has none."""
    it = iter(it)
    for first in it:
        return [_reduce(f, it, first)]
    return []
