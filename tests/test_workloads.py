"""k-means and PageRank (examples/kmeans.py, examples/pagerank.py) against plain
references, on every executor (the ``ctx`` fixture, spark included), on generated and
real data (iris; Zachary's karate club from networkx), and what --partitioned changes:
no shuffle of the links after the first iteration, in toDebugString and in the counters.

References: k-means = a numpy Lloyd loop from the same initial centers (each point's
distance to each center as a sum of squared differences), to 1e-9 relative; PageRank =
a plain-Python loop of the same formula over dicts, to 1e-12 relative. The initial
centers themselves are compared with real PySpark's takeSample on the same file.
"""

import json
import os
import re
import statistics

import numpy as np
import pytest

import minimr
from minimr import StorageLevel

from examples import kmeans, pagerank
from tests.test_examples import CLI_EXECUTORS, SPARK_CLI, bad_input_line, run_example, write

HERE = os.path.dirname(os.path.abspath(__file__))
IRIS = os.path.join(HERE, "data", "iris.txt")


# ----------------------------------------------------------------------- references

def lloyd(points, centers, iterations):
    """Lloyd's algorithm written once over the whole matrix: (centers, [cost before each
    update]). A center with no points stays; ties go to the lowest index (argmin)."""
    costs = []
    for _ in range(iterations):
        d2 = ((points[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)     # (n, k)
        near = d2.argmin(axis=1)
        costs.append(d2[np.arange(len(points)), near].sum())
        new = centers.copy()
        for j in range(len(centers)):
            if (near == j).any():
                new[j] = points[near == j].mean(axis=0)
        centers = new
    return centers, costs


def pagerank_loop(edges, iterations):
    """The same formula over plain dicts: pages with out-links start at 1.0; each
    iteration rank(p) = 0.15 + 0.85 * sum of rank(q) / outdegree(q) over q -> p, for the
    pages that received something; duplicate edges count once."""
    links = {}
    for src, dst in edges:
        links.setdefault(src, {})[dst] = None
    ranks = {src: 1.0 for src in links}
    for _ in range(iterations):
        received = {}
        for src, dsts in links.items():
            if src in ranks:
                for dst in dsts:
                    received[dst] = received.get(dst, 0.0) + ranks[src] / len(dsts)
        ranks = {page: 0.15 + 0.85 * r for page, r in received.items()}
    return ranks


def read_edges(path):
    with open(path) as f:
        return [tuple(line.split()) for line in f
                if line.split() and not line.startswith("#")]


def assert_ranks_equal(got, expected, rtol=1e-12):
    assert set(got) == set(expected)
    worst = max(abs(got[p] - expected[p]) / abs(expected[p]) for p in expected)
    assert worst <= rtol, f"max relative difference {worst:.2e}"


# ---------------------------------------------------------------------------- data

@pytest.fixture(scope="module")
def blobs(tmp_path_factory):
    path = tmp_path_factory.mktemp("kmeans") / "blobs.txt"
    with open(path, "w") as f:
        kmeans.write_blobs(f, seed=4, n=3000, d=5, k=4)
    with open(path) as f:
        text = f.read()
    path.write_text(text.replace("\n", "\n\n", 7))          # a few blank lines: skipped
    return str(path)


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    """A small generated graph, with a comment, duplicate edges and a self-loop."""
    path = tmp_path_factory.mktemp("pagerank") / "edges.txt"
    with open(path, "w") as f:
        f.write("# src dst\n")
        pagerank.write_graph(f, seed=3, edges=2000, pages=300)
        f.write("p1 p2\np1 p2\np7 p7\n\n")
    return str(path)


@pytest.fixture(scope="module")
def karate(tmp_path_factory):
    """Zachary's karate club (networkx), each friendship as two directed links."""
    nx = pytest.importorskip("networkx")
    g = nx.karate_club_graph()
    path = tmp_path_factory.mktemp("karate") / "karate.txt"
    path.write_text("".join(f"{a} {b}\n{b} {a}\n" for a, b in g.edges()))
    return str(path), g


# -------------------------------------------------------------------------- k-means

@pytest.mark.timeout(120)
@pytest.mark.parametrize("data, k, partitions, iterations, seed", [
    ("blobs", 4, 3, 6, 1), ("iris", 3, 2, 8, 5)])
def test_kmeans_equals_numpy_lloyd_loop(ctx, blobs, data, k, partitions, iterations, seed):
    path = blobs if data == "blobs" else IRIS
    _, rows = kmeans.points_rdd(ctx, path, partitions, level=None)
    start = kmeans.initial_centers(rows, k, seed, path)
    centers, history, blocks = kmeans.train(ctx, path, k, partitions, iterations, seed)
    expected, costs = lloyd(np.loadtxt(path, ndmin=2), start, iterations)
    np.testing.assert_allclose(centers, expected, rtol=1e-9, atol=0)
    np.testing.assert_allclose([r["cost"] for r in history], costs, rtol=1e-9)
    assert [r["iteration"] for r in history] == list(range(1, iterations + 1))
    assert all(a >= b * (1 - 1e-12) for a, b in zip(costs, costs[1:]))   # Lloyd never worsens
    assert kmeans.cost(blocks, centers) == pytest.approx(
        lloyd(np.loadtxt(path, ndmin=2), expected, 1)[1][0], rel=1e-9)
    blocks.unpersist()


@pytest.mark.timeout(120)
def test_initial_centers_are_pysparks_takesample(ctx, sc):
    """takeSample(False, k, seed) on a per-row RDD of the file picks the very rows PySpark
    picks from the same file, on every executor."""
    _, rows = kmeans.points_rdd(ctx, IRIS, 3, level=None)
    ours = kmeans.initial_centers(rows, 5, 11, IRIS)
    theirs = (sc.textFile(IRIS, 3).filter(lambda line: line.split())
                .map(lambda line: [float(x) for x in line.split()]).takeSample(False, 5, 11))
    np.testing.assert_array_equal(ours, np.array(theirs))


@pytest.mark.timeout(60)
@pytest.mark.minimr_only
def test_kmeans_on_iris_finds_the_setosa_cluster(ctx):
    """On real data the answer means something: started from one flower of each species
    (seed 4 picks them), one of the three clusters is exactly the 50 setosa flowers
    (rows 1-50 of the file), which are linearly separable from the other two species."""
    points = np.loadtxt(IRIS)
    _, rows = kmeans.points_rdd(ctx, IRIS, 2, level=None)
    start = kmeans.initial_centers(rows, 3, 4, IRIS)
    species = sorted(int(np.flatnonzero((points == c).all(axis=1))[0]) // 50 for c in start)
    assert species == [0, 1, 2]
    centers, _, blocks = kmeans.train(ctx, IRIS, 3, partitions=2, iterations=10, seed=4)
    near, _ = kmeans.nearest(points, centers)
    assert len(set(near[:50])) == 1 and near[0] not in set(near[50:])
    blocks.unpersist()


def test_nearest_breaks_ties_like_the_exact_distance():
    """Rows exactly between two centers go to the lower index, whatever the rounding of
    the fast formula; a block gives the same answer as the rows one at a time."""
    centers = np.array([[0.1, 0.7], [0.3, 0.7], [5.0, 5.0]])
    points = np.array([[0.2, 0.7], [0.2, 0.1], [0.29, 0.7], [4.0, 4.0], [0.2, -3.3]])
    near, dist = kmeans.nearest(points, centers)
    exact = ((points[:, None, :] - centers[None]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(near, exact.argmin(axis=1))
    np.testing.assert_array_equal(dist, exact[np.arange(len(points)), near])
    one_by_one = [kmeans.nearest(p[None, :], centers)[0][0] for p in points]
    np.testing.assert_array_equal(near, one_by_one)


# ------------------------------------------------------------------------- PageRank

@pytest.mark.timeout(120)
@pytest.mark.parametrize("partitioned", [False, True])
def test_pagerank_equals_plain_python_loop(ctx, graph, partitioned):
    ranks, history, links = pagerank.rank(ctx, graph, partitions=3, iterations=6,
                                          partitioned=partitioned)
    expected = pagerank_loop(read_edges(graph), 6)
    got = dict(ranks.collect())
    assert_ranks_equal(got, expected)
    assert history[-1]["rank_sum"] == pytest.approx(sum(expected.values()), rel=1e-12)
    assert [r["iteration"] for r in history] == list(range(1, 7))
    links.unpersist()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("partitioned", [False, True])
def test_pagerank_on_the_karate_club(ctx, karate, partitioned):
    path, _ = karate
    ranks, _, links = pagerank.rank(ctx, path, partitions=4, iterations=5,
                                    partitioned=partitioned)
    assert_ranks_equal(dict(ranks.collect()), pagerank_loop(read_edges(path), 5))
    links.unpersist()


@pytest.mark.timeout(120)
def test_pagerank_converges_to_networkx_pagerank(karate):
    """The unnormalised formula's fixed point, divided by the number of pages, is
    PageRank with damping 0.85 (every karate member has links, so no rank is lost):
    networkx's own pagerank agrees after 40 iterations."""
    path, g = karate
    with minimr.Context(executor="serial") as ctx:
        ranks, _, _ = pagerank.rank(ctx, path, partitions=2, iterations=40, partitioned=True)
        got = dict(ranks.collect())
    import networkx as nx
    expected = nx.pagerank(g, alpha=0.85, tol=1e-13, weight=None)
    n = g.number_of_nodes()
    for page, r in expected.items():
        assert got[str(page)] / n == pytest.approx(r, rel=1e-6)


def _shuffles_at(debug, op):
    """The distinct ShuffledRDD ids made by `op` in a minimr toDebugString."""
    return set(re.findall(rf"ShuffledRDD\[(\d+)\] at {op}", debug))


@pytest.mark.timeout(120)
@pytest.mark.minimr_only
@pytest.mark.parametrize("level", ["MEMORY_ONLY", "DISK_ONLY"])
def test_partitioned_links_are_shuffled_only_once(ctx, graph, executor_name, level):
    """--partitioned: the lineage has one shuffle of the links (their grouping) and one
    of contributions per iteration, no join shuffle; every later iteration runs one map
    stage, and everything its tasks read from shuffles is contributions (the previous
    iteration's and its own), unless the disk executor, keeping nothing but files at a
    memory level, re-reads the links from their grouping's files."""
    iterations = 4
    runs = {}
    for partitioned in (False, True):
        first_job = len(ctx.jobs)
        ranks, history, links = pagerank.rank(ctx, graph, 3, iterations, partitioned,
                                              getattr(StorageLevel, level))
        debug = ranks.toDebugString().decode()
        runs[partitioned] = history, ctx.jobs[first_job:]
        grouped = _shuffles_at(debug, "groupByKey")
        assert len(_shuffles_at(debug, "reduceByKey")) == iterations
        assert len(grouped) == (1 if partitioned else 1 + iterations), debug
        links.unpersist()

    history, jobs = runs[True]
    later = jobs[-(iterations - 1):]                # one job per later iteration
    for previous, job in zip(jobs[-iterations:], later):
        maps = [s for s in job["stages"] if s["kind"].startswith("map")]
        assert len(maps) == 1                       # contributions only: no join shuffle
        read = maps[0].get("reduce_shuffle_bytes", 0)
        contributions = [s for s in previous["stages"] if s["kind"].startswith("map")][-1]
        rereads_links = executor_name == "disk" and level == "MEMORY_ONLY"
        if rereads_links:
            assert read > contributions["map_output_materialized_bytes"]
        else:
            assert read == contributions["map_output_materialized_bytes"]
    plain, _ = runs[False]
    assert statistics.median(r["shuffle_bytes"] for r in history[1:]) <= \
        0.5 * statistics.median(r["shuffle_bytes"] for r in plain[1:])
    assert all(r["shuffle_bytes"] > 0 for r in history)


@pytest.mark.timeout(120)
@pytest.mark.spark
def test_pysparks_join_of_partitioned_links_is_narrow(sc, graph):
    """Real PySpark, the same program: with --partitioned the join is a
    PartitionerAwareUnionRDD (no shuffle); without, each iteration shuffles for the join."""
    with minimr.Context(executor="spark") as ctx:
        for partitioned in (False, True):
            ranks, _, links = pagerank.rank(ctx, graph, 3, 3, partitioned)
            debug = ranks.toDebugString().decode()
            joins = re.findall(r"\+-\(\d+\) PairwiseRDD\[\d+\] at join", debug)
            assert ("PartitionerAwareUnionRDD" in debug) == partitioned
            assert (len(joins) == 0) == partitioned, debug
            assert_ranks_equal(dict(ranks.collect()), pagerank_loop(read_edges(graph), 3))
            links.unpersist()


# --------------------------------------------------------------------- command line

@pytest.mark.timeout(150)
@pytest.mark.parametrize("name, args, fields", [
    ("kmeans", ["--iterations", 3], {"centers", "cost"}),
    ("pagerank", ["--iterations", 3, "--partitioned"], {"pages", "rank_sum", "top"})])
@pytest.mark.parametrize("executor_name", CLI_EXECUTORS)
def test_iterative_examples_run_with_no_input_and_write_json(executor_name, name, args,
                                                             fields, tmp_path):
    out = tmp_path / "out.json"
    (tmp_path / "tmp").mkdir()
    proc = run_example(name, "--executor", executor_name, *args, "--json", out,
                       tmpdir=tmp_path / "tmp", timeout=140)
    assert proc.returncode == 0, proc.stderr
    record = json.loads(out.read_text())
    assert (record["example"], record["executor"], record["workers"]) == (name, executor_name, 2)
    assert set(record["result"]) == fields and record["storage_level"] == "MEMORY_ONLY"
    assert [r["iteration"] for r in record["iterations"]] == [1, 2, 3]
    lines = proc.stdout.strip().splitlines()
    assert lines[-1].startswith("first iteration ") and "later iterations median" in lines[-1]
    assert f"{name} on {executor_name} (" in proc.stdout
    if name == "kmeans":
        assert len(record["result"]["centers"]) == 10 == record["k"]
    else:
        assert record["result"]["pages"] > 1000 and len(record["result"]["top"]) == 20
        assert "shuffled: first iteration" in lines[-2]
    assert not [f for f in os.listdir(tmp_path / "tmp") if f.startswith("minimr-example-")]


def _result(proc, out):
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())["result"]


@pytest.mark.timeout(240)
@pytest.mark.spark
def test_command_lines_agree_across_executors(tmp_path, graph, blobs):
    """The same command on serial, memory, disk and spark (a subprocess each): the same
    centers and ranks (pagerank with and without --partitioned)."""
    executors = CLI_EXECUTORS + (["spark"] if SPARK_CLI else [])
    results = {}
    for name, args in [("kmeans", ["--input", blobs, "--k", 4, "--iterations", 4]),
                       ("pagerank", ["--input", graph, "--iterations", 4]),
                       ("pagerank", ["--input", graph, "--iterations", 4, "--partitioned"])]:
        for executor in executors:
            out = tmp_path / f"{name}-{executor}-{len(args)}.json"
            proc = run_example(name, "--executor", executor, "--partitions", 3, *args,
                               "--json", out, timeout=120)
            results[name, executor, args[-1]] = _result(proc, out)
    for (name, executor, _), result in results.items():
        reference = results[name, "serial", 4]           # pagerank: without --partitioned
        if name == "kmeans":
            np.testing.assert_allclose(result["centers"], reference["centers"], rtol=1e-12)
        else:
            assert [p for p, _ in result["top"]] == [p for p, _ in reference["top"]]
            np.testing.assert_allclose([r for _, r in result["top"]],
                                       [r for _, r in reference["top"]], rtol=1e-12)
            assert result["pages"] == reference["pages"]


KMEANS_BAD = [("1.0 2.0\n" * 30 + "1.0 x\n", "line 31: not a number in '1.0 x'"),
              ("1.0 2.0\n" * 30 + "1.0\n", "line 31: expected 2 columns, got 1")]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("executor_name", CLI_EXECUTORS + (["spark"] if SPARK_CLI else []))
def test_bad_input_gives_one_line_and_status_2(executor_name, tmp_path):
    for i, (text, why) in enumerate(KMEANS_BAD[:1] if executor_name == "spark" else KMEANS_BAD):
        path = write(tmp_path / f"points{i}.txt", text)
        proc = run_example("kmeans", "--executor", executor_name, "--input", path, "--k", 2)
        assert proc.returncode == 2, proc.stderr
        line, count = bad_input_line(proc, "kmeans")
        assert line == f"kmeans: bad input: {path}, {why}"
        assert count == 1 or executor_name == "spark"
    path = write(tmp_path / "edges.txt", "a b\n" * 40 + "a b c\n")
    proc = run_example("pagerank", "--executor", executor_name, "--input", path)
    assert proc.returncode == 2, proc.stderr
    line, count = bad_input_line(proc, "pagerank")
    assert line == f"pagerank: bad input: {path}, line 41: expected 2 columns (src dst), got 3"
    assert count == 1 or executor_name == "spark"


@pytest.mark.timeout(60)
def test_too_few_points_and_missing_files(tmp_path):
    path = write(tmp_path / "three.txt", "1 2\n3 4\n\n5 6\n")
    proc = run_example("kmeans", "--input", path, "--k", 4)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"kmeans: bad input: {path}: k = 4 centers, but the file "
                                   "has only 3 points")
    for name in ("kmeans", "pagerank"):
        missing = str(tmp_path / "nowhere.txt")
        proc = run_example(name, "--input", missing)
        assert proc.returncode == 2
        assert proc.stderr.strip() == f"{name}: bad input: {missing}: no such file"
