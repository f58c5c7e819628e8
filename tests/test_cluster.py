"""The cluster path, proven: programs on a real Spark standalone cluster give the memory
executor's results.

The session fixture ``spark_cluster`` (tests/conftest.py) starts a master and two workers
on 127.0.0.1 from the installed pyspark, and stops them at the end, checking that none
of their processes is left. Against ``spark://127.0.0.1:PORT`` run, as a user runs them
(subprocesses: this test process already holds the session's local[2] SparkContext, and
one process cannot hold two):

* ``python -m examples.wordcount --executor spark --master URL``: every saved count;
* ``python -m examples.lr_sgd --executor spark --master URL``: the weights, to 1e-9;
* ``minimr-submit --executor spark --master URL`` on Spark's own wordcount.py.

The workers have no PYTHONPATH and run in their own directory, so a function from the
``examples`` package reaches them only because the spark executor ships the program's
modules (``ModuleNotFoundError: examples`` otherwise). Marked ``cluster``:
``python -m pytest -m "not cluster"`` leaves them out of a quick local run.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from examples import _common

pytestmark = [pytest.mark.cluster, pytest.mark.spark]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args, timeout=240):
    env = dict(os.environ, PYTHONPATH=ROOT, OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-m", *map(str, args)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr[-4000:]
    return out


def saved_counts(directory):
    counts = {}
    for name in sorted(os.listdir(directory)):
        if name.startswith("part-"):
            with open(os.path.join(directory, name), encoding="utf-8") as f:
                for line in f:
                    word, n = line.rstrip("\n").split("\t")
                    assert word not in counts
                    counts[word] = int(n)
    assert os.path.exists(os.path.join(directory, "_SUCCESS"))
    return counts


@pytest.mark.timeout(300)
def test_wordcount_example_on_the_cluster(spark_cluster, tmp_path):
    words = tmp_path / "words.txt"
    with open(words, "w") as f:
        _common.write_words(f, seed=3, lines=4000, vocabulary=2000)
    results = {}
    for name, options in [("memory", ["--executor", "memory"]),
                          ("cluster", ["--executor", "spark", "--master", spark_cluster.url])]:
        run("examples.wordcount", *options, "--input", words, "--partitions", 3,
            "--output", tmp_path / f"counts-{name}", "--json", tmp_path / f"{name}.json")
        with open(tmp_path / f"{name}.json") as f:
            results[name] = (json.load(f)["result"], saved_counts(tmp_path / f"counts-{name}"))
    assert results["cluster"] == results["memory"]
    assert results["memory"][1] and results["memory"][0]["distinct_words"] > 100


@pytest.mark.timeout(300)
def test_lr_sgd_example_on_the_cluster(spark_cluster, tmp_path):
    weights = {}
    for name, options in [("memory", ["--executor", "memory"]),
                          ("cluster", ["--executor", "spark", "--master", spark_cluster.url])]:
        run("examples.lr_sgd", *options, "--iterations", 3, "--partitions", 4,
            "--json", tmp_path / f"{name}.json")
        with open(tmp_path / f"{name}.json") as f:
            weights[name] = json.load(f)["result"]
    np.testing.assert_allclose(weights["cluster"]["weights"], weights["memory"]["weights"],
                               rtol=1e-9)
    assert weights["cluster"]["accuracy"] == pytest.approx(weights["memory"]["accuracy"])


@pytest.mark.timeout(300)
def test_minimr_submit_on_the_cluster(spark_cluster, tmp_path):
    import pyspark
    script = os.path.join(os.path.dirname(pyspark.__file__), "examples", "src", "main",
                          "python", "wordcount.py")
    words = tmp_path / "words.txt"
    with open(words, "w") as f:
        _common.write_words(f, seed=4, lines=1500, vocabulary=500)
    printed = {name: sorted(run("minimr.submit", *options, script, words).stdout.splitlines())
               for name, options in [
                   ("memory", ["--executor", "memory", "--master", "local[2]"]),
                   ("cluster", ["--executor", "spark", "--master", spark_cluster.url])]}
    assert printed["cluster"] == printed["memory"] and len(printed["memory"]) > 100
