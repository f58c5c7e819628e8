"""Reading input the way Hadoop does, and committing output atomically.

Input (Hadoop's FileInputFormat + LineRecordReader, which Spark's textFile uses)::

    paths ──expand_paths──► files ──get_splits──► FileSplit(path, start, length) ──read_split──► lines
    "a,b/*.txt,dir"          (skip _x, .x)         one per byte range, ~total/minPartitions        str
    "file:///abs/x"

Text is decoded as PySpark's JVM decodes it: UTF-8, an invalid sequence becomes U+FFFD
(counted: MALFORMED_INPUT_LINES), a byte-order mark at the start of a file is dropped.
wholeTextFiles packs whole files into partitions (whole_file_splits, read_whole).
(Pickle files, for saveAsPickleFile, pickleFile and checkpoints, are spill.py's run
files.) Context calls expand_paths and the split makers in the driver; plan.FileSource
calls a reader in a task. Output: the RDD's save actions call write_part in each task,
then commit_job (or abort_job) in the driver.

Output (Hadoop's FileOutputCommitter, algorithm v1, Spark's default)::

    dir/_temporary/0/_temporary/attempt_*/part-00003   task attempt writes here
    dir/_temporary/0/task_00003/part-00003            commit_task: rename the attempt dir
    dir/part-00003 ... dir/_SUCCESS                   commit_job: move all, mark success

A failed or killed attempt never leaves a visible part file; a failed job leaves no
``_SUCCESS`` (and minimr removes the directory it created).
"""

import codecs
import glob as _glob
import gzip
import math
import os
import re
import shutil
from dataclasses import dataclass

from .errors import MinimrError
from .task import add_metric

LOCAL_BLOCK_SIZE = 32 * 1024 * 1024  # fs.local.block.size: Hadoop's block size on a local disk
SPLIT_SLOP = 1.1                     # FileInputFormat: last split may be 10% larger


@dataclass(frozen=True)
class FileSplit:
    path: str
    start: int
    length: int          # -1: the whole (compressed) file


# ------------------------------------------------------------- the LineRecordReader rule

def lines_of_split(f, start, end):
    """Hadoop's LineRecordReader: (offset, line with its terminator) for each line that
    the split [start, end] of the open binary file `f` owns. A split reads every line
    that *starts* at or before `end`, so it reads past its end to finish its last line;
    so the reader of the next split throws away the line it starts inside, up to and
    including its first terminator (unless it starts at byte 0). The two readers need
    no coordination. ``\\n``, ``\\r\\n`` and ``\\r`` end a line."""
    f.seek(start)
    lines = (line for raw in iter(f.readline, b"") for line in raw.splitlines(keepends=True))
    pos = start
    if start != 0:                       # the previous split owns the line we start in
        pos += len(next(lines, b""))
    for line in lines:
        if pos > end:
            return
        yield pos, line
        pos += len(line)


def read_split(split: FileSplit, use_unicode=True):
    """The lines of one split without terminators, decoded (`decode`) as str, or with
    use_unicode=False as the UTF-8 bytes of that text (PySpark decodes in the JVM too).
    A byte-order mark at the start of the file is dropped (LineRecordReader)."""
    whole = split.length < 0             # a gzip file, uncompressed from its start
    add_metric("file_bytes_read", os.path.getsize(split.path) if whole else split.length)
    with (gzip.open if whole else open)(split.path, "rb") as f:
        end = math.inf if whole else split.start + split.length
        for pos, line in lines_of_split(f, split.start, end):
            if pos == 0 and not (line := line.removeprefix(codecs.BOM_UTF8)):
                return                       # (a BOM dropped) the file holds only a BOM
            text = decode(line.rstrip(b"\r\n"))
            yield text if use_unicode else text.encode("utf-8")


def decode(raw: bytes) -> str:
    """UTF-8, each invalid sequence replaced by U+FFFD as Java's decoder does (which is
    what PySpark's textFile sees); a record that needed it is counted."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        add_metric("MALFORMED_INPUT_LINES", 1)
        return raw.decode("utf-8", "minimr.replace")


def _replace_like_java(err):
    """Python's "replace", except for an encoded surrogate (ED A0..BF, and the next
    continuation byte if any): Java makes one U+FFFD of it, Python one per byte."""
    b, i = err.object, err.start
    if b[i] == 0xED and i + 1 < len(b) and 0xA0 <= b[i + 1] <= 0xBF:
        return "\ufffd", i + 2 + (i + 2 < len(b) and 0x80 <= b[i + 2] <= 0xBF)
    return "\ufffd", err.end


codecs.register_error("minimr.replace", _replace_like_java)


def get_splits(files: list[str], min_partitions: int) -> list[FileSplit]:
    """Hadoop's FileInputFormat.getSplits: aim for total/min_partitions bytes a split,
    never more than a block, and let the last split of a file be up to 10% bigger."""
    total = sum(os.path.getsize(f) for f in files)
    goal = total // max(min_partitions, 1)
    splits = []
    for f in files:
        size = os.path.getsize(f)
        if f.endswith(".gz"):            # no sync points: a gzip file cannot be cut
            splits.append(FileSplit(f, 0, -1))
            continue
        if size == 0:
            continue     # Hadoop makes an empty split here; Spark drops it (ignoreEmptySplits)
        split_size = max(1, min(goal, LOCAL_BLOCK_SIZE))
        remaining = size
        while remaining / split_size > SPLIT_SLOP:
            splits.append(FileSplit(f, size - remaining, split_size))
            remaining -= split_size
        if remaining:
            splits.append(FileSplit(f, size - remaining, remaining))
    return splits


def whole_file_splits(files, min_partitions):
    """wholeTextFiles' partitions (Hadoop's CombineFileInputFormat, one node): whole
    files in order, a partition closed once it holds ceil(total / min_partitions) bytes."""
    limit = math.ceil(sum(map(os.path.getsize, files)) / min_partitions)
    splits, size = [[]], 0
    for f in files:
        splits[-1].append(f)
        size += os.path.getsize(f)
        if limit and size >= limit:
            splits, size = splits + [[]], 0
    return [s for s in splits if s]


def read_whole(files, use_unicode=True):
    """(file URI, its whole text) for each file of a wholeTextFiles partition."""
    for name in files:
        with (gzip.open if name.endswith(".gz") else open)(name, "rb") as f:
            text = decode(f.read())
        uri = "file:" + os.path.abspath(name)
        yield (uri, text) if use_unicode else (uri.encode(), text.encode("utf-8"))


# ---------------------------------------------------------------------------- paths

def local_path(path: str) -> str:
    """A local path from a path or a ``file:`` URI (file:/abs, file:///abs); another
    scheme (hdfs://, s3a://) is refused: minimr reads and writes local files only."""
    m = re.fullmatch(r"file:(?://[^/]*)?(/.*)", path)
    if m:
        return m.group(1)
    if re.match(r"[a-zA-Z][\w+.-]*://", path):
        raise MinimrError(f"{path}: only local paths and file: URIs are supported")
    return path


def expand_paths(path: str) -> list[str]:
    """A file, a directory (its files not starting with ``_`` or ``.``), a glob, or a
    comma-separated list of those, by Hadoop's rules: a comma separates paths (one inside
    {a,b} does not); * ? [abc] {a,b} are glob characters, which a backslash escapes (a
    comma in a name: a{\\,}b.txt)."""
    if not isinstance(path, str) or not path.strip():
        raise MinimrError(f"input path must be a non-empty string, got {path!r}")
    files = []
    for part in re.split(r",(?![^{]*\})", path):      # commas inside {a,b} do not split
        part = local_path(part.strip())
        matches = []
        for alt in _expand_braces(part):
            found = sorted(_glob.glob(_globbed(alt))) if _glob.has_magic(alt) else [_literal(alt)]
            matches += [m for m in found if os.path.exists(m) and not _hidden(m)]
        if not matches:
            raise MinimrError(_missing(path, part))
        for m in matches:
            if not os.path.isdir(m):
                files.append(m)
                continue
            for name in sorted(os.listdir(m)):
                full = os.path.join(m, name)
                if _hidden(full):
                    continue
                if os.path.isdir(full):
                    raise MinimrError(f"{full} is a directory; input directories "
                                      "are not read recursively (as in Hadoop)")
                files.append(full)
    return files


def _globbed(pattern):
    """Hadoop's escape `\\c` as a glob that matches c only."""
    return re.sub(r"\\(.)", lambda m: _glob.escape(m.group(1)), pattern)


def _literal(pattern):
    return re.sub(r"\\(.)", r"\1", pattern)


def _missing(path, part):
    """Which of Hadoop's rules made `part` match nothing, and how to escape it."""
    if "," in path and os.path.exists(local_path(path)):
        name = path.replace(",", "{\\,}")
        return (f"input path {path}: a comma separates input paths (Hadoop's rule); to read "
                f"a file whose name has one, escape it inside braces: {name}")
    if _glob.has_magic(part) or "{" in part:
        hint = ("; a file of that very name exists: escape the glob characters with a "
                "backslash, " + re.sub(r"([*?\[\]{}])", r"\\\1", part)) if os.path.exists(part) else ""
        return f"input pattern {part} matches 0 files (Hadoop's glob: * ? [...] {{a,b}}){hint}"
    return f"input path does not exist: {part}"


def _hidden(path):
    """Hadoop's hiddenFileFilter: names starting with _ or . are not input."""
    return os.path.basename(os.path.abspath(path)).startswith(("_", "."))


def _expand_braces(pattern):
    """Hadoop's glob alternatives: "x/{a,b}.txt" -> ["x/a.txt", "x/b.txt"]."""
    m = re.search(r"(?<!\\)\{([^{}]*)(?<!\\)\}", pattern)
    if not m:
        return [pattern]
    return [p for alt in re.split(r"(?<!\\),", m.group(1))
            for p in _expand_braces(pattern[:m.start()] + alt + pattern[m.end():])]


# ----------------------------------------------------------------------------- output

def check_output_dir(path: str):
    """Refuse an existing output directory before any work starts (Hadoop's
    FileAlreadyExistsException): output is never mixed with an older run's."""
    if os.path.exists(path):
        raise MinimrError(f"output directory {path} already exists")


def write_lines(name, records):
    """saveAsTextFile's part file: ``str(record)`` per line, UTF-8 (bytes as they are)."""
    with open(name, "wb") as out:
        for x in records:
            out.write((x if isinstance(x, bytes) else str(x).encode("utf-8")) + b"\n")


def write_part(path: str, partition: int, attempt: int, write) -> str:
    """A task attempt writes its part file under _temporary (``write(file name)``), then
    commits it by renaming its attempt directory to the task's committed directory.
    Returns that directory."""
    adir = os.path.join(path, "_temporary", "0", "_temporary", f"attempt_m_{partition:06d}_{attempt}")
    os.makedirs(adir, exist_ok=True)
    write(os.path.join(adir, f"part-{partition:05d}"))
    committed = os.path.join(path, "_temporary", "0", f"task_{partition:06d}")
    if os.path.exists(committed):       # an earlier attempt of this task already committed
        shutil.rmtree(adir)
    else:
        os.rename(adir, committed)      # atomic: the task's commit point
    return committed


def commit_job(path: str):
    """Move every committed task's files into place, then write _SUCCESS (the job's
    commit point) and remove _temporary."""
    tmp = os.path.join(path, "_temporary", "0")
    os.makedirs(tmp, exist_ok=True)          # a job of no tasks commits an empty output
    for task in sorted(os.listdir(tmp)):
        if task.startswith("task_"):
            for name in os.listdir(os.path.join(tmp, task)):
                os.rename(os.path.join(tmp, task, name), os.path.join(path, name))
    shutil.rmtree(os.path.join(path, "_temporary"))
    open(os.path.join(path, "_SUCCESS"), "wb").close()


def abort_job(path: str):
    """A failed job leaves nothing behind: the directory was ours (it did not exist)."""
    shutil.rmtree(path, ignore_errors=True)
