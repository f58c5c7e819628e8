"""The driver's side of the memory and disk executors: N workers and one dispatch loop.

    run_tasks(tasks) -> one outcome per task (scheduler.py calls it for each stage)
      pickle each stage once (pickling.dumps_task)
      dispatch loop: an idle worker gets a task            ──RunTask──► worker.py
        (pick: FIFO, or the memory executor's locality)   ◄──Done─────
        wait for any Done; EOF = the worker died: replace it (procs.Worker),
        worker_lost forgets what it held
      task_done: the executor notes what the worker now holds

MemoryExecutor (executors/memory.py) and DiskExecutor (executors/disk.py) subclass
ProcessExecutor: they say which env their workers build and fill in the hooks.
"""

import itertools
import os
import shutil
import subprocess
import sys
import time
import weakref
from multiprocessing.connection import wait

from .. import pickling, plan
from ..errors import MinimrError
from ..procs import RunTask, Worker, exit_text, forget, recv_obj, release, send_obj, watch_for_exit
from ..task import TaskFailure


class ProcessExecutor:
    """The driver's side of a process executor: N workers and one dispatch loop.
    Subclasses say which env the workers build (env_class) and fill in the hooks
    (pick, locations, task_done, worker_lost, missing_outputs)."""

    sc = None                 # only the spark executor has a SparkContext
    env_class = None          # built in each worker from the hello (pickled by reference)
    locality_wait = 0.0       # seconds a task may wait for a busy worker (memory)
    keep_dir = False          # keep the directory after stop() (disk's keep_files)

    def __init__(self, ctx, workdir, env_options):
        self.ctx, self.dir = ctx, workdir
        self.default_parallelism = ctx.workers or os.cpu_count() or 1
        self.hello = {"env": self.env_class, "dir": workdir, "options": env_options,
                      "sys_path": list(sys.path)}
        self.lost = {}            # block or map-output key -> why it was lost
        self.recomputed = []      # what was computed again after a loss (status())
        self._stage_keys = itertools.count()
        self._watched, self._garbage = set(), []     # shuffles whose nodes we watch (GC)
        self._stopped = False
        watch_for_exit(self)
        self.workers = [Worker(slot, self.hello) for slot in range(self.default_parallelism)]
        try:
            for w in self.workers:            # started all; now wait for all
                w.handshake()
        except BaseException:
            self.stop()
            raise

    # -------------------------------------------------------------------- hooks
    def pick(self, w, todo, wants, relax):
        """The next task (an index in `todo`) for idle worker `w`, or None."""
        return todo[0]

    def locations(self, task):
        return {}

    def task_done(self, w, task, done):
        """A task attempt came back from `w`: note what it made (a map output, cached
        blocks), or forget a map output a reducer could not fetch."""

    def worker_lost(self, w, why):
        """`w` died: forget what it held."""

    def missing_outputs(self, shuffle):
        """The map partitions of `shuffle` whose output is not available."""

    def drop_shuffle(self, shuffle_id):
        """No dataset reads this shuffle any more: free its map outputs."""

    # ------------------------------------------------------------ running tasks
    def run_tasks(self, tasks):
        """Run each task on some worker; one outcome per task, in order."""
        if self._stopped:
            raise MinimrError("this Context has been stopped")
        self._reap()
        self._clean_shuffles(tasks)
        stages = self._pickle_stages(tasks)                     # one blob per stage
        wants = [plan.cached_inputs(t.node, t.partition) for t in tasks]  # blocks each reads
        outcomes, todo, running = [None] * len(tasks), list(range(len(tasks))), {}
        try:
            self._dispatch(tasks, stages, wants, outcomes, todo, running)
        except BaseException:
            # Ctrl-C (or a bug) mid-stage: the running workers' replies would arrive
            # during the next job, so replace those workers rather than read them.
            for w in list(running):
                w.proc.kill()
                self._lose(w, "interrupted while running a task")
            raise
        return outcomes

    def _dispatch(self, tasks, stages, wants, outcomes, todo, running):
        last_launch = time.monotonic()
        while todo or running:
            self._refill()
            relax = time.monotonic() - last_launch >= self.locality_wait
            for w in self.workers:
                if w not in running and w.alive and todo:
                    i = self.pick(w, todo, wants, relax)
                    if i is None:
                        continue
                    todo.remove(i)
                    last_launch = time.monotonic()
                    outcome = self._send(w, tasks[i], stages[i])
                    if outcome is None:
                        running[w] = i
                    else:
                        outcomes[i] = outcome           # could not even be pickled
            if not running:
                continue
            # tasks waiting for a busy worker while another idles: wake up when the
            # locality wait is over, even if no task finishes before
            idle = todo and len(running) < sum(w.alive for w in self.workers)
            timeout = max(0.0, last_launch + self.locality_wait - time.monotonic()) if idle else None
            for conn in wait([w.conn for w in running], timeout):
                w = next(w for w in running if w.conn is conn)
                i = running.pop(w)
                outcomes[i] = self._receive(w, tasks[i])

    def _send(self, w, task, stage):
        key, blob, bids = stage
        if isinstance(blob, BaseException):
            return TaskFailure(blob, "")
        registry = self.ctx._broadcasts
        msg = RunTask(key, None if key in w.stages else blob, task.partition, task.attempt,
                      self.locations(task),
                      {b: registry[b] for b in bids - w.broadcasts if b in registry})
        try:
            send_obj(w.conn, msg)
        except (OSError, EOFError):
            pass                      # dead: _receive sees the EOF and reports it
        w.stages.add(key)
        w.broadcasts |= set(msg.broadcasts)
        return None

    def _receive(self, w, task):
        w.tasks_run += 1
        try:
            done = recv_obj(w.conn)
        except (EOFError, OSError):
            try:
                why = exit_text(w.proc.wait(timeout=5))
            except subprocess.TimeoutExpired:
                why = "closed its socket"
            self._lose(w, why)
            return TaskFailure(MinimrError(f"worker {w.slot} (pid {w.pid}) died while running "
                                           f"the task: {why}"), "", worker_lost=True)
        except Exception as exc:      # e.g. the result's class does not import in the driver
            return TaskFailure(MinimrError(f"the result of {task.describe()} could not be "
                                           f"unpickled in the driver: {exc!r}"), "")
        self.task_done(w, task, done)
        return done.outcome

    def note_made(self, key, entry):
        """A block or map output was made: if it had been lost, that is a recomputation."""
        why = self.lost.pop(key, None)
        if why is not None:
            self.recomputed.append(dict(entry, reason=why))

    def _pickle_stages(self, tasks):
        """Pickle each distinct stage once (Spark broadcasts its "task binary"):
        index -> (stage key, blob or the pickling error, broadcast ids it uses)."""
        made, out = {}, []
        for t in tasks:
            ident = (id(t.node), id(t.shuffle), id(t.func), t.stage_id)
            if ident not in made:
                try:
                    blob, bids = pickling.dumps_task((t.node, t.shuffle, t.func, t.stage_id,
                                                      t.num_attempts))
                except MinimrError:
                    raise          # e.g. an RDD or the Context in a closure: say so now
                except Exception as exc:
                    blob, bids = MinimrError(unpicklable(t, exc)), set()
                made[ident] = (next(self._stage_keys), blob, bids)
            out.append(made[ident])
        return out

    # ------------------------------------------------------------ lost workers
    def _lose(self, w, why):
        """Worker `w` is dead: forget what it held (the hook), keep its slot for a new one."""
        w.alive = False
        w.conn.close()
        try:
            w.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            w.proc.kill()
            w.proc.wait()
        self.worker_lost(w, f"worker {w.slot} (pid {w.pid}) lost: {why}")

    def _reap(self):
        """Between stages: notice workers that died while idle (killed between jobs)."""
        for w in self.workers:
            if w.alive and w.proc.poll() is not None:
                self._lose(w, exit_text(w.proc.returncode))
        self._refill()

    def _refill(self):
        """Start a fresh process in every dead worker's slot."""
        for slot, w in enumerate(self.workers):
            if not w.alive and not self._stopped:
                self.workers[slot] = Worker(slot, self.hello).handshake()

    def _clean_shuffles(self, tasks):
        """Spark's ContextCleaner, for shuffles: once the program holds no dataset that
        reads a shuffle, its map outputs are dropped. A GC callback only notes the id
        (it may run at any moment, even while we write to a socket); the drop happens
        here, between stages."""
        for t in tasks:
            sh = t.shuffle
            if sh is not None and sh.shuffle_id not in self._watched:
                self._watched.add(sh.shuffle_id)
                weakref.finalize(sh, self._garbage.append, sh.shuffle_id)
        while self._garbage:
            shuffle_id = self._garbage.pop()
            for key in [k for k in self.lost if k[:2] == ("shuffle", shuffle_id)]:
                del self.lost[key]
            self.drop_shuffle(shuffle_id)

    def tell_workers(self, *message):
        """("unpersist", rdd_id), ("drop_shuffle", shuffle_id): a call on every live env."""
        for w in self.workers:
            if w.alive:
                try:
                    send_obj(w.conn, message)
                except OSError:
                    pass

    # ------------------------------------------------------------------ the end
    def unpersist(self, rdd_id):
        for w in self.workers:
            forget(w.blocks, rdd_id)
        forget(self.lost, rdd_id)

    def stop(self):
        """Ask every worker to exit, kill what is still there after 2 s, remove the dir."""
        if self._stopped:
            return
        self.tell_workers("stop")
        deadline = time.monotonic() + 2
        for w in self.workers:
            try:
                w.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def kill(self):
        """Kill every worker now (SIGTERM comes here directly) and remove the dir."""
        self._stopped = True
        for w in self.workers:
            w.proc.kill()
            w.proc.wait()
            w.conn.close()
            w.alive = False
        if not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        release(self.dir)


def unpicklable(task, exc):
    """The message for a task that cannot be pickled, naming the culprit if it can."""
    culprit = pickling.find_unpicklable([task.func, getattr(task.shuffle, "aggregator", None)]
                                        + plan.narrow_ancestors(task.node))
    return (f"stage {task.stage_id} cannot be pickled to send to a worker "
            f"({type(exc).__name__}: {exc}){': ' + culprit if culprit else ''}. Functions "
            "must not capture open files, locks, sockets, generators...")
