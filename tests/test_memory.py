"""Named properties of the memory executor (issue 3), each checked on real worker
processes against a plain-Python reference. The shared semantics suite
(test_semantics.py) runs on memory-1, memory-2 and memory-3 through conftest.py.

Side effects that must be counted (how often a partition was computed, how often a
broadcast was pickled) are appended to files under tmp_path: the workers are other
processes, so a driver-side counter would not see them.
"""

import json
import os
import resource
import signal
import subprocess
import sys
import textwrap
import threading
import time
from operator import add

import pytest

import minimr
from benchmarks.faults import alive, wait_until  # /proc helpers, one copy
from minimr import MinimrError, TaskContext
from minimr.errors import RemoteTraceback
from minimr.executors.memory import estimate_bytes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def make_ctx():
    """Contexts made by a test, stopped after it (with their workers)."""
    made = []

    def make(**kw):
        kw.setdefault("workers", 2)
        made.append(minimr.Context(executor="memory", **kw))
        return made[-1]

    yield make
    for c in made:
        c.stop()


def logged(path, f):
    """f, plus one line appended to `path` per call (a side effect visible across processes)."""
    def g(x):
        with open(path, "a") as out:
            out.write(f"{x}\n")
        return f(x)
    return g


def lines(path):
    return open(path).read().split() if os.path.exists(path) else []






def blocks_of(worker):
    return {(b["rdd"], b["partition"]) for b in worker["blocks"]}


# ------------------------------------------------------------------------ laziness, cache

@pytest.mark.timeout(60)
def test_nothing_runs_before_an_action(make_ctx, tmp_path):
    ctx = make_ctx()
    log = tmp_path / "calls"
    rdd = (ctx.parallelize(range(20), 4).map(logged(log, lambda x: x + 1)).cache()
           .map(lambda x: (x % 3, x)).reduceByKey(add))
    assert lines(log) == [] and all(w["tasks_run"] == 0 for w in ctx.status()["workers"])
    assert sorted(rdd.collect()) == sorted({k: sum(x + 1 for x in range(20) if (x + 1) % 3 == k)
                                            for k in range(3)}.items())
    assert len(lines(log)) == 20


@pytest.mark.timeout(60)
def test_cached_dataset_is_computed_once_across_two_actions(make_ctx, tmp_path):
    ctx = make_ctx()
    log = tmp_path / "calls"
    squares = ctx.parallelize(range(100), 4).map(logged(log, lambda x: x * x)).cache()
    assert squares.count() == 100
    assert squares.sum() == sum(x * x for x in range(100))
    assert sorted(map(int, lines(log))) == list(range(100))        # each record once
    held = [b for w in ctx.status()["workers"] for b in w["blocks"]]
    assert sorted(b["partition"] for b in held) == [0, 1, 2, 3]
    assert sum(b["records"] for b in held) == 100
    assert ctx.status()["recomputed"] == []
    squares.unpersist()
    assert squares.count() == 100 and len(lines(log)) == 200      # unpersist frees: computed again
    assert all(w["blocks"] == [] for w in ctx.status()["workers"])


@pytest.mark.timeout(60)
def test_cached_blocks_are_live_objects_not_pickles(make_ctx):
    ctx = make_ctx()
    rows = ctx.parallelize(range(8), 2).map(lambda x: [x] * 3).cache()
    assert rows.map(len).collect() == [3] * 8
    rows.foreach(lambda r: r.append(-1))     # mutates the cached lists themselves
    # the next job sees the same Python objects (a pickled cache would show [3] * 8)
    assert rows.map(len).collect() == [4] * 8


@pytest.mark.timeout(60)
def test_a_cached_partition_runs_on_the_worker_that_holds_it(make_ctx):
    ctx = make_ctx(workers=3)
    data = ctx.parallelize(range(60), 6).cache()
    data.count()
    holder = {p: w["pid"] for w in ctx.status()["workers"] for (_, p) in blocks_of(w)}
    assert sorted(holder) == list(range(6))
    for _ in range(2):       # twice: a task goes where the block is, every time
        ran_on = dict(data.map(lambda x: x + 1)
                      .mapPartitionsWithIndex(lambda i, it: [(i, os.getpid())]).collect())
        assert ran_on == holder


@pytest.mark.timeout(60)
def test_a_join_of_cached_co_partitioned_datasets_runs_where_they_are(make_ctx, tmp_path):
    """A join of two datasets on one partitioner is a union of partition p of each (no
    shuffle); its task goes to the worker holding the cached side, which is then never
    computed again (PageRank with controlled partitioning relies on this)."""
    ctx = make_ctx(workers=3)
    log = tmp_path / "calls"
    links = (ctx.parallelize([(k, k) for k in range(60)], 3).partitionBy(6)
                .mapValues(logged(log, lambda v: v * 10)).cache())
    links.count()
    holder = {p: w["pid"] for w in ctx.status()["workers"] for (_, p) in blocks_of(w)}
    ranks = links.mapValues(lambda _: 1.0)
    for _ in range(3):
        joined = links.join(ranks, 6)
        assert "+-" not in joined.toDebugString().decode().split("partitionBy")[0]
        ran_on = dict(joined.mapPartitionsWithIndex(lambda i, it: [(i, os.getpid())]).collect())
        assert ran_on == holder
        ranks = joined.mapValues(lambda pair: pair[1] + 1).reduceByKey(add, 6)
    assert sorted(ranks.collect()) == [(k, 4.0) for k in range(60)]
    assert len(lines(log)) == 60                   # each cached record computed once


@pytest.mark.timeout(60)
def test_after_the_locality_wait_an_idle_worker_takes_a_waiting_task(make_ctx):
    ctx = make_ctx(workers=2, locality_wait=0.1)
    slow_first = lambda i, it: (time.sleep(1.0) if i == 1 else None, list(it))[1]  # noqa: E731
    data = ctx.parallelize(range(4), 4).mapPartitionsWithIndex(slow_first).cache()
    data.count()                    # partition 1 keeps one worker busy; the other caches 0, 2, 3
    busy = {w["pid"]: blocks_of(w) for w in ctx.status()["workers"]}
    (lonely,) = [pid for pid, held in busy.items() if len(held) == 1]

    def nap(i, it):
        time.sleep(0.3)
        return [(i, os.getpid())]

    ran_on = dict(data.mapPartitionsWithIndex(nap).collect())
    # the worker holding only one block did not sit idle for 3 s: it took a waiting task,
    # computed that block again, and now both workers hold it
    assert list(ran_on.values()).count(lonely) == 2
    moved = [p for p, pid in ran_on.items() if pid == lonely and (data.id(), p) not in busy[lonely]]
    assert len(moved) == 1
    assert all((data.id(), moved[0]) in blocks_of(w) for w in ctx.status()["workers"])


# ----------------------------------------------------------------------------- eviction

@pytest.mark.timeout(60)
def test_eviction_under_cache_bytes_recomputes_and_keeps_results(make_ctx, tmp_path):
    make = lambda x: "x" * 200 + str(x)                                     # noqa: E731
    block = estimate_bytes([make(x) for x in range(100)])
    ctx = make_ctx(workers=1, cache_bytes=int(2.5 * block))                 # room for 2 of 4
    log = tmp_path / "calls"
    words = ctx.parallelize(range(400), 4).map(logged(log, make)).cache()
    expected = [make(x) for x in range(400)]
    assert words.collect() == expected
    (w,) = ctx.status()["workers"]
    assert len(w["blocks"]) == 2 and sum(b["bytes"] for b in w["blocks"]) <= 2.5 * block
    assert words.collect() == expected                  # results unchanged...
    recomputed = ctx.status()["recomputed"]
    assert recomputed and all("evicted" in r["reason"] for r in recomputed)
    # ...and every recomputation is counted: 400 first computations + 100 per recomputed block
    assert len(lines(log)) == 400 + 100 * len(recomputed)


# ------------------------------------------------------------------------------- faults

@pytest.mark.timeout(60)
def test_killed_worker_mid_job_recomputes_only_its_blocks(make_ctx, tmp_path):
    ctx = make_ctx(workers=2)
    log = tmp_path / "calls"
    data = ctx.parallelize(range(40), 8).map(logged(log, lambda x: x)).cache()
    assert data.count() == 40
    victim = ctx.status()["workers"][0]
    lost = blocks_of(victim)
    assert lost

    def slow_double(x):
        time.sleep(0.05)            # 0.25 s a task, about 1 s a worker
        return 2 * x

    killer = threading.Timer(0.3, os.kill, (victim["pid"], signal.SIGKILL))
    killer.start()
    try:
        assert data.map(slow_double).collect() == [2 * x for x in range(40)]
    finally:
        killer.join()
    assert not alive(victim["pid"])
    assert data.sum() == sum(range(40))
    assert victim["pid"] not in [w["pid"] for w in ctx.status()["workers"]]   # replaced
    recomputed = {(r["rdd"], r["partition"]) for r in ctx.status()["recomputed"]}
    assert recomputed == lost                               # exactly the lost blocks
    assert len(lines(log)) == 40 + 5 * len(lost)


@pytest.mark.timeout(60)
def test_killed_worker_loses_its_map_outputs_and_only_those_rerun(make_ctx):
    ctx = make_ctx(workers=2)
    counts = ctx.parallelize(range(200), 4).map(lambda x: (x % 7, 1)).reduceByKey(add)
    expected = sorted((k, sum(1 for x in range(200) if x % 7 == k)) for k in range(7))
    assert sorted(counts.collect()) == expected
    stages = ctx.jobs[-1]["stages"]
    assert sum(s.get("shuffle_bytes_fetched", 0) for s in stages) > 0   # worker to worker
    victim = next(w for w in ctx.status()["workers"] if w["shuffle_outputs"])
    os.kill(victim["pid"], signal.SIGKILL)
    assert wait_until(lambda: not alive(victim["pid"]), 5)
    assert sorted(counts.collect()) == expected
    (map_stage,) = [s for s in ctx.jobs[-1]["stages"] if s["kind"].startswith("map")]
    assert map_stage["tasks"] == len(victim["shuffle_outputs"])         # only the lost ones
    again = {(r["shuffle"], r["map"]) for r in ctx.status()["recomputed"] if "shuffle" in r}
    assert again == {tuple(k) for k in victim["shuffle_outputs"]}


@pytest.mark.timeout(60)
def test_worker_killed_while_reducers_fetch_from_it(make_ctx):
    ctx = make_ctx(workers=2)
    pairs = ctx.parallelize(range(200), 4).map(lambda x: (x % 10, x)).partitionBy(2)

    def fetch_late(it):             # partitionBy's read is lazy: fetches happen after the nap
        time.sleep(0.6)
        return [sorted(it)]

    job = pairs.mapPartitions(fetch_late)
    victim = ctx.status()["workers"][0]["pid"]
    killer = threading.Timer(0.3, os.kill, (victim, signal.SIGKILL))
    killer.start()
    try:
        got = job.collect()
    finally:
        killer.join()
    expected = [sorted((x % 10, x) for x in range(200) if (x % 10) % 2 == r) for r in range(2)]
    assert got == expected
    assert not alive(victim)
    # the surviving reducer's fetch failed; the scheduler re-ran only the lost map tasks
    map_stages = [st for st in ctx.jobs[-1]["stages"] if st["kind"].startswith("map")]
    assert len(map_stages) == 2 and map_stages[1]["tasks"] < 4
    redone = [r for r in ctx.status()["recomputed"] if "shuffle" in r]
    assert redone and all(str(victim) in r["reason"] or "fetch" in r["reason"] for r in redone)


@pytest.mark.timeout(60)
def test_map_outputs_are_dropped_when_no_dataset_reads_them(make_ctx):
    ctx = make_ctx(workers=2)
    counts = ctx.parallelize(range(100), 4).map(lambda x: (x % 5, 1)).reduceByKey(add)
    assert sorted(counts.collect()) == [(k, 20) for k in range(5)]
    held = lambda: [k for w in ctx.status()["workers"] for k in w["shuffle_outputs"]]  # noqa: E731
    assert len(held()) == 4
    kept = counts.mapValues(lambda v: v * 2)       # still reads the shuffle: kept
    del counts
    ctx.parallelize(range(4), 2).count()          # the next stage sends the drops
    assert len(held()) == 4
    del kept
    ctx.parallelize(range(4), 2).count()
    assert held() == []


def _fails_on_first_attempt(x):
    if TaskContext.get().attemptNumber() == 0:
        raise ValueError("first attempt fails")
    return x * 2


@pytest.mark.timeout(60)
def test_an_exception_is_retried_and_actions_count_accumulators_once(make_ctx):
    ctx = make_ctx()
    assert ctx.parallelize(range(10), 3).map(_fails_on_first_attempt).collect() == \
        [x * 2 for x in range(10)]
    acc = ctx.accumulator(0)

    def add_on_second_attempt(x):
        acc.add(x)
        _fails_on_first_attempt(x)

    ctx.parallelize(range(10), 3).foreach(add_on_second_attempt)
    assert acc.value == sum(range(10))                  # failed attempts do not count


@pytest.mark.timeout(60)
def test_exhausted_retries_raise_the_users_exception_with_context(make_ctx):
    ctx = make_ctx(maxFailures=3)

    def explode(x):
        if x == 7:
            raise KeyError(f"bad record {x}")
        return x

    with pytest.raises(KeyError) as info:
        ctx.parallelize(range(10), 2).map(explode).collect()
    note = " ".join(getattr(info.value, "__notes__", []))
    assert "partition 1" in note and "attempt 3 of 3" in note and "stage" in note
    assert isinstance(info.value.__cause__, RemoteTraceback)
    assert "explode" in info.value.__cause__.tb and "bad record 7" in info.value.__cause__.tb
    assert ctx.parallelize(range(10), 2).map(lambda x: x + 1).sum() == 55   # still usable


@pytest.mark.timeout(60)
@pytest.mark.parametrize("how", ["os._exit", "SIGABRT"])
def test_a_task_that_always_ends_its_worker_ends_the_job(make_ctx, how):
    """A worker that dies by the task's own doing counts against maxFailures."""
    ctx = make_ctx(maxFailures=3)
    before = {w["pid"] for w in ctx.status()["workers"]}

    def die(x):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))      # no core file left behind
        os._exit(3) if how == "os._exit" else os.abort()

    with pytest.raises(MinimrError, match="died") as info:
        ctx.parallelize([1], 1).map(die).collect()
    assert "attempt 3 of 3" in " ".join(info.value.__notes__)
    assert ctx.jobs[-1]["stages"][-1]["attempts"] == 3            # no endless loop
    after = {w["pid"] for w in ctx.status()["workers"]}
    assert len(after) == 2 and not any(alive(p) for p in before - after)
    assert ctx.parallelize(range(5), 2).collect() == list(range(5))


@pytest.mark.timeout(90)
def test_a_task_that_always_sigkills_its_worker_ends_at_the_loss_bound(make_ctx):
    """SIGKILL looks like a kill from outside (not counted against maxFailures), so the
    bound on worker losses (10 per worker slot in a stage) ends the job instead."""
    ctx = make_ctx(maxFailures=3)

    def die(x):
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(MinimrError, match="21 worker processes lost in this stage.*10 per worker.*signal 9"):
        ctx.parallelize([1], 1).map(die).collect()
    stage = ctx.jobs[-1]["stages"][-1]
    c = ctx.counters()                   # (the failed job's events count too)
    assert stage["workers_lost"] == c["WORKERS_LOST"] == c["NUM_KILLED_MAPS"] == 21
    assert ctx.parallelize(range(5), 2).collect() == list(range(5))


@pytest.mark.timeout(60)
def test_unpicklable_function_or_result_is_a_clear_error(make_ctx):
    ctx = make_ctx()
    lock = threading.Lock()
    with pytest.raises(MinimrError, match="`lock`.*_thread.lock"):
        ctx.parallelize(range(4), 2).map(lambda x: (x, lock)).collect()
    with pytest.raises(MinimrError, match="result of partition .* cannot be pickled"):
        ctx.parallelize(range(4), 2).map(lambda x: threading.Lock()).collect()
    assert ctx.parallelize(range(4), 2).map(lambda x: -x).collect() == [0, -1, -2, -3]


# -------------------------------------------------------------------------- checkpoints

@pytest.mark.timeout(60)
def test_a_checkpointed_partition_lost_with_its_worker_is_read_back_not_recomputed(make_ctx, tmp_path):
    """The RDD paper's lineage truncation: once written, a checkpoint replaces the
    lineage, so a block lost with its worker comes back from the files."""
    ctx = make_ctx(workers=2)
    ctx.setCheckpointDir(str(tmp_path / "ck"))
    log = tmp_path / "calls"
    data = ctx.parallelize(range(40), 4).map(logged(log, lambda x: x * 2)).cache()
    data.checkpoint()
    assert "ParallelCollectionRDD" in data.toDebugString().decode()
    assert data.sum() == sum(x * 2 for x in range(40))
    assert len(lines(log)) == 40         # once: the checkpoint's own job read the cached blocks
    assert data.isCheckpointed()
    files = os.listdir(data.getCheckpointFile().removeprefix("file:"))
    assert sorted(f for f in files if f.startswith("part-") and "." not in f) == [f"part-{i:05d}" for i in range(4)]
    text = data.toDebugString().decode()
    assert "ReliableCheckpointRDD" in text and "ParallelCollectionRDD" not in text   # cut
    victim = next(w for w in ctx.status()["workers"] if w["blocks"])
    os.kill(victim["pid"], signal.SIGKILL)
    assert wait_until(lambda: not alive(victim["pid"]), 5)
    assert data.map(lambda x: x + 1).sum() == sum(x * 2 + 1 for x in range(40))
    assert len(lines(log)) == 40         # not recomputed: the lost blocks were read back
    assert {(b["rdd"], b["partition"]) for w in ctx.status()["workers"] for b in w["blocks"]} == \
        {(data.id(), p) for p in range(4)}                 # and cached again where they ran


@pytest.mark.timeout(60)
def test_a_locally_checkpointed_block_lost_with_its_worker_fails_the_job(make_ctx):
    """localCheckpoint() keeps the blocks where the cache put them and forgets the
    lineage: a lost block cannot be computed again, so the job fails, as in Spark."""
    ctx = make_ctx(workers=2)
    data = ctx.parallelize(range(40), 4).map(lambda x: x * 2)
    data.localCheckpoint()
    assert data.count() == 40 and data.isCheckpointed()
    assert "LocalCheckpointRDD" in data.toDebugString().decode()
    victim = next(w for w in ctx.status()["workers"] if w["blocks"])
    lost = sorted(p for _, p in blocks_of(victim))
    os.kill(victim["pid"], signal.SIGKILL)
    assert wait_until(lambda: not alive(victim["pid"]), 5)
    lost_names = "|".join(map(str, lost))          # whichever of them a task asks for first
    with pytest.raises(MinimrError, match=rf"Checkpoint block rdd_{data.id()}_({lost_names}) not found! "
                                          "Either the executor that originally checkpointed"):
        data.collect()


# ----------------------------------------------------------------- broadcast, prints

class CountedPickles:
    """A value that appends a line (the process id) to a file every time it is
    pickled ("p") or unpickled ("u")."""

    def __init__(self, path, payload):
        self.path, self.payload = path, payload

    def __getstate__(self):
        with open(self.path, "a") as f:
            f.write(f"p{os.getpid()}\n")
        return self.__dict__

    def __setstate__(self, state):
        self.__dict__.update(state)
        with open(self.path, "a") as f:
            f.write(f"u{os.getpid()}\n")


@pytest.mark.timeout(60)
def test_a_broadcast_reaches_each_worker_once(make_ctx, tmp_path):
    ctx = make_ctx(workers=2)
    log = tmp_path / "pickles"
    table = ctx.broadcast(CountedPickles(str(log), {i: i * i for i in range(100)}))
    for _ in range(3):          # three jobs of eight tasks each
        assert ctx.parallelize(range(100), 8).map(lambda x: table.value.payload[x]).sum() == \
            sum(i * i for i in range(100))
    pids = {w["pid"] for w in ctx.status()["workers"]}
    # pickled once in the driver (a snapshot, at broadcast()), unpickled once per worker
    assert sorted(lines(log)) == sorted([f"p{os.getpid()}"] + [f"u{p}" for p in pids])


def _run_driver(tmp_path, body):
    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent(body))
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)


@pytest.mark.timeout(60)
def test_user_prints_reach_the_drivers_terminal(tmp_path):
    proc = _run_driver(tmp_path, """
        import minimr
        with minimr.Context(executor="memory", workers=2) as ctx:
            ctx.parallelize(range(4), 4).foreach(lambda x: print("hello from record", x))
        print("driver done")
    """)
    out, err = proc.communicate(timeout=50)
    assert proc.returncode == 0, err
    # two workers share the terminal; each writes whole lines (even with PYTHONUNBUFFERED)
    assert sorted(line for line in out.splitlines() if "hello" in line) == \
        [f"hello from record {i}" for i in range(4)]


# ------------------------------------------------------------------------ no orphans

@pytest.mark.timeout(60)
def test_stop_leaves_no_processes_or_temp_dir(make_ctx):
    ctx = make_ctx(workers=3)
    ctx.parallelize(range(30), 6).cache().count()
    pids = [w["pid"] for w in ctx.status()["workers"]]
    tmpdir = ctx._executor.dir
    assert all(alive(p) for p in pids) and os.path.isdir(tmpdir)
    ctx.stop()
    assert not any(alive(p) for p in pids) and not os.path.exists(tmpdir)


HANGING_DRIVER = """
    import json, time, minimr
    ctx = minimr.Context(executor="memory", workers=2)
    pids = [w["pid"] for w in ctx.status()["workers"]]
    print(json.dumps({"pids": pids, "tmpdir": ctx._executor.dir}), flush=True)
    ctx.parallelize(range(2), 2).foreach(lambda x: time.sleep(60))
"""


@pytest.mark.timeout(60)
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_driver_killed_mid_job_leaves_no_workers_or_temp_dir(tmp_path, sig):
    """(tests/test_faults.py does this on both executors, with a task holding the GIL.)"""
    proc = _run_driver(tmp_path, HANGING_DRIVER)
    try:
        info = json.loads(proc.stdout.readline())
        assert all(alive(p) for p in info["pids"])
        time.sleep(0.5)                                 # the tasks are sleeping now
        proc.send_signal(sig)
        proc.wait(timeout=10)
    finally:
        proc.kill()                                     # if the test failed: no leftovers
    assert wait_until(lambda: not any(alive(p) for p in info["pids"]), 5), "orphan workers"
    if sig == signal.SIGKILL:                           # no code ran: the next Context cleans
        minimr.Context(executor="memory", workers=1).stop()
    assert wait_until(lambda: not os.path.exists(info["tmpdir"]), 5), "temp dir left behind"


@pytest.mark.timeout(30)
def test_bad_options_are_refused_before_any_worker_starts():
    with pytest.raises(MinimrError, match="cache_bytes"):
        minimr.Context(executor="memory", workers=1, cache_bytes=-5)
    with pytest.raises(MinimrError, match="unknown options.*cache_size"):
        minimr.Context(executor="memory", workers=1, cache_size=10)
    with pytest.raises(MinimrError, match="locality_wait"):
        minimr.Context(executor="memory", workers=1, locality_wait=-1)


@pytest.mark.timeout(60)
def test_sigterm_ends_a_driver_even_if_it_catches_everything(tmp_path):
    proc = _run_driver(tmp_path, HANGING_DRIVER.replace(
        "    ctx.parallelize(range(2), 2).foreach(lambda x: time.sleep(60))",
        "    try:\n"
        "        ctx.parallelize(range(2), 2).foreach(lambda x: time.sleep(60))\n"
        "    except BaseException:       # a test runner does this\n"
        "        time.sleep(60)"))
    try:
        info = json.loads(proc.stdout.readline())
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == -signal.SIGTERM
    finally:
        proc.kill()
    assert wait_until(lambda: not any(alive(p) for p in info["pids"]), 5), "orphan workers"
    assert not os.path.exists(info["tmpdir"])
