"""The disk executor: Hadoop-style. Every stage boundary goes through files.

    driver                                   N worker processes (no state but files)
    ──────                                   ─────────────────────────────────────────────────
    run_tasks(tasks)                         loop: task in ─► run_task(task, DiskEnv) ─► result out
      cloudpickle each task ──socket──►        map task:    records ─► spill.map_side ─► commit
      broadcast values ──► broadcast/b-ID.pkl  result task: shuffle_merge ─► spill.reduce_side
      wait on the sockets (death = EOF)        cache_get/put: cache/rdd-ID/part-NNNNN
      ◄── TaskResult(value, counters) / TaskFailure / worker died
      fetch failure: drop that map output so missing_outputs() reports it

Files, under one 0700 directory ``tmpdir/minimr-disk-XXXX/`` (the "keep_files" layout)::

    shuffle-S/map-00003.stage-2-attempt-0-17/    a running map attempt: spill-0.out(.index), ...
    shuffle-S/map-00003/                         its commit (a rename): file.out + file.out.index
    shuffle-S/reduce-00001.stage-3-attempt-0-21/ a reduce attempt: fetched map-00003.seg, merge passes
    cache/rdd-7/part-00002                       a persisted partition (pickled batches)
    broadcast/b-4.pkl                            a broadcast value (Hadoop's DistributedCache)

S is the shuffle id (the id of the ShuffledRDD; its map stage is "map for shuffle S" in
ctx.jobs). Attempt directories carry the stage, the attempt number and a launch number,
so a killed attempt's partial spills are never read: only a committed ``map-NNNNN/`` is.
Without keep_files, attempt scratch is removed when the task ends and everything when
the Context stops (or on Ctrl-C, or at interpreter exit).

What survives between jobs: files only. A cached RDD is re-read and unpickled by every
job that uses it (the RDD paper's HadoopBinMem); committed map outputs are reused by a
later job that reads the same shuffle (Spark does the same; Hadoop has no such reuse).

Counters (Hadoop's TaskCounter names, snake_case) come back in TaskResult.metrics and are
summed per stage in ctx.jobs; ``ctx._executor.counters()`` sums the last job.

Left out compared with Hadoop: HTTP fetch (reducers read map output files directly,
one machine), speculative execution, the in-memory shuffle buffer on the reduce side,
compression, JVM reuse settings.
"""

import collections
import itertools
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import traceback
import weakref
from multiprocessing.connection import Connection, wait

import cloudpickle

from .. import plan, spill
from ..errors import FetchFailed, MinimrError
from ..task import Broadcast, TaskFailure, TaskResult, run_task

MiB = 1 << 20
CACHE_BATCH = 1024                     # records per pickle in a cache file


# ------------------------------------------------------------------ worker side

class DiskEnv:
    """What a task sees on a disk worker: files under `root`, and this attempt's counters."""

    def __init__(self, root, tag, options):
        self.root, self.tag = root, tag             # tag: "stage-2-attempt-0-17"
        self.buffer_bytes = options["sort_buffer_bytes"]
        self.merge_factor = options["merge_factor"]
        self.keep = options["keep_files"]
        self.counters = collections.Counter()
        self.scratch = []                           # attempt dirs to remove at task end

    # cached partitions: pickled batches of records in one file, written under a unique
    # name and renamed (a reader never sees half a file); every read unpickles it again
    def _cache_path(self, rdd_id, split):
        return os.path.join(self.root, "cache", f"rdd-{rdd_id}", f"part-{split:05d}")

    def cache_get(self, rdd_id, split):
        path = self._cache_path(rdd_id, split)
        records = []
        try:
            with open(path, "rb") as f:
                while True:
                    try:
                        records.extend(pickle.load(f))
                    except EOFError:
                        break
        except FileNotFoundError:
            return None
        self.counters["file_bytes_read"] += os.path.getsize(path)
        self.counters["map_input_records"] += len(records)
        return records

    def cache_put(self, rdd_id, split, records):
        path = self._cache_path(rdd_id, split)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        with open(f"{path}.{self.tag}", "wb") as f:
            for i in range(0, len(records), CACHE_BATCH):
                f.write(spill.dumps(records[i:i + CACHE_BATCH]))
            self.counters["file_bytes_written"] += f.tell()
        os.replace(f"{path}.{self.tag}", path)

    def broadcast_value(self, bid):
        path = os.path.join(self.root, "broadcast", f"b-{bid}.pkl")
        try:
            with open(path, "rb") as f:
                return pickle.load(f)
        except FileNotFoundError:
            raise ValueError(f"broadcast {bid} was destroyed") from None

    # the map side of a shuffle: sort, spill, merge, then commit by renaming the attempt dir
    def shuffle_write_stream(self, sh, map_id, records):
        base = os.path.join(self.root, f"shuffle-{sh.shuffle_id}", f"map-{map_id:05d}")
        work = f"{base}.{self.tag}"
        os.makedirs(work, mode=0o700)
        self.scratch.append(work)
        status = spill.map_side(records, sh.partitioner.num_partitions, sh.partitioner,
                                sh.aggregator if sh.map_side_combine else None, work,
                                self.buffer_bytes, self.merge_factor, self.counters)
        if not self.keep:               # only file.out + its index are the map output
            for name in os.listdir(work):
                if not name.startswith("file.out"):
                    os.remove(os.path.join(work, name))
        if os.path.exists(base) and not _complete(base):
            shutil.rmtree(base)         # a damaged earlier output: this attempt replaces it
        if not os.path.exists(base):    # else the first committed attempt wins (Hadoop's rule)
            os.rename(work, base)
            self.scratch.remove(work)
        return status

    # the reduce side: fetch segment r of every map output, check it, merge, fold
    def shuffle_merge(self, sh, reduce_id):
        shuffle_dir = os.path.join(self.root, f"shuffle-{sh.shuffle_id}")
        work = os.path.join(shuffle_dir, f"reduce-{reduce_id:05d}.{self.tag}")
        os.makedirs(work, mode=0o700)
        self.scratch.append(work)
        runs = []
        for m in range(sh.parent.num_partitions):
            out = os.path.join(shuffle_dir, f"map-{m:05d}", "file.out")
            try:
                seg = spill.read_index(out + ".index")[reduce_id]
            except (OSError, ValueError, IndexError) as exc:
                raise FetchFailed(sh.shuffle_id, m, f"{type(exc).__name__}: {exc}") from None
            if not seg.length:
                continue
            dest = os.path.join(work, f"map-{m:05d}.seg")
            try:
                problem = spill.copy_segment(out, seg, dest, self.counters)
            except OSError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if problem:
                raise FetchFailed(sh.shuffle_id, m, problem)
            runs.append(spill.Run(dest, 0, seg.length))
        return spill.reduce_side(runs, sh.aggregator, sh.map_side_combine, self.merge_factor,
                                 work, self.counters)

    def finish(self):
        if not self.keep:
            for d in self.scratch:
                shutil.rmtree(d, ignore_errors=True)


def _count_inputs(task, env):
    """Hadoop's map input records / bytes read: wrap the compute of this task's source
    nodes (its own unpickled copies) to count what they produce."""
    for node in plan.narrow_ancestors(task.node):
        if node.parents or isinstance(node, plan.Shuffled):
            continue

        def counted(split, env_, compute=node.compute, node=node):
            if isinstance(node, plan.TextFile):
                s = node.splits[split]
                env.counters["file_bytes_read"] += s.length if s.length >= 0 else os.path.getsize(s.path)
            for x in compute(split, env_):
                env.counters["map_input_records"] += 1
                yield x
        node.compute = counted


def worker_main(fd):
    """The worker process loop: (task bytes, attempt tag) in, pickled outcome out.
    Started as ``python -m minimr.executors.disk FD`` (not multiprocessing's spawn: no
    re-import of the user's __main__, so scripts need no ``if __name__`` guard)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # Ctrl-C is the driver's to handle
    conn = Connection(fd)
    root, options = pickle.loads(conn.recv_bytes())
    while True:
        try:
            msg = conn.recv_bytes()
        except EOFError:
            return
        if not msg:
            return
        task_bytes, tag = pickle.loads(msg)
        env = DiskEnv(root, tag, options)
        try:
            task = pickle.loads(task_bytes)
            _count_inputs(task, env)
            out = run_task(task, env)
        except Exception as exc:
            out = TaskFailure(exc, traceback.format_exc())
        finally:
            env.finish()
        if isinstance(out, TaskResult):
            out.metrics.update(env.counters)
            out.metrics["map_tasks" if task.shuffle is not None else "result_tasks"] = 1
        conn.send_bytes(_dumps_outcome(out))


def _dumps_outcome(out):
    try:
        return spill.dumps(out)
    except Exception as exc:
        if isinstance(out, TaskFailure):       # the user's exception would not pickle
            return pickle.dumps(TaskFailure(None, out.traceback, out.fetch_failed and
                                            FetchFailed(*out.fetch_failed.args)), protocol=5)
        return pickle.dumps(TaskFailure(MinimrError(f"a task result cannot be pickled: {exc}"),
                                        traceback.format_exc()), protocol=5)


# ------------------------------------------------------------------ driver side

class _Worker:
    """One worker process and the socket to it (a dead worker reads as EOF)."""

    def __init__(self, root, options):
        ours, theirs = socket.socketpair()
        package_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = dict(os.environ, PYTHONHASHSEED=os.environ.get("PYTHONHASHSEED", "0"),
                   PYTHONPATH=os.pathsep.join([package_parent] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
        self.proc = subprocess.Popen([sys.executable, "-m", "minimr.executors.disk", str(theirs.fileno())],
                                     pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL)
        theirs.close()
        self.conn = Connection(ours.detach())
        self.conn.send_bytes(pickle.dumps((root, options)))
        self.running = None              # (index in batch, task, tag) while busy
        self.tasks_run = 0


class DiskExecutor:
    name = "disk"

    def __init__(self, ctx, tmpdir=None, keep_files=False, sort_buffer_bytes=64 * MiB,
                 merge_factor=10, **unknown):
        if unknown:
            raise MinimrError(f"disk executor: unknown options {sorted(unknown)}")
        if not isinstance(sort_buffer_bytes, int) or sort_buffer_bytes <= 0:
            raise MinimrError(f"disk executor: sort_buffer_bytes must be a positive integer, "
                              f"got {sort_buffer_bytes!r}")
        if not isinstance(merge_factor, int) or merge_factor < 2:
            raise MinimrError(f"disk executor: merge_factor must be an integer >= 2, got {merge_factor!r}")
        if tmpdir is not None and not os.path.isdir(tmpdir):
            raise MinimrError(f"disk executor: tmpdir {tmpdir!r} is not a directory")
        self.ctx = ctx
        self.num_workers = ctx.workers or os.cpu_count() or 1
        self.default_parallelism = self.num_workers
        self.keep_files = bool(keep_files)
        self.options = {"sort_buffer_bytes": sort_buffer_bytes, "merge_factor": merge_factor,
                        "keep_files": self.keep_files}
        self.root = tempfile.mkdtemp(prefix="minimr-disk-", dir=tmpdir)      # mode 0700
        for sub in ("cache", "broadcast"):
            os.mkdir(os.path.join(self.root, sub), 0o700)
        self._workers = []
        self._launches = itertools.count()
        self._broadcasts_written = set()
        self._stopped = False
        self._finalizer = weakref.finalize(self, _cleanup, self._workers, self.root, self.keep_files)

    # ------------------------------------------------------------------ running
    def run_tasks(self, tasks):
        if self._stopped:
            raise MinimrError("the disk executor has been stopped")
        try:
            return self._run(tasks)
        except KeyboardInterrupt:
            self.stop()                          # kill workers, remove the temp dir
            raise

    def _run(self, tasks):
        outcomes = [None] * len(tasks)
        queue = collections.deque()
        for i, task in enumerate(tasks):
            try:
                queue.append((i, task, self._pickle(task)))
            except MinimrError:
                raise
            except Exception as exc:
                outcomes[i] = TaskFailure(_unpicklable(task, exc), traceback.format_exc())
        while len(self._workers) < min(self.num_workers, len(queue)):
            self._workers.append(_Worker(self.root, self.options))
        while queue or any(w.running for w in self._workers):
            for w in self._workers:
                if w.running is None and queue:
                    i, task, data = queue.popleft()
                    tag = f"stage-{task.stage_id}-attempt-{task.attempt}-{next(self._launches)}"
                    w.running = (i, task, tag)
                    try:
                        w.conn.send_bytes(pickle.dumps((data, tag), protocol=5))
                    except OSError:
                        pass                     # dead already: its socket reads as EOF
            busy = [w for w in self._workers if w.running]
            ready = wait([w.conn for w in busy])
            for w in busy:
                if w.conn not in ready:
                    continue
                try:
                    out = pickle.loads(w.conn.recv_bytes())
                except (EOFError, OSError):
                    out = None
                i, task, tag = w.running
                if out is None:                  # the worker died mid-task
                    out = self._worker_lost(w, task, tag)
                elif isinstance(out, TaskFailure) and out.fetch_failed is not None:
                    self._drop_map_output(out.fetch_failed)
                outcomes[i] = out
                w.running = None
                w.tasks_run += 1
        return outcomes

    def _pickle(self, task):
        Broadcast._collector.ids = set()
        try:
            data = cloudpickle.dumps(task, protocol=5)
            needed = Broadcast._collector.ids
        finally:
            Broadcast._collector.ids = None
        for bid in needed - self._broadcasts_written:       # ship each value once, as a file
            if bid in self.ctx._broadcasts:
                path = os.path.join(self.root, "broadcast", f"b-{bid}.pkl")
                with open(path + ".tmp", "wb") as f:
                    cloudpickle.dump(self.ctx._broadcasts[bid], f, protocol=5)
                os.replace(path + ".tmp", path)
                self._broadcasts_written.add(bid)
        for bid in self._broadcasts_written - set(self.ctx._broadcasts):   # destroyed
            os.remove(os.path.join(self.root, "broadcast", f"b-{bid}.pkl"))
            self._broadcasts_written.discard(bid)
        return data

    def _worker_lost(self, w, task, tag):
        try:
            code = w.proc.wait(5)
        except subprocess.TimeoutExpired:
            w.proc.kill()
            code = w.proc.wait()
        pid = w.proc.pid
        w.conn.close()
        if not self.keep_files:              # its partial spills: never committed, never read
            for d in _attempt_dirs(self.root, tag):
                shutil.rmtree(d, ignore_errors=True)
        index = self._workers.index(w)
        self._workers[index] = _Worker(self.root, self.options)
        return TaskFailure(RuntimeError(f"disk worker process {pid} died (exit code {code}) "
                                        f"while running {task}"), "", worker_lost=True)

    def _drop_map_output(self, ff):
        """A reducer could not read this map output: remove it, so missing_outputs()
        reports it and the scheduler re-runs just that map task."""
        d = os.path.join(self.root, f"shuffle-{ff.shuffle_id}", f"map-{ff.map_id:05d}")
        if os.path.exists(d):
            if self.keep_files:
                os.rename(d, f"{d}.lost-{next(self._launches)}")
            else:
                shutil.rmtree(d, ignore_errors=True)

    # ------------------------------------------------------------- the interface
    def missing_outputs(self, shuffle):
        base = os.path.join(self.root, f"shuffle-{shuffle.shuffle_id}")
        return [m for m in range(shuffle.parent.num_partitions)
                if not _complete(os.path.join(base, f"map-{m:05d}"))]

    def unpersist(self, rdd_id):
        shutil.rmtree(os.path.join(self.root, "cache", f"rdd-{rdd_id}"), ignore_errors=True)

    def counters(self, job=-1):
        """Hadoop-style counters of one job (default: the last), summed over its stages."""
        total = collections.Counter()
        for stage in self.ctx.jobs[job]["stages"]:
            for k, v in stage.items():
                if k not in ("stage", "kind", "tasks", "attempts") and not k.endswith("seconds"):
                    total[k] += v
        return dict(total)

    def status(self):
        cache = os.path.join(self.root, "cache")
        blocks = sorted((int(d[4:]), int(p[5:])) for d in os.listdir(cache)
                        for p in os.listdir(os.path.join(cache, d)) if p[5:].isdigit())
        outputs = sorted((int(s[8:]), int(m[4:])) for s in os.listdir(self.root)
                         if s.startswith("shuffle-")
                         for m in os.listdir(os.path.join(self.root, s)) if m[4:].isdigit())
        return {"tmpdir": self.root, "blocks": blocks, "shuffle_outputs": outputs,
                "workers": [{"pid": w.proc.pid, "alive": w.proc.poll() is None,
                             "tasks_run": w.tasks_run} for w in self._workers]}

    def stop(self):
        if not self._stopped:
            self._stopped = True
            self._finalizer()


def _complete(map_dir):
    return all(os.path.exists(os.path.join(map_dir, n)) for n in ("file.out", "file.out.index"))


def _attempt_dirs(root, tag):
    return [os.path.join(root, s, d) for s in os.listdir(root) if s.startswith("shuffle-")
            for d in os.listdir(os.path.join(root, s)) if d.endswith("." + tag)]


def _cleanup(workers, root, keep):
    for w in workers:
        if w.running is not None:          # interrupted mid-task: no need to wait for it
            w.proc.kill()
        try:
            w.conn.send_bytes(b"")         # "no more tasks": the worker loop returns
        except OSError:
            pass
    for w in workers:
        try:
            w.proc.wait(2)
        except subprocess.TimeoutExpired:
            w.proc.kill()
            w.proc.wait()
        w.conn.close()
    workers.clear()
    if not keep:
        shutil.rmtree(root, ignore_errors=True)


def _unpicklable(task, exc):
    return MinimrError(f"{task} cannot be pickled to send to a worker ({type(exc).__name__}: "
                       f"{exc}); a function it uses captures something that cannot travel "
                       "(an open file, a lock, a socket, a generator...)")


if __name__ == "__main__":
    from minimr.executors.disk import worker_main as _main    # the importable copy
    _main(int(sys.argv[1]))
