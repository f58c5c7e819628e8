"""The RDD: a lazy, immutable, partitioned dataset with PySpark's API.

An RDD is a handle on a lineage node (plan.py) plus the Context that can run it; a
program gets its first RDDs from the Context (context.py). Transformations return new RDDs and run nothing; actions hand the lineage to the
scheduler, which cuts it into stages and returns one value per partition. The API
spans three files, read in this order:

    rdd.py      identity, the narrow operations, persistence
    wide.py     the wide (key-value) operations: each ends in the one shuffle
    actions.py  the actions: each runs a job

Two primitives carry every operation, as in PySpark's rdd.py:

    narrow   _pipe(f)  where f(split, iterator) -> iterator
             map, flatMap, filter, mapPartitions, glom, mapValues, sample ... are one
             line each over it; consecutive ones fuse into a single function
    wide     _shuffle(partitioner, aggregator)  -> one ShuffledRDD   (wide.py)

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

from types import GenericAlias

from . import plan
from .actions import Actions
from .errors import MinimrError, positive
from .sampling import Sampler
from .wide import WideOperations


class RDD(WideOperations, Actions):
    __class_getitem__ = classmethod(GenericAlias)     # RDD[Tuple[int, int]], as PySpark's

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
        return self.ctx.union([self, other])

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
        numPartitions = positive(numPartitions, "numPartitions")
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
