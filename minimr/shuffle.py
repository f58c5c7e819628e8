"""The shuffle: the one wide dependency, shared by every executor.

Every wide operation (reduceByKey, groupByKey, join, distinct, sortByKey, ...) ends in
one ShuffledRDD (plan.Shuffled). Its two halves run in two different stages::

    map side (end of stage N)                       reduce side (start of stage N+1)
    ─────────────────────────                       ────────────────────────────────
    records ──combine (optional)──►                  read bucket r of every map output
            ──partitioner(key)──► bucket[r]          ──merge equal keys (optional)──► records
            ══ env.shuffle_write ══► (blocks)  ════► env.shuffle_read

Each executor's env implements the two ends (task.py); what differs is only where the
blocks live between the halves: a dict (serial), a worker's RAM (memory), sorted files
(disk, spill.py). The partitioners and the combine are here, written once.

Keys must land in the same bucket in every process, run after run, so the partitioner
uses `stable_hash`, never builtin ``hash()`` of a string (randomised per process
unless PYTHONHASHSEED is set). It agrees with ``==``: 1, 1.0 and True are one key.

Used by wide.py (partitioners, Aggregator, combine), MemoryEnv in executors/memory.py
(bucketize, reduce_side_combine) and spill.py (combine, stable_hash).
"""

import bisect
import copy
import zlib
from dataclasses import dataclass
from typing import Callable

from .task import add_metric, counted

_MASK = (1 << 63) - 1   # sys.maxsize on 64-bit CPython


def stable_hash(x) -> int:
    """A hash that is the same in every process and agrees with ``==``.

    Numbers use Python's numeric hash, which is already deterministic and equal for
    equal numbers of different types; strings and bytes use crc32 of their bytes;
    tuples combine their elements the way PySpark's ``portable_hash`` does.

    >>> stable_hash(1) == stable_hash(1.0) == stable_hash(True)
    True
    >>> stable_hash("spark") == stable_hash("spark") and stable_hash(None)
    0
    """
    if type(x) is str or isinstance(x, str):      # (the first test is a speed path)
        return zlib.crc32(x.encode("utf-8", "surrogatepass"))
    if x is None:
        return 0
    if isinstance(x, (bytes, bytearray, memoryview)):
        return zlib.crc32(x)
    if isinstance(x, tuple):
        h = 0x345678
        for item in x:
            h = ((h ^ stable_hash(item)) * 1000003) & _MASK
        return h ^ len(x)
    if isinstance(x, frozenset):
        return sum(stable_hash(i) for i in x) & _MASK       # order-free, like the set
    # ints, floats, bools, Decimal: deterministic everywhere. Other types (dates, enums,
    # user classes) may salt hash() per process: worker processes therefore all run
    # with one PYTHONHASHSEED, so they agree with each other.
    return hash(x)


class HashPartitioner:
    """key -> stable_hash(key) % n. Two partitioners are equal when they would place
    every key identically, which lets partitionBy skip a shuffle (Spark does the same).

    >>> HashPartitioner(4)(("a", 1)) == HashPartitioner(4)(("a", 1.0))
    True
    """

    def __init__(self, num_partitions: int, partition_func: Callable = stable_hash):
        self.num_partitions = num_partitions
        self.partition_func = partition_func

    def __call__(self, key) -> int:
        return self.partition_func(key) % self.num_partitions

    def __eq__(self, other):
        return (isinstance(other, HashPartitioner) and other.num_partitions == self.num_partitions
                and other.partition_func is self.partition_func)

    def __repr__(self):
        return f"HashPartitioner({self.num_partitions}, {getattr(self.partition_func, '__name__', '?')})"


class RangePartitioner:
    """key -> the index of its range among sorted sample `bounds` (sortByKey)."""

    def __init__(self, num_partitions, bounds, ascending, keyfunc):
        self.num_partitions, self.bounds = num_partitions, bounds
        self.ascending, self.keyfunc = ascending, keyfunc

    def __call__(self, key):
        p = bisect.bisect_left(self.bounds, self.keyfunc(key))
        return p if self.ascending else self.num_partitions - 1 - p


@dataclass
class Aggregator:
    """How values of one key are folded together (Spark's Aggregator; PySpark's
    combineByKey arguments). reduceByKey(f) is Aggregator(lambda v: v, f, f)."""
    create_combiner: Callable
    merge_value: Callable
    merge_combiners: Callable


def combine(pairs, create, merge):
    """The one combine loop (Hadoop's combiner, Spark's combineValuesByKey): fold the
    values of equal keys, by ``==``, into one (key, combiner) each, in first-seen order.

    A combiner that *is* the value it came from (``create`` is the identity, or ``merge``
    returned its second argument) is copied first: the value may be a record of a live
    cache (serial, memory), and ``merge`` may change its first argument in place, as
    PySpark allows. So combining never changes a record it read.

    >>> list(combine([("a", 1), ("b", 1), ("a", 1)], lambda v: v, lambda c, v: c + v))
    [('a', 2), ('b', 1)]
    """
    combined = {}
    for k, v in pairs:
        c = merge(combined[k], v) if k in combined else create(v)
        combined[k] = copy.copy(c) if c is v else c
    return combined.items()


def identity(x):
    return x


def reduce_fold(shuffled):
    """How a reduce task folds the records of a key: (create, merge), merging map-side
    combiners or values; None without an aggregator (partitionBy: every record)."""
    agg = shuffled.aggregator
    if agg is None:
        return None
    return ((identity, agg.merge_combiners) if shuffled.map_side_combine
            else (agg.create_combiner, agg.merge_value))


def reduce_side_combine(pairs, shuffled):
    """The records a reduce task reads, in memory: one record a key (reduce_fold)."""
    fold = reduce_fold(shuffled)
    return iter(pairs if fold is None else combine(pairs, *fold))


def bucketize(records, shuffled):
    """Map side, in memory: one list of (key, value) per reduce partition, counting the
    map function's records (MAP_OUTPUT_RECORDS). With a map-side combine, equal keys are
    folded first in one dict for the whole partition, so only distinct keys are hashed
    and moved (PySpark's combineLocally)."""
    agg = shuffled.aggregator if shuffled.map_side_combine else None
    records = counted(records, "output_records", *(["combine_input_records"] if agg else []))
    if agg is not None:
        records = combine(records, agg.create_combiner, agg.merge_value)
        add_metric("combine_output_records", len(records))
    partitioner = shuffled.partitioner
    buckets = [[] for _ in range(partitioner.num_partitions)]   # (R,) lists of (key, value)
    for k, v in records:
        buckets[partitioner(k)].append((k, v))
    return buckets
