"""Tasks: the unit of work every executor runs, and what a task sees while it runs.

A job is cut into stages (plan.py); a stage is a set of tasks, one per partition::

    Task(stage 1, partition 3, attempt 0)
      node      the stage's last dataset; computing its partition pulls the narrow
                lineage above it (a file split, a cached block, or a shuffle read)
      shuffle   set on a map task: bucket the records for this ShuffledRDD and write them
      func      set on a result task: iterator -> value (the action's per-partition part)

    run_task(task, env) ──► TaskResult(value, accumulator updates, metrics)
                        └─► TaskFailure(exception, remote traceback)    errors are data

`env` is what the executor lends the task: where cached blocks, shuffle blocks and
broadcast values live. It is the executors' one small interface on the worker side:

    env.cache_get(rdd_id, split) -> list | None     env.cache_put(rdd_id, split, records)
    env.shuffle_write(shuffle_id, map_id, buckets)  env.shuffle_read(shuffle_id, reduce_id, num_maps)
    env.broadcast_value(bid)

Two optional hooks let an env stream instead of holding a partition in lists (the disk
executor sorts, spills and merges through files): ``env.shuffle_write_stream(shuffled,
map_id, records)`` replaces bucketize + shuffle_write, and ``env.shuffle_merge(shuffled,
reduce_id)`` (plan.Shuffled.compute) replaces shuffle_read + merge_fetched.

Broadcast variables and accumulators are here too, because what they do *inside* a
task is the interesting part: a broadcast pickles as its id and is looked up in the
env; an accumulator's updates are collected per task attempt and sent back with the
result, so the driver counts only successful attempts.
"""

import io
import threading
import time
import traceback
import types
from collections import ChainMap
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import cloudpickle

from .errors import FetchFailed
from .shuffle import bucketize

_current = threading.local()     # .env and .task while a task runs in this thread


@dataclass
class Task:
    stage_id: int
    partition: int
    attempt: int
    node: Any                              # plan.Node: the stage's last dataset
    shuffle: Any = None                    # plan.Shuffled: this is a map task for it
    func: Optional[Callable] = None        # result task: iterator -> value
    num_attempts: int = 1                  # maxFailures, for messages

    def __repr__(self):
        return f"<Task: {self.describe()}>"

    def describe(self):
        """ "map task (reduceByKey) in stage 2, partition 1, attempt 4 of 4" """
        kind = (f"map task ({self.shuffle.op})" if self.shuffle is not None
                else f"result task ({self.node.op})")
        return (f"{kind} in stage {self.stage_id}, partition {self.partition}, "
                f"attempt {self.attempt + 1} of {self.num_attempts}")


@dataclass
class TaskResult:
    value: Any
    accumulators: dict = field(default_factory=dict)   # accumulator id -> this attempt's sum
    metrics: dict = field(default_factory=dict)        # "seconds", "records_in", ...


@dataclass
class TaskFailure:
    exception: BaseException | None       # None when it could not be pickled back
    traceback: str
    fetch_failed: FetchFailed | None = None
    worker_lost: bool = False

    def __repr__(self):
        return f"<TaskFailure {type(self.exception).__name__}: {self.exception}>"


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


def current_env():
    return getattr(_current, "env", None)


def run_task(task: Task, env) -> "TaskResult | TaskFailure":
    """Run one task attempt in this process. Never raises for a user error: the error
    is returned, with its traceback formatted here, for the driver to raise."""
    _current.env, _current.task, _current.accumulators = env, task, {}
    _current.metrics = metrics = {}
    start = time.perf_counter()
    try:
        records = task.node.iterator(task.partition, env)
        if task.shuffle is not None:
            sh = task.shuffle
            stream = getattr(env, "shuffle_write_stream", None)
            if stream is not None:    # optional hook: the env sorts and spills itself (disk)
                value = stream(sh, task.partition, records)
            else:
                buckets = bucketize(records, sh.partitioner, sh.num_partitions,
                                    sh.aggregator, sh.map_side_combine)
                t = time.perf_counter()
                value = env.shuffle_write(sh.shuffle_id, task.partition, buckets)
                add_metric("shuffle_write_seconds", time.perf_counter() - t)
        else:
            value = task.func(records)
        updates = {aid: acc._value for aid, acc in _current.accumulators.items()}
        metrics["task_seconds"] = time.perf_counter() - start
        return TaskResult(value, updates, metrics)
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
    into ctx.jobs). Outside a task it does nothing. Names in use: task_seconds,
    cache_read_seconds, cache_write_seconds, shuffle_write_seconds, plus the
    executors' own (documented in their modules)."""
    metrics = getattr(_current, "metrics", None)
    if metrics is not None:
        metrics[key] = metrics.get(key, 0) + amount


# ---------------------------------------------------------------- pickling tasks

def dumps(obj) -> bytes:
    """cloudpickle, protocol 5, but keeping each function's source file name.

    cloudpickle 3 renames the file of every function it pickles by value to
    "<dynamic-code>" (for deterministic bytes). A learner then sees tracebacks without
    source lines and pdb cannot set a breakpoint by file and line. minimr keeps the
    real name; nothing else about the pickle changes. (A reader may skip this.)"""
    buf = io.BytesIO()
    _KeepFilenamePickler(buf, protocol=5).dump(obj)
    return buf.getvalue()


def _code_reduce_keep_filename(code):
    rebuild, args = cloudpickle.cloudpickle._code_reduce(code)
    args = list(args)
    args[args.index("<dynamic-code>")] = code.co_filename
    return rebuild, tuple(args)


class _KeepFilenamePickler(cloudpickle.CloudPickler):
    dispatch_table = ChainMap({types.CodeType: _code_reduce_keep_filename},
                              cloudpickle.CloudPickler.dispatch_table)


# ---------------------------------------------------------------- shared variables

class Broadcast:
    """A read-only value shipped to each worker once, not inside every task.

    Pickling a Broadcast writes only its id (and records that the task needs it, so a
    process executor can send the value ahead). Inside a task ``.value`` is looked up
    in the executor's env.
    """

    _collector = threading.local()   # .ids: set while the driver pickles a task

    def __init__(self, bid: int, value=None, registry=None):
        self.id = bid
        self._value = value
        self._registry = registry        # the driver's {id: value}; None in a task

    @property
    def value(self):
        if self._registry is not None:
            if self.id not in self._registry:
                raise ValueError(f"broadcast {self.id} was used after it was destroyed")
            return self._registry[self.id]
        env = current_env()
        if env is None:
            raise RuntimeError(f"broadcast {self.id}: value is only available in the driver "
                               "or inside a task")
        return env.broadcast_value(self.id)

    def unpersist(self, blocking=False):
        pass      # values are dropped from workers when destroyed or the Context stops

    def destroy(self, blocking=False):
        if self._registry is not None:
            self._registry.pop(self.id, None)

    def __reduce__(self):
        ids = getattr(Broadcast._collector, "ids", None)
        if ids is not None:
            ids.add(self.id)
        return (Broadcast, (self.id,))

    def __repr__(self):
        return f"<Broadcast {self.id}>"


class AccumulatorParam:
    """How to add two values and what zero is (PySpark's AccumulatorParam)."""

    def zero(self, value):
        raise NotImplementedError

    def addInPlace(self, value1, value2):
        raise NotImplementedError


class AddingAccumulatorParam(AccumulatorParam):
    def __init__(self, zero_value):
        self.zero_value = zero_value

    def zero(self, value):
        return self.zero_value

    def addInPlace(self, value1, value2):
        value1 += value2
        return value1


class Accumulator:
    """A write-only (in tasks) shared variable: tasks ``add``; the driver reads ``value``.

    Inside a task an add goes to that attempt's own copy, sent back with its result;
    the driver merges the copies of successful attempts only.
    """

    def __init__(self, aid: int, value, param: AccumulatorParam, in_driver=True):
        self.aid, self.param, self._in_driver = aid, param, in_driver
        self._value = value

    @property
    def value(self):
        if not self._in_driver:
            raise RuntimeError("Accumulator.value cannot be read inside a task")
        return self._value

    @value.setter
    def value(self, v):
        if not self._in_driver:
            raise RuntimeError("Accumulator.value cannot be set inside a task")
        self._value = v

    def add(self, term):
        local = getattr(_current, "accumulators", None)
        if local is None:                       # the driver, outside any task
            self._value = self.param.addInPlace(self._value, term)
            return
        acc = local.get(self.aid)
        if acc is None:                         # first add in this attempt: a zero copy
            acc = local[self.aid] = Accumulator(self.aid, self.param.zero(self._value),
                                                self.param, in_driver=False)
        acc._value = self.param.addInPlace(acc._value, term)

    def __iadd__(self, term):
        self.add(term)
        return self

    def _merge(self, update):
        self._value = self.param.addInPlace(self._value, update)

    def __reduce__(self):
        return (Accumulator, (self.aid, self.param.zero(self._value), self.param, False))

    def __repr__(self):
        return f"Accumulator<id={self.aid}, value={self._value}>"
