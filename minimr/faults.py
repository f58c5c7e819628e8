"""Fault injection: make something go wrong at a named point, and watch minimr recover.

    ctx = Context(executor="disk", workers=2, faults=[
        kill(stage=0, partition=1),                          # SIGKILL the worker running map 1
        kill(stage=0, partition=2, at="after_write"),        # ... once map 2's output is written
        fail(stage=1, partition=0, at="reduce"),             # raise FaultInjected in a reduce
        delay(5.0, stage=0, partition=3),                    # a straggler
        stop(stage=1, partition=1, at="fetch"),              # SIGSTOP the worker
        damage("flip", stage=0, partition=0),                # a bit of map 0's output file
        damage("truncate", stage=0, partition=1, at="spill"),   # a spill run, before the merge
    ])
    with chaos(ctx, seed=3, every=0.5, until=4.0) as kills:     # kill a busy worker every 0.5 s
        ...
    evict(ctx, rdd, split)                                   # drop one cached block (memory)
    damage_file(cache_file(ctx, rdd, split), "flip")         # a DISK_ONLY partition file (disk)

A fault named by (stage, partition, attempt, at) fires in that task attempt at that point,
so a run replays exactly. Stage ids count from 0 in each Context, in the order the
scheduler makes stages (a job's map stages first; a stage skipped because its shuffle
exists gets no id). `attempt` defaults to 0: the retry runs clean and you watch the
recovery. Timed chaos replays its victims (worker slots) and its times given the seed,
not how tasks interleave. ctx.jobs and ctx.counters() then show what was redone.

The points, where the engine calls task.at(point):

    start          a task attempt begins, before it reads its input      (task.run_task)
    before_write   a map task, before it writes its shuffle output       (task.run_task)
    after_write    a map task, its output written (disk: committed)      (task.run_task)
    fetch          a reduce-side read, before it fetches map outputs     (the envs' shuffle_read)
    reduce         a reduce-side read, outputs fetched, before the merge (the envs' shuffle_read)
    spill          disk: a map task spilled more than once, before the merge (spill.map_side)

kill, crash and stop need worker processes (memory, disk): on serial they would hit the
driver. A damaged file is a disk executor's (memory keeps map outputs in RAM: `delete`
drops one there). This module is tooling for tests and learners: the engine knows only
task.at and Env.faults.
"""

import contextlib
import os
import random
import signal
import threading
import time
from dataclasses import dataclass

from .errors import MinimrError
from .procs import send_obj
from .spill import LEN

POINTS = ("start", "before_write", "after_write", "fetch", "reduce", "spill")
DAMAGES = ("flip", "truncate", "delete")


class FaultInjected(Exception):
    """Raised inside a task by a `fail` fault."""


@dataclass(frozen=True)
class Fault:
    action: str                   # kill | crash | stop | fail | delay | flip | truncate | delete
    stage: int | None = None      # None: any stage
    partition: int | None = None  # None: any partition
    attempt: int = 0
    at: str = "start"
    seconds: float = 0.0          # delay

    def maybe_fire(self, point, task, env, where):
        if (point, task.attempt) != (self.at, self.attempt) or \
                self.stage not in (None, task.stage_id) or self.partition not in (None, task.partition):
            return
        if self.action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)      # as if from outside: not counted
        elif self.action == "crash":
            os._exit(1)                               # the task's own doing: counted
        elif self.action == "stop":
            os.kill(os.getpid(), signal.SIGSTOP)
        elif self.action == "fail":
            raise FaultInjected(f"injected: {self}")
        elif self.action == "delay":
            time.sleep(self.seconds)
        elif point == "spill":
            damage_file(where["run"], self.action)
        elif hasattr(env, "root"):                    # disk: the committed map output
            from .executors.disk import map_output_dir
            damage_file(os.path.join(map_output_dir(env.root, task.shuffle.shuffle_id,
                                                    task.partition), "file.out"), self.action)
        else:                                         # memory, serial: map outputs in RAM
            del env.map_outputs[(task.shuffle.shuffle_id, task.partition)]


def kill(stage=None, partition=None, attempt=0, at="start"):
    """SIGKILL the worker running that attempt (a kill from outside)."""
    return Fault("kill", stage, partition, attempt, at)


def crash(stage=None, partition=None, attempt=0, at="start"):
    """The worker exits with status 1 (the task's own doing, like os._exit)."""
    return Fault("crash", stage, partition, attempt, at)


def stop(stage=None, partition=None, attempt=0, at="start"):
    """SIGSTOP the worker: it answers nothing until fetchTimeout declares it lost."""
    return Fault("stop", stage, partition, attempt, at)


def fail(stage=None, partition=None, attempt=0, at="start"):
    """Raise FaultInjected in the task (a user error)."""
    return Fault("fail", stage, partition, attempt, at)


def delay(seconds, stage=None, partition=None, attempt=0, at="start"):
    """Sleep `seconds` in the task: a straggler, or a hang (taskTimeout)."""
    return Fault("delay", stage, partition, attempt, at, seconds)


def damage(how, stage=None, partition=None, attempt=0, at="after_write"):
    """flip, truncate or delete the map output just written (at="after_write") or the
    first spill run before the merge (at="spill")."""
    return Fault(how, stage, partition, attempt, at)


def check_faults(faults, executor):
    """The faults as a tuple, or a MinimrError naming one that cannot apply."""
    faults = tuple(faults)
    for f in faults:
        if not isinstance(f, Fault):
            raise MinimrError(f"faults: {f!r} is not a Fault (make one with minimr.faults."
                              "kill, crash, stop, fail, delay or damage)")
        problem = (
            f.at not in POINTS and f"unknown point {f.at!r}, not one of {', '.join(POINTS)}"
            or executor == "spark" and "the spark executor runs Spark's own tasks"
            or f.action in ("kill", "crash", "stop") and executor == "serial"
            and "needs worker processes (memory, disk): on serial it would hit the driver"
            or f.action in DAMAGES and f.at not in ("after_write", "spill")
            and "damage happens at after_write (a map output) or spill (a spill run)"
            or f.action in DAMAGES and executor != "disk" and (f.at == "spill" or f.action != "delete")
            and "only the disk executor keeps shuffle data in files (delete works everywhere)")
        if problem:
            raise MinimrError(f"faults: {f}: {problem}")
    return faults


# ------------------------------------------------------------ from the driver

@contextlib.contextmanager
def chaos(ctx, seed, every=0.5, until=4.0, sig=signal.SIGKILL):
    """For `until` seconds, every `every` seconds, send `sig` to a busy worker: the one in
    a slot drawn from Random(seed) if it is running a task, else the next busy slot.
    Yields the list of kills made, (seconds, slot, pid)."""
    ex = ctx._executor
    rng = random.Random(seed)
    plan = [(every * (k + 1), rng.randrange(len(ex.workers))) for k in range(int(until / every))]
    kills, done = [], threading.Event()

    def run():
        start = time.monotonic()
        for t, slot in plan:
            if done.wait(max(0.0, start + t - time.monotonic())):
                return
            busy = {w.slot: w for w in list(ex.running) if w.pid not in [k[2] for k in kills]}
            n = len(ex.workers)
            victim = next((busy[s % n] for s in range(slot, slot + n) if s % n in busy), None)
            if victim is not None:
                try:
                    os.kill(victim.pid, sig)
                    kills.append((t, victim.slot, victim.pid))
                except ProcessLookupError:
                    pass
    thread = threading.Thread(target=run, daemon=True, name="minimr-chaos")
    thread.start()
    try:
        yield kills
    finally:
        done.set()
        thread.join()


def evict(ctx, rdd, split):
    """Drop the cached block (rdd, split) as the LRU would: the next task that needs it
    computes it again from lineage (memory, serial)."""
    ex, key = ctx._executor, (rdd.id(), split)
    if ex.name == "serial":
        ex.env.evict(*key)
    elif ex.name == "memory":
        for w in ex.workers:
            if w.blocks.pop(key, None) is not None:
                send_obj(w.conn, ("evict",) + key)
                ex.lost[key] = "evicted by faults.evict"
    else:
        raise MinimrError(f"evict: the {ex.name} executor keeps no blocks in memory")


def cache_file(ctx, rdd, split):
    """The file of a partition persisted with a disk level (disk executor)."""
    if ctx._executor.name != "disk":
        raise MinimrError("cache_file: only the disk executor keeps cached partitions in files")
    return os.path.join(ctx._executor.root, "cache", f"rdd-{rdd.id()}", f"part-{split:05d}")


def damage_file(path, how):
    """flip one bit half way; truncate at the record boundary nearest half way (what is
    left reads as shorter, well-formed data: the dangerous case); or delete the file."""
    if how == "delete":
        os.remove(path)
        return
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if how == "flip":
        data[len(data) // 2] ^= 0x10
    else:
        cut = 0
        while cut + LEN.size <= len(data) // 2:
            cut += LEN.size + LEN.unpack_from(data, cut)[0]
        data = data[:cut]
    with open(path, "wb") as f:
        f.write(data)
