"""The serial executor: every task runs in the caller's process, one after another.

    driver ── run_tasks([t0, t1, ...]) ── for each task, in partition order:
                 pickle round trip (what cannot travel to a worker fails here too)
                 run_task(task, env)   ◄── a breakpoint in your lambda stops *here*, with
                                           the scheduler, the task and the plan on the stack
    env: a MemoryEnv (executors/memory.py), as in a memory worker, but in this process:
         cache {(rdd_id, split): list} live objects; map outputs {(shuffle, map): pickled buckets}

It runs the very same Task objects and the same env as the process executors, so it is
the reference for their behaviour and the place to learn the engine with a debugger
(docs/walkthrough.md). What it leaves out: parallelism, and any real loss of data (no
lost workers, fetch timeouts or speculative copies; taskTimeout is a SIGALRM, docs/faults.md).
make_executor (executors/__init__.py) makes it; the scheduler calls run_tasks.
"""

import contextlib
import os
import signal
import threading

from .. import pickling
from ..errors import MinimrError
from .process import unpicklable
from ..task import TaskFailure, run_task
from .memory import MemoryEnv


class SerialExecutor:
    name = "serial"
    sc = None                 # only the spark executor has a SparkContext

    def __init__(self, ctx, serialize_tasks=True, **unused):
        if unused:
            raise MinimrError(f"serial executor: unknown options {sorted(unused)}")
        self.ctx = ctx
        self.env = MemoryEnv()
        self.env.broadcasts = ctx._broadcasts    # the driver's snapshots, unpickled once here
        self.env.faults = ctx.faults
        self.serialize_tasks = serialize_tasks
        self.default_parallelism = ctx.workers or os.cpu_count() or 1

    def run_tasks(self, tasks, record=None):
        return [self._run_one(t) for t in tasks]

    def _run_one(self, task):
        out = self._run(task)
        self.ctx.events.emit("TaskEnd", **task.ids(), worker="driver", **out.fields(task))
        return out

    def _run(self, task):
        if self.serialize_tasks:
            try:
                task = pickling.loads(pickling.dumps_task(task)[0])
            except MinimrError:
                raise                     # e.g. an RDD inside a closure: not a task failure
            except Exception as exc:
                return TaskFailure(MinimrError(unpicklable(task, exc)), "")
        self.ctx.events.emit("TaskStart", **task.ids(), worker="driver",
                             locality="PROCESS_LOCAL", speculative=False)
        with self._timeout(task):
            out = run_task(task, self.env)
        self.env.after_task()
        if self.serialize_tasks and not isinstance(out, TaskFailure):
            try:
                out.value = pickling.loads(pickling.dumps(out.value))
            except Exception as exc:
                return TaskFailure(MinimrError(f"the result of {task} cannot be pickled: "
                                               f"{exc}"), "")
        return out

    @contextlib.contextmanager
    def _timeout(self, task):
        """taskTimeout in the caller's thread: SIGALRM raises TimeoutError inside the task
        (from the main thread only; a long C call ends before the error is raised)."""
        seconds = self.ctx.taskTimeout
        if seconds is None or threading.current_thread() is not threading.main_thread():
            yield
            return

        def expire(signum, frame):
            raise TimeoutError(f"{task.describe()} timed out after taskTimeout={seconds:g} s")
        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def missing_outputs(self, shuffle):
        return [m for m in range(shuffle.parent.num_partitions)
                if (shuffle.shuffle_id, m) not in self.env.map_outputs]

    def unpersist(self, rdd_id):
        self.env.unpersist(rdd_id)

    def status(self):
        return {"workers": [{"pid": os.getpid(), "blocks": sorted(self.env.store.blocks),
                             "shuffle_outputs": sorted(self.env.map_outputs)}]}

    def stop(self):
        self.env.store.blocks.clear()
        self.env.map_outputs.clear()
