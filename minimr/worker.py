"""The worker loop: one long-lived process that runs tasks, for both process executors.

Started by procs.Worker as ``python -c "... main(FD)"``; FD is its end of a socketpair
with the driver::

    hello {env class, its options, the Context's directory, the driver's sys.path}
      └─► env = MemoryEnv (executors/memory.py: blocks in this process's RAM)
              | DiskEnv  (executors/disk.py: blocks in files)     ──► "ready"
    loop:  RunTask ──► stage (unpickled once, kept) + partition ──► run_task(task, env)
                   ◄── Done(TaskResult | TaskFailure, env.after_task())
           ("unpersist", rdd) / ("drop_shuffle", shuffle): a call on the env
           "stop", or EOF (the driver is gone): exit

The two executors' workers differ only in their env: where shuffle blocks and cached
partitions go, not in this loop. The worker exits when told to, or when its socket to
the driver closes; and the kernel kills it when the driver dies, even by SIGKILL and
even while a task holds the GIL in one long C call (PR_SET_PDEATHSIG; where there is no
prctl, a thread watching the parent does it). Ctrl-C in a terminal reaches the whole
process group: workers ignore SIGINT and let the driver stop them. SIGUSR1 from the
driver cancels the running attempt (another attempt of the task won): the task raises
TaskKilled at its next Python line, and the worker goes on with the next task.
"""

import ctypes
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from collections import OrderedDict
from multiprocessing.connection import Connection

from . import pickling
from .errors import MinimrError
from .procs import Done, recv_obj, send_obj
from .task import Task, TaskFailure, current_task, run_task

STAGES_KEPT = 16            # unpickled stages a worker keeps for the next tasks


def main(fd, driver):
    _die_with(driver)
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # Ctrl-C is the driver's to handle
    signal.signal(signal.SIGUSR1, _cancel)
    for stream in (sys.stdout, sys.stderr):         # whole lines: workers share a terminal
        stream.reconfigure(line_buffering=True, write_through=False)
    conn = Connection(fd)
    hello = recv_obj(conn)
    sys.path[:] = hello["sys_path"]                 # so functions pickled by reference import
    _watch_parent(os.getppid(), hello["dir"])
    env = hello["env"](hello["dir"], **hello["options"])
    env.faults = hello["faults"]
    send_obj(conn, (os.getpid(), env.address))
    stages = OrderedDict()                          # stage key -> unpickled stage, a few
    while True:
        try:
            msg = recv_obj(conn)
        except Exception:
            break          # the driver is gone (EOF), or died mid-message (garbage)
        if msg == ("stop",):
            break
        if isinstance(msg, tuple):                  # ("unpersist", 3): a call on the env
            getattr(env, msg[0])(*msg[1:])
            continue
        outcome = run_one(msg, env, stages)
        sys.stdout.flush()                          # user prints reach the terminal now
        sys.stderr.flush()
        news = env.after_task()
        try:
            send_obj(conn, Done(outcome, news))
        except (OSError, EOFError):
            break
        except Exception as exc:                    # the result could not be pickled
            send_obj(conn, Done(TaskFailure(MinimrError(
                f"the result of partition {msg.partition} (a {type(outcome.value).__name__}) "
                f"cannot be pickled to send to the driver: {type(exc).__name__}: {exc}"), ""), news))
    os._exit(0)


def run_one(msg, env, stages):
    """Unpickle the stage if it is new here, then run the task attempt."""
    env.broadcasts.update(msg.broadcasts)
    env.locations = msg.locations
    if msg.blob is not None:
        try:
            stages[msg.stage_key] = pickling.loads(msg.blob)
        except Exception as exc:
            return TaskFailure(MinimrError(f"stage {msg.stage_key}: the task could not be "
                                           f"unpickled in the worker: {exc!r}"),
                               traceback.format_exc())
        while len(stages) > STAGES_KEPT:
            stages.popitem(last=False)
    if msg.stage_key not in stages:      # its blob failed to unpickle, or was dropped
        return TaskFailure(MinimrError(f"stage {msg.stage_key} is not in this worker"), "")
    node, shuffle, func, stage_id, num_attempts = stages[msg.stage_key]
    outcome = run_task(Task(stage_id, msg.partition, msg.attempt, node, shuffle, func,
                            num_attempts), env)
    if isinstance(outcome, TaskFailure):
        try:                             # an exception that cannot travel goes as text
            pickling.dumps(outcome.exception)
        except Exception:
            exc = outcome.exception
            outcome.exception = RuntimeError(f"{type(exc).__name__}: {exc} (the original "
                                             "exception could not be pickled)")
    return outcome


class TaskKilled(Exception):
    """The driver cancelled this attempt: another attempt of the task finished first."""


def _cancel(signum, frame):
    if current_task() is not None:       # between tasks there is nothing to cancel
        raise TaskKilled("cancelled by the driver: another attempt of this task won")


def _die_with(driver):
    """Ask the kernel to SIGKILL this process when the driver's thread that started it
    ends (prctl PR_SET_PDEATHSIG = 1); exit now if the driver is already gone."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass                             # no prctl (not Linux): _watch_parent does it
    if os.getppid() != driver:
        os._exit(0)


def _watch_parent(ppid, workdir):
    """Exit as soon as the driver is gone (our parent changes when it dies, even by
    SIGKILL); the first worker to notice removes the Context's directory."""
    def watch():
        while os.getppid() == ppid:
            time.sleep(0.2)
        shutil.rmtree(workdir, ignore_errors=True)
        os._exit(0)
    threading.Thread(target=watch, daemon=True).start()
