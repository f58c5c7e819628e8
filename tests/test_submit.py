"""minimr-submit: PySpark programs, unchanged, on minimr's executors and on real PySpark.

* The acceptance programs are Spark's own RDD examples, run from the installed pyspark
  package on small inputs generated here. Each runs under ``minimr-submit`` on serial,
  memory and disk, and prints what ``minimr-submit --executor spark --master local[2]``
  (real PySpark, run once per program and kept for the session) prints: the same lines
  where the program is deterministic (after sorting where Spark leaves the order open,
  numbers to 1e-9 relative), the same lines with other numbers where it draws unseeded
  random numbers, the same shape and last line where it depends on timing.
* What ``import pyspark`` is: minimr's stand-in in the driver and in worker processes
  during a run, the real package outside it.
* One-line refusals of what the stand-in does not offer, and of bad options.
* In this process (the stand-in's classes need no sys.path trick): settings and their
  precedence, the StatusTracker against PySpark's, Row against PySpark's Row.
  spark.read.text's partitions against Spark SQL's: tests/test_oracle.py.

Every program runs in a subprocess (`python -m minimr.submit`, the console script's
module) with a timeout: this test process already holds the session's SparkContext.
"""

import json
import math
import os
import random
import re
import subprocess
import sys
import threading
import time

import pytest

from minimr.compat import context as compat_context
from minimr.compat.context import SparkContext, parse_master
from minimr.compat.sql import Row, SparkSession
from minimr.conf import SparkConf
from minimr.errors import MinimrError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIM = os.path.join(ROOT, "minimr", "compat", "shim")


def _examples_dir():
    try:
        import pyspark
    except ImportError:
        return None
    return os.path.join(os.path.dirname(pyspark.__file__), "examples", "src", "main", "python")


EXAMPLES = _examples_dir()
needs_examples = pytest.mark.skipif(EXAMPLES is None or not os.path.isdir(EXAMPLES or ""),
                                    reason="the installed pyspark ships no examples")


def submit(*args, timeout=240, cwd=ROOT):
    """`python -m minimr.submit ARGS` from this checkout; the CompletedProcess."""
    env = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "minimr.submit", *map(str, args)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


# ------------------------------------------------------------------ generated inputs

@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Small seeded input files for the programs that read one."""
    d = tmp_path_factory.mktemp("submit-inputs")
    rng = random.Random(7)
    vocab = ["the", "cat", "sat", "on", "mat", "\u00e9l\u00e8ve", "Spark", "Hadoop", "a", "b"]
    files = {}

    def write(name, lines):
        files[name] = str(d / name)
        with open(files[name], "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")

    write("words.txt", [" ".join(rng.choice(vocab) for _ in range(rng.randint(0, 9)))
                        for _ in range(400)])
    write("numbers.txt", [" ".join(str(rng.randint(-50, 5000)) for _ in range(rng.randint(1, 6)))
                          for _ in range(300)])
    write("links.txt", [f"http://site/{rng.randint(0, 25)}  http://site/{rng.randint(0, 25)}"
                        for _ in range(250)])
    centres = [(0.0, 0.0, 0.0), (6.0, 6.0, 6.0), (-6.0, 3.0, 0.0)]
    write("points.txt", [" ".join(f"{c + rng.gauss(0, 1):.5f}" for c in rng.choice(centres))
                         for _ in range(600)])
    lr = []
    for _ in range(500):
        y = rng.choice([-1, 1])
        lr.append(" ".join([str(y)] + [f"{0.4 * y + rng.gauss(0, 1):.5f}" for _ in range(10)]))
    write("lr.txt", lr)
    return files


# ------------------------------------------------------------------ comparing outputs

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def skeleton(line):
    """The line with every number replaced by #."""
    return NUMBER.sub("#", line)


def numbers(line):
    return [float(x) for x in NUMBER.findall(line)]


def assert_same_lines(mine, theirs, what):
    """Line by line: the same text around the numbers, numbers equal to 1e-9 relative."""
    assert len(mine) == len(theirs), f"{what}: {len(mine)} lines, Spark printed {len(theirs)}"
    for i, (a, b) in enumerate(zip(mine, theirs)):
        assert skeleton(a) == skeleton(b), f"{what}, line {i + 1}: {a!r} != {b!r}"
        for x, y in zip(numbers(a), numbers(b)):
            assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12), \
                f"{what}, line {i + 1}: {a!r} != {b!r}"


def compare_exact(mine, theirs, what):
    assert_same_lines(mine, theirs, what)


def compare_sorted(mine, theirs, what):          # Spark leaves the order of keys open
    assert_same_lines(sorted(mine), sorted(theirs), what)


def compare_shape(mine, theirs, what):
    """Unseeded random numbers: other values, so also other widths, and numpy wraps an
    array's lines elsewhere; the text around the numbers, and how many, stay the same."""
    def shape(lines):
        return re.sub(r"\s+", "", skeleton("\n".join(lines)))
    assert shape(mine) == shape(theirs), (what, mine, theirs)


STATUS_LINES = [re.compile(r"Job \d+ status:  (RUNNING|SUCCEEDED|FAILED|UNKNOWN)"),
                re.compile(r"Stage \d+: \d+ tasks total \(\d+ active, \d+ complete\)")]


def compare_status(mine, theirs, what):
    """status_api_demo polls while its job runs: as many lines as the timing allows, each
    of one of two shapes, both shapes seen; the last line (the job's result) equal."""
    for lines in (mine, theirs):
        assert lines and all(any(p.fullmatch(x) for p in STATUS_LINES) for x in lines[:-1]), \
            (what, lines)
        assert {p.pattern for x in lines[:-1] for p in STATUS_LINES if p.fullmatch(x)} == \
            {p.pattern for p in STATUS_LINES}, (what, lines)
    assert mine[-1] == theirs[-1]


# name -> (script arguments (input names are replaced by paths), minimr-submit options,
#          comparison, check of Spark's own output)
PROGRAMS = {
    "pi": (["2"], [], compare_shape,
           lambda out: abs(numbers(out[0])[0] - math.pi) < 0.05),
    "wordcount": (["words.txt"], [], compare_sorted, None),
    "sort": (["numbers.txt"], [], compare_exact, None),
    "pagerank": (["links.txt", "4"], [], compare_sorted, None),
    "kmeans": (["points.txt", "3", "0.0001"], [], compare_exact, None),
    "logistic_regression": (["lr.txt", "3"], [], compare_shape, None),
    # without spark.default.parallelism its union doubles the partitions every round
    "transitive_closure": (["2"], ["--conf", "spark.default.parallelism=2"], compare_exact,
                           None),
    "als": (["24", "30", "5", "3", "2"], [], compare_exact, None),
    # ten tasks of two seconds a stage: ten workers keep it short (serial takes 40 s)
    "status_api_demo": ([], ["--master", "local[10]"], compare_status, None),
}

def command(name, inputs):
    args, options, _, _ = PROGRAMS[name]
    options = options if "--master" in options else ["--master", "local[2]", *options]
    return [*options, os.path.join(EXAMPLES, f"{name}.py"), *[inputs.get(a, a) for a in args]]


@pytest.fixture(scope="module")
def spark_prints(sc, inputs):
    """name -> the lines real PySpark prints (minimr-submit --executor spark), once each."""
    seen = {}

    def lines(name):
        if name not in seen:
            out = submit("--executor", "spark", *command(name, inputs), timeout=240)
            assert out.returncode == 0, out.stderr[-3000:]
            seen[name] = out.stdout.splitlines()
            check = PROGRAMS[name][3]
            assert check is None or check(seen[name]), seen[name]
        return seen[name]
    return lines


@needs_examples
@pytest.mark.spark
@pytest.mark.timeout(400)
@pytest.mark.parametrize("executor", ["serial", "memory", "disk"])
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_spark_example_prints_what_pyspark_prints(name, executor, inputs, spark_prints):
    if name == "status_api_demo" and executor == "serial":
        pytest.skip("its 20 tasks sleep 2 s each: 40 s one after another on serial; the "
                    "process executors run them with local[10]'s 10 workers")
    out = submit("--executor", executor, *command(name, inputs), timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    mine = out.stdout.splitlines()
    PROGRAMS[name][2](mine, spark_prints(name), f"{name}.py on {executor}")
    assert "Traceback" not in out.stderr


# ------------------------------------------------------------- what `import pyspark` is

NAMES_SCRIPT = '''
import json, os, sys
import pyspark
from pyspark import (SparkContext, SparkConf, StorageLevel, RDD, TaskContext, Broadcast,
                     Accumulator, AccumulatorParam, StatusTracker)
from pyspark.sql import SparkSession
import pyspark.rdd, pyspark.resultiterable, pyspark.context, pyspark.conf
import pyspark.broadcast, pyspark.accumulators, pyspark.storagelevel, pyspark.statcounter
import pyspark.taskcontext, pyspark.status
import minimr, minimr.conf, minimr.shared, minimr.compat.context

MODULES = ["pyspark.rdd", "pyspark.resultiterable", "pyspark.context", "pyspark.conf",
           "pyspark.broadcast", "pyspark.accumulators", "pyspark.storagelevel",
           "pyspark.statcounter", "pyspark.taskcontext", "pyspark.status"]
ri = pyspark.resultiterable            # a module: a pickled function refers to it by name

def identities():
    import pyspark.taskcontext
    return {"pyspark_file": pyspark.__file__,
            "RDD": pyspark.RDD is minimr.RDD and pyspark.rdd.RDD is minimr.RDD,
            "ResultIterable": ri.ResultIterable is minimr.ResultIterable,
            "SparkConf": pyspark.conf.SparkConf is minimr.conf.SparkConf,
            "Broadcast": pyspark.broadcast.Broadcast is minimr.shared.Broadcast,
            "Accumulator": pyspark.accumulators.Accumulator is minimr.shared.Accumulator,
            "StorageLevel": pyspark.storagelevel.StorageLevel is minimr.StorageLevel,
            "StatCounter": pyspark.statcounter.StatCounter is minimr.StatCounter,
            "TaskContext": pyspark.taskcontext.TaskContext is minimr.TaskContext,
            "SparkContext": pyspark.context.SparkContext is minimr.compat.context.SparkContext,
            "StatusTracker": pyspark.status.StatusTracker is StatusTracker,
            "modules": all(m in sys.modules for m in MODULES),
            "in_task": pyspark.taskcontext.TaskContext.get() is not None,
            "pid": os.getpid()}

sc = SparkContext(appName="names")
in_tasks = sc.parallelize(range(4), 4).map(lambda _: identities()).collect()
print(json.dumps({"driver": identities(), "tasks": in_tasks, "subscript": str(RDD[int])}))
sc.stop()
'''


@pytest.mark.timeout(120)
@pytest.mark.parametrize("executor", ["serial", "memory", "disk"])
def test_pyspark_is_minimr_in_the_driver_and_in_workers(executor, tmp_path):
    script = tmp_path / "names.py"
    script.write_text(NAMES_SCRIPT)
    out = submit("--executor", executor, "--workers", 2, script, timeout=100)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    shim = os.path.join(SHIM, "pyspark", "__init__.py")
    for where in [seen["driver"], *seen["tasks"]]:
        assert where["pyspark_file"] == shim
        assert all(where[k] for k in where if k not in ("pyspark_file", "pid", "in_task")), where
    assert not seen["driver"]["in_task"] and all(t["in_task"] for t in seen["tasks"])
    pids = {t["pid"] for t in seen["tasks"]}
    if executor == "serial":
        assert pids == {seen["driver"]["pid"]}
    else:                                   # really other processes: two workers
        assert seen["driver"]["pid"] not in pids and len(pids) == 2
    assert seen["subscript"] == "minimr.rdd.RDD[int]"


@needs_examples
@pytest.mark.timeout(60)
def test_the_real_pyspark_is_untouched_outside_a_run(tmp_path):
    script = tmp_path / "where.py"
    script.write_text("import pyspark; print(pyspark.__file__)\n")
    during = submit("--executor", "serial", script, timeout=50)
    assert during.stdout.strip() == os.path.join(SHIM, "pyspark", "__init__.py")
    after = subprocess.run([sys.executable, "-c", "import pyspark; print(pyspark.__file__)"],
                           cwd=str(tmp_path), capture_output=True, text=True, timeout=50)
    real = after.stdout.strip()
    assert "minimr" not in real and real.endswith(os.path.join("pyspark", "__init__.py"))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("executor", ["serial", "memory"])
def test_py_files_reach_the_driver_and_the_workers(executor, tmp_path):
    import zipfile
    lib, app = tmp_path / "lib", tmp_path / "app"
    lib.mkdir()
    app.mkdir()
    (lib / "helper.py").write_text("def double(x):\n    return 2 * x\n")
    with zipfile.ZipFile(lib / "deps.zip", "w") as z:
        z.writestr("zipped/__init__.py", "import os\ndef pid(_):\n    return os.getpid()\n")
    script = app / "job.py"
    script.write_text("import os, helper, zipped\nfrom pyspark import SparkContext\n"
                      "sc = SparkContext.getOrCreate()\n"
                      "rdd = sc.parallelize(range(6), 3)\n"
                      "print(rdd.map(helper.double).collect(), "
                      "os.getpid() in rdd.map(zipped.pid).collect())\n")
    out = submit("--executor", executor, "--py-files", f"{lib / 'helper.py'},{lib / 'deps.zip'}",
                 script, timeout=100)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[0,", "2,", "4,", "6,", "8,", "10]",
                                  str(executor == "serial")]
    without = submit("--executor", executor, script, timeout=100)
    assert without.returncode == 1 and "No module named 'helper'" in without.stderr


# ------------------------------------------------------------------- one-line refusals

UNSUPPORTED = {
    "dataframe": ("spark.read.text(DATA).filter('value > 1')", "DataFrame.filter"),
    "sql": ("spark.sql('select 1')", "SparkSession.sql"),
    "reader": ("spark.read.csv(DATA)", "DataFrameReader.csv"),
    "mllib": ("import pyspark.ml.feature", "pyspark.ml"),
    "functions": ("from pyspark.sql.functions import col", "pyspark.sql.functions"),
    "types": ("from pyspark.sql.types import StructType", "pyspark.sql.types.StructType"),
    "streaming": ("from pyspark.streaming import StreamingContext", "pyspark.streaming"),
    "context": ("spark.sparkContext.binaryFiles(DATA)", "SparkContext.binaryFiles"),
    "attribute": ("print(pyspark.SparkFiles)", "pyspark.SparkFiles"),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", list(UNSUPPORTED))
def test_outside_the_rdd_world_fails_with_one_line_naming_the_call(case, tmp_path):
    code, name = UNSUPPORTED[case]
    data = tmp_path / "data.txt"
    data.write_text("1\n2\n")
    script = tmp_path / "prog.py"
    script.write_text("import pyspark\nfrom pyspark.sql import SparkSession\n"
                      "spark = SparkSession.builder.appName('x').getOrCreate()\n"
                      f"DATA = {str(data)!r}\n"
                      f"{code}\n"
                      "print('not reached')\n")
    out = submit("--executor", "serial", script, timeout=50)
    assert out.returncode == 1 and out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith(f"minimr-submit: {script}, line 5: {name} is not supported")
    assert lines[0].endswith("run this program with --executor spark")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("executor", ["serial", "disk"])
def test_an_input_path_that_does_not_exist_is_one_line(executor, tmp_path):
    script = tmp_path / "prog.py"
    script.write_text("from pyspark import SparkContext\n"
                      "sc = SparkContext(appName='x')\n"
                      "print(sc.textFile('no-such-file.txt').count())\n")
    out = submit("--executor", executor, script, timeout=50)
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr.splitlines() == [
        f"minimr-submit: {script}, line 3: input path does not exist: no-such-file.txt"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("options, complaint", [
    (["--conf", "spark.task.maxFailures"], "expected KEY=VALUE"),
    (["--conf", "spark.task.maxFailures=0"], "spark.task.maxFailures must be a positive"),
    (["--conf", "spark.task.maxFailures=two"], "spark.task.maxFailures must be a positive"),
    (["--executor", "memory", "--master", "spark://127.0.0.1:7077"], "for a cluster, run"),
    (["--master", "local[0]"], "must be positive"),
    (["--workers", "2", "--master", "local[2]"], "give one of them"),
    (["--workers", "0"], "--workers must be a positive integer"),
    (["--py-files", "nothing.py"], "--py-files nothing.py: not a .py, .zip or .egg file"),
])
def test_bad_options_are_refused_before_the_program_starts(options, complaint, tmp_path):
    script = tmp_path / "prog.py"
    script.write_text("print('started')\n")
    out = submit(*options, script, timeout=50)
    assert out.returncode == 2 and "started" not in out.stdout
    assert complaint in out.stderr.splitlines()[-1]
    missing = submit("--executor", "serial", tmp_path / "nope.py", timeout=50)
    assert missing.returncode == 2 and "nope.py: no such file" in missing.stderr


# ------------------------------------------------------------------------ settings

FLAKY = '''
import sys
from pyspark import SparkContext, TaskContext
sc = SparkContext.getOrCreate()

def flaky(x):
    if TaskContext.get().attemptNumber() == 0:
        raise ValueError("the first attempt of every task fails")
    return x

print(sc.parallelize(range(10), 2).map(flaky).sum(), sc.maxFailures,
      sc.getConf().get("spark.speculation"), sc.getConf().get("spark.speculation.multiplier"))
'''


@pytest.mark.timeout(120)
@pytest.mark.parametrize("options, printed", [
    (["--conf", "spark.task.maxFailures=2"], "45 2 None None"),
    (["--master", "local[2,3]"], "45 3 None None"),
    (["--conf", "spark.task.maxFailures=2", "--conf", "spark.speculation=true",
      "--conf", "spark.speculation.multiplier=2"], "45 2 true 2"),
    (["--conf", "spark.task.maxFailures=1"], None),
])
def test_conf_sets_task_attempts_and_passes_settings_through(options, printed, tmp_path):
    script = tmp_path / "flaky.py"
    script.write_text(FLAKY)
    out = submit("--executor", "memory", *options, script, timeout=100)
    if printed is None:                       # one attempt: the user's error ends the job
        assert out.returncode == 1
        assert "ValueError: the first attempt of every task fails" in out.stderr
    else:
        assert out.returncode == 0, out.stderr
        assert out.stdout.split() == printed.split()


@pytest.fixture
def submitted(monkeypatch):
    """What minimr-submit sets before the program runs, set here for one test."""
    monkeypatch.setitem(compat_context.SUBMITTED, "executor", "serial")
    monkeypatch.setitem(compat_context.SUBMITTED, "conf", {
        "spark.master": "local[3]", "spark.app.name": "from-the-command-line",
        "spark.task.maxFailures": "5", "spark.speculation": "true"})
    yield
    running = SparkContext._active_spark_context
    if running is not None:
        running.stop()


@pytest.mark.timeout(60)
def test_the_program_settings_win_over_the_command_line(submitted):
    with SparkContext(conf=SparkConf().set("spark.task.maxFailures", "2")) as sc:
        assert (sc.master, sc.appName, sc.workers, sc.maxFailures) == \
            ("local[3]", "from-the-command-line", 3, 2)
        assert sc.defaultParallelism == 3 and sc.getConf().get("spark.speculation") == "true"
        assert SparkContext.getOrCreate() is sc
        with pytest.raises(ValueError, match="Cannot run multiple SparkContexts at once"):
            SparkContext()
    assert SparkContext._active_spark_context is None
    with SparkContext("local", "named", conf=SparkConf().setMaster("local[4]")) as sc:
        assert (sc.master, sc.appName, sc.workers, sc.maxFailures) == ("local", "named", 1, 5)
    spark = SparkSession.builder.master("local[2, 4]").config("spark.x", True).getOrCreate()
    assert SparkSession.builder.getOrCreate() is spark
    assert (spark.sparkContext.workers, spark._sc.maxFailures) == (2, 4)
    assert spark.sparkContext.getConf().get("spark.x") == "true"   # as PySpark writes a bool
    spark.stop()
    assert SparkSession.getActiveSession() is None and SparkContext._active_spark_context is None


def test_master_urls():
    assert parse_master("local[*]") == (os.cpu_count(), None)
    assert parse_master(" local[ 4 , 2 ] ") == (4, 2)
    for bad in ["yarn", "spark://h:7077", "local[x]", "local[2,0]", "local-cluster[2,1,1024]"]:
        with pytest.raises(MinimrError, match="master"):
            parse_master(bad)


# ------------------------------------------------------------------- status tracker

def _job_shape(tracker, job_id):
    info = tracker.getJobInfo(job_id)
    stages = [tracker.getStageInfo(s) for s in info.stageIds]
    return info.status, sorted((s.numTasks, s.numActiveTasks, s.numCompletedTasks,
                                s.numFailedTasks, s.currentAttemptId) for s in stages)


@pytest.mark.spark
@pytest.mark.timeout(120)
def test_status_tracker_reports_what_pyspark_reports(sc, submitted, tmp_path):
    def job(context):
        return (context.parallelize(range(20), 4).map(lambda x: (x % 3, 1))
                .reduceByKey(lambda a, b: a + b, 2).collect())

    sc.setJobGroup("minimr-status-test", "the StatusTracker comparison")
    try:
        job(sc)
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
    theirs = sc.statusTracker()
    [spark_job] = theirs.getJobIdsForGroup("minimr-status-test")
    deadline = time.time() + 20          # Spark's status store is updated by a listener
    while _job_shape(theirs, spark_job)[0] != "SUCCEEDED" and time.time() < deadline:
        time.sleep(0.1)

    mine = SparkContext(appName="status")
    job(mine)
    tracker = mine.statusTracker()
    [my_job] = tracker.getJobIdsForGroup()
    assert _job_shape(tracker, my_job) == _job_shape(theirs, spark_job) == \
        ("SUCCEEDED", [(2, 0, 2, 0, 0), (4, 0, 4, 0, 0)])
    assert tracker.getActiveJobsIds() == [] and tracker.getActiveStageIds() == []
    assert tracker.getJobInfo(99) is None and tracker.getStageInfo(99) is None

    # while a job runs (its tasks wait for a file), and after it failed
    gate = tmp_path / "go"

    def wait(x):
        while not os.path.exists(gate):
            time.sleep(0.02)
        return x
    running = threading.Thread(target=lambda: mine.parallelize(range(3), 3).map(wait).collect())
    running.start()
    try:
        deadline = time.time() + 30
        while not tracker.getActiveStageIds() and time.time() < deadline:
            time.sleep(0.02)
        [active] = tracker.getActiveJobsIds()
        info = tracker.getJobInfo(active)
        assert info.status == "RUNNING" and tracker.getActiveStageIds() == info.stageIds
        assert tracker.getStageInfo(info.stageIds[0])[3:] == (3, 3, 0, 0)
    finally:
        gate.write_text("")
        running.join(30)
    assert tracker.getJobInfo(active).status == "SUCCEEDED"
    with pytest.raises(ZeroDivisionError):
        mine.parallelize([1], 1).map(lambda x: x / 0).collect()
    failed = tracker.getJobIdsForGroup()[-1]
    assert tracker.getJobInfo(failed).status == "FAILED" and tracker.getActiveJobsIds() == []
    assert tracker.getStageInfo(tracker.getJobInfo(failed).stageIds[0])[3:] == (1, 0, 0, 4)


# ------------------------------------------------------------------------------- Row

@pytest.mark.spark
def test_row_behaves_as_pyspark_row(sc):
    import pickle

    from pyspark.sql import Row as SparkRow
    for make in [lambda R: R(value="a b", n=3), lambda R: R("x", "y")(1, 2)]:
        mine, theirs = make(Row), make(SparkRow)
        assert tuple(mine) == tuple(theirs) and repr(mine) == repr(theirs)
        assert mine.asDict() == theirs.asDict() and mine[1] == theirs[1]
        assert pickle.loads(pickle.dumps(mine)) == mine
        assert pickle.loads(pickle.dumps(mine)).asDict() == mine.asDict()
    assert ("value" in Row(value=1)) == ("value" in SparkRow(value=1))
    assert Row(value="v").value == SparkRow(value="v").value == "v"
    assert repr(Row("a", "b")) == repr(SparkRow("a", "b"))
