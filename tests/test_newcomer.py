"""What a newcomer meets first: programs written as scripts, the debugger, the spark
executor's output, private files, and the headline example. Each test runs the real
thing: a script in a fresh interpreter, pdb driven through its stdin, a real JVM."""

import os
import stat
import subprocess
import sys
import textwrap

import pytest

import minimr
from minimr import StorageLevel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROCESS_EXECUTORS = ["serial", "memory", "disk"]


def run_script(tmp_path, body, *args, python=(), timeout=90, stdin=None, env=None):
    """Run `body` as the __main__ script (`python [python...] job.py [args...]`) of a fresh
    interpreter, from this checkout."""
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.run([sys.executable, *python, str(script), *args], cwd=tmp_path, input=stdin,
                          env=dict(os.environ, PYTHONPATH=ROOT, **(env or {})),
                          capture_output=True, text=True, timeout=timeout)


# ------------------------------------------------------ classes defined in a script

SCRIPT_CLASSES = """
    import collections, dataclasses, sys
    import minimr

    Point = collections.namedtuple("Point", "x y")

    @dataclasses.dataclass(frozen=True)
    class Cell:
        row: int
        col: int

    class Box:
        def __init__(self, v):
            self.v = v
        def __eq__(self, other):
            return isinstance(other, Box) and other.v == self.v
        def __hash__(self):
            return hash(self.v)

    class BadRecord(Exception):
        pass

    def check(x):
        if x == 3:
            raise BadRecord(f"record {x} is bad")
        return x

    with minimr.Context(executor=sys.argv[1], workers=2) as ctx:
        # records of the script's classes: collected, shuffled (as keys), and results
        assert ctx.parallelize([Point(1, 2)]).collect() == [Point(1, 2)]
        cells = ctx.parallelize(range(12), 3).map(lambda i: (Cell(i % 2, i % 3), Box(i)))
        grouped = cells.groupByKey().mapValues(lambda bs: sorted(b.v for b in bs)).collect()
        assert sorted(grouped, key=lambda kv: (kv[0].row, kv[0].col)) == [
            (Cell(r, c), [i for i in range(12) if i % 2 == r and i % 3 == c])
            for r in range(2) for c in range(3)], grouped
        assert isinstance(grouped[0][0], Cell)
        # an exception class of the script keeps its type
        try:
            ctx.parallelize(range(6), 2).map(check).collect()
        except BadRecord as exc:
            assert "record 3 is bad" in str(exc)
        else:
            raise AssertionError("no BadRecord")
    print("ok")
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("executor", PROCESS_EXECUTORS)
def test_records_results_and_exceptions_of_classes_defined_in_the_script(tmp_path, executor):
    out = run_script(tmp_path, SCRIPT_CLASSES, executor, timeout=110)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-3000:]


@pytest.mark.timeout(60)
def test_records_of_a_class_defined_inside_a_function(ctx):
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Pair:
        a: int
        b: str
    got = ctx.parallelize([Pair(i, "x" * i) for i in range(6)], 2).map(lambda p: (p.a % 2, p)) \
        .groupByKey().mapValues(lambda ps: sorted(p.a for p in ps)).collect()
    assert sorted(got) == [(0, [0, 2, 4]), (1, [1, 3, 5])]
    assert ctx.parallelize([Pair(1, "a")], 1).collect()[0].b == "a"


# --------------------------------------------------------- tracebacks and the debugger

FAILING_LAMBDA = """
    import sys, traceback
    import minimr
    with minimr.Context(executor=sys.argv[1], workers=2, maxFailures=1) as ctx:
        try:
            ctx.parallelize(range(4), 2).map(lambda x: 1 // (x - 2)).collect()
        except ZeroDivisionError as exc:
            print(exc.__cause__)
"""


@pytest.mark.timeout(90)
@pytest.mark.parametrize("executor", PROCESS_EXECUTORS)
def test_a_failing_lambda_shows_the_users_file_and_line(tmp_path, executor):
    out = run_script(tmp_path, FAILING_LAMBDA, executor)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "job.py\", line 6, in <lambda>" in out.stdout, out.stdout
    assert "1 // (x - 2)" in out.stdout and "<dynamic-code>" not in out.stdout


PDB_JOB = """
    import minimr
    def double(x):
        return 2 * x          # line 4
    with minimr.Context(executor="serial") as ctx:
        print("result", ctx.parallelize(range(4), 2).map(double).collect())
"""


@pytest.mark.timeout(60)
def test_q_in_pdb_inside_a_task_ends_the_job(tmp_path):
    out = run_script(tmp_path, PDB_JOB, python=("-m", "pdb"), stdin="b job.py:4\nc\np x\nq\n")
    assert "(Pdb) 0" in out.stdout                   # it stopped in the first task
    assert "result" not in out.stdout                # and quitting ended the job: no retry
    assert out.stdout.count("job.py(4)double()") == 1, out.stdout


# ------------------------------------------------------------------ private files

@pytest.mark.timeout(60)
def test_every_directory_and_socket_minimr_makes_is_private(tmp_path):
    disk = minimr.Context(executor="disk", workers=2, tmpdir=str(tmp_path), keep_files=True,
                          sort_buffer_bytes=200)
    memory = minimr.Context(executor="memory", workers=2)
    try:
        for ctx in (disk, memory):
            pairs = ctx.parallelize(range(50), 3).map(lambda x: (x % 5, x))
            pairs.persist(StorageLevel.DISK_ONLY).reduceByKey(lambda a, b: a + b).collect()
        made = []
        for root in (disk._executor.root, memory._executor.dir):
            for d, dirs, files in os.walk(root):
                made.append(d)
                made += [os.path.join(d, f) for f in files if f.endswith(".sock")]
        assert len(made) > 10
        loose = {p: oct(stat.S_IMODE(os.stat(p).st_mode)) for p in made
                 if stat.S_IMODE(os.stat(p).st_mode) & 0o077}
        assert not loose, loose
        assert any(p.endswith(".sock") for p in made)
    finally:
        disk.stop()
        memory.stop()


# ------------------------------------------------------------- the spark executor

SPARK_PI = """
    import minimr
    with minimr.Context(executor="spark", workers=2) as ctx:
        print("sum", ctx.parallelize(range(100), 4).map(lambda x: x * x).sum())
"""


@pytest.mark.spark
@pytest.mark.timeout(120)
def test_the_spark_executor_prints_nothing_but_the_program(tmp_path):
    if os.environ.get("MINIMR_SKIP_SPARK") == "1":
        pytest.skip("MINIMR_SKIP_SPARK=1")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(SPARK_PI))
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                         text=True, timeout=110, env=dict(env, PYTHONPATH=ROOT))
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip() == "sum 328350"
    assert out.stderr.strip() == "", out.stderr        # no hash-seed warning, no JVM chatter


@pytest.mark.timeout(60)
def test_without_pyspark_or_java_the_spark_executor_says_so_in_one_line(tmp_path):
    no_pyspark = "import sys; sys.modules['pyspark'] = None\n" + textwrap.dedent(SPARK_PI)
    out = run_script(tmp_path, no_pyspark)
    assert out.returncode != 0
    assert out.stderr.strip().splitlines()[-1] == (
        "minimr.errors.MinimrError: the spark executor needs PySpark: "
        "pip install 'minimr[spark]'")
    out = run_script(tmp_path, SPARK_PI, env={"JAVA_HOME": str(tmp_path / "old-jdk")})
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert "needs Java 17" in last and "old-jdk" in last and "Py4J" not in out.stderr


# ------------------------------------------------------------ the headline example

@pytest.mark.timeout(120)
@pytest.mark.parametrize("executor, level, reads_text_again", [
    ("disk", "MEMORY_ONLY", True), ("disk", "DISK_ONLY", False), ("disk", "NONE", True),
    ("memory", "MEMORY_ONLY", False), ("serial", "MEMORY_ONLY", False),
    ("memory", "NONE", True)])
def test_what_each_later_iteration_reads(tmp_path, executor, level, reads_text_again):
    """The gap, by counting instead of timing: a later iteration on disk with cache()
    reads every line of the text again (MAP_INPUT_RECORDS = the lines); with DISK_ONLY,
    or on the memory executor, it reads the 4 parsed blocks."""
    from examples import _common, lr_sgd
    path = tmp_path / "lr.txt"
    with open(path, "w") as f:
        _common.write_logistic(f, seed=1, n=1000, d=3)
    with minimr.Context(executor=executor, workers=2) as ctx:
        w, history, _ = lr_sgd.train(ctx, str(path), partitions=4, iterations=3,
                                     cache=level != "NONE",
                                     storage_level=getattr(StorageLevel, level, None))
        later = ctx.counters(job=-1)["MAP_INPUT_RECORDS"]     # the third iteration
    assert later == (1000 if reads_text_again else 4)
    assert lr_sgd.summary(history).startswith("first iteration ")


@pytest.mark.timeout(60)
def test_the_example_prints_one_summary_line_at_the_end(tmp_path):
    out = subprocess.run([sys.executable, "-m", "examples.lr_sgd", "--executor", "serial",
                          "--iterations", "3", "--storage-level", "DISK_ONLY"], cwd=ROOT,
                         capture_output=True, text=True, timeout=55,
                         env=dict(os.environ, PYTHONPATH=ROOT))
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert "storage level DISK_ONLY" in lines[-3] and "in this process" in lines[-3]
    first, later = lines[-1].split("; ")
    assert first.startswith("first iteration ") and first.endswith(" s")
    assert later.startswith("later iterations median ") and later.endswith(" s")


@pytest.mark.timeout(60)
def test_minimr_skip_spark_skips_the_spark_doctests_too():
    env = dict(os.environ, MINIMR_SKIP_SPARK="1")
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "minimr"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=55)
    assert out.returncode == 0, out.stdout[-2000:]
    assert "minimr/executors/spark.py" not in out.stdout
    assert "minimr/rdd.py" in out.stdout               # the other doctests are collected


@pytest.mark.timeout(30)
def test_fresh_results_are_ignored_and_the_readme_figure_is_tracked():
    """The quick start leaves a clone clean: studies write to results/, which git ignores;
    the figure the README shows lives in docs/figures/, refreshed only with --update-docs."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
    if git("rev-parse", "--git-dir").returncode != 0:
        pytest.skip("not a git checkout")
    assert git("check-ignore", "-q", "results/iteration_gap.png").returncode == 0
    assert git("check-ignore", "-q", ".venv/bin/python").returncode == 0
    assert git("ls-files", "--error-unmatch", "docs/figures/iteration_gap.png").returncode == 0
    assert "docs/figures/iteration_gap.png" in open(os.path.join(ROOT, "README.md")).read()
