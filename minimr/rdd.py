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

import functools
import itertools
import random
import shlex
import subprocess
import warnings
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

    def mapPartitionsWithSplit(self, f, preservesPartitioning=False):
        warnings.warn("mapPartitionsWithSplit is deprecated; use mapPartitionsWithIndex "
                      "instead", FutureWarning, stacklevel=2)
        return self.mapPartitionsWithIndex(f, preservesPartitioning)

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

    def sampleByKey(self, withReplacement, fractions, seed=None):
        """sample with a fraction per key: {key: fraction} (stratified sampling).

        >>> ctx.parallelize([("a", i) for i in range(9)]).sampleByKey(False, {"a": 0.0}).collect()
        []
        """
        for f in fractions.values():
            if f < 0:
                raise AssertionError(f"Negative fraction value: {f}")     # PySpark's assert
        return self._pipe(Sampler(withReplacement, fractions, seed).func, True, "sampleByKey")

    def randomSplit(self, weights, seed=None):
        """Datasets holding about weights[i] / sum(weights) of the records each: every
        record in exactly one (one uniform draw per record, split by ranges).

        >>> sorted(x for part in ctx.parallelize(range(10)).randomSplit([1, 2], 7) for x in part.collect())
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        """
        if not all(w >= 0 for w in weights):
            raise ValueError("Weights must be nonnegative")
        if not sum(weights) > 0:
            raise ValueError("Sum of weights must be positive")
        bounds = list(itertools.accumulate((w / float(sum(weights)) for w in weights), initial=0.0))
        seed = random.randint(0, 2 ** 32 - 1) if seed is None else seed
        return [self._pipe(Sampler(False, ub, seed, lb).func, True, "randomSplit")
                for lb, ub in zip(bounds, bounds[1:])]

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

    def zip(self, other):
        """Pairs of the i-th records of both, partition by partition: they must have the
        same number of partitions and of records in each partition (as in Spark).

        >>> ctx.parallelize(range(3), 2).zip(ctx.parallelize("abc", 2)).collect()
        [(0, 'a'), (1, 'b'), (2, 'c')]
        """
        if self.getNumPartitions() != other.getNumPartitions():
            raise ValueError("Can only zip with RDD which has the same number of partitions")
        reads = [[(0, i), (1, i)] for i in range(self.getNumPartitions())]
        return self._new(plan.Narrow, "ZippedPartitionsRDD2", [self._node, other._node], reads,
                         plan.zip_strict, op="zip")

    def pipe(self, command, env=None, checkCode=False):
        """Hadoop Streaming: each partition's records, ``str(record)`` a line, through
        the external `command` (with `env` as its whole environment, as PySpark); its
        output lines are the new records. checkCode: a non-zero exit fails the task.

        >>> ctx.parallelize(["b", "a"], 1).pipe("sort").collect()
        ['a', 'b']
        """
        argv = shlex.split(command)
        return self.mapPartitions(functools.partial(_pipe_through, argv, env or {},
                                                    checkCode and command))

    def cartesian(self, other):
        """
        >>> sorted(ctx.parallelize([1, 2]).cartesian(ctx.parallelize("ab")).collect())
        [(1, 'a'), (1, 'b'), (2, 'a'), (2, 'b')]
        """
        reads = [[(0, i), (1, j)] for i in range(self.getNumPartitions())
                 for j in range(other.getNumPartitions())]
        return self._new(plan.Narrow, "CartesianRDD", [self._node, other._node], reads,
                         plan.product, op="cartesian")

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
        runs = [range(i * n // numPartitions, (i + 1) * n // numPartitions)
                for i in range(numPartitions)] if numPartitions < n else [[p] for p in range(n)]
        return self._new(plan.Narrow, "CoalescedRDD", [self._node], [[(0, p) for p in run] for run in runs],
                         plan.chained, op="coalesce")

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

    # ------------------------------------------------------------------ checkpoints
    def checkpoint(self):
        """After the next job that computes it, write this dataset under the Context's
        checkpoint directory and cut its lineage: later jobs, and a lost partition, read
        the files (the RDD paper's lineage truncation). Persist it too, or the writing
        job computes it again."""
        if self.ctx.getCheckpointDir() is None:
            raise MinimrError("Checkpoint directory has not been set in the SparkContext")
        self._node.checkpoint = self._node.checkpoint or "reliable"

    def localCheckpoint(self):
        """Cut the lineage after the next job, keeping the partitions where the cache
        keeps them (persisted with disk, as Spark does): fast, but a lost block can no
        longer be computed, so reading it fails."""
        old = self._node.storage or plan.StorageLevel.MEMORY_AND_DISK_DESER
        self._node.storage = plan.StorageLevel(True, *list(vars(old).values())[1:])
        self._node.checkpoint = "local"

    def isCheckpointed(self):
        return self._node.checkpointed is not None

    def isLocallyCheckpointed(self):
        return self._node.checkpoint == "local"

    def getCheckpointFile(self):
        c = self._node.checkpoint
        return c if c is not None and c.startswith("file:") else None


def _pipe_through(argv, env, failed_command, records):
    """One partition through an external process. subprocess.run writes its input and
    reads its output at once (no deadlock when both pipes fill); so a partition's input
    and output are held in memory, as a task holds a partition anyway."""
    data = "".join(str(x).rstrip("\n") + "\n" for x in records).encode("utf-8")
    proc = subprocess.run(argv, env=env, input=data, stdout=subprocess.PIPE)
    if proc.returncode and failed_command:
        raise RuntimeError(f"Pipe function `{failed_command}` exited with error code {proc.returncode}.")
    lines = proc.stdout.removesuffix(b"\n").split(b"\n") if proc.stdout else []
    return (line.decode("utf-8") for line in lines)
