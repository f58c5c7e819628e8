"""What every example shares: the command line, default data, reporting, bad input.

    python -m examples.NAME --executor serial|memory|disk|spark --workers N --partitions N
                            [--input PATH] [--seed S] [--json PATH] [--master URL]

    argv ──parser()──► args ──input_file()──► a path: yours, or a seeded temp file (removed after)
                                                 │
                            context(args) ──► Context ──► the example's MapReduce jobs (timed)
                                                 │
                     stdout: a few lines    write_json(): {"example", "executor", "workers",
                                                           "partitions", "seconds", "result"}

Bad input is reported, not traced. A task that meets a bad line raises
``ValueError("bad input: FILE, line N: why")``. Whichever executor carries it back (minimr
re-raises the user's exception in the driver; Spark wraps it in a Java exception whose
text holds the worker's traceback), `guard` finds that phrase, prints one line and exits
with status 2, as argparse does for a bad option.

Nothing here runs inside a task: the functions that do live in the example modules, so
each example reads top to bottom and ships to workers without this module.
"""

import argparse
import contextlib
import json
import os
import re
import statistics
import sys
import tempfile

import numpy as np

from minimr import Context

EXECUTORS = ["serial", "memory", "disk", "spark"]
LEVELS = ["NONE", "MEMORY_ONLY", "MEMORY_ONLY_2", "MEMORY_AND_DISK", "MEMORY_AND_DISK_2",
          "MEMORY_AND_DISK_DESER", "DISK_ONLY", "DISK_ONLY_2", "DISK_ONLY_3", "OFF_HEAP"]


# ------------------------------------------------------------------ command line

def positive(text):
    n = int(text)
    if n <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return n


def parser(name, doc, input=True):
    """The options every example takes; the example adds its own."""
    p = argparse.ArgumentParser(prog=f"python -m examples.{name}",
                                description=doc.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--executor", choices=EXECUTORS, default="serial",
                   help="where tasks run (default: serial)")
    p.add_argument("--workers", type=positive, default=2, help="worker processes (default: 2)")
    p.add_argument("--partitions", type=positive, default=4,
                   help="partitions to cut the data into (default: 4; a big file may get more)")
    if input:
        p.add_argument("--input", metavar="PATH",
                       help="input file (default: a seeded generated data set)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed for generated data and sampling (default: 0)")
    p.add_argument("--json", metavar="PATH", help="also write the result as one JSON object")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="a progress bar for each running stage (default: when stderr is a "
                        "terminal)")
    p.add_argument("--master", metavar="URL", help="with --executor spark: the Spark master, "
                   "e.g. spark://HOST:7077 (default: local[WORKERS]); see docs/cluster.md")
    return p


def storage_level_option(p, what):
    """--storage-level LEVEL: how `what` is persisted (the iterative examples)."""
    p.add_argument("--storage-level", choices=LEVELS, default="MEMORY_ONLY", metavar="LEVEL",
                   help=f"how {what} persisted: a PySpark StorageLevel name, or NONE "
                        "(default: MEMORY_ONLY, i.e. cache())")


def context(args):
    if args.master is not None and args.executor != "spark":
        raise SystemExit(f"--master {args.master}: a Spark master URL needs --executor spark")
    if args.executor == "spark":                 # Spark draws its own progress
        return Context(executor="spark", workers=args.workers, master=args.master)
    return Context(executor=args.executor, workers=args.workers, progress=args.progress)


def where(args, partitions):
    """ "memory (2 workers, 4 partitions)", "serial (in this process, 4 partitions)" """
    if args.executor == "serial":
        return f"serial (in this process, {partitions} partitions)"
    return f"{args.executor} ({args.workers} workers, {partitions} partitions)"


def write_json(path, example, args, partitions, seconds, result, **extra):
    """The --json record: what ran where, how long, and the answer."""
    if path is None:
        return
    record = {"example": example, "executor": args.executor, "workers": args.workers,
              "partitions": partitions, "seconds": seconds, "result": result, **extra}
    with open(path, "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")


def summary(history):
    """ "first iteration 1.234 s; later iterations median 0.012 s" """
    seconds = [r["seconds"] for r in history]
    line = f"first iteration {seconds[0]:.3f} s"
    if len(seconds) > 1:
        line += f"; later iterations median {statistics.median(seconds[1:]):.3f} s"
    return line


# ----------------------------------------------------------------------- bad input

# The message a task raises, found in str(exc), in a note, or inside a remote traceback
# text ("ValueError: bad input: ..."; the traceback's echo of the `raise` line does not match).
_BAD = re.compile(r"(?:^|Error: )(bad input: [^\n]*)", re.M)


def _bad_input_line(exc):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        for text in [str(exc), *getattr(exc, "__notes__", [])]:
            m = _BAD.search(text)
            if m:
                return m.group(1)
        exc = exc.__cause__ or exc.__context__
    return None


def note_malformed_input(name, ctx):
    """textFile reads invalid UTF-8 as U+FFFD, as PySpark does, and counts the lines
    (MALFORMED_INPUT_LINES): say so on stderr rather than let it pass unseen."""
    if ctx.sc is not None or not ctx.events.enabled:
        return                            # counted by minimr's events only (not PySpark)
    jobs = {e["job"] for e in ctx.events if e["event"] == "JobStart"}
    bad = sum(ctx.counters(j).get("MALFORMED_INPUT_LINES", 0) for j in jobs)
    if bad:
        print(f"{name}: note: {bad} input line(s) held invalid UTF-8, read with U+FFFD "
              "in its place", file=sys.stderr)


def guard(name, main, argv=None):
    """Run an example's main(argv); a bad-input error becomes one line and status 2."""
    _restart_with_a_hash_seed(name, sys.argv[1:] if argv is None else argv)
    try:
        return main(argv)
    except BrokenPipeError:              # `... | head` closed stdout early: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        line = _bad_input_line(exc)
        if line is None:
            raise
        print(f"{name}: {line}", file=sys.stderr)
        return 2


def _restart_with_a_hash_seed(name, argv):
    """On --executor spark, run again with PYTHONHASHSEED=0 if it is unset: PySpark seeds
    its workers with 0 and refuses a driver-side hash otherwise, and a process cannot
    change its own seed once it runs."""
    spark = "--executor=spark" in argv or any(
        a == "--executor" and b == "spark" for a, b in zip(argv, argv[1:]))
    if spark and "PYTHONHASHSEED" not in os.environ:
        os.execve(sys.executable, [sys.executable, "-m", f"examples.{name}", *map(str, argv)],
                  dict(os.environ, PYTHONHASHSEED="0"))


def columns(path):
    """The number of fields on the first non-blank line: every other line must match it."""
    if os.path.isdir(path):
        raise ValueError(f"bad input: {path}: is a directory; give one file")
    with open(path, "rb") as f:
        for line in f:
            if line.split():
                return len(line.split())
    raise ValueError(f"bad input: {path}: no data lines")


def numeric_rows(path, numbered_lines, width, first):
    """(line, index) pairs -> (values, where) for every non-blank line, which must hold
    `width` numbers (`first`, then the features; all features if `first` is None); else a
    ValueError naming file and line."""
    for line, index in numbered_lines:
        fields = line.split()
        if not fields:
            continue
        where = f"{path}, line {index + 1}"
        if len(fields) != width:
            what = "" if first is None else f" ({first} and {width - 1} features)"
            raise ValueError(f"bad input: {where}: expected {width} columns{what}, "
                             f"got {len(fields)}")
        try:
            values = [float(x) for x in fields]
        except ValueError:
            raise ValueError(f"bad input: {where}: not a number in {line.strip()[:60]!r}") \
                from None
        yield values, where, index


def numbered_lines(path):
    """(line, index) pairs of a local file, as textFile(path).zipWithIndex() gives them:
    a byte-order mark at the start dropped, invalid UTF-8 read as U+FFFD."""
    with open(path, "rb") as f:
        raw = f.read().removeprefix(b"\xef\xbb\xbf").splitlines()   # \n, \r\n, \r
    return [(line.decode("utf-8", "replace"), i) for i, line in enumerate(raw)]


# --------------------------------------------------------------------- default data

@contextlib.contextmanager
def input_file(path, write_default, seed):
    """Yield `path` if given (it must exist), else a temp file that `write_default(f, seed)`
    fills; the temp file is removed afterwards, whatever happens."""
    if path is not None:
        if not os.path.exists(path):
            raise ValueError(f"bad input: {path}: no such file")
        yield path
        return
    fd, tmp = tempfile.mkstemp(prefix="minimr-example-", suffix=".txt")
    try:
        with os.fdopen(fd, "w") as f:
            write_default(f, seed)
        yield tmp
    finally:
        os.remove(tmp)


def write_words(f, seed, lines=30_000, vocabulary=20_000):
    """Text whose word frequencies follow Zipf's law, as real text does (a few words very
    common, most rare); some words capitalised, since counting keeps case."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words = ["".join(rng.choice(letters, size=rng.integers(2, 10))) for _ in range(vocabulary)]
    words = [w.capitalize() if rng.random() < 0.1 else w for w in words]
    p = 1.0 / (np.arange(vocabulary) + 2.7)
    lengths = rng.integers(0, 17, size=lines)            # some empty lines too
    picks = rng.choice(vocabulary, size=int(lengths.sum()), p=p / p.sum())
    start = 0
    for n in lengths:
        f.write(" ".join([words[i] for i in picks[start:start + n]]) + "\n")
        start += n


def write_clusters(f, seed, n, part, d=4, classes=3):
    """`label x1 .. xd` lines: points around one centre per class. The centres depend
    only on `seed`; `part` picks the stream, so a training and a query file match."""
    centres = np.random.default_rng(seed).normal(0, 2.0, size=(classes, d))
    rng = np.random.default_rng([seed, part])
    labels = rng.integers(0, classes, size=n)
    points = centres[labels] + rng.normal(0, 1.0, size=(n, d))
    row = "%d" + " %.3f" * d + "\n"
    for label, x in zip(labels, points):
        f.write(row % (label, *x))


def write_logistic(f, seed, n=50_000, d=10):
    """`y x1 .. xd` lines with y in {0, 1} drawn from a logistic model."""
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 1.0, size=d)
    x = rng.normal(0, 1.0, size=(n, d))
    y = rng.random(n) < 1 / (1 + np.exp(-(x @ w)))
    row = "%d" + " %.5f" * d + "\n"
    for label, features in zip(y, x):
        f.write(row % (label, *features))
