"""The memory executor (Spark-style): long-lived workers that keep partitions in RAM.

    Context(executor="memory", workers=N, cache_bytes=None, locality_wait=3.0, maxFailures=4)

    driver: MemoryExecutor (procs.py's dispatch loop)   N workers: worker.py's loop, MemoryEnv
    ─────────────────────────────────────────────────   ──────────────────────────────────────
    pick: an idle worker gets a task whose cached      ┌ worker 0 ─ BlockStore {(rdd, split): list}
      input it holds (locality) ─────RunTask──────────►│            map outputs {(shuffle, map): buckets}
    metadata only:                  ◄──Done, news─────┤            fetch server: DIR/w-<pid>.sock
      blocks:      which worker holds (rdd, split)      │ worker 1 ─ ...
      map outputs: which worker holds (shuffle, map)    └ ...             ▲ reduce tasks fetch their
      locations(task): the holders, sent with each reduce task ──────────┘ bucket from the peer

What stays where: a cached partition lives in one worker's RAM as live objects (a cache
hit costs nothing: the point of Spark's MEMORY_ONLY), and the next task that reads it
is sent to that worker (locality). A shuffle's map outputs stay in the RAM of the
workers that wrote them, pickled (Spark stores shuffle blocks as bytes: a peer's fetch
sends them as they are, and a reducer cannot change what a later job reads again); the
driver knows only *where* they are, so a shuffle never passes through the driver.

Faults. A worker that dies (EOF on its socket) is replaced by a fresh process in the
same slot; the blocks and map outputs it held are forgotten, so the scheduler
recomputes exactly those from lineage (status()["recomputed"] lists them). A peer
that gives no answer within fetchTimeout is a fetch failure. A peer must answer an
HMAC challenge under the Context's secret before it is served (docs/faults.md).

make_executor (executors/__init__.py) makes a MemoryExecutor; worker.py builds a
MemoryEnv in each worker; the serial executor uses one MemoryEnv in the driver's own
process, with no peers.

Left out compared with Spark: replicated storage levels
(MEMORY_ONLY_2 keeps one copy), and spilling (every storage level is MEMORY_ONLY: past
cache_bytes a block is dropped, not written to disk; map outputs must fit in RAM).
"""

import hmac
import os
import struct
import sys
import threading
import time
from collections import OrderedDict
from multiprocessing.connection import Client, Listener

from .. import pickling, plan
from ..errors import FetchFailed, MinimrError, real
from ..procs import forget, private_dir
from .process import ProcessExecutor
from ..shuffle import bucketize, reduce_side_combine
from ..task import Env, TaskFailure, add_metric, at, counted

REQUEST = struct.Struct("!3Q")     # a peer's fetch: shuffle id, map id, reduce id


# ------------------------------------------------------------------ worker side

class MemoryEnv(Env):
    """What a task sees on a memory worker (or in the serial executor): cached
    partitions as live objects, map outputs as pickled buckets, both in this process."""

    def __init__(self, workdir=None, cache_bytes=None, secret=b"", fetch_timeout=None):
        super().__init__()
        self.store = BlockStore(cache_bytes)
        self.map_outputs = {}      # (shuffle_id, map_id) -> (R,) pickled buckets
        self.peers = {}            # address -> open Connection to that peer
        self.secret, self.fetch_timeout = secret, fetch_timeout    # the Context's, for peers
        if workdir is not None:    # a worker process: serve our map outputs to peers
            self.address = os.path.join(workdir, f"w-{os.getpid()}.sock")
            listener = Listener(self.address, family="AF_UNIX", backlog=64)
            os.chmod(self.address, 0o600)     # only this user's processes may connect
            threading.Thread(target=serve_fetches, args=(listener, self), daemon=True).start()

    def cache_get(self, rdd_id, split):
        return self.store.get((rdd_id, split))

    def cache_put(self, rdd_id, split, records, level):
        self.store.put((rdd_id, split), records)

    def shuffle_write(self, shuffled, map_id, records):
        buckets = bucketize(records, shuffled)
        t = time.perf_counter()
        blobs = [pickling.dumps(b) for b in buckets]
        add_metric("shuffle_write_seconds", time.perf_counter() - t)
        add_metric("map_output_materialized_bytes", sum(len(b) for b in blobs))
        self.map_outputs[(shuffled.shuffle_id, map_id)] = blobs
        return [(len(b), len(blob)) for b, blob in zip(buckets, blobs)]   # the map status

    def shuffle_read(self, shuffled, reduce_id):
        sid, maps = shuffled.shuffle_id, shuffled.parent.num_partitions
        holders = self.locations.get(sid)          # None: every map output is here (serial)
        at("fetch")                                # (a generator: fetches at the first read)
        blobs = [self._fetch(sid, m, reduce_id, self.address if holders is None else holders[m])
                 for m in range(maps)]
        at("reduce")
        add_metric("shuffled_maps", maps)
        add_metric("merged_map_outputs", maps)
        pairs = (p for b in blobs for p in pickling.loads(b))
        yield from reduce_side_combine(counted(pairs, "reduce_input_records"), shuffled)

    def _fetch(self, sid, map_id, reduce_id, holder):
        """Bucket `reduce_id` of a map output: from this process, or from its holder."""
        if holder == self.address:
            blobs = self.map_outputs.get((sid, map_id))
            if blobs is None:
                raise FetchFailed(sid, map_id, "no map output here")
            add_metric("reduce_shuffle_bytes", len(blobs[reduce_id]))
            return blobs[reduce_id]
        if holder is None:
            raise FetchFailed(sid, map_id, "no worker holds it")
        t = time.perf_counter()
        try:
            conn = self.peers.get(holder) or self.peers.setdefault(holder, self._connect(holder))
            conn.send_bytes(REQUEST.pack(sid, map_id, reduce_id))
            if not conn.poll(self.fetch_timeout):
                raise TimeoutError(f"no answer within fetchTimeout={self.fetch_timeout:g} s")
            blob = conn.recv_bytes()
        except (OSError, EOFError) as exc:
            self.peers.pop(holder, None)
            raise FetchFailed(sid, map_id, f"peer {holder}: {exc!r}") from None
        add_metric("shuffle_fetch_seconds", time.perf_counter() - t)
        if not blob:
            raise FetchFailed(sid, map_id, f"peer {holder} does not have it")
        add_metric("shuffle_bytes_fetched", len(blob))      # from a peer, over its socket
        add_metric("reduce_shuffle_bytes", len(blob))
        return blob

    def _connect(self, holder):
        """A connection to a peer's fetch server that answers its challenge: an HMAC of
        its nonce under the Context's secret (multiprocessing's authkey handshake does the
        same, but would wait forever for a stopped peer)."""
        conn = Client(holder, family="AF_UNIX")
        if not conn.poll(self.fetch_timeout):
            raise TimeoutError(f"no answer within fetchTimeout={self.fetch_timeout:g} s")
        conn.send_bytes(hmac.digest(self.secret, conn.recv_bytes(64), "sha256"))
        return conn

    def unpersist(self, rdd_id):
        for key in [k for k in self.store.blocks if k[0] == rdd_id]:
            self.store.remove(key)

    def evict(self, rdd_id, split):             # faults.evict: as if the LRU dropped it
        self.store.remove((rdd_id, split))

    def drop_shuffle(self, shuffle_id):
        forget(self.map_outputs, shuffle_id)

    def after_task(self):
        return self.store.changes()


def serve_fetches(listener, env):
    """Peers' reduce tasks ask (shuffle, map, reduce); answer with the pickled bucket,
    or b"" if this worker does not hold that map output. One thread per peer. A peer
    must first prove it knows the Context's secret; nothing it sends is unpickled."""
    def serve(conn):
        with conn:
            try:
                nonce = os.urandom(32)
                conn.send_bytes(nonce)
                if not hmac.compare_digest(conn.recv_bytes(64),
                                           hmac.digest(env.secret, nonce, "sha256")):
                    return                        # not a worker of this Context
                while True:
                    shuffle_id, map_id, reduce_id = REQUEST.unpack(conn.recv_bytes(24))
                    blobs = env.map_outputs.get((shuffle_id, map_id))
                    conn.send_bytes(b"" if blobs is None else blobs[reduce_id])
            except (EOFError, OSError, struct.error):
                return

    while True:
        try:
            conn = listener.accept()
        except OSError:
            return
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


class BlockStore:
    """Cached partitions as live lists, least recently used first; past `cache_bytes`
    (None = no limit) the oldest blocks are dropped, to be recomputed from lineage."""

    def __init__(self, cache_bytes=None):
        self.cache_bytes = cache_bytes
        self.blocks = OrderedDict()      # (rdd, split) -> (records, estimated bytes)
        self.used = 0
        self.cached, self.dropped = [], []   # changes since the driver last heard

    def get(self, key):
        if key in self.blocks:
            self.blocks.move_to_end(key)     # now the most recently used
            return self.blocks[key][0]
        return None

    def put(self, key, records):
        size = estimate_bytes(records)
        if self.cache_bytes is not None and size > self.cache_bytes:
            return                       # would not fit even alone: not cached (Spark too)
        self.remove(key)
        self.blocks[key] = (records, size)
        self.used += size
        self.cached.append((key[0], key[1], len(records), size))
        add_metric("cache_puts", 1)
        add_metric("cache_put_bytes", size)
        while self.cache_bytes is not None and self.used > self.cache_bytes:
            old = next(iter(self.blocks))
            self.remove(old)
            self.dropped.append(old)
            add_metric("cache_evictions", 1)

    def remove(self, key):
        entry = self.blocks.pop(key, None)
        if entry is not None:
            self.used -= entry[1]

    def changes(self):
        out = (self.cached, self.dropped)
        self.cached, self.dropped = [], []
        return out


def estimate_bytes(records) -> int:
    """A block's size, estimated (not measured): sys.getsizeof of the list, plus the
    mean size of up to 100 evenly sampled records times their count. A record's size is
    its getsizeof plus, one level down, its items' (a tuple of str and int); anything
    with `.nbytes` (a numpy array) counts its data buffer."""
    n = len(records)
    if n == 0:
        return sys.getsizeof(records)
    sample = records[::max(1, n // 100)][:100]
    mean = sum(_record_bytes(r) for r in sample) / len(sample)
    return int(sys.getsizeof(records) + mean * n)


def _record_bytes(x, depth=0):
    nbytes = getattr(x, "nbytes", None)
    if isinstance(nbytes, int):
        return nbytes + 112                   # + the ndarray header
    size = sys.getsizeof(x)
    if depth < 2 and isinstance(x, (tuple, list, dict)) and x:
        items = list(x.items() if isinstance(x, dict) else x)[:100]
        size += sum(_record_bytes(i, depth + 1) for i in items) * len(x) / len(items)
    return int(size)


# ------------------------------------------------------------------ driver side

class MemoryExecutor(ProcessExecutor):
    name = "memory"
    env_class = MemoryEnv

    def __init__(self, ctx, cache_bytes=None, locality_wait=3.0, **unused):
        if unused:
            raise MinimrError(f"memory executor: unknown options {sorted(unused)}")
        if cache_bytes is not None and (not isinstance(cache_bytes, int) or cache_bytes < 0):
            raise MinimrError(f"cache_bytes must be a non-negative int or None, got {cache_bytes!r}")
        real(locality_wait, "locality_wait (seconds)", 0, low_ok=True)
        self.cache_bytes = cache_bytes
        self.locality_wait = locality_wait    # seconds a task waits for its block's worker
        self.map_outputs = {}                 # (shuffle_id, map_id) -> the Worker holding it
        super().__init__(ctx, private_dir("minimr-memory-"), {
            "cache_bytes": cache_bytes, "secret": os.urandom(32), "fetch_timeout": ctx.fetchTimeout})

    def pick(self, w, todo, wants, relax):
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

    def locations(self, task):
        """For each shuffle this task's stage reads: the address of each map output's holder."""
        out = {}
        for sh in plan.parent_shuffles(task.node):
            holders = [self.map_outputs.get((sh.shuffle_id, m)) for m in range(sh.parent.num_partitions)]
            out[sh.shuffle_id] = [h.address if h is not None else None for h in holders]
        return out

    def task_done(self, w, task, done):
        out = done.outcome
        if isinstance(out, TaskFailure):
            if out.fetch_failed is not None:      # unregister it: missing_outputs names it
                ff = out.fetch_failed
                if self.map_outputs.pop((ff.shuffle_id, ff.map_id), None) is not None:
                    self.lost[("shuffle", ff.shuffle_id, ff.map_id)] = f"fetch failed: {ff.why}"
        elif task.shuffle is not None:
            key = (task.shuffle.shuffle_id, task.partition)
            self.map_outputs[key] = w
            self.note_made(("shuffle",) + key, {"shuffle": key[0], "map": key[1]})
        cached, dropped = done.news
        for rdd, split, records, nbytes in cached:
            w.blocks[(rdd, split)] = (records, nbytes)
            self.note_made((rdd, split), {"rdd": rdd, "partition": split})
        for key in dropped:
            w.blocks.pop(key, None)
            if not any(key in other.blocks for other in self.workers):
                self.lost[key] = f"evicted by worker {w.slot} (cache_bytes={self.cache_bytes})"

    def worker_lost(self, w, why):
        for key in w.blocks:
            self.lost[key] = why
        for key in [k for k, holder in self.map_outputs.items() if holder is w]:
            del self.map_outputs[key]
            self.lost[("shuffle",) + key] = why

    def missing_outputs(self, shuffle):
        self._reap()
        return [m for m in range(shuffle.parent.num_partitions)
                if (shuffle.shuffle_id, m) not in self.map_outputs]

    def drop_shuffle(self, shuffle_id):
        forget(self.map_outputs, shuffle_id)
        self.tell_workers("drop_shuffle", shuffle_id)

    def unpersist(self, rdd_id):
        super().unpersist(rdd_id)
        self.tell_workers("unpersist", rdd_id)

    def status(self):
        return {"workers": [{"pid": w.pid, "slot": w.slot, "tasks_run": w.tasks_run,
                             "blocks": [{"rdd": r, "partition": p, "records": n, "bytes": b}
                                        for (r, p), (n, b) in sorted(w.blocks.items())],
                             "shuffle_outputs": sorted(k for k, h in self.map_outputs.items()
                                                       if h is w)}
                            for w in self.workers],
                "recomputed": list(self.recomputed)}
