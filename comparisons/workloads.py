"""k-means and PageRank in the iteration-gap study, and the three workloads side by side.

    python -m comparisons.iteration_gap --workload kmeans     # 500,000 x 10 points, k = 10
    python -m comparisons.iteration_gap --workload pagerank   # 100,000 generated edges
    python -m comparisons.iteration_gap --workload all        # lr, kmeans, pagerank, then
                                                              # the three side by side

The RDD paper (NSDI 2012) measured three iterative workloads. Each run here is ONE
program, the example itself (examples/kmeans.py `train`, examples/pagerank.py `rank`),
on one engine, in a fresh process, exactly as comparisons/iteration_gap.py runs the
logistic regression; the table, the breakdown and the plot are that module's.

    k-means run     engine, storage level of the parsed blocks     paper's name
    disk            disk executor, cache() (kept nowhere)          Hadoop
    disk+cache      disk executor, DISK_ONLY (files)               HadoopBinMem
    memory          memory executor, cache()                       Spark
    pyspark         PySpark local[W], cache()

    PageRank run          engine, links persisted at ..., partitioner      paper's name
    disk                  disk, cache(): rebuilt from files every time     Hadoop
    disk+cache            disk, DISK_ONLY                                   (HadoopBinMem)
    memory                memory, cache(), no partitioner                  basic Spark
    memory-partitioned    memory, cache(), links and ranks hash-partitioned  Spark + controlled partitioning
    pyspark               PySpark, cache(), no partitioner
    pyspark-partitioned   PySpark, cache(), hash-partitioned

PageRank's runs also report the bytes each iteration wrote to shuffles (the counter
MAP_OUTPUT_MATERIALIZED_BYTES of minimr's executors, Spark's shuffle write bytes) and
read from them (REDUCE_SHUFFLE_BYTES, Spark's shuffle read bytes). Breakdown, as for
lr: read and parse come from probe jobs (the text's lines; the parsed blocks or edges);
a later disk iteration of PageRank at a memory level re-reads the links from their
grouping's shuffle files, shown as "read" (the probe: a count of the links).

The side-by-side figure divides each run's later-iteration time by the Spark-like
run's (memory), and the paper's numbers by its Spark's, so shapes compare across a
100-node cluster and 2 cores.
"""

import hashlib
import json
import os
import statistics
import time

import numpy as np

KMEANS = {   # name -> (engine, storage level, label in the paper's terms)
    "disk": ("disk", "MEMORY_ONLY", "Hadoop"),
    "disk+cache": ("disk", "DISK_ONLY", "HadoopBinMem"),
    "memory": ("memory", "MEMORY_ONLY", "Spark"),
    "pyspark": ("pyspark", "MEMORY_ONLY", "PySpark, cached blocks"),
}
PAGERANK = {   # name -> (engine, storage level of the links, partitioned, label)
    "disk": ("disk", "MEMORY_ONLY", False, "Hadoop"),
    "disk+cache": ("disk", "DISK_ONLY", False, "HadoopBinMem"),
    "memory": ("memory", "MEMORY_ONLY", False, "basic Spark"),
    "memory-partitioned": ("memory", "MEMORY_ONLY", True, "Spark + controlled partitioning"),
    "pyspark": ("pyspark", "MEMORY_ONLY", False, "PySpark"),
    "pyspark-partitioned": ("pyspark", "MEMORY_ONLY", True, "PySpark, partitioned"),
}
TABLES = {"kmeans": KMEANS, "pagerank": PAGERANK}

# The RDD paper (Zaharia et al., NSDI 2012): seconds per iteration, (first, later).
# LR and k-means: 100 GB on 100 nodes (Fig. 7); PageRank: 54 GB of Wikipedia on 30
# nodes, later iterations only (Fig. 10). run name here -> (paper's system, first, later)
PAPER = {
    "lr": {"disk": ("Hadoop", 80, 76), "disk+cache": ("HadoopBinMem", 139, 62),
           "memory": ("Spark", 46, 3)},
    "kmeans": {"disk": ("Hadoop", 115, 106), "disk+cache": ("HadoopBinMem", 182, 87),
               "memory": ("Spark", 82, 33)},
    "pagerank": {"disk": ("Hadoop", None, 171), "memory": ("basic Spark", None, 72),
                 "memory-partitioned": ("Spark + controlled partitioning", None, 23)},
}
NAMES = {"lr": "Logistic regression", "kmeans": "k-means", "pagerank": "PageRank"}


# ===================================================================== one run (child)

def _start(engine, workers):
    import minimr
    if engine == "pyspark":
        from comparisons._spark import spark_context
        sc = spark_context(workers)
        return minimr.Context(executor="spark"), sc      # joins sc; Spark's timers as ctx.jobs
    return minimr.Context(executor=engine, workers=workers), None


def run(workload, name, path, iterations, workers, partitions, k=10, seed=0):
    """Start the engine, run the example, probe; returns a JSON-able dict."""
    from minimr import StorageLevel
    from comparisons.iteration_gap import _keeps
    table = TABLES[workload]
    engine, level_name, label = table[name][0], table[name][1], table[name][-1]
    level = getattr(StorageLevel, level_name)
    start = time.perf_counter()
    try:
        ctx, sc = _start(engine, workers)
    except Exception as exc:
        return {"name": name, "available": False, "why": f"{type(exc).__name__}: {exc}"}
    startup = time.perf_counter() - start
    after = []                                   # len(ctx.jobs) after each iteration
    note = lambda record: after.append(len(ctx.jobs))          # noqa: E731
    out = {"name": name, "available": True, "engine": engine, "level": level_name,
           "label": label, "kept": _keeps(engine, level), "startup": startup,
           "workers": workers, "partitions": partitions}
    if workload == "kmeans":
        from examples import kmeans
        centers, history, data = kmeans.train(ctx, path, k, partitions, iterations, seed,
                                              level, on_iteration=note)
        out["answer"] = centers.ravel().tolist()
        probes = [("read", ctx.textFile(path, partitions)),
                  ("read+parse", kmeans.points_rdd(ctx, path, partitions, None)[0]),
                  ("cached", data)]
    else:
        from examples import pagerank
        partitioned = table[name][2]
        ranks, history, data = pagerank.rank(ctx, path, partitions, iterations, partitioned,
                                             level, on_iteration=note)
        final = sorted(ranks.collect())
        out["answer"] = [r for _, r in final]
        out["pages"] = hashlib.md5("\n".join(p for p, _ in final).encode()).hexdigest()
        out["partitioned"], out["rereads"] = partitioned, "links"
        probes = [("read", ctx.textFile(path, partitions)),
                  ("read+parse", pagerank.edges_rdd(ctx, path, partitions)),
                  ("cached", data)]                # the links: from RAM, files, or rebuilt
    from comparisons.iteration_gap import _sum_stages
    jobs = ctx.jobs
    bounds = [after[0] - 1] + after              # one job an iteration (the examples' loops)
    out["seconds"] = [r["seconds"] for r in history]
    out["timers"] = [_sum_stages(jobs[a:b]) for a, b in zip(bounds, bounds[1:])]
    out["shuffle_written"] = [_count(jobs[a:b], "map_output_materialized_bytes",
                                     "shuffle_write_bytes") for a, b in zip(bounds, bounds[1:])]
    out["shuffle_read"] = [_count(jobs[a:b], "reduce_shuffle_bytes", "shuffle_read_bytes")
                           for a, b in zip(bounds, bounds[1:])]
    out["probes"] = {}
    for probe, rdd in probes:
        n = len(ctx.jobs)
        t = time.perf_counter()
        rdd.count()
        out["probes"][probe] = {"wall": time.perf_counter() - t, **_sum_stages(ctx.jobs[n:])}
    data.unpersist()
    ctx.stop()
    if sc is not None:
        sc.stop()
    return out


def _count(jobs, *keys):
    """A counter summed over the jobs' stages, under the first of `keys` a stage has."""
    total = 0
    for job in jobs:
        for stage in job["stages"]:
            total += next((stage[k] for k in keys if k in stage), 0)
    return total


# ============================================================================ parent

def write_data(workload, path, args):
    """The study's input file; returns a description for the page's title."""
    with open(path, "w") as f:
        if workload == "kmeans":
            from examples import kmeans
            kmeans.write_blobs(f, args.seed, n=args.points, d=args.dim, k=args.k)
            return (f"k-means, {args.points:,} points x {args.dim} features, k = {args.k}",
                    f"{args.points:,} x {args.dim}, k = {args.k}")
        from examples import pagerank
        pagerank.write_graph(f, args.seed, edges=args.edges)
        return (f"PageRank, a generated power-law graph of {args.edges:,} edges",
                f"{args.edges:,} edges")


def agree(workload, runs):
    """Do all runs' answers agree? (PageRank: the same pages, ranks to 1e-12 relative;
    k-means: centers to 1e-9 relative.)"""
    avail = [r for r in runs.values() if r.get("available")]
    if workload == "pagerank" and len({r["pages"] for r in avail}) > 1:
        return False
    rtol = 1e-12 if workload == "pagerank" else 1e-9
    return all(len(r["answer"]) == len(avail[0]["answer"]) and
               np.allclose(r["answer"], avail[0]["answer"], rtol=rtol, atol=0) for r in avail)


def later_bytes(run, key="shuffle_written"):
    values = run.get(key, [])[1:]
    return statistics.median(values) if values else None


def ratios(workload, rows, runs):
    r = {row["name"]: row for row in rows if row["available"]}

    def ratio(a, b, key="later"):
        return r[a][key] / r[b][key] if a in r and b in r else None

    if workload == "kmeans":
        return [("disk later / memory later (the paper: Hadoop 106 s / Spark 33 s, 3.2x)",
                 ratio("disk", "memory")),
                ("disk+cache later / memory later (the paper: 87 s / 33 s, 2.6x)",
                 ratio("disk+cache", "memory")),
                ("memory later / PySpark cached blocks later", ratio("memory", "pyspark")),
                ("memory first / disk first (the paper: 82 s / 115 s)",
                 ratio("memory", "disk", "first"))]

    def bytes_ratio(a, b):
        ok = all(runs.get(n, {}).get("available") for n in (a, b))
        return later_bytes(runs[a]) / later_bytes(runs[b]) if ok and later_bytes(runs[b]) else None

    return [("disk later / memory later (the paper: Hadoop 171 s / basic Spark 72 s, 2.4x)",
             ratio("disk", "memory")),
            ("memory-partitioned later / memory later (the paper: 23 s / 72 s, 0.32)",
             ratio("memory-partitioned", "memory")),
            ("pyspark-partitioned later / pyspark later",
             ratio("pyspark-partitioned", "pyspark")),
            ("shuffle bytes written per later iteration, memory-partitioned / memory",
             bytes_ratio("memory-partitioned", "memory")),
            ("shuffle bytes written per later iteration, pyspark-partitioned / pyspark",
             bytes_ratio("pyspark-partitioned", "pyspark"))]


def bytes_columns(runs):
    """PageRank's extra table columns: shuffle bytes written and read, later iterations."""
    def mb(name, key):
        v = later_bytes(runs[name], key)
        return "n/a" if v is None else f"{v / 1e6:.2f}"
    return [("shuffle MB written / later iteration", lambda row: mb(row["name"], "shuffle_written")),
            ("shuffle MB read / later iteration", lambda row: mb(row["name"], "shuffle_read"))]


# ===================================================== the three workloads side by side

FILES = {"lr": "iteration_gap.json", "kmeans": "iteration_gap_kmeans.json",
         "pagerank": "iteration_gap_pagerank.json"}


def side_by_side(out_dir):
    """Rows of the three workloads' runs with the paper's numbers beside them, from the
    studies' JSON files in `out_dir` (a workload without one is left out)."""
    rows = []
    for workload, name in FILES.items():
        path = os.path.join(out_dir, name)
        if not os.path.exists(path):
            continue
        with open(path) as f:
            result = json.load(f)
        summary = {row["name"]: row for row in result["summary"] if row["available"]}
        paper = PAPER[workload]
        base = paper.get("memory", (None, None, None))[2]
        for run_name, row in summary.items():
            system, first, later = paper.get(run_name, (None, None, None))
            rows.append({"workload": workload, "run": run_name, "label": row["label"],
                         "first": row["first"], "later": row["later"],
                         "later_vs_memory": row.get("later_vs_memory"),
                         "paper_system": system, "paper_first": first, "paper_later": later,
                         "paper_vs_spark": later / base if later else None,
                         "command": result["meta"]["command"],
                         "load_average": result["meta"]["load_average"][0]})
    return rows


def side_by_side_markdown(rows):
    def num(v, fmt):
        return "" if v is None else format(v, fmt)
    out = ["| workload | run | paper's system | first s | later s | later / memory "
           "| paper first s | paper later s | paper later / Spark |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        out.append(f"| {NAMES[r['workload']]} | {r['run']} | {r['paper_system'] or ''} "
                   f"| {r['first']:.2f} | {r['later']:.3f} | {num(r['later_vs_memory'], '.2f')} "
                   f"| {num(r['paper_first'], 'g')} | {num(r['paper_later'], 'g')} "
                   f"| {num(r['paper_vs_spark'], '.2f')} |")
    commands = {r["workload"]: (r["command"], r["load_average"]) for r in rows}
    out += ["", "Commands (one run each, 2 cores; load average when each finished):", ""]
    out += [f"* {NAMES[w]}: `{c}` (load average {la:.1f})" for w, (c, la) in commands.items()]
    return "\n".join(out) + "\n"


def side_by_side_plot(rows, path):
    """One panel per workload: each paper system's later iteration over Spark's, on this
    machine and in the paper (log scale)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    workloads = [w for w in FILES if any(r["workload"] == w and r["paper_system"] for r in rows)]
    fig, axes = plt.subplots(1, len(workloads), figsize=(5 * len(workloads), 4.4), squeeze=False)
    for ax, w in zip(axes[0], workloads):
        mine = [r for r in rows if r["workload"] == w and r["paper_system"]]
        x = np.arange(len(mine))
        here = [r["later_vs_memory"] for r in mine]
        paper = [r["paper_vs_spark"] for r in mine]
        ax.bar(x - 0.2, here, 0.4, label="this machine (2 cores)")
        ax.bar(x + 0.2, paper, 0.4, label="the RDD paper")
        for xi, a, b in zip(x, here, paper):
            for dx, v in ((-0.2, a), (0.2, b)):
                label = f"{v:.0f}" if v >= 10 else f"{v:.2g}"      # 182, not 1.8e+02
                ax.text(xi + dx, v, label, ha="center", va="bottom", fontsize=8)
        ax.set_xticks(x, [f"{r['run']}\n({r['paper_system']})" for r in mine], fontsize=7)
        ax.set(yscale="log", title=f"{NAMES[w]}: later iteration / Spark's",
               ylabel="times the Spark-like run (log scale)")
        ax.axhline(1.0, color="grey", lw=0.8)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_side_by_side(out_dir, plot=True):
    """DIR/iteration_gap_workloads.{md,png} from the studies' JSON files in DIR; returns
    (the page's text, the files written)."""
    rows = side_by_side(out_dir)
    text = ("The three iterative workloads of the RDD paper: each run's later iterations "
            "over the Spark-like run's (memory), here and in the paper.\n\n" +
            side_by_side_markdown(rows))
    files = ["iteration_gap_workloads.md"]
    with open(os.path.join(out_dir, files[0]), "w") as f:
        f.write(text)
    if plot and rows:
        try:
            side_by_side_plot(rows, os.path.join(out_dir, "iteration_gap_workloads.png"))
            files.append("iteration_gap_workloads.png")
        except ImportError:
            print("matplotlib is missing (pip install minimr[plot]): no plot written")
    return text, files


def main(argv=None):
    """python -m comparisons.workloads [DIR]: draw the three workloads side by side again
    from the studies already in DIR (default: results; docs/figures holds the ones the
    README shows), e.g. after refreshing one workload with --update-docs."""
    import argparse
    p = argparse.ArgumentParser(prog="python -m comparisons.workloads",
                                description="The three workloads side by side, again.")
    p.add_argument("dir", nargs="?", default="results",
                   help="where the studies' JSON files are (default: results)")
    text, _ = write_side_by_side(p.parse_args(argv).dir)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
