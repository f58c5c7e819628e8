"""What recording events costs: the same jobs with events on (the default, no event log
file) and off (Context(events=False)), side by side, alternating, in one run.

    python -m benchmarks.events_cost [--jobs 400] [--rows 500000]

empty   an empty 2-worker job (one task per worker) on the memory executor: median
        wall time of each Context over --jobs jobs, run in alternating rounds
lr      a later logistic-regression iteration (examples/lr_sgd.py's gradient over cached
        numpy blocks, 500,000 x 10, 4 partitions), median of alternating iterations

Not a test: nothing is asserted. One BLAS thread per process.
"""

import os

os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"   # before numpy

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import minimr  # noqa: E402
from examples import lr_sgd  # noqa: E402


def empty_jobs(jobs, rounds=10):
    """{events on/off: [seconds of each job]}: `rounds` rounds, each running jobs/rounds
    empty jobs on one Context and then on the other."""
    times = {True: [], False: []}
    with minimr.Context(executor="memory", workers=2, events=True) as on, \
            minimr.Context(executor="memory", workers=2, events=False) as off:
        rdds = {True: on.parallelize([], 2), False: off.parallelize([], 2)}
        noop = lambda it: None                                      # noqa: E731
        for rdd in rdds.values():
            for _ in range(20):
                rdd.foreachPartition(noop)                          # warm up
        for _ in range(rounds):
            for events, rdd in rdds.items():
                for _ in range(jobs // rounds):
                    t = time.perf_counter()
                    rdd.foreachPartition(noop)
                    times[events].append(time.perf_counter() - t)
    return times


def block(seed, rows):
    """One partition of the data: (X (rows, 10), y (rows,)), the same in any process."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, 10))
    return x, (x @ np.linspace(-1, 1, 10) + rng.standard_normal(rows) > 0).astype(float)


def lr_iterations(rows, iterations=11):
    """{events on/off: [seconds of each later iteration]}, the two Contexts alternating."""
    times = {True: [], False: []}
    with minimr.Context(executor="memory", workers=2, events=True) as on, \
            minimr.Context(executor="memory", workers=2, events=False) as off:
        data = {events: ctx.range(4, numSlices=4).map(lambda i: block(i, rows // 4)).cache()
                for events, ctx in ((True, on), (False, off))}   # made in the workers
        for blocks in data.values():
            blocks.count()
        w = np.zeros(10)
        for i in range(iterations):
            for events, ctx in ((True, on), (False, off)):
                t = time.perf_counter()
                current = ctx.broadcast(w)
                g, loss, n = (data[events].map(lambda b: lr_sgd.gradient(b, current.value))
                              .treeAggregate((0.0, 0.0, 0), lr_sgd.add, lr_sgd.add))
                if i:
                    times[events].append(time.perf_counter() - t)
            w = w - g / n
    return times


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.events_cost", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jobs", type=int, default=400)
    p.add_argument("--rows", type=int, default=500_000)
    args = p.parse_args(argv)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    t = empty_jobs(args.jobs)
    on, off = (statistics.median(t[k]) * 1e3 for k in (True, False))
    print(f"empty 2-worker job: events on {on:.3f} ms, off {off:.3f} ms (median of "
          f"{len(t[True])} each): on / off = {on / off:.3f}")
    t = lr_iterations(args.rows)
    on, off = (statistics.median(t[k]) * 1e3 for k in (True, False))
    print(f"LR later iteration, {args.rows:,} x 10: events on {on:.2f} ms, off {off:.2f} ms "
          f"(median of {len(t[True])} each): on / off = {on / off:.3f}")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
