"""The RDD: a lazy, immutable, partitioned dataset with PySpark's API.

An RDD is a handle on a lineage node (plan.py) plus the Context that can run it.
Transformations return new RDDs and run nothing; actions hand the lineage to the
scheduler (scheduler.run_job), which cuts it into stages and returns one value per
partition.

Two primitives carry every operation, as in PySpark's rdd.py:

    narrow   _pipe(f)  where f(split, iterator) -> iterator
             map, flatMap, filter, mapPartitions, glom, mapValues, sample ... are one
             line each over it; consecutive ones fuse into a single function
    wide     _shuffle(partitioner, aggregator)  -> one ShuffledRDD
             reduceByKey = combineByKey(v -> v, f, f)   (map-side combine, then merge)
             groupByKey  = a shuffle that gathers values in lists (no map-side combine)
             join, cogroup, subtract, intersection, distinct = groupByKey over a union of
             tagged values; sortByKey = a shuffle with a range partitioner, then a sort

Names and semantics follow PySpark (``numSlices``, ``preservesPartitioning`` ...), so a
minimr program runs on Spark unchanged.

User functions are applied inside generator expressions, never builtin ``map``/``filter``:
a StopIteration escaping a user function would end a builtin's iteration silently (rows
lost), while a generator turns it into a RuntimeError (PEP 479). Anywhere else (an
aggregator, reduce, an action's function) it propagates as an exception, and run_task
turns it into a RuntimeError: one mechanism, no wrapper around each user function.

>>> from minimr import Context
>>> with Context() as ctx:
...     words = ctx.parallelize(["a b", "b c", "b"], 2).flatMap(str.split)
...     sorted(words.map(lambda w: (w, 1)).reduceByKey(lambda a, b: a + b).collect())
[('a', 1), ('b', 3), ('c', 1)]
"""

import copy
import heapq
import itertools
import math
import numbers
import operator
import os
import random
import sys
from collections import defaultdict
from functools import reduce as _reduce

from . import io, plan
from .errors import MinimrError
from .scheduler import run_job
from .sampling import Sampler, fraction_for_sample_size
from .shuffle import Aggregator, HashPartitioner, RangePartitioner, stable_hash
from .statcounter import StatCounter
from .task import TaskContext


class RDD:
    def __init__(self, node, ctx):
        self._node = node
        self.ctx = ctx

    # ------------------------------------------------------------------ identity
    @property
    def context(self):
        return self.ctx

    @property
    def partitioner(self):
        return self._node.partitioner

    @property
    def is_cached(self):
        return self._node.storage is not None

    def id(self):
        return self._node.id

    def name(self):
        return self._node.name

    def setName(self, name):
        self._node.name = name
        return self

    def getNumPartitions(self):
        return self._node.num_partitions

    def getStorageLevel(self):
        return self._node.storage or plan.StorageLevel(False, False, False, False, 1)

    def toDebugString(self):
        """The lineage as bytes (like PySpark), ``+-`` marking each shuffle boundary."""
        return plan.debug_string(self._node).encode("utf-8")

    def __repr__(self):
        return self._node.label()

    def __reduce__(self):
        raise MinimrError(
            f"{self!r} is used inside a function that runs in a task. RDDs exist only in "
            "the driver: run an action first (collect, or broadcast the result) and use "
            "the value instead (Spark refuses this too, SPARK-5063)")

    def _new(self, node_cls, *args, **kw):
        return RDD(node_cls(self.ctx._new_id(), *args, **kw), self.ctx)

    # ------------------------------------------------------------- narrow: one primitive
    def _pipe(self, f, preservesPartitioning=False, op="mapPartitionsWithIndex"):
        """The narrow primitive: a new dataset whose partition `split` is
        ``f(split, parent's records)``. Consecutive pipes fuse into one function."""
        return self._new(plan.Pipelined, self._node, f, preservesPartitioning, op=op)

    def mapPartitionsWithIndex(self, f, preservesPartitioning=False):
        """
        >>> ctx.parallelize([1, 2, 3, 4], 2).mapPartitionsWithIndex(lambda i, it: [(i, sum(it))]).collect()
        [(0, 3), (1, 7)]
        """
        return self._pipe(f, preservesPartitioning, "mapPartitionsWithIndex")

    def mapPartitions(self, f, preservesPartitioning=False):
        return self._pipe(lambda _, it: f(it), preservesPartitioning, "mapPartitions")

    def map(self, f, preservesPartitioning=False):
        """
        >>> ctx.parallelize([1, 2, 3]).map(lambda x: x * 10).collect()
        [10, 20, 30]
        """
        return self._pipe(lambda _, it: (f(x) for x in it), preservesPartitioning, "map")

    def flatMap(self, f, preservesPartitioning=False):
        """
        >>> ctx.parallelize(["a b", "c"]).flatMap(str.split).collect()
        ['a', 'b', 'c']
        """
        return self._pipe(lambda _, it: (y for x in it for y in f(x)),
                          preservesPartitioning, "flatMap")

    def filter(self, f):
        """
        >>> ctx.parallelize(range(6)).filter(lambda x: x % 2).collect()
        [1, 3, 5]
        """
        return self._pipe(lambda _, it: (x for x in it if f(x)), True, "filter")

    def glom(self):
        """Each partition as one list.

        >>> ctx.parallelize([1, 2, 3, 4, 5], 2).glom().collect()
        [[1, 2], [3, 4, 5]]
        """
        return self._pipe(lambda _, it: [list(it)], False, "glom")

    def keyBy(self, f):
        return self._pipe(lambda _, it: ((f(x), x) for x in it), False, "keyBy")

    def keys(self):
        return self._pipe(lambda _, it: (kv[0] for kv in it), False, "keys")

    def values(self):
        return self._pipe(lambda _, it: (kv[1] for kv in it), False, "values")

    def mapValues(self, f):
        """Keys are untouched, so the partitioner is kept (no shuffle for a later join).

        >>> ctx.parallelize([("a", 1)]).mapValues(lambda v: v + 1).collect()
        [('a', 2)]
        """
        return self._pipe(lambda _, it: ((k, f(v)) for k, v in it), True, "mapValues")

    def flatMapValues(self, f):
        return self._pipe(lambda _, it: ((k, x) for k, v in it for x in f(v)), True,
                          "flatMapValues")

    def sample(self, withReplacement, fraction, seed=None):
        """Bernoulli (or Poisson, with replacement) sampling per record; the same random
        stream per partition as PySpark's, so the same seed picks the same records.

        >>> ctx.parallelize(range(100), 4).sample(False, 0.1, seed=7).count() < 30
        True
        """
        if fraction < 0:
            raise ValueError(f"Fraction must be nonnegative, got {fraction}")
        sampler = Sampler(withReplacement, fraction, seed)
        return self._pipe(sampler.func, True, "sample")

    def zipWithIndex(self):
        """Pair each record with its position. Like PySpark, this runs a job now to
        count the records of every partition but the last.

        >>> ctx.parallelize(["a", "b", "c"], 2).zipWithIndex().collect()
        [('a', 0), ('b', 1), ('c', 2)]
        """
        starts = [0]
        if self.getNumPartitions() > 1:
            counts = self.ctx.runJob(self, lambda it: [sum(1 for _ in it)],
                                     range(self.getNumPartitions() - 1))
            for c in counts:
                starts.append(starts[-1] + c)
        return self._pipe(lambda i, it: ((x, n) for n, x in enumerate(it, starts[i])),
                          False, "zipWithIndex")

    def zipWithUniqueId(self):
        n = self.getNumPartitions()
        return self._pipe(lambda k, it: ((x, i * n + k) for i, x in enumerate(it)),
                          False, "zipWithUniqueId")

    def union(self, other):
        """
        >>> a = ctx.parallelize([1, 2], 1); a.union(a).collect()
        [1, 2, 1, 2]
        """
        aware = self.partitioner is not None and self.partitioner == other.partitioner
        return self._new(plan.Union, [self._node, other._node], aware)

    def cartesian(self, other):
        """
        >>> sorted(ctx.parallelize([1, 2]).cartesian(ctx.parallelize("ab")).collect())
        [(1, 'a'), (1, 'b'), (2, 'a'), (2, 'b')]
        """
        return self._new(plan.Cartesian, self._node, other._node)

    def coalesce(self, numPartitions, shuffle=False):
        """Fewer partitions, without a shuffle: partition i takes a contiguous run of
        parent partitions. With ``shuffle=True`` records are dealt out round-robin.

        >>> ctx.parallelize(range(6), 3).coalesce(2).glom().collect()
        [[0, 1], [2, 3, 4, 5]]
        """
        numPartitions = _positive(numPartitions, "numPartitions")
        if shuffle:
            def deal(i, it):
                for pos, x in enumerate(it, i):
                    yield pos % numPartitions, x
            return (self._pipe(deal, False, "repartition")
                    .partitionBy(numPartitions).values())
        n = self.getNumPartitions()
        if numPartitions >= n:
            groups = [[p] for p in range(n)]
        else:
            groups = [list(range(i * n // numPartitions, (i + 1) * n // numPartitions))
                      for i in range(numPartitions)]
        return self._new(plan.Coalesced, self._node, groups)

    def repartition(self, numPartitions):
        return self.coalesce(numPartitions, shuffle=True)

    # --------------------------------------------------------------- wide: one primitive
    def _reduce_partitions(self, numPartitions):
        """An explicit count must be positive; None means the input's partition count
        (PySpark's default without spark.default.parallelism), at least 1."""
        if numPartitions is None:
            return max(self.getNumPartitions(), 1)
        return _positive(numPartitions, "numPartitions")

    def _shuffle(self, partitioner, aggregator=None, map_side_combine=False, op="partitionBy"):
        """The wide primitive: one ShuffledRDD, records placed by `partitioner`, values of a
        key folded by `aggregator` (on the map side too when `map_side_combine`)."""
        return self._new(plan.Shuffled, self._node, partitioner, aggregator, map_side_combine,
                         op=op)

    def partitionBy(self, numPartitions=None, partitionFunc=stable_hash):
        """Place every (key, value) record in partition ``partitionFunc(key) % n``.
        If the data is already placed that way, nothing moves.

        >>> p = ctx.parallelize([(1, "a"), (2, "b"), (3, "c")]).partitionBy(2)
        >>> p.glom().collect()
        [[(2, 'b')], [(1, 'a'), (3, 'c')]]
        >>> p.partitionBy(2) is p
        True
        """
        numPartitions = self._reduce_partitions(numPartitions)
        partitioner = HashPartitioner(numPartitions, partitionFunc)
        if self.partitioner == partitioner:
            return self
        return self._shuffle(partitioner)

    def combineByKey(self, createCombiner, mergeValue, mergeCombiners, numPartitions=None,
                     partitionFunc=stable_hash, _op="combineByKey"):
        """The general per-key aggregation; reduceByKey, foldByKey and aggregateByKey are
        one line over it. Values are combined map-side before the shuffle (Hadoop's
        combiner), then the combiners of each key are merged reduce-side.

        >>> pairs = ctx.parallelize([("a", 1), ("b", 2), ("a", 3)], 2)
        >>> sorted(pairs.combineByKey(lambda v: [v], lambda c, v: c + [v], lambda c, d: c + d).collect())
        [('a', [1, 3]), ('b', [2])]
        """
        n = self._reduce_partitions(numPartitions)
        agg = Aggregator(createCombiner, mergeValue, mergeCombiners)
        partitioner = HashPartitioner(n, partitionFunc)
        if self.partitioner == partitioner:
            # already placed by key: every key's records are in one partition, no shuffle
            def combine_here(_, it):
                merged = {}
                for k, v in it:
                    merged[k] = agg.merge_value(merged[k], v) if k in merged else agg.create_combiner(v)
                return iter(merged.items())
            return self._pipe(combine_here, True, _op)
        return self._shuffle(partitioner, agg, map_side_combine=True, op=_op)

    def reduceByKey(self, func, numPartitions=None, partitionFunc=stable_hash):
        """
        >>> sorted(ctx.parallelize([("a", 1), ("b", 1), ("a", 1)]).reduceByKey(operator.add).collect())
        [('a', 2), ('b', 1)]
        """
        return self.combineByKey(lambda v: v, func, func, numPartitions, partitionFunc,
                                 _op="reduceByKey")

    def foldByKey(self, zeroValue, func, numPartitions=None, partitionFunc=stable_hash):
        zero = lambda: copy.deepcopy(zeroValue)  # noqa: E731  (a fresh zero per key)
        return self.combineByKey(lambda v: func(zero(), v), func, func, numPartitions,
                                 partitionFunc, _op="foldByKey")

    def aggregateByKey(self, zeroValue, seqFunc, combFunc, numPartitions=None,
                       partitionFunc=stable_hash):
        zero = lambda: copy.deepcopy(zeroValue)  # noqa: E731
        return self.combineByKey(lambda v: seqFunc(zero(), v), seqFunc, combFunc,
                                 numPartitions, partitionFunc, _op="aggregateByKey")

    def groupByKey(self, numPartitions=None, partitionFunc=stable_hash):
        """All values of each key, in a ResultIterable. No map-side combine: grouping
        does not make the data smaller (Spark's groupByKey skips it for that reason).

        >>> sorted((k, list(v)) for k, v in ctx.parallelize([("a", 1), ("a", 2)]).groupByKey().collect())
        [('a', [1, 2])]
        """
        n = self._reduce_partitions(numPartitions)
        agg = Aggregator(_new_list, _append, _extend)
        partitioner = HashPartitioner(n, partitionFunc)
        if self.partitioner == partitioner:
            grouped = self.combineByKey(_new_list, _append, _extend, n, partitionFunc,
                                        _op="groupByKey")
        else:
            grouped = self._shuffle(partitioner, agg, map_side_combine=False, op="groupByKey")
        return grouped.mapValues(ResultIterable)

    def cogroup(self, other, numPartitions=None):
        """For each key, the values from each side.

        >>> x = ctx.parallelize([("a", 1), ("b", 4)]); y = ctx.parallelize([("a", 2)])
        >>> sorted((k, (list(a), list(b))) for k, (a, b) in x.cogroup(y).collect())
        [('a', ([1], [2])), ('b', ([4], []))]
        """
        tagged = (self.mapValues(lambda v: (0, v))
                  .union(other.mapValues(lambda v: (1, v))))

        def split_sides(values):
            sides = ([], [])
            for tag, v in values:
                sides[tag].append(v)
            return ResultIterable(sides[0]), ResultIterable(sides[1])
        return tagged.groupByKey(numPartitions).mapValues(split_sides)

    def _join(self, other, numPartitions, keep_left, keep_right):
        def pairs(sides):
            left, right = list(sides[0]), list(sides[1])
            if keep_left and not right:
                right = [None]
            if keep_right and not left:
                left = [None]
            return [(v, w) for v in left for w in right]
        return self.cogroup(other, numPartitions).flatMapValues(pairs)

    def join(self, other, numPartitions=None):
        """
        >>> sorted(ctx.parallelize([("a", 1), ("b", 4)]).join(ctx.parallelize([("a", 2), ("a", 3)])).collect())
        [('a', (1, 2)), ('a', (1, 3))]
        """
        return self._join(other, numPartitions, False, False)

    def leftOuterJoin(self, other, numPartitions=None):
        return self._join(other, numPartitions, True, False)

    def rightOuterJoin(self, other, numPartitions=None):
        return self._join(other, numPartitions, False, True)

    def fullOuterJoin(self, other, numPartitions=None):
        return self._join(other, numPartitions, True, True)

    def subtractByKey(self, other, numPartitions=None):
        return (self.cogroup(other, numPartitions)
                .filter(lambda kv: len(kv[1][0]) and not len(kv[1][1]))
                .flatMapValues(lambda sides: sides[0]))

    def subtract(self, other, numPartitions=None):
        """Records of this RDD not in `other` (duplicates of this RDD are kept).

        >>> sorted(ctx.parallelize([1, 2, 2, 3]).subtract(ctx.parallelize([3])).collect())
        [1, 2, 2]
        """
        return (self.map(lambda x: (x, True))
                .subtractByKey(other.map(lambda x: (x, True)), numPartitions).keys())

    def intersection(self, other):
        """
        >>> sorted(ctx.parallelize([1, 2, 2, 3]).intersection(ctx.parallelize([2, 3, 4])).collect())
        [2, 3]
        """
        return (self.map(lambda v: (v, None)).cogroup(other.map(lambda v: (v, None)))
                .filter(lambda kv: len(kv[1][0]) and len(kv[1][1])).keys())

    def distinct(self, numPartitions=None):
        """
        >>> sorted(ctx.parallelize([1, 1.0, True, 2]).distinct().collect())
        [1, 2]
        """
        return (self.map(lambda x: (x, None)).reduceByKey(lambda x, _: x, numPartitions)
                .map(lambda kv: kv[0]))

    def sortByKey(self, ascending=True, numPartitions=None, keyfunc=lambda x: x):
        """Total order: range-partition by key, then sort each partition. Like PySpark,
        this runs jobs *now* (a count, and a sample of keys to choose the ranges).

        >>> ctx.parallelize([("b", 1), ("a", 2), ("c", 3)], 2).sortByKey().collect()
        [('a', 2), ('b', 1), ('c', 3)]
        """
        n = self._reduce_partitions(numPartitions)

        def sort_partition(it):
            return iter(sorted(it, key=lambda kv: keyfunc(kv[0]), reverse=not ascending))

        if n == 1:
            one = self.coalesce(1) if self.getNumPartitions() > 1 else self
            return one.mapPartitions(sort_partition, True)
        size = self.count()
        if not size:
            return self
        fraction = min(n * 20.0 / size, 1.0)    # ~20 keys a partition, as Spark samples
        samples = sorted(self.sample(False, fraction, 1).keys().collect(), key=keyfunc)
        bounds = [keyfunc(samples[int(len(samples) * (i + 1) / n)]) for i in range(n - 1)]
        partitioner = RangePartitioner(n, bounds, ascending, keyfunc)
        return self._shuffle(partitioner, op="sortByKey").mapPartitions(sort_partition, True)

    def sortBy(self, keyfunc, ascending=True, numPartitions=None):
        """
        >>> ctx.parallelize([3, 1, 2]).sortBy(lambda x: -x).collect()
        [3, 2, 1]
        """
        return self.keyBy(keyfunc).sortByKey(ascending, numPartitions).values()

    # ------------------------------------------------------------------ persistence
    def persist(self, storageLevel=plan.StorageLevel.MEMORY_ONLY):
        """Keep the computed partitions for later jobs. Where, depends on the executor:
        worker RAM (memory), files (disk), a dict (serial). Lazy: kept when first computed."""
        if self._node.storage not in (None, storageLevel):
            raise MinimrError(f"cannot change the storage level of {self!r} from "
                              f"{self._node.storage} to {storageLevel}; unpersist() first")
        self._node.storage = storageLevel
        return self

    def cache(self):
        return self.persist(plan.StorageLevel.MEMORY_ONLY)

    def unpersist(self, blocking=False):
        self._node.storage = None
        self.ctx._executor.unpersist(self.id())
        return self

    # ---------------------------------------------------------------------- actions
    def _run(self, func, partitions=None):
        """One value per partition: the action's per-partition part, run as tasks."""
        return run_job(self.ctx, self._node, func, partitions)

    def collect(self):
        return [x for part in self._run(list) for x in part]

    def count(self):
        """
        >>> ctx.parallelize(range(10), 3).count()
        10
        """
        return sum(self._run(lambda it: sum(1 for _ in it)))

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
            for part in self._run(lambda it: list(itertools.islice(it, left)), parts):
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
        parts = self._run(lambda it: heapq.nsmallest(num, it, key))
        return heapq.nsmallest(num, itertools.chain.from_iterable(parts), key)

    def top(self, num, key=None):
        """
        >>> ctx.parallelize([5, 1, 4, 2], 2).top(2)
        [5, 4]
        """
        parts = self._run(lambda it: heapq.nlargest(num, it, key))
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
        parts = [v for v in self._run(lambda it: _reduce_part(f, it)) if v is not EMPTY]
        if not parts:
            raise ValueError("Can not reduce() empty RDD")
        return _reduce(f, parts)

    def fold(self, zeroValue, op):
        """Fold each partition from zeroValue, then fold the partition results from
        zeroValue again (so zeroValue counts once per partition, plus once).

        >>> ctx.parallelize([1, 2, 3], 2).fold(0, operator.add)
        6
        """
        return _reduce(op, self._run(lambda it: _reduce(op, it, zeroValue)), zeroValue)

    def aggregate(self, zeroValue, seqOp, combOp):
        """
        >>> ctx.parallelize([1, 2, 3], 2).aggregate((0, 0), lambda a, x: (a[0] + x, a[1] + 1), lambda a, b: (a[0] + b[0], a[1] + b[1]))
        (6, 3)
        """
        parts = self._run(lambda it: _reduce(seqOp, it, copy.deepcopy(zeroValue)))
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
        for part in self._run(count_part):
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
            return values._run(list, [self.partitioner(key)])[0]
        return values.collect()

    def foreach(self, f):
        self._run(lambda it: [f(x) for x in it] and None)

    def foreachPartition(self, f):

        def run(it):
            out = f(it)
            if out is not None and hasattr(out, "__iter__"):
                for _ in out:           # a generator's body runs only when consumed
                    pass
        self._run(run)

    def saveAsTextFile(self, path, compressionCodecClass=None):
        """One ``part-NNNNN`` file per partition (``str(record)`` per line) plus
        ``_SUCCESS``, through Hadoop's commit protocol (io.py): readers never see a
        partial output. An existing `path` is refused before any work starts."""
        if compressionCodecClass is not None:
            raise MinimrError("saveAsTextFile: compression is not supported by minimr")
        path = os.path.abspath(path)
        io.check_output_dir(path)

        def write(it):
            tc = TaskContext.get()
            return io.write_part(path, tc.partitionId(), tc.attemptNumber(), it)
        try:
            self._run(write)
        except BaseException:
            io.abort_job(path)
            raise
        io.commit_job(path)


# -------------------------------------------------------------------------- helpers

def _positive(n, what):
    """n as an int, if it is a positive integer (numpy ints too); else a MinimrError."""
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n <= 0:
        raise MinimrError(f"{what} must be a positive integer, got {n!r}")
    return int(n)


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


def _new_list(v):
    return [v]


def _append(c, v):
    c.append(v)
    return c


def _extend(c, d):
    c.extend(d)
    return c


class ResultIterable:
    """The values of one key after groupByKey/cogroup: iterable, with a length."""

    def __init__(self, data):
        self.data = data

    def __iter__(self):
        return iter(self.data)

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        return f"ResultIterable({self.data!r})"
