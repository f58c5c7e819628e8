"""Faults: never a silent wrong answer, never a hang, never an orphan.

A conformance suite in the spirit of Spark's FailureSuite and DAGSchedulerSuite, Hadoop's
task-timeout and speculative-execution tests and the MIT 6.5840 crash test. Each fault
is injected at a named point (minimr.faults) or from outside (signals, damaged files),
on every executor where it applies; each outcome is compared with the serial executor's
answer (itself checked against plain Python), and the counters say what was redone:
only what was lost.

Stage ids count from 0 in each Context: in `wordcount(ctx)` stage 0 is the map stage
(4 tasks) and stage 1 the result stage (2 reduce tasks). Timing: every wait has a
margin and a timeout; nothing here asserts speed.
"""

import fcntl
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from multiprocessing.connection import Client
from operator import add

import pytest

import minimr
from benchmarks.faults import alive, children, crashing, wait_until  # one copy of each
from minimr import MinimrError, StorageLevel, TaskContext, faults

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = 400
PLAIN = sorted(Counter(x % 7 for x in range(N)).items())      # the plain-Python answer
PROCESS = ["memory", "disk"]
ALL = ["serial"] + PROCESS

pytestmark = pytest.mark.timeout(120)


def wordcount(ctx):
    return ctx.parallelize(range(N), 4).map(lambda x: (x % 7, 1)).reduceByKey(add, 2)


@pytest.fixture(scope="module")
def serial_answer():
    with minimr.Context() as ctx:
        answer = sorted(wordcount(ctx).collect())
    assert answer == PLAIN
    return answer


@pytest.fixture
def make(tmp_path):
    """Contexts made by a test (disk ones under tmp_path), stopped after it."""
    made = []

    def make_ctx(executor, **kw):
        if executor != "serial":
            kw.setdefault("workers", 2)
        if executor == "disk":
            kw.setdefault("tmpdir", str(tmp_path))
        made.append(minimr.Context(executor=executor, **kw))
        return made[-1]
    yield make_ctx
    for c in made:
        c.stop()


def stages(ctx, kind):
    """The stage records of the last job whose kind starts with `kind` ("map", "result")."""
    return [s for s in ctx.jobs[-1]["stages"] if s["kind"].startswith(kind)]


def attempts(ctx, kind):
    return sum(s["attempts"] for s in stages(ctx, kind))










# ------------------------------------------------ a fault at a named point of a task

@pytest.mark.parametrize("executor", ALL)
@pytest.mark.parametrize("at", ["start", "before_write", "after_write"])
def test_an_exception_in_a_map_task_reruns_only_that_task(make, serial_answer, executor, at):
    ctx = make(executor, faults=[faults.fail(stage=0, partition=2, at=at)])
    assert sorted(wordcount(ctx).collect()) == serial_answer
    assert (attempts(ctx, "map"), attempts(ctx, "result")) == (5, 2)


@pytest.mark.parametrize("executor", ALL)
@pytest.mark.parametrize("at", ["fetch", "reduce"])
def test_an_exception_in_a_reduce_task_reruns_only_that_task(make, serial_answer, executor, at):
    ctx = make(executor, faults=[faults.fail(stage=1, partition=0, at=at)])
    assert sorted(wordcount(ctx).collect()) == serial_answer
    assert (attempts(ctx, "map"), attempts(ctx, "result")) == (4, 3)


@pytest.mark.parametrize("executor", PROCESS)
@pytest.mark.parametrize("stage, at", [(0, "start"), (0, "before_write"), (0, "after_write"),
                                       (1, "fetch"), (1, "reduce")])
def test_a_worker_killed_at_a_named_point_costs_no_attempt(make, serial_answer, executor, stage, at):
    """SIGKILL is a kill from outside: even with maxFailures=1 the job succeeds. Only the
    killed attempt and what its worker held (memory: its map outputs) are redone."""
    ctx = make(executor, maxFailures=1, faults=[faults.kill(stage=stage, partition=1, at=at)])
    assert sorted(wordcount(ctx).collect()) == serial_answer
    c = ctx.counters()
    assert c["WORKERS_LOST"] == 1
    assert c["NUM_KILLED_MAPS" if stage == 0 else "NUM_KILLED_REDUCES"] == 1
    redone = c.get("RECOMPUTED_PARTITIONS", 0)          # map outputs the dead worker held
    if executor == "disk":
        assert redone == 0                              # files outlive their worker
    [result] = stages(ctx, "result")
    assert attempts(ctx, "map") == 4 + (stage == 0) + redone
    assert result["attempts"] == 2 + (stage == 1) + result.get("failed_shuffle", 0)


@pytest.mark.parametrize("executor", PROCESS)
def test_the_note_says_which_failures_were_counted(make, executor):
    """Attempt 0 is killed from outside (not counted); attempts 1 and 2 raise: the job
    fails at the third attempt, the second counted failure of maxFailures=2."""
    ctx = make(executor, maxFailures=2, faults=[faults.kill(stage=0, partition=0)])

    def fails(x):
        raise KeyError("always")

    with pytest.raises(KeyError) as info:
        ctx.parallelize([1], 1).map(fails).collect()
    assert "partition 0, attempt 3 (2 of 2 counted) failed" in " ".join(info.value.__notes__)


def test_named_faults_replay_exactly(make, serial_answer):
    """The same faults, two Contexts: the same stages, attempts and counters."""
    plan = [faults.kill(stage=0, partition=1, at="after_write"), faults.fail(stage=1, partition=0),
            faults.damage("flip", stage=0, partition=3)]
    runs = []
    for _ in range(2):
        ctx = make("disk", faults=plan)
        assert sorted(wordcount(ctx).collect()) == serial_answer
        c = ctx.counters()
        runs.append(([(s["kind"], s["tasks"], s["attempts"]) for s in ctx.jobs[-1]["stages"]],
                     {k: c.get(k) for k in ("WORKERS_LOST", "NUM_KILLED_MAPS", "FAILED_SHUFFLE")}))
    assert runs[0] == runs[1]
    assert runs[0][1] == {"WORKERS_LOST": 1, "NUM_KILLED_MAPS": 1, "FAILED_SHUFFLE": 1}


@pytest.mark.parametrize("executor", PROCESS)
def test_a_worker_that_exits_by_the_tasks_doing_counts_as_a_failure(make, serial_answer, executor):
    ctx = make(executor, faults=[faults.crash(stage=0, partition=3)])
    assert sorted(wordcount(ctx).collect()) == serial_answer
    assert ctx.counters()["WORKERS_LOST"] == 1 and ctx.counters()["NUM_KILLED_MAPS"] == 0
    ctx = make(executor, maxFailures=1, faults=[faults.crash(stage=0, partition=3)])
    with pytest.raises(MinimrError, match=r"died while running the task: exit code 1") as info:
        wordcount(ctx).collect()
    assert "partition 3, attempt 1 of 1" in " ".join(info.value.__notes__)


@pytest.mark.parametrize("executor", PROCESS)
@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGABRT])
def test_a_task_that_kills_its_worker_with_a_crash_signal_is_counted(make, executor, sig):
    ctx = make(executor, maxFailures=2)

    def crash(x):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))      # no core file left behind
        os.kill(os.getpid(), sig)

    with pytest.raises(MinimrError, match=f"died while running the task: killed by signal {sig}"):
        ctx.parallelize([1, 2], 2).map(crash).collect()
    assert stages(ctx, "result")[0]["attempts"] == 2 * 2


@pytest.mark.parametrize("executor", PROCESS)
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_a_signal_from_another_process_is_not_counted(make, executor, sig):
    """maxFailures=1, and a busy worker gets `sig` from outside: the job still ends
    right. (Workers ignore SIGINT: Ctrl-C is the driver's to handle.)"""
    ctx = make(executor, maxFailures=1)

    def slow(x):
        time.sleep(0.3)
        return x * 2

    victim = ctx.status()["workers"][0]["pid"]
    killer = threading.Timer(0.15, os.kill, (victim, sig))
    killer.start()
    try:
        assert ctx.parallelize(range(8), 4).map(slow).collect() == [x * 2 for x in range(8)]
    finally:
        killer.join()
    assert alive(victim) == (sig == signal.SIGINT)


# ------------------------------------------------------------------ hangs: timeouts

@pytest.mark.parametrize("executor", ALL)
def test_a_task_that_never_returns_is_timed_out_and_retried(make, serial_answer, executor):
    ctx = make(executor, taskTimeout=3, faults=[faults.delay(600, stage=0, partition=1)])
    assert sorted(wordcount(ctx).collect()) == serial_answer
    assert attempts(ctx, "map") == 5
    if executor != "serial":
        assert ctx.counters()["WORKERS_LOST"] == 1         # its worker was killed, replaced


@pytest.mark.parametrize("executor", ALL)
def test_a_task_that_always_hangs_ends_the_job_with_a_clear_error(make, executor):
    ctx = make(executor, taskTimeout=0.5, maxFailures=2)
    with pytest.raises((MinimrError, TimeoutError), match="timed out after taskTimeout=0.5 s") as info:
        ctx.parallelize(range(4), 2).map(lambda x: time.sleep(600)).collect()
    assert "attempt 2 of 2" in " ".join(info.value.__notes__)
    assert ctx.parallelize(range(4), 2).sum() == 6                 # still usable


@pytest.mark.parametrize("executor", PROCESS)
def test_a_stopped_worker_is_lost_after_the_fetch_timeout(make, serial_answer, executor):
    """SIGSTOP while a reduce task fetches: the worker answers nothing; after
    fetchTimeout it is declared lost, killed, and its work is done elsewhere."""
    ctx = make(executor, fetchTimeout=1.5, faults=[faults.stop(stage=1, partition=0, at="fetch")])
    assert sorted(wordcount(ctx).collect()) == serial_answer
    assert ctx.counters()["WORKERS_LOST"] >= 1 and ctx.counters()["NUM_KILLED_REDUCES"] == 1


def test_a_stopped_worker_holding_map_outputs_does_not_block_its_reducers(make, serial_answer):
    """The memory executor's reducers fetch from their peers: a peer stopped between
    jobs gives a fetch failure after fetchTimeout, and the map outputs it held are made
    again on a live worker."""
    ctx = make("memory", fetchTimeout=1.5)
    counts = wordcount(ctx)
    assert sorted(counts.collect()) == serial_answer
    holder = next(w for w in ctx.status()["workers"] if w["shuffle_outputs"])
    os.kill(holder["pid"], signal.SIGSTOP)
    try:
        assert sorted(counts.collect()) == serial_answer
    finally:
        if alive(holder["pid"]):                            # (if the test failed)
            os.kill(holder["pid"], signal.SIGCONT)
    assert wait_until(lambda: not alive(holder["pid"]), 5)  # declared lost and killed
    redone = {(r["shuffle"], r["map"]) for r in ctx.status()["recomputed"]}
    assert redone == {tuple(k) for k in holder["shuffle_outputs"]}


# --------------------------------------------------------- speculative execution

@pytest.mark.parametrize("executor", PROCESS)
def test_a_straggler_gets_a_backup_copy_that_wins(make, serial_answer, executor):
    """Spark's rule: once speculationQuantile of the tasks are done, a task running
    longer than max(multiplier x median, speculationMinTaskRuntime) gets a copy; the
    first to finish wins, the loser is cancelled (its worker lives on: SIGUSR1) and its
    accumulator updates are dropped."""
    ctx = make(executor, workers=3, speculation=True, speculationMinTaskRuntime=2.0,
               faults=[faults.delay(600, stage=0, partition=1)])
    pids = {w["pid"] for w in ctx.status()["workers"]}
    seen = ctx.accumulator(0)

    def count(x):
        seen.add(1)
        return (x % 7, 1)

    assert sorted(ctx.parallelize(range(N), 4).map(count).reduceByKey(add, 2).collect()) == serial_answer
    assert seen.value == N                                   # the loser's updates: dropped
    c = ctx.counters()
    assert c["SPECULATIVE_TASKS"] == 1 and c["NUM_KILLED_MAPS"] == 1
    assert c["WORKERS_LOST"] == 0 and {w["pid"] for w in ctx.status()["workers"]} == pids


@pytest.mark.parametrize("executor", PROCESS)
def test_speculation_on_a_result_stage_that_writes_files(make, tmp_path, executor):
    """Two attempts of one output task run at once; the commit protocol (task commit by
    rename, job commit after every attempt has ended) leaves exactly one part file a task."""
    ctx = make(executor, workers=3, speculation=True, speculationMinTaskRuntime=2.0,
               faults=[faults.delay(600, stage=0, partition=2)])
    out = str(tmp_path / "out")
    ctx.parallelize(range(40), 4).map(lambda x: x * 3).saveAsTextFile(out)
    assert sorted(os.listdir(out)) == ["_SUCCESS"] + [f"part-{p:05d}" for p in range(4)]
    written = [int(line) for p in range(4) for line in open(f"{out}/part-{p:05d}").read().split()]
    assert written == [x * 3 for x in range(40)]
    c = ctx.counters()                  # (a job without a shuffle is map-only, as in Hadoop)
    assert c["SPECULATIVE_TASKS"] == 1 and c["NUM_KILLED_MAPS"] == 1


def test_a_copy_runs_as_the_next_attempt_number(make):
    ctx = make("memory", workers=3, speculation=True, speculationMinTaskRuntime=1.0)

    def who(split, it):
        if split == 0 and TaskContext.get().attemptNumber() == 0:
            time.sleep(600)
        yield split, TaskContext.get().attemptNumber()

    assert ctx.parallelize(range(4), 4).mapPartitionsWithIndex(who).collect() == \
        [(0, 1), (1, 0), (2, 0), (3, 0)]


# ------------------------------------------------------------- damaged files (disk)

@pytest.mark.parametrize("how", ["flip", "truncate", "delete"])
def test_a_damaged_map_output_reruns_only_that_map_task(make, serial_answer, how):
    ctx = make("disk", faults=[faults.damage(how, stage=0, partition=2)])
    assert sorted(wordcount(ctx).collect()) == serial_answer
    assert [s["tasks"] for s in stages(ctx, "map")] == [4, 1]        # map 2, once more
    assert ctx.counters()["FAILED_SHUFFLE"] >= 1


@pytest.mark.parametrize("executor", ["serial", "memory"])
def test_a_lost_map_output_in_memory_reruns_only_that_map_task(make, serial_answer, executor):
    ctx = make(executor, faults=[faults.damage("delete", stage=0, partition=2)])
    assert sorted(wordcount(ctx).collect()) == serial_answer
    assert [s["tasks"] for s in stages(ctx, "map")] == [4, 1]


@pytest.mark.parametrize("how", ["flip", "truncate", "delete"])
def test_a_damaged_spill_run_fails_the_map_attempt(make, serial_answer, how):
    ctx = make("disk", sort_buffer_bytes=600, faults=[faults.damage(how, stage=0, partition=0, at="spill")])
    assert sorted(wordcount(ctx).collect()) == serial_answer
    [m] = stages(ctx, "map")
    assert (m["tasks"], m["attempts"]) == (4, 5) and m["spills"] > 4


@pytest.mark.parametrize("how", ["flip", "truncate", "delete"])
def test_a_damaged_cache_file_is_dropped_and_only_its_partition_recomputed(make, tmp_path, how):
    ctx = make("disk")
    log = tmp_path / "computed"

    def logged(x):
        with open(log, "a") as f:
            f.write(f"{x}\n")
        return x * x

    squares = ctx.parallelize(range(5000), 4).map(logged).persist(StorageLevel.DISK_ONLY)
    assert squares.count() == 5000
    faults.damage_file(faults.cache_file(ctx, squares, 1), how)
    assert squares.sum() == sum(x * x for x in range(5000))          # not 2048 rows, no error
    assert len(log.read_text().split()) == 5000 + 1250               # partition 1, once more
    if how != "delete":                                              # (deleted: a plain miss)
        c = ctx.counters()
        assert c["CACHE_FILES_DAMAGED"] == 1 and c["RECOMPUTED_PARTITIONS"] == 1
    assert squares.count() == 5000 and len(log.read_text().split()) == 6250   # rewritten


@pytest.mark.parametrize("executor", ["serial", "memory"])
def test_an_evicted_block_is_recomputed_alone(make, tmp_path, executor):
    ctx = make(executor)
    log = tmp_path / "computed"

    def logged(x):
        with open(log, "a") as f:
            f.write(f"{x}\n")
        return x + 1

    data = ctx.parallelize(range(40), 4).map(logged).cache()
    assert data.sum() == sum(range(1, 41))
    faults.evict(ctx, data, 2)
    assert data.sum() == sum(range(1, 41))
    assert sorted(int(x) for x in log.read_text().split()) == sorted(list(range(40)) + list(range(20, 30)))
    if executor == "memory":
        assert ctx.counters()["RECOMPUTED_PARTITIONS"] == 1


# ----------------------------------------------------------- losing workers

@pytest.mark.parametrize("executor", PROCESS)
def test_a_replacement_killed_while_it_starts_is_one_more_lost_worker(make, executor):
    ctx = make(executor, maxFailures=1)
    first = {w["pid"] for w in ctx.status()["workers"]}
    others = children()                   # every worker already there (other Contexts too)
    victims = []

    def kill_a_worker_then_its_replacement():
        time.sleep(0.3)
        os.kill(min(first), signal.SIGKILL)
        victims.append(min(first))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(victims) < 2:
            for pid in children() - others:
                os.kill(pid, signal.SIGKILL)               # before its handshake
                victims.append(pid)
                break

    def slow(x):
        time.sleep(0.1)
        return -x

    killer = threading.Thread(target=kill_a_worker_then_its_replacement)
    killer.start()
    try:
        assert ctx.parallelize(range(24), 8).map(slow).collect() == [-x for x in range(24)]
    finally:
        killer.join()
    assert len(victims) == 2 and ctx.counters()["WORKERS_LOST"] >= 2
    assert ctx.parallelize(range(10), 5).sum() == 45                   # still usable
    assert len(ctx.status()["workers"]) == 2 and not set(victims) & {w["pid"] for w in ctx.status()["workers"]}


@pytest.mark.parametrize("executor", PROCESS)
def test_an_idle_worker_killed_between_jobs_costs_the_next_job_nothing(make, serial_answer, executor):
    """Noticed before the next stage (its exit status, or EOF on its socket) and replaced:
    no attempt is sent to it. (A kill that races with the start of a job costs at most
    an attempt that is not counted against maxFailures.)"""
    ctx = make(executor, maxFailures=1)
    assert sorted(wordcount(ctx).collect()) == serial_answer
    victim = ctx._executor.workers[1]
    os.kill(victim.pid, signal.SIGKILL)
    assert wait_until(lambda: victim.conn.poll(), 5)       # dead, as the driver can see
    assert ctx.parallelize(range(10), 4).map(lambda x: x * 2).sum() == 90
    assert attempts(ctx, "result") == 4 and ctx.counters()["NUM_KILLED_MAPS"] == 0
    assert ctx.counters()["WORKERS_LOST"] == 1 and not alive(victim.pid)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("executor", ["disk"])
def test_workers_dying_faster_than_they_work_end_the_job(make, executor):
    """(test_memory.py checks the memory executor.)"""
    ctx = make(executor, workers=1)
    with pytest.raises(MinimrError, match="11 worker processes lost in this stage, more than the 10"):
        ctx.parallelize([1], 1).map(lambda x: os.kill(os.getpid(), signal.SIGKILL)).collect()
    assert ctx.parallelize(range(3), 1).collect() == [0, 1, 2]


@pytest.mark.parametrize("executor", PROCESS)
def test_ctrl_c_leaves_a_usable_context(make, executor):
    ctx = make(executor)

    def interrupt_when_running():
        time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGINT)
    threading.Thread(target=interrupt_when_running, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        ctx.parallelize(range(4), 2).map(lambda x: time.sleep(10) or x).collect()
    assert ctx.parallelize(range(4), 2).map(lambda x: x + 1).collect() == [1, 2, 3, 4]


# --------------------------------------------- the MIT 6.5840 crash test, and chaos

@pytest.mark.timeout(300)
@pytest.mark.parametrize("executor", PROCESS)
def test_the_crash_test(make, executor):
    """(python -m benchmarks.faults runs it with 8 maps, 4 reduces and sleeps up to 6 s.)"""
    ctx = make(executor, maxFailures=50, taskTimeout=1.5)
    words = [f"w{i % 13}" for i in range(600)]
    got = (ctx.parallelize(words, 4).mapPartitionsWithIndex(crashing(3.0))
           .map(lambda w: (w, 1)).reduceByKey(add, 2).mapPartitionsWithIndex(crashing(3.0)))
    assert sorted(got.collect()) == sorted(Counter(words).items())
    assert ctx.counters()["WORKERS_LOST"] > 0


def chaos_job(ctx, seconds=0.15):
    def slow(split, it):
        time.sleep(seconds)
        return it
    return (ctx.parallelize(range(N), 8).mapPartitionsWithIndex(slow).map(lambda x: (x % 7, 1))
            .reduceByKey(add, 4).mapPartitionsWithIndex(slow))


@pytest.mark.timeout(180)
@pytest.mark.parametrize("executor", PROCESS)
@pytest.mark.parametrize("seed", [1, 2])
def test_chaos_kills_busy_workers_and_the_answer_is_still_right(make, serial_answer, executor, seed):
    """(python -m benchmarks.faults runs 20 seeds of the full-size job.)"""
    ctx = make(executor)
    with faults.chaos(ctx, seed=seed, every=0.25, until=1.0) as kills:
        got = sorted(chaos_job(ctx).collect())
    assert got == serial_answer
    assert kills and all(t in (0.25, 0.5, 0.75, 1.0) for t, _, _ in kills)   # the seed's times
    assert ctx.counters()["WORKERS_LOST"] >= 1       # (a kill as the job ends: seen next job)


# -------------------------------------------------------- no orphans, no leftovers

GIL_DRIVER = """
    import json, sys, time, minimr
    kw = {"tmpdir": sys.argv[2]} if sys.argv[1] == "disk" else {}
    ctx = minimr.Context(executor=sys.argv[1], workers=2, **kw)
    print(json.dumps({"pids": [w["pid"] for w in ctx.status()["workers"]],
                      "dir": ctx._executor.dir}), flush=True)
    ctx.parallelize(range(2), 2).foreach(lambda x: sum(range(3 * 10**9)))   # the GIL, held
"""


@pytest.mark.timeout(90)
@pytest.mark.parametrize("executor", PROCESS)
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_the_driver_dies_mid_job_and_nothing_is_left(tmp_path, executor, sig):
    """Workers die with their driver within 5 s, even while a task holds the GIL in one
    long C call; the directory goes with a driver that could clean up, and with the next
    Context to start otherwise (SIGKILL: no code of the driver runs)."""
    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent(GIL_DRIVER))
    proc = subprocess.Popen([sys.executable, str(script), executor, str(tmp_path)],
                            stdout=subprocess.PIPE, env=dict(os.environ, PYTHONPATH=ROOT))
    try:
        info = json.loads(proc.stdout.readline())
        time.sleep(0.5)                                     # the tasks are in sum() now
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.stdout.close()
    assert wait_until(lambda: not any(alive(p) for p in info["pids"]), 5), "orphan workers"
    if sig == signal.SIGKILL:
        assert os.path.isdir(info["dir"])
        kw = {"tmpdir": str(tmp_path)} if executor == "disk" else {}
        minimr.Context(executor=executor, workers=1, **kw).stop()
    assert not os.path.exists(info["dir"]), "temp dir left behind"


def test_a_new_context_removes_only_directories_whose_driver_is_gone(tmp_path):
    dead = tempfile.mkdtemp(prefix="minimr-disk-", dir=tmp_path)
    open(os.path.join(dead, "lock"), "w").close()           # nobody holds its flock
    live = tempfile.mkdtemp(prefix="minimr-disk-", dir=tmp_path)
    lock = open(os.path.join(live, "lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)                        # a live driver holds it
    kept = tempfile.mkdtemp(prefix="minimr-disk-", dir=tmp_path)   # no lock: keep_files
    other = tempfile.mkdtemp(prefix="other-", dir=tmp_path)
    open(os.path.join(other, "lock"), "w").close()
    try:
        with minimr.Context(executor="disk", workers=1, tmpdir=str(tmp_path)) as ctx:
            assert not os.path.exists(dead)
            assert all(os.path.isdir(d) for d in (live, kept, other))
            ours = ctx._executor.root
            assert os.path.exists(os.path.join(ours, "lock"))
        assert not os.path.exists(ours)
    finally:
        lock.close()


# ---------------------------------------------------------------------- security

def test_the_fetch_server_unpickles_nothing_and_serves_only_its_context(make, tmp_path):
    ctx = make("memory")
    assert ctx.parallelize(range(8), 4).map(lambda x: (x, x)).reduceByKey(add).count() == 8
    [sock, *_] = sorted(f for f in os.listdir(ctx._executor.dir) if f.endswith(".sock"))
    address = os.path.join(ctx._executor.dir, sock)
    assert oct(os.stat(address).st_mode & 0o777) == "0o600"
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    conn = Client(address, family="AF_UNIX")
    challenge = conn.recv_bytes()                           # it asks for proof first
    assert len(challenge) == 32
    conn.send(Evil())                                       # a pickle instead of the proof
    with pytest.raises((EOFError, OSError)):
        conn.recv_bytes()                                   # hung up on, nothing answered
    conn.close()
    with pytest.raises(Exception):                          # multiprocessing's authkey
        Client(address, family="AF_UNIX", authkey=b"a guess")    # handshake fails too
    time.sleep(0.3)
    assert not marker.exists()
    assert ctx.parallelize(range(8), 4).map(lambda x: (x % 2, x)).reduceByKey(add).collect()


# --------------------------------------------------------- settings, checked first

@pytest.mark.parametrize("kw, named", [
    ({"taskTimeout": 0}, "taskTimeout"), ({"taskTimeout": "3"}, "taskTimeout"),
    ({"taskTimeout": True}, "taskTimeout"), ({"fetchTimeout": -1}, "fetchTimeout"),
    ({"fetchTimeout": None}, "fetchTimeout"), ({"speculation": "yes"}, "speculation"),
    ({"speculationMultiplier": 0}, "speculationMultiplier"),
    ({"speculationQuantile": 1.5}, "speculationQuantile"),
    ({"speculationMinTaskRuntime": -0.1}, "speculationMinTaskRuntime"),
    ({"faults": [object()]}, "faults"), ({"faults": [faults.kill(at="later")]}, "unknown point"),
])
@pytest.mark.parametrize("executor", ALL)
def test_bad_settings_are_refused_before_any_worker_starts(executor, kw, named):
    before = children()
    with pytest.raises(MinimrError, match=named) as info:
        minimr.Context(executor=executor, workers=2, **kw)
    assert "\n" not in str(info.value)                     # one line
    assert children() <= before


@pytest.mark.parametrize("conf, named", [
    ({"spark.speculation": "maybe"}, "spark.speculation"),
    ({"spark.speculation.multiplier": "x"}, "spark.speculation.multiplier"),
    ({"spark.speculation.quantile": "2"}, "spark.speculation.quantile"),
    ({"spark.speculation.minTaskRuntime": "-1s"}, "spark.speculation.minTaskRuntime"),
])
def test_bad_speculation_settings_are_refused_naming_the_setting(conf, named):
    before = children()
    with pytest.raises(MinimrError, match=re.escape(named)) as info:
        minimr.Context(executor="memory", workers=2, conf=conf)
    assert "\n" not in str(info.value) and children() <= before


def test_speculation_reads_sparks_settings_and_a_keyword_wins():
    conf = {"spark.speculation": "true", "spark.speculation.multiplier": "2",
            "spark.speculation.quantile": "0.5", "spark.speculation.minTaskRuntime": "250ms"}
    with minimr.Context(executor="serial", conf=conf) as ctx:
        assert (ctx.speculation, ctx.speculationMultiplier, ctx.speculationQuantile,
                ctx.speculationMinTaskRuntime) == (True, 2.0, 0.5, 0.25)
    with minimr.Context(executor="serial", conf=dict(conf, **{
            "spark.speculation.minTaskRuntime": "2s"}), speculation=False) as ctx:
        assert ctx.speculation is False and ctx.speculationMinTaskRuntime == 2.0
    with minimr.Context(executor="serial", conf={"spark.speculation.minTaskRuntime": "40"}) as ctx:
        assert ctx.speculation is False and ctx.speculationMinTaskRuntime == 0.04   # ms


@pytest.mark.parametrize("fault, executor, problem", [
    (faults.kill(), "serial", "needs worker processes"),
    (faults.stop(), "serial", "needs worker processes"),
    (faults.damage("flip"), "memory", "only the disk executor"),
    (faults.damage("truncate", at="spill"), "serial", "only the disk executor"),
    (faults.damage("delete", at="start"), "disk", "after_write"),
])
def test_a_fault_that_cannot_apply_is_refused(fault, executor, problem):
    with pytest.raises(MinimrError, match=problem):
        minimr.Context(executor=executor, workers=1, faults=[fault])
