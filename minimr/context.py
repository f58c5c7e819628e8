"""The Context: where a program starts (PySpark's SparkContext).

    ctx = Context(executor="serial" | "memory" | "disk" | "spark", workers=N, maxFailures=4,
                  taskTimeout=None, fetchTimeout=30, speculation=False, ...)   (docs/faults.md)
    ctx.parallelize(data, numSlices) / ctx.range(...) / ctx.textFile(path, minPartitions)
        -> RDDs (lazy: nothing runs until an action)
    ctx.broadcast(value), ctx.accumulator(0)
    ctx.stop()   (or use it as a context manager)

It owns the executor (executors/__init__.py picks it by name), the id counters, the
registries of broadcast values and accumulators, and a record of every job run
(``ctx.jobs``: stages, tasks, seconds; ``ctx.counters()`` sums one job's counters).

On executor="spark" the datasets come from PySpark itself: the methods marked
@_or_pyspark hand the call to the executor's SparkContext, which returns real PySpark
RDDs, so everything after them is Spark's.
"""

import functools
import itertools
from collections import Counter

from . import io, pickling, plan
from .errors import MinimrError
from .executors import make_executor
from .errors import positive, real
from .faults import check_faults
from .rdd import RDD
from .scheduler import run_job
from .shared import Accumulator, AddingAccumulatorParam, Broadcast


def _or_pyspark(method):
    """On executor="spark", PySpark's SparkContext answers this call instead."""
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        if self._stopped:
            raise MinimrError("this Context has been stopped")
        if self.sc is not None:
            return getattr(self.sc, method.__name__)(*args, **kwargs)
        return method(self, *args, **kwargs)
    return call


class Context:
    """
    >>> with Context(executor="serial", workers=2) as ctx:
    ...     ctx.parallelize(range(10)).sum()
    45
    """

    def __init__(self, executor="serial", workers=None, maxFailures=4, taskTimeout=None,
                 fetchTimeout=30, speculation=False, speculationMultiplier=3.0,
                 speculationQuantile=0.9, speculationMinTaskRuntime=0.1, faults=(), **options):
        if workers is not None:
            positive(workers, "workers")
        positive(maxFailures, "maxFailures")
        self.executor_name, self.workers, self.maxFailures = executor, workers, maxFailures
        # Hadoop's mapreduce.task.timeout, and Spark 4's spark.speculation* (docs/faults.md)
        self.taskTimeout = None if taskTimeout is None else real(taskTimeout, "taskTimeout", 0)
        self.fetchTimeout = real(fetchTimeout, "fetchTimeout", 0)
        if not isinstance(speculation, bool):
            raise MinimrError(f"speculation must be True or False, got {speculation!r}")
        self.speculation = speculation
        self.speculationMultiplier = real(speculationMultiplier, "speculationMultiplier", 0)
        self.speculationQuantile = real(speculationQuantile, "speculationQuantile", 0, 1, True)
        self.speculationMinTaskRuntime = real(speculationMinTaskRuntime,
                                              "speculationMinTaskRuntime", 0, low_ok=True)
        self.faults = check_faults(faults, executor)
        self._ids = itertools.count()
        self._stage_ids = itertools.count()
        self._broadcasts = {}        # id -> pickled value (the driver's snapshot)
        self._accumulators = {}      # id -> Accumulator (the driver's)
        self._jobs = []              # one dict per job: stages, tasks, seconds (metrics)
        self._stopped = False
        self._executor = make_executor(executor, self, **options)

    # -------------------------------------------------------------------- lifecycle
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __reduce__(self):
        raise MinimrError("the Context is used inside a function that runs in a task; it "
                          "exists only in the driver (Spark refuses this too, SPARK-5063)")

    def stop(self):
        if not self._stopped:
            self._stopped = True
            self._executor.stop()

    def _new_id(self):
        if self._stopped:
            raise MinimrError("this Context has been stopped")
        return next(self._ids)

    def _new_stage_id(self):
        return next(self._stage_ids)

    @property
    def defaultParallelism(self):
        return self._executor.default_parallelism

    @property
    def defaultMinPartitions(self):
        return min(self.defaultParallelism, 2)

    @property
    def sc(self):
        """The real PySpark SparkContext on executor="spark"; None on minimr's executors."""
        return self._executor.sc

    @property
    def jobs(self):
        """One dict per job run: {"job", "seconds", "stages": [{"stage", "kind", "tasks",
        "attempts", timers and counters summed over the stage's tasks}]}."""
        return self._executor.jobs() if self.sc is not None else self._jobs

    def counters(self, job=-1):
        """A job's counters (default: the last job) under Hadoop's names, summed over
        its stages: MAP_INPUT_RECORDS, MAP_OUTPUT_RECORDS, SPILLED_RECORDS, ... Each
        executor counts what it does (the disk executor spills; the others do not)."""
        total = Counter()
        for stage in self.jobs[job]["stages"]:
            for k, v in stage.items():
                if k not in ("stage", "tasks", "attempts") and isinstance(v, int):
                    total[k.upper()] += v
        return dict(total)

    def status(self):
        """What the executor holds now: workers, their cached blocks, tasks run."""
        return self._executor.status()

    # ----------------------------------------------------------------------- inputs
    @_or_pyspark
    def parallelize(self, c, numSlices=None):
        """Distribute a local collection, cut into partitions as PySpark cuts it: a
        range evenly; anything else in batches of ``max(1, min(len // n, 1024))``
        records, the batches then spread evenly over the partitions.

        >>> ctx = Context()
        >>> ctx.parallelize(range(5), 2).glom().collect()
        [[0, 1], [2, 3, 4]]
        >>> ctx.parallelize(list(range(5)), 2).glom().collect()
        [[0, 1], [2, 3, 4]]
        """
        n = positive(self.defaultParallelism if numSlices is None else numSlices, "numSlices")
        if isinstance(c, range):
            return RDD(plan.RangeSource(self._new_id(), c, n), self)
        c = list(c)
        batch = max(1, min(len(c) // n, 1024))
        batches = [c[i:i + batch] for i in range(0, len(c), batch)]
        nb = len(batches)
        slices = [[x for b in batches[i * nb // n:(i + 1) * nb // n] for x in b]
                  for i in range(n)]
        return RDD(plan.ParallelCollection(self._new_id(), slices), self)

    @_or_pyspark
    def range(self, start, end=None, step=1, numSlices=None):
        """
        >>> Context().range(1, 7, 2).collect()
        [1, 3, 5]
        """
        if end is None:
            start, end = 0, start
        return self.parallelize(range(start, end, step), numSlices)

    @_or_pyspark
    def emptyRDD(self):
        return RDD(plan.ParallelCollection(self._new_id(), [], op="emptyRDD"), self)

    @_or_pyspark
    def textFile(self, name, minPartitions=None, use_unicode=True):
        """Lines of text files, split by byte ranges as Hadoop's TextInputFormat does
        (see io.py). `name`: a file, a directory, a glob, or comma-separated paths."""
        n = positive(self.defaultMinPartitions if minPartitions is None else minPartitions,
                      "minPartitions")
        files = io.expand_paths(name)
        return RDD(plan.TextFile(self._new_id(), io.get_splits(files, n), use_unicode), self)

    @_or_pyspark
    def union(self, rdds):
        """One flat union of all of them (PySpark's UnionRDD); if they all share a
        partitioner, partition i is partition i of each (PartitionerAwareUnionRDD).

        >>> ctx = Context(); a = ctx.parallelize([1, 2], 2)
        >>> ctx.union([a, a, ctx.parallelize([3], 1)]).getNumPartitions()
        5
        """
        nodes = [r._node for r in rdds]
        aware = nodes[0].partitioner is not None and all(
            n.partitioner == nodes[0].partitioner for n in nodes)
        return RDD(plan.Union(self._new_id(), nodes, aware), self)

    # ------------------------------------------------------------- shared variables
    @_or_pyspark
    def broadcast(self, value):
        """A read-only value for tasks, shipped to each worker once; a snapshot of
        `value` now (later changes in the driver are not seen).

        >>> ctx = Context(); b = ctx.broadcast({"a": 1})
        >>> ctx.parallelize(["a", "a"]).map(lambda k: b.value[k]).collect()
        [1, 1]
        """
        return Broadcast(self._new_id(), pickling.dumps(value), self._broadcasts)

    @_or_pyspark
    def accumulator(self, value, accum_param=None):
        """A counter that tasks add to and the driver reads; counted once per
        successful task attempt.

        >>> ctx = Context(); acc = ctx.accumulator(0)
        >>> ctx.parallelize(range(5)).foreach(lambda x: acc.add(x))
        >>> acc.value
        10
        """
        if accum_param is None:
            if not isinstance(value, (int, float, complex)):
                raise TypeError(f"accumulator: no default AccumulatorParam for "
                                f"{type(value).__name__}; pass accum_param")
            accum_param = AddingAccumulatorParam(type(value)(0))
        acc = Accumulator(self._new_id(), value, accum_param)
        self._accumulators[acc.aid] = acc
        return acc

    # ------------------------------------------------------------------------- jobs
    @_or_pyspark
    def runJob(self, rdd, partitionFunc, partitions=None, allowLocal=False):
        """Run `partitionFunc(iterator)` on the chosen partitions; the concatenated
        outputs, as PySpark's SparkContext.runJob returns them."""
        return [x for part in run_job(self, rdd._node, lambda it: list(partitionFunc(it)),
                                      partitions) for x in part]

    def __repr__(self):
        return f"<minimr.Context executor={self.executor_name} workers={self.workers}>"
