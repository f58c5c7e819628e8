"""A memory-executor worker: one long-lived process that runs tasks and keeps blocks.

Started by the driver (executors/memory.py) as ``main(FD, DIR, SLOT)`` in a fresh
``python -c``; FD is its end of a socketpair with the driver, DIR the Context's 0700
temp dir::

      driver ──RunTask(stage blob once, partition, where the map outputs are)──► main loop
             ◄──Done(TaskResult | TaskFailure, blocks cached, blocks evicted)───   run_task(task, env)
                                                                                  │
      WorkerEnv (what the task sees)                                              │
        cache_get/put ──► BlockStore: {(rdd, split): list}, live objects, LRU ◄───┘
        shuffle_write ──► map outputs: {(shuffle, map): [pickled bucket r, ...]}
        shuffle_read  ──► bucket r of each map output: from this process, or fetched
                          from the peer holding it over its Unix socket (DIR/w<slot>-<pid>.sock)
                          ◄── served by a thread here, for the peers' reduce tasks

Cached partitions stay live Python objects (a cache hit costs nothing: the point of
Spark's MEMORY_ONLY). Shuffle buckets are stored pickled, as Spark stores shuffle blocks
as bytes: a peer's fetch sends them without re-pickling, and a reducer can never mutate
a map output that a later job reads again.

The worker exits when the driver says "stop", when its socket to the driver closes, or
when its parent process changes (the driver died, even by SIGKILL); the last case also
removes DIR. Ctrl-C in a terminal reaches the whole process group: workers ignore SIGINT
and let the driver stop them.
"""

import os
import pickle
import signal
import struct
import sys
import threading
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass, field
from multiprocessing.connection import Client, Connection, Listener

import cloudpickle

from .errors import FetchFailed, MinimrError
from .task import Task, TaskFailure, TaskResult, add_metric, run_task


# ------------------------------------------------------------------ messages (records)

@dataclass
class RunTask:
    """driver -> worker: run one task attempt."""
    stage_key: int            # which stage blob: (node, shuffle, func, stage_id, num_attempts)
    blob: bytes | None        # the cloudpickled stage, sent once per worker per stage
    partition: int
    attempt: int
    locations: dict           # shuffle_id -> (num_maps,) socket paths of the map outputs' holders
    broadcasts: dict = field(default_factory=dict)   # bid -> value this worker has not seen yet


@dataclass
class Done:
    """worker -> driver: the outcome, and how the block store changed meanwhile."""
    outcome: TaskResult | TaskFailure
    cached: list = field(default_factory=list)     # [(rdd, split, records, bytes)] stored
    dropped: list = field(default_factory=list)    # [(rdd, split)] evicted to make room


# -------------------------------------------- framing: pickle 5, buffers out of band

OUT_OF_BAND = 1 << 16      # smaller buffers are cheaper inside the pickle stream


def send_obj(conn, obj, dumps=pickle.dumps):
    """Send `obj` as one header + one pickle + its out-of-band buffers (big numpy
    arrays travel as raw bytes, not copied into the pickle stream)."""
    buffers = []

    def out_of_band(buf):           # returning True keeps a buffer in band
        return buf.raw().nbytes < OUT_OF_BAND or buffers.append(buf)

    body = dumps(obj, protocol=5, buffer_callback=out_of_band)
    raws = [b.raw() for b in buffers]
    conn.send_bytes(struct.pack(f"!{len(raws) + 1}Q", len(raws), *(r.nbytes for r in raws)))
    conn.send_bytes(body)
    for r in raws:
        conn.send_bytes(r)


def recv_obj(conn):
    header = conn.recv_bytes()
    n = struct.unpack_from("!Q", header)[0]
    sizes = struct.unpack_from(f"!{n}Q", header, 8)
    body = conn.recv_bytes()
    buffers = []
    for size in sizes:              # writable, so a received numpy array is writable too
        buf = bytearray(size)
        if size:
            conn.recv_bytes_into(buf)
        else:
            conn.recv_bytes()
        buffers.append(buf)
    return pickle.loads(body, buffers=buffers)


# --------------------------------------------------------------------- block store

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
    if depth < 2 and isinstance(x, (tuple, list)):
        size += sum(_record_bytes(i, depth + 1) for i in x[:100]) * (len(x) / min(len(x), 100) if x else 0)
    elif depth < 2 and isinstance(x, dict):
        size += sum(_record_bytes(k, depth + 1) + _record_bytes(v, depth + 1)
                    for k, v in list(x.items())[:100]) * (len(x) / min(len(x), 100) if x else 0)
    return int(size)


class BlockStore:
    """Cached partitions as live lists, least recently used first; past `cache_bytes`
    (None = no limit) the oldest blocks are dropped, to be recomputed from lineage."""

    def __init__(self, cache_bytes=None):
        self.cache_bytes = cache_bytes
        self.blocks = OrderedDict()      # (rdd, split) -> (records, estimated bytes)
        self.used = 0
        self.cached, self.dropped = [], []   # changes since the driver last heard

    def get(self, key):
        entry = self.blocks.get(key)
        if entry is None:
            return None
        self.blocks.move_to_end(key)     # now the most recently used
        return entry[0]

    def put(self, key, records):
        size = estimate_bytes(records)
        if self.cache_bytes is not None and size > self.cache_bytes:
            return                       # would not fit even alone: not cached (Spark too)
        self.remove(key)
        self.blocks[key] = (records, size)
        self.used += size
        self.cached.append((key[0], key[1], len(records), size))
        while self.cache_bytes is not None and self.used > self.cache_bytes:
            old = next(iter(self.blocks))
            self.remove(old)
            self.dropped.append(old)

    def remove(self, key):
        entry = self.blocks.pop(key, None)
        if entry is not None:
            self.used -= entry[1]

    def unpersist(self, rdd_id):
        for key in [k for k in self.blocks if k[0] == rdd_id]:
            self.remove(key)

    def changes(self):
        out = (self.cached, self.dropped)
        self.cached, self.dropped = [], []
        return out


# ------------------------------------------------------------------- the task's env

class WorkerEnv:
    """What a task running in this worker sees (the env interface of task.py)."""

    def __init__(self, store, sock_path):
        self.store = store
        self.sock_path = sock_path
        self.map_outputs = {}      # (shuffle_id, map_id) -> (R,) pickled buckets
        self.broadcasts = {}       # bid -> value
        self.locations = {}        # set per task: shuffle_id -> (M,) holder socket paths
        self.peers = {}            # socket path -> open Connection to that peer

    def cache_get(self, rdd_id, split):
        return self.store.get((rdd_id, split))

    def cache_put(self, rdd_id, split, records):
        self.store.put((rdd_id, split), records)

    def shuffle_write(self, shuffle_id, map_id, buckets):
        blobs = [pickle.dumps(b, protocol=5) for b in buckets]
        self.map_outputs[(shuffle_id, map_id)] = blobs
        add_metric("shuffle_bytes_written", sum(len(b) for b in blobs))
        return [len(b) for b in buckets]           # the map status: records per bucket

    # metrics (summed per stage in ctx.jobs): shuffle_bytes_written, shuffle_bytes_fetched
    # (from peers only), shuffle_fetch_seconds (waiting for peers)

    def shuffle_read(self, shuffle_id, reduce_id, num_maps):
        holders = self.locations.get(shuffle_id, [None] * num_maps)
        for m in range(num_maps):
            yield from pickle.loads(self._fetch(shuffle_id, m, reduce_id, holders[m]))

    def _fetch(self, shuffle_id, map_id, reduce_id, holder):
        if holder is None:
            raise FetchFailed(shuffle_id, map_id, "no worker holds it")
        if holder == self.sock_path:
            blobs = self.map_outputs.get((shuffle_id, map_id))
            if blobs is None:
                raise FetchFailed(shuffle_id, map_id, "not in this worker")
            return blobs[reduce_id]
        t = time.perf_counter()
        try:
            conn = self.peers.get(holder) or self.peers.setdefault(
                holder, Client(holder, family="AF_UNIX"))
            conn.send((shuffle_id, map_id, reduce_id))
            blob = conn.recv_bytes()
            add_metric("shuffle_fetch_seconds", time.perf_counter() - t)
        except (OSError, EOFError) as exc:
            self.peers.pop(holder, None)
            raise FetchFailed(shuffle_id, map_id, f"peer {holder}: {exc!r}") from None
        if not blob:
            raise FetchFailed(shuffle_id, map_id, f"peer {holder} does not have it")
        add_metric("shuffle_bytes_fetched", len(blob))
        return blob

    def broadcast_value(self, bid):
        return self.broadcasts[bid]


def serve_fetches(listener, env):
    """Peers' reduce tasks ask (shuffle, map, reduce); answer with the pickled bucket,
    or b"" if this worker does not hold that map output. One thread per peer."""
    def serve(conn):
        with conn:
            while True:
                try:
                    shuffle_id, map_id, reduce_id = conn.recv()
                except (EOFError, OSError):
                    return
                blobs = env.map_outputs.get((shuffle_id, map_id))
                conn.send_bytes(b"" if blobs is None else blobs[reduce_id])

    while True:
        try:
            conn = listener.accept()
        except OSError:
            return
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


# ------------------------------------------------------------------------ main loop

def main(fd, tmpdir, slot):
    fd, slot = int(fd), int(slot)
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # Ctrl-C is the driver's to handle
    for stream in (sys.stdout, sys.stderr):         # whole lines: workers share a terminal
        stream.reconfigure(line_buffering=True, write_through=False)
    conn = Connection(fd)
    hello = recv_obj(conn)
    sys.path[:] = hello["sys_path"]                 # so functions pickled by reference import
    _watch_parent(os.getppid(), tmpdir)
    sock_path = os.path.join(tmpdir, f"w{slot}-{os.getpid()}.sock")
    listener = Listener(sock_path, family="AF_UNIX")
    store = BlockStore(hello["cache_bytes"])
    env = WorkerEnv(store, sock_path)
    threading.Thread(target=serve_fetches, args=(listener, env), daemon=True).start()
    send_obj(conn, ("ready", os.getpid(), sock_path))
    stages = OrderedDict()                          # stage_key -> unpickled stage, a few
    while True:
        try:
            msg = recv_obj(conn)
        except Exception:
            break          # the driver is gone (EOF), or died mid-message (garbage)
        if msg == "stop":
            break
        if isinstance(msg, tuple) and msg[0] == "unpersist":
            store.unpersist(msg[1])
            continue
        if isinstance(msg, tuple) and msg[0] == "drop_shuffle":
            for key in [k for k in env.map_outputs if k[0] == msg[1]]:
                del env.map_outputs[key]
            continue
        done = _run(msg, env, stages)
        try:
            send_obj(conn, done)
        except (OSError, EOFError):
            break
        except Exception as exc:                    # the result could not be pickled
            send_obj(conn, Done(TaskFailure(MinimrError(_unpicklable_result(msg, done, exc)), ""),
                                done.cached, done.dropped))
    listener.close()
    os._exit(0)


def _run(msg, env, stages):
    env.broadcasts.update(msg.broadcasts)
    env.locations = msg.locations
    if msg.blob is not None:
        try:
            stages[msg.stage_key] = cloudpickle.loads(msg.blob)
        except Exception as exc:
            return Done(TaskFailure(MinimrError(f"stage {msg.stage_key}: the task could not be "
                                                f"unpickled in the worker: {exc!r}"),
                                    traceback.format_exc()))
        while len(stages) > 16:
            stages.popitem(last=False)
    if msg.stage_key not in stages:     # its blob failed to unpickle, or was dropped
        return Done(TaskFailure(MinimrError(f"stage {msg.stage_key} is not in this worker"), ""))
    node, shuffle, func, stage_id, num_attempts = stages[msg.stage_key]
    task = Task(stage_id, msg.partition, msg.attempt, node, shuffle, func, num_attempts)
    out = run_task(task, env)
    if isinstance(out, TaskFailure):
        out = _sendable_failure(out)
    sys.stdout.flush()                              # user prints reach the terminal now
    sys.stderr.flush()
    cached, dropped = env.store.changes()
    return Done(out, cached, dropped)


def _sendable_failure(failure):
    """An exception that cannot be pickled travels as a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(failure.exception))
        return failure
    except Exception:
        exc = failure.exception
        failure.exception = RuntimeError(f"{type(exc).__name__}: {exc} (the original "
                                         "exception could not be pickled)")
        if failure.fetch_failed is not None:
            failure.fetch_failed = FetchFailed(failure.fetch_failed.shuffle_id,
                                               failure.fetch_failed.map_id, str(exc))
        return failure


def _unpicklable_result(msg, done, exc):
    what = type(done.outcome.value).__name__
    return (f"the result of partition {msg.partition} (a {what}) cannot be pickled to send "
            f"to the driver: {type(exc).__name__}: {exc}")


def _watch_parent(ppid, tmpdir):
    """Exit as soon as the driver is gone (our parent changes when it dies, even by
    SIGKILL); the first worker to notice removes the Context's temp dir."""
    def watch():
        while os.getppid() == ppid:
            time.sleep(0.2)
        import shutil
        shutil.rmtree(tmpdir, ignore_errors=True)
        os._exit(0)
    threading.Thread(target=watch, daemon=True).start()


