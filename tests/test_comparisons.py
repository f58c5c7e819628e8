"""The PySpark twins (comparisons/) against plain references, and against minimr's
examples on every executor: word counts exact, knn predictions identical, lr weights to
1e-9 relative, pi identical.

The twins run on the session's SparkContext (`sc`); their answers are computed once
(module fixtures) and compared with each executor's answer through the `ctx` fixture.
"""

import importlib.util
from collections import Counter

import numpy as np
import pytest

from comparisons import data, knn, lr_sgd, pi, wordcount

pytestmark = [pytest.mark.spark, pytest.mark.timeout(120)]

HAVE_EXAMPLES = importlib.util.find_spec("examples") is not None
needs_examples = pytest.mark.skipif(not HAVE_EXAMPLES, reason="examples/ not merged yet")
ITERATIONS, STEP, PARTITIONS, K = 5, 1.0, 3, 5


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("comparisons")
    return {"words": str(data.write_words(d / "words.txt", lines=3000, vocabulary=800)),
            "train": str(data.write_clusters(d / "train.txt", 1500, part=0)),
            "query": str(data.write_clusters(d / "query.txt", 80, part=1)),
            "points": str(data.write_logistic(d / "points.txt", 2000, d=5))}


@pytest.fixture(scope="module")
def twins(sc, files):
    """Each twin's answer on PySpark, computed once."""
    return {"wordcount": wordcount.word_count(sc, files["words"], PARTITIONS),
            "knn": knn.knn_predict(sc, files["train"], files["query"], K, PARTITIONS),
            "blocks": lr_sgd.train_blocks(sc, files["points"], ITERATIONS, STEP, PARTITIONS)[0],
            "records": lr_sgd.train_records(sc, files["points"], ITERATIONS, STEP, PARTITIONS)[0],
            "pi": pi.estimate_pi(sc, 200_000, 4, seed=7)}


# ------------------------------------------------------------------ references

def counter_reference(path, top=20):
    with open(path) as f:
        counts = Counter(w for line in f for w in line.split())
    return {"total_words": sum(counts.values()), "distinct_words": len(counts),
            "top": [list(kv) for kv in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]]}


def brute_force_knn(train, query, k):
    labels, points = data.read_rows(train)
    truth, queries = data.read_rows(query)
    out = []
    for q in queries:
        d2 = ((points - q) ** 2).sum(axis=1)
        nearest = sorted(range(len(d2)), key=lambda j: (d2[j], j))[:k]   # ties: lower line
        votes = Counter(int(labels[j]) for j in nearest)
        out.append(min(votes, key=lambda label: (-votes[label], label)))
    return out, truth


def numpy_lr(path, iterations, step):
    y, x = data.read_rows(path)
    w = np.zeros(x.shape[1])
    for _ in range(iterations):
        w = w - step * x.T @ (1 / (1 + np.exp(-(x @ w))) - y) / len(y)
    return w


def pi_reference(samples, partitions, seed):
    inside = 0
    for i in range(partitions):
        n = samples // partitions + (i < samples % partitions)
        xy = np.random.default_rng([seed, i]).random((n, 2))
        inside += int(((xy ** 2).sum(axis=1) <= 1).sum())
    return 4.0 * inside / samples


# ----------------------------------------------------- twins against references

def test_wordcount_twin_equals_counter(twins, files):
    assert twins["wordcount"] == counter_reference(files["words"])


def test_knn_twin_equals_brute_force(twins, files):
    predictions, truth = brute_force_knn(files["train"], files["query"], K)
    assert twins["knn"]["predictions"] == predictions
    assert twins["knn"]["accuracy"] == pytest.approx(np.mean(np.array(predictions) == truth))


@pytest.mark.parametrize("form", ["blocks", "records"])
def test_lr_twins_equal_numpy_loop(twins, files, form):
    np.testing.assert_allclose(twins[form], numpy_lr(files["points"], ITERATIONS, STEP),
                               rtol=1e-9, atol=0)


def test_pi_twin_equals_numpy_streams(twins):
    assert twins["pi"]["estimate"] == pi_reference(200_000, 4, 7)
    assert abs(twins["pi"]["estimate"] - np.pi) < 0.02


def test_lr_twin_without_cache_gives_the_same_weights(sc, files, twins):
    w, seconds = lr_sgd.train_blocks(sc, files["points"], ITERATIONS, STEP, PARTITIONS, level=None)
    assert len(seconds) == ITERATIONS
    np.testing.assert_allclose(w, twins["blocks"], rtol=1e-9, atol=0)


def test_the_pyspark_lr_twin_runs_unchanged_on_each_minimr_executor(ctx, files, twins):
    w, _ = lr_sgd.train_blocks(ctx, files["points"], ITERATIONS, STEP, PARTITIONS)
    np.testing.assert_allclose(w, twins["blocks"], rtol=1e-9, atol=0)


# ------------------------------------- minimr's examples against the twins, per executor

@needs_examples
@pytest.mark.parametrize("form", ["rdd", "classic", "counter"])
def test_wordcount_example_equals_twin(ctx, files, twins, form):
    from examples.wordcount import word_count
    result, partitions = word_count(ctx, files["words"], form, PARTITIONS)
    assert partitions >= PARTITIONS
    assert result == twins["wordcount"]


@needs_examples
def test_knn_example_equals_twin(ctx, files, twins):
    from examples.knn import k_nearest
    result, _ = k_nearest(ctx, files["train"], files["query"], K, PARTITIONS)
    assert result["predictions"] == twins["knn"]["predictions"]
    assert result["accuracy"] == pytest.approx(twins["knn"]["accuracy"])


@needs_examples
def test_lr_example_equals_both_twins(ctx, files, twins):
    from examples.lr_sgd import train
    w, history, _ = train(ctx, files["points"], PARTITIONS, ITERATIONS, STEP)
    assert [h["iteration"] for h in history] == list(range(1, ITERATIONS + 1))
    np.testing.assert_allclose(w, twins["blocks"], rtol=1e-9, atol=0)
    np.testing.assert_allclose(w, twins["records"], rtol=1e-9, atol=0)


@needs_examples
def test_pi_example_equals_twin(ctx, twins):
    from examples.pi import estimate_pi
    assert estimate_pi(ctx, 200_000, 4, seed=7) == twins["pi"]
