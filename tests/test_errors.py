"""minimr's own guarantees about errors, laziness and retries (run on every minimr
executor; the spark executor keeps Spark's behaviour and skips them)."""

import operator
import os

import pytest

from minimr import MinimrError, RDD, TaskContext

pytestmark = [pytest.mark.minimr_only, pytest.mark.timeout(120)]


def test_user_exception_keeps_type_and_says_where(ctx):
    def boom(x):
        if x == 7:
            raise KeyError("seven")
        return x

    with pytest.raises(KeyError) as info:
        ctx.parallelize(range(10), 3).map(boom).collect()
    exc = info.value
    notes = " ".join(getattr(exc, "__notes__", []))
    assert "stage" in notes and "partition 2" in notes
    assert f"attempt {ctx.maxFailures} of {ctx.maxFailures}" in notes
    assert "boom" in str(exc.__cause__)               # the remote traceback
    assert ctx.parallelize([1, 2]).count() == 2        # the Context is still usable


def test_failed_attempt_is_retried(ctx):
    def flaky(x):
        if TaskContext.get().attemptNumber() == 0 and x == 3:
            raise RuntimeError("first attempt fails")
        return x * 2

    assert ctx.parallelize(range(6), 2).map(flaky).collect() == [0, 2, 4, 6, 8, 10]


def test_accumulator_counts_successful_attempts_only(ctx):
    acc = ctx.accumulator(0)

    def add_then_maybe_fail(it):
        for x in it:
            acc.add(1)
        if TaskContext.get().attemptNumber() == 0 and TaskContext.get().partitionId() == 1:
            raise RuntimeError("fail after adding")

    ctx.parallelize(range(10), 2).foreachPartition(add_then_maybe_fail)
    assert acc.value == 10


def test_stop_iteration_in_user_code_is_an_error(ctx):
    def stopper(x):
        if x == 2:
            raise StopIteration
        return x

    with pytest.raises(RuntimeError, match="StopIteration"):
        ctx.parallelize(range(5), 1).map(stopper).collect()
    with pytest.raises(RuntimeError, match="StopIteration"):
        ctx.parallelize(range(5), 1).filter(stopper).collect()


def test_rdd_inside_closure_is_refused(ctx):
    other = ctx.parallelize([1, 2])
    with pytest.raises(MinimrError, match="inside a function"):
        ctx.parallelize([1]).map(lambda x: other.count()).collect()


def test_bad_arguments_fail_before_work(ctx, tmp_path):
    for bad in (0, -1):
        with pytest.raises(MinimrError, match="numSlices"):
            ctx.parallelize([1], bad)
        with pytest.raises(MinimrError, match="minPartitions"):
            ctx.textFile(str(tmp_path), bad)
        with pytest.raises(MinimrError, match="numPartitions"):
            ctx.parallelize([1]).coalesce(bad)
    with pytest.raises(MinimrError, match="does not exist: .*missing.txt"):
        ctx.textFile(str(tmp_path / "missing.txt"))


def test_existing_output_directory_refused_before_work(ctx, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    ran = ctx.accumulator(0)
    with pytest.raises(MinimrError, match="already exists"):
        ctx.parallelize([1, 2]).map(lambda x: ran.add(1) or x).saveAsTextFile(str(out))
    assert ran.value == 0 and os.listdir(out) == []


def test_failed_job_leaves_no_output(ctx, tmp_path):
    out = tmp_path / "out"

    def fail_in_last(i, it):
        if i == 2:
            raise ValueError("bad partition")
        return it

    with pytest.raises(ValueError):
        ctx.parallelize(range(9), 3).mapPartitionsWithIndex(fail_in_last).saveAsTextFile(str(out))
    assert not out.exists()


def test_non_utf8_input_is_read_as_pyspark_reads_it_and_counted(ctx, tmp_path):
    # not an error any more: U+FFFD in its place (PySpark's JVM decoder), one counted line
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"fine\ncaf\xe9 au lait\n")
    assert ctx.textFile(str(path)).collect() == ["fine", "caf\ufffd au lait"]
    assert ctx.counters()["MALFORMED_INPUT_LINES"] == 1


def test_unknown_executor_named():
    import minimr
    with pytest.raises(MinimrError, match="unknown executor 'gpu'.*serial"):
        minimr.Context(executor="gpu")


def test_laziness_nothing_runs_before_an_action(ctx, tmp_path):
    marker = tmp_path / "ran"

    def touch(x):
        with open(marker, "a") as f:
            f.write("x")
        return x

    rdd = ctx.parallelize([(i, 1) for i in range(4)], 2).map(touch).reduceByKey(lambda a, b: a + b)
    assert isinstance(rdd, RDD) and not marker.exists()
    assert len(rdd.collect()) == 4 and marker.read_text() == "xxxx"


def test_unpicklable_function_is_a_clear_error(ctx):
    import threading
    lock = threading.Lock()
    with pytest.raises(Exception, match="(?i)pickle"):
        ctx.parallelize([1, 2]).map(lambda x: (lock, x)[1]).collect()


@pytest.mark.timeout(120)
def test_missing_java_is_one_clear_message(tmp_path):
    """Where Java is missing the PySpark tests fail with one message saying what to
    install; MINIMR_SKIP_SPARK=1 skips them instead."""
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "MINIMR_SKIP_SPARK")}
    env["PATH"] = str(tmp_path)                      # no java anywhere
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
           "tests/test_oracle.py::test_keys_of_equal_value_group_like_pyspark"]
    out = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=100)
    assert out.returncode != 0
    assert "PySpark needs Java 17" in out.stdout and "MINIMR_SKIP_SPARK=1" in out.stdout
    env["MINIMR_SKIP_SPARK"] = "1"
    out = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=100)
    assert out.returncode == 0 and "skipped" in out.stdout


def test_broadcast_changed_in_a_task_does_not_reach_the_driver(ctx):
    b = ctx.broadcast([1])
    assert ctx.parallelize(range(4), 2).map(lambda x: b.value.append(x) or 0).count() == 4
    assert b.value == [1]


def test_numpy_integer_counts_accepted_and_zero_refused(ctx):
    import numpy as np
    assert ctx.parallelize(range(6), np.int64(3)).getNumPartitions() == 3
    assert ctx.parallelize([(1, 1)], 2).reduceByKey(operator.add, np.int32(4)).getNumPartitions() == 4
    for call in (lambda r: r.reduceByKey(operator.add, 0), lambda r: r.groupByKey(0),
                 lambda r: r.partitionBy(0), lambda r: r.sortByKey(numPartitions=0)):
        with pytest.raises(MinimrError, match="numPartitions"):
            call(ctx.parallelize([(1, 1)], 2))


def test_storage_level_cannot_change_silently(ctx):
    from minimr import StorageLevel
    rdd = ctx.parallelize([1]).cache()
    assert rdd.persist(StorageLevel.MEMORY_ONLY) is rdd
    with pytest.raises(MinimrError, match="cannot change the storage level"):
        rdd.persist(StorageLevel.DISK_ONLY)
    rdd.unpersist()


def test_unpicklable_result_fails_once_not_max_failures_times(ctx, tmp_path):
    import threading
    log = tmp_path / "attempts"

    def lock_result(it):
        with open(log, "a") as f:
            f.write("attempt\n")
        return [threading.Lock()]
    with pytest.raises(Exception, match="(?i)pickle"):
        ctx.parallelize([1], 1).mapPartitions(lock_result).collect()
    assert log.read_text().count("attempt") == 1      # deterministic: not retried


def test_stopped_context_refuses_actions():
    import minimr
    c = minimr.Context()
    rdd = c.parallelize([1, 2])
    c.stop()
    with pytest.raises(MinimrError, match="stopped"):
        rdd.count()
