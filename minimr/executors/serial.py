"""The serial executor: every task runs in the caller's process, one after another.

    driver ── run_tasks([t0, t1, ...]) ── for each task, in partition order:
                 cloudpickle round trip (what cannot travel to a worker fails here too)
                 run_task(task, env)   ◄── a breakpoint in your lambda stops *here*, with
                                           the scheduler, the task and the plan on the stack
    env:  cache   {(rdd_id, split): list}                  in this process, live objects
          shuffle {(shuffle_id, map_id): [bucket r, ...]}  in this process, each bucket pickled

It runs the very same Task objects as the process executors, so it is the reference
for their behaviour and the place to learn the engine with a debugger
(docs/walkthrough.md). What it leaves out: parallelism, and any real loss of data.
"""

import os
import pickle

from ..errors import FetchFailed, MinimrError
from ..task import dumps, run_task, TaskFailure


class SerialEnv:
    """Where a serial task's blocks live: plain dicts in this process."""

    def __init__(self, broadcasts):
        self.cache = {}            # (rdd_id, split) -> list of records
        self.shuffles = {}         # (shuffle_id, map_id) -> (R,) lists of (key, value)
        self.broadcasts = broadcasts       # the driver's {id: value}
        self.broadcast_copies = {}         # id -> this "worker's" unpickled copy

    def cache_get(self, rdd_id, split):
        return self.cache.get((rdd_id, split))

    def cache_put(self, rdd_id, split, records):
        self.cache[(rdd_id, split)] = records

    def shuffle_write(self, shuffle_id, map_id, buckets):
        # pickled, as a real shuffle block is: a reducer merging combiners in place must
        # not change what a later job re-reading this shuffle sees
        self.shuffles[(shuffle_id, map_id)] = [pickle.dumps(b, protocol=5) for b in buckets]
        return [len(b) for b in buckets]          # the "map status": records per bucket

    def shuffle_read(self, shuffle_id, reduce_id, num_maps):
        for m in range(num_maps):
            buckets = self.shuffles.get((shuffle_id, m))
            if buckets is None:
                raise FetchFailed(shuffle_id, m, "no map output")
            yield from pickle.loads(buckets[reduce_id])

    def broadcast_value(self, bid):
        # the task's own copy, made once, as a worker gets one: a change to it in a task
        # must not reach the driver's value (nor the driver's later changes the tasks)
        if bid not in self.broadcast_copies:
            if bid not in self.broadcasts:
                raise ValueError(f"broadcast {bid} was used after it was destroyed")
            self.broadcast_copies[bid] = pickle.loads(dumps(self.broadcasts[bid]))
        return self.broadcast_copies[bid]


class SerialExecutor:
    name = "serial"

    def __init__(self, ctx, serialize_tasks=True, **unused):
        if unused:
            raise MinimrError(f"serial executor: unknown options {sorted(unused)}")
        self.env = SerialEnv(ctx._broadcasts)
        self.serialize_tasks = serialize_tasks
        self.default_parallelism = ctx.workers or os.cpu_count() or 1

    def run_tasks(self, tasks):
        return [self._run_one(t) for t in tasks]

    def _run_one(self, task):
        if self.serialize_tasks:
            try:
                task = pickle.loads(dumps(task))
            except MinimrError:
                raise                     # e.g. an RDD inside a closure: not a task failure
            except Exception as exc:
                return TaskFailure(_unpicklable(task, exc), "")
        out = run_task(task, self.env)
        if self.serialize_tasks and not isinstance(out, TaskFailure):
            try:
                out.value = pickle.loads(pickle.dumps(out.value, protocol=5))
            except Exception as exc:
                return TaskFailure(MinimrError(f"the result of {task} cannot be pickled: "
                                               f"{exc}"), "")
        return out

    def missing_outputs(self, shuffle):
        return [m for m in range(shuffle.parent.num_partitions)
                if (shuffle.shuffle_id, m) not in self.env.shuffles]

    def unpersist(self, rdd_id):
        for key in [k for k in self.env.cache if k[0] == rdd_id]:
            del self.env.cache[key]

    def status(self):
        return {"workers": [{"pid": os.getpid(),
                             "blocks": sorted(self.env.cache),
                             "shuffle_outputs": sorted(self.env.shuffles)}]}

    def stop(self):
        self.env.cache.clear()
        self.env.shuffles.clear()


def _unpicklable(task, exc):
    return MinimrError(f"{task} cannot be pickled to send to a worker ({type(exc).__name__}: "
                       f"{exc}); a function it uses captures something that cannot travel "
                       "(an open file, a lock, a socket, a generator...)")
