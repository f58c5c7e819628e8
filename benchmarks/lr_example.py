"""The headline example's figures: the disk-vs-RAM gap of `examples.lr_sgd`, and how close
its memory iteration comes to the example's own map function run in one process.

    python -m benchmarks.lr_example [--rows 500000] [--features 10] [--iterations 6] [--input FILE]

gap       the two headline commands, as a user types them (nothing but --input,
          --iterations, --workers 2, --partitions 4):
              python -m examples.lr_sgd --executor disk   --input FILE ...
              python -m examples.lr_sgd --executor memory --input FILE ...
          each in its own process; prints their summary lines and disk later / memory later.
overhead  in one process: a memory Context (2 workers, 4 partitions) runs the example's
          own train() on the same file, and between two of its iterations this process
          runs the example's gradient(block, w) on all the rows as one block (parsed once,
          here): 10 alternating pairs, medians, and their ratio (the engine's cost on top
          of the arithmetic, with the work split over 2 workers).

OPENBLAS_NUM_THREADS=1 in every process (one core each). Not a test: nothing is asserted;
the input, when generated, is a temp file removed at the end.
"""

import os

os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"   # before numpy

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import minimr  # noqa: E402
from examples import _common, lr_sgd  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def headline(executor, path, iterations):
    """Run the headline command; its per-iteration seconds."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        cmd = [sys.executable, "-m", "examples.lr_sgd", "--executor", executor, "--input", path,
               "--iterations", str(iterations), "--workers", "2", "--partitions", "4",
               "--json", out.name]
        run = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if run.returncode:
            sys.exit(f"{' '.join(cmd[1:])} failed:\n{run.stderr}")
        print(f"  {executor:6s} {run.stdout.strip().splitlines()[-1]}")
        return [r["seconds"] for r in json.load(open(out.name))["iterations"]]


def overhead(path, pairs=10):
    """(median seconds of a later memory iteration, median seconds of gradient on one block)."""
    width = _common.columns(path)
    with open(path) as f:
        block = lr_sgd.parse_block(path, ((line, i) for i, line in enumerate(f)), width, False)
    engine, alone = [], []
    w = np.full(width - 1, 0.01)

    def between(record):                     # after each iteration: the one-process run
        if record["iteration"] > 1:          # the first iteration reads and parses
            engine.append(record["seconds"])
            start = time.perf_counter()
            lr_sgd.gradient(block, w)
            alone.append(time.perf_counter() - start)

    with minimr.Context(executor="memory", workers=2) as ctx:
        lr_sgd.train(ctx, path, partitions=4, iterations=pairs + 1, on_iteration=between)
    return statistics.median(engine), statistics.median(alone)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.lr_example", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=500_000)
    p.add_argument("--features", type=int, default=10)
    p.add_argument("--iterations", type=int, default=6, help="for the gap (default: 6)")
    p.add_argument("--input", help="an lr_sgd input file (default: generated)")
    args = p.parse_args(argv)
    path = args.input
    if path is None:
        fd, path = tempfile.mkstemp(prefix="minimr-lr-", suffix=".txt")
        with os.fdopen(fd, "w") as f:
            _common.write_logistic(f, 0, n=args.rows, d=args.features)
    try:
        with open(path, "rb") as f:
            rows, width = sum(1 for _ in f), _common.columns(path)
        print(f"input: {rows:,} x {width - 1} ({os.path.getsize(path) / 1e6:.1f} MB of text), "
              f"2 workers, 4 partitions, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}")
        print("gap: the headline commands")
        disk = headline("disk", path, args.iterations)
        memory = headline("memory", path, args.iterations)
        ratio = statistics.median(disk[1:]) / statistics.median(memory[1:])
        print(f"  disk later / memory later = {ratio:.0f}x")
        engine, alone = overhead(path)
        print("overhead: a later memory iteration against the example's gradient(block, w) "
              "on all rows in one process, 10 alternating pairs")
        print(f"  memory iteration {engine * 1e3:.2f} ms, one block in one process "
              f"{alone * 1e3:.2f} ms: {engine / alone:.2f}x")
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        if args.input is None:
            os.remove(path)


if __name__ == "__main__":
    main()
