"""The iteration gap: the Spark paper's logistic-regression figure, on one machine.

HotCloud 2010 (Zaharia et al.): 127 s per iteration on Hadoop; Spark's first iteration
174 s, each later one ~6 s, because Spark keeps the parsed points in RAM. NSDI 2012 adds
HadoopBinMem (input pre-converted to binary, kept in an in-memory HDFS): 76 / 62 / 3 s.
This study runs ONE program (comparisons/lr_sgd.py, blocks form, or its per-record
twin) on each engine, one fresh process per run:

    run                   engine                        what an iteration reads
    disk                  minimr disk executor, cache()  text file -> parse           (Hadoop:
                                                         nothing but files survives between jobs)
    disk+cache            minimr disk, DISK_ONLY         binary blocks from local files (HadoopBinMem)
    memory                minimr memory executor, cache() live numpy blocks in worker RAM (Spark)
    pyspark-blocks        PySpark local[W], cache()     pickled blocks in the JVM -> unpickle
    pyspark-blocks-nocache  PySpark, no cache           text file -> parse
    pyspark-records       PySpark, cache(), one point per record (the paper's program)

    generate data ──► for each run: python -m comparisons.iteration_gap --run NAME (child)
                        child: start engine (timed) -> K iterations (timed) -> probe jobs
                               -> JSON on stdout
                      ──► table, breakdown, weight check ──► results/iteration_gap.{json,md,png}
                          and results/iteration_gap_report.html: the disk and memory runs'
                          task timelines side by side (minimr/report)
                          (results/ is not tracked; --update-docs also copies them to
                          docs/figures/, where the README shows them)

Where the time goes (the breakdown) comes from each engine's own task timers, summed per
iteration (minimr: ctx.jobs[i]["stages"]; PySpark: its status store, executorRunTime),
then divided by W because W tasks run at once, so the parts add up to the wall time:

    read      probe job: textFile(path).count()               (no timer separates it)
    parse     probe job: parse and count, minus `read`
    deser.    cached runs: minimr's cache_read_seconds; PySpark: probe, count of the
              cached RDD (unpickling its blocks; PySpark keeps Python data pickled)
    write     minimr's cache_write_seconds (first iteration of a cached run)
    shuffle   shuffle write + fetch timers (this job has none: reduce() goes to the driver)
    compute   task time minus all of the above
    warm-up   first iteration only: its compute beyond a later iteration's (worker
              processes starting, imports, JIT), so "compute" compares across iterations
    outside tasks   wall time in no task: the driver's scheduling, shipping tasks and
              results, starting worker processes, the weight update

    python -m comparisons.iteration_gap [--points 500000 --dim 10 --iterations 10 --workers 2]

--workload kmeans and --workload pagerank run the RDD paper's two other iterative
workloads the same way (comparisons/workloads.py: their runs, ratios and PageRank's
shuffle bytes); --workload all runs the three, then draws them side by side with the
paper's numbers (results/iteration_gap_workloads.{md,png}).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

RUNS = {   # name -> (engine, program, storage level or None, label in the paper's terms)
    "disk": ("disk", "blocks", "MEMORY_ONLY", "Hadoop"),
    "disk+cache": ("disk", "blocks", "DISK_ONLY", "HadoopBinMem"),
    "memory": ("memory", "blocks", "MEMORY_ONLY", "Spark"),
    "pyspark-blocks": ("pyspark", "blocks", "MEMORY_ONLY", "PySpark, cached blocks"),
    "pyspark-blocks-nocache": ("pyspark", "blocks", None, "PySpark, no cache"),
    "pyspark-records": ("pyspark", "records", "MEMORY_ONLY", "PySpark, cached records"),
}
DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "figures")
PARTS = ["read", "parse", "deserialise", "write", "shuffle", "compute", "warm-up", "outside tasks"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ===================================================================== one run (child)

def run_one(name, path, dim, iterations, workers, partitions, step, event_dir=None):
    """Start the engine, train, probe; returns a JSON-able dict (with the path of the
    run's event log, for the report, on minimr's executors)."""
    from comparisons import lr_sgd
    import minimr
    engine, program, level_name, _ = RUNS[name]
    level = level_name and getattr(minimr.StorageLevel, level_name)
    start = time.perf_counter()
    try:
        if engine == "pyspark":
            from comparisons._spark import spark_context
            import minimr
            sc = spark_context(workers)
            ctx = minimr.Context(executor="spark")   # joins sc: reads Spark's timers as ctx.jobs
        else:
            import minimr
            sc = ctx = minimr.Context(executor=engine, workers=workers, eventLog=event_dir)
    except Exception as exc:                          # e.g. an executor not merged yet
        return {"name": name, "available": False, "why": f"{type(exc).__name__}: {exc}"}
    startup = time.perf_counter() - start

    make = lr_sgd.blocks_rdd if program == "blocks" else lr_sgd.points_rdd
    gradient = lr_sgd.block_gradient if program == "blocks" else lr_sgd.point_gradient
    bounds = [len(ctx.jobs)]                 # job index where each iteration starts
    data = make(sc, path, partitions, level)
    w, seconds = lr_sgd.descend(sc, data, gradient, dim, iterations, step,
                                on_iteration=lambda i, s: bounds.append(len(ctx.jobs)))
    jobs = ctx.jobs
    per_iter = [_sum_stages(jobs[a:b]) for a, b in zip(bounds, bounds[1:])]

    probes = {}                              # task-seconds of one pass, by the engine's timers
    for probe, rdd in [("read", sc.textFile(path, partitions)),
                       ("read+parse", make(sc, path, partitions, None))] + \
                      ([("cached", data)] if level else []):
        n = len(ctx.jobs)
        t = time.perf_counter()
        rdd.count()
        probes[probe] = {"wall": time.perf_counter() - t,
                         **_sum_stages(ctx.jobs[n:])}
    data.unpersist()
    log = getattr(ctx.events, "path", None) if engine != "pyspark" else None
    ctx.stop()
    if sc is not ctx:
        sc.stop()
    return {"name": name, "available": True, "engine": engine, "program": program,
            "level": level_name, "kept": _keeps(engine, level), "startup": startup, "seconds": seconds, "weights": w.tolist(),
            "timers": per_iter, "probes": probes, "workers": workers,
            "partitions": partitions, "event_log": log, "training_jobs": bounds[-1]}


def _keeps(engine, level):
    """Does a later iteration read the persisted blocks (else it reads and parses the
    text)? On the disk executor only a level with useDisk survives between jobs."""
    return level is not None and (engine != "disk" or level.useDisk)


def _sum_stages(jobs):
    total = {}
    for job in jobs:
        for stage in job["stages"]:
            for key, v in stage.items():
                if key.endswith("_seconds") and isinstance(v, (int, float)):
                    total[key] = total.get(key, 0.0) + v
    return total


# ============================================================== breakdown and report

def breakdown(run, i):
    """Iteration i (0-based) of a run, split into PARTS, in wall-clock seconds."""
    t, wall, w = run["timers"][i], run["seconds"][i], run["workers"]
    task = t.get("task_seconds", 0.0)
    probes = run["probes"]
    read = probes["read"].get("task_seconds", 0.0)
    parse = max(0.0, probes["read+parse"].get("task_seconds", 0.0) - read)
    parts = dict.fromkeys(PARTS, 0.0)
    if i == 0 or (not run["kept"] and run.get("rereads", "text") == "text"):
        parts["read"], parts["parse"] = read, parse    # this iteration read and parsed the text
    elif not run["kept"]:      # PageRank on disk: the links again, from their grouping's files
        parts["read"] = probes["cached"].get("task_seconds", 0.0)
    else:
        # minimr times its cache reads; PySpark does not, so its probe stands in
        parts["deserialise"] = (t.get("cache_read_seconds", 0.0) if run["engine"] != "pyspark"
                                else probes["cached"].get("task_seconds", 0.0))
    parts["write"] = t.get("cache_write_seconds", 0.0)
    parts["shuffle"] = t.get("shuffle_write_seconds", 0.0) + t.get("shuffle_fetch_seconds", 0.0)
    fixed = sum(parts.values())
    if fixed > task:                             # probes are estimates: never exceed the task
        parts = {k: v * task / fixed for k, v in parts.items()}
        fixed = task
    parts["compute"] = task - fixed
    if i == 0 and len(run["seconds"]) > 1:
        # the first iteration's compute beyond a later one's is one-off: worker processes
        # starting, imports, a JVM warming up, first touch of memory
        later = statistics.median(_compute(run, j) for j in range(1, len(run["seconds"])))
        parts["warm-up"] = max(0.0, parts["compute"] - later)
        parts["compute"] -= parts["warm-up"]
    parts = {k: v / w for k, v in parts.items()}                 # W tasks ran at once
    parts["outside tasks"] = max(0.0, wall - task / w)
    return parts


def _compute(run, j):
    parts = breakdown(run, j)
    return parts["compute"] * run["workers"]


def summarise(runs, memory_name="memory", table=RUNS):
    rows = []
    base = runs.get(memory_name) if runs.get(memory_name, {}).get("available") else None
    ref = next((r for r in runs.values() if r.get("available")), None)
    for name, run in runs.items():
        label = table[name][-1]
        row = {"name": name, "label": label, "available": run.get("available", False)}
        if not row["available"]:
            row["why"] = run.get("why", "")
            rows.append(row)
            continue
        s = run["seconds"]
        later = statistics.median(s[1:]) if len(s) > 1 else s[0]
        row.update(startup=run["startup"], first=s[0], later=later,
                   breakdown_first=breakdown(run, 0),
                   breakdown_later=_median_parts([breakdown(run, i) for i in range(1, len(s))])
                   if len(s) > 1 else breakdown(run, 0))
        if base:
            row["first_vs_memory"] = s[0] / base["seconds"][0]
            bl = base["seconds"][1:]
            row["later_vs_memory"] = later / (statistics.median(bl) if bl else base["seconds"][0])
        w, wr = np.array(answer(run)), np.array(answer(ref))
        row["weights_max_rel_diff"] = float(np.max(np.abs(w - wr) / np.maximum(np.abs(wr), 1e-300)))
        rows.append(row)
    return rows


def answer(run):
    """What a run computed, as numbers to compare: lr's weights, k-means' centers, the
    ranks in page order."""
    return run["weights"] if "weights" in run else run["answer"]


def _median_parts(list_of_parts):
    return {k: statistics.median(p[k] for p in list_of_parts) for k in PARTS}


def ratios(rows):
    """The ratios the Spark paper's figure is about; None where a run is missing."""
    r = {row["name"]: row for row in rows if row["available"]}

    def ratio(a, b, key):
        return r[a][key] / r[b][key] if a in r and b in r else None

    return [
        ("disk later / memory later (the paper: Hadoop 127 s / Spark 6 s, about 21x)",
         ratio("disk", "memory", "later")),
        ("disk+cache later / memory later", ratio("disk+cache", "memory", "later")),
        ("memory later / PySpark cached blocks later", ratio("memory", "pyspark-blocks", "later")),
        ("memory later / PySpark cached records later", ratio("memory", "pyspark-records", "later")),
        ("memory first / disk first (the paper: 174 s / 127 s)", ratio("memory", "disk", "first")),
    ]


def markdown(rows, meta, weights_ok, title=None, ratio_rows=None, answer_name="weights",
             columns=()):
    """The study's page: the table, the breakdown, the ratios, the agreement line.
    `columns`: extra (header, row -> text) columns of the table (pagerank's bytes)."""
    title = title or (f"Logistic regression, {meta['points']:,} points x {meta['dim']} "
                      f"features ({meta['mb']:.0f} MB of text)")
    out = [f"{title}, {meta['iterations']} iterations, "
           f"{meta['workers']} workers, {meta['partitions']} partitions, {meta['cpus']} CPUs "
           f"(load average {meta['load_average'][0]:.1f} when it finished).",
           f"Command: `{meta['command']}`", "",
           "| run | paper's name | startup s | first iteration s | later iterations s (median) "
           "| later / memory |" + "".join(f" {h} |" for h, _ in columns),
           "|---|---|---:|---:|---:|---:|" + "---:|" * len(columns)]
    for row in rows:
        if not row["available"]:
            out.append(f"| {row['name']} | {row['label']} | not available ({row['why']}) | | | |"
                       + " |" * len(columns))
            continue
        vs = f"{row['later_vs_memory']:.1f}x" if "later_vs_memory" in row else "n/a"
        out.append(f"| {row['name']} | {row['label']} | {row['startup']:.2f} | {row['first']:.2f} "
                   f"| {row['later']:.3f} | {vs} |" + "".join(f" {f(row)} |" for _, f in columns))
    out += ["", "Where an iteration's wall time goes (seconds; task timers / workers; "
            "read and parse from probe jobs, see the module docstring):", "",
            "| run | iteration | " + " | ".join(PARTS) + " |",
            "|---|---|" + "---:|" * len(PARTS)]
    for row in rows:
        if row["available"]:
            for which in ("first", "later"):
                b = row[f"breakdown_{which}"]
                out.append(f"| {row['name']} | {which} | " +
                           " | ".join(f"{b[k]:.3f}" for k in PARTS) + " |")
    out += ["", "| ratio | measured |", "|---|---:|"]
    for what, v in (ratios(rows) if ratio_rows is None else ratio_rows):
        out.append(f"| {what} | {'n/a' if v is None else f'{v:.3f}'} |")
    out += ["", f"Final {answer_name} agree across runs (max relative difference "
            f"{max((r.get('weights_max_rel_diff', 0) for r in rows), default=0):.1e}): "
            f"{'yes' if weights_ok else 'NO'}."]
    return "\n".join(out) + "\n"


def plot(rows, runs, path, meta):
    """Left: running time against iterations (HotCloud 2010, Fig. 2); middle: each
    iteration's time, on a log scale (the later iterations differ by 100x); right: first
    and later iteration per system (NSDI 2012, Fig. 7), log scale."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
    avail = [r for r in rows if r["available"]]
    fig, (a, m, b) = plt.subplots(1, 3, figsize=(16, 4.8))
    styles = ["-o", "--s", "-^", ":D", "-.v", "--x"]
    for row, style in zip(avail, styles):
        s = runs[row["name"]]["seconds"]
        label = f"{row['name']} ({row['label']})"
        a.plot(range(1, len(s) + 1), np.cumsum(s), style, ms=4, label=label)
        m.plot(range(1, len(s) + 1), s, style, ms=4, label=label)
    a.set(xlabel="number of iterations", ylabel="running time (s)",
          title=f"{meta.get('workload', 'Logistic regression')}: cumulative time")
    m.set(xlabel="iteration", ylabel="seconds (log scale)", yscale="log",
          title="Each iteration")
    a.legend(fontsize=7)
    m.grid(True, which="both", alpha=0.3)
    for ax in (a, m):
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    x = np.arange(len(avail))
    b.bar(x - 0.2, [r["first"] for r in avail], 0.4, label="first iteration")
    b.bar(x + 0.2, [r["later"] for r in avail], 0.4, label="later iterations (median)")
    for xi, r in zip(x, avail):
        b.text(xi - 0.2, r["first"], f"{r['first']:.2f}", ha="center", va="bottom", fontsize=7)
        b.text(xi + 0.2, r["later"], f"{r['later']:.3f}", ha="center", va="bottom", fontsize=7)
    b.set_xticks(x, [r["name"] for r in avail], rotation=20, fontsize=8)
    b.set(ylabel="iteration time (s, log scale)", yscale="log",
          title=meta.get("shape", f"{meta.get('points', 0):,} x {meta.get('dim')}")
          + f", {meta['workers']} workers")
    b.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ============================================================================ driver

def side_by_side(runs, path):
    """The report (minimr/report) of the disk and memory runs, side by side, on one time
    scale: the disk lanes read and parse in every iteration, the memory lanes compute."""
    from minimr.events import read
    from minimr.report import html
    shown = [(f"{name} ({RUNS[name][3]})", _training(read(runs[name]["event_log"]),
                                                      runs[name]["training_jobs"]))
             for name in ("disk", "memory") if runs.get(name, {}).get("event_log")]
    if not shown:
        return None
    return html.write(shown, path, title="The iteration gap: disk (Hadoop) and memory (Spark)")


def _training(events, jobs):
    """The events up to the end of the training's last job (not the probe jobs after it)."""
    ends = [i for i, e in enumerate(events) if e["event"] == "JobEnd" and e["job"] == jobs - 1]
    return events[:ends[0] + 1] if ends else events


def screenshot(page, png):
    """A picture of the report's first screen, with headless Chromium, if it is here."""
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return False
    if chromium is None:
        return False
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            view = browser.new_page(viewport={"width": 1500, "height": 1000})
            view.goto("file://" + os.path.abspath(page))
            view.screenshot(path=png)
        finally:
            browser.close()
    return True


def child_env():
    env = dict(os.environ, PYTHONHASHSEED=os.environ.get("PYTHONHASHSEED", "0"))
    env["PYTHONPATH"] = os.pathsep.join([ROOT] + [p for p in env.get("PYTHONPATH", "").split(
        os.pathsep) if p])
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")               # one BLAS thread per process, on every engine
    return env


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m comparisons.iteration_gap",
                                description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", choices=["lr", "kmeans", "pagerank", "all"], default="lr",
                   help="lr (the default: the paper's logistic regression), kmeans, pagerank "
                        "(comparisons/workloads.py), or all three and the figure of the three")
    p.add_argument("--points", type=int, default=500_000)
    p.add_argument("--dim", type=int, default=10)
    p.add_argument("--k", type=int, default=10, help="kmeans: clusters (default: 10)")
    p.add_argument("--edges", type=int, default=100_000,
                   help="pagerank: generated edges (default: 100,000)")
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--partitions", type=int, default=None, help="default: 2 x workers")
    p.add_argument("--step", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--runs", default=None, help="comma-separated subset of the workload's "
                   "runs; lr: " + ", ".join(RUNS))
    p.add_argument("--out", default="results", help="directory for the results (default: "
                   "results, which git ignores)")
    p.add_argument("--update-docs", action="store_true",
                   help="also copy them to docs/figures/, where the README shows them")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--run", help=argparse.SUPPRESS)          # child mode
    p.add_argument("--input", help=argparse.SUPPRESS)
    p.add_argument("--events", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if min(args.iterations, args.points, args.dim, args.workers, args.k, args.edges) < 1:
        p.error("--points, --dim, --k, --edges, --iterations and --workers must be positive")
    partitions = args.partitions or 2 * args.workers
    if args.run:
        from comparisons import workloads
        print(json.dumps(run_one(args.run, args.input, args.dim, args.iterations, args.workers,
                                 partitions, args.step, args.events) if args.workload == "lr" else
                         workloads.run(args.workload, args.run, args.input, args.iterations,
                                       args.workers, partitions, args.k, args.seed)))
        return 0
    if args.workload == "all" and args.runs:
        p.error("--runs names the runs of one workload; not with --workload all")
    chosen = ["lr", "kmeans", "pagerank"] if args.workload == "all" else [args.workload]
    status = 0
    for workload in chosen:
        table = RUNS if workload == "lr" else _tables()[workload]
        names = [n.strip() for n in args.runs.split(",") if n.strip()] if args.runs else list(table)
        unknown = [n for n in names if n not in table]
        if unknown:
            p.error(f"unknown runs {unknown}; choose from {list(table)}")
        study = _study_lr if workload == "lr" else _study
        status |= study(workload, names, args, partitions, argv)
    if args.workload == "all":
        _side_by_side(args)
    return status


def _tables():
    from comparisons import workloads
    return workloads.TABLES


def _run_children(workload, names, labels, path, args, partitions, events=None):
    """Each run in a fresh process (this module in child mode); name -> its JSON. With
    `events`, a directory: each run writes its event log in events/NAME."""
    runs = {}
    for name in names:
        print(f"run {name} ({labels[name]}) ...", flush=True)
        cmd = [sys.executable, "-m", "comparisons.iteration_gap", "--workload", workload,
               "--run", name, "--input", path, "--dim", str(args.dim), "--k", str(args.k),
               "--iterations", str(args.iterations), "--workers", str(args.workers),
               "--partitions", str(partitions), "--step", str(args.step),
               "--seed", str(args.seed)]
        if events:
            cmd += ["--events", os.path.join(events, name)]
        out = subprocess.run(cmd, capture_output=True, text=True, env=child_env(), cwd=ROOT)
        try:
            runs[name] = json.loads(out.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            tail = out.stderr.strip().splitlines()[-1:] or ["no output"]
            runs[name] = {"name": name, "available": False,
                          "why": f"the run failed (exit {out.returncode}): {tail[0][:200]}"}
        r = runs[name]
        if r.get("available"):
            print(f"  startup {r['startup']:.2f} s; iterations " +
                  " ".join(f"{s:.3f}" for s in r["seconds"]), flush=True)
        else:
            print(f"  not available: {r['why']}", flush=True)
    return runs


def _meta(args, partitions, argv, mb, **extra):
    return {**extra, "iterations": args.iterations, "workers": args.workers,
            "partitions": partitions, "mb": mb, "cpus": os.cpu_count(),
            "load_average": os.getloadavg(), "command": ("python -m comparisons.iteration_gap " +
            " ".join(argv if argv is not None else sys.argv[1:])).strip(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def _write(args, base, record, text, rows, runs, meta):
    """results/BASE.{json,md,png}; with --update-docs, copies in docs/figures/."""
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, base + ".json"), "w") as f:
        json.dump(record, f, indent=1)
    with open(os.path.join(args.out, base + ".md"), "w") as f:
        f.write(text)
    if not args.no_plot and any(r.get("available") for r in runs.values()):
        try:
            plot(rows, runs, os.path.join(args.out, base + ".png"), meta)
        except ImportError:
            print("matplotlib is missing (pip install minimr[plot]): no plot written")
    if args.update_docs:
        os.makedirs(DOCS, exist_ok=True)
        for name in (base + ".json", base + ".md", base + ".png"):
            if os.path.exists(os.path.join(args.out, name)):
                shutil.copy(os.path.join(args.out, name), os.path.join(DOCS, name))
    print()
    print(text)


def _study_lr(workload, names, args, partitions, argv):
    from comparisons import data
    tmp = tempfile.mkdtemp(prefix="minimr-gap-")
    try:
        path = os.path.join(tmp, "points.txt")
        print(f"generating {args.points:,} x {args.dim} points ...", flush=True)
        data.write_logistic(path, args.points, args.dim, args.seed)
        runs = _run_children("lr", names, {n: RUNS[n][3] for n in names}, path, args,
                             partitions, events=os.path.join(tmp, "events"))
        mb = os.path.getsize(path) / 1e6
        os.makedirs(args.out, exist_ok=True)
        report = side_by_side(runs, os.path.join(args.out, "iteration_gap_report.html"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    rows = summarise(runs)
    avail = [r for r in runs.values() if r.get("available")]
    weights_ok = all(np.allclose(r["weights"], avail[0]["weights"], rtol=1e-9, atol=1e-12)
                     for r in avail)
    meta = _meta(args, partitions, argv, mb, points=args.points, dim=args.dim)
    record = {"meta": meta, "runs": runs, "summary": rows, "weights_agree": weights_ok,
              "ratios": [{"ratio": what, "value": v} for what, v in ratios(rows)]}
    _write(args, "iteration_gap", record, markdown(rows, meta, weights_ok), rows, runs, meta)
    if args.update_docs and report and screenshot(report, os.path.join(DOCS, "iteration_gap_report.png")):
        print("screenshot of the report: docs/figures/iteration_gap_report.png")
    return 0 if weights_ok else 1


def _study(workload, names, args, partitions, argv):
    """k-means or PageRank: the same runs, table, breakdown and plot as lr's."""
    from comparisons import workloads
    table = workloads.TABLES[workload]
    tmp = tempfile.mkdtemp(prefix="minimr-gap-")
    try:
        path = os.path.join(tmp, "input.txt")
        print(f"generating the {workload} input ...", flush=True)
        title, shape = workloads.write_data(workload, path, args)
        runs = _run_children(workload, names, {n: table[n][-1] for n in names}, path, args,
                             partitions)
        mb = os.path.getsize(path) / 1e6
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    rows = summarise(runs, table=table)
    ok = workloads.agree(workload, runs)
    extra = ({"points": args.points, "dim": args.dim, "k": args.k} if workload == "kmeans"
             else {"edges": args.edges})
    meta = _meta(args, partitions, argv, mb, workload=workloads.NAMES[workload], shape=shape,
                 **extra)
    ratio_rows = workloads.ratios(workload, rows, runs)
    text = markdown(rows, meta, ok, title=f"{title} ({mb:.1f} MB of text)",
                    ratio_rows=ratio_rows,
                    answer_name="centers" if workload == "kmeans" else "ranks",
                    columns=workloads.bytes_columns(runs) if workload == "pagerank" else ())
    for run in runs.values():                   # the answers were compared: keep files small
        run.pop("answer", None)
    record = {"meta": meta, "runs": runs, "summary": rows, "answers_agree": ok,
              "ratios": [{"ratio": what, "value": v} for what, v in ratio_rows]}
    _write(args, f"iteration_gap_{workload}", record, text, rows, runs, meta)
    return 0 if ok else 1


def _side_by_side(args):
    """The three workloads beside the paper's numbers: results/iteration_gap_workloads.*"""
    from comparisons import workloads
    text, files = workloads.write_side_by_side(args.out, plot=not args.no_plot)
    if args.update_docs:
        for name in files:
            shutil.copy(os.path.join(args.out, name), os.path.join(DOCS, name))
    print(text)


if __name__ == "__main__":
    sys.exit(main())
