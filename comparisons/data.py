"""Seeded input files in the examples' formats (fast: one numpy draw, one formatted write).

    words      text, Zipf-distributed words, some capitalised, some empty lines
    clusters   `label x1 .. xd`   points around one centre per class (knn)
    logistic   `y x1 .. xd`       y in {0, 1} from a logistic model (lr_sgd)
"""

import numpy as np


def write_words(path, lines=20_000, vocabulary=5_000, seed=0):
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words = ["".join(rng.choice(letters, size=rng.integers(2, 10))) for _ in range(vocabulary)]
    words = [w.capitalize() if rng.random() < 0.1 else w for w in words]
    p = 1.0 / (np.arange(vocabulary) + 2.7)
    lengths = rng.integers(0, 17, size=lines)
    picks = rng.choice(vocabulary, size=int(lengths.sum()), p=p / p.sum())
    with open(path, "w") as f:
        start = 0
        for n in lengths:
            f.write(" ".join([words[i] for i in picks[start:start + n]]) + "\n")
            start += n
    return path


def write_words_mb(path, mb, seed=0):
    """About `mb` megabytes of words (for the benchmarks)."""
    write_words(path, lines=20_000, vocabulary=20_000, seed=seed)
    with open(path) as f:
        chunk = f.read()
    with open(path, "w") as f:
        for _ in range(max(1, round(mb * 1e6 / len(chunk)))):
            f.write(chunk)
    return path


def write_clusters(path, n, d=4, classes=3, seed=0, part=0):
    """Centres depend on `seed` only; `part` picks the stream (train 0, queries 1)."""
    centres = np.random.default_rng(seed).normal(0, 2.0, size=(classes, d))
    rng = np.random.default_rng([seed, part])
    labels = rng.integers(0, classes, size=n)
    points = centres[labels] + rng.normal(0, 1.0, size=(n, d))
    _write_rows(path, labels, points, "%.3f")
    return path


def write_logistic(path, n, d=10, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.normal(0, 1.0, size=d)
    x = rng.normal(0, 1.0, size=(n, d))
    y = (rng.random(n) < 1 / (1 + np.exp(-(x @ w)))).astype(np.int64)
    _write_rows(path, y, x, "%.5f")
    return path


def _write_rows(path, first, rest, fmt, chunk=100_000):
    row = "%d" + (" " + fmt) * rest.shape[1]
    with open(path, "w") as f:
        for s in range(0, len(first), chunk):
            block = np.column_stack([first[s:s + chunk], rest[s:s + chunk]])
            f.write("\n".join(row % tuple(r) for r in block.tolist()) + "\n")


def read_rows(path):
    """The whole file as (first column, the others) numpy arrays: the references' input."""
    data = np.loadtxt(path, ndmin=2)
    return data[:, 0], data[:, 1:]
