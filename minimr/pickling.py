"""How things travel between processes and to files: functions one way, data another.

    functions (a stage: its lineage, its user functions, the action)   dumps_task
        cloudpickle: lambdas and closures travel by value; the source file name is kept,
        so a traceback from a worker shows the user's line and pdb can break on it
    data (records, shuffle blocks, results, exceptions, cached batches)   dumps
        pickle protocol 5 (fast, numpy buffers out of band), falling back to
        cloudpickle when pickle cannot name a class (one defined in the user's script
        or inside a function: on a worker it exists only as the copy cloudpickle made)

Called by the executors (a task is pickled once per stage), by the worker loop and the
process layer (messages), and by the shuffle and spill files.
"""

import io
import pickle
import threading
import types
from collections import ChainMap

import cloudpickle

_broadcasts = threading.local()     # .ids: the broadcast ids met while a task is pickled


def dumps_task(obj) -> tuple[bytes, set]:
    """(cloudpickle bytes of a task or stage, ids of the broadcasts it uses). A broadcast
    pickles as its id only (shared.Broadcast.__reduce__ records it here), so the
    executor can send each value to each worker once, not inside every task."""
    _broadcasts.ids = set()
    try:
        buf = io.BytesIO()
        _KeepFilenamePickler(buf, protocol=5).dump(obj)
        return buf.getvalue(), _broadcasts.ids
    finally:
        _broadcasts.ids = None


def note_broadcast(bid):
    """Called while a Broadcast is pickled: remember that the task uses it."""
    ids = getattr(_broadcasts, "ids", None)
    if ids is not None:
        ids.add(bid)


def dumps_by_value(obj) -> bytes:
    """Data the driver hands to workers once (a broadcast value, parallelize's slices):
    cloudpickle, so a class of the driver's __main__, which pickle would name but no
    worker can import, travels by value, as it does inside a task."""
    return dumps_task(obj)[0]


OUT_OF_BAND = 1 << 16      # smaller buffers are cheaper inside the pickle stream


def dumps(obj, buffers=None) -> bytes:
    """Data: pickle 5, or cloudpickle for what pickle cannot name. Given a list
    `buffers`, each buffer of 64 KiB or more (a big numpy array) is left out of the
    bytes and appended to it, to travel as it is (pickle 5's out-of-band data)."""
    keep = None if buffers is None else \
        (lambda buf: buf.raw().nbytes < OUT_OF_BAND or buffers.append(buf))
    try:
        return pickle.dumps(obj, 5, buffer_callback=keep)
    except (pickle.PicklingError, AttributeError, TypeError):
        if buffers:
            buffers.clear()                  # what pickle took before it failed
        return cloudpickle.dumps(obj, 5, buffer_callback=keep)


loads = pickle.loads      # both kinds load with plain pickle (cloudpickle's output too)


def find_unpicklable(roots):
    """Walk the functions reachable from `roots` (a task's functions and lineage nodes)
    and name the first captured variable (closure cell or global) that cloudpickle
    refuses: "`lock` (a _thread.lock), captured by <lambda> at job.py:12"."""
    seen, stack = set(), list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen or not (callable(obj) or hasattr(obj, "__dict__")):
            continue
        seen.add(id(obj))
        code = getattr(obj, "__code__", None)
        if code is None:                          # a lineage node, an Aggregator...
            stack.extend(vars(obj).values() if hasattr(obj, "__dict__") else ())
            continue
        names = [(n, c.cell_contents) for n, c in zip(code.co_freevars, obj.__closure__ or ())
                 if c != _EMPTY_CELL]
        names += [(n, obj.__globals__[n]) for n in code.co_names if n in obj.__globals__]
        for name, value in names:
            if getattr(value, "__code__", None) is not None:
                stack.append(value)
                continue
            try:
                cloudpickle.dumps(value)
            except Exception:
                kind = type(value)
                return (f"`{name}` (a {kind.__module__}.{kind.__qualname__}), captured by "
                        f"{obj.__qualname__} at {code.co_filename.rsplit('/', 1)[-1]}:{code.co_firstlineno}")
    return None


_EMPTY_CELL = types.CellType()      # a closure cell whose variable is not assigned yet


# cloudpickle 3 renames the file of every function it pickles by value to "<dynamic-code>"
# (for deterministic bytes); we keep the real name. Nothing else changes. A reader may
# skip this.

def _code_reduce_keep_filename(code):
    rebuild, args = cloudpickle.cloudpickle._code_reduce(code)
    return rebuild, tuple(code.co_filename if a == "<dynamic-code>" else a for a in args)


class _KeepFilenamePickler(cloudpickle.CloudPickler):
    dispatch_table = ChainMap({types.CodeType: _code_reduce_keep_filename},
                              cloudpickle.CloudPickler.dispatch_table)
