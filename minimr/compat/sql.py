"""PySpark's SparkSession, as far as an RDD program uses it: make one, get its
SparkContext, read text files into an RDD of Rows, stop.

    spark = SparkSession.builder.appName("wc").master("local[2]").config("k", "v").getOrCreate()
    spark.sparkContext (or spark._sc)            the SparkContext (context.py)
    spark.read.text(path).rdd                    RDD of Row(value=line)
    spark.stop()

``read.text`` cuts its input the way Spark SQL's file scan does (FilePartition in
Spark), not the way ``textFile`` does (Hadoop's splits), because the two differ and a
program's sampling depends on it::

    maxSplitBytes = min(maxPartitionBytes 128 MiB, max(openCostInBytes 4 MiB,
                        sum(file size + openCostInBytes) / defaultParallelism))
    every (non-empty) file is cut into chunks of maxSplitBytes; chunks sorted by size, largest first,
    are packed into partitions in that order ("next fit decreasing"): a chunk opens a
    new partition when it would take the partition past maxSplitBytes, and each chunk
    counts openCostInBytes more than its size

So a small file is one partition, and ``takeSample`` picks the same lines as Spark. The
settings ``spark.sql.files.maxPartitionBytes``, ``spark.sql.files.openCostInBytes`` and
``spark.sql.files.minPartitionNum`` are read from the session's configuration. A chunk's
lines follow Hadoop's LineRecordReader rule (io.py), as Spark's text source does.

Everything else on a session, a reader or a DataFrame fails with one line naming it.
"""

import functools
import os
import re
import threading

from .. import io, plan
from ..conf import SparkConf
from ..errors import MinimrError
from ..rdd import RDD
from .context import SparkContext
from .unsupported import UnsupportedCall, message, refuse_attribute


class Row(tuple):
    """PySpark's Row: a tuple whose fields also have names.

    >>> r = Row(value="a b"); r[0], r.value, r["value"], "value" in r, r
    ('a b', 'a b', 'a b', True, Row(value='a b'))
    >>> Point = Row("x", "y"); Point(1, 2).asDict()
    {'x': 1, 'y': 2}
    """

    def __new__(cls, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Can not use both args and kwargs to create Row")
        if kwargs:                                   # a row: Row(name="Alice", age=11)
            row = tuple.__new__(cls, list(kwargs.values()))
            row.__fields__ = list(kwargs)
            return row
        return tuple.__new__(cls, args)              # a "row class": Row("name", "age")

    def __call__(self, *values):
        if len(values) > len(self):
            raise ValueError(f"too many values: expected at most {len(self)}, got {len(values)}")
        return _make_row(list(self), values)

    def asDict(self, recursive=False):
        if not hasattr(self, "__fields__"):
            raise TypeError("Cannot convert a Row without field names to a dict")
        conv = (lambda v: v.asDict(True) if isinstance(v, Row) else v) if recursive else None
        return {k: conv(v) if conv else v for k, v in zip(self.__fields__, self)}

    def __contains__(self, item):
        if hasattr(self, "__fields__"):
            return item in self.__fields__
        return super().__contains__(item)

    def __getitem__(self, item):
        if isinstance(item, (int, slice)):
            return super().__getitem__(item)
        try:
            return super().__getitem__(self.__fields__.index(item))
        except (AttributeError, ValueError):
            raise KeyError(item) from None

    def __getattr__(self, item):
        if item.startswith("__"):
            raise AttributeError(item)
        try:
            return self[self.__fields__.index(item)]
        except (AttributeError, ValueError):
            raise AttributeError(item) from None

    def __setattr__(self, key, value):
        if key != "__fields__":
            raise RuntimeError("Row is read-only")
        self.__dict__[key] = value

    def __reduce__(self):
        if hasattr(self, "__fields__"):
            return (_make_row, (self.__fields__, tuple(self)))
        return (Row, tuple(self))

    def __repr__(self):
        if hasattr(self, "__fields__"):
            return "Row(" + ", ".join(f"{k}={v!r}" for k, v in zip(self.__fields__, self)) + ")"
        return "<Row(" + ", ".join(repr(f) for f in self) + ")>"


def _make_row(fields, values):
    row = Row(*values)
    row.__fields__ = list(fields)
    return row


def _text_row(line):
    """One line of spark.read.text: Row(value=line)."""
    return _make_row(["value"], (line,))


# -------------------------------------------------------------------- file partitions

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
          "g": 1 << 30, "gb": 1 << 30, "t": 1 << 40, "tb": 1 << 40}


def byte_size(key, value):
    """A Spark byte setting ("134217728", "128m", "4MB") as a number of bytes."""
    m = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]*)\s*", str(value))
    if m is None or m.group(2).lower() not in _UNITS:
        raise ValueError(f"{key}: not a size in bytes: {value!r}")
    return int(m.group(1)) * _UNITS[m.group(2).lower()]


def file_partitions(files, parallelism, max_partition_bytes=128 << 20,
                    open_cost=4 << 20):
    """Spark SQL's packing of files into read tasks: a list of partitions, each a list of
    FileSplit(path, start, length) chunks.

    >>> import os, tempfile; d = tempfile.mkdtemp(); p = os.path.join(d, "f")
    >>> with open(p, "w") as f: _ = f.write("x" * 100)
    >>> [[(s.start, s.length) for s in part] for part in file_partitions([p], 2, 60, 10)]
    [[(0, 55)], [(55, 45)]]
    >>> os.remove(p); os.rmdir(d)
    """
    sizes = [(f, n) for f in files if (n := os.path.getsize(f)) > 0]   # empty: not listed
    total = sum(size + open_cost for _, size in sizes)
    max_split = max(1, min(max_partition_bytes, max(open_cost, total // max(parallelism, 1))))
    chunks = [io.FileSplit(f, start, min(max_split, size - start))
              for f, size in sizes for start in range(0, size, max_split)]
    chunks.sort(key=lambda c: -c.length)             # stable, as Spark's sortBy
    partitions, current, used = [], [], 0
    for chunk in chunks:
        if current and used + chunk.length > max_split:
            partitions.append(current)
            current, used = [], 0
        current.append(chunk)
        used += chunk.length + open_cost
    return partitions + ([current] if current else [])


# ----------------------------------------------------------------------- the session

class _Builder:
    """SparkSession.builder: collects settings; getOrCreate() makes or returns the session."""

    def __init__(self):
        self._options = {}

    def config(self, key=None, value=None, conf=None, *, map=None):
        pairs = conf.getAll() if conf is not None else (map or {key: value}).items()
        for k, v in pairs:             # True -> "true", as PySpark's builder writes it
            self._options[k] = str(v).lower() if isinstance(v, bool) else str(v)
        return self

    def master(self, master):
        return self.config("spark.master", master)

    def appName(self, name):
        return self.config("spark.app.name", name)

    def getOrCreate(self):
        with SparkSession._lock:
            session = SparkSession._instantiatedSession
            if session is None or session._sc._stopped:
                conf = SparkConf().setAll(self._options.items())
                if not conf.contains("spark.app.name"):
                    conf.setAppName("minimr-submit")   # PySpark makes up a name too
                session = SparkSession(SparkContext.getOrCreate(conf), self._options)
            else:
                session._options.update(self._options)
            return session

    def __getattr__(self, name):
        raise refuse_attribute("SparkSession.builder", name)


class _ClassProperty:
    def __init__(self, make):
        self.make = make

    def __get__(self, obj, cls):
        return self.make()


class SparkSession:
    """The entry point of a PySpark program, for RDD programs: sparkContext, read.text,
    stop. One session at a time (SparkSession.builder.getOrCreate returns it)."""

    _instantiatedSession = None
    _lock = threading.RLock()
    builder = _ClassProperty(_Builder)

    def __init__(self, sparkContext, options=None):
        self._sc = sparkContext
        self._options = dict(options or {})
        SparkSession._instantiatedSession = self

    @classmethod
    def getActiveSession(cls):
        return cls._instantiatedSession

    @property
    def sparkContext(self):
        return self._sc

    @property
    def read(self):
        return DataFrameReader(self)

    def stop(self):
        self._sc.stop()
        with SparkSession._lock:
            if SparkSession._instantiatedSession is self:
                SparkSession._instantiatedSession = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def _setting(self, key, default):
        return self._options.get(key, self._sc._conf.get(key, default))

    def __getattr__(self, name):
        raise refuse_attribute("SparkSession", name)


class DataFrameReader:
    """spark.read: only text(...), whose DataFrame only gives its .rdd."""

    def __init__(self, session):
        self._session = session

    def text(self, paths, wholetext=False, lineSep=None, **options):
        if wholetext or lineSep is not None or any(v is not None for v in options.values()):
            raise UnsupportedCall(message("DataFrameReader.text with options"))
        s = self._session
        paths = [paths] if isinstance(paths, str) else list(paths)
        try:
            files = [f for p in paths for f in io.expand_paths(p)]
        except MinimrError as exc:
            raise MinimrError(str(exc).replace("textFile:", "spark.read.text:")) from None
        parallelism = (s._setting("spark.sql.files.minPartitionNum", None)
                       or s._setting("spark.sql.leafNodeDefaultParallelism", None))
        parts = file_partitions(
            files, int(parallelism) if parallelism else s._sc.defaultParallelism,
            byte_size("spark.sql.files.maxPartitionBytes",
                      s._setting("spark.sql.files.maxPartitionBytes", 128 << 20)),
            byte_size("spark.sql.files.openCostInBytes",
                      s._setting("spark.sql.files.openCostInBytes", 4 << 20)))
        ctx = s._sc
        read = functools.partial(io.read_split, use_unicode=True)
        lines = plan.FileSource(ctx._new_id(), [c for p in parts for c in p], read,
                                op="read.text")
        groups, start = [], 0
        for p in parts:                     # partition i reads its chunks in order
            groups.append([(0, c) for c in range(start, start + len(p))])
            start += len(p)
        scan = plan.Narrow(ctx._new_id(), "FileScanRDD", [lines], groups, plan.chained,
                           op="FileScan text")
        return DataFrame(RDD(scan, ctx).map(_text_row))

    def __getattr__(self, name):
        raise refuse_attribute("DataFrameReader", name)


class DataFrame:
    """What spark.read.text returns: only .rdd (its lines as Row(value=...))."""

    def __init__(self, rdd):
        self._rdd = rdd

    @property
    def rdd(self):
        return self._rdd

    def __getattr__(self, name):
        raise refuse_attribute("DataFrame", name)
