"""The disk executor: Hadoop-style. Every stage boundary goes through files.

    Context(executor="disk", workers=N, tmpdir=None, keep_files=False,
            sort_buffer_bytes=64 MiB, merge_factor=10, maxFailures=4)

    driver: DiskExecutor (procs.py's dispatch loop)    N workers: worker.py's loop, DiskEnv
    ───────────────────────────────────────────────    ─────────────────────────────────────
    any idle worker takes the next task ──RunTask──►   map task:    records ─► spill.map_side
    missing_outputs: the committed map dirs on disk                  ─► commit (rename the dir)
    fetch failure: delete that map output, so it       reduce task: fetch segments ─►
      is made again                    ◄──Done─────                 spill.reduce_side
                                                       cache_get/put: cache/rdd-R/part-NNNNN

Files, under one 0700 directory ``tmpdir/minimr-disk-XXXX/``::

    attempts/<pid>-<n>-stage-2-part-3-attempt-0/   a running task's scratch:
        map-00003/spill-0.out(.index), ...          its spills, merged into file.out(.index)
        reduce-4-1-0/map-00003.seg, ...             a reduce's fetched segments, merge passes
    shuffle-4/map-00003/file.out(.index)           a committed map output (the rename of
                                                    the attempt's map-00003/)
    cache/rdd-7/part-00002(.index)                 a partition persisted with useDisk

Only a committed ``map-NNNNN/`` is ever read, so a killed attempt's partial spills are
never seen; the first attempt to commit wins (Hadoop's rule). Every file is read back
through its crc32 (spill.py). Without keep_files a task's scratch is removed when it
ends and everything when the Context stops (or on Ctrl-C, or at interpreter exit).

What survives between jobs: files only. A partition persisted at a memory level
(cache(), MEMORY_ONLY, MEMORY_ONLY_2, ...) is never kept: every job computes it again from
lineage, as Spark does with a MEMORY_ONLY block that does not fit in memory, and as a
chain of Hadoop jobs re-reads its input. A level with useDisk (DISK_ONLY,
MEMORY_AND_DISK, ...) writes the whole partition to files that later jobs read back and
unpickle (the RDD paper's HadoopBinMem). Committed map outputs are reused by a later job
that reads the same shuffle (Spark does the same; Hadoop has no such reuse).

make_executor (executors/__init__.py) makes a DiskExecutor; worker.py builds a DiskEnv
in each worker, which calls spill.py.

Left out compared with Hadoop: HTTP fetch (reducers read map output files directly,
one machine), the in-memory shuffle buffer on the reduce side, compression, JVM reuse
settings. (Speculative execution and the task timeout are the dispatch loop's, in
executors/process.py, for both process executors.)
"""

import glob
import itertools
import os
import shutil
import time

from .. import spill
from ..errors import FetchFailed, MinimrError, positive
from ..procs import private_dir
from .process import ProcessExecutor
from ..task import Env, TaskContext, TaskFailure, add_metric, at

MiB = 1 << 20
CACHE_BATCH = 1024                     # records per pickle in a cache file


# ------------------------------------------------------------------ worker side

class DiskEnv(Env):
    """What a task sees on a disk worker: files under `root`."""

    def __init__(self, root, sort_buffer_bytes, merge_factor, keep_files):
        super().__init__()
        self.root, self.keep = root, keep_files
        self.buffer_bytes, self.merge_factor = sort_buffer_bytes, merge_factor
        self.tasks = itertools.count()
        self.scratch = None            # this task's directory under attempts/, once made

    def _scratch(self, name):
        """A new directory for this task attempt's own files."""
        if self.scratch is None:
            tc = TaskContext.get()
            self.scratch = os.path.join(
                self.root, "attempts", f"{os.getpid()}-{next(self.tasks)}-stage-{tc.stageId()}"
                f"-part-{tc.partitionId()}-attempt-{tc.attemptNumber()}")
            os.mkdir(self.scratch, 0o700)
        path = os.path.join(self.scratch, name)
        os.mkdir(path, 0o700)
        return path

    def after_task(self):
        if self.scratch is not None and not self.keep:
            shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch = None

    # persisted partitions, at a level with useDisk (DISK_ONLY, MEMORY_AND_DISK...): batches
    # of records in one run file, written under a unique name and renamed (a reader never
    # sees half a file); every read checks and unpickles. Memory levels keep nothing.
    def _cache_path(self, rdd_id, split):
        return os.path.join(self.root, "cache", f"rdd-{rdd_id}", f"part-{split:05d}")

    def cache_get(self, rdd_id, split):
        path = self._cache_path(rdd_id, split)
        try:
            return spill.read_pickles(path)
        except FileNotFoundError:
            return None
        except (spill.ChecksumError, ValueError):     # damaged: drop it, compute it again
            add_metric("cache_files_damaged", 1)
            add_metric("recomputed_partitions", 1)
            for name in (path, path + ".index"):
                if os.path.exists(name):
                    os.remove(name)
            return None

    def cache_put(self, rdd_id, split, records, level):
        if not level.useDisk:           # nothing but files survives: computed again next time
            return
        path = self._cache_path(rdd_id, split)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        work = os.path.join(self._scratch(f"cache-{rdd_id}-{split}"), "part")
        add_metric("cache_puts", 1)
        add_metric("cache_put_bytes", spill.write_pickles(work, records, CACHE_BATCH))
        os.replace(work, path)                   # the data first: an index means it is whole
        os.replace(work + ".index", path + ".index")

    # the map side of a shuffle: sort, spill, merge, then commit by renaming the dir
    def shuffle_write(self, shuffled, map_id, records):
        work = self._scratch(f"map-{map_id:05d}")
        status = spill.map_side(records, shuffled, work, self.buffer_bytes, self.merge_factor)
        if not self.keep:               # only file.out + its index are the map output
            for name in os.listdir(work):
                if not name.startswith("file.out"):
                    os.remove(os.path.join(work, name))
        committed = map_output_dir(self.root, shuffled.shuffle_id, map_id)
        os.makedirs(os.path.dirname(committed), mode=0o700, exist_ok=True)
        if os.path.exists(committed) and not complete(committed):
            shutil.rmtree(committed)    # a damaged earlier output: this attempt replaces it
        if not os.path.exists(committed):
            os.rename(work, committed)  # else the first committed attempt wins
        return status

    # the reduce side: fetch segment r of every map output (checked), merge, fold
    def shuffle_read(self, shuffled, reduce_id):
        sid, start = shuffled.shuffle_id, time.perf_counter()
        work = self._scratch(f"reduce-{sid}-{reduce_id}-{next(self.tasks)}")
        segments = []
        at("fetch")
        for m in range(shuffled.parent.num_partitions):
            out = os.path.join(map_output_dir(self.root, sid, m), "file.out")
            try:
                segment = spill.read_index(out)[reduce_id]
                if segment.length:
                    segments.append(spill.fetch(segment, os.path.join(work, f"map-{m:05d}.seg")))
            except (OSError, ValueError, IndexError) as exc:
                raise FetchFailed(sid, m, f"{type(exc).__name__}: {exc}") from None
        add_metric("shuffle_fetch_seconds", time.perf_counter() - start)
        add_metric("shuffled_maps", shuffled.parent.num_partitions)     # empty ones too
        add_metric("merged_map_outputs", shuffled.parent.num_partitions)
        at("reduce")
        return spill.reduce_side(segments, shuffled, self.merge_factor, work)


def map_output_dir(root, shuffle_id, map_id):
    return os.path.join(root, f"shuffle-{shuffle_id}", f"map-{map_id:05d}")


def complete(map_dir):
    return all(os.path.exists(os.path.join(map_dir, n)) for n in ("file.out", "file.out.index"))


# ------------------------------------------------------------------ driver side

class DiskExecutor(ProcessExecutor):
    name = "disk"
    env_class = DiskEnv

    def __init__(self, ctx, tmpdir=None, keep_files=False, sort_buffer_bytes=64 * MiB,
                 merge_factor=10, **unknown):
        if unknown:
            raise MinimrError(f"disk executor: unknown options {sorted(unknown)}")
        positive(sort_buffer_bytes, "disk executor: sort_buffer_bytes")
        if not isinstance(merge_factor, int) or merge_factor < 2:
            raise MinimrError(f"disk executor: merge_factor must be an integer >= 2, got {merge_factor!r}")
        if tmpdir is not None and not os.path.isdir(tmpdir):
            raise MinimrError(f"disk executor: tmpdir {tmpdir!r} is not a directory")
        self.keep_dir = bool(keep_files)
        self.root = private_dir("minimr-disk-", tmpdir, lock=not keep_files)   # kept: never cleaned
        for sub in ("cache", "attempts"):
            os.mkdir(os.path.join(self.root, sub), 0o700)
        super().__init__(ctx, self.root, {"sort_buffer_bytes": sort_buffer_bytes,
                                          "merge_factor": merge_factor, "keep_files": self.keep_dir})

    def task_done(self, w, task, done):
        """A reducer could not read a map output: remove it, so missing_outputs()
        reports it and the scheduler re-runs just that map task."""
        out = done.outcome
        if isinstance(out, TaskFailure) and out.fetch_failed is not None:
            ff = out.fetch_failed
            d = map_output_dir(self.root, ff.shuffle_id, ff.map_id)
            if os.path.exists(d):
                self.lost[("shuffle", ff.shuffle_id, ff.map_id)] = f"fetch failed: {ff.why}"
                if self.keep_dir:
                    os.rename(d, f"{d}.lost-{w.pid}-{w.tasks_run}")
                else:
                    shutil.rmtree(d, ignore_errors=True)
        elif task.shuffle is not None:
            key = ("shuffle", task.shuffle.shuffle_id, task.partition)
            self.note_made(key, {"shuffle": key[1], "map": key[2]})

    def worker_lost(self, w, why):
        """Its partial spills were never committed and are never read: remove them."""
        if not self.keep_dir:
            attempts = os.path.join(self.root, "attempts")
            for name in os.listdir(attempts):
                if name.startswith(f"{w.pid}-"):
                    shutil.rmtree(os.path.join(attempts, name), ignore_errors=True)

    def missing_outputs(self, shuffle):
        return [m for m in range(shuffle.parent.num_partitions)
                if not complete(map_output_dir(self.root, shuffle.shuffle_id, m))]

    def drop_shuffle(self, shuffle_id):
        if not self.keep_dir:
            shutil.rmtree(os.path.join(self.root, f"shuffle-{shuffle_id}"), ignore_errors=True)

    def unpersist(self, rdd_id):
        super().unpersist(rdd_id)
        shutil.rmtree(os.path.join(self.root, "cache", f"rdd-{rdd_id}"), ignore_errors=True)

    def status(self):
        parts = lambda pattern: sorted(tuple(int(p.rsplit("-", 1)[1]) for p in path.split("/")[-2:])  # noqa: E731
                                       for path in glob.glob(os.path.join(self.root, pattern)))
        return {"tmpdir": self.root, "blocks": parts("cache/rdd-*/part-?????"),
                "shuffle_outputs": parts("shuffle-*/map-?????"),
                "workers": [{"pid": w.pid, "alive": w.proc.poll() is None,
                             "tasks_run": w.tasks_run} for w in self.workers],
                "recomputed": list(self.recomputed)}
