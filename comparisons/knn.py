"""k nearest neighbours in plain PySpark: the twin of examples/knn.py.

The queries are small: broadcast them. Each training partition becomes one numpy block
and answers every query with its own k nearest; reduceByKey(query) keeps the global k.

    queries ──broadcast──┐
    textFile.zipWithIndex ──mapPartitions──► (query i, [(dist², line, label)] * k)
                                             ──reduceByKey(k smallest)──► vote per query

Equal distances go to the lower training line; a tied vote to the smallest label.
"""

import heapq
from collections import Counter

import numpy as np


def parse(lines):
    """[(text, index)] -> labels (n,), points (n, d), line numbers (n,), skipping blanks."""
    rows = [(line.split(), i + 1) for line, i in lines if line.strip()]
    values = np.array([r for r, _ in rows], dtype=np.float64).reshape(len(rows), -1)
    return values[:, 0].astype(np.int64), values[:, 1:], np.array([i for _, i in rows])


def knn_predict(sc, train_path, query_path, k=5, partitions=4):
    """{"predictions": [label per query, in query order], "accuracy": float}."""
    with open(query_path) as f:
        truth, queries, _ = parse([(line, i) for i, line in enumerate(f)])
    q = sc.broadcast(queries)

    def local_k(rows):
        labels, points, lines = parse(rows)
        for i, query in enumerate(q.value):
            d2 = ((points - query) ** 2).sum(axis=1)
            best = np.lexsort((lines, d2))[:k]          # by distance, then line
            yield i, [(float(d2[j]), int(lines[j]), int(labels[j])) for j in best]

    nearest = (sc.textFile(train_path, partitions).zipWithIndex()
                 .mapPartitions(local_k)
                 .reduceByKey(lambda a, b: heapq.nsmallest(k, a + b))
                 .collectAsMap())
    predictions = []
    for i in range(len(queries)):
        votes = Counter(label for _, _, label in nearest[i])
        most = max(votes.values())
        predictions.append(min(label for label, n in votes.items() if n == most))
    accuracy = float(np.mean(np.array(predictions) == truth)) if len(truth) else None
    return {"predictions": predictions, "accuracy": accuracy}
