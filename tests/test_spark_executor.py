"""executor="spark": a minimr Context answered by real PySpark.

The shared semantics suite (test_semantics.py) runs on it through the `ctx` fixture;
these tests cover what is particular to it: joining the session's SparkContext and
leaving it running, starting and stopping its own, settings, jobs and storage levels.
"""

import os
import subprocess
import sys
from collections import Counter

import pytest

import minimr
from minimr import MinimrError, StorageLevel

pytestmark = [pytest.mark.spark, pytest.mark.timeout(120)]


@pytest.fixture
def spark_ctx(sc):
    ctx = minimr.Context(executor="spark", workers=2)
    yield ctx
    ctx.stop()


def test_joins_the_running_spark_context_and_leaves_it_running(sc, spark_ctx):
    assert spark_ctx.sc is sc and not spark_ctx.status()["started_here"]
    spark_ctx.stop()
    assert sc.parallelize(range(4), 2).sum() == 6          # still alive
    with pytest.raises(MinimrError, match="stopped"):
        spark_ctx.parallelize([1])


def test_returns_real_pyspark_rdds_and_runs_minimr_mapreduce(spark_ctx):
    from pyspark import RDD
    lines = ["to be or not", "to be", "or not to be"]
    rdd = spark_ctx.parallelize(lines, 2)
    assert isinstance(rdd, RDD)

    def mapper(line):
        return [(w, 1) for w in line.split()]

    def reducer(word, counts):
        yield word, sum(counts)

    out = minimr.mapreduce(rdd, mapper, reducer, combiner=reducer, numReducers=3)
    assert out.getNumPartitions() == 3
    assert dict(out.collect()) == Counter(" ".join(lines).split())


def test_context_api_on_spark(spark_ctx, tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("a b\nc\n\nd e f\n")
    assert spark_ctx.textFile(str(path), 2).collect() == ["a b", "c", "", "d e f"]
    assert spark_ctx.range(1, 7, 2).collect() == [1, 3, 5]
    assert spark_ctx.emptyRDD().collect() == []
    assert spark_ctx.union([spark_ctx.parallelize([1]), spark_ctx.parallelize([2])]).collect() == [1, 2]
    b = spark_ctx.broadcast({"k": 10})
    acc = spark_ctx.accumulator(0)
    spark_ctx.parallelize(range(5), 2).foreach(lambda x: acc.add(x + b.value["k"]))
    assert acc.value == 60
    assert spark_ctx.runJob(spark_ctx.parallelize(range(6), 3), lambda it: [sum(it)], [0, 2]) == [1, 9]
    assert spark_ctx.defaultParallelism == 2 and spark_ctx.defaultMinPartitions == 2
    with pytest.raises(TypeError):                       # as PySpark and minimr do
        spark_ctx.accumulator([1])


def test_jobs_record_stages_with_spark_timers(spark_ctx):
    before = len(spark_ctx.jobs)
    pairs = spark_ctx.parallelize(range(100), 2).map(lambda x: (x % 3, x))
    assert sorted(pairs.reduceByKey(lambda a, b: a + b).collect()) == [(0, 1683), (1, 1617), (2, 1650)]
    jobs = spark_ctx.jobs
    assert len(jobs) == before + 1
    stages = jobs[-1]["stages"]
    assert [s["tasks"] for s in stages] == [2, 2]               # map stage, result stage
    assert stages[0]["shuffle_write_bytes"] > 0 and stages[1]["shuffle_read_bytes"] > 0
    assert all(s["task_seconds"] >= 0 for s in stages) and jobs[-1]["seconds"] >= 0


def test_persist_accepts_minimr_storage_levels(spark_ctx):
    d = spark_ctx.parallelize(range(5), 2).persist(StorageLevel.DISK_ONLY)
    assert d.collect() == list(range(5))
    assert StorageLevel.DISK_ONLY == d.getStorageLevel()
    assert d.id() in spark_ctx.status()["persisted_rdds"]
    d.unpersist()


def test_bad_options_are_refused_before_spark_starts():
    with pytest.raises(MinimrError, match="unknown options"):
        minimr.Context(executor="spark", workers=1, memory="2g")
    with pytest.raises(MinimrError, match="workers"):
        minimr.Context(executor="spark", workers=0)


START_AND_STOP = r"""
import minimr
from pyspark import SparkContext
with minimr.Context(executor="spark", workers=1, **{"spark.app.name": "own"}) as ctx:
    assert ctx.status()["started_here"] and ctx.sc.master == "local[1,4]", ctx.status()
    assert ctx.sc.getConf().get("spark.ui.enabled") == "false"
    assert ctx.parallelize(range(10)).map(lambda x: x * x).sum() == 285
assert SparkContext._active_spark_context is None          # it stopped its own
ctx = minimr.Context(executor="spark", master="local[2]")
assert ctx.defaultParallelism == 2 and ctx.status()["started_here"]
ctx.stop()
print("ok")
"""


def test_starts_and_stops_its_own_spark_context(tmp_path, sc):
    """In a fresh interpreter (here it would join the session's SparkContext, `sc`)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root, PYTHONHASHSEED="0")
    out = subprocess.run([sys.executable, "-c", START_AND_STOP], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=110)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-3000:]
