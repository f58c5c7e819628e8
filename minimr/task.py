"""Tasks: the unit of work every executor runs, and what a task sees while it runs.

A job is cut into stages (plan.py); a stage is a set of tasks, one per partition::

    Task(stage 1, partition 3, attempt 0)
      node      the stage's last dataset; computing its partition pulls the narrow
                lineage above it (a file split, a cached block, or a shuffle read)
      shuffle   set on a map task: write the records to this ShuffledRDD's map output
      func      set on a result task: iterator -> value (the action's per-partition part)

    run_task(task, env) ──► TaskResult(value, accumulator updates, metrics)
                        └─► TaskFailure(exception, remote traceback)    errors are data

`env` is what the executor lends the task: where cached blocks, shuffle blocks and
broadcast values live. Every executor's env offers the same five operations:

    env.cache_get(rdd_id, split) -> list | None      env.cache_put(rdd_id, split, records, level)
    env.shuffle_write(shuffled, map_id, records)     -> (records, bytes) per reduce partition
    env.shuffle_read(shuffled, reduce_id)            -> the merged records of that partition
    env.broadcast_value(bid)

run_task is called by the serial executor in the driver's process and by worker.py's
loop in a worker process; scheduler.py makes the Tasks and raises their failures.
"""

import bdb
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from . import pickling
from .errors import FetchFailed

_current = threading.local()     # .env, .task, .accumulators, .metrics while a task runs


@dataclass
class Task:
    stage_id: int
    partition: int
    attempt: int
    node: Any                              # plan.Node: the stage's last dataset
    shuffle: Any = None                    # plan.Shuffled: this is a map task for it
    func: Optional[Callable] = None        # result task: iterator -> value
    num_attempts: int = 1                  # maxFailures, for messages
    failures: int = 0                      # earlier attempts' failures counted against it

    def __repr__(self):
        return f"<Task: {self.describe()}>"

    def ids(self):
        """The fields that name this attempt in its events."""
        return {"stage": self.stage_id, "partition": self.partition, "attempt": self.attempt}

    def describe(self):
        """ "map task (reduceByKey) in stage 2, partition 1, attempt 4 of 4" """
        kind = (f"map task ({self.shuffle.op})" if self.shuffle is not None
                else f"result task ({self.node.op})")
        tries = f"{self.attempt + 1} of {self.num_attempts}"
        if self.attempt != self.failures:    # some were not counted (lost workers, copies)
            tries = f"{self.attempt + 1} ({self.failures + 1} of {self.num_attempts} counted)"
        return f"{kind} in stage {self.stage_id}, partition {self.partition}, attempt {tries}"


@dataclass
class TaskResult:
    value: Any
    accumulators: dict = field(default_factory=dict)   # accumulator id -> this attempt's sum
    metrics: dict = field(default_factory=dict)        # "task_seconds", "input_records", ...

    def fields(self, task):                            # for its TaskEnd event
        buckets = {"buckets": self.value} if task.shuffle is not None else {}
        return {"outcome": "success", **self.metrics, **buckets}


@dataclass
class TaskFailure:
    exception: BaseException
    traceback: str
    fetch_failed: FetchFailed | None = None
    worker_lost: bool = False
    counted: bool = True          # against maxFailures: not if its worker was killed from outside
    attempt: int | None = None    # which attempt failed (set by the process executors)

    def __repr__(self):
        return f"<TaskFailure {type(self.exception).__name__}: {self.exception}>"

    def fields(self, task):                            # for its TaskEnd event
        outcome = "killed" if not self.counted else "lost" if self.worker_lost else "failed"
        return {"outcome": outcome,
                "error": f"{type(self.exception).__name__}: {self.exception}"[:300]}


class TaskContext:
    """What user code may ask about the task running it (PySpark's TaskContext.get())."""

    def __init__(self, task):
        self._task = task

    @classmethod
    def get(cls):
        task = getattr(_current, "task", None)
        return None if task is None else cls(task)

    def stageId(self):
        return self._task.stage_id

    def partitionId(self):
        return self._task.partition

    def attemptNumber(self):
        return self._task.attempt


def run_task(task: Task, env) -> "TaskResult | TaskFailure":
    """Run one task attempt in this process. Never raises for a user error: the error
    is returned, with its traceback formatted here, for the driver to raise."""
    _current.env, _current.task, _current.accumulators = env, task, {}
    _current.metrics = metrics = {}
    start = time.perf_counter()
    try:
        at("start")
        records = task.node.iterator(task.partition, env)
        if task.shuffle is not None:       # the env counts the records it writes
            at("before_write")
            value = env.shuffle_write(task.shuffle, task.partition, records)
            at("after_write")
        else:
            value = task.func(counted(records, "output_records"))
        del records                          # ends the record generators: counts flushed
        metrics["task_seconds"] = time.perf_counter() - start
        return TaskResult(value, {aid: acc._value for aid, acc in _current.accumulators.items()},
                          metrics)
    except bdb.BdbQuit:                    # `q` in pdb inside a task: end the job now
        raise
    except FetchFailed as ff:
        return TaskFailure(ff, traceback.format_exc(), fetch_failed=ff)
    except StopIteration as stop:          # from a user function: never "the data ended"
        err = RuntimeError("a user function raised StopIteration; minimr stops here rather "
                           "than lose rows silently")
        err.__cause__ = stop
        return TaskFailure(err, traceback.format_exc())
    except Exception as exc:
        return TaskFailure(exc, traceback.format_exc())
    finally:
        _current.env = _current.task = _current.accumulators = _current.metrics = None


def add_metric(key, amount):
    """Add to a counter or timer of the running task (summed per stage by the scheduler
    into ctx.jobs). Outside a task it does nothing."""
    metrics = getattr(_current, "metrics", None)
    if metrics is not None:
        metrics[key] = metrics.get(key, 0) + amount


def counted(records, *keys, timer=None):
    """Pass records through, adding how many passed to each metric in `keys` when they
    end, and the seconds spent pulling them to metric `timer` if given (reading a source)."""
    n, spent, clock, it = 0, 0.0, time.perf_counter, iter(records)
    try:
        if timer is None:                  # (a speed path: no clock, the loop in C)
            for n, x in enumerate(it, 1):
                yield x
        while timer:
            start = clock()
            x = next(it, _END)
            spent += clock() - start
            if x is _END:
                return
            n += 1
            yield x
    finally:
        for key in keys:
            add_metric(key, n)
        if timer:
            add_metric(timer, spent)


_END = object()


class Env:
    """What every executor's env shares: broadcast values, sent as pickled bytes and
    unpickled once, on first use (each env then adds the cache and the shuffle)."""

    address = None            # where peers fetch this env's map outputs (memory workers)
    faults = ()               # faults to inject at named points (faults.py)

    def __init__(self):
        self.broadcasts = {}      # bid -> pickled value, as the driver sent it
        self.values = {}          # bid -> the value, unpickled
        self.locations = {}       # set per task by the executor: where map outputs are

    def broadcast_value(self, bid):
        if bid not in self.values:       # (a destroyed one never reaches a task: shared.py)
            self.values[bid] = pickling.loads(self.broadcasts[bid])
        return self.values[bid]

    def after_task(self):
        """Called after each task: clean up (disk: scratch files), and return what the
        driver should know (memory: the blocks cached and evicted meanwhile)."""
        return None


def current_env():
    return getattr(_current, "env", None)


def current_task():
    return getattr(_current, "task", None)


def at(point, **where):
    """A named point in a running task ("start", "before_write", "after_write", "fetch",
    "reduce", "spill"): a fault planned there (Context(faults=...), faults.py) happens."""
    env = current_env()
    for fault in env.faults if env is not None else ():
        fault.maybe_fire(point, current_task(), env, where)


def task_accumulators():
    """The running attempt's own accumulator copies (None outside a task)."""
    return getattr(_current, "accumulators", None)
