"""The lineage graph and how an action cuts it into stages.

An RDD (rdd.py) is a handle; the dataset it names is a `Node` here. Nodes are small,
picklable and hold no Context, so a task can carry its stage's lineage to a worker.
Each node knows how to compute one of its partitions from its parents::

    ParallelCollection / FileSource                  sources: a slice of data, a file split
    Pipelined(parent, f)                             narrow: f(split, iterator), fused chains
    Narrow (union, coalesce, cartesian, zip)         narrow, several parent partitions
    Shuffled(parent, partitioner, aggregator)        wide: reads the shuffle's blocks
    LocalCheckpoint                                  what a local checkpoint leaves: nothing

Checkpoints (the RDD paper's lineage truncation): after a job, a dataset marked by
checkpoint() is written to files and `Node.cut` makes those files its only parent
(a FileSource); one marked by localCheckpoint() keeps its cached blocks and gets a
LocalCheckpoint parent, which fails if asked for a block that is gone.

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

from . import pickling
from .errors import MinimrError
from .task import add_metric, counted

INPUT = "input_records"     # records entering a stage: from a source, a cache or a shuffle


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
    reads_input = False       # a source or a shuffle read: its records are a stage's input

    def __init__(self, nid, num_partitions, parents=(), partitioner=None, op=""):
        self.id = nid
        self.num_partitions = num_partitions
        self.parents = tuple(parents)
        self.parent = self.parents[0] if len(self.parents) == 1 else None
        self.partitioner = partitioner      # set when keys are known to be placed by it
        self.storage = None                 # a StorageLevel once persisted
        self.checkpoint = None              # "reliable" / "local" once marked; "file:DIR" once written
        self.checkpointed = None            # after the cut: the node its data now comes from
        self.op = op                        # what made it: "map", "reduceByKey", ...
        self.name = None

    def iterator(self, split, env):
        """The partition's records: from the cache if this node is persisted and the
        block is there, else computed (and then stored, if persisted). Records that
        enter the stage here, from a source, a cached block or a shuffle, are counted."""
        if self.storage is not None:
            t = time.perf_counter()
            block = env.cache_get(self.id, split)
            add_metric("cache_read_seconds", time.perf_counter() - t)
            add_metric("cache_hits" if block is not None else "cache_misses", 1)
            if block is not None:
                add_metric(INPUT, len(block))
                return iter(block)
        records = (self.compute(split, env) if self.checkpointed is None      # Spark's
                   else self.checkpointed.iterator(split, env))             # computeOrReadCheckpoint
        if self.reads_input:
            records = counted(records, INPUT, timer="input_seconds")
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

    def cut(self, source):
        """Lineage truncation: from now on the partitions come from `source` (checkpoint
        files, or nothing but the cache), and the lineage above is forgotten."""
        self.checkpointed = source
        self.parents, self.parent = (source,), source


class ParallelCollection(Node):
    """parallelize(list): a snapshot of the data at the call (PySpark serializes it
    then), so later changes to the list or its records are not seen."""
    kind, reads_input = "ParallelCollectionRDD", True

    def __init__(self, nid, slices, op="parallelize", kind=None):
        super().__init__(nid, len(slices), op=op)
        self.slices = [pickling.dumps_by_value(s) for s in slices]   # (P,) pickled lists
        self.kind = kind or self.kind                                 # "EmptyRDD"

    def compute(self, split, env):
        return iter(pickling.loads(self.slices[split]))


class FileSource(Node):
    """Files: partition i is ``read(splits[i])`` (textFile: io.read_split of a byte
    range; wholeTextFiles: io.read_whole of some files; pickleFile and a reliable
    checkpoint: spill.read_pickles of one file)."""
    reads_input = True

    def __init__(self, nid, splits, read, kind="HadoopRDD", op="textFile"):
        super().__init__(nid, len(splits), op=op)
        self.splits, self.read, self.kind = splits, read, kind

    def compute(self, split, env):
        return self.read(self.splits[split])


class Pipelined(Node):
    """A chain of narrow functions fused into one f(split, iterator) (PySpark's
    PipelinedRDD): map, flatMap, filter... never materialise between each other."""
    kind = "PythonRDD"

    def __init__(self, nid, parent, f, preserves_partitioning=False, op=""):
        ops = [op]
        partitioner = parent.partitioner if preserves_partitioning else None
        if isinstance(parent, Pipelined) and parent.storage is None and parent.checkpoint is None:
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


class Narrow(Node):
    """A partition made from several parent partitions (Spark's NarrowDependency):
    partition i is ``how(iterators)`` over ``reads[i]``, a list of (parent index, split)::

        union      one parent partition, [(k, s)]; or, if all parents are placed by one
                   partitioner, partition i of each (PartitionerAwareUnionRDD)   chained
        coalesce   a contiguous run of the parent's partitions                   chained
        cartesian  [(0, i), (1, j)]: every record of a's i with every one of b's j   product
        zip        [(0, i), (1, i)]: the n-th records of both, side by side      zip_strict
    """

    def __init__(self, nid, kind, parents, reads, how, partitioner=None, op=""):
        super().__init__(nid, len(reads), parents, partitioner, op=op)
        self.kind, self.reads, self.how = kind, reads, how     # (P,) lists of (parent, split)

    def compute(self, split, env):
        return self.how(self.parents[k].iterator(s, env) for k, s in self.reads[split])


chained = itertools.chain.from_iterable


def product(iterators):
    a, b = iterators
    right = list(b)
    return ((x, y) for x in a for y in right)


def zip_strict(iterators):
    for x, y in itertools.zip_longest(*iterators, fillvalue=zip_strict):
        if x is zip_strict or y is zip_strict:          # (the function marks "no more")
            raise ValueError("Can only zip RDDs with same number of elements in each partition")
        yield x, y


class LocalCheckpoint(Node):
    """Where a locally checkpointed dataset's blocks would be recomputed from: nowhere."""
    kind = "LocalCheckpointRDD"

    def __init__(self, nid, node, op="localCheckpoint"):
        super().__init__(nid, node.num_partitions, op=op)
        self.rdd_id = node.id

    def compute(self, split, env):
        raise MinimrError(  # Spark's message
            f"Checkpoint block rdd_{self.rdd_id}_{split} not found! Either the executor that originally "
            "checkpointed this partition is no longer alive, or the original RDD is unpersisted. If "
            "this problem persists, you may consider using `rdd.checkpoint()` instead, which is "
            "slower than local checkpointing but more fault-tolerant.")


class Shuffled(Node):
    """The reduce side of a shuffle. Its `parent` (a wide dependency: not in `parents`)
    is bucketed by `partitioner` in the map tasks of the previous stage; partition r
    here merges bucket r of every map output."""
    kind, reads_input = "ShuffledRDD", True

    def __init__(self, nid, parent, partitioner, aggregator=None, map_side_combine=False,
                 op="partitionBy"):
        super().__init__(nid, partitioner.num_partitions, (), partitioner, op=op)
        self.parent, self.aggregator, self.map_side_combine = parent, aggregator, map_side_combine
        self.shuffle_id = nid

    def compute(self, split, env):      # one record per key when there is an aggregator
        return counted(env.shuffle_read(self, split), "reduce_input_groups")


def reads_shuffle(n):
    return isinstance(n, Shuffled) and n.checkpointed is None   # else it reads its checkpoint


# ------------------------------------------------------------------------- stages

def lineage(node, follow):
    """Each node of the lineage once, depth first; `follow(n)`: the nodes to visit next."""
    seen, stack = set(), [node]
    while stack:
        n = stack.pop()
        if n.id not in seen:
            seen.add(n.id)
            yield n
            stack.extend(follow(n))


def narrow_ancestors(node):
    """Every node computed inside the same stage as `node`, stopping at shuffles (the
    Shuffled node itself is included: the stage starts by reading it)."""
    return list(lineage(node, lambda n: n.parents))


def parent_shuffles(node):
    """The shuffles a stage ending at `node` reads, i.e. its parent stages."""
    return [n for n in narrow_ancestors(node) if reads_shuffle(n)]


def to_checkpoint(node):
    """The datasets of `node`'s whole lineage, across shuffles, marked for a checkpoint
    and not yet written: the first marked one on each path (Spark looks no further)."""
    def follow(n):
        done = n.checkpoint is not None or n.checkpointed is not None
        return () if done else n.parents + ((n.parent,) if reads_shuffle(n) else ())
    return [n for n in lineage(node, follow) if n.checkpoint is not None and n.checkpointed is None]


def cached_inputs(node, split):
    """The persisted (rdd_id, partition) blocks that computing `split` of `node` would
    read first, through narrow functions and narrow dependencies (a join of co-partitioned
    datasets reads both sides' partition `split`). A process executor sends the task to
    the worker holding them."""
    out, stack = [], [(node, split)]
    while stack:
        n, s = stack.pop()
        if n.storage is not None:
            out.append((n.id, s))
        elif isinstance(n, Pipelined):
            stack.append((n.parent, s))
        elif isinstance(n, Narrow):
            stack.extend((n.parents[k], j) for k, j in n.reads[s])
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
        if reads_shuffle(n):
            walk(n.parent, depth + 1, True)
        else:
            for p in n.parents:
                walk(p, depth, False)

    walk(node, 0, True)
    return "\n".join(lines)
