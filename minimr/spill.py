"""The disk shuffle, as a recipe: external sort, spill, k-way merge, segment index.

DESIGN.md puts external sort/spill/merge in shuffle.py; shuffle.py is the part every
executor shares (partitioners, the in-memory combine), so the disk executor's half lives
here. Read it top to bottom; each step is callable alone, like madoop's map_stage ->
group_stage -> reduce_stage::

  map task                                                         reduce task r
  ────────                                                         ─────────────
  (k, v) ──► SortBuffer ──full──► spill ──► spill-0.out  ┐         fetch segment r of every
   partition, order prefix,  sort by (partition,   spill-1.out  │         file.out (crc32 checked)
   pickled record: counted   key), combine,        ...          │           map-00000.seg ...
   bytes, never RSS          write + index                      │                  │
                              map_side: merge_runs per partition ┘                  ▼
                              ──► file.out + file.out.index        merge_runs: <= merge_factor
                                  (offset, length, records, crc32    runs at a time, in passes
                                   of each reduce partition)        ──► group equal keys, fold
                                                                    ──► reducer, streaming

Order. Hadoop sorts map output by key; Python keys need not be comparable (1 and "a"),
and some that compare do not sort (frozensets compare as subsets). So records are ordered
by `sort_key(key)`: None, then numbers (1 == 1.0 == True, one key), NaN, str, bytes, tuples
(element-wise); any other type by stable_hash, equal keys then found with ``==``. Equal
keys keep their input order (stable sorts, ties broken by the earlier run), so groupByKey
lists values map 0 first, as Spark does.

The sort buffer (Hadoop's MapOutputBuffer) keeps records *serialized*: one bytearray of
length-prefixed pickles (kvbuffer) and three numpy columns (kvmeta: end offset, an 8-byte
order prefix, partition/rank/exact packed in 32 bits). Sorting is a numpy lexsort on the
columns; only records whose prefixes tie and are not exact (long strings sharing 8 bytes,
tuples, other types) are unpickled and sorted by full key, one tie block at a time.
`sort_buffer_bytes` is the whole budget of that, as io.sort.mb is in Hadoop: a record
counts its pickle + RECORD_COST (4 header + 20 metadata + 44 the sort's workspace,
measured), so a spill's peak stays near the budget. Never measured RSS.

Files. A run is a sequence of records ``<4-byte little-endian length><pickle of (k, v)>``.
An index is text, one line per reduce partition (``python -m minimr.spill FILE`` prints
any of these files)::

    # partition offset length records crc32
    0 0 1520 38 9d2a11f0
    ...
    # crc32 5c0ffee1

Memory: the budget above, plus one tie block of unpickled records during a spill; on the
merge and reduce side one record and a 1 MiB read buffer per open run, plus the values of
one key while a groupByKey gathers them (unbounded by nature: docs/disk.md).
"""

import heapq
import math
import numbers
import os
import pickle
import struct
import sys
import zlib
from array import array
from dataclasses import dataclass
from operator import itemgetter

import cloudpickle
import numpy as np

from .shuffle import stable_hash

LEN = struct.Struct("<I")          # record header: pickle length
RECORD_COST = 4 + 20 + 44          # counted per record beyond its pickle: header, metadata
                                   # (end, prefix, tag), and the spill's sort workspace
CHUNK = 1 << 20                    # bytes written at a time
_U64 = (1 << 64) - 1
_FLOAT = struct.Struct(">d")
_EXACT_INT = 1 << 53


# ------------------------------------------------------------------- 1. the order

def order_prefix(k):
    """(rank, 64-bit prefix, exact) of a key: sorting by (rank, prefix) agrees with
    sort_key; `exact` means equal prefixes (and ranks) imply equal keys.

    >>> order_prefix("spark")[0], order_prefix(1)[:2] == order_prefix(1.0)[:2]
    (3, True)
    """
    t = type(k)
    if t is str or t is bytes:
        b = k.encode("utf-8", "surrogatepass") if t is str else k
        exact = len(b) <= 8 and not b.endswith(b"\0")
        return (3 if t is str else 4), int.from_bytes(b[:8].ljust(8, b"\0"), "big"), exact
    if t is int or t is bool:
        return 1, _num_prefix(k), -_EXACT_INT <= k <= _EXACT_INT
    if t is float:
        if k != k:
            return 2, 0, False                    # NaN: never equal, grouped by ==
        return 1, _num_prefix(k), True
    if k is None:
        return 0, 0, True
    if t is tuple:
        if not k:
            return 5, 0, False
        r, p, _ = order_prefix(k[0])
        return 5, (r << 60) | (p >> 4), False
    if isinstance(k, str):                        # subclasses (numpy.str_, StrEnum...)
        return order_prefix(str(k))               # sort among the strs they equal
    if isinstance(k, bytes):
        return order_prefix(bytes(k))
    if isinstance(k, tuple):                      # namedtuples
        return order_prefix(tuple(k))
    if isinstance(k, numbers.Number):             # Decimal, Fraction, numpy scalars, IntEnum
        try:
            f = float(k)                          # (complex: TypeError, hash order below)
            if f == f:
                return 1, _num_prefix(f), False
            return 2, 0, False
        except (TypeError, ValueError, OverflowError):
            pass
    return 9, stable_hash(k) & _U64, False


def _num_prefix(x) -> int:
    """A float's bits, flipped so that unsigned order is numeric order."""
    try:
        f = float(x)
    except OverflowError:
        f = math.inf if x > 0 else -math.inf
    if f == 0:
        f = 0.0                                   # -0.0 == 0.0: one prefix
    bits = int.from_bytes(_FLOAT.pack(f), "big")
    return bits ^ _U64 if bits >> 63 else bits | (1 << 63)


def sort_key(k):
    """The total order of keys on disk: (rank, prefix, rest). Equal keys have equal
    sort keys; unequal keys may tie only for rank 2 and 9 (then grouped by ==).

    >>> sorted(["b", 2, None, (1, "a"), "a", 1.5], key=sort_key)
    [None, 1.5, 2, 'a', 'b', (1, 'a')]
    """
    rank, prefix, _ = order_prefix(k)
    if rank == 1 or rank == 3 or rank == 4:
        return rank, prefix, k
    if rank == 5:
        return rank, prefix, tuple(sort_key(e) for e in k)
    return rank, prefix, None


# ----------------------------------------------------------- 2. files: runs, indexes

def dumps(obj) -> bytes:
    """pickle; cloudpickle for what pickle cannot name (a class made in the user's
    __main__ travels to a worker by value, so a worker cannot pickle it by reference)."""
    try:
        return pickle.dumps(obj, 5)
    except (pickle.PicklingError, AttributeError, TypeError):
        return cloudpickle.dumps(obj, 5)


@dataclass
class Segment:
    """One reduce partition's slice of a run file (a line of its index)."""
    offset: int
    length: int
    records: int
    crc: int


@dataclass
class Run:
    """A sorted sequence of records: `length` bytes of `path` from `offset`."""
    path: str
    offset: int
    length: int


class SegmentWriter:
    """Writes records into a file, one segment per reduce partition, tracking each
    segment's offset, length, record count and crc32."""

    def __init__(self, path, counters):
        self.path, self.counters = path, counters
        self.f = open(path, "wb")
        self.segments = []                # (R,) Segment, in partition order
        self.buf, self.start, self.records, self.crc, self.pos = bytearray(), 0, 0, 0, 0

    def write_raw(self, raw):             # a whole record: header + pickle
        self.buf += raw
        self.records += 1
        if len(self.buf) >= CHUNK:
            self._flush()

    def write(self, k, v):
        blob = dumps((k, v))
        self.write_raw(LEN.pack(len(blob)) + blob)

    def _flush(self):
        self.crc = zlib.crc32(self.buf, self.crc)
        self.f.write(self.buf)
        self.pos += len(self.buf)
        self.buf = bytearray()

    def end_segment(self):
        self._flush()
        self.segments.append(Segment(self.start, self.pos - self.start, self.records, self.crc))
        self.counters["spilled_records"] += self.records
        self.start, self.records, self.crc = self.pos, 0, 0

    def close(self, num_partitions):
        while len(self.segments) < num_partitions:
            self.end_segment()
        self.f.close()
        self.counters["file_bytes_written"] += self.pos
        write_index(self.path + ".index", self.segments)
        return self.segments


def write_index(path, segments):
    lines = "# partition offset length records crc32\n" + "".join(
        f"{r} {s.offset} {s.length} {s.records} {s.crc:08x}\n" for r, s in enumerate(segments))
    with open(path, "w") as f:
        f.write(lines + f"# crc32 {zlib.crc32(lines.encode()):08x}\n")


def read_index(path) -> list:
    """The segments of an index file; ValueError if it is damaged (its own crc)."""
    with open(path) as f:
        text = f.read()
    body, _, trailer = text.rpartition("# crc32 ")
    if not body or int(trailer.strip() or "x", 16) != zlib.crc32(body.encode()):
        raise ValueError(f"{path}: index checksum mismatch")
    return [Segment(int(o), int(n), int(c), int(x, 16)) for _, o, n, c, x in
            (line.split() for line in body.splitlines() if not line.startswith("#"))]


def read_run(run: Run, counters=None):
    """Yield (key, value, raw record: header + pickle) from a run, in file order."""
    with open(run.path, "rb", buffering=CHUNK) as f:
        f.seek(run.offset)
        left = run.length
        while left > 0:
            header = f.read(4)
            n, = LEN.unpack(header)
            blob = f.read(n)
            left -= 4 + n
            k, v = pickle.loads(blob)
            yield k, v, header + blob
    if counters is not None:
        counters["file_bytes_read"] += run.length


def copy_segment(src, seg: Segment, dest, counters):
    """Hadoop's fetch: copy one segment into the reducer's own file, checking its crc32.
    Returns None, or what is wrong with the segment."""
    crc, left = 0, seg.length
    with open(src, "rb") as f, open(dest, "wb") as out:
        f.seek(seg.offset)
        while left:
            chunk = f.read(min(left, CHUNK))
            if not chunk:
                return f"{src}: segment truncated ({left} of {seg.length} bytes missing)"
            crc = zlib.crc32(chunk, crc)
            out.write(chunk)
            left -= len(chunk)
    if crc != seg.crc:
        return f"{src}: checksum mismatch in segment at {seg.offset} (crc32 {crc:08x}, index says {seg.crc:08x})"
    counters["shuffle_bytes"] += seg.length
    counters["file_bytes_read"] += seg.length
    counters["file_bytes_written"] += seg.length
    return None


# --------------------------------------------------------------- 3. the sort buffer

class SortBuffer:
    """Serialized map output waiting to be sorted (Hadoop's kvbuffer + kvmeta)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.data = bytearray()           # records: header + pickle, back to back
        self.ends = array("Q")            # (n,) end offset of each record in data
        self.prefixes = array("Q")        # (n,) order prefix
        self.tags = array("I")            # (n,) partition << 5 | rank << 1 | exact
        self.used = 0                     # counted bytes: data + RECORD_COST a record

    def __len__(self):
        return len(self.ends)

    def add(self, p, k, blob) -> bool:
        """Append one record; True when the buffer is full (time to spill)."""
        rank, prefix, exact = order_prefix(k)
        data = self.data
        data += LEN.pack(len(blob))
        data += blob
        self.ends.append(len(data))
        self.prefixes.append(prefix)
        self.tags.append(p << 5 | rank << 1 | exact)
        self.used += len(blob) + RECORD_COST
        return self.used >= self.limit

    def sorted_blocks(self, chunk=1 << 16):
        """Yield (partition, exact, [record numbers]) tie blocks in (partition, rank,
        prefix) order; a block holds records whose sort columns are equal. Record numbers
        become Python ints about `chunk` at a time (one block may be bigger)."""
        n = len(self)
        if not n:
            return
        prefixes = np.frombuffer(self.prefixes, np.uint64)     # (n,) views, no copy
        tags = np.frombuffer(self.tags, np.uint32)
        part_rank = tags >> 1                                  # (n,) partition, then rank
        order = np.lexsort((prefixes, part_rank))              # (n,) stable: last key first
        sp = part_rank[order]
        del part_rank
        change = np.ones(n, bool)                              # a new tie block starts here
        change[1:] = sp[1:] != sp[:-1]
        sx = prefixes[order]
        change[1:] |= sx[1:] != sx[:-1]
        del sx
        starts = np.flatnonzero(change)                        # (blocks,) first record of each
        del change
        bparts = sp[starts] >> 4
        del sp
        bexact = np.logical_and.reduceat((tags & 1).astype(bool)[order], starts)
        b, nb = 0, len(starts)
        while b < nb:
            s0 = int(starts[b])
            b2 = min(max(b + 1, int(np.searchsorted(starts, s0 + chunk, "right"))), nb)
            end = int(starts[b2]) if b2 < nb else n
            recs = order[s0:end].tolist()
            bounds = starts[b:b2].tolist() + [end]
            for i, (p, ex) in enumerate(zip(bparts[b:b2].tolist(), bexact[b:b2].tolist())):
                yield p, ex, recs[bounds[i] - s0:bounds[i + 1] - s0]
            b = b2

    def raw(self, i):
        """Record i as stored: header + pickle."""
        ends = self.ends
        return self.data[ends[i - 1] if i else 0:ends[i]]


# --------------------------------------------------------------------- 4. spill

def spill(buf: SortBuffer, path, num_partitions, combiner, counters):
    """Sort the buffer by (partition, key), combine equal keys (combiner = (first,
    merge) or None) and write one run with a segment per partition plus its index."""
    out = SegmentWriter(path, counters)
    loads = pickle.loads
    current = 0
    for p, exact, recs in buf.sorted_blocks():
        while current < p:
            out.end_segment()
            current += 1
        if exact and combiner is None:                          # equal keys: copy bytes
            for i in recs:
                out.write_raw(buf.raw(i))
            continue
        if exact:                                               # equal keys: fold in one pass
            first, merge = combiner
            k, v = loads(memoryview(buf.raw(recs[0]))[4:])
            acc = first(v)
            for i in recs[1:]:
                acc = merge(acc, loads(memoryview(buf.raw(i))[4:])[1])
            out.write(k, acc)
            counters["combine_input_records"] += len(recs)
            counters["combine_output_records"] += 1
            continue
        items = []                                              # unpickle, sort by full key
        for i in recs:
            raw = buf.raw(i)
            k, v = loads(memoryview(raw)[4:])
            items.append((sort_key(k), k, v, raw))
        items.sort(key=itemgetter(0))                           # stable: input order kept
        for k, v, raw in fold_groups(items, combiner, counters, "combine"):
            if raw is not None:
                out.write_raw(raw)
            else:
                out.write(k, v)
    counters["spills"] += 1
    return out.close(num_partitions)


def fold_groups(items, combiner, counters, name=None):
    """Yield (k, v, raw) from (sort_key, k, v, raw) items in key order. Without a combiner
    records pass unchanged (raw kept); with (first, merge) each group of equal keys folds
    into one record (raw None). Keys with equal sort keys but != are kept apart."""
    if combiner is None:
        for _, k, v, raw in items:
            yield k, v, raw
        return
    first, merge = combiner
    n_in = n_out = 0
    block, block_sk = [], object()        # [[k, acc], ...] keys sharing one sort key
    for sk, k, v, _ in items:
        n_in += 1
        if sk != block_sk or not block:
            for bk, acc in block:
                n_out += 1
                yield bk, acc, None
            block, block_sk = [[k, first(v)]], sk
            continue
        for entry in block:
            if entry[0] == k:
                entry[1] = merge(entry[1], v)
                break
        else:
            block.append([k, first(v)])
    for bk, acc in block:
        n_out += 1
        yield bk, acc, None
    if name:
        counters[name + "_input_records"] += n_in
        counters[name + "_output_records"] += n_out


# ---------------------------------------------------------------------- 5. merge

def merged(runs, counters):
    """k-way merge of sorted runs into one stream of (sort_key, k, v, raw); equal keys
    come from the earlier run first (heapq.merge is stable)."""
    streams = [((sort_key(k), k, v, raw) for k, v, raw in read_run(r, counters)) for r in runs]
    return heapq.merge(*streams, key=itemgetter(0))


def merge_runs(runs, merge_factor, workdir, tag, counters):
    """Merge passes: while there are more than `merge_factor` runs, merge neighbouring
    groups of `merge_factor` into new run files; return the final merge as a stream."""
    npass = 0
    while len(runs) > merge_factor:
        npass += 1
        counters["merge_passes"] += 1
        new = []
        for g in range(0, len(runs), merge_factor):
            group = runs[g:g + merge_factor]
            if len(group) == 1:
                new.append(group[0])
                continue
            path = os.path.join(workdir, f"{tag}-pass-{npass}-run-{g // merge_factor}.seg")
            out = SegmentWriter(path, counters)
            for _, _, _, raw in merged(group, counters):
                out.write_raw(raw)
            seg = out.close(1)[0]
            new.append(Run(path, 0, seg.length))
        runs = new
    return merged(runs, counters)


# -------------------------------------------------------- 6. the two halves, whole

def map_side(records, num_partitions, partitioner, aggregator, workdir, buffer_bytes,
             merge_factor, counters):
    """A map task's output: records -> sort buffer -> spills -> file.out + file.out.index
    in `workdir`. `aggregator` (or None) is the combiner: create_combiner/merge_value in
    each spill, merge_combiners across spills. Returns the records per reduce partition
    (the "map status")."""
    if num_partitions >= 1 << 27:
        raise ValueError(f"the disk shuffle supports fewer than 2**27 partitions, got {num_partitions}")
    combiner = None if aggregator is None else (aggregator.create_combiner, aggregator.merge_value)
    buf, spills = SortBuffer(buffer_bytes), []
    fast_dumps, n, nbytes = pickle.dumps, 0, 0
    for rec in records:
        try:
            k, v = rec
        except (TypeError, ValueError):
            raise type(sys.exc_info()[1])(
                f"a record written to a shuffle must be a (key, value) pair, got {rec!r:.80}") from None
        p = partitioner(k)
        if not 0 <= p < num_partitions:
            raise ValueError(f"partitioner put key {k!r:.40} in partition {p}, not in 0..{num_partitions - 1}")
        try:
            blob = fast_dumps((k, v), 5)
        except (pickle.PicklingError, AttributeError, TypeError):
            blob = dumps((k, v))
        n += 1
        nbytes += len(blob)
        if buf.add(p, k, blob):
            spills.append(spill(buf, os.path.join(workdir, f"spill-{len(spills)}.out"),
                                num_partitions, combiner, counters))
            buf = SortBuffer(buffer_bytes)
    counters["map_output_records"] += n
    counters["map_output_bytes"] += nbytes
    if len(buf) or not spills:
        spills.append(spill(buf, os.path.join(workdir, f"spill-{len(spills)}.out"),
                            num_partitions, combiner, counters))
    del buf
    final = os.path.join(workdir, "file.out")
    if len(spills) == 1:                  # one spill is already the map output (Hadoop too)
        os.link(os.path.join(workdir, "spill-0.out"), final)
        os.link(os.path.join(workdir, "spill-0.out.index"), final + ".index")
        return [s.records for s in spills[0]]
    # several spills: merge each partition's segments, combining again across spills
    merge_combiner = None if aggregator is None else (_identity, aggregator.merge_combiners)
    out = SegmentWriter(final, counters)
    for r in range(num_partitions):
        runs = [Run(os.path.join(workdir, f"spill-{i}.out"), segs[r].offset, segs[r].length)
                for i, segs in enumerate(spills) if segs[r].length]
        for k, v, raw in fold_groups(merge_runs(runs, merge_factor, workdir, f"part-{r:05d}", counters),
                                     merge_combiner, counters, "combine"):
            if raw is not None:
                out.write_raw(raw)
            else:
                out.write(k, v)
        out.end_segment()
    return [s.records for s in out.close(num_partitions)]


def reduce_side(runs, aggregator, map_side_combine, merge_factor, workdir, counters):
    """A reduce task's input: the fetched runs merged (in passes) and grouped; one
    (key, combined) record per key with an aggregator, else every (key, value) in key order."""
    stream = merge_runs(runs, merge_factor, workdir, "reduce", counters)
    if aggregator is None:
        folder = None
    elif map_side_combine:
        folder = (_identity, aggregator.merge_combiners)
    else:
        folder = (aggregator.create_combiner, aggregator.merge_value)
    for k, v, _ in fold_groups(_counting(stream, counters), folder, counters):
        yield k, v


def _counting(stream, counters):
    """Count reduce input records and groups (runs of equal sort keys) as they pass."""
    last = object()
    for item in stream:
        counters["reduce_input_records"] += 1
        if item[0] != last:
            last = item[0]
            counters["reduce_input_groups"] += 1
        yield item


def _identity(x):
    return x


# ------------------------------------------------------------- looking inside

def dump(path, out=None):
    """Print a run file (record by record) or an index file, for learners."""
    out = out or sys.stdout
    if path.endswith(".index"):
        for r, s in enumerate(read_index(path)):
            print(f"partition {r}: offset {s.offset}, {s.length} bytes, {s.records} records, "
                  f"crc32 {s.crc:08x}", file=out)
        return
    if os.path.exists(path + ".index"):
        for r, s in enumerate(read_index(path + ".index")):
            print(f"-- partition {r}: {s.records} records", file=out)
            for k, v, _ in read_run(Run(path, s.offset, s.length)):
                print(f"{k!r}\t{v!r}", file=out)
        return
    for k, v, _ in read_run(Run(path, 0, os.path.getsize(path))):
        print(f"{k!r}\t{v!r}", file=out)


if __name__ == "__main__":
    for p in sys.argv[1:]:
        dump(p)
