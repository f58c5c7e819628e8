"""A tiny run of the iteration-gap study (the figures come from the full run, not here):
it finishes, reports executors that are not built as "not available", writes its three
files, the breakdown adds up to each iteration's wall time, and all weights agree."""

import json
import os

import numpy as np
import pytest

from comparisons import iteration_gap

pytestmark = [pytest.mark.spark, pytest.mark.timeout(170)]


def test_tiny_study_writes_results(tmp_path, sc):
    out = tmp_path / "results"
    runs = "disk,disk+cache,memory,pyspark-blocks"
    status = iteration_gap.main(["--points", "2000", "--dim", "4", "--iterations", "2",
                                 "--runs", runs, "--out", str(out)])
    assert status == 0
    assert sorted(os.listdir(out)) == ["iteration_gap.json", "iteration_gap.md",
                                       "iteration_gap.png"]
    result = json.loads((out / "iteration_gap.json").read_text())
    assert result["weights_agree"] is True
    assert list(result["runs"]) == runs.split(",")
    ran = [r for r in result["runs"].values() if r["available"]]
    assert any(r["name"] == "pyspark-blocks" for r in ran)
    for r in result["runs"].values():
        if not r["available"]:
            assert r["why"]                                  # says why, does not crash
    for row in result["summary"]:
        if row["available"]:
            run = result["runs"][row["name"]]
            first = row["breakdown_first"]
            assert sum(first.values()) == pytest.approx(run["seconds"][0], rel=1e-6, abs=1e-6)
            assert all(v >= 0 for v in first.values())
    text = (out / "iteration_gap.md").read_text()
    assert "| pyspark-blocks |" in text and "disk later / memory later" in text
    # a later disk iteration (cache() keeps nothing there) reads and parses the text;
    # disk+cache (DISK_ONLY) reads its files back instead
    assert result["runs"]["disk"]["kept"] is False and result["runs"]["disk+cache"]["kept"] is True
    later = {row["name"]: row["breakdown_later"] for row in result["summary"]}
    assert later["disk"]["parse"] > 0 and later["disk+cache"]["parse"] == 0


def test_weights_match_a_numpy_loop(tmp_path, sc):
    """The study's program is the twin: its weights are plain gradient descent."""
    from comparisons import data, lr_sgd
    path = str(data.write_logistic(tmp_path / "p.txt", 500, d=3, seed=1))
    w, _ = lr_sgd.train_blocks(sc, path, iterations=3, step=0.5, partitions=2)
    y, x = data.read_rows(path)
    ref = np.zeros(3)
    for _ in range(3):
        ref = ref - 0.5 * x.T @ (1 / (1 + np.exp(-(x @ ref))) - y) / len(y)
    np.testing.assert_allclose(w, ref, rtol=1e-9, atol=0)


def test_bad_arguments_are_refused(capsys):
    with pytest.raises(SystemExit) as exc:
        iteration_gap.main(["--runs", "disk,hadoop"])
    assert exc.value.code == 2 and "unknown runs" in capsys.readouterr().err
