"""A tiny run of comparisons.bench without Spark: engines that are not built are
reported as not available, the single-process answers are written and checked."""

import json

import pytest

from comparisons import bench


@pytest.mark.timeout(60)
def test_tiny_bench_without_spark(tmp_path):
    out = tmp_path / "results"
    status = bench.main(["--engines", "python,memory", "--words-mb", "0.1", "--knn-train", "300",
                         "--knn-queries", "10", "--lr-points", "500", "--iterations", "2",
                         "--out", str(out)])
    assert status == 0
    result = json.loads((out / "bench.json").read_text())
    py = result["results"]["python"]
    assert py["available"] and all(py[b] >= 0 for b in bench.BENCHES)
    assert result["answers_agree"] == {b: True for b in bench.BENCHES}
    mem = result["results"]["memory"]
    assert mem["available"] or "not built" in mem["why"]
    assert "| python |" in (out / "bench.md").read_text()


def test_python_references_agree_with_plain_loops(tmp_path):
    from collections import Counter
    from comparisons import data
    path = str(data.write_words(tmp_path / "w.txt", lines=200, vocabulary=50))
    with open(path) as f:
        counts = Counter(f.read().split())
    got = bench.python_wordcount(path)
    assert got["total_words"] == sum(counts.values()) and got["distinct_words"] == len(counts)
    best = max(counts.values())
    assert got["top"][0] == [min(w for w, n in counts.items() if n == best), best]
