"""The RDD's wide (key-value) operations: each ends in the one shuffle.

    _shuffle(partitioner, aggregator)  -> one ShuffledRDD (plan.Shuffled); shuffle.py
                                          and the executors' envs move its records
    partitionBy        a shuffle with no aggregator
    combineByKey       a shuffle with a map-side combine; reduceByKey, foldByKey and
                       aggregateByKey are one line over it
    groupByKey         a shuffle gathering values in lists (no map-side combine);
                       groupBy is one line over it
    cogroup            groupByKey over a union of tagged values; groupWith, join, the
                       outer joins, subtractByKey, subtract and intersection are one
                       line over it
    distinct           reduceByKey keeping one value
    sortByKey, sortBy  a shuffle with a range partitioner, then a sort per partition
    repartitionAndSortWithinPartitions   partitionBy, then a sort per partition
                       (Hadoop's secondary sort)

If the data is already placed by an equal partitioner, combineByKey and groupByKey
combine in place, without a shuffle (what makes partitionBy(...).cache() pay off).
RDD (rdd.py) inherits these methods; they build on its narrow ones.
"""

import copy
import functools
from types import GenericAlias

from . import plan

from .errors import positive
from .shuffle import Aggregator, HashPartitioner, RangePartitioner, combine, stable_hash


class WideOperations:
    """Mixed into RDD (rdd.py)."""

    def _reduce_partitions(self, numPartitions):
        """An explicit count must be positive; None means spark.default.parallelism if
        it is set, else the input's partition count (at least 1): PySpark's
        _defaultReducePartitions."""
        if numPartitions is None:
            return self.ctx._parallelism or max(self.getNumPartitions(), 1)
        return positive(numPartitions, "numPartitions")

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
                     partitionFunc=stable_hash, _op="combineByKey", _map_side=True):
        """The general per-key aggregation; reduceByKey, foldByKey and aggregateByKey are
        one line over it. Values are combined map-side before the shuffle (Hadoop's
        combiner), then the combiners of each key are merged reduce-side.

        >>> pairs = ctx.parallelize([("a", 1), ("b", 2), ("a", 3)], 2)
        >>> sorted(pairs.combineByKey(lambda v: [v], lambda c, v: c + [v], lambda c, d: c + d).collect())
        [('a', [1, 3]), ('b', [2])]
        """
        n = self._reduce_partitions(numPartitions)
        partitioner = HashPartitioner(n, partitionFunc)
        if self.partitioner == partitioner:
            # already placed by key: every key's records are in one partition, no shuffle
            return self._pipe(lambda _, it: iter(combine(it, createCombiner, mergeValue)), True, _op)
        agg = Aggregator(createCombiner, mergeValue, mergeCombiners)
        return self._shuffle(partitioner, agg, map_side_combine=_map_side, op=_op)

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
        return self.combineByKey(_new_list, _append, _extend, numPartitions, partitionFunc,
                                 _op="groupByKey", _map_side=False).mapValues(ResultIterable)

    def groupBy(self, f, numPartitions=None, partitionFunc=stable_hash):
        """
        >>> sorted((k, sorted(v)) for k, v in ctx.parallelize([1, 2, 3]).groupBy(lambda x: x % 2).collect())
        [(0, [2]), (1, [1, 3])]
        """
        return self.map(lambda x: (f(x), x)).groupByKey(numPartitions, partitionFunc)

    def cogroup(self, other, numPartitions=None):
        """For each key, the values from each side.

        >>> x = ctx.parallelize([("a", 1), ("b", 4)]); y = ctx.parallelize([("a", 2)])
        >>> sorted((k, (list(a), list(b))) for k, (a, b) in x.cogroup(y).collect())
        [('a', ([1], [2])), ('b', ([4], []))]
        """
        return _cogroup((self, other), numPartitions)

    def groupWith(self, other, *others):
        """cogroup of two or more datasets."""
        return _cogroup((self, other) + others, None)

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

    def repartitionAndSortWithinPartitions(self, numPartitions=None, partitionFunc=stable_hash,
                                           ascending=True, keyfunc=lambda x: x):
        """Hadoop's secondary sort: place records by partitionFunc(key), then sort each
        partition by keyfunc(key). With a composite key (k, v) placed by k alone, each
        key's values come out sorted, without holding a key's values in memory.

        >>> ctx.parallelize([(("a", 3), 0), (("b", 1), 0), (("a", 1), 0)]).repartitionAndSortWithinPartitions(
        ...     2, lambda kv: ord(kv[0])).keys().glom().collect()
        [[('b', 1)], [('a', 1), ('a', 3)]]
        """
        return self.partitionBy(numPartitions, partitionFunc).mapPartitions(
            lambda it: iter(sorted(it, key=lambda kv: keyfunc(kv[0]), reverse=not ascending)), True)


def _cogroup(rdds, numPartitions):
    """For each key, a ResultIterable of its values in each of `rdds`: groupByKey over the
    union of their values tagged with their dataset's index (PySpark's python_cogroup,
    pairwise unions included: they decide the default partition count)."""
    tagged = functools.reduce(lambda a, b: a.union(b), [
        r.mapValues(lambda v, i=i: (i, v)) for i, r in enumerate(rdds)])
    return tagged.groupByKey(numPartitions).mapValues(lambda values, n=len(rdds): tuple(
        ResultIterable([v for i, v in values if i == k]) for k in range(n)))



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
    __class_getitem__ = classmethod(GenericAlias)     # ResultIterable[str], as PySpark's

    def __init__(self, data):
        self.data = data

    def __iter__(self):
        return iter(self.data)

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        return f"ResultIterable({self.data!r})"
