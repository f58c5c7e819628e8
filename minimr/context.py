"""The Context: where a program starts (PySpark's SparkContext).

    ctx = Context(executor="serial" | "memory" | "disk" | "spark", workers=N, maxFailures=4)
    ctx.parallelize(data, numSlices) / ctx.range(...) / ctx.textFile(path, minPartitions)
        -> RDDs (lazy: nothing runs until an action)
    ctx.broadcast(value), ctx.accumulator(0)
    ctx.stop()   (or use it as a context manager)

It owns the executor, the id counters, the registries of broadcast values and
accumulators, and a record of every job run (``ctx.jobs``: stages, tasks, seconds).
"""

import itertools

from . import io, plan
from .errors import MinimrError
from .executors import make_executor
from .rdd import RDD, _positive
from .scheduler import run_job
from .task import Accumulator, AddingAccumulatorParam, Broadcast


class DriverOnly:
    """What every Context shares: a context manager that stops it, and never pickled
    into a task (it exists only in the driver)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __reduce__(self):
        raise MinimrError("the Context is used inside a function that runs in a task; it "
                          "exists only in the driver (Spark refuses this too, SPARK-5063)")


class Context(DriverOnly):
    """
    >>> with Context(executor="serial", workers=2) as ctx:
    ...     ctx.parallelize(range(10)).sum()
    45
    """

    def __new__(cls, executor="serial", *args, **kwargs):
        if executor == "spark":      # the same API, answered by real PySpark
            from .executors.spark import SparkBackedContext
            return SparkBackedContext(*args, **kwargs)
        return super().__new__(cls)

    def __init__(self, executor="serial", workers=None, maxFailures=4, **options):
        if workers is not None:
            _positive(workers, "workers")
        _positive(maxFailures, "maxFailures")
        self.executor_name, self.workers, self.maxFailures = executor, workers, maxFailures
        self._ids = itertools.count()
        self._stage_ids = itertools.count()
        self._broadcasts = {}        # id -> value (the driver's copy)
        self._accumulators = {}      # id -> Accumulator (the driver's)
        self.jobs = []               # one dict per job: stages, tasks, seconds (metrics)
        self._stopped = False
        self._executor = make_executor(executor, self, **options)

    # -------------------------------------------------------------------- lifecycle
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

    def status(self):
        """What the executor holds now: workers, their cached blocks, tasks run."""
        return self._executor.status()

    # ----------------------------------------------------------------------- inputs
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
        n = _positive(self.defaultParallelism if numSlices is None else numSlices, "numSlices")
        if isinstance(c, range):
            return RDD(plan.RangeSource(self._new_id(), c, n), self)
        c = list(c)
        batch = max(1, min(len(c) // n, 1024))
        batches = [c[i:i + batch] for i in range(0, len(c), batch)]
        nb = len(batches)
        slices = [[x for b in batches[i * nb // n:(i + 1) * nb // n] for x in b]
                  for i in range(n)]
        return RDD(plan.ParallelCollection(self._new_id(), slices), self)

    def range(self, start, end=None, step=1, numSlices=None):
        """
        >>> Context().range(1, 7, 2).collect()
        [1, 3, 5]
        """
        if end is None:
            start, end = 0, start
        return self.parallelize(range(start, end, step), numSlices)

    def emptyRDD(self):
        return RDD(plan.ParallelCollection(self._new_id(), [], op="emptyRDD"), self)

    def textFile(self, name, minPartitions=None, use_unicode=True):
        """Lines of text files, split by byte ranges as Hadoop's TextInputFormat does
        (see io.py). `name`: a file, a directory, a glob, or comma-separated paths."""
        n = _positive(self.defaultMinPartitions if minPartitions is None else minPartitions,
                      "minPartitions")
        files = io.expand_paths(name)
        return RDD(plan.TextFile(self._new_id(), io.get_splits(files, n), use_unicode), self)

    def union(self, rdds):
        rdds = list(rdds)
        out = rdds[0]
        for r in rdds[1:]:
            out = out.union(r)
        return out

    # ------------------------------------------------------------- shared variables
    def broadcast(self, value):
        """A read-only value for tasks, shipped to each worker once.

        >>> ctx = Context(); b = ctx.broadcast({"a": 1})
        >>> ctx.parallelize(["a", "a"]).map(lambda k: b.value[k]).collect()
        [1, 1]
        """
        bid = self._new_id()
        self._broadcasts[bid] = value
        return Broadcast(bid, value, self._broadcasts)

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
    def runJob(self, rdd, partitionFunc, partitions=None, allowLocal=False):
        """Run `partitionFunc(iterator)` on the chosen partitions; the concatenated
        outputs, as PySpark's SparkContext.runJob returns them."""
        return [x for part in run_job(self, rdd._node, lambda it: list(partitionFunc(it)),
                                      partitions) for x in part]

    def __repr__(self):
        return f"<minimr.Context executor={self.executor_name} workers={self.workers}>"

