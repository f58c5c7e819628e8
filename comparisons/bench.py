"""Benchmarks against the peers: minimr memory and disk, PySpark local[W], one Python process.

    generate inputs ──► for each engine, a fresh process:  start (timed apart: "startup")
                                                           wordcount, knn, lr_sgd (timed)
                    ──► table of seconds, ratios to PySpark ──► results/bench.{json,md}
                        (not tracked; --update-docs copies them to docs/figures/)

The distributed engines all run the SAME functions, the PySpark twins in comparisons/
(plain RDD API, so they run on a minimr Context unchanged):

    wordcount   textFile -> flatMap -> map -> reduceByKey, then sum, count, takeOrdered
    knn         broadcast queries, one numpy block per partition, reduceByKey per query
    lr_sgd      numpy blocks per partition, cache(), K iterations of map + reduce

"python" is what one process does without any engine: a collections.Counter loop, a
numpy brute-force knn, a numpy gradient-descent loop (parse included, as the engines
parse). One BLAS thread per process everywhere. "startup" is making the context plus
one tiny job (worker processes up, numpy imported), so the first benchmark does not pay
for it. Each engine's answers are checked
against the python ones before any time is reported.

    python -m comparisons.bench [--words-mb 50 --knn-train 100000 --lr-points 200000]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter

import numpy as np

ENGINES = ["memory", "disk", "pyspark", "python"]
BENCHES = ["wordcount", "knn", "lr_sgd"]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ================================================================ single process

def python_wordcount(path, top=20):
    counts = Counter()
    with open(path) as f:
        for line in f:
            counts.update(line.split())
    return {"total_words": sum(counts.values()), "distinct_words": len(counts),
            "top": [list(kv) for kv in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]}


def python_knn(train, query, k):
    from comparisons import knn
    with open(train) as f:
        labels, points, lines = knn.parse([(line, i) for i, line in enumerate(f)])
    with open(query) as f:
        truth, queries, _ = knn.parse([(line, i) for i, line in enumerate(f)])
    predictions = []
    for q in queries:
        d2 = ((points - q) ** 2).sum(axis=1)
        votes = Counter(labels[np.lexsort((lines, d2))[:k]].tolist())
        most = max(votes.values())
        predictions.append(min(label for label, n in votes.items() if n == most))
    return {"predictions": predictions,
            "accuracy": float(np.mean(np.array(predictions) == truth))}


def python_lr(path, iterations, step):
    from comparisons import lr_sgd
    with open(path) as f:
        x, y = lr_sgd.parse_block(f)
    w = np.zeros(x.shape[1])
    for _ in range(iterations):
        g, n = lr_sgd.block_gradient((x, y), w)
        w = w - step * g / n
    return w


# ===================================================================== one engine

def run_engine(engine, files, args):
    from comparisons import knn, lr_sgd, wordcount
    out = {"engine": engine}
    start = time.perf_counter()
    try:
        if engine == "pyspark":
            from comparisons._spark import spark_context
            sc = spark_context(args.workers)
        elif engine != "python":
            import minimr
            sc = minimr.Context(executor=engine, workers=args.workers)
    except Exception as exc:
        return {"engine": engine, "available": False, "why": f"{type(exc).__name__}: {exc}"}
    if engine != "python":           # a first tiny job: workers up, imports done
        sc.parallelize(range(4), 2).map(lambda x: np.sqrt(x)).count()
    out["startup"] = time.perf_counter() - start
    out["available"] = True
    p = args.partitions or 2 * args.workers
    jobs = {
        "wordcount": (lambda: python_wordcount(files["words"])) if engine == "python" else
                     (lambda: wordcount.word_count(sc, files["words"], p)),
        "knn": (lambda: python_knn(files["train"], files["query"], args.k)) if engine == "python"
               else (lambda: knn.knn_predict(sc, files["train"], files["query"], args.k, p)),
        "lr_sgd": (lambda: python_lr(files["points"], args.iterations, 1.0)) if engine == "python"
                  else (lambda: lr_sgd.train_blocks(sc, files["points"], args.iterations, 1.0, p)[0]),
    }
    for name in BENCHES:
        t = time.perf_counter()
        result = jobs[name]()
        out[name] = time.perf_counter() - t
        out[name + "_result"] = result.tolist() if isinstance(result, np.ndarray) else result
    if engine != "python":
        sc.stop()
    return out


# ========================================================================= driver

def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m comparisons.bench",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--words-mb", type=float, default=50)
    p.add_argument("--knn-train", type=int, default=100_000)
    p.add_argument("--knn-queries", type=int, default=200)
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--lr-points", type=int, default=200_000)
    p.add_argument("--lr-dim", type=int, default=10)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--partitions", type=int, default=None, help="default: 2 x workers")
    p.add_argument("--engines", default=",".join(ENGINES))
    p.add_argument("--out", default="results", help="directory for the results (default: "
                   "results, which git ignores)")
    p.add_argument("--update-docs", action="store_true",
                   help="also copy them to docs/figures/, where the docs show them")
    p.add_argument("--engine", help=argparse.SUPPRESS)           # child mode
    p.add_argument("--files", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.engine:
        print(json.dumps(run_engine(args.engine, json.loads(args.files), args)))
        return 0
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if any(e not in ENGINES for e in engines):
        p.error(f"--engines: choose from {ENGINES}")

    from comparisons import data
    from comparisons.iteration_gap import child_env
    tmp = tempfile.mkdtemp(prefix="minimr-bench-")
    try:
        files = {"words": os.path.join(tmp, "words.txt"), "train": os.path.join(tmp, "train.txt"),
                 "query": os.path.join(tmp, "query.txt"), "points": os.path.join(tmp, "points.txt")}
        print("generating inputs ...", flush=True)
        data.write_words_mb(files["words"], args.words_mb)
        data.write_clusters(files["train"], args.knn_train, part=0)
        data.write_clusters(files["query"], args.knn_queries, part=1)
        data.write_logistic(files["points"], args.lr_points, args.lr_dim)
        sizes = {k: os.path.getsize(v) / 1e6 for k, v in files.items()}
        results = {}
        for engine in engines:
            print(f"engine {engine} ...", flush=True)
            child = [sys.executable, "-m", "comparisons.bench", "--engine", engine,
                     "--files", json.dumps(files)] + [a for a in (argv if argv is not None
                                                              else sys.argv[1:])]
            out = subprocess.run(child, capture_output=True, text=True, env=child_env(), cwd=ROOT)
            try:
                results[engine] = json.loads(out.stdout.strip().splitlines()[-1])
            except (IndexError, ValueError):
                tail = (out.stderr.strip().splitlines() or ["no output"])[-1]
                results[engine] = {"engine": engine, "available": False,
                                   "why": f"failed (exit {out.returncode}): {tail[:200]}"}
            r = results[engine]
            print("  " + (f"startup {r['startup']:.2f} s; " + ", ".join(
                f"{b} {r[b]:.2f} s" for b in BENCHES) if r["available"] else
                f"not available: {r['why']}"), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    checks = check_answers(results)
    text = report(results, checks, sizes, args, argv)
    os.makedirs(args.out, exist_ok=True)
    for r in results.values():                      # answers were checked; keep the file small
        for b in BENCHES:
            r.pop(b + "_result", None)
    with open(os.path.join(args.out, "bench.json"), "w") as f:
        json.dump({"results": results, "answers_agree": checks, "sizes_mb": sizes,
                   "args": vars(args)}, f, indent=1)
    with open(os.path.join(args.out, "bench.md"), "w") as f:
        f.write(text)
    if args.update_docs:
        from comparisons.iteration_gap import DOCS
        os.makedirs(DOCS, exist_ok=True)
        for name in ("bench.json", "bench.md"):
            shutil.copy(os.path.join(args.out, name), os.path.join(DOCS, name))
    print()
    print(text)
    return 0 if all(checks.values()) else 1


def check_answers(results):
    """Every engine's answers equal the first available engine's (python when present)."""
    avail = [r for r in results.values() if r.get("available")]
    ref = next((r for r in avail if r["engine"] == "python"), avail[0] if avail else None)
    checks = {}
    for b in BENCHES:
        if ref is None:
            continue
        ok = True
        for r in avail:
            a, e = r[b + "_result"], ref[b + "_result"]
            ok &= bool(np.allclose(a, e, rtol=1e-9, atol=0)) if b == "lr_sgd" else \
                (a["predictions"] == e["predictions"] if b == "knn" else a == e)
        checks[b] = ok
    return checks


def report(results, checks, sizes, args, argv):
    cmd = "python -m comparisons.bench " + " ".join(argv if argv is not None else sys.argv[1:])
    avail = {e: r for e, r in results.items() if r.get("available")}
    lines = [f"Inputs: wordcount {sizes['words']:.0f} MB of text; knn {args.knn_train:,} "
             f"training x {args.knn_queries} queries (k={args.k}); lr_sgd {args.lr_points:,} x "
             f"{args.lr_dim}, {args.iterations} iterations. {args.workers} workers, "
             f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f} when it finished). "
             f"Command: `{cmd.strip()}`", "",
             "| engine | startup s | " + " | ".join(f"{b} s" for b in BENCHES) + " |",
             "|---|---:|" + "---:|" * len(BENCHES)]
    for e, r in results.items():
        if r.get("available"):
            lines.append(f"| {e} | {r['startup']:.2f} | " +
                         " | ".join(f"{r[b]:.2f}" for b in BENCHES) + " |")
        else:
            lines.append(f"| {e} | not available ({r['why']}) |" + " |" * len(BENCHES))
    if "pyspark" in avail:
        lines += ["", "Ratio to PySpark (time / PySpark's time, startup excluded; < 1 is faster):",
                  "", "| engine | " + " | ".join(BENCHES) + " |", "|---|" + "---:|" * len(BENCHES)]
        for e, r in avail.items():
            lines.append(f"| {e} | " + " | ".join(f"{r[b] / avail['pyspark'][b]:.2f}"
                                                 for b in BENCHES) + " |")
    if "python" in avail:
        lines += ["", "Ratio to one Python process (< 1 is faster):", "",
                  "| engine | " + " | ".join(BENCHES) + " |", "|---|" + "---:|" * len(BENCHES)]
        for e, r in avail.items():
            lines.append(f"| {e} | " + " | ".join(f"{r[b] / avail['python'][b]:.2f}"
                                                 for b in BENCHES) + " |")
    if "memory" in avail and "pyspark" in avail:
        v = avail["memory"]["wordcount"] / avail["pyspark"]["wordcount"]
        lines += ["", f"Idiomatic wordcount, memory / PySpark = {v:.2f}."]
    lines += ["", "Answers agree with the single-process ones: " +
              ", ".join(f"{b} {'yes' if ok else 'NO'}" for b, ok in checks.items()) + "."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
