"""The differential cases where minimr once answered differently from PySpark 4, one test
each, run on every executor (the `ctx` fixture) and checked against real PySpark (`sc`)
and, where there is one, a plain-Python reference.

Each test names its case; each failed on the code before the fix.
"""

import operator
import os
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.timeout(180)


def groups(rdd):
    """A grouped RDD as a comparable value: sorted (sorted values) per key."""
    return sorted(sorted(v) for _, v in rdd.groupByKey().collect())


# ------------------------------------------------------------ 1. Context.union is flat

def test_context_union_without_a_common_partitioner_is_one_flat_union(ctx, sc):
    def three(c):     # a and b share a partitioner, c has none
        return [c.parallelize([(i, i) for i in range(8)], 2).partitionBy(4),
                c.parallelize([(i, -i) for i in range(8)], 2).partitionBy(4),
                c.parallelize([(i, 0) for i in range(3)], 3)]
    norm = lambda r: [sorted(p) for p in r.glom().collect()]  # noqa: E731 (order after a shuffle)
    mine = norm(ctx.union(three(ctx)))
    assert mine == norm(sc.union(three(sc)))
    assert [len(p) for p in mine] == [2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1]
    a, b, c = three(ctx)
    pairwise = norm(a.union(b).union(c))         # a.union(b) keeps the partitioner: 4 + 3
    sa, sb, sc_ = three(sc)
    assert pairwise == norm(sa.union(sb).union(sc_)) and len(pairwise) == 7


def test_union_of_rdds_sharing_a_partitioner_keeps_it(ctx, sc):
    def placed(c):
        p = c.parallelize([(i, i) for i in range(12)], 3).partitionBy(4)
        return c.union([p, p.mapValues(lambda v: -v)])
    mine, theirs = placed(ctx), placed(sc)
    assert mine.getNumPartitions() == theirs.getNumPartitions() == 4
    # the JVM makes a PartitionerAwareUnionRDD too; PySpark's Python side just forgets
    # the partitioner, minimr keeps it (so a later join of the union does not shuffle)
    assert ctx.sc is not None or mine.partitioner == ctx.parallelize([(0, 0)]).partitionBy(4).partitioner
    assert ([sorted(p) for p in mine.glom().collect()]
            == [sorted(p) for p in theirs.glom().collect()])


# ------------------------------------------------------------ 2. one shuffle read twice

def test_a_task_may_read_the_same_shuffle_twice(ctx):
    data = [(i % 5, i) for i in range(20)]
    p = ctx.parallelize(data, 3).partitionBy(2)
    assert sorted(p.union(p).collect()) == sorted(data * 2)
    ref = sorted((k, (v, w)) for k, v in data for k2, w in data if k == k2)
    assert sorted(p.join(p).collect()) == ref           # placed: one task reads p twice
    q = ctx.parallelize(range(6), 2).map(lambda x: (x % 3, x)).reduceByKey(operator.add)
    assert sorted(q.cartesian(q).collect()) == sorted((a, b) for a in q.collect() for b in q.collect())


def test_uncached_pagerank_step_joins_a_shuffle_with_itself(ctx):
    edges = [("a", "b"), ("a", "c"), ("b", "c"), ("c", "a"), ("d", "c")]
    links = ctx.parallelize(edges, 3).groupByKey()          # not cached: read twice
    contribs = links.join(links.mapValues(lambda _: 1.0)).flatMap(
        lambda kv: [(dst, kv[1][1] / len(kv[1][0])) for dst in kv[1][0]])
    ranks = dict(contribs.reduceByKey(operator.add).mapValues(lambda r: 0.15 + 0.85 * r).collect())
    out = {s: [d for s2, d in edges if s2 == s] for s, _ in edges}
    ref = {}
    for s, dsts in out.items():
        for d in dsts:
            ref[d] = ref.get(d, 0.0) + 1.0 / len(dsts)
    assert ranks == pytest.approx({k: 0.15 + 0.85 * v for k, v in ref.items()})


# ------------------------------------------------------------ 6. equal keys meet

def test_equal_keys_of_every_numeric_type_group_together(ctx, sc):
    data = [(1, "int"), (complex(1, 0), "complex"), (1.0, "float"), (True, "bool"),
            (Decimal(1), "decimal"), (Fraction(1), "fraction"), (2, "two"),
            (complex(2, 0), "complex two"), (Decimal("2.5"), "d"), (2.5, "f"), ("1", "str")]
    expected = [["bool", "complex", "decimal", "float", "fraction", "int"],
                ["complex two", "two"], ["d", "f"], ["str"]]
    for n in (1, 3):
        assert groups(ctx.parallelize(data, 4).partitionBy(n).map(lambda kv: kv)) == expected
        assert groups(ctx.parallelize(data, 4)) == groups(sc.parallelize(data, 4)) == expected
    assert (sorted(ctx.parallelize(data, 3).keys().map(lambda k: (k, 1)).reduceByKey(operator.add).values().collect())
            == [1, 2, 2, 6])


# ------------------------------------------------------------ 10. accumulator("x")

def test_accumulator_of_a_type_without_a_default_param_is_a_type_error(ctx, sc):
    for value in ("x", [1]):
        with pytest.raises(TypeError):
            sc.accumulator(value)
        with pytest.raises(TypeError):
            ctx.accumulator(value)


# ------------------------------------------------------------ 3. combining leaves caches alone

def test_combining_never_changes_a_cached_record(ctx, sc):
    """createCombiner is the identity and mergeValue extends its first argument in place
    (PySpark's docs allow it): the cached lists must stay as they were."""
    def extend(acc, v):
        acc.extend(v)
        return acc

    def run(c):
        data = [("a", [1]), ("a", [2]), ("b", [3]), ("a", [4])]
        cached = c.parallelize(data, 2).cache()
        placed = c.parallelize(data, 2).partitionBy(2).cache()   # combined without a shuffle
        cached.count(), placed.count()
        out = []
        for rdd in (cached, placed, cached):
            out.append(sorted(rdd.combineByKey(lambda v: v, extend, extend).collect()))
            out.append(sorted(rdd.reduceByKey(extend).collect()))
            out.append(sorted(rdd.foldByKey([], extend).collect()))
            out.append(sorted(rdd.aggregateByKey([], extend, extend).collect()))
        return out, sorted(cached.collect()), sorted(placed.collect())

    mine = run(ctx)
    assert mine == run(sc)
    assert mine[0] == [[("a", [1, 2, 4]), ("b", [3])]] * 12
    assert mine[1] == mine[2] == sorted([("a", [1]), ("a", [2]), ("b", [3]), ("a", [4])])


# ------------------------------------------------------------ 4. StatCounter.asDict

def test_stats_as_dict_like_pyspark_flag_included(ctx, sc):
    mine, theirs = (c.parallelize([1, 2, 3, 4], 2).stats() for c in (ctx, sc))
    for sample in (False, True):
        assert mine.asDict(sample) == pytest.approx(theirs.asDict(sample))
    assert mine.asDict()["stdev"] == pytest.approx(1.2909944487358056)     # PySpark's docstring
    assert mine.asDict()["variance"] == pytest.approx(5 / 3)
    assert mine.asDict(sample=True)["stdev"] == pytest.approx(1.118033988749895)


# ------------------------------------------------------------ 5. the user's own classes

def test_classes_defined_in_a_function_travel_everywhere(ctx):
    class Point:
        def __init__(self, x):
            self.x = x

        def __eq__(self, other):
            return isinstance(other, Point) and other.x == self.x

        def __hash__(self):
            return hash(self.x)

    class Oops(Exception):
        pass

    def boom(p):
        if p.x == 3:
            raise Oops(f"bad point {p.x}")
        return p

    pts = ctx.parallelize([Point(i) for i in range(6)], 2)                  # records
    grouped = dict(pts.map(lambda p: (Point(p.x % 2), p)).groupByKey()       # shuffle blocks
                   .mapValues(lambda ps: sorted(p.x for p in ps)).collect())
    assert grouped == {Point(0): [0, 2, 4], Point(1): [1, 3, 5]}
    made = ctx.parallelize(range(4), 2).map(Point).collect()                 # results
    assert made == [Point(i) for i in range(4)] and type(made[0]) is Point
    summed = (ctx.parallelize(range(6), 3).map(lambda i: (i % 2, Point(i)))
              .reduceByKey(lambda a, b: Point(a.x + b.x)).collectAsMap())
    assert summed == {0: Point(6), 1: Point(9)}
    if ctx.sc is None:          # PySpark pickles a broadcast value by reference: it cannot
        b = ctx.broadcast(Point(7))
        assert ctx.parallelize([1], 1).map(lambda _: b.value.x).collect() == [7]
        with pytest.raises(Oops, match="bad point 3"):                      # exceptions
            pts.map(boom).collect()
    else:                       # PySpark's error is a Py4JJavaError holding the worker's text
        with pytest.raises(Exception, match="Oops: bad point 3"):
            pts.map(boom).collect()


MAIN_SCRIPT = r'''
import os, sys
sys.path.insert(0, sys.argv[1])
import minimr

class Point:
    def __init__(self, x): self.x = x
    def __eq__(self, o): return isinstance(o, Point) and o.x == self.x
    def __hash__(self): return hash(self.x)

class Oops(Exception):
    pass

def boom(p):
    if p.x == 3:
        raise Oops(f"bad point {p.x}")
    return p

for executor in sys.argv[2:]:
    with minimr.Context(executor=executor, workers=2, maxFailures=1) as ctx:
        pts = ctx.parallelize([Point(i) for i in range(6)], 2)
        grouped = dict(pts.map(lambda p: (Point(p.x % 2), p)).groupByKey()
                       .mapValues(lambda ps: sorted(p.x for p in ps)).collect())
        assert grouped == {Point(0): [0, 2, 4], Point(1): [1, 3, 5]}, grouped
        made = ctx.parallelize(range(4), 2).map(Point).collect()
        assert type(made[0]) is Point and made == [Point(i) for i in range(4)]
        summed = (ctx.parallelize(range(6), 3).map(lambda i: (i % 2, Point(i)))
                  .reduceByKey(lambda a, b: Point(a.x + b.x)).collectAsMap())
        assert summed == {0: Point(6), 1: Point(9)}, summed
        if executor != "spark":      # PySpark cannot: it pickles the value by reference
            b = ctx.broadcast(Point(7))
            assert ctx.parallelize([1], 1).map(lambda _: b.value.x).collect() == [7]
        try:
            pts.map(boom).collect()
        except Oops as e:
            assert executor != "spark" and str(e) == "bad point 3"
        except Exception as e:
            assert executor == "spark" and "Oops: bad point 3" in str(e), e
        print(executor, "ok")
'''


@pytest.mark.timeout(240)
def test_classes_defined_in_the_users_script_travel_everywhere(tmp_path, executor_name, sc):
    """A real script (its classes live in __main__, which no worker can import), run in
    its own interpreter on each executor."""
    if executor_name not in ("serial", "memory", "disk", "spark"):
        pytest.skip("one run per executor kind")
    (tmp_path / "job.py").write_text(MAIN_SCRIPT)
    env = dict(os.environ, PYTHONHASHSEED="0")
    out = subprocess.run([sys.executable, "job.py", ROOT, executor_name], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=200)
    assert out.returncode == 0 and out.stdout.split() == [executor_name, "ok"], out.stderr[-3000:]


# ------------------------------------------------------------ 9. snapshots, destroyed broadcasts

def test_broadcast_and_parallelize_snapshot_their_data(ctx, sc):
    def run(c):
        value, data = [1, 2], [[1], [2]]
        b, rdd = c.broadcast(value), c.parallelize(data, 2)
        value.append(3)
        data[0].append(9)
        data.append([3])
        return b.value, c.parallelize([0], 1).map(lambda _: b.value).collect(), rdd.collect()
    assert run(ctx) == run(sc) == ([1, 2], [[1, 2]], [[1], [2]])


def test_a_destroyed_broadcast_is_refused_before_the_job_runs(ctx, sc, tmp_path):
    marker = tmp_path / "ran"

    def use(b):
        def f(x):
            marker.write_text("ran")
            return b.value
        return f
    for c in (sc, ctx):
        b = c.broadcast([1, 2])
        assert c.parallelize([0], 1).map(lambda _: b.value).collect() == [[1, 2]]
        b.destroy()
        with pytest.raises(Exception, match=r"Attempted to use Broadcast\(\d+\) after it was destroyed"):
            c.parallelize([0], 1).map(use(b)).collect()
        assert not marker.exists()


# ------------------------------------------------------------ 7. text decoding

TEXT = (b"\xef\xbb\xbffirst\nsecond\n\xef\xbb\xbfthird\ncaf\xe9\n\xed\xa0\x80x\n"
        b"\xf0\x9f\x98\n\xc0\xaf\n\xed\xa0\n" + "ok \u00e9".encode())
LINES = ["first", "second", "\ufeffthird", "caf\ufffd", "\ufffdx", "\ufffd", "\ufffd\ufffd",
         "\ufffd", "ok \u00e9"]


def test_text_file_drops_a_leading_bom_and_reads_invalid_utf8_as_pyspark(ctx, sc, tmp_path):
    import gzip
    path = tmp_path / "in.txt"
    path.write_bytes(TEXT)
    for n in (1, 3, 7):
        mine = ctx.textFile(str(path), n).glom().collect()
        assert mine == sc.textFile(str(path), n).glom().collect()
        assert [x for p in mine for x in p] == LINES
        assert (ctx.textFile(str(path), n, use_unicode=False).collect()
                == sc.textFile(str(path), n, use_unicode=False).collect()
                == [x.encode("utf-8") for x in LINES])
    with gzip.open(tmp_path / "in.txt.gz", "wb") as f:
        f.write(TEXT)
    assert ctx.textFile(str(tmp_path / "in.txt.gz")).collect() == LINES
    (tmp_path / "bom-only.txt").write_bytes(b"\xef\xbb\xbf")
    assert ctx.textFile(str(tmp_path / "bom-only.txt")).collect() == sc.textFile(
        str(tmp_path / "bom-only.txt")).collect() == []


@pytest.mark.minimr_only
def test_invalid_utf8_lines_are_counted(ctx, tmp_path):
    path = tmp_path / "in.txt"
    path.write_bytes(TEXT)
    assert ctx.textFile(str(path), 3).count() == len(LINES)
    assert ctx.counters()["MALFORMED_INPUT_LINES"] == 5
    assert ctx.textFile(str(path), 2).filter(lambda s: s.isascii()).count() == 2
    assert ctx.counters()["MALFORMED_INPUT_LINES"] == 5       # counted where read, not kept


# ------------------------------------------------------------ 8. file: URIs

def test_file_uris_read_and_write_like_pyspark(ctx, sc, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.txt").write_text("x\ny\n")
    for uri in (f"file:{tmp_path}/a.txt", f"file://{tmp_path}/a.txt"):
        assert ctx.textFile(uri).collect() == sc.textFile(uri).collect() == ["x", "y"]
    for c, name in ((sc, "theirs"), (ctx, "mine")):
        c.parallelize(["p", "q"], 2).saveAsTextFile(f"file://{tmp_path / name}")
    assert [p for p in os.listdir(tmp_path / "mine") if not p.startswith(".")] == \
        [p for p in os.listdir(tmp_path / "theirs") if not p.startswith(".")]
    assert sorted(ctx.textFile(f"file:{tmp_path}/mine").collect()) == ["p", "q"]
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "mine", "theirs"]    # no ./file:/...


# ------------------------------------------------------------ Context(conf=...) settings

CONF_SCRIPT = r'''
import json, operator, sys
sys.path.insert(0, sys.argv[1])
import minimr
from minimr.conf import SparkConf

def partition_counts(ctx):
    pairs = ctx.parallelize([(i % 7, i) for i in range(50)], 3)
    return [ctx.defaultParallelism, ctx.defaultMinPartitions,
            ctx.parallelize(range(10)).getNumPartitions(),
            pairs.reduceByKey(operator.add).getNumPartitions(),
            pairs.groupByKey().getNumPartitions(), pairs.partitionBy(None).getNumPartitions(),
            pairs.join(pairs).getNumPartitions(), pairs.distinct().getNumPartitions(),
            pairs.sortByKey().getNumPartitions(), pairs.groupBy(len).getNumPartitions(),
            pairs.subtractByKey(pairs).getNumPartitions(), pairs.keys().intersection(pairs.keys()).getNumPartitions(),
            pairs.foldByKey(0, operator.add).getNumPartitions(),
            pairs.repartitionAndSortWithinPartitions().getNumPartitions(),
            pairs.coalesce(2).reduceByKey(operator.add).getNumPartitions()]

out = {}
for executor in sys.argv[2:]:
    conf = SparkConf().setAppName("settings").set("spark.default.parallelism", 5)
    with minimr.Context(executor=executor, workers=2, conf=conf.set("spark.task.maxFailures", "3")) as ctx:
        got = ctx.getConf()
        out[executor] = [partition_counts(ctx), ctx.maxFailures, got.get("spark.app.name"),
                         got.get("spark.default.parallelism"), got.get("spark.task.maxFailures"),
                         got.get("spark.master")]
print(json.dumps(out))
'''


@pytest.mark.timeout(240)
@pytest.mark.spark
def test_conf_settings_reach_every_executor_and_default_parallelism_is_honoured(tmp_path, sc):
    """spark.default.parallelism is ctx.defaultParallelism and the default partition count
    of every wide operation (PySpark's _defaultReducePartitions), on every executor; the
    spark executor hands the settings to the SparkContext it starts (its own
    interpreter: here it would join the session's)."""
    (tmp_path / "job.py").write_text(CONF_SCRIPT)
    out = subprocess.run([sys.executable, "job.py", ROOT, "serial", "memory", "disk", "spark"],
                         cwd=tmp_path, env=dict(os.environ, PYTHONHASHSEED="0"),
                         capture_output=True, text=True, timeout=220)
    assert out.returncode == 0, out.stderr[-3000:]
    import json
    got = json.loads(out.stdout.strip().splitlines()[-1])
    spark = got.pop("spark")
    assert spark[0] == [5, 2, 5] + [5] * 12 and spark[1:5] == [3, "settings", "5", "3"]
    assert spark[5] == "local[2,3]"
    for executor, mine in got.items():
        assert mine[:5] == spark[:5], executor
        assert mine[5] == "local[2]", executor


def test_bad_settings_are_refused_before_work():
    import minimr
    from minimr import MinimrError
    for conf, message in (({"executor": "memory"}, "'executor' is not a Spark setting"),
                          ({"spark.default.parallelism": "0"}, "spark.default.parallelism must be a positive"),
                          ({"spark.task.maxFailures": "many"}, "spark.task.maxFailures must be a positive"),
                          ([("spark.app.name", "x")], "conf must be a SparkConf or a dict")):
        with pytest.raises(MinimrError, match=message):
            minimr.Context(conf=conf)
    with pytest.raises(MinimrError, match="setLogLevel: 'LOUD'"):
        minimr.Context().setLogLevel("LOUD")
    with pytest.raises(MinimrError, match="Checkpoint directory has not been set"):
        minimr.Context().parallelize([1]).checkpoint()
    with minimr.Context(maxFailures=2, conf={"spark.task.maxFailures": "7"}) as ctx:
        assert ctx.maxFailures == 2 and ctx.getConf().get("spark.task.maxFailures") == "2"
