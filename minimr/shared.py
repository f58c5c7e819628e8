"""Shared variables (Spark's name): broadcast values and accumulators.

What they do *inside* a task is the interesting part:

    Broadcast    the driver keeps the value pickled (a snapshot taken at broadcast(), by
                 value: see pickling.dumps_by_value);
                 pickling a Broadcast into a task writes only its id, and the executor
                 sends the bytes to each worker once; in a task ``.value`` asks the env
    Accumulator  in a task, ``add`` goes to that attempt's own zero copy, sent back with
                 its result (task.run_task); the driver merges successful attempts only

Made by Context.broadcast / Context.accumulator; read by task.py and the executors.
"""

from . import pickling
from .errors import MinimrError
from .task import current_env, task_accumulators


class Broadcast:
    """A read-only value shipped to each worker once, not inside every task.

    >>> b = Broadcast(7, pickling.dumps([1, 2]), {})
    >>> b.value
    [1, 2]
    """

    def __init__(self, bid: int, data=None, registry=None):
        self.id = bid
        self._registry = registry        # the driver's {id: pickled value}; None in a task
        if registry is not None:
            registry[bid] = data

    @property
    def value(self):
        if self._registry is None:                # inside a task
            env = current_env()
            if env is None:
                raise RuntimeError(f"broadcast {self.id}: the value is only available in "
                                   "the driver or inside a task")
            return env.broadcast_value(self.id)
        self._check()
        if not hasattr(self, "_value"):
            self._value = pickling.loads(self._registry[self.id])
        return self._value

    def unpersist(self, blocking=False):
        pass      # workers keep the value until the Context stops

    def destroy(self, blocking=False):
        if self._registry is not None:
            self._registry.pop(self.id, None)

    def _check(self):
        """In the driver, a destroyed broadcast is refused (Spark's assertValid), in
        ``.value`` and when a task that uses it is pickled: before the job starts."""
        if self._registry is not None and self.id not in self._registry:
            raise MinimrError(f"Attempted to use Broadcast({self.id}) after it was destroyed")

    def __reduce__(self):
        self._check()
        pickling.note_broadcast(self.id)
        return (Broadcast, (self.id,))

    def __repr__(self):
        return f"<Broadcast {self.id}>"


class AccumulatorParam:
    """How to add two values and what zero is (PySpark's AccumulatorParam)."""

    def zero(self, value):
        raise NotImplementedError

    def addInPlace(self, value1, value2):
        raise NotImplementedError


class AddingAccumulatorParam(AccumulatorParam):
    def __init__(self, zero_value):
        self.zero_value = zero_value

    def zero(self, value):
        return self.zero_value

    def addInPlace(self, value1, value2):
        value1 += value2
        return value1


class Accumulator:
    """Tasks ``add``; the driver reads ``value``.

    >>> acc = Accumulator(1, 0, AddingAccumulatorParam(0))
    >>> acc += 5; acc.value
    5
    """

    def __init__(self, aid: int, value, param: AccumulatorParam, in_driver=True):
        self.aid, self.param, self._in_driver = aid, param, in_driver
        self._value = value

    @property
    def value(self):
        if not self._in_driver:
            raise RuntimeError("Accumulator.value cannot be read inside a task")
        return self._value

    @value.setter
    def value(self, v):
        if not self._in_driver:
            raise RuntimeError("Accumulator.value cannot be set inside a task")
        self._value = v

    def add(self, term):
        local = task_accumulators()
        if local is None:                       # the driver, outside any task
            self._value = self.param.addInPlace(self._value, term)
            return
        acc = local.get(self.aid)
        if acc is None:                         # first add in this attempt: a zero copy
            acc = local[self.aid] = Accumulator(self.aid, self.param.zero(self._value),
                                                self.param, in_driver=False)
        acc._value = self.param.addInPlace(acc._value, term)

    def __iadd__(self, term):
        self.add(term)
        return self

    def _merge(self, update):
        self._value = self.param.addInPlace(self._value, update)

    def __reduce__(self):
        return (Accumulator, (self.aid, self.param.zero(self._value), self.param, False))

    def __repr__(self):
        return f"Accumulator<id={self.aid}, value={self._value}>"
