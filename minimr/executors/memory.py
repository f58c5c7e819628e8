"""The memory executor (Spark-style): long-lived workers that keep partitions in RAM.

    Context(executor="memory", workers=N, cache_bytes=None, locality_wait=3.0, maxFailures=4)

    driver (this module)                           N worker processes (worker.py)
    ────────────────────                           ─────────────────────────────
    scheduler ─ run_tasks([t0, t1, ...])           ┌ worker 0 ─ block store {(rdd, split): list}
      dispatch loop:                               │            map outputs {(shuffle, map): buckets}
        idle worker? give it a task, preferring    │            fetch server on DIR/w0-<pid>.sock
        one whose cached input it holds ──RunTask──┤
        wait for any Done / EOF          ◄──Done───┤ worker 1 ─ ...
      metadata only:                               └ ...            ▲  reduce tasks fetch their
        blocks:      which worker holds (rdd, split)                 │  bucket from the peer that
        map outputs: which worker holds (shuffle, map)  ◄────────────┘  holds it (never the driver)

What stays where: a cached partition lives in one worker's RAM as live objects, and the
next task that reads it is sent to that worker (locality). A shuffle's map outputs stay
in the RAM of the workers that wrote them; the driver knows only *where* they are and
puts that into each reduce task, which fetches worker-to-worker over Unix sockets. So a
shuffle of hundreds of MB never passes through the driver.

Faults. A worker that dies (EOF on its socket) is replaced by a fresh process in the
same slot. The task it was running fails with worker_lost=True (an attempt, for the
scheduler's maxFailures); the blocks and map outputs it held are forgotten, so
missing_outputs() and cache misses make the scheduler recompute exactly those from
lineage. status()["recomputed"] lists them.

Left out compared with Spark: speculative tasks,
replicated storage levels (MEMORY_ONLY_2 keeps one copy), and spilling (every storage
level is MEMORY_ONLY: past cache_bytes a block is dropped, not written to disk; a
shuffle's map outputs must fit in the workers' RAM). Map outputs are dropped once the
program holds no dataset that reads them (Spark's ContextCleaner, _clean_shuffles).
"""

import atexit
import itertools
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from multiprocessing.connection import Connection, wait

import cloudpickle

from .. import plan
from ..errors import MinimrError
from ..task import Broadcast, TaskFailure, dumps
from ..worker import Done, RunTask, recv_obj, send_obj

_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# a worker is `python -c _BOOT ROOT FD DIR SLOT`: this very minimr, whatever the cwd holds
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from minimr.worker import main; main(*sys.argv[2:])"


class Worker:
    """The driver's handle on one worker process, and what the driver knows it holds."""

    def __init__(self, slot, proc, conn, pid, sock_path):
        self.slot, self.proc, self.conn = slot, proc, conn
        self.pid, self.sock_path = pid, sock_path
        self.blocks = {}          # (rdd, split) -> (records, bytes): cached here
        self.broadcasts = set()   # broadcast ids already sent
        self.stages = set()       # stage keys already sent
        self.tasks_run = 0
        self.alive = True

    def __repr__(self):
        return f"<worker {self.slot} pid {self.pid}>"


class MemoryExecutor:
    name = "memory"

    def __init__(self, ctx, cache_bytes=None, locality_wait=3.0, **unused):
        if unused:
            raise MinimrError(f"memory executor: unknown options {sorted(unused)}")
        if cache_bytes is not None and (not isinstance(cache_bytes, int) or cache_bytes < 0):
            raise MinimrError(f"cache_bytes must be a non-negative int or None, got {cache_bytes!r}")
        if not isinstance(locality_wait, (int, float)) or locality_wait < 0:
            raise MinimrError(f"locality_wait must be a number of seconds >= 0, got {locality_wait!r}")
        self.ctx = ctx
        self.cache_bytes = cache_bytes
        self.locality_wait = locality_wait    # seconds a task waits for its block's worker
        self.default_parallelism = ctx.workers or os.cpu_count() or 1
        self.tmpdir = tempfile.mkdtemp(prefix="minimr-memory-")   # mode 0700
        self.map_outputs = {}     # (shuffle_id, map_id) -> Worker holding it
        self.lost = {}            # block or map-output key -> why it was lost
        self.recomputed = []      # what was computed again after a loss (status())
        self._stage_keys = itertools.count()
        self._watched = set()     # shuffle ids whose ShuffledRDD node we watch for GC
        self._garbage = []        # shuffle ids whose node is gone: dropped at the next stage
        self._stopped = False
        _install_cleanup(self)
        self.workers, procs = [], []
        try:
            for slot in range(self.default_parallelism):    # start all, then wait for all
                procs.append(self._spawn(slot))
            self.workers = [self._handshake(*p) for p in procs]
        except BaseException:
            for _, proc, _ in procs:
                proc.kill()
                proc.wait()
            self.stop()
            raise

    # ------------------------------------------------------------------ processes
    def _spawn(self, slot):
        ours, theirs = socket.socketpair()
        # one hash seed for all workers: keys whose hash() is salted per process (dates,
        # enums, objects hashing their str fields) must land in one partition everywhere
        env = dict(os.environ, PYTHONHASHSEED=os.environ.get("PYTHONHASHSEED", "0"))
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(var, "1")     # one core per worker: no BLAS thread pools
        proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT, _PACKAGE_ROOT, str(theirs.fileno()), self.tmpdir, str(slot)],
            pass_fds=(theirs.fileno(),), env=env)
        theirs.close()
        conn = Connection(ours.detach())
        send_obj(conn, {"sys_path": list(sys.path), "cache_bytes": self.cache_bytes})
        return slot, proc, conn

    def _handshake(self, slot, proc, conn):
        if not conn.poll(60):
            proc.kill()
            raise MinimrError(f"memory executor: worker {slot} did not start within 60 s")
        try:
            _, pid, sock_path = recv_obj(conn)
        except (EOFError, OSError):
            raise MinimrError(f"memory executor: worker {slot} exited at start "
                              f"(exit code {proc.wait()})") from None
        return Worker(slot, proc, conn, pid, sock_path)

    def _lose(self, w, why):
        """Worker `w` is dead: forget the blocks and map outputs it held."""
        w.alive = False
        w.conn.close()
        try:
            w.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            w.proc.kill()
            w.proc.wait()
        reason = f"worker {w.slot} (pid {w.pid}) lost: {why}"
        for key in w.blocks:
            self.lost[key] = reason
        for key in [k for k, holder in self.map_outputs.items() if holder is w]:
            del self.map_outputs[key]
            self.lost[("shuffle",) + key] = reason

    def _reap(self):
        """Between stages: notice workers that died while idle (killed between jobs)."""
        for w in self.workers:
            if w.alive and w.proc.poll() is not None:
                self._lose(w, _exit_text(w.proc.returncode))
        self._refill()

    def _refill(self):
        """Start a fresh process in every dead worker's slot."""
        for slot, w in enumerate(self.workers):
            if not w.alive and not self._stopped:
                self.workers[slot] = self._handshake(*self._spawn(slot))

    # ------------------------------------------------------------- the dispatch loop
    def run_tasks(self, tasks):
        """Run each task on some worker; one outcome per task, in order."""
        self._reap()
        self._clean_shuffles(tasks)
        stages = self._pickle_stages(tasks)             # one blob per stage, not per task
        wants = [plan.cached_inputs(t.node, t.partition) for t in tasks]   # blocks each reads
        outcomes = [None] * len(tasks)
        todo = list(range(len(tasks)))
        running = {}                                    # Worker -> task index
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
                    i = self._pick(w, wants, todo, relax)
                    if i is not None:
                        todo.remove(i)
                        last_launch = time.monotonic()
                        outcome = self._send(w, tasks[i], stages[i])
                        if outcome is None:
                            running[w] = i
                        else:
                            outcomes[i] = outcome       # could not even be pickled
            if not running:
                if todo and not any(w.alive for w in self.workers):
                    raise MinimrError("memory executor: no live workers (stopped?)")
                continue
            # tasks waiting for a busy worker while another idles: wake up when the
            # locality wait is over, even if no task finishes before
            idle = todo and len(running) < sum(w.alive for w in self.workers)
            timeout = max(0.0, last_launch + self.locality_wait - time.monotonic()) if idle else None
            for conn in wait([w.conn for w in running], timeout):
                w = next(w for w in running if w.conn is conn)
                i = running.pop(w)
                outcomes[i] = self._receive(w, tasks[i])

    def _pick(self, w, wants, todo, relax=False):
        """The next task for idle worker `w`: one whose cached input `w` holds, else
        one whose input is cached on no live worker. A task whose block is on a busy
        worker waits for that worker, until no task has started for `locality_wait`
        seconds (Spark's delay scheduling, spark.locality.wait = 3s); then `w` takes
        it and computes the block again (now it is cached in both places)."""
        fallback = None
        for i in todo:
            if any(k in w.blocks for k in wants[i]):
                return i
            if fallback is None and not any(k in other.blocks for k in wants[i]
                                            for other in self.workers if other.alive):
                fallback = i
        if fallback is None and relax:
            return todo[0]
        return fallback

    def _send(self, w, task, stage):
        key, blob, bids = stage
        if isinstance(blob, BaseException):
            return TaskFailure(blob, "")
        msg = RunTask(key, None if key in w.stages else blob, task.partition, task.attempt,
                      self._locations(task),
                      {b: self.ctx._broadcasts[b] for b in bids - w.broadcasts
                       if b in self.ctx._broadcasts})
        try:
            # the stage blob is already bytes; only a broadcast value may need cloudpickle
            send_obj(w.conn, msg, dumps=cloudpickle.dumps if msg.broadcasts else pickle.dumps)
        except (OSError, EOFError):
            pass                      # dead: _receive sees the EOF and reports it
        w.stages.add(key)
        w.broadcasts |= set(msg.broadcasts)
        return None

    def _receive(self, w, task):
        try:
            done: Done = recv_obj(w.conn)
        except (EOFError, OSError):
            try:
                why = _exit_text(w.proc.wait(timeout=5))
            except subprocess.TimeoutExpired:
                why = "closed its socket"
            self._lose(w, why)
            return TaskFailure(MinimrError(f"worker {w.slot} (pid {w.pid}) died while running "
                                           f"the task: {why}"), "", worker_lost=True)
        except Exception as exc:      # e.g. the result's class does not import in the driver
            w.tasks_run += 1
            return TaskFailure(MinimrError(f"the result of {task.describe()} could not be "
                                           f"unpickled in the driver: {exc!r}"), "")
        w.tasks_run += 1
        self._note_blocks(w, done)
        out = done.outcome
        if isinstance(out, TaskFailure) and out.fetch_failed is not None:
            self._fetch_failed(out.fetch_failed)
        elif not isinstance(out, TaskFailure) and task.shuffle is not None:
            key = (task.shuffle.shuffle_id, task.partition)
            self.map_outputs[key] = w
            self._note_recomputed(("shuffle",) + key,
                                  {"shuffle": key[0], "map": key[1]})
        return out

    # ---------------------------------------------------------------- metadata
    def _note_blocks(self, w, done):
        for rdd, split, records, nbytes in done.cached:
            w.blocks[(rdd, split)] = (records, nbytes)
            self._note_recomputed((rdd, split), {"rdd": rdd, "partition": split})
        for key in done.dropped:
            w.blocks.pop(key, None)
            if not any(key in other.blocks for other in self.workers):
                self.lost[key] = f"evicted by worker {w.slot} (cache_bytes={self.cache_bytes})"

    def _note_recomputed(self, key, entry):
        why = self.lost.pop(key, None)
        if why is not None:
            self.recomputed.append(dict(entry, reason=why))

    def _fetch_failed(self, ff):
        """A reducer could not fetch a map output: unregister it, so missing_outputs()
        names it. (If its holder died, _reap() notices before the map stage re-runs and
        forgets the rest of what it held.)"""
        holder = self.map_outputs.pop((ff.shuffle_id, ff.map_id), None)
        if holder is not None:
            self.lost[("shuffle", ff.shuffle_id, ff.map_id)] = f"fetch failed: {ff.why}"

    def _locations(self, task):
        """For each shuffle this task's stage reads: the socket of each map output's holder."""
        out = {}
        for sh in plan.parent_shuffles(task.node):
            n = sh.parent.num_partitions
            holders = [self.map_outputs.get((sh.shuffle_id, m)) for m in range(n)]
            out[sh.shuffle_id] = [h.sock_path if h is not None else None for h in holders]
        return out

    def _pickle_stages(self, tasks):
        """cloudpickle each distinct stage once (Spark broadcasts its "task binary"):
        index -> (stage key, blob or the pickling error, broadcast ids it uses)."""
        made, out = {}, []
        for t in tasks:
            ident = (id(t.node), id(t.shuffle), id(t.func), t.stage_id)
            if ident not in made:
                Broadcast._collector.ids = set()
                try:
                    blob = dumps((t.node, t.shuffle, t.func, t.stage_id, t.num_attempts))
                except MinimrError:
                    raise          # e.g. an RDD or the Context in a closure: say so now
                except Exception as exc:
                    blob = MinimrError(_unpicklable(t, exc))
                finally:
                    bids, Broadcast._collector.ids = Broadcast._collector.ids, None
                made[ident] = (next(self._stage_keys), blob, bids)
            out.append(made[ident])
        return out

    def _clean_shuffles(self, tasks):
        """Spark's ContextCleaner, for shuffles: once the program holds no dataset that
        reads a shuffle, its map outputs are dropped from the workers. A GC callback only
        notes the id (it may run at any moment, even while we write to a socket); the
        messages go out here, between stages."""
        for t in tasks:
            sh = t.shuffle
            if sh is not None and sh.shuffle_id not in self._watched:
                self._watched.add(sh.shuffle_id)
                weakref.finalize(sh, self._garbage.append, sh.shuffle_id)
        while self._garbage:
            shuffle_id = self._garbage.pop()
            for key in [k for k in self.map_outputs if k[0] == shuffle_id]:
                del self.map_outputs[key]
            for key in [k for k in self.lost if k[:2] == ("shuffle", shuffle_id)]:
                del self.lost[key]
            for w in self.workers:
                if w.alive:
                    try:
                        send_obj(w.conn, ("drop_shuffle", shuffle_id))
                    except OSError:
                        pass

    # ------------------------------------------------------------ the interface
    def missing_outputs(self, shuffle):
        self._reap()
        return [m for m in range(shuffle.parent.num_partitions)
                if (shuffle.shuffle_id, m) not in self.map_outputs]

    def unpersist(self, rdd_id):
        for w in self.workers:
            for key in [k for k in w.blocks if k[0] == rdd_id]:
                del w.blocks[key]
            if w.alive:
                try:
                    send_obj(w.conn, ("unpersist", rdd_id))
                except OSError:
                    pass
        for key in [k for k in self.lost if k[0] == rdd_id]:
            del self.lost[key]

    def status(self):
        return {"workers": [{"pid": w.pid, "slot": w.slot, "tasks_run": w.tasks_run,
                             "blocks": [{"rdd": r, "partition": p, "records": n, "bytes": b}
                                        for (r, p), (n, b) in sorted(w.blocks.items())],
                             "shuffle_outputs": sorted(k for k, h in self.map_outputs.items()
                                                       if h is w)}
                            for w in self.workers],
                "recomputed": list(self.recomputed)}

    def _kill(self):
        """Kill every worker now and remove DIR (on SIGTERM)."""
        self._stopped = True
        for w in self.workers:
            w.proc.kill()
            w.proc.wait()
            w.alive = False
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def stop(self):
        """Ask every worker to exit, kill what is still there after 2 s, remove DIR."""
        if self._stopped:
            return
        self._stopped = True
        for w in self.workers:
            try:
                send_obj(w.conn, "stop")
            except OSError:
                pass
        deadline = time.monotonic() + 2
        for w in self.workers:
            try:
                w.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                w.proc.kill()
                w.proc.wait()
            w.alive = False
            w.conn.close()
        shutil.rmtree(self.tmpdir, ignore_errors=True)


# ------------------------------------------------------------------ helpers

def _exit_text(code):
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _unpicklable(task, exc):
    """Say which captured object could not travel, e.g. "`lock` (a _thread.lock),
    captured by <lambda> at job.py:12"."""
    culprit = _find_unpicklable(task)
    where = f": {culprit}" if culprit else ""
    return (f"stage {task.stage_id} cannot be pickled to send to a worker ({type(exc).__name__}: {exc})"
            f"{where}. Functions must not capture open files, locks, sockets, generators...")


def _find_unpicklable(task):
    """Walk the functions in the task's lineage; name the first captured variable
    (closure cell or global) that cloudpickle refuses."""
    seen, stack = set(), [task.func] + [getattr(task.shuffle, "aggregator", None)]
    stack += [n for n in plan.narrow_ancestors(task.node)]
    while stack:
        obj = stack.pop()
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        code = getattr(obj, "__code__", None)
        if code is not None:
            where = f"{obj.__qualname__} at {os.path.basename(code.co_filename)}:{code.co_firstlineno}"
            names = [(n, c.cell_contents) for n, c in zip(code.co_freevars, obj.__closure__ or ())
                     if _has_contents(c)]
            names += [(n, obj.__globals__[n]) for n in code.co_names if n in obj.__globals__]
            for name, value in names:
                if callable(value) and getattr(value, "__code__", None) is not None:
                    stack.append(value)
                    continue
                try:
                    cloudpickle.dumps(value)
                except Exception:
                    return f"`{name}` (a {type(value).__module__}.{type(value).__qualname__}), captured by {where}"
        elif isinstance(obj, plan.Node) or hasattr(obj, "__dict__"):
            stack.extend(v for v in vars(obj).values() if callable(v) or isinstance(v, plan.Node))
    return None


def _has_contents(cell):
    try:
        cell.cell_contents
        return True
    except ValueError:
        return False


# ------------------------------------------- never leave workers or temp dirs behind

_live = weakref.WeakSet()
_installed = False


def _install_cleanup(executor):
    """atexit stops every live executor (also after Ctrl-C, an uncaught
    KeyboardInterrupt); SIGTERM kills the workers at once, then the driver dies of it as
    it would have. Workers also watch their parent, so even a SIGKILLed driver leaves
    nothing behind."""
    global _installed
    if not _installed:
        _installed = True
        atexit.register(lambda: [e.stop() for e in list(_live)])
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL):
            signal.signal(signal.SIGTERM, _terminate)
    _live.add(executor)


def _terminate(signum, frame):
    """Not SystemExit: code that catches it (a test runner does) would swallow the
    SIGTERM. No messages either: we may have interrupted a write to a worker's socket."""
    for executor in list(_live):
        executor._kill()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
