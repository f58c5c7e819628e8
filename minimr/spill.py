"""The disk shuffle, as a recipe: sort, spill, merge, fetch (Hadoop's MapTask, ReduceTask).

The disk executor's env (executors/disk.py) calls map_side in a map task and
reduce_side in a reduce task; each step below is callable alone, like madoop's
map_stage -> group_stage -> reduce_stage::

  map task (map_side)                                 reduce task r (reduce_side)
  ───────────────────                                 ──────────────────────────
  (k, v) ──► buffer: (partition, sort key) + pickle    fetch: copy segment r of each
             bytes counted, never RSS                  map's file.out, crc checked
       full ──► spill: list.sort, combine,               ──► map-00000.seg, ...
                write spill-N.out + .index             merge_runs: <= merge_factor runs
       end ──► merge each partition's segments           at a time, in passes
               of every spill (combining again)        ──► group equal keys, fold
           ──► file.out + file.out.index               ──► the reducer, streaming

Order. Hadoop sorts map output by key; Python keys need not be comparable (1 and "a"),
so records are ordered by `sort_key(key)`: numbers (1 == 1.0 == True, one key), then
strings, then bytes, then tuples (item by item), then every other key by its stable
hash. Equal keys always have equal sort keys; keys that share a sort key without being
equal (a hash collision) are told apart with ``==`` by the combine. Sorts and merges are stable, so the values of a
key keep their input order (map 0 first, as Spark gives groupByKey's values).

Files. A run is a sequence of records ``<4-byte little-endian length><pickle of (k, v)>``.
An index is text, one line per reduce partition; the index checks itself, each segment
has a crc32 that every reader verifies before it unpickles a byte
(``python -m minimr.spill FILE`` prints any of these files)::

    # partition offset length records crc32
    0 0 1520 38 9d2a11f0
    ...
    # crc32 5c0ffee1

Memory: the sort buffer's budget (`buffer_bytes`, Hadoop's io.sort.mb: each record counts
its pickle plus RECORD_COST); on the merge and reduce side one record and a read buffer
per open run, plus the records of one key while they are combined (a groupByKey's values
of one key: unbounded by nature, see docs/disk.md).
"""

import heapq
import itertools
import numbers
import os
import pickle
import struct
import sys
import time
import zlib
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter

from . import pickling
from .shuffle import combine, identity, reduce_fold, stable_hash
from .task import add_metric, at

LEN = struct.Struct("<I")          # record header: the pickle's length
RECORD_COST = 200                  # bytes a buffered record holds beyond its pickle: the
                                   # entry tuples, the sort key, the bytes object header
CHUNK = 1 << 20                    # bytes read or written at a time


class ChecksumError(OSError):
    """A file minimr wrote reads back different: the task fails and runs again."""


# ------------------------------------------------------------------ 1. the map side

def map_side(records, shuffled, workdir, buffer_bytes, merge_factor):
    """A map task's output: records -> sort buffer -> spills -> ``file.out`` and
    ``file.out.index`` in `workdir`. Returns (records, bytes) per reduce partition."""
    partitioner, n = shuffled.partitioner, shuffled.partitioner.num_partitions
    agg = shuffled.aggregator if shuffled.map_side_combine else None
    spills = []
    buffer = [[] for _ in range(n)]          # (R,) lists of (sort key, pickled record)
    used = written = bytes_out = 0           # bytes counted against the budget; records
    for record in records:
        try:
            k, v = record
            blob = pickle.dumps(record, 5)
        except (TypeError, ValueError):
            raise TypeError(f"a record written to a shuffle must be a (key, value) pair, "
                            f"got {record!r:.80}") from None
        except (pickle.PicklingError, AttributeError):
            blob = pickling.dumps(record)    # a class pickle cannot name: cloudpickle
        buffer[partitioner(k)].append((sort_key(k), blob))
        used += len(blob) + RECORD_COST
        written += 1
        if used >= buffer_bytes:
            spills.append(spill(buffer, os.path.join(workdir, f"spill-{len(spills)}.out"), agg))
            buffer, bytes_out, used = [[] for _ in range(n)], bytes_out + used, 0
    add_metric("output_records", written)           # what the map function gave
    add_metric("map_output_bytes", bytes_out + used - RECORD_COST * written)
    if used or not spills:
        spills.append(spill(buffer, os.path.join(workdir, f"spill-{len(spills)}.out"), agg))
    at("spill", run=spills[0][0].path)      # (fault injection: damage a run before the merge)
    final = os.path.join(workdir, "file.out")
    if len(spills) == 1:                     # one spill is already the map output (Hadoop too)
        os.link(spills[0][0].path, final)
        os.link(spills[0][0].path + ".index", final + ".index")
        segments = spills[0]
    else:                                    # several: merge each partition's segments
        start, out = time.perf_counter(), SegmentWriter(final)
        for r in range(n):
            runs = [segments[r] for segments in spills if segments[r].length]
            stream = merge_runs(runs, merge_factor, workdir, f"part-{r:05d}")
            write_sorted(out, stream, agg and (identity, agg.merge_combiners))
            out.end_segment()
        segments = out.close(n)
        add_metric("merge_seconds", time.perf_counter() - start)
    add_metric("map_output_materialized_bytes", sum(s.length for s in segments))
    return [(s.records, s.length) for s in segments]     # the map status


def spill(buffer, path, agg=None):
    """Sort each partition's records by key, combine equal keys with the aggregator's
    create_combiner/merge_value (Hadoop runs the combiner at each spill), and write one
    run file with a segment per partition, plus its index."""
    start, out = time.perf_counter(), SegmentWriter(path)
    for entries in buffer:
        entries.sort(key=itemgetter(0))      # stable: equal keys keep their input order
        write_sorted(out, entries, agg and (agg.create_combiner, agg.merge_value))
        out.end_segment()
    add_metric("spills", 1)
    segments = out.close(len(buffer))
    add_metric("spill_seconds", time.perf_counter() - start)
    return segments


def write_sorted(out, stream, fold=None):
    """Write a key-sorted stream of (sort key, record bytes); with fold = (create,
    merge), the records of each key are first combined into one."""
    if fold is None:
        for _, blob in stream:
            out.write(blob)
        return
    counts = [0, 0, 0]
    for record in grouped(stream, fold, counts):
        out.write(pickling.dumps(record))
    add_metric("combine_input_records", counts[0])
    add_metric("combine_output_records", counts[1])


def grouped(stream, fold, counts):
    """The (key, value) records of a key-sorted stream of (sort key, record bytes).
    With fold = (create, merge) the records sharing a sort key are combined, by the one
    combine of shuffle.py (it tells apart keys that share a sort key without being equal).
    Adds records read to counts[0], records yielded to counts[1], groups to counts[2]."""
    for _, group in itertools.groupby(stream, key=itemgetter(0)):
        pairs = [pickling.loads(blob) for _, blob in group]
        out = pairs if fold is None else combine(pairs, *fold)
        counts[0] += len(pairs)
        counts[1] += len(out)
        counts[2] += 1
        yield from out


# --------------------------------------------------------------- 2. the reduce side

def reduce_side(segments, shuffled, merge_factor, workdir):
    """A reduce task's input: its fetched segments merged (in passes) and grouped; one
    (key, combined) record per key with an aggregator, else every record in key order."""
    fold, counts = reduce_fold(shuffled), [0, 0, 0]
    try:
        yield from grouped(merge_runs(segments, merge_factor, workdir, "reduce"), fold, counts)
    finally:
        add_metric("reduce_input_records", counts[0])


def fetch(segment, dest):
    """Hadoop's shuffle fetch: copy one segment of a map output into the reducer's own
    file, checking its crc32; the copy, as a Segment of `dest`."""
    with open(dest, "wb") as out:
        for chunk in checked_chunks(segment):
            out.write(chunk)
    add_metric("reduce_shuffle_bytes", segment.length)
    add_metric("file_bytes_written", segment.length)
    return Segment(dest, 0, segment.length, segment.records, segment.crc)


# ------------------------------------------------------------------------ 3. merge

def merge_runs(segments, merge_factor, workdir, tag):
    """Merge sorted runs into one stream of (sort key, pickled record). While there are
    more than `merge_factor` runs, neighbouring groups of `merge_factor` are first
    merged into new run files (Hadoop's merge passes, io.sort.factor). heapq.merge is
    stable: of equal keys, the earlier run's records come first."""
    passes = 0
    while len(segments) > merge_factor:
        passes += 1
        merged = []
        for g in range(0, len(segments), merge_factor):
            group = segments[g:g + merge_factor]
            if len(group) == 1:
                merged.append(group[0])
                continue
            out = SegmentWriter(os.path.join(workdir, f"{tag}-pass-{passes}-run-{g // merge_factor}.seg"))
            write_sorted(out, merge_runs(group, merge_factor, workdir, tag))
            merged.append(out.close(1)[0])
        segments = merged
    add_metric("merge_passes", passes)
    return heapq.merge(*(read_run(s) for s in segments), key=itemgetter(0))


def sort_key(k):
    """The order of keys in the files: (0, number), (1, str), (2, bytes), (3, tuple of
    its items' sort keys), or (4, stable_hash) for every other key. Equal keys get
    equal sort keys.

    >>> sorted(["b", 2, None, (1, "a"), "a", 1.5], key=sort_key)
    [1.5, 2, 'a', 'b', (1, 'a'), None]
    """
    t = type(k)
    if t is str:                                  # the common cases first (a speed path)
        return 1, k
    if (t is int or t is float) and k == k:
        return 0, k
    if isinstance(k, complex) and k.imag == 0:
        k = k.real                                # complex(1, 0) == 1: one key
    if isinstance(k, (numbers.Real, Decimal)) and k == k:   # (NaN is equal to nothing)
        return 0, k
    if isinstance(k, str):
        return 1, k
    if isinstance(k, bytes):
        return 2, k
    if isinstance(k, tuple):
        return 3, tuple(map(sort_key, k))
    return 4, stable_hash(k)


# ------------------------------------------------------------ 4. files and segments

@dataclass
class Segment:
    """One reduce partition's slice of a run file (a line of its index)."""
    path: str
    offset: int
    length: int
    records: int
    crc: int


class SegmentWriter:
    """Writes records into a file, one segment per reduce partition, tracking each
    segment's offset, length, record count and crc32; close() writes the index."""

    def __init__(self, path, spilled=True):
        self.path, self.spilled = path, spilled     # spilled: count SPILLED_RECORDS
        self.f = open(path, "wb")
        self.segments = []                # (R,) Segment, in partition order
        self.buf, self.start, self.records, self.crc, self.pos = bytearray(), 0, 0, 0, 0

    def write(self, blob):                # a pickled record, after its length
        self.buf += LEN.pack(len(blob))
        self.buf += blob
        self.records += 1
        if len(self.buf) >= CHUNK:
            self._flush()

    def _flush(self):
        self.crc = zlib.crc32(self.buf, self.crc)
        self.f.write(self.buf)
        self.pos += len(self.buf)
        self.buf = bytearray()

    def end_segment(self):
        self._flush()
        self.segments.append(Segment(self.path, self.start, self.pos - self.start,
                                     self.records, self.crc))
        add_metric("spilled_records", self.records if self.spilled else 0)
        self.start, self.records, self.crc = self.pos, 0, 0

    def close(self, num_partitions):
        while len(self.segments) < num_partitions:
            self.end_segment()
        self.f.close()
        add_metric("file_bytes_written", self.pos)
        lines = "# partition offset length records crc32\n" + "".join(
            f"{r} {s.offset} {s.length} {s.records} {s.crc:08x}\n"
            for r, s in enumerate(self.segments))
        with open(self.path + ".index", "w") as f:
            f.write(lines + f"# crc32 {zlib.crc32(lines.encode()):08x}\n")
        return self.segments


def read_index(path) -> list:
    """The segments of the run file `path`, from its index; ChecksumError if the index
    is damaged (it carries its own crc)."""
    with open(path + ".index") as f:
        text = f.read()
    body, _, trailer = text.rpartition("# crc32 ")
    if not body or trailer.strip() != f"{zlib.crc32(body.encode()):08x}":
        raise ChecksumError(f"{path}.index: checksum mismatch")
    return [Segment(path, int(o), int(n), int(c), int(x, 16)) for _, o, n, c, x in
            (line.split() for line in body.splitlines() if not line.startswith("#"))]


def checked_chunks(segment):
    """The bytes of a segment, a chunk at a time; ChecksumError after the last one if
    they are not the bytes its index describes (length and crc32)."""
    crc, left = 0, segment.length
    with open(segment.path, "rb") as f:
        f.seek(segment.offset)
        while left:
            chunk = f.read(min(left, CHUNK))
            if not chunk:
                break
            crc = zlib.crc32(chunk, crc)
            left -= len(chunk)
            yield chunk
    if left or crc != segment.crc:
        raise ChecksumError(f"{segment.path}: the segment at {segment.offset} is damaged "
                            f"({left} bytes missing, crc32 {crc:08x}, expected {segment.crc:08x})")
    add_metric("file_bytes_read", segment.length)


def read_records(segment):
    """Yield each record (its pickle) of a segment, in file order, after checking
    its crc32 (a first pass over the bytes, so no damaged record is ever unpickled)."""
    for _ in checked_chunks(segment):
        pass
    with open(segment.path, "rb", buffering=CHUNK) as f:
        f.seek(segment.offset)
        left = segment.length
        while left > 0:
            blob = f.read(LEN.unpack(f.read(4))[0])
            left -= 4 + len(blob)
            yield blob


def records_in(data):
    """The records (their pickles) in `data`, bytes of a whole checked segment."""
    pos = 0
    while pos < len(data):
        n, = LEN.unpack_from(data, pos)
        yield data[pos + 4:pos + 4 + n]
        pos += 4 + n


def write_pickles(path, records, batch_size):
    """A pickle file (a cached partition, a part of saveAsPickleFile or of a checkpoint):
    one segment of records that are lists of `batch_size` records, and its index."""
    out, records = SegmentWriter(path, spilled=False), iter(records)   # not a shuffle's
    while batch := list(itertools.islice(records, batch_size)):
        out.write(pickling.dumps(batch))
    return out.close(1)[0].length       # its bytes


def read_pickles(path):
    """The records of a pickle file: its segment read whole and checked, then unpickled."""
    [segment] = read_index(path)
    data = b"".join(checked_chunks(segment))
    return [x for blob in records_in(data) for x in pickling.loads(blob)]


def read_run(segment):
    """A sorted run: (sort key, pickled record) for each record of a segment."""
    return ((sort_key(pickling.loads(blob)[0]), blob) for blob in read_records(segment))


# ------------------------------------------------------------- looking inside

def dump(path, out=None):
    """Print a run file's segments and records, or an index file's segments."""
    for r, s in enumerate(read_index(path.removesuffix(".index"))):
        print(f"partition {r}: offset {s.offset}, {s.length} bytes, {s.records} records, "
              f"crc32 {s.crc:08x}", file=out)
        for blob in [] if path.endswith(".index") else read_records(s):
            print(f"  {pickling.loads(blob)!r}", file=out)


if __name__ == "__main__":
    for p in sys.argv[1:]:
        dump(p)
