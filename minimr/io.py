"""Reading text input the way Hadoop does, and committing output atomically.

Input (Hadoop's FileInputFormat + LineRecordReader, which Spark's textFile uses)::

    paths ──expand──► files ──getSplits──► FileSplit(path, start, length) ──read_split──► lines
    "a,b/*.txt,dir"    (skip _x, .x)        one per byte range, ~total/minPartitions      str

A split is a byte range, so a line can straddle two splits. Hadoop's rule decides who
owns it, without any coordination between the two readers:

    * a split that does not start at byte 0 throws away everything up to and including
      its first line terminator (that line belongs to the previous split);
    * every split reads lines while the line *starts* at or before its end, so it reads
      past its end to finish its last line, and a line starting exactly on the boundary
      belongs to the earlier split.

``\\n``, ``\\r\\n`` and ``\\r`` end a line; the last line may lack a terminator.
Gzip files cannot be cut (no sync points), so each ``.gz`` is one split.

Output (Hadoop's FileOutputCommitter, algorithm v1, Spark's default)::

    dir/_temporary/0/_temporary/attempt_*/part-00003   task attempt writes here
    dir/_temporary/0/task_00003/part-00003            commit_task: rename the attempt dir
    dir/part-00003 ... dir/_SUCCESS                   commit_job: move all, mark success

A failed or killed attempt never leaves a visible part file; a failed job leaves no
``_SUCCESS`` (and minimr removes the directory it created).
"""

import glob as _glob
import gzip
import os
import re
import shutil
from dataclasses import dataclass

from .errors import MinimrError

LOCAL_BLOCK_SIZE = 32 * 1024 * 1024  # fs.local.block.size: Hadoop's block size on a local disk
SPLIT_SLOP = 1.1                     # FileInputFormat: last split may be 10% larger
CHUNK = 1 << 20                      # bytes read at a time


@dataclass(frozen=True)
class FileSplit:
    path: str
    start: int
    length: int          # -1: the whole (compressed) file

    def __repr__(self):
        if self.length < 0:
            return f"{self.path}:whole"
        return f"{self.path}:{self.start}+{self.length}"


def expand_paths(path: str) -> list[str]:
    """A file, a directory (its files not starting with ``_`` or ``.``), a glob, or a
    comma-separated list of those, as Hadoop's FileInputFormat accepts them."""
    if not isinstance(path, str) or not path.strip():
        raise MinimrError(f"textFile: path must be a non-empty string, got {path!r}")
    files = []
    for part in _split_commas(path):
        part = part.strip()
        if part.startswith("file://"):
            part = part[len("file://"):]
        matches = []
        for alt in _expand_braces(part):
            found = sorted(_glob.glob(alt)) if _glob.has_magic(alt) else [alt]
            matches += [m for m in found if os.path.exists(m) and not _hidden(m)]
        if not matches:
            raise MinimrError(f"textFile: input path does not exist: {part}")
        for m in matches:
            if not os.path.isdir(m):
                files.append(m)
                continue
            for name in sorted(os.listdir(m)):
                full = os.path.join(m, name)
                if _hidden(full):
                    continue
                if os.path.isdir(full):
                    raise MinimrError(f"textFile: {full} is a directory; input directories "
                                      "are not read recursively (as in Hadoop)")
                files.append(full)
    return files


def _hidden(path):
    """Hadoop's hiddenFileFilter: names starting with _ or . are not input."""
    return os.path.basename(os.path.abspath(path)).startswith(("_", "."))


def _split_commas(path):
    """"a,b{c,d}" -> ["a", "b{c,d}"]: commas inside braces are not separators."""
    parts, depth, cur = [], 0, ""
    for ch in path:
        depth += (ch == "{") - (ch == "}")
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return parts + [cur]


def _expand_braces(pattern):
    """Hadoop's glob alternatives: "x/{a,b}.txt" -> ["x/a.txt", "x/b.txt"]."""
    m = re.search(r"\{([^{}]*)\}", pattern)
    if not m:
        return [pattern]
    return [p for alt in m.group(1).split(",")
            for p in _expand_braces(pattern[:m.start()] + alt + pattern[m.end():])]


def get_splits(files: list[str], min_partitions: int) -> list[FileSplit]:
    """Hadoop's FileInputFormat.getSplits: aim for total/min_partitions bytes a split,
    never more than a block, and let the last split of a file be up to 10% bigger."""
    total = sum(os.path.getsize(f) for f in files)
    goal = total // max(min_partitions, 1)
    splits = []
    for f in files:
        size = os.path.getsize(f)
        if f.endswith(".gz"):
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


def _line_chunks(f, pos: int):
    """Yield (offset of the first line, [lines, each with its terminator]) for runs of
    whole lines from the file object, which is at offset `pos`. Lines end at \n, \r\n
    or \r (exactly what bytes.splitlines splits on). Whole chunks, not single lines, so
    that decoding is one list comprehension a chunk (a speed choice; the rule is the same)."""
    carry = b""
    while True:
        chunk = f.read(CHUNK)
        buf = carry + chunk
        if not chunk:                       # end of file: what is left is the last line
            if buf:
                yield pos, [buf]
            return
        # keep an incomplete last line (or a lone \r that a \n may follow) for the next chunk
        cut = max(buf.rfind(b"\n"), buf.rfind(b"\r", 0, len(buf) - 1)) + 1
        carry = buf[cut:]
        if cut:
            yield pos, buf[:cut].splitlines(keepends=True)
            pos += cut


def read_split(split: FileSplit, use_unicode=True):
    """The lines of one split, decoded as UTF-8 (or bytes), by the LineRecordReader rule:
    skip the line we start inside (unless at byte 0), then read every line that *starts*
    at or before the split's end."""
    if split.length < 0:
        with gzip.open(split.path, "rb") as f:
            for pos, lines in _line_chunks(f, 0):
                yield from _decoded(split.path, pos, lines, use_unicode, "uncompressed ")
        return
    end = split.start + split.length
    with open(split.path, "rb") as f:
        f.seek(split.start)
        skip = split.start != 0     # the previous split owns the line we start in (even
        for pos, lines in _line_chunks(f, split.start):   # a "\n" left of a cut \r\n)
            if skip:
                pos, lines, skip = pos + len(lines[0]), lines[1:], False
            last_start = pos + sum(map(len, lines)) - (len(lines[-1]) if lines else 0)
            if last_start > end:            # the split ends in this chunk: count its lines
                n, p = 0, pos
                while p <= end:
                    p += len(lines[n])
                    n += 1
                yield from _decoded(split.path, pos, lines[:n], use_unicode)
                return
            yield from _decoded(split.path, pos, lines, use_unicode)


def _decoded(path, pos, lines, use_unicode, which=""):
    """Lines without terminators, as str (UTF-8) or bytes. Invalid UTF-8 names the file
    and the byte offset."""
    stripped = [line.rstrip(b"\r\n") for line in lines]
    if not use_unicode:
        return stripped
    try:
        return [line.decode("utf-8") for line in stripped]
    except UnicodeDecodeError:
        for line, text in zip(lines, stripped):
            try:
                text.decode("utf-8")
            except UnicodeDecodeError as e:
                raise MinimrError(f"{path}: invalid UTF-8 at {which}byte offset {pos + e.start} "
                                  f"(line starting at byte {pos})") from None
            pos += len(line)
        raise


# ----------------------------------------------------------------------------- output

def check_output_dir(path: str):
    """Refuse an existing output directory before any work starts (Hadoop's
    FileAlreadyExistsException): output is never mixed with an older run's."""
    if os.path.exists(path):
        raise MinimrError(f"saveAsTextFile: output directory {path} already exists")


def attempt_dir(path: str, partition: int, attempt: int) -> str:
    return os.path.join(path, "_temporary", "0", "_temporary",
                        f"attempt_m_{partition:06d}_{attempt}")


def write_part(path: str, partition: int, attempt: int, lines) -> str:
    """A task attempt writes its part file under _temporary, then commits it by renaming
    its attempt directory to the task's committed directory. Returns that directory."""
    adir = attempt_dir(path, partition, attempt)
    os.makedirs(adir, exist_ok=True)
    with open(os.path.join(adir, f"part-{partition:05d}"), "wb") as out:
        for x in lines:
            if not isinstance(x, (str, bytes)):
                x = str(x)
            if isinstance(x, str):
                x = x.encode("utf-8")
            out.write(x + b"\n")
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
