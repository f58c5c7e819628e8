"""Errors: minimr's own, and how a user's exception travels back from a task.

A task never raises across a process boundary. It returns its failure as data
(`TaskFailure`, in task.py) holding the exception and the remote traceback as text;
the driver then raises the user's *own* exception type with the engine's context
added as a note, and the remote traceback attached as ``__cause__``. This is what
CPython's concurrent.futures does with ``_RemoteTraceback``.

Raised all over the engine; scheduler.raise_task_failure raises a task's failure in
the driver; FetchFailed is raised by the envs' shuffle_read and handled by the scheduler.
"""

import math
import numbers


class MinimrError(Exception):
    """Something about the program or its input that minimr refuses, said before work starts
    where it can be."""


class RemoteTraceback(Exception):
    """Carries a traceback formatted where the task ran; shown as the ``__cause__``."""

    def __init__(self, tb: str):
        super().__init__(tb)
        self.tb = tb

    def __str__(self):
        return "\n\n" + self.tb.rstrip()


class FetchFailed(Exception):
    """A reduce task could not read a map output (lost worker, deleted or corrupt file).

    The scheduler answers by re-running that map task, not by failing the job
    (Spark's FetchFailedException, Hadoop's "too many fetch failures")."""

    def __init__(self, shuffle_id: int, map_id: int, why: str = ""):
        super().__init__(shuffle_id, map_id, why)
        self.shuffle_id, self.map_id, self.why = shuffle_id, map_id, why

    def __str__(self):
        return f"shuffle {self.shuffle_id}: map output {self.map_id} unavailable ({self.why})"


def positive(n, what):
    """n as an int, if it is a positive integer (numpy ints too); else a MinimrError."""
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n <= 0:
        raise MinimrError(f"{what} must be a positive integer, got {n!r}")
    return int(n)


def real(x, what, low, high=math.inf, low_ok=False):
    """x as a float, if it is a number above `low` (or equal, with low_ok) and at most
    `high`; else a MinimrError naming it."""
    if isinstance(x, numbers.Real) and not isinstance(x, bool) and x <= high \
            and (low <= x if low_ok else low < x):
        return float(x)
    raise MinimrError(f"{what} must be a number {'>=' if low_ok else '>'} {low}"
                      + (f" and <= {high}" if high < math.inf else "") + f", got {x!r}")
