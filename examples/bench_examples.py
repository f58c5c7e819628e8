"""Benchmarks of the examples against their baselines (figures printed, nothing asserted).

    OPENBLAS_NUM_THREADS=1 python -m examples.bench_examples [--mb 60] [--rows 500000]

1. wordcount on a generated file of --mb megabytes (Zipf words):
     a single-process collections.Counter loop         the baseline
     minimr --form counter on memory (2 workers)        its throughput against the baseline's
     minimr --form rdd on memory vs the same program    its time against PySpark local[2]'s
       on PySpark local[2]
2. lr_sgd, full batch, on --rows x --features generated rows:
     a plain numpy loop of the same update over the whole matrix (one BLAS thread)
     minimr memory (2 workers): iterations 2.. each    against the numpy iteration
     (and disk, to show the gap: a memory storage level keeps nothing there, so every
     iteration re-reads and re-parses the file)

Each measurement runs once (the machine is shared); times are wall-clock seconds and
exclude data generation and starting the Context (a warm-up job starts the workers).
The load average is printed too: on a shared machine, workers that wait for a core
cannot show parallel speed-up. The data goes to a temp directory
that is removed at the end.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")     # before numpy loads BLAS
os.environ.setdefault("PYTHONHASHSEED", "0")           # PySpark's workers need it

import argparse                                         # noqa: E402
import shutil                                           # noqa: E402
import tempfile                                         # noqa: E402
import time                                             # noqa: E402
from collections import Counter                         # noqa: E402
from itertools import chain                             # noqa: E402

import numpy as np                                      # noqa: E402

from minimr import Context                              # noqa: E402

from examples import _common, lr_sgd, wordcount        # noqa: E402


def have(executor):
    try:
        __import__(f"minimr.executors.{executor}")
        return True
    except ModuleNotFoundError:
        return False


def timed(f, *args, **kw):
    start = time.perf_counter()
    out = f(*args, **kw)
    return time.perf_counter() - start, out


def counter_loop(path):
    counts = Counter()
    with open(path, encoding="utf-8") as f:
        for line in f:
            counts.update(line.split())
    return counts


def counter_chained(path):
    """The single-process form of what count_partition does: one update over all words."""
    with open(path, encoding="utf-8") as f:
        return Counter(chain.from_iterable(map(str.split, f)))


def spark_context(workers):
    """The same programs on PySpark local[N]: minimr's spark executor if it is built,
    else a plain SparkContext (the example functions take either)."""
    if have("spark"):
        return Context(executor="spark", workers=workers)
    from pyspark import SparkConf, SparkContext
    conf = (SparkConf().setMaster(f"local[{workers}]").setAppName("bench-examples")
            .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
            .set("spark.driver.bindAddress", "127.0.0.1")
            .set("spark.ui.showConsoleProgress", "false"))
    sc = SparkContext.getOrCreate(conf)
    sc.setLogLevel("ERROR")
    return sc


def bench_wordcount(tmp, mb, workers, partitions, spark, forms):
    path = os.path.join(tmp, "words.txt")
    lines = int(mb * 1e6 / 53)                       # ~53 bytes a line
    with open(path, "w") as f:
        _common.write_words(f, seed=0, lines=lines, vocabulary=50_000)
    size = os.path.getsize(path) / 1e6
    print(f"\n== wordcount, {size:.1f} MB, {lines} lines")
    base, expected = timed(counter_loop, path)
    print(f"single-process Counter loop          {base:7.2f} s   {size / base:6.1f} MB/s")
    t, _ = timed(counter_chained, path)
    print(f"single-process Counter, chained      {t:7.2f} s   {size / t:6.1f} MB/s"
          f"   (one update over all words)")

    figures = {}
    if have("memory"):
        with Context(executor="memory", workers=workers) as ctx:
            ctx.parallelize(range(4), 4).count()               # warm up: start the workers
            for form in forms:
                t, (result, parts) = timed(wordcount.word_count, ctx, path, form, partitions)
                assert result["total_words"] == sum(expected.values())
                figures[form] = t
                print(f"minimr memory --form {form:8s}      {t:7.2f} s   {size / t:6.1f} MB/s"
                      f"   ({parts} partitions, {base / t:.2f}x the Counter loop)")
    else:
        print("minimr memory executor: not built yet, not measured")
    if spark and "rdd" in forms:
        sc = spark_context(workers)
        try:
            sc.parallelize(range(4), 4).count()            # warm up: start the Python workers
            t, (result, parts) = timed(wordcount.word_count, sc, path, "rdd", partitions)
            assert result["total_words"] == sum(expected.values())
            print(f"PySpark local[{workers}] --form rdd        {t:7.2f} s   {size / t:6.1f} MB/s"
                  f"   ({parts} partitions)")
            if "rdd" in figures:
                print(f"minimr memory rdd / PySpark rdd time: {figures['rdd'] / t:.2f}")
        finally:
            sc.stop()


def numpy_loop(x, y, iterations, step):
    w, seconds = np.zeros(x.shape[1]), []
    for _ in range(iterations):
        start = time.perf_counter()
        z = x @ w
        p = np.exp(-np.logaddexp(0.0, -z))
        loss = np.mean(np.logaddexp(0.0, z) - y * z)
        w = w - step / len(y) * (x.T @ (p - y))
        seconds.append(time.perf_counter() - start)
    return w, seconds, loss


def bench_lr(tmp, rows, features, iterations, workers, partitions, executors):
    path = os.path.join(tmp, "lr.txt")
    with open(path, "w") as f:
        _common.write_logistic(f, seed=0, n=rows, d=features)
    size = os.path.getsize(path) / 1e6
    print(f"\n== lr_sgd full batch, {rows} rows x {features} features ({size:.1f} MB), "
          f"{iterations} iterations, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    data = np.loadtxt(path)
    x, y = np.ascontiguousarray(data[:, 1:]), data[:, 0]
    w_ref, secs, _ = numpy_loop(x, y, iterations, 1.0)
    later = float(np.median(secs[1:]))
    print(f"plain numpy loop                 iteration median {later * 1e3:8.1f} ms")
    for executor in executors:
        if not have(executor):
            print(f"minimr {executor}: not built yet, not measured")
            continue
        with Context(executor=executor, workers=workers) as ctx:
            ctx.parallelize(range(4), 4).count()               # warm up: start the workers
            w, history, _ = lr_sgd.train(ctx, path, partitions, iterations, 1.0)
        its = [r["seconds"] for r in history]
        rel = np.max(np.abs(w - w_ref)) / np.max(np.abs(w_ref))
        med = float(np.median(its[1:]))
        print(f"minimr {executor:6s} iteration 1 {its[0]:7.2f} s (parse + cache), "
              f"iterations 2.. median {med * 1e3:8.1f} ms = {med / later:.2f}x numpy "
              f"(max {max(its[1:]) * 1e3:.1f} ms; weights rel. diff {rel:.1e})")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m examples.bench_examples", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mb", type=float, default=60, help="wordcount file size (default: 60)")
    p.add_argument("--rows", type=int, default=500_000)
    p.add_argument("--features", type=int, default=20)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--partitions", type=int, default=4)
    p.add_argument("--no-spark", action="store_true", help="skip the PySpark comparison")
    p.add_argument("--only", choices=["wordcount", "lr"], help="run one benchmark")
    p.add_argument("--forms", default="counter,rdd,classic",
                   help="wordcount forms to time on memory (default: counter,rdd,classic)")
    args = p.parse_args(argv)

    print("load average (1, 5, 15 min): %.1f %.1f %.1f, cores: %d"
          % (*os.getloadavg(), os.cpu_count()))
    tmp = tempfile.mkdtemp(prefix="minimr-bench-")
    try:
        if args.only in (None, "wordcount"):
            bench_wordcount(tmp, args.mb, args.workers, args.partitions, not args.no_spark,
                            args.forms.split(","))
        if args.only in (None, "lr"):
            bench_lr(tmp, args.rows, args.features, args.iterations, args.workers,
                     args.partitions, ["memory", "disk"])
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
