"""The examples, checked against plain-Python and numpy references on every executor.

Two kinds of test:

* in-process, with the shared ``ctx`` fixture (one Context per executor in
  tests/conftest.py EXECUTORS, so new executors are covered as they land): the
  answers — word counts against collections.Counter in every form, knn against brute
  force, lr_sgd against a numpy loop, pi against the same streams drawn directly;
* through the command line (``python -m examples.NAME`` in a subprocess, with a
  timeout; once per built executor, spark only for bad input): no-argument runs, the
  --json record, one-line bad-input errors (status 2), pi's estimate across worker counts.
"""

import json
import os
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from minimr import Context

from examples import _common, knn, lr_sgd, pi, wordcount

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _built(name):
    try:
        __import__(f"minimr.executors.{name}")
        return True
    except ModuleNotFoundError:
        return False


# The command-line tests run once per executor that exists (the ``ctx`` fixture also
# has variants such as memory-1; a subprocess takes its own --workers instead).
CLI_EXECUTORS = ["serial"] + [n for n in ("memory", "disk") if _built(n)]
# A JVM per run is slow, so spark runs only the bad-input command line; the in-process
# tests run every example on spark.
SPARK_CLI = _built("spark") and os.environ.get("MINIMR_SKIP_SPARK") != "1"


def run_example(name, *args, tmpdir=None, timeout=90):
    """`python -m examples.NAME args` from this checkout; returns the CompletedProcess."""
    env = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1")
    if tmpdir is not None:
        env["TMPDIR"] = str(tmpdir)
    return subprocess.run([sys.executable, "-m", f"examples.{name}", *map(str, args)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def write(path, text):
    path.write_text(text)
    return str(path)


# ------------------------------------------------------------------------- wordcount

WORDS = ("the cat  sat\ton the mat\n\nThe Cat and the\u00e9l\u00e8ve  \n"
         "   leading spaces, punctuation; kept.\n" * 3)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("form", ["rdd", "classic", "counter"])
def test_wordcount_counts_are_exact(ctx, tmp_path, form):
    with open(tmp_path / "words.txt", "w") as f:
        f.write(WORDS)
        _common.write_words(f, seed=1, lines=1500, vocabulary=300)
    path = str(tmp_path / "words.txt")
    with open(path) as f:
        expected = Counter(w for line in f for w in line.split())

    out = tmp_path / "counts"
    result, parts = wordcount.word_count(ctx, path, form, partitions=3, output=str(out))

    saved = Counter()
    for name in sorted(os.listdir(out)):
        if name.startswith("part-"):
            for line in open(out / name, encoding="utf-8"):
                word, n = line.rstrip("\n").split("\t")
                assert word not in saved, f"{word!r} counted in two reduce partitions"
                saved[word] = int(n)
    assert os.path.exists(out / "_SUCCESS")
    assert saved == expected
    assert result["total_words"] == sum(expected.values())
    assert result["distinct_words"] == len(expected)
    top = sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    assert result["top"] == [list(kv) for kv in top]
    assert parts >= 3


# ------------------------------------------------------------------------------- knn

def brute_force_knn(train_path, query_path, k):
    """One query at a time over all training points: sort by (distance, line), vote."""
    def load(path):
        rows = [(i + 1, line.split()) for i, line in enumerate(open(path)) if line.split()]
        lines = np.array([n for n, _ in rows])
        data = np.array([[float(x) for x in fields] for _, fields in rows])
        return data[:, 0].astype(int), data[:, 1:], lines
    labels, points, lines = load(train_path)
    _, queries, _ = load(query_path)
    predictions = []
    for q in queries:
        d2 = ((points - q) ** 2).sum(axis=1)
        nearest = np.lexsort((lines, d2))[:k]
        votes = Counter(labels[nearest].tolist())
        best = max(votes.values())
        predictions.append(min(label for label, n in votes.items() if n == best))
    return predictions


def tie_heavy_points(rng, n, labels=4):
    """Integer grid points: many equal distances, repeated points with other labels."""
    lines = []
    for _ in range(n):
        x = rng.integers(0, 4, size=3)
        lines.append(f"{rng.integers(0, labels)} " + " ".join(map(str, x)))
        if rng.random() < 0.1:
            lines.append("")                                  # blank lines keep numbering
    return "\n".join(lines) + "\n"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("k, partitions", [(1, 1), (4, 3), (6, 7), (50, 5)])
def test_knn_matches_brute_force(ctx, tmp_path, k, partitions):
    rng = np.random.default_rng(k)
    train = write(tmp_path / "train.txt", tie_heavy_points(rng, 300))
    query = write(tmp_path / "query.txt", tie_heavy_points(rng, 40))
    result, _ = knn.k_nearest(ctx, train, query, k, partitions)
    expected = brute_force_knn(train, query, k)
    assert result["predictions"] == expected
    truth = [int(line.split()[0]) for line in open(query) if line.split()]
    assert result["accuracy"] == pytest.approx(np.mean(np.array(expected) == truth))


@pytest.mark.timeout(60)
def test_knn_on_generated_clusters(ctx, tmp_path):
    with open(tmp_path / "train.txt", "w") as f:
        _common.write_clusters(f, seed=5, n=2000, part=0)
    with open(tmp_path / "query.txt", "w") as f:
        _common.write_clusters(f, seed=5, n=100, part=1)
    train, query = str(tmp_path / "train.txt"), str(tmp_path / "query.txt")
    result, _ = knn.k_nearest(ctx, train, query, 7, 4)
    assert result["predictions"] == brute_force_knn(train, query, 7)
    assert result["accuracy"] > 0.7


# ---------------------------------------------------------------------------- lr_sgd

def numpy_gradient_descent(path, iterations, step, intercept=False):
    """The update, written once over the whole matrix: w <- w - S/n X^T (sigmoid(Xw) - y)."""
    data = np.loadtxt(path, ndmin=2)
    y, x = data[:, 0], data[:, 1:]
    if intercept:
        x = np.hstack([x, np.ones((len(x), 1))])
    w, losses = np.zeros(x.shape[1]), []
    for _ in range(iterations):
        z = x @ w
        losses.append(np.mean(np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0) - y * z))
        w = w - step / len(y) * (x.T @ (1 / (1 + np.exp(-z)) - y))
    return w, losses


@pytest.mark.timeout(60)
@pytest.mark.parametrize("intercept", [False, True])
def test_lr_full_batch_equals_numpy_loop(ctx, tmp_path, intercept):
    with open(tmp_path / "lr.txt", "w") as f:
        _common.write_logistic(f, seed=2, n=3000, d=5)
    path = str(tmp_path / "lr.txt")
    w, history, _ = lr_sgd.train(ctx, path, partitions=3, iterations=6, step=2.0,
                                 intercept=intercept)
    expected_w, expected_losses = numpy_gradient_descent(path, 6, 2.0, intercept)
    np.testing.assert_allclose(w, expected_w, rtol=1e-9, atol=0)
    uncached_w, _, _ = lr_sgd.train(ctx, path, partitions=3, iterations=6, step=2.0,
                                    intercept=intercept, cache=False)
    np.testing.assert_allclose(uncached_w, expected_w, rtol=1e-9, atol=0)
    np.testing.assert_allclose([r["loss"] for r in history], expected_losses, rtol=1e-9)
    assert [r["iteration"] for r in history] == list(range(1, 7))


@pytest.mark.timeout(60)
def test_lr_minibatch_same_on_every_executor(ctx, tmp_path):
    with open(tmp_path / "lr.txt", "w") as f:
        _common.write_logistic(f, seed=3, n=2000, d=4)
    path = str(tmp_path / "lr.txt")
    kw = dict(partitions=3, iterations=4, step=1.0, batch_fraction=0.3, decay=True, seed=9)
    w, history, _ = lr_sgd.train(ctx, path, **kw)
    with Context(executor="serial") as reference:
        expected_w, expected_history, _ = lr_sgd.train(reference, path, **kw)
    np.testing.assert_allclose(w, expected_w, rtol=1e-12)
    np.testing.assert_allclose([r["loss"] for r in history],
                               [r["loss"] for r in expected_history], rtol=1e-12)
    full_w, _ = numpy_gradient_descent(path, 4, 1.0)
    assert not np.allclose(w, full_w)          # it did sample


# -------------------------------------------------------------------------------- pi

def test_pi_streams_are_the_documented_ones(ctx):
    samples, partitions, seed = 300_001, 4, 7
    result = pi.estimate_pi(ctx, samples, partitions, seed)
    inside = 0
    for i in range(partitions):
        n = samples // partitions + (i < samples % partitions)
        xy = np.random.default_rng([seed, i]).random((n, 2))
        inside += int(np.count_nonzero((xy ** 2).sum(axis=1) <= 1))
    assert result == {"estimate": 4 * inside / samples, "samples": samples, "inside": inside}
    assert abs(result["estimate"] - np.pi) < 0.02


@pytest.mark.timeout(90)
@pytest.mark.parametrize("executor_name", CLI_EXECUTORS)
def test_pi_identical_across_worker_counts(executor_name, tmp_path):
    estimates = set()
    for workers in (1, 3):
        out = tmp_path / f"pi{workers}.json"
        proc = run_example("pi", "--executor", executor_name, "--workers", workers,
                           "--samples", 200_000, "--partitions", 5, "--seed", 11,
                           "--json", out)
        assert proc.returncode == 0, proc.stderr
        estimates.add(json.loads(out.read_text())["result"]["estimate"])
    assert len(estimates) == 1


# ------------------------------------------------------------------- command line

RESULT_FIELDS = {
    "wordcount": {"total_words", "distinct_words", "top"},
    "knn": {"predictions", "accuracy"},
    "lr_sgd": {"weights", "accuracy"},
    "pi": {"estimate", "samples", "inside"},
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", sorted(RESULT_FIELDS))
@pytest.mark.parametrize("executor_name", CLI_EXECUTORS)
def test_runs_with_no_arguments_and_writes_json(executor_name, name, tmp_path):
    out = tmp_path / "out.json"
    (tmp_path / "tmp").mkdir()
    proc = run_example(name, "--executor", executor_name, "--json", out,
                       tmpdir=tmp_path / "tmp", timeout=110)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(out.read_text())
    assert {"example", "executor", "workers", "partitions", "seconds", "result"} <= set(record)
    assert (record["example"], record["executor"], record["workers"]) == \
        (name, executor_name, 2)
    assert record["partitions"] >= 4 and record["seconds"] > 0
    assert set(record["result"]) == RESULT_FIELDS[name]
    if name == "lr_sgd":
        its = record["iterations"]
        assert [r["iteration"] for r in its] == list(range(1, 11))
        assert all(set(r) == {"iteration", "seconds", "loss"} for r in its)
        assert its[-1]["loss"] < its[0]["loss"] == pytest.approx(np.log(2))
        assert proc.stdout.count("iteration") >= 10       # printed as they finish
    if name == "knn":
        assert len(record["result"]["predictions"]) == 300
    # the generated default input was a temp file, and it is gone
    assert not [f for f in os.listdir(tmp_path / "tmp") if f.startswith("minimr-example-")]


def bad_input_line(proc, name):
    """The one stderr line a bad input gives (Spark logs the worker's traceback around
    it; minimr prints nothing else)."""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    ours = [line for line in lines if line.startswith(f"{name}: bad input:")]
    assert len(ours) == 1, proc.stderr
    return ours[0], len(lines)


LR_GOOD = "".join(f"{i % 2} {i * 0.1:.1f} {i * 0.2:.1f}\n" for i in range(100))


BAD_LINES = [("malformed", "1 0.5 abc", "not a number"),
             ("columns", "1 0.5", "expected 3 columns"),
             ("label", "2 0.5 0.5", "y must be 0 or 1")]


@pytest.mark.timeout(90)
@pytest.mark.parametrize("executor_name, case, bad, why",
                         [(e, *b) for e in CLI_EXECUTORS for b in BAD_LINES]
                         + ([("spark", *BAD_LINES[0])] if SPARK_CLI else []))
def test_bad_line_in_a_task_gives_one_line_and_status_2(executor_name, tmp_path, case, bad,
                                                         why):
    lines = LR_GOOD.splitlines()
    lines[76] = bad                                  # line 77, in a later partition
    path = write(tmp_path / "lr.txt", "\n".join(lines) + "\n")
    proc = run_example("lr_sgd", "--executor", executor_name, "--input", path,
                       "--iterations", 2)
    assert proc.returncode == 2, proc.stderr
    line, count = bad_input_line(proc, "lr_sgd")
    assert line.startswith(f"lr_sgd: bad input: {path}, line 77: {why}")
    if executor_name != "spark":
        assert count == 1, proc.stderr


@pytest.mark.timeout(60)
def test_bad_knn_inputs(tmp_path):
    good = write(tmp_path / "train.txt", "0 1 2\n1 2 3\n0 0 0\n")
    wrong = write(tmp_path / "query.txt", "0 1 2\n\n1 2\n")
    proc = run_example("knn", "--train", good, "--query", wrong)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"knn: bad input: {wrong}, line 3: expected 3 columns "
                                   "(a label and 2 features), got 2")
    label = write(tmp_path / "train2.txt", "0 1 2\n" * 50 + "0.5 1 2\n")
    proc = run_example("knn", "--train", label, "--query", good, "--partitions", 3)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"knn: bad input: {label}, line 51: label '0.5' is not "
                                   "an integer")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name, args", [
    ("wordcount", ["--input"]), ("lr_sgd", ["--input"]),
    ("knn", ["--query", os.path.join(ROOT, "pyproject.toml"), "--train"]),
])
def test_missing_file_gives_one_line_and_status_2(tmp_path, name, args):
    missing = str(tmp_path / "nowhere.txt")
    proc = run_example(name, *args, missing)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"{name}: bad input: {missing}: no such file"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("executor", ["serial", "disk"])
def test_wordcount_reads_invalid_utf8_as_pyspark_does_and_says_so(tmp_path, executor):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"fine line\ncaf\xe9 fine\n")
    proc = run_example("wordcount", "--input", path, "--executor", executor)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == ("wordcount: note: 1 input line(s) held invalid UTF-8, "
                                   "read with U+FFFD in its place")
    assert "4 words, 3 distinct" in proc.stdout and "caf\ufffd" in proc.stdout


@pytest.mark.timeout(60)
def test_knn_invalid_utf8_in_a_number_is_still_bad_input(tmp_path):
    good = write(tmp_path / "train.txt", "0 1 2\n1 2 3\n0 0 0\n")
    query = tmp_path / "query.txt"
    query.write_bytes(b"0 1 2\n1 2 \xe93\n")
    proc = run_example("knn", "--train", good, "--query", query)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"knn: bad input: {query}, line 2: not a number in "
                                   "'1 2 \ufffd3'")


@pytest.mark.timeout(60)
def test_master_url_needs_the_spark_executor():
    # --master is Spark's (a cluster: docs/cluster.md); minimr's executors refuse it
    proc = run_example("pi", "--executor", "memory", "--master", "spark://127.0.0.1:7077")
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip() == ("--master spark://127.0.0.1:7077: a Spark master URL "
                                   "needs --executor spark")
