"""The process layer of the memory and disk executors: start a worker, talk to it, and
never leave a process or a directory behind.

    driver                                               a worker process
    ──────                                               ────────────────
    Worker(slot, hello): python -c "minimr.worker.main(FD)" ─socketpair─► worker.py's loop
      handshake() ◄── (pid, address) ──────────────────────────────────── env built
      send_obj(RunTask(stage blob once, partition, ...)) ────────────────► run_task
      recv_obj() ◄── Done(TaskResult | TaskFailure, what the env reports) ─┘

Messages are framed as one header, one pickle and its big buffers sent as they are
(send_obj/recv_obj). Clean-up: atexit stops every live executor; SIGTERM kills their
workers at once; a worker asks the kernel to SIGKILL it when the driver dies
(PR_SET_PDEATHSIG, worker.py), so even a SIGKILLed driver leaves no process behind,
whatever its workers are doing. That signal fires when the driver's *thread* that
started the worker ends, so every worker is started by one long-lived thread (spawn).
A Context's directory holds a `lock` file its driver keeps flock'ed while it lives; a
new Context removes every directory whose lock nobody holds (its driver died), as a
Hadoop NodeManager cleans its local dirs when it starts.

Used by executors/process.py (the dispatch loop both process executors share) and
worker.py (the other end of every socket here).
"""

import atexit
import fcntl
import glob
import os
import queue
import signal
import socket
import struct
import subprocess
import sys
import shutil
import tempfile
import threading
import weakref
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from . import pickling
from .errors import MinimrError
from .task import TaskFailure, TaskResult

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# a worker is `python -c _BOOT ROOT FD`: this very minimr, whatever the cwd holds
_BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); from minimr.worker import main; "
         "main(int(sys.argv[2]), int(sys.argv[3]))")


# ------------------------------------------------------------------ messages (records)

@dataclass
class RunTask:
    """driver -> worker: run one task attempt."""
    stage_key: int            # which stage: (node, shuffle, func, stage_id, num_attempts)
    blob: bytes | None        # the pickled stage, sent once per worker per stage
    partition: int
    attempt: int
    locations: dict           # what the env needs to find map outputs (memory: holders)
    broadcasts: dict = field(default_factory=dict)   # bid -> pickled value not sent before


@dataclass
class Done:
    """worker -> driver: the outcome, and what the env wants the driver to know."""
    outcome: TaskResult | TaskFailure
    news: object = None       # memory: blocks cached and evicted meanwhile


def send_obj(conn, obj):
    """Send `obj` as one header + one pickle + its out-of-band buffers (big numpy
    arrays travel as raw bytes, not copied into the pickle stream)."""
    buffers = []
    body = pickling.dumps(obj, buffers)
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
        buffers.append(bytearray(size))
        conn.recv_bytes_into(buffers[-1])
    return pickling.loads(body, buffers=buffers)


# ------------------------------------------------------------------ a worker process

class Worker:
    """The driver's handle on one worker process, and what the driver knows it holds."""

    def __init__(self, slot, hello):
        ours, theirs = socket.socketpair()
        # one hash seed for all workers: keys whose hash() is salted per process (dates,
        # enums, objects hashing their str fields) must land in one partition everywhere
        env = dict(os.environ, PYTHONHASHSEED=os.environ.get("PYTHONHASHSEED", "0"))
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(var, "1")     # one core per worker: no BLAS thread pools
        self.proc = spawn([sys.executable, "-c", _BOOT, _ROOT, str(theirs.fileno()), str(os.getpid())],
                          pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL)
        theirs.close()
        self.slot, self.pid, self.conn = slot, self.proc.pid, Connection(ours.detach())
        self.address = None       # where peers fetch its map outputs (memory)
        self.blocks = {}          # (rdd, split) -> (records, bytes) cached here (memory)
        self.broadcasts = set()   # broadcast ids already sent
        self.stages = set()       # stage keys already sent
        self.tasks_run = 0
        self.alive = True
        self.stopped_since = None   # when the driver first saw it stopped (SIGSTOP)
        try:
            send_obj(self.conn, hello)
        except OSError:
            pass                    # killed already: handshake() says so

    def handshake(self, timeout=60):
        """Wait for "ready" (the worker has built its env)."""
        try:
            if self.conn.poll(timeout):
                self.pid, self.address = recv_obj(self.conn)
                return self
        except (EOFError, OSError):
            pass
        self.proc.kill()
        raise MinimrError(f"worker {self.slot} did not start (exit code {self.proc.wait()})")

    def __repr__(self):
        return f"<worker {self.slot} pid {self.pid}>"


def exit_text(code):
    """How a process ended: "killed by signal 9 (Killed)" or "exit code 1"."""
    if code is not None and code < 0:
        return f"killed by signal {-code} ({signal.strsignal(-code)})"
    return f"exit code {code}"


def forget(d, first):
    """Remove from dict `d` every key (a tuple) that starts with `first`."""
    for key in [k for k in d if k[0] == first]:
        del d[key]


_spawns, _spawner = queue.SimpleQueue(), [None]     # requests; the pid that runs the thread


def spawn(args, **kwargs):
    """subprocess.Popen(args, **kwargs), run by one long-lived thread of this process."""
    with _lock:
        if _spawner[0] != os.getpid():          # (a forked driver needs its own thread)
            _spawner[0] = os.getpid()
            threading.Thread(target=_spawn_forever, daemon=True, name="minimr-spawner").start()
    started = Future()
    _spawns.put((args, kwargs, started))
    return started.result()


def _spawn_forever():
    while True:
        args, kwargs, started = _spawns.get()
        try:
            started.set_result(subprocess.Popen(args, **kwargs))
        except BaseException as exc:
            started.set_exception(exc)


_lock = threading.Lock()
_locks = {}             # directory -> the open file whose flock says "my driver is alive"


def private_dir(prefix, parent=None, lock=True):
    """A new directory only this user can enter (mode 0700), with a `lock` file this
    process holds (flock) until release(); first remove the minimr directories in
    `parent` whose lock nobody holds."""
    parent = parent or tempfile.gettempdir()
    for old in glob.glob(os.path.join(glob.escape(parent), "minimr-*", "lock")):
        if not _held(old):
            shutil.rmtree(os.path.dirname(old), ignore_errors=True)
    path = tempfile.mkdtemp(prefix=prefix, dir=parent)
    if lock:                   # locked before it has its name: never seen unlocked
        fd = os.open(os.path.join(path, "lock.new"), os.O_CREAT | os.O_WRONLY, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(os.path.join(path, "lock.new"), os.path.join(path, "lock"))
        _locks[path] = fd
    return path


def _held(lock):
    """Does a live process hold this flock? (If we cannot open it, assume so.)"""
    try:
        with open(lock) as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except OSError:
        return True


def release(path):
    fd = _locks.pop(path, None)
    if fd is not None:
        os.close(fd)


# ------------------------------------------- never leave workers or temp dirs behind

_live = weakref.WeakSet()
_installed = False


def watch_for_exit(executor):
    """atexit stops every live executor (a program that never called stop(), or ended
    by an uncaught Ctrl-C); SIGTERM kills their workers at once."""
    global _installed
    if not _installed:
        _installed = True
        atexit.register(lambda: [e.stop() for e in list(_live)])
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL):
            signal.signal(signal.SIGTERM, _terminate)
    _live.add(executor)


def _terminate(signum, frame):
    """Die of the signal as we would have, after killing the workers. Not SystemExit:
    code that catches it (a test runner does) would swallow the SIGTERM. No messages
    either: we may have interrupted a write to a worker's socket."""
    for executor in list(_live):
        executor.kill()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
