"""Disk executor benchmarks: bounded memory and linear time on wordcount (prints figures).

    python -m benchmarks.disk_bench memory   [--mb 700]  [--buffer-mb 64]
    python -m benchmarks.disk_bench linear   [--sizes 20,40,80,160] [--buffer-mb 64]

memory: a wordcount over generated text >= 10x the sort buffer; prints the peak RSS
        (VmHWM) of the driver and of every worker process, and the spill counters.
linear: the same job over >= 4 input sizes spanning 8x; prints wall seconds and the
        workers' CPU seconds per size, and least-squares fits t = a + b * MiB with R^2
        (CPU time is the steadier measure on a shared machine).

Input is generated into a temp directory (Zipf-distributed words from a 50,000-word
vocabulary, ~10 words a line) and deleted afterwards. Not a test: nothing is asserted.
"""

import argparse
import operator
import os
import shutil
import sys
import tempfile
import time

import numpy as np

import minimr

MiB = 1 << 20


def make_input(path, mb, seed=0):
    """Write `mb` MiB of text: lines of Zipf-distributed words."""
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{i}{'x' * (i % 7)}" for i in range(50_000)])
    written, target = 0, mb * MiB
    with open(path, "w") as f:
        while written < target:
            ids = np.minimum(rng.zipf(1.2, 200_000), 50_000) - 1
            words = vocab[ids]
            lines = [" ".join(words[i:i + 10]) for i in range(0, len(words), 10)]
            text = "\n".join(lines) + "\n"
            if written + len(text) > target:          # stop at a line end near the target
                text = text[:text.rfind("\n", 0, max(target - written, 1)) + 1]
                if not text:
                    break
            f.write(text)
            written += len(text)
    return os.path.getsize(path)


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid):
    """user + system CPU time of a process so far (load on a shared machine does not
    inflate it the way it inflates wall time)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wordcount(ctx, path):
    lines = ctx.textFile(path)
    counts = lines.flatMap(str.split).map(lambda w: (w, 1)).reduceByKey(operator.add)
    return counts.map(lambda kv: kv[1]).sum(), counts.count()


def run(path, buffer_mb, workers, tmp):
    with minimr.Context(executor="disk", workers=workers, tmpdir=tmp,
                        sort_buffer_bytes=buffer_mb * MiB) as ctx:
        start = time.perf_counter()
        total, distinct = wordcount(ctx, path)
        seconds = time.perf_counter() - start
        counters = ctx.counters(job=-2)          # the job that ran the shuffle
        workers_rss = [(w["pid"], peak_rss_mb(w["pid"])) for w in ctx.status()["workers"]]
        cpu = sum(cpu_seconds(w["pid"]) for w in ctx.status()["workers"])
        maps = [s for s in ctx.jobs[-2]["stages"] if s["kind"].startswith("map")]
    return seconds, total, distinct, counters, workers_rss, maps, cpu


def memory(args, tmp):
    path = os.path.join(tmp, "input.txt")
    size = make_input(path, args.mb)
    print(f"input: {size / MiB:.0f} MiB ({size / (args.buffer_mb * MiB):.1f}x the "
          f"{args.buffer_mb} MiB sort buffer), workers={args.workers}")
    seconds, total, distinct, c, rss, maps, cpu = run(path, args.buffer_mb, args.workers, tmp)
    print(f"wordcount: {total} words, {distinct} distinct, {seconds:.1f} s "
          f"({size / MiB / seconds:.1f} MiB/s); workers' CPU {cpu:.0f} s")
    print(f"map tasks: {maps[0]['tasks']}; spills: {c['SPILLS']} "
          f"({c['SPILLS'] / maps[0]['tasks']:.1f} a map task); merge passes: {c.get('MERGE_PASSES', 0)}")
    for key in ("MAP_INPUT_RECORDS", "MAP_OUTPUT_RECORDS", "MAP_OUTPUT_BYTES",
                "COMBINE_INPUT_RECORDS", "COMBINE_OUTPUT_RECORDS", "SPILLED_RECORDS",
                "REDUCE_SHUFFLE_BYTES", "REDUCE_INPUT_RECORDS", "REDUCE_INPUT_GROUPS",
                "FILE_BYTES_READ", "FILE_BYTES_WRITTEN"):
        print(f"  {key:24s} {c.get(key, 0):>14,}")
    limit = args.buffer_mb + 150
    print(f"peak RSS (VmHWM), limit buffer + 150 MB = {limit} MB:")
    print(f"  driver   pid {os.getpid():>7}: {peak_rss_mb(os.getpid()):7.1f} MB")
    for pid, mb in rss:
        print(f"  worker   pid {pid:>7}: {mb:7.1f} MB  {'ok' if mb <= limit else 'OVER'}")


def linear(args, tmp):
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"sizes {sizes} MiB (span {max(sizes) / min(sizes):.0f}x), buffer {args.buffer_mb} MiB, "
          f"workers={args.workers}")
    xs, ts, cs = [], [], []
    for mb in sizes:
        path = os.path.join(tmp, f"input-{mb}.txt")
        size = make_input(path, mb) / MiB
        seconds, total, _, c, rss, maps, cpu = run(path, args.buffer_mb, args.workers, tmp)
        os.remove(path)
        xs.append(size)
        ts.append(seconds)
        cs.append(cpu)
        print(f"  {size:7.1f} MiB  {seconds:7.2f} s  {size / seconds:5.2f} MiB/s  CPU {cpu:7.2f} s  "
              f"map tasks {maps[0]['tasks']:3d}  spills {c['SPILLS']:3d}  "
              f"worker peak RSS {max(r for _, r in rss):6.1f} MB")
    for name, ys in (("wall", ts), ("workers' CPU", cs)):
        b, a = np.polyfit(xs, ys, 1)
        pred = a + b * np.array(xs)
        r2 = 1 - ((np.array(ys) - pred) ** 2).sum() / ((np.array(ys) - np.mean(ys)) ** 2).sum()
        print(f"fit, {name}: t = {a:.2f} s + {b:.3f} s/MiB * size   R^2 = {r2:.4f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("which", choices=["memory", "linear"])
    ap.add_argument("--mb", type=int, default=700, help="memory: input size in MiB")
    ap.add_argument("--sizes", default="20,40,80,160", help="linear: input sizes in MiB")
    ap.add_argument("--buffer-mb", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--tmpdir", default=None, help="where to generate input and spill")
    args = ap.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="minimr-bench-", dir=args.tmpdir)
    try:
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus, temp {tmp}")
        (memory if args.which == "memory" else linear)(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
