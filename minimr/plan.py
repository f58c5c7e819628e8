"""The lineage graph and how an action cuts it into stages.

An RDD (rdd.py) is a handle; the dataset it names is a `Node` here. Nodes are small,
picklable and hold no Context, so a task can carry its stage's lineage to a worker.
Each node knows how to compute one of its partitions from its parents::

    ParallelCollection / RangeSource / TextFile      sources: a slice of data, a file split
    Pipelined(parent, f)                             narrow: f(split, iterator), fused chains
    Union / Coalesced / Cartesian                    narrow, several parent partitions
    Shuffled(parent, partitioner, aggregator)        wide: reads the shuffle's blocks

Stages. A narrow dependency lets a partition be computed from parent partitions in the
same task, so narrow chains stay in one stage. A Shuffled node needs *every* map output
first, so it is a stage boundary::

    textFile ─ flatMap∘map ─┐ shuffle ┌─ Shuffled ─ mapValues ─► collect
    └──────── stage 0 ───────┘        └────────── stage 1 ─────────────┘
      (map tasks: env.shuffle_write)           (result tasks: env.shuffle_read, func)

A stage is therefore exactly one MapReduce job; a chain of shuffles is a chain of jobs.
rdd.py makes the nodes; scheduler.py asks for stages; task.py computes a partition.
"""

import itertools
import time

from .io import read_split
from .task import add_metric, counted

INPUT = "map_input_records"     # records a stage reads from a source or a cached block


class StorageLevel:
    """Where a persisted dataset is kept; the names are PySpark's.

    The serial and memory executors keep every level in RAM as live objects; the disk
    executor keeps nothing but files between jobs: a level with useDisk is written to
    files, a memory level is computed again by every job."""

    def __init__(self, useDisk, useMemory, useOffHeap, deserialized, replication=1):
        self.useDisk, self.useMemory, self.useOffHeap = useDisk, useMemory, useOffHeap
        self.deserialized, self.replication = deserialized, replication

    def __eq__(self, other):     # by the five fields, so pyspark.StorageLevel compares too
        fields = ("useDisk", "useMemory", "useOffHeap", "deserialized", "replication")
        return all(hasattr(other, f) for f in fields) and all(
            getattr(self, f) == getattr(other, f) for f in fields)

    def __hash__(self):
        return hash(tuple(vars(self).values()))

    def __repr__(self):
        return "StorageLevel(%s, %s, %s, %s, %s)" % tuple(vars(self).values())

    def __str__(self):
        parts = [name for name, on in (("Disk", self.useDisk), ("Memory", self.useMemory),
                                       ("OffHeap", self.useOffHeap)) if on]
        parts.append("Deserialized" if self.deserialized else "Serialized")
        return f"{' '.join(parts)} {self.replication}x Replicated"


StorageLevel.DISK_ONLY = StorageLevel(True, False, False, False)
StorageLevel.DISK_ONLY_2 = StorageLevel(True, False, False, False, 2)
StorageLevel.DISK_ONLY_3 = StorageLevel(True, False, False, False, 3)
StorageLevel.MEMORY_ONLY = StorageLevel(False, True, False, False)
StorageLevel.MEMORY_ONLY_2 = StorageLevel(False, True, False, False, 2)
StorageLevel.MEMORY_AND_DISK = StorageLevel(True, True, False, False)
StorageLevel.MEMORY_AND_DISK_2 = StorageLevel(True, True, False, False, 2)
StorageLevel.MEMORY_AND_DISK_DESER = StorageLevel(True, True, False, True)
StorageLevel.OFF_HEAP = StorageLevel(True, True, True, False, 1)


class Node:
    """One dataset in the lineage: `parents` are its narrow dependencies (the same
    stage); `compute(split, env)` makes a partition; `iterator` puts the cache in front."""

    kind = "RDD"
    reads_input = False       # a source: its records are a stage's input

    def __init__(self, nid, num_partitions, parents=(), partitioner=None, op=""):
        self.id = nid
        self.num_partitions = num_partitions
        self.parents = tuple(parents)
        self.parent = self.parents[0] if len(self.parents) == 1 else None
        self.partitioner = partitioner      # set when keys are known to be placed by it
        self.storage = None                 # a StorageLevel once persisted
        self.op = op                        # what made it: "map", "reduceByKey", ...
        self.name = None

    def iterator(self, split, env):
        """The partition's records: from the cache if this node is persisted and the
        block is there, else computed (and then stored, if persisted). Records that
        enter the stage here from a source or a cached block are counted."""
        if self.storage is not None:
            t = time.perf_counter()
            block = env.cache_get(self.id, split)
            add_metric("cache_read_seconds", time.perf_counter() - t)
            if block is not None:
                add_metric(INPUT, len(block))
                return iter(block)
        records = self.compute(split, env)
        if self.reads_input:
            records = counted(records, INPUT)
        if self.storage is None:
            return records
        block = list(records)
        t = time.perf_counter()
        env.cache_put(self.id, split, block, self.storage)
        add_metric("cache_write_seconds", time.perf_counter() - t)
        return iter(block)

    def label(self):
        name = f"{self.name} " if self.name else ""
        return f"{name}{self.kind}[{self.id}] at {self.op}"


class ParallelCollection(Node):
    kind, reads_input = "ParallelCollectionRDD", True

    def __init__(self, nid, slices, op="parallelize"):
        super().__init__(nid, len(slices), op=op)
        self.slices = slices                # (P,) lists of records

    def compute(self, split, env):
        return iter(self.slices[split])


class RangeSource(Node):
    """parallelize(range(...)): each partition is a sub-range, cut evenly (PySpark)."""
    kind, reads_input = "ParallelCollectionRDD", True

    def __init__(self, nid, r: range, num_slices, op="range"):
        super().__init__(nid, num_slices, op=op)
        self.r = r

    def compute(self, split, env):
        size, n = len(self.r), self.num_partitions
        return iter(self.r[split * size // n:(split + 1) * size // n])


class TextFile(Node):
    kind, reads_input = "HadoopRDD", True

    def __init__(self, nid, splits, use_unicode=True, op="textFile"):
        super().__init__(nid, len(splits), op=op)
        self.splits = splits                # (P,) io.FileSplit
        self.use_unicode = use_unicode      # False: lines as bytes

    def compute(self, split, env):
        return read_split(self.splits[split], self.use_unicode)


class Pipelined(Node):
    """A chain of narrow functions fused into one f(split, iterator) (PySpark's
    PipelinedRDD): map, flatMap, filter... never materialise between each other."""
    kind = "PythonRDD"

    def __init__(self, nid, parent, f, preserves_partitioning=False, op=""):
        ops = [op]
        partitioner = parent.partitioner if preserves_partitioning else None
        if isinstance(parent, Pipelined) and parent.storage is None:
            g, prev_f = f, parent.f           # fuse: f after prev_f, one pass per record
            f = lambda split, it: g(split, prev_f(split, it))  # noqa: E731
            ops = parent.ops + ops
            parent = parent.parent
        super().__init__(nid, parent.num_partitions, [parent], partitioner, op=op)
        self.f, self.ops = f, ops

    def compute(self, split, env):
        return self.f(split, self.parent.iterator(split, env))

    def label(self):
        return super().label().replace(f" at {self.op}", " at " + " | ".join(self.ops))


class Union(Node):
    """Partitions of the first parent, then of the second... If all parents share a
    partitioner, partition i of the result is partition i of each (Spark's
    PartitionerAwareUnionRDD), so the union keeps the partitioner."""
    kind = "UnionRDD"

    def __init__(self, nid, parents, aware=False, op="union"):
        n = parents[0].num_partitions if aware else sum(p.num_partitions for p in parents)
        super().__init__(nid, n, parents, parents[0].partitioner if aware else None, op=op)
        self.aware = aware

    def parts(self, split):
        """The (parent, partition) pairs that partition `split` is made of."""
        if self.aware:
            return [(p, split) for p in self.parents]
        for p in self.parents:
            if split < p.num_partitions:
                return [(p, split)]
            split -= p.num_partitions
        raise IndexError(split)

    def compute(self, split, env):
        return itertools.chain.from_iterable(p.iterator(s, env) for p, s in self.parts(split))


class Coalesced(Node):
    """coalesce(n) without a shuffle: partition i reads a contiguous run of parent
    partitions (Spark's DefaultPartitionCoalescer when there is no locality)."""
    kind = "CoalescedRDD"

    def __init__(self, nid, parent, groups, op="coalesce"):
        super().__init__(nid, len(groups), [parent], op=op)
        self.groups = groups                # (n,) lists of parent partitions

    def compute(self, split, env):
        return itertools.chain.from_iterable(self.parent.iterator(p, env)
                                             for p in self.groups[split])


class Cartesian(Node):
    """Partition i*nb + j pairs every record of a's partition i with b's partition j."""
    kind = "CartesianRDD"

    def __init__(self, nid, a, b, op="cartesian"):
        super().__init__(nid, a.num_partitions * b.num_partitions, [a, b], op=op)

    def compute(self, split, env):
        a, b = self.parents
        i, j = divmod(split, b.num_partitions)
        right = list(b.iterator(j, env))
        return ((x, y) for x in a.iterator(i, env) for y in right)


class Shuffled(Node):
    """The reduce side of a shuffle. Its `parent` (a wide dependency: not in `parents`)
    is bucketed by `partitioner` in the map tasks of the previous stage; partition r
    here merges bucket r of every map output."""
    kind = "ShuffledRDD"

    def __init__(self, nid, parent, partitioner, aggregator=None, map_side_combine=False,
                 op="partitionBy"):
        super().__init__(nid, partitioner.num_partitions, (), partitioner, op=op)
        self.parent, self.aggregator, self.map_side_combine = parent, aggregator, map_side_combine
        self.shuffle_id = nid

    def compute(self, split, env):
        return env.shuffle_read(self, split)


# ------------------------------------------------------------------------- stages

def narrow_ancestors(node):
    """Every node computed inside the same stage as `node`, stopping at shuffles (the
    Shuffled node itself is included: the stage starts by reading it)."""
    seen, stack, out = set(), [node], []
    while stack:
        n = stack.pop()
        if n.id in seen:
            continue
        seen.add(n.id)
        out.append(n)
        stack.extend(n.parents)
    return out


def parent_shuffles(node):
    """The shuffles a stage ending at `node` reads, i.e. its parent stages."""
    return [n for n in narrow_ancestors(node) if isinstance(n, Shuffled)]


def cached_inputs(node, split):
    """The persisted (rdd_id, partition) blocks that computing `split` of `node` would
    read first, through narrow functions and unions (a join of co-partitioned datasets
    reads both sides' partition `split`). A process executor sends the task to the
    worker holding them."""
    out, stack = [], [(node, split)]
    while stack:
        n, s = stack.pop()
        if n.storage is not None:
            out.append((n.id, s))
        elif isinstance(n, Pipelined):
            stack.append((n.parent, s))
        elif isinstance(n, Union):
            stack.extend(n.parts(s))
    return out


def debug_string(node) -> str:
    """Spark's toDebugString: one line per dataset; ``+-`` marks a shuffle, where a new
    (parent) stage begins, indented one level deeper; ``(n)`` is the partition count
    of a stage's last dataset; persisted datasets show their storage level."""
    lines = []

    def walk(n, depth, first):
        branch = ("   " * (depth - 1) + " +-" if depth else "") + f"({n.num_partitions}) "
        head = branch if first else "   " * depth + " |  "
        lines.append(f"{head}{n.label()} [{n.storage or ''}]")
        if isinstance(n, Shuffled):
            walk(n.parent, depth + 1, True)
        else:
            for p in n.parents:
                walk(p, depth, False)

    walk(node, 0, True)
    return "\n".join(lines)
