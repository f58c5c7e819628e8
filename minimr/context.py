"""The Context: where a program starts (PySpark's SparkContext).

    ctx = Context(executor="serial" | "memory" | "disk" | "spark", workers=N, maxFailures=4,
                  conf=SparkConf or {"spark.default.parallelism": "8", ...},
                  taskTimeout=None, fetchTimeout=30, speculation=False, ...)   (docs/faults.md)
    ctx.parallelize(data, numSlices) / ctx.range(...) / ctx.textFile(path, minPartitions)
        / ctx.wholeTextFiles(path) / ctx.pickleFile(path) -> RDDs (lazy: nothing runs yet)
    ctx.broadcast(value), ctx.accumulator(0)
    ctx.setCheckpointDir(dir), ctx.setJobGroup(id, description), ctx.getConf()
    ctx.stop()   (or use it as a context manager)

It owns the executor (executors/__init__.py picks it by name), the id counters, the
registries of broadcast values and accumulators, the settings (a SparkConf), and a
record of every job run (``ctx.jobs``: job group, description, stages, tasks, seconds;
``ctx.counters()`` sums one job's counters). After each job it writes the checkpoints
the job's datasets asked for (Spark's rdd.doCheckpoint, here `_after_job`).

On executor="spark" the datasets come from PySpark itself: the methods marked
@_or_pyspark hand the call to the executor's SparkContext, which returns real PySpark
RDDs, so everything after them is Spark's.
"""

import functools
import itertools
import os
import threading
import uuid

from . import io, pickling, plan, spill
from .conf import SparkConf, int_setting, setting, settings
from .errors import MinimrError, positive, real
from .events import EventLog, hadoop_counters
from .executors import make_executor
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

    def __init__(self, executor="serial", workers=None, maxFailures=None, conf=None,
                 taskTimeout=None, fetchTimeout=30, speculation=None, speculationMultiplier=None,
                 speculationQuantile=None, speculationMinTaskRuntime=None, faults=(),
                 events=True, eventLog=None, progress=None, **options):
        """`conf`: a SparkConf or a dict of "spark.*" settings. A keyword wins over its
        setting: `maxFailures` over spark.task.maxFailures (default 4), `speculation...`
        over spark.speculation, spark.speculation.multiplier (3), .quantile (0.9),
        .minTaskRuntime (100ms)."""
        if workers is not None:
            positive(workers, "workers")
        self._conf = settings(conf)      # the program's settings (getConf() adds ours)
        maxFailures = int_setting(self._conf, "spark.task.maxFailures", 4) if maxFailures is None else maxFailures
        positive(maxFailures, "maxFailures")
        self._parallelism = None if executor == "spark" else int_setting(  # (Spark's own)
            self._conf, "spark.default.parallelism", None)
        self.executor_name, self.workers, self.maxFailures = executor, workers, maxFailures
        self.events = EventLog(events, eventLog)     # what happens, as Spark's listener events
        # Hadoop's mapreduce.task.timeout, and Spark 4's spark.speculation* (docs/faults.md)
        self.taskTimeout = None if taskTimeout is None else real(taskTimeout, "taskTimeout", 0)
        self.fetchTimeout = real(fetchTimeout, "fetchTimeout", 0)
        spec = functools.partial(setting, self._conf)      # a keyword, else the setting
        self.speculation = spec("spark.speculation", speculation, False)
        if not isinstance(self.speculation, bool):
            raise MinimrError("speculation (spark.speculation) must be True or False, got "
                              f"{self.speculation!r}")
        self.speculationMultiplier = real(spec("spark.speculation.multiplier", speculationMultiplier, 3.0),
                                          "speculationMultiplier (spark.speculation.multiplier)", 0)
        self.speculationQuantile = real(spec("spark.speculation.quantile", speculationQuantile, 0.9),
                                        "speculationQuantile (spark.speculation.quantile)", 0, 1, True)
        self.speculationMinTaskRuntime = real(
            spec("spark.speculation.minTaskRuntime", speculationMinTaskRuntime, 0.1),
            "speculationMinTaskRuntime (spark.speculation.minTaskRuntime)", 0, low_ok=True)
        self.faults = check_faults(faults, executor)
        self._ids = itertools.count()
        self._stage_ids = itertools.count()      # the scheduler numbers stages from these
        self._broadcasts = {}        # id -> pickled value (the driver's snapshot)
        self._accumulators = {}      # id -> Accumulator (the driver's)
        self._jobs = []              # one dict per job: stages, tasks, seconds (metrics)
        self._local = threading.local()   # .props: this thread's local properties
        self._checkpoint_dir, self._checkpointing = None, False
        self._stopped = False
        self._executor = make_executor(executor, self, **options)
        self._conf.setIfMissing("spark.app.name", "minimr")
        self._conf.set("spark.master", f"local[{self._executor.default_parallelism}]")
        self._conf.set("spark.task.maxFailures", maxFailures)
        if progress is not False and self.sc is None:
            from .report.progress import attach       # a console bar: glue, outside the engine
            attach(self, force=progress)

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
            self.events.close()

    def _new_id(self):
        if self._stopped:
            raise MinimrError("this Context has been stopped")
        return next(self._ids)

    @property
    def defaultParallelism(self):
        """spark.default.parallelism if set, else the executor's worker count; also the
        default partition count of wide operations once it is set (as in PySpark)."""
        return self._parallelism or self._executor.default_parallelism

    @property
    def defaultMinPartitions(self):
        return min(self.defaultParallelism, 2)

    @property
    def sc(self):
        """The real PySpark SparkContext on executor="spark"; None on minimr's executors."""
        return self._executor.sc

    @property
    def jobs(self):
        """One dict per job run: {"job", "group", "description", "seconds", "stages":
        [{"stage", "kind", "tasks", "attempts", timers and counters summed over the
        stage's tasks}]}; "group" and "description" are the local properties
        spark.jobGroup.id and spark.job.description when it started (or None)."""
        return self._executor.jobs() if self.sc is not None else self._jobs

    def counters(self, job=-1):
        """A job's counters (default: the last job; N counts from 0, negative from the end)
        under Hadoop's names: MAP_INPUT_RECORDS, MAP_OUTPUT_RECORDS, SPILLED_RECORDS, ...,
        derived from its events. A counter an executor cannot have is 0 (only the disk
        executor spills)."""
        if self.sc is not None or not self.events.enabled:
            raise MinimrError("counters come from minimr's events: none on the spark executor "
                              "(see Spark's UI) or with Context(events=False)")
        return hadoop_counters(self.events, job)

    def timeline(self, path):
        """Write the tasks as Chrome's Trace Event format (open it in Perfetto)."""
        from .report import timeline                    # a renderer, outside the engine
        timeline.write(list(self.events), path)

    def report(self, path):
        """Write the one-page HTML report of this Context's jobs."""
        from .report import html
        html.write(list(self.events), path)

    def status(self):
        """What the executor holds now: workers, their cached blocks, tasks run."""
        return self._executor.status()

    # ----------------------------------------------------------------- settings
    @_or_pyspark
    def getConf(self):
        """A copy of the settings: the program's, plus spark.master (local[N]),
        spark.app.name and spark.task.maxFailures."""
        return SparkConf().setAll(self._conf.getAll())

    @_or_pyspark
    def setLocalProperty(self, key, value):
        """A property of the jobs this thread starts from now on (None removes it)."""
        props = self._local.__dict__.setdefault("props", {})
        props[key] = value
        if value is None:
            del props[key]

    @_or_pyspark
    def getLocalProperty(self, key):
        return self._local.__dict__.get("props", {}).get(key)

    @_or_pyspark
    def setJobGroup(self, groupId, description, interruptOnCancel=False):
        """Later jobs of this thread carry this group and description in ctx.jobs."""
        self.setLocalProperty("spark.jobGroup.id", groupId)
        self.setLocalProperty("spark.job.description", description)
        self.setLocalProperty("spark.job.interruptOnCancel", str(interruptOnCancel).lower())

    @_or_pyspark
    def setJobDescription(self, value):
        self.setLocalProperty("spark.job.description", value)

    @_or_pyspark
    def setLogLevel(self, logLevel):
        """Spark's log levels are accepted; minimr has no log (ctx.jobs is its record)."""
        if str(logLevel).upper() not in "ALL DEBUG ERROR FATAL INFO OFF TRACE WARN".split():
            raise MinimrError(f"setLogLevel: {logLevel!r} is not ALL, DEBUG, ERROR, FATAL, INFO, "
                              "OFF, TRACE or WARN")

    @_or_pyspark
    def setCheckpointDir(self, dirName):
        """Reliable checkpoints go to dirName/<uuid>/rdd-<id>/ (Spark's layout)."""
        self._checkpoint_dir = os.path.join(os.path.abspath(io.local_path(dirName)),
                                            str(uuid.uuid4()))
        os.makedirs(self._checkpoint_dir)

    @_or_pyspark
    def getCheckpointDir(self):
        return self._checkpoint_dir and "file:" + self._checkpoint_dir

    def _after_job(self, node):
        """Spark's doCheckpoint, after every job: each dataset of the job's lineage marked
        by checkpoint() or localCheckpoint() (the first met on each path) is written,
        by a job of its own, and its lineage is cut (plan.Node.cut)."""
        if self._checkpointing:
            return                       # the writing jobs themselves
        self._checkpointing = True
        try:
            for n in plan.to_checkpoint(node):
                if n.checkpoint == "local":          # every block into the block store
                    run_job(self, n, lambda it: None)
                    n.cut(plan.LocalCheckpoint(self._new_id(), n))
                    continue
                path = os.path.join(self._checkpoint_dir, f"rdd-{n.id}")
                RDD(n, self)._save(path, lambda name, it: spill.write_pickles(name, it, 1024))
                n.cut(self._pickle_files(path, "ReliableCheckpointRDD", "checkpoint"))
                n.checkpoint = "file:" + path
        finally:
            self._checkpointing = False

    # ----------------------------------------------------------------------- inputs
    def _min_partitions(self, n):
        return positive(self.defaultMinPartitions if n is None else n, "minPartitions")

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
        if isinstance(c, range):                       # sub-ranges: each stays a range
            slices = [c[i * len(c) // n:(i + 1) * len(c) // n] for i in range(n)]
        else:
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
        return RDD(plan.ParallelCollection(self._new_id(), [], "emptyRDD", "EmptyRDD"), self)

    @_or_pyspark
    def textFile(self, name, minPartitions=None, use_unicode=True):
        """Lines of text files, split by byte ranges as Hadoop's TextInputFormat does
        (see io.py). `name`: a file, a directory, a glob, or comma-separated paths."""
        splits = io.get_splits(io.expand_paths(name), self._min_partitions(minPartitions))
        read = functools.partial(io.read_split, use_unicode=use_unicode)
        return RDD(plan.FileSource(self._new_id(), splits, read), self)

    @_or_pyspark
    def wholeTextFiles(self, path, minPartitions=None, use_unicode=True):
        """(file URI, the file's whole text) per file, whole files packed into about
        minPartitions partitions (Hadoop's CombineFileInputFormat)."""
        splits = io.whole_file_splits(io.expand_paths(path), self._min_partitions(minPartitions))
        read = functools.partial(io.read_whole, use_unicode=use_unicode)
        return RDD(plan.FileSource(self._new_id(), splits, read, "WholeTextFileRDD", "wholeTextFiles"), self)

    @_or_pyspark
    def pickleFile(self, name, minPartitions=None):
        """What saveAsPickleFile wrote: one partition per part file (minimr's pickle
        files cannot be cut, so minPartitions is only checked)."""
        self._min_partitions(minPartitions)
        return RDD(self._pickle_files(name), self)

    def _pickle_files(self, path, kind="HadoopRDD", op="pickleFile"):
        parts = [f for f in io.expand_paths(path) if not f.endswith(".index")]
        return plan.FileSource(self._new_id(), parts, spill.read_pickles, kind, op)

    @_or_pyspark
    def union(self, rdds):
        """One flat union of all of them (PySpark's UnionRDD); if they all share a
        partitioner, partition i is partition i of each (PartitionerAwareUnionRDD).

        >>> ctx = Context(); a = ctx.parallelize([1, 2], 2)
        >>> ctx.union([a, a, ctx.parallelize([3], 1)]).getNumPartitions()
        5
        """
        nodes = [r._node for r in rdds]
        placed = nodes[0].partitioner
        if placed is not None and all(n.partitioner == placed for n in nodes):
            reads = [[(k, s) for k in range(len(nodes))] for s in range(nodes[0].num_partitions)]
        else:
            reads, placed = [[(k, s)] for k, n in enumerate(nodes) for s in range(n.num_partitions)], None
        return RDD(plan.Narrow(self._new_id(), "UnionRDD", nodes, reads, plan.chained, placed,
                               op="union"), self)

    # ------------------------------------------------------------- shared variables
    @_or_pyspark
    def broadcast(self, value):
        """A read-only value for tasks, shipped to each worker once; a snapshot of
        `value` now (later changes in the driver are not seen).

        >>> ctx = Context(); b = ctx.broadcast({"a": 1})
        >>> ctx.parallelize(["a", "a"]).map(lambda k: b.value[k]).collect()
        [1, 1]
        """
        return Broadcast(self._new_id(), pickling.dumps_by_value(value), self._broadcasts)

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
