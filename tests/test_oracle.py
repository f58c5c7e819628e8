"""Property tests with real PySpark as the oracle (one local[2] SparkContext per session).

The same program text runs on a minimr RDD and on a PySpark RDD (the APIs are the
same), on random data, random partition counts and random chains of transformations.
Sorted results must equal PySpark's and a plain-Python reference; partition contents
must equal PySpark's wherever PySpark defines them (parallelize, textFile splits, glom,
mapPartitionsWithIndex, sample, zipWithIndex, sortByKey's ranges).
"""

import contextlib
import operator
import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

pytestmark = [pytest.mark.spark, pytest.mark.timeout(300)]

SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@pytest.fixture
def mctx(ctx, executor_name):
    if executor_name == "spark":
        pytest.skip("comparing PySpark with itself")
    if executor_name in ("memory-1", "memory-3"):
        pytest.skip("worker counts are covered by the shared suite; the oracle runs on 2")
    return ctx


ints = st.lists(st.integers(-50, 50), max_size=60)
slices = st.integers(1, 7)


@SETTINGS
@given(data=ints, n=slices)
def test_parallelize_partitions_equal_pyspark(mctx, sc, data, n):
    assert mctx.parallelize(data, n).glom().collect() == sc.parallelize(data, n).glom().collect()
    r = range(len(data) * 3 - 7, len(data) * 5, 2)
    assert mctx.parallelize(r, n).glom().collect() == sc.parallelize(r, n).glom().collect()
    f = lambda i, it: [(i, sum(it), len(data))]  # noqa: E731
    assert (mctx.parallelize(data, n).mapPartitionsWithIndex(f).collect()
            == sc.parallelize(data, n).mapPartitionsWithIndex(f).collect())


@SETTINGS
@given(data=ints, n=slices, seed=st.integers(0, 2**31), frac=st.floats(0.0, 1.0),
       replace=st.booleans())
def test_sample_and_zip_equal_pyspark(mctx, sc, data, n, seed, frac, replace):
    # the same random stream per partition as PySpark: the very same records
    assert (mctx.parallelize(data, n).sample(replace, frac, seed).collect()
            == sc.parallelize(data, n).sample(replace, frac, seed).collect())
    assert (mctx.parallelize(data, n).takeSample(replace, 5, seed)
            == sc.parallelize(data, n).takeSample(replace, 5, seed))
    assert (mctx.parallelize(data, n).zipWithIndex().collect()
            == sc.parallelize(data, n).zipWithIndex().collect())


@SETTINGS
@given(keys=st.lists(st.integers(0, 30), max_size=80), n=slices, out=st.integers(1, 5),
       asc=st.booleans())
def test_sort_by_key_ranges_equal_pyspark(mctx, sc, keys, n, out, asc):
    data = [(k, i) for i, k in enumerate(keys)]
    mine = mctx.parallelize(data, n).sortByKey(asc, out).glom().collect()
    theirs = sc.parallelize(data, n).sortByKey(asc, out).glom().collect()
    # same sample -> same range bounds -> same keys in each output partition
    assert [[k for k, _ in p] for p in mine] == [[k for k, _ in p] for p in theirs]
    assert [k for p in mine for k, _ in p] == sorted(keys, reverse=not asc)


# A chain step: (name, function of an RDD, function of a Python list giving the
# expected multiset). Both RDD kinds get the very same lambdas.
STEPS = {
    "map": (lambda r: r.map(lambda x: x * 3 + 1), lambda xs: [x * 3 + 1 for x in xs]),
    "filter": (lambda r: r.filter(lambda x: x % 3 != 0), lambda xs: [x for x in xs if x % 3 != 0]),
    "flatMap": (lambda r: r.flatMap(lambda x: [x, x // 2] if x % 2 else [x]),
                lambda xs: [y for x in xs for y in ([x, x // 2] if x % 2 else [x])]),
    "distinct": (lambda r: r.distinct(), lambda xs: list(set(xs))),
    "reduceByKey": (lambda r: r.map(lambda x: (x % 5, x)).reduceByKey(operator.add).map(lambda kv: kv[0] * 1000 + kv[1]),
                    lambda xs: [k * 1000 + sum(x for x in xs if x % 5 == k) for k in {x % 5 for x in xs}]),
    "groupByKey": (lambda r: r.map(lambda x: (x % 4, x)).groupByKey().map(lambda kv: kv[0] * 100 + len(kv[1])),
                   lambda xs: [k * 100 + sum(1 for x in xs if x % 4 == k) for k in {x % 4 for x in xs}]),
    "union": (lambda r: r.union(r), lambda xs: xs + xs),
    "repartition": (lambda r: r.repartition(3), lambda xs: xs),
    "coalesce": (lambda r: r.coalesce(2), lambda xs: xs),
    "sortBy": (lambda r: r.sortBy(lambda x: -x, numPartitions=2), lambda xs: xs),
    "subtract": (lambda r: r.subtract(r.filter(lambda x: x % 2 == 0)), lambda xs: [x for x in xs if x % 2]),
    "intersection": (lambda r: r.intersection(r.map(lambda x: x + 1)),
                     lambda xs: list(set(xs) & {x + 1 for x in xs})),
    "join": (lambda r: r.map(lambda x: (x % 3, x)).join(r.map(lambda x: (x % 3, 1)).distinct())
             .map(lambda kv: kv[1][0]), lambda xs: xs),
    "cartesian": (lambda r: r.filter(lambda x: x % 7 == 0).cartesian(r.filter(lambda x: x % 11 == 0))
                  .map(lambda p: p[0] + p[1]),
                  lambda xs: [a + b for a in xs if a % 7 == 0 for b in xs if b % 11 == 0]),
    "groupBy": (lambda r: r.groupBy(lambda x: x % 4).map(lambda kv: kv[0] * 100 + len(kv[1])),
                lambda xs: [k * 100 + sum(1 for x in xs if x % 4 == k) for k in {x % 4 for x in xs}]),
    "groupWith": (lambda r: r.map(lambda x: (x % 3, x)).groupWith(r.map(lambda x: (x % 2, 1)), r.map(lambda x: (x, 0)))
                  .map(lambda kv: kv[0] * 1000 + len(kv[1][0]) * 100 + len(kv[1][1]) * 10 + len(kv[1][2])),
                  lambda xs: [k * 1000 + sum(1 for x in xs if x % 3 == k) * 100 + sum(1 for x in xs if x % 2 == k) * 10
                              + xs.count(k) for k in {x % 3 for x in xs} | {x % 2 for x in xs} | set(xs)]),
    "zip": (lambda r: r.zip(r.map(lambda x: x * 10)).map(lambda p: p[0] + p[1]), lambda xs: [x * 11 for x in xs]),
    "pipe": (lambda r: r.pipe("cat").map(int), lambda xs: xs),
    "secondarySort": (lambda r: r.map(lambda x: (x, 1)).repartitionAndSortWithinPartitions(2).keys(), lambda xs: xs),
    "randomSplit": (lambda r: (lambda a, b: a.union(b))(*r.randomSplit([1, 2], 5)), lambda xs: xs),
}


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.lists(st.integers(-20, 20), max_size=30), n=slices,
       chain=st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=3))
def test_random_chains_equal_pyspark_and_python(mctx, sc, data, n, chain):
    mine, theirs, ref = mctx.parallelize(data, n), sc.parallelize(data, n), list(data)
    for step in chain:
        on_rdd, on_list = STEPS[step]
        mine, theirs, ref = on_rdd(mine), on_rdd(theirs), on_list(ref)
    got = sorted(mine.collect())
    assert got == sorted(theirs.collect())
    assert got == sorted(ref)
    assert mine.count() == len(ref)


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lines=st.lists(st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=12),
                      max_size=40),
       ends=st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=1, max_size=5),
       last=st.booleans(), n=st.integers(1, 9))
def test_text_file_splits_equal_pyspark(mctx, sc, tmp_path_factory, lines, ends, last, n):
    """Hadoop's split rule, line by line and partition by partition, CR/LF/CRLF mixed."""
    body = "".join(line + ends[i % len(ends)] for i, line in enumerate(lines))
    if lines and not last:
        body = body[:-len(ends[(len(lines) - 1) % len(ends)])]   # no final terminator
    path = tmp_path_factory.mktemp("txt") / "input.txt"
    path.write_bytes(body.encode("utf-8"))
    mine = mctx.textFile(str(path), n).glom().collect()
    theirs = sc.textFile(str(path), n).glom().collect()
    assert mine == theirs
    expected = re.split(r"\r\n|\r|\n", body)   # a "\r" then "\n" is one terminator
    if expected[-1] == "":
        expected.pop()             # after the final terminator there is no line
    assert [x for p in mine for x in p] == expected


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lines=st.lists(st.binary(max_size=10).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b"")),
                      max_size=25),
       bom=st.booleans(), n=st.integers(1, 5))
def test_text_file_decodes_any_bytes_like_pyspark(mctx, sc, tmp_path_factory, lines, bom, n):
    """Invalid UTF-8 becomes U+FFFD exactly as PySpark's JVM decoder makes it (one per
    encoded surrogate, where Python's "replace" puts one per byte); a leading BOM goes."""
    path = tmp_path_factory.mktemp("bin") / "input.txt"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + b"\n".join(lines))
    assert mctx.textFile(str(path), n).glom().collect() == sc.textFile(str(path), n).glom().collect()
    assert (mctx.textFile(str(path), n, use_unicode=False).collect()
            == sc.textFile(str(path), n, use_unicode=False).collect())


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=ints, n=slices, seed=st.integers(0, 2**31), out=st.integers(1, 4), asc=st.booleans(),
       fractions=st.lists(st.floats(0.0, 1.5), min_size=3, max_size=3), replace=st.booleans())
def test_new_operations_equal_pyspark(mctx, sc, data, n, seed, out, asc, fractions, replace):
    m, s = mctx.parallelize(data, n), sc.parallelize(data, n)
    # the same random stream: the very same records in the very same partitions
    assert ([r.glom().collect() for r in m.randomSplit([1, 2, 0.5], seed)]
            == [r.glom().collect() for r in s.randomSplit([1, 2, 0.5], seed)])
    frac = {k: f if replace else min(f, 1.0) for k, f in enumerate(fractions)}
    assert (m.keyBy(lambda x: x % 3).sampleByKey(replace, frac, seed).glom().collect()
            == s.keyBy(lambda x: x % 3).sampleByKey(replace, frac, seed).glom().collect())
    assert m.zip(m.map(lambda x: -x)).glom().collect() == s.zip(s.map(lambda x: -x)).glom().collect()
    placed = lambda r: r.map(lambda x: (x, -x)).repartitionAndSortWithinPartitions(out, lambda k: k, asc)  # noqa: E731
    mine, theirs = placed(m).glom().collect(), placed(s).glom().collect()
    assert [[k for k, _ in p] for p in mine] == [[k for k, _ in p] for p in theirs]   # sorted, same places
    assert [sorted(p) for p in mine] == [sorted(p) for p in theirs]
    assert m.pipe("cat").glom().collect() == s.pipe("cat").glom().collect()
    assert m.map(lambda x: (x % 5, x)).reduceByKeyLocally(operator.add) == \
        s.map(lambda x: (x % 5, x)).reduceByKeyLocally(operator.add)
    assert list(m.toLocalIterator()) == s.collect() == data
    assert (m.countApprox(1000), m.sumApprox(1000)) == (s.countApprox(1000), s.sumApprox(1000))
    assert m.meanApprox(1000) == pytest.approx(s.meanApprox(1000))
    with pytest.warns(FutureWarning):
        f = lambda i, it: [(i, sum(it))]  # noqa: E731
        assert m.mapPartitionsWithSplit(f).collect() == s.mapPartitionsWithSplit(f).collect()
    if len(data) > 1:
        assert m.sampleStdev() == pytest.approx(s.sampleStdev())
        assert m.sampleVariance() == pytest.approx(s.sampleVariance())
    if data:
        assert m.histogram(out) == s.histogram(out)
        floats = m.map(lambda x: x / 7), s.map(lambda x: x / 7)
        assert floats[0].histogram(out + 1) == floats[1].histogram(out + 1)
        bounds = sorted({min(data) - 1, 0, max(data) // 2 + 1, max(data) + 3})
        assert m.histogram(bounds) == s.histogram(bounds)
        assert m.histogram([-60, -20, 20, 60]) == s.histogram([-60, -20, 20, 60])    # even
    exact = len(set(data))
    assert abs(m.countApproxDistinct(0.1) - exact) <= 3 * 0.1 * max(exact, 1)


def test_whole_text_files_and_pickle_files_equal_pyspark(mctx, sc, tmp_path):
    """wholeTextFiles of one file at a time (a directory's listing order is the file
    system's in Hadoop, name order in minimr); pickle files round-trip on each side."""
    for i, text in enumerate([b"\xef\xbb\xbfone\ntwo\n", b"caf\xe9\r\n\xed\xa0\x80", b""]):
        path = tmp_path / f"f{i}.txt"
        path.write_bytes(text)
        for unicode in (True, False):
            assert (mctx.wholeTextFiles(str(path), 2, unicode).glom().collect()
                    == sc.wholeTextFiles(str(path), 2, unicode).glom().collect())
    data = [(i, str(i)) for i in range(30)]
    mctx.parallelize(data, 3).saveAsPickleFile(str(tmp_path / "mine"), 7)
    sc.parallelize(data, 3).saveAsPickleFile(str(tmp_path / "theirs"), 7)
    assert (sorted(mctx.pickleFile(str(tmp_path / "mine")).collect())
            == sorted(sc.pickleFile(str(tmp_path / "theirs")).collect()) == data)


def test_checkpoint_lineage_cut_like_pyspark(mctx, sc, tmp_path):
    def run(c, where):
        c.setCheckpointDir(str(tmp_path / where))
        rdd = c.parallelize([(i % 3, i) for i in range(12)], 2).reduceByKey(operator.add).mapValues(str)
        rdd.checkpoint()
        before = (rdd.isCheckpointed(), rdd.getCheckpointFile(), b"+-" in rdd.toDebugString())
        result = sorted(rdd.collect())
        lines = rdd.toDebugString().decode().splitlines()
        kinds = [re.search(r"(\w+RDD)\[", line).group(1) for line in lines]
        return (before, result, rdd.isCheckpointed(), rdd.getCheckpointFile().rsplit("/", 1)[1],
                len(lines), kinds[-1])
    mine, theirs = run(mctx, "mine"), run(sc, "theirs")
    assert mine[:2] == theirs[:2] and mine[2:] == (True, f"rdd-{mine[3][4:]}", 2, "ReliableCheckpointRDD")
    assert theirs[2] and theirs[4:] == (2, "ReliableCheckpointRDD")

    def local(c):
        rdd = c.parallelize(range(10), 3).map(lambda x: x * 3)
        rdd.localCheckpoint()
        marked = (rdd.isCheckpointed(), rdd.isLocallyCheckpointed(), tuple(vars(rdd.getStorageLevel()).values()))
        parts = rdd.collect(), rdd.glom().collect()   # a job on rdd itself: PySpark fuses
        last = rdd.toDebugString().decode().splitlines()[-1]   # a child through it (design.md)
        return marked, parts, rdd.isCheckpointed(), rdd.getCheckpointFile(), re.search(r"(\w+RDD)\[", last).group(1)
    assert local(mctx) == local(sc)


def test_keys_of_equal_value_group_like_pyspark(mctx, sc):
    data = [(1, "a"), (1.0, "b"), (True, "c"), ("1", "d"), (None, "e"), ((1, 2), "f"), (None, "g")]
    norm = lambda r: sorted((repr(k), sorted(v)) for k, v in r.groupByKey().mapValues(list).collect())  # noqa
    assert norm(mctx.parallelize(data, 3)) == norm(sc.parallelize(data, 3))


def test_aggregates_equal_pyspark(mctx, sc):
    data = list(range(-7, 30))
    for n in (1, 3, 8):
        m, s = mctx.parallelize(data, n), sc.parallelize(data, n)
        assert m.fold(1, operator.add) == s.fold(1, operator.add)
        assert m.aggregate((0, 1), lambda a, x: (a[0] + x, a[1]), lambda a, b: (a[0] + b[0], a[1] + b[1])) == \
            s.aggregate((0, 1), lambda a, x: (a[0] + x, a[1]), lambda a, b: (a[0] + b[0], a[1] + b[1]))
        assert m.mean() == pytest.approx(s.mean())
        assert m.stdev() == pytest.approx(s.stdev())
        assert m.top(3) == s.top(3) and m.takeOrdered(4) == s.takeOrdered(4)
        assert m.take(5) == s.take(5)
        assert m.coalesce(2).glom().collect() == s.coalesce(2).glom().collect()
        assert m.getNumPartitions() == s.getNumPartitions()
        pm, ps = m.map(lambda x: (x % 4, x)), s.map(lambda x: (x % 4, x))
        assert pm.join(pm).getNumPartitions() == ps.join(ps).getNumPartitions()
        # the same keys in the same partitions (int keys hash alike); the order inside a
        # partition after a shuffle is not defined (the disk executor sorts, as Hadoop does)
        assert ([sorted(p) for p in pm.partitionBy(3).glom().collect()]
                == [sorted(p) for p in ps.partitionBy(3).glom().collect()])


@pytest.fixture(scope="module")
def spark_session(sc):
    """A SparkSession over the session's SparkContext, with SQL settings of its own."""
    from pyspark.sql import SparkSession
    return SparkSession.builder.getOrCreate().newSession()


@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(files=st.lists(st.lists(st.integers(0, 90), max_size=40), min_size=1, max_size=4),
       ends=st.sampled_from(["\n", "\r\n", "\r"]), max_bytes=st.integers(50, 2000),
       open_cost=st.integers(1, 400), parallelism=st.integers(1, 4))
def test_read_text_partitions_equal_spark_sql(spark_session, tmp_path_factory, files, ends,
                                              max_bytes, open_cost, parallelism):
    """minimr-submit's spark.read.text packs files into partitions as Spark SQL's file scan
    does (empty files dropped, chunks of maxSplitBytes, largest first, next fit), whatever
    the settings; each chunk's lines by Hadoop's rule, as textFile's splits (whose reading
    the shared suite checks on every executor)."""
    from minimr.compat.sql import SparkSession
    d = tmp_path_factory.mktemp("read-text")
    paths = []
    for i, lengths in enumerate(files):          # lines of random lengths, some files empty
        paths.append(str(d / f"part{i}.txt"))
        with open(paths[-1], "w", newline="") as f:
            f.write("".join(chr(97 + (i + j) % 26) * n + ends for j, n in enumerate(lengths)))
    options = {"spark.sql.files.maxPartitionBytes": str(max_bytes),
               "spark.sql.files.openCostInBytes": str(open_cost),
               "spark.sql.files.minPartitionNum": str(parallelism)}
    for key, value in options.items():
        spark_session.conf.set(key, value)
    theirs = spark_session.read.text(paths).rdd.map(lambda r: r.value).glom().collect()
    with minimr_spark_context() as msc:
        mine = SparkSession(msc, options).read.text(paths).rdd.map(lambda r: r.value) \
            .glom().collect()
    assert mine == theirs


@contextlib.contextmanager
def minimr_spark_context():
    """minimr-submit's SparkContext (serial executor), outside a minimr-submit run."""
    from minimr.compat.context import SparkContext
    with SparkContext("local[2]", "read-text") as msc:
        yield msc
