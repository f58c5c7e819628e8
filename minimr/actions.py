"""The RDD's actions: each runs a job (scheduler.run_job) and brings values back.

    _run_job(func, partitions)   func(iterator) -> value, once per partition, as tasks
    collect, count, take, first, isEmpty, takeOrdered, top, takeSample
    reduce, fold, aggregate, treeAggregate, treeReduce, sum, min, max
    stats, mean, variance, stdev, countByValue, countByKey, collectAsMap, lookup
    foreach, foreachPartition, saveAsTextFile (Hadoop's output commit, io.py)

Each action is its per-partition part (run in tasks) plus how the driver combines the
partitions' values. RDD (rdd.py) inherits these methods.
"""

import copy
import heapq
import itertools
import math
import operator
import os
import random
import sys
from collections import defaultdict
from functools import reduce as _reduce

from . import io
from .errors import MinimrError
from .sampling import fraction_for_sample_size
from .scheduler import run_job
from .statcounter import StatCounter
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
        parts = [v for v in self._run_job(lambda it: _reduce_part(f, it)) if v is not EMPTY]
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
        def op(a, b):
            if a is EMPTY:
                return b
            return a if b is EMPTY else f(a, b)
        out = self.treeAggregate(EMPTY, op, op, depth)
        if out is EMPTY:
            raise ValueError("Cannot reduce empty RDD.")
        return out

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

    def countByValue(self):
        """
        >>> sorted(ctx.parallelize(["a", "b", "a"]).countByValue().items())
        [('a', 2), ('b', 1)]
        """
        def count_part(it):
            counts = defaultdict(int)
            for x in it:
                counts[x] += 1
            return counts
        total = defaultdict(int)
        for part in self._run_job(count_part):
            for k, c in part.items():
                total[k] += c
        return total

    def countByKey(self):
        return self.map(lambda kv: kv[0]).countByValue()

    def collectAsMap(self):
        return dict(self.collect())

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
        """Batches of `batchSize` pickled records (0: 1024) in ``part-NNNNN`` files, read
        back by Context.pickleFile (minimr's own format, each batch crc-checked; not
        Hadoop's SequenceFile, which PySpark writes)."""
        self._save(path, lambda name, it: io.write_pickles(name, it, batchSize or 1024))

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


class _Empty:
    """"No value yet" for reduce; pickles by name, so it stays itself in every process."""

    def __reduce__(self):
        return "EMPTY"

    def __repr__(self):
        return "EMPTY"


EMPTY = _Empty()


def _reduce_part(f, it):
    it = iter(it)
    first = next(it, EMPTY)
    return first if first is EMPTY else _reduce(f, it, first)
