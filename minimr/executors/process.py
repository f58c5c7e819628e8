"""The driver's side of the memory and disk executors: N workers and one dispatch loop.

    run_tasks(tasks, stage) -> one outcome per task (scheduler.py calls it for each stage)
      pickle each stage once (pickling.dumps_task)
      dispatch loop: an idle worker gets a task            ──RunTask──► worker.py
        (pick: FIFO, or the memory executor's locality),
        or, all tasks started, a copy of a straggler (speculation)
        wait up to TICK for any Done                      ◄──Done─────
          EOF = the worker died: replace it (procs.Worker), worker_lost forgets what
          it held; killed from outside (SIGKILL, SIGTERM, SIGINT): not counted
          the first success of a task wins; its other attempt is cancelled (SIGUSR1)
        watch: past taskTimeout -> kill, failed; stopped past fetchTimeout -> lost;
          more than LOSSES_PER_SLOT losses a worker in the stage -> the job fails
      task_done: the executor notes what the worker now holds

Faults are handled here once for both executors (docs/faults.md); what is counted
(kills, losses, copies, recomputations) goes into the scheduler's stage record.
MemoryExecutor (executors/memory.py) and DiskExecutor (executors/disk.py) subclass
ProcessExecutor: they say which env their workers build and fill in the hooks.
"""

import contextlib
import dataclasses
import itertools
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import weakref
from multiprocessing.connection import wait

from .. import pickling, plan
from ..errors import MinimrError
from ..procs import RunTask, Worker, exit_text, forget, recv_obj, release, send_obj, watch_for_exit
from ..task import Task, TaskFailure, TaskResult

TICK = 0.1                 # seconds between the dispatch loop's looks at running attempts
CANCEL_GRACE = 2.0         # seconds a cancelled attempt has to stop before its worker is killed
LOSSES_PER_SLOT = 10       # worker losses a stage tolerates per worker slot
KILLED_FROM_OUTSIDE = (-signal.SIGKILL, -signal.SIGTERM, -signal.SIGINT)   # exit codes


@dataclasses.dataclass
class Attempt:
    """A running task attempt: which task (its index in the stage), since when."""
    i: int
    task: Task
    started: float
    cancelled: float | None = None      # when the driver cancelled it (another one won)


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
                      "sys_path": list(sys.path), "faults": ctx.faults}
        self.lost = {}            # block or map-output key -> why it was lost
        self.recomputed = []      # what was computed again after a loss (status())
        self._stage_keys = itertools.count()
        self._watched, self._garbage = set(), []     # shuffles whose nodes we watch (GC)
        self._stopped = False
        self.record, self.running, self.last_loss = {}, {}, None   # of the stage now running
        watch_for_exit(self)
        self.workers = [Worker(slot, self.hello) for slot in range(self.default_parallelism)]
        try:
            for w in self.workers:            # started all; now wait for all
                self._started(w.handshake())
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
    def run_tasks(self, tasks, record=None):
        """Run each task on some worker; one outcome per task, in order. Kills, losses
        and speculative copies are counted into `record` (the scheduler's stage dict)."""
        self.record, self.running = ({} if record is None else record), {}
        self._reap()
        self._clean_shuffles(tasks)
        stages = self._pickle_stages(tasks)                     # one blob per stage
        wants = [plan.cached_inputs(t.node, t.partition) for t in tasks]  # blocks each reads
        outcomes, todo = [None] * len(tasks), list(range(len(tasks)))
        try:
            self._dispatch(tasks, stages, wants, outcomes, todo)
        except BaseException:
            # Ctrl-C (or a bug) mid-stage: the running workers' replies would arrive
            # during the next job, so replace those workers rather than read them.
            for w in list(self.running):
                w.proc.kill()
                self._lose(w, "interrupted while running a task")
            raise
        finally:
            self.record, self.running = {}, {}
        return outcomes

    def _dispatch(self, tasks, stages, wants, outcomes, todo):
        """Until every task has an outcome: an idle worker gets the next task (or a
        speculative copy of a straggler); wait up to TICK for replies; then watch the
        running attempts (timeouts, stopped workers, cancelled losers)."""
        last_launch, durations, copied = time.monotonic(), [], set()
        while todo or self.running:
            self._refill()
            relax = time.monotonic() - last_launch >= self.locality_wait
            for w in self.workers:
                if w in self.running or not w.alive:
                    continue
                i = self.pick(w, todo, wants, relax) if todo else \
                    self._straggler(len(tasks), durations, copied)
                if i is None:
                    continue
                last_launch = time.monotonic()
                if i in todo:
                    todo.remove(i)
                    task = tasks[i]
                else:                                   # a copy: the next attempt number
                    task = dataclasses.replace(tasks[i], attempt=tasks[i].attempt + 1)
                    self._count("attempts")
                local = "PROCESS_LOCAL" if any(k in w.blocks for k in wants[i]) else "ANY"
                self.ctx.events.emit("TaskStart", **task.ids(), worker=w.slot,
                                     locality=local if wants[i] else "NO_PREF",
                                     speculative=task is not tasks[i])
                outcome = self._send(w, task, stages[i])
                if outcome is None:
                    self.running[w] = Attempt(i, task, time.monotonic())
                else:
                    outcomes[i] = outcome               # could not even be pickled
            for conn in wait([w.conn for w in self.running], TICK):
                w = next(w for w in self.running if w.conn is conn)
                made = len(self.recomputed)
                out = self._receive(w, self.running[w].task)
                self._finish(w, out, outcomes, durations, len(self.recomputed) > made)
            self._watch(outcomes, durations)

    def _finish(self, w, out, outcomes, durations, recomputed=False):
        """An attempt ended. The first success of a task wins and the task's other
        attempts are cancelled; a cancelled attempt's reply is dropped (its output and
        accumulator updates with it); a failure stands unless another attempt succeeds."""
        a = self.running.pop(w)
        best = outcomes[a.i]
        fields = out.fields(a.task) if a.cancelled is None else {"outcome": "killed"}
        self.ctx.events.emit("TaskEnd", **a.task.ids(), worker=w.slot,
                             recomputed=recomputed, **fields)
        if a.cancelled is not None or isinstance(best, TaskResult):
            return
        if isinstance(out, TaskResult):
            durations.append(time.monotonic() - a.started)
            outcomes[a.i] = out
            for other, b in self.running.items():
                if b.i == a.i and b.cancelled is None:
                    b.cancelled = time.monotonic()
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(other.pid, signal.SIGUSR1)     # worker.py: TaskKilled
        elif best is None or best.attempt < a.task.attempt:   # keep the latest attempt's
            out.attempt = a.task.attempt
            outcomes[a.i] = out

    def _straggler(self, n, durations, copied):
        """Spark's speculation rule: once speculationQuantile of the n tasks have
        succeeded, a task running longer than max(speculationMultiplier x their median
        time, speculationMinTaskRuntime) gets one copy (the index of the task, or None)."""
        c = self.ctx
        if not c.speculation or len(durations) < max(1, math.floor(c.speculationQuantile * n)):
            return None
        limit = max(c.speculationMultiplier * statistics.median(durations),
                    c.speculationMinTaskRuntime)
        now = time.monotonic()
        for a in self.running.values():
            if a.i not in copied and a.cancelled is None and now - a.started > limit:
                copied.add(a.i)
                return a.i
        return None

    def _watch(self, outcomes, durations):
        """An attempt past taskTimeout fails and its worker is killed (Hadoop's
        mapreduce.task.timeout); a worker stopped (SIGSTOP) for longer than fetchTimeout
        is lost; a cancelled attempt still running after CANCEL_GRACE loses its worker."""
        now, c = time.monotonic(), self.ctx
        for w in [w for w in self.workers if w.alive]:
            a = self.running.get(w)
            w.stopped_since = (w.stopped_since or now) if stopped(w.pid) else None
            if a and a.cancelled and now - a.cancelled > CANCEL_GRACE:
                self._kill(w, "its cancelled attempt did not stop")
                self._finish(w, None, outcomes, durations)
            elif a and c.taskTimeout and now - a.started > c.taskTimeout:
                self._kill(w, f"{a.task.describe()} timed out after taskTimeout={c.taskTimeout:g} s")
                self._finish(w, TaskFailure(MinimrError(self.last_loss), "", worker_lost=True),
                             outcomes, durations)
            elif w.stopped_since and now - w.stopped_since > c.fetchTimeout:
                self._kill(w, f"stopped (SIGSTOP) for longer than fetchTimeout={c.fetchTimeout:g} s")
                if a:
                    self._finish(w, TaskFailure(MinimrError(self.last_loss), "", worker_lost=True,
                                                counted=False), outcomes, durations)
        if self.record.get("workers_lost", 0) > LOSSES_PER_SLOT * len(self.workers):
            raise MinimrError(f"{self.record['workers_lost']} worker processes lost in this stage, "
                              f"more than the {LOSSES_PER_SLOT} per worker it tolerates; the "
                              f"last: {self.last_loss}")

    def _count(self, key):
        self.record[key] = self.record.get(key, 0) + 1

    def _send(self, w, task, stage):
        key, blob, bids = stage
        if isinstance(blob, BaseException):
            return TaskFailure(blob, "")
        registry = self.ctx._broadcasts
        msg = RunTask(key, None if key in w.stages else blob, task.partition, task.attempt,
                      self.locations(task),
                      {b: registry[b] for b in bids - w.broadcasts if b in registry})
        with contextlib.suppress(OSError, EOFError):   # dead: _receive sees the EOF
            send_obj(w.conn, msg)
        w.stages.add(key)
        w.broadcasts |= set(msg.broadcasts)
        return None

    def _receive(self, w, task):
        w.tasks_run += 1
        try:
            done = recv_obj(w.conn)
        except (EOFError, OSError):
            why = self._lose(w)
            return TaskFailure(MinimrError(f"worker {w.slot} (pid {w.pid}) died while running "
                                           f"the task: {why}"), "", worker_lost=True,   # by
                               counted=w.proc.returncode not in KILLED_FROM_OUTSIDE)  # its doing?
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
    def _kill(self, w, why):
        w.proc.kill()
        self._lose(w, why)

    def _lose(self, w, why=None):
        """Worker `w` is dead (or must die): forget what it held (the hook), keep its
        slot for a new one. Returns why it ended ("killed by signal 9 (Killed)")."""
        w.alive = False
        w.conn.close()
        try:
            w.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            w.proc.kill()
            w.proc.wait()
        why = why or exit_text(w.proc.returncode)
        self._note_loss(w.slot, w.pid, why)
        self.worker_lost(w, f"worker {w.slot} (pid {w.pid}) lost: {why}")
        return why

    def _note_loss(self, slot, pid, why):
        self._count("workers_lost")
        self.last_loss = f"worker {slot} (pid {pid}): {why}"
        self.ctx.events.emit("WorkerLost", worker=slot, pid=pid, reason=why)

    def _reap(self):
        """Between stages: notice workers that died while idle (killed between jobs)."""
        for w in self.workers:       # (a killed process with threads is waitable a little
            if w.alive and (w.proc.poll() is not None or w.conn.poll()):   # after its EOF)
                self._lose(w)
        self._refill()

    def _refill(self):
        """Start a fresh process in every dead worker's slot. One that dies while it
        starts is a lost worker like any other: the slot is tried again next time."""
        for slot, w in enumerate(self.workers):
            if not w.alive and not self._stopped:
                try:
                    self.workers[slot] = self._started(Worker(slot, self.hello).handshake())
                except (OSError, MinimrError) as exc:
                    self._note_loss(slot, None, f"died while starting: {exc}")

    def _started(self, w):
        self.ctx.events.emit("WorkerStarted", worker=w.slot, pid=w.pid)
        return w

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
                with contextlib.suppress(OSError):       # dead: the next stage notices
                    send_obj(w.conn, message)

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


def stopped(pid):
    """Is the process stopped (SIGSTOP: state T in /proc)?"""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "T"
    except OSError:
        return False


def unpicklable(task, exc):
    """The message for a task that cannot be pickled, naming the culprit if it can."""
    culprit = pickling.find_unpicklable([task.func, getattr(task.shuffle, "aggregator", None)]
                                        + plan.narrow_ancestors(task.node))
    return (f"stage {task.stage_id} cannot be pickled to send to a worker "
            f"({type(exc).__name__}: {exc}){': ' + culprit if culprit else ''}. Functions "
            "must not capture open files, locks, sockets, generators...")
