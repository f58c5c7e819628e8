"""The spark executor: the same minimr program, answered by real PySpark.

    minimr.Context(executor="spark", workers=N, master=None, conf=SparkConf | dict, **conf)
        │  make_executor -> SparkExecutor (this module)
        ▼
    SparkExecutor.sc ── getOrCreate ──► pyspark.SparkContext   master: local[N,F] or any URL
        the Context's parallelize / range / textFile / wholeTextFiles / pickleFile /
        emptyRDD / union / runJob / broadcast / accumulator / getConf / setJobGroup /
        setCheckpointDir ... go to sc          ── real pyspark objects back
        default_parallelism, status(), jobs()    ── read from Spark's own status store
        stop()  ── stops the SparkContext only if this executor started it

Unlike memory.py and disk.py this is not an executor of minimr's plan: there is no
Task, no scheduler of ours. The Context methods return genuine PySpark RDDs, so
everything after them (lineage, stages, shuffle, cache, retries) is Spark's. That is
the point: the RDD API of minimr mirrors PySpark's names and semantics, and
minimr.mapreduce() uses only public RDD methods, so a program written against minimr
runs here unchanged, and can move to a real cluster with `master=`.

What it keeps from minimr: the Context's signature (workers, maxFailures, extra
settings), joining an already running SparkContext (tests share one) and stopping
only one it started, and a `jobs` list shaped like minimr's (job -> stages with
task counts and timers) so the comparison studies read both the same way.

What differs is Spark's behaviour, kept on purpose (tests marked minimr_only skip
here): a user error fails the job as py4j's Py4JJavaError (its text holds the worker's
Python traceback) rather than as the user's own exception type; local[N] retries a task
only when F in local[N,F] says so (we start local[N,maxFailures]); and a driver-side hash
(lookup on a partitioned RDD) needs the driver itself started with PYTHONHASHSEED set
(PySpark refuses otherwise). persist() accepts minimr's StorageLevel as well as
PySpark's (translated field by field).

The settings it applies when it starts Spark, and why:
    PYSPARK_PYTHON = this interpreter      workers import the same minimr, numpy, ...
    spark.ui.enabled = false               no web server, no port
    driver host/bind = 127.0.0.1           no listener on the outside network
    log4j2: WARN and above                 spark-log4j2.properties, next to this file
                                           (a cluster on other machines needs another
                                           spark.driver.host: pass it as a setting)

On a master that is not local[...] the workers are other processes, maybe other
machines, that have neither minimr nor the program's own modules (a function from
`examples.wordcount` is pickled by reference: the worker imports `examples`). So the
executor ships them, as spark-submit's --py-files does: minimr, and every imported
module whose file lies under the working directory or minimr's own root (the places
local workers find through PYTHONPATH), zipped into one file given to sc.addPyFile.
"""

import os
import shutil
import sys
import tempfile
import threading
import zipfile

from ..errors import MinimrError

_SETTINGS = {                                    # applied when we start the SparkContext
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
    # Spark's logs at WARN and above (a program's own spark.driver.extraJavaOptions wins)
    "spark.driver.extraJavaOptions": "-Dlog4j2.configurationFile=file:" + os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "spark-log4j2.properties"),
}


def _prepare_environment():
    """Environment the JVM and its Python workers inherit (set before the JVM starts).
    PYTHONHASHSEED is left alone: PySpark gives its workers 0 unless it is set, and
    refuses a driver-side hash (lookup on a partitioned RDD) when this process was started
    without it, rather than ask the wrong partition."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Workers unpickle functions by module name (minimr.classic, examples.*): give
    # them the directory this minimr was imported from, and the driver's cwd.
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    for p in (os.getcwd(), here):
        if p not in paths:
            paths.append(p)
    os.environ["PYTHONPATH"] = os.pathsep.join(paths)


def _ship_program(sc):
    """Zip minimr and the program's own packages and modules (see the module docstring)
    into a fresh directory, hand the zip to sc.addPyFile, and return the directory."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    roots = [os.path.abspath(os.getcwd()) + os.sep, here + os.sep]
    tops = {"minimr": sys.modules["minimr"]}
    for name, module in list(sys.modules.items()):
        path = os.path.abspath(getattr(module, "__file__", None) or os.sep)
        if (name != "__main__" and any(path.startswith(r) for r in roots)
                and not {"site-packages", "dist-packages"} & set(path.split(os.sep))):
            top = name.partition(".")[0]
            tops.setdefault(top, sys.modules.get(top))
    workdir = tempfile.mkdtemp(prefix="minimr-pyfiles-")
    archive = os.path.join(workdir, "minimr-program.zip")
    with zipfile.ZipFile(archive, "w") as z:
        for top, module in sorted(tops.items()):
            if module is None or not getattr(module, "__file__", None):
                continue
            source = os.path.abspath(module.__file__)
            if os.path.basename(source) != "__init__.py":        # a single module
                z.write(source, os.path.basename(source))
                continue
            package = os.path.dirname(source)
            for d, _, files in os.walk(package):
                for f in sorted(files):
                    if f.endswith(".py"):
                        full = os.path.join(d, f)
                        z.write(full, os.path.relpath(full, os.path.dirname(package)))
    sc.addPyFile(archive)
    return workdir


def storage_level(level):
    """minimr.StorageLevel (or a PySpark one) -> pyspark.StorageLevel.

    >>> from minimr import StorageLevel
    >>> storage_level(StorageLevel.DISK_ONLY)
    StorageLevel(True, False, False, False, 1)
    """
    from pyspark import StorageLevel as SparkLevel
    if isinstance(level, SparkLevel):
        return level
    return SparkLevel(level.useDisk, level.useMemory, level.useOffHeap, level.deserialized,
                      level.replication)


class SparkExecutor:
    """The spark executor: holds the SparkContext that answers the Context's calls.

    >>> ctx = Context(executor="spark", workers=2)              # doctest: +SKIP
    >>> ctx.parallelize(range(10)).map(lambda x: x * x).sum()   # doctest: +SKIP
    285
    """

    name = "spark"

    def __init__(self, ctx, master=None, appName="minimr", **conf):
        try:
            from pyspark import SparkConf, SparkContext      # imported only when asked for
        except ImportError:
            raise MinimrError("the spark executor needs PySpark: pip install 'minimr[spark]'") from None
        bad = sorted(k for k in conf if not k.startswith("spark."))
        if bad:
            raise MinimrError(f"spark executor: unknown options {bad}; Spark settings are "
                              "passed by their own names, e.g. "
                              "**{'spark.executor.memory': '2g'}")
        running = SparkContext._active_spark_context
        if running is not None:
            self.sc, self._owns = running, False         # join; its settings stay as they are
        else:
            _check_java()
            _prepare_environment()
            program = dict(ctx._conf.getAll())           # Context(conf=...): the program's
            master = master or program.pop("spark.master", None)
            if master is None:                           # local[N, F]: F attempts per task
                master = f"local[{ctx.workers or '*'},{ctx.maxFailures}]"
            sconf = SparkConf().setMaster(master).setAppName(program.pop("spark.app.name", appName))
            for key, value in {**_SETTINGS, **program, "spark.task.maxFailures": str(ctx.maxFailures),
                               **conf}.items():
                sconf.set(key, str(value))
            try:
                self.sc = _quietly(lambda: SparkContext.getOrCreate(sconf))
            except Exception as exc:                     # no raw Py4J traceback: one line
                raise MinimrError(f"Spark did not start ({type(exc).__name__}: "
                                  f"{str(exc).strip().splitlines()[0]}); it needs Java 17") from None
            self._owns = True
            if not master.startswith("local"):
                self._shipped = _ship_program(self.sc)
        _accept_minimr_storage_levels(self.sc)
        self._first_job = self._next_job_id()            # our jobs: this id and later
        self._stopped = False

    def stop(self):
        """Stop the SparkContext if this executor started it; a joined one keeps running."""
        if not self._stopped:
            self._stopped = True
            if self._owns:
                self.sc.stop()
            shutil.rmtree(getattr(self, "_shipped", ""), ignore_errors=True)

    @property
    def default_parallelism(self):
        return self.sc.defaultParallelism

    @property
    def master(self):
        return self.sc.master

    def status(self):
        """What Spark holds now: master, application, executors, persisted RDD ids."""
        sc = self.sc
        out = {"master": sc.master, "applicationId": sc.applicationId,
               "defaultParallelism": sc.defaultParallelism, "started_here": self._owns,
               "stopped": self._stopped}
        try:
            persisted = sc._jsc.getPersistentRDDs()               # java Map id -> RDD
            out["persisted_rdds"] = sorted(int(k) for k in persisted.keySet().toArray())
            store = sc._jsc.sc().statusStore()
            execs = store.executorList(True)
            out["workers"] = [{"id": e.id(), "cores": e.totalCores(),
                               "active_tasks": e.activeTasks(),
                               "completed_tasks": e.completedTasks()}
                              for e in _java_list(execs)]
        except Exception as exc:                                  # internals moved: say so
            out["detail_unavailable"] = f"{type(exc).__name__}: {exc}"
        return out

    def jobs(self):
        """The jobs run since this executor started, shaped like minimr's ctx.jobs:
        {"job", "group", "description", "seconds", "stages": [{"stage", "kind", "tasks", "task_seconds",
        "shuffle_write_seconds", ...}]}, from Spark's status store (its UI data). Stages
        Spark skipped (shuffle output reused) are left out, as minimr leaves them out."""
        if self._stopped and self._owns:
            return []
        try:
            self.sc._jsc.sc().listenerBus().waitUntilEmpty(5000)   # the store lags a job's end
            store = self.sc._jsc.sc().statusStore()
            raw = sorted(_java_list(store.jobsList(None)), key=lambda j: j.jobId())
        except Exception:
            return []
        out = []
        for j in (j for j in raw if j.jobId() >= self._first_job):
            job = {"job": j.jobId(), "group": _option(j.jobGroup()),
                   "description": _option(j.description()), "status": str(j.status()), "stages": []}
            start, end = j.submissionTime(), j.completionTime()
            if start.isDefined() and end.isDefined():
                job["seconds"] = (end.get().getTime() - start.get().getTime()) / 1000
            for sid in sorted(_java_list(j.stageIds())):
                stage = _stage_metrics(store, sid)
                if stage is not None:
                    job["stages"].append(stage)
            out.append(job)
        return out

    def _next_job_id(self):
        try:
            ids = [j.jobId() for j in _java_list(self.sc._jsc.sc().statusStore().jobsList(None))]
        except Exception:
            return 0
        return max(ids, default=-1) + 1


def _accept_minimr_storage_levels(sc):
    """PySpark's persist() accepts only pyspark.StorageLevel (an isinstance check in
    SparkContext._getJavaStorageLevel); let this SparkContext take minimr's levels
    too, translated field by field, so `rdd.persist(minimr.StorageLevel.DISK_ONLY)`
    runs unchanged. Only this SparkContext object is touched, not the class."""
    if getattr(sc, "_minimr_levels", False):
        return
    original = sc._getJavaStorageLevel
    sc._getJavaStorageLevel = lambda level: original(storage_level(level))
    sc._minimr_levels = True


def _check_java():
    """PySpark 4 needs Java 17 or later: say so in one line before the JVM would fail."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.access(java, os.X_OK):
        where = f"JAVA_HOME={home} has no bin/java" if home else "no `java` on PATH"
        raise MinimrError(f"the spark executor needs Java 17 ({where}); install it "
                          "(Debian: apt-get install openjdk-17-jre-headless) or fix JAVA_HOME")


def _quietly(start):
    """Start the JVM with its stderr through a filter that drops the JDK's notice about
    incubator modules (Spark 4 asks for one); Spark's own logs, at WARN and above (our
    log4j2 settings), pass through."""
    read, write = os.pipe()
    threading.Thread(target=_forward, args=(read,), daemon=True).start()
    saved = os.dup(2)
    os.dup2(write, 2)                    # the JVM inherits this as its stderr
    try:
        return start()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(write)


def _forward(fd):
    with os.fdopen(fd, "rb") as lines:
        for line in lines:
            if not line.startswith(b"WARNING: Using incubator modules"):
                os.write(2, line)


def _stage_metrics(store, sid):
    """One stage's Spark timers in minimr's units (seconds)."""
    try:
        s = store.lastStageAttempt(sid)
    except Exception:                      # never submitted: skipped, output reused
        return None
    if str(s.status()) == "SKIPPED":
        return None
    return {"stage": sid, "kind": s.name(), "tasks": s.numTasks(),
            "attempts": s.numCompleteTasks() + s.numFailedTasks() + s.numKilledTasks(),
            "task_seconds": s.executorRunTime() / 1e3,               # ms
            "deserialize_seconds": s.executorDeserializeTime() / 1e3,
            "gc_seconds": s.jvmGcTime() / 1e3,
            "shuffle_write_seconds": s.shuffleWriteTime() / 1e9,     # ns
            "shuffle_read_bytes": s.shuffleReadBytes(),
            "shuffle_write_bytes": s.shuffleWriteBytes(),
            "input_bytes": s.inputBytes()}


def _option(value):
    """A Scala Option from Py4J as a value or None."""
    return value.get() if value.isDefined() else None


def _java_list(seq):
    """A Scala Seq / Java collection from Py4J as a Python list."""
    if hasattr(seq, "iterator"):
        it, out = seq.iterator(), []
        while it.hasNext():
            out.append(it.next())
        return out
    return list(seq)
