"""A tiny run of the iteration-gap study (the figures come from the full run, not here):
it finishes, reports executors that are not built as "not available", writes its three
files, the breakdown adds up to each iteration's wall time, and all weights agree."""

import json
import os
import statistics

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
                                       "iteration_gap.png", "iteration_gap_report.html"]
    report = (out / "iteration_gap_report.html").read_text()
    assert "disk (Hadoop" in report and "memory (Spark" in report
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


# ------------------------------------------------------------- k-means and PageRank

@pytest.mark.timeout(240)
def test_tiny_kmeans_and_pagerank_studies_and_the_three_side_by_side(tmp_path, sc):
    """--workload kmeans and pagerank: the same files and breakdown as lr's; every run's
    answer agrees (PySpark's too); PageRank's partitioned runs write far fewer shuffle
    bytes per later iteration; then the three workloads beside the paper's numbers."""
    from comparisons import workloads
    out = tmp_path / "results"
    assert iteration_gap.main(["--workload", "kmeans", "--points", "2000", "--dim", "3",
                               "--k", "4", "--iterations", "2", "--runs", "disk,memory",
                               "--out", str(out)]) == 0
    assert iteration_gap.main(["--workload", "pagerank", "--edges", "3000", "--iterations", "3",
                               "--runs", "disk,memory,memory-partitioned,pyspark-partitioned",
                               "--out", str(out)]) == 0
    assert iteration_gap.main(["--points", "1000", "--dim", "3", "--iterations", "2",
                               "--runs", "disk,disk+cache,memory", "--out", str(out)]) == 0
    for workload in ("kmeans", "pagerank"):
        result = json.loads((out / f"iteration_gap_{workload}.json").read_text())
        assert result["answers_agree"] is True
        assert (out / f"iteration_gap_{workload}.png").exists()
        for row in result["summary"]:
            run = result["runs"][row["name"]]
            assert run["available"], run
            assert sum(row["breakdown_first"].values()) == pytest.approx(
                run["seconds"][0], rel=1e-6, abs=1e-6)
            assert "answer" not in run                     # compared, then dropped
    pr = json.loads((out / "iteration_gap_pagerank.json").read_text())
    runs = pr["runs"]
    assert runs["disk"]["kept"] is False and runs["memory-partitioned"]["kept"] is True
    later = lambda name: statistics.median(runs[name]["shuffle_written"][1:])  # noqa: E731
    assert later("memory-partitioned") <= 0.5 * later("memory")
    assert later("pyspark-partitioned") > 0
    ratio = {r["ratio"]: r["value"] for r in pr["ratios"]}
    assert ratio["shuffle bytes written per later iteration, memory-partitioned / memory"] == \
        pytest.approx(later("memory-partitioned") / later("memory"))
    text = (out / "iteration_gap_pagerank.md").read_text()
    assert "| memory-partitioned | Spark + controlled partitioning |" in text
    assert "shuffle MB written / later iteration" in text

    rows = workloads.side_by_side(str(out))
    assert {r["workload"] for r in rows} == {"lr", "kmeans", "pagerank"}
    spark = {r["workload"]: r for r in rows if r["run"] == "memory"}
    assert spark["kmeans"]["paper_later"] == 33 and spark["pagerank"]["paper_later"] == 72
    partitioned = next(r for r in rows if r["run"] == "memory-partitioned")
    assert partitioned["paper_vs_spark"] == pytest.approx(23 / 72)
    page = workloads.side_by_side_markdown(rows)
    assert "| PageRank | memory-partitioned | Spark + controlled partitioning |" in page
    assert "python -m comparisons.iteration_gap --workload pagerank" in page
    assert workloads.main([str(out)]) == 0                  # python -m comparisons.workloads DIR
    assert (out / "iteration_gap_workloads.md").read_text().endswith(page)
    assert (out / "iteration_gap_workloads.png").stat().st_size > 10_000


def test_runs_are_checked_against_the_workload(capsys):
    with pytest.raises(SystemExit) as exc:
        iteration_gap.main(["--workload", "pagerank", "--runs", "memory,disk+partitioned"])
    assert exc.value.code == 2 and "unknown runs ['disk+partitioned']" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        iteration_gap.main(["--workload", "all", "--runs", "disk"])
