"""PySpark's SparkContext and StatusTracker, on minimr's executors.

    SparkContext(master=None, appName=None, conf=None)      a minimr Context, whose
        settings = what minimr-submit was given (--master, --conf: like spark-submit's,
                   the lowest layer) < the program's SparkConf < master=, appName=
        "local[N]"   -> N workers ("local": 1, "local[*]": one per core)
        "local[N,F]" -> N workers, F attempts a task; else spark.task.maxFailures (4)
        executor     -> what minimr-submit --executor chose (serial outside a run)
    SparkContext.getOrCreate(conf), sc.stop(), with SparkContext(...) as sc: ...
    sc.statusTracker() -> StatusTracker: read from ctx.jobs, the Context's record of jobs

Only one SparkContext runs at a time, as in PySpark. Everything else a program calls on
it (parallelize, textFile, broadcast, accumulator, union ...) is minimr's Context; a
PySpark method minimr lacks fails with one line (unsupported.py).

Used by the stand-in pyspark package (modules.py) and by sql.py's SparkSession.
"""

import inspect
import os
import re
import sys
import threading
from typing import List, NamedTuple

from ..conf import SparkConf
from ..context import Context
from ..errors import MinimrError
from ..scheduler import run_job
from .unsupported import UnsupportedCall, message, refuse_attribute

# What minimr-submit was asked for: the executor, and the settings given on its command
# line (spark-submit's --master/--conf), below anything the program sets itself.
SUBMITTED = {"executor": "serial", "conf": {}}

_LOCAL = re.compile(r"local(?:\[\s*(\*|\d+)\s*(?:,\s*(\d+)\s*)?\])?")
_TAKES_CONF = "conf" in inspect.signature(Context.__init__).parameters


def parse_master(master):
    """A local master URL -> (workers, attempts a task or None), Spark's local modes.

    >>> parse_master("local[3]"), parse_master("local"), parse_master("local[2, 4]")
    ((3, None), (1, None), (2, 4))
    """
    m = _LOCAL.fullmatch(str(master).strip())
    if m is None:
        raise MinimrError(f"master {master!r}: minimr's executors run on this machine "
                          "(local, local[N], local[*] or local[N,F]); for a cluster, run "
                          "with --executor spark")
    n, f = m.groups()
    workers = 1 if n is None else (os.cpu_count() or 1) if n == "*" else int(n)
    if workers < 1 or (f is not None and int(f) < 1):
        raise MinimrError(f"master {master!r}: the number of threads and of failures "
                          "must be positive")
    return workers, None if f is None else int(f)


def task_max_failures(conf):
    """spark.task.maxFailures as a positive int (Spark's default: 4)."""
    value = conf.get("spark.task.maxFailures", "4")
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise MinimrError(f"spark.task.maxFailures must be a positive integer, got {value!r}")
    return n


class SparkContext(Context):
    """
    >>> with SparkContext("local[2]", "demo") as sc:
    ...     sc.parallelize(range(4)).map(lambda x: x * x).sum(), sc.defaultParallelism
    (14, 2)
    """

    _active_spark_context = None
    _lock = threading.RLock()

    def __init__(self, master=None, appName=None, sparkHome=None, pyFiles=None,
                 environment=None, batchSize=0, serializer=None, conf=None, gateway=None,
                 jsc=None, profiler_cls=None, udf_profiler_cls=None, memory_profiler_cls=None):
        for name, value in [("pyFiles", pyFiles), ("environment", environment),
                            ("gateway", gateway), ("jsc", jsc)]:
            if value:
                raise UnsupportedCall(message(f"SparkContext({name}=...)"))
        with SparkContext._lock:
            running = SparkContext._active_spark_context
            if running is not None:
                raise ValueError(f"Cannot run multiple SparkContexts at once; existing "
                                 f"{running!r}")
            settings = SparkConf().setAll(SUBMITTED["conf"].items())
            settings.setAll((conf or SparkConf()).getAll())
            for key, value in [("spark.master", master), ("spark.app.name", appName),
                               ("spark.home", sparkHome)]:
                if value:
                    settings.set(key, value)
            for key, what in [("spark.master", "A master URL"),
                              ("spark.app.name", "An application name")]:
                if not settings.contains(key):
                    raise MinimrError(f"{what} must be set in your configuration ({key})")
            workers, attempts = parse_master(settings.get("spark.master"))
            attempts = attempts or task_max_failures(settings)
            super().__init__(executor=SUBMITTED["executor"], workers=workers,
                             maxFailures=attempts, **({"conf": settings} if _TAKES_CONF else {}))
            self._conf = settings
            self.master, self.appName = settings.get("spark.master"), settings.get("spark.app.name")
            self.sparkHome, self.environment = settings.get("spark.home"), {}
            SparkContext._active_spark_context = self

    @classmethod
    def getOrCreate(cls, conf=None):
        """The running SparkContext, or a new one made from `conf`."""
        with SparkContext._lock:
            if SparkContext._active_spark_context is None:
                SparkContext(conf=conf or SparkConf())
            return SparkContext._active_spark_context

    def stop(self):
        with SparkContext._lock:
            if SparkContext._active_spark_context is self:
                SparkContext._active_spark_context = None
        super().stop()

    def getConf(self):
        """A copy of the settings this context runs with (changing it changes nothing)."""
        return SparkConf().setAll(self._conf.getAll())

    def setLogLevel(self, logLevel):
        """Accepted; minimr writes no log to filter."""

    def statusTracker(self):
        return StatusTracker(self)

    def __getattr__(self, name):          # only for names neither minimr nor this class has
        raise refuse_attribute("SparkContext", name)

    def __repr__(self):
        return f"<SparkContext master={self.master} appName={self.appName} (minimr " \
               f"executor={self.executor_name})>"


# ----------------------------------------------------------------- the status tracker

class SparkJobInfo(NamedTuple):
    jobId: int
    stageIds: List[int]
    status: str                   # "RUNNING", "SUCCEEDED" or "FAILED"


class SparkStageInfo(NamedTuple):
    stageId: int
    currentAttemptId: int
    name: str
    numTasks: int
    numActiveTasks: int
    numCompletedTasks: int
    numFailedTasks: int


class StatusTracker:
    """PySpark's StatusTracker, read from the Context's record of jobs (``ctx.jobs``:
    each job's stages, with their task counts, appended as they start).

    A job is SUCCEEDED once its record has its "seconds"; RUNNING while a thread is
    inside ``scheduler.run_job`` for it (the tracker looks at the threads' stacks, so it
    needs no help from the engine); FAILED otherwise. A stage's record is updated when a
    round of its tasks ends, so while a stage runs all its tasks count as active; a
    failed stage does not say which of its tasks had succeeded (numCompletedTasks 0,
    numFailedTasks the attempts beyond one a task, at least 1). Stages skipped because
    their shuffle output was kept are not listed (Spark lists them, with no tasks run).
    """

    def __init__(self, ctx):
        self._ctx = ctx

    def _jobs(self):
        return list(self._ctx.jobs)

    @staticmethod
    def _status(job):
        if "seconds" in job:
            return "SUCCEEDED"
        for frame in sys._current_frames().values():
            while frame is not None:
                if frame.f_code is run_job.__code__ and frame.f_locals.get("job") is job:
                    return "RUNNING"
                frame = frame.f_back
        return "FAILED"

    def getJobIdsForGroup(self, jobGroup=None):
        """The jobs of a group; None: the jobs run outside any group."""
        return [j["job"] for j in self._jobs() if j.get("group") == jobGroup]

    def getActiveJobsIds(self):
        return sorted(j["job"] for j in self._jobs() if self._status(j) == "RUNNING")

    def getActiveStageIds(self):
        return sorted(s["stage"] for j in self._jobs() if self._status(j) == "RUNNING"
                      for s in list(j["stages"]) if "wall_seconds" not in s)

    def getJobInfo(self, jobId):
        for j in self._jobs():
            if j["job"] == jobId:
                return SparkJobInfo(jobId, [s["stage"] for s in list(j["stages"])],
                                    self._status(j))
        return None

    def getStageInfo(self, stageId):
        for j in self._jobs():
            for s in list(j["stages"]):
                if s["stage"] != stageId:
                    continue
                n, attempts, status = s["tasks"], s["attempts"], self._status(j)
                if "wall_seconds" in s or status == "SUCCEEDED":
                    return SparkStageInfo(stageId, 0, s["kind"], n, 0, n, attempts - n)
                if status == "RUNNING":
                    return SparkStageInfo(stageId, 0, s["kind"], n, n, 0, 0)
                return SparkStageInfo(stageId, 0, s["kind"], n, 0, 0, max(attempts - n, 1))
        return None

    def __getattr__(self, name):
        raise refuse_attribute("StatusTracker", name)
