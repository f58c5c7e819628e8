"""The shared semantics suite: every RDD operation, written once, run on every executor.

Each test states what PySpark does and checks minimr against a plain-Python reference.
Results of shuffles are compared sorted (partition placement of keys is the executor's
business); partition *contents* are compared where PySpark defines them (parallelize,
glom, coalesce, zipWithIndex). Tests of minimr's own guarantees are marked minimr_only.
"""

import operator
import os
from collections import Counter

import pytest

from minimr import StorageLevel

pytestmark = pytest.mark.timeout(120)

PAIRS = [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5), ("a", 6)]


def by_key(pairs):
    """{key: sorted values}: the reference grouping."""
    out = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return {k: sorted(vs) for k, vs in out.items()}


# ------------------------------------------------------------------ creating data

def test_parallelize_slices_like_pyspark(ctx):
    # batches of max(1, min(len // n, 1024)) records, spread evenly as whole batches
    assert ctx.parallelize(list(range(10)), 3).glom().collect() == [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]
    assert ctx.parallelize(list(range(5)), 4).glom().collect() == [[0], [1], [2], [3, 4]]
    # a range is cut evenly
    assert ctx.parallelize(range(10), 3).glom().collect() == [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]


def test_more_partitions_than_records(ctx):
    rdd = ctx.parallelize([1, 2], 5)
    assert rdd.getNumPartitions() == 5
    assert rdd.collect() == [1, 2]
    assert sum(1 for p in rdd.glom().collect() if p) == 2


def test_empty_dataset(ctx):
    empty = ctx.parallelize([], 3)
    assert empty.collect() == [] and empty.count() == 0
    assert empty.isEmpty()
    assert empty.take(5) == []
    assert empty.reduceByKey(operator.add).collect() == []
    assert empty.distinct().collect() == []
    assert empty.sortBy(lambda x: x).collect() == []
    assert empty.fold(0, operator.add) == 0
    assert empty.sum() == 0
    with pytest.raises(ValueError):
        empty.reduce(operator.add)
    with pytest.raises(ValueError):
        empty.first()


def test_range(ctx):
    assert ctx.range(5).collect() == [0, 1, 2, 3, 4]
    assert ctx.range(2, 12, 3, numSlices=2).collect() == [2, 5, 8, 11]
    assert ctx.range(10, 0, -2).collect() == [10, 8, 6, 4, 2]


def test_single_element_partitions(ctx):
    rdd = ctx.parallelize([3, 1, 2], 3)
    assert rdd.glom().collect() == [[3], [1], [2]]
    assert rdd.map(lambda x: x * 2).sum() == 12
    assert rdd.sortBy(lambda x: x).collect() == [1, 2, 3]


# ------------------------------------------------------------------ narrow

def test_map_filter_flatmap(ctx):
    rdd = ctx.parallelize(range(10), 3)
    assert rdd.map(lambda x: x * x).collect() == [x * x for x in range(10)]
    assert rdd.filter(lambda x: x % 3 == 0).collect() == [0, 3, 6, 9]
    assert rdd.flatMap(lambda x: [x] * (x % 3)).collect() == [x for x in range(10) for _ in range(x % 3)]


def test_map_partitions_and_index(ctx):
    rdd = ctx.parallelize(range(8), 3)
    assert rdd.mapPartitions(lambda it: [sum(it)]).collect() == [1, 9, 18]
    assert rdd.mapPartitionsWithIndex(lambda i, it: [(i, len(list(it)))]).collect() == [(0, 2), (1, 3), (2, 3)]


def test_key_value_narrow_ops(ctx):
    rdd = ctx.parallelize(PAIRS, 2)
    assert rdd.keys().collect() == [k for k, _ in PAIRS]
    assert rdd.values().collect() == [v for _, v in PAIRS]
    assert rdd.mapValues(lambda v: -v).collect() == [(k, -v) for k, v in PAIRS]
    assert rdd.flatMapValues(lambda v: range(v % 3)).collect() == [(k, x) for k, v in PAIRS for x in range(v % 3)]
    assert ctx.parallelize(["aa", "b"]).keyBy(len).collect() == [(2, "aa"), (1, "b")]


def test_zip_with_index(ctx):
    rdd = ctx.parallelize(list("abcdefg"), 3)
    assert rdd.zipWithIndex().collect() == [(c, i) for i, c in enumerate("abcdefg")]
    ids = rdd.zipWithUniqueId().collect()
    assert len({i for _, i in ids}) == 7 and [c for c, _ in ids] == list("abcdefg")


def test_union_and_cartesian(ctx):
    a, b = ctx.parallelize([1, 2], 2), ctx.parallelize([3], 1)
    u = a.union(b)
    assert u.collect() == [1, 2, 3] and u.getNumPartitions() == 3
    c = a.cartesian(ctx.parallelize("xy", 2))
    assert c.getNumPartitions() == 4
    assert sorted(c.collect()) == [(1, "x"), (1, "y"), (2, "x"), (2, "y")]
    assert ctx.union([a, b, a]).collect() == [1, 2, 3, 1, 2]


def test_coalesce_and_repartition(ctx):
    rdd = ctx.parallelize(range(12), 6)
    co = rdd.coalesce(4)
    assert co.getNumPartitions() == 4
    assert co.collect() == list(range(12))          # no shuffle: order kept
    assert rdd.coalesce(10).getNumPartitions() == 6  # coalesce never adds partitions
    re = rdd.repartition(4)
    assert re.getNumPartitions() == 4 and sorted(re.collect()) == list(range(12))
    assert ctx.parallelize(range(3), 1).repartition(5).getNumPartitions() == 5


def test_sample_bounds(ctx):
    rdd = ctx.parallelize(range(1000), 4)
    s = rdd.sample(False, 0.2, seed=3).collect()
    assert set(s) <= set(range(1000)) and len(s) == len(set(s)) and 120 < len(s) < 280
    assert rdd.sample(False, 0.2, seed=3).collect() == s      # same seed, same sample
    w = rdd.sample(True, 0.5, seed=3).collect()
    assert set(w) <= set(range(1000)) and 380 < len(w) < 620
    assert rdd.sample(False, 0.0, seed=1).collect() == []


def test_take_sample(ctx):
    rdd = ctx.parallelize(range(100), 4)
    s = rdd.takeSample(False, 10, seed=5)
    assert len(s) == 10 == len(set(s)) and set(s) <= set(range(100))
    assert rdd.takeSample(False, 10, seed=5) == s
    assert sorted(rdd.takeSample(False, 1000, seed=1)) == list(range(100))
    assert len(rdd.takeSample(True, 150, seed=2)) == 150
    assert rdd.takeSample(False, 0) == []


# ------------------------------------------------------------------ wide

def test_reduce_by_key(ctx):
    rdd = ctx.parallelize(PAIRS, 3)
    assert sorted(rdd.reduceByKey(operator.add).collect()) == sorted(
        (k, sum(vs)) for k, vs in by_key(PAIRS).items())
    assert rdd.reduceByKey(operator.add, 5).getNumPartitions() == 5
    assert rdd.reduceByKey(operator.add).getNumPartitions() == 3   # default: the input's


def test_group_by_key(ctx):
    out = ctx.parallelize(PAIRS, 3).groupByKey().mapValues(sorted).collect()
    assert dict(out) == by_key(PAIRS) and len(out) == 3
    one = ctx.parallelize([("k", 1)]).groupByKey().collect()[0][1]
    assert len(one) == 1 and list(one) == [1]


def test_combine_aggregate_fold_by_key(ctx):
    rdd = ctx.parallelize(PAIRS, 3)
    ref = by_key(PAIRS)
    comb = rdd.combineByKey(lambda v: (v, 1), lambda c, v: (c[0] + v, c[1] + 1),
                            lambda c, d: (c[0] + d[0], c[1] + d[1]))
    assert dict(comb.collect()) == {k: (sum(vs), len(vs)) for k, vs in ref.items()}
    agg = rdd.aggregateByKey([], lambda acc, v: acc + [v], lambda a, b: a + b)
    assert {k: sorted(v) for k, v in agg.collect()} == ref
    assert dict(rdd.foldByKey(0, operator.add).collect()) == {k: sum(vs) for k, vs in ref.items()}
    # the zero value is copied per key, never shared
    assert dict(rdd.foldByKey([], lambda a, b: a + [b] if not isinstance(b, list) else a + b)
                .mapValues(sorted).collect()) == ref


def test_partition_by(ctx):
    rdd = ctx.parallelize([(i, str(i)) for i in range(20)], 3)
    p = rdd.partitionBy(4)
    assert p.getNumPartitions() == 4
    for i, part in enumerate(p.glom().collect()):
        assert all(k % 4 == i for k, _ in part)       # ints hash to themselves, as in PySpark
    assert sorted(p.collect()) == sorted(rdd.collect())
    custom = rdd.partitionBy(2, lambda k: 0 if k < 5 else 1)
    assert [len(x) for x in custom.glom().collect()] == [5, 15]


def test_joins(ctx):
    left = ctx.parallelize([("a", 1), ("b", 2), ("a", 3), ("d", 9)], 2)
    right = ctx.parallelize([("a", "x"), ("b", "y"), ("b", "z"), ("c", "w")], 3)
    L, R = by_key(left.collect()), by_key(right.collect())
    inner = sorted((k, (v, w)) for k in L if k in R for v in L[k] for w in R[k])
    assert sorted(left.join(right).collect()) == inner
    assert left.join(right).getNumPartitions() == 5             # PySpark: n1 + n2
    assert sorted(left.leftOuterJoin(right).collect()) == sorted(
        inner + [("d", (9, None))])
    assert sorted(left.rightOuterJoin(right).collect(), key=str) == sorted(
        inner + [("c", (None, "w"))], key=str)
    assert sorted(left.fullOuterJoin(right).collect(), key=str) == sorted(
        inner + [("d", (9, None)), ("c", (None, "w"))], key=str)
    assert left.join(right, 7).getNumPartitions() == 7


def test_cogroup(ctx):
    x = ctx.parallelize([("a", 1), ("b", 4), ("a", 2)], 2)
    y = ctx.parallelize([("a", 5), ("c", 6)], 1)
    got = {k: (sorted(a), sorted(b)) for k, (a, b) in x.cogroup(y).collect()}
    assert got == {"a": ([1, 2], [5]), "b": ([4], []), "c": ([], [6])}


def test_subtract_intersection_distinct(ctx):
    a = ctx.parallelize([1, 2, 2, 3, 4, 4], 2)
    b = ctx.parallelize([2, 4, 5], 2)
    assert sorted(a.subtract(b).collect()) == [1, 3]
    assert sorted(ctx.parallelize([1, 1, 2]).subtract(ctx.parallelize([2])).collect()) == [1, 1]
    assert sorted(a.intersection(b).collect()) == [2, 4]
    assert sorted(a.distinct().collect()) == [1, 2, 3, 4]
    kv = ctx.parallelize([("a", 1), ("b", 2)]).subtractByKey(ctx.parallelize([("a", 0)]))
    assert kv.collect() == [("b", 2)]


def test_equal_keys_of_different_types_meet(ctx):
    # 1, 1.0 and True are one key, as in PySpark; "1" is another
    out = ctx.parallelize([(1, "int"), (1.0, "float"), (True, "bool"), ("1", "str")], 4).groupByKey()
    groups = sorted(sorted(v) for _, v in out.collect())
    assert groups == [["bool", "float", "int"], ["str"]]


def test_mixed_key_types(ctx):
    data = [(1, "a"), ("1", "b"), (None, "c"), ((1, "x"), "d"), (2.5, "e"), (None, "f"), ((1, "x"), "g")]
    out = dict(ctx.parallelize(data, 3).groupByKey().mapValues(sorted).collect())
    assert out == {1: ["a"], "1": ["b"], None: ["c", "f"], (1, "x"): ["d", "g"], 2.5: ["e"]}
    assert sorted(ctx.parallelize([None, 1, "1", None, (2,)], 2).distinct().collect(), key=repr) == \
        sorted([None, 1, "1", (2,)], key=repr)


def test_sort_by_key_and_sort_by(ctx):
    data = [(f"k{i % 13:02d}", i) for i in range(60)]
    rdd = ctx.parallelize(data, 4)
    assert [k for k, _ in rdd.sortByKey().collect()] == sorted(k for k, _ in data)
    assert [k for k, _ in rdd.sortByKey(False).collect()] == sorted((k for k, _ in data), reverse=True)
    assert [k for k, _ in rdd.sortByKey(True, 1).collect()] == sorted(k for k, _ in data)
    s = rdd.sortByKey(numPartitions=3)
    assert s.getNumPartitions() == 3
    parts = [[k for k, _ in p] for p in s.glom().collect() if p]
    assert all(a[-1] <= b[0] for a, b in zip(parts, parts[1:]))   # ranges, in order
    assert ctx.parallelize([5, 3, 9, 1], 2).sortBy(lambda x: x).collect() == [1, 3, 5, 9]
    assert ctx.parallelize(["bb", "a", "ccc"]).sortBy(len, ascending=False).collect() == ["ccc", "bb", "a"]
    words = ["Mary", "had", "a", "little", "lamb"]
    assert ctx.parallelize([(w, 1) for w in words], 2).sortByKey(keyfunc=str.lower).keys().collect() == \
        sorted(words, key=str.lower)


# ------------------------------------------------------------------ actions

def test_basic_actions(ctx):
    rdd = ctx.parallelize([5, 3, 8, 1, 9, 2], 3)
    assert rdd.count() == 6
    assert rdd.first() == 5
    assert rdd.take(4) == [5, 3, 8, 1]
    assert rdd.take(100) == [5, 3, 8, 1, 9, 2]
    assert rdd.takeOrdered(3) == [1, 2, 3]
    assert rdd.takeOrdered(2, key=lambda x: -x) == [9, 8]
    assert rdd.top(2) == [9, 8]
    assert rdd.top(2, key=lambda x: -x) == [1, 2]
    assert rdd.reduce(operator.add) == 28
    assert rdd.min() == 1 and rdd.max() == 9
    assert rdd.min(key=lambda x: -x) == 9
    assert rdd.sum() == 28
    assert rdd.mean() == pytest.approx(28 / 6)
    assert rdd.stats().count() == 6
    assert not rdd.isEmpty()


def test_take_scans_past_empty_partitions(ctx):
    rdd = ctx.parallelize(list(range(3)), 10)      # 7 empty partitions
    assert rdd.take(2) == [0, 1]
    assert ctx.parallelize(range(1000), 10).filter(lambda x: x > 900).take(3) == [901, 902, 903]


def test_fold_and_aggregate_zero_per_partition(ctx):
    rdd = ctx.parallelize([1, 2, 3, 4], 2)
    assert rdd.fold(0, operator.add) == 10
    assert rdd.fold(1, operator.add) == 13        # zero once per partition, plus once
    assert rdd.aggregate((0, 0), lambda a, x: (a[0] + x, a[1] + 1),
                         lambda a, b: (a[0] + b[0], a[1] + b[1])) == (10, 4)
    assert rdd.aggregate([], lambda a, x: a + [x], lambda a, b: a + b) == [1, 2, 3, 4]


def test_tree_aggregate(ctx):
    rdd = ctx.parallelize(range(200), 17)
    for depth in (1, 2, 3):
        assert rdd.treeAggregate(0, operator.add, operator.add, depth) == sum(range(200))
        assert rdd.treeReduce(operator.add, depth) == sum(range(200))
    assert ctx.parallelize([], 3).treeAggregate(0, operator.add, operator.add) == 0
    with pytest.raises(ValueError):
        rdd.treeAggregate(0, operator.add, operator.add, 0)


def test_counting_actions(ctx):
    words = ["x", "y", "x", "z", "x"]
    assert dict(ctx.parallelize(words, 2).countByValue()) == dict(Counter(words))
    assert dict(ctx.parallelize(PAIRS, 2).countByKey()) == {"a": 3, "b": 2, "c": 1}
    assert ctx.parallelize([("a", 1), ("b", 2), ("a", 3)]).collectAsMap() == {"a": 3, "b": 2}
    assert sorted(ctx.parallelize(PAIRS, 2).lookup("a")) == [1, 3, 6]
    # with a partitioner only one partition is read; int keys hash alike everywhere (a
    # string's hash in a PySpark driver depends on its own PYTHONHASHSEED)
    placed = ctx.parallelize([(i % 4, i) for i in range(12)], 2).partitionBy(3)
    assert sorted(placed.lookup(1)) == [1, 5, 9]


def test_foreach_with_accumulator(ctx):
    acc = ctx.accumulator(0)
    ctx.parallelize(range(10), 3).foreach(lambda x: acc.add(x))
    assert acc.value == 45
    acc2 = ctx.accumulator(0.0)
    ctx.parallelize(range(4), 2).foreachPartition(lambda it: acc2.add(float(len(list(it)))))
    assert acc2.value == 4.0


def test_broadcast(ctx):
    table = ctx.broadcast({"a": 10, "b": 20})
    assert ctx.parallelize(["a", "b", "a"], 2).map(lambda k: table.value[k]).collect() == [10, 20, 10]
    assert table.value == {"a": 10, "b": 20}


def test_get_num_partitions_and_debug_string(ctx):
    rdd = ctx.parallelize(["a b", "b"], 2).flatMap(str.split).map(lambda w: (w, 1)).reduceByKey(operator.add)
    assert rdd.getNumPartitions() == 2
    text = rdd.toDebugString()
    assert isinstance(text, bytes)
    assert b"+-" in text                          # the shuffle boundary between two stages


def test_cache_and_persist(ctx):
    rdd = ctx.parallelize(range(10), 2).map(lambda x: x * 2)
    assert rdd.cache() is rdd and rdd.is_cached
    # minimr's level on the left: it compares by fields, so PySpark's levels compare too
    assert StorageLevel.MEMORY_ONLY == rdd.getStorageLevel()
    assert rdd.sum() == 90 and rdd.count() == 10
    assert rdd.map(lambda x: x + 1).sum() == 100
    rdd.unpersist()
    assert not rdd.is_cached and rdd.sum() == 90
    d = ctx.parallelize(range(5), 2).persist(StorageLevel.MEMORY_AND_DISK)
    assert StorageLevel.MEMORY_AND_DISK == d.getStorageLevel() and d.collect() == list(range(5))
    d.unpersist()


# ------------------------------------------------------------------ files

def test_text_file_roundtrip(ctx, tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("one two\nthree\n\nfour five six\n")
    lines = ctx.textFile(str(path), 3)
    assert lines.collect() == ["one two", "three", "", "four five six"]
    out = tmp_path / "out"
    lines.flatMap(str.split).map(lambda w: (w, len(w))).saveAsTextFile(str(out))
    names = sorted(os.listdir(out))
    assert "_SUCCESS" in names and any(n.startswith("part-") for n in names)
    back = sorted(ctx.textFile(str(out)).collect())
    assert back == sorted(str((w, len(w))) for w in "one two three four five six".split())


def test_text_file_crlf_and_boundaries(ctx, tmp_path):
    # CRLF and lone CR end lines; lines of every length so split boundaries fall
    # before, inside and exactly on line starts
    body = "".join(f"line{i}{'x' * (i % 7)}" + ("\r\n", "\n", "\r")[i % 3] for i in range(200))
    path = tmp_path / "crlf.txt"
    path.write_bytes(body.encode())
    expected = [f"line{i}{'x' * (i % 7)}" for i in range(200)]
    for n in (1, 2, 3, 7, 50):
        assert ctx.textFile(str(path), n).collect() == expected


def test_text_file_directory_glob_and_list(ctx, tmp_path):
    d = tmp_path / "dir"
    d.mkdir()
    (d / "a.txt").write_text("a1\na2\n")
    (d / "b.txt").write_text("b1")
    (d / "_SUCCESS").write_text("")
    (d / ".hidden").write_text("no\n")
    assert sorted(ctx.textFile(str(d)).collect()) == ["a1", "a2", "b1"]
    assert sorted(ctx.textFile(str(d / "*.txt")).collect()) == ["a1", "a2", "b1"]
    assert sorted(ctx.textFile(f"{d / 'a.txt'},{d / 'b.txt'}").collect()) == ["a1", "a2", "b1"]


def test_text_file_gzip_is_one_split(ctx, tmp_path):
    import gzip
    path = tmp_path / "in.txt.gz"
    with gzip.open(path, "wt") as f:
        f.write("".join(f"row {i}\n" for i in range(100)))
    rdd = ctx.textFile(str(path), 4)
    assert rdd.getNumPartitions() == 1
    assert rdd.collect() == [f"row {i}" for i in range(100)]


def test_classic_mapreduce_equals_reduce_by_key(ctx):
    from minimr import mapreduce
    lines = ctx.parallelize(["the quick brown fox", "the lazy dog", "the end"], 2)

    def mapper(line):
        return [(w, 1) for w in line.split()]

    def reducer(word, counts):
        yield word, sum(counts)

    classic = mapreduce(lines, mapper, reducer, combiner=reducer, numReducers=3)
    idiomatic = lines.flatMap(str.split).map(lambda w: (w, 1)).reduceByKey(operator.add)
    assert classic.getNumPartitions() == 3
    assert sorted(classic.collect()) == sorted(idiomatic.collect())
    assert dict(classic.collect())["the"] == 3
    assert sorted(mapreduce(lines, mapper, reducer).collect()) == sorted(idiomatic.collect())


def test_map_forgets_the_partitioner_even_when_fused(ctx):
    # regression: map() after mapValues() (fused into one function) must not keep the
    # partitioner, or a later join would skip a shuffle it needs
    placed = ctx.parallelize([(i, i) for i in range(8)], 2).partitionBy(2)
    assert placed.mapValues(str).partitioner == placed.partitioner
    moved = placed.mapValues(str).map(lambda kv: (kv[0] + 1, kv[1]))
    assert moved.partitioner is None
    joined = moved.join(placed.mapValues(str).map(lambda kv: (kv[0] + 1, kv[1] + "!")))
    assert sorted(joined.collect()) == [(i + 1, (str(i), str(i) + "!")) for i in range(8)]


def test_rereading_a_shuffle_sees_the_same_data(ctx):
    # a reducer that merges list combiners in place must not change the stored shuffle
    # blocks a later job reads again (map outputs are reused across jobs)
    grouped = ctx.parallelize([("a", 1), ("a", 2), ("b", 3)] * 2, 3).combineByKey(
        lambda v: [v], lambda c, v: c + [v], lambda c, d: c.extend(d) or c)
    first = sorted((k, sorted(v)) for k, v in grouped.collect())
    assert first == sorted((k, sorted(v)) for k, v in grouped.collect())
    assert first == [("a", [1, 1, 2, 2]), ("b", [3, 3])]


def test_wide_operations_on_no_partitions_are_empty(ctx, tmp_path):
    empty = ctx.emptyRDD()
    assert empty.getNumPartitions() == 0
    assert empty.map(lambda x: (x, 1)).reduceByKey(operator.add).collect() == []
    assert empty.distinct().collect() == [] and empty.groupByKey().collect() == []
    assert empty.sortBy(lambda x: x).collect() == [] and empty.join(empty).collect() == []
    (tmp_path / "empty.txt").write_text("")
    words = ctx.textFile(str(tmp_path / "empty.txt")).flatMap(str.split)
    assert words.map(lambda w: (w, 1)).reduceByKey(operator.add).collect() == []
    out = tmp_path / "out"
    empty.saveAsTextFile(str(out))
    # nothing but _SUCCESS (Hadoop's local file system adds hidden .crc files)
    assert [n for n in os.listdir(out) if not n.startswith(".")] == ["_SUCCESS"]


def test_tree_aggregate_counts_zero_per_partition_like_pyspark(ctx):
    # zeroValue once per partition, then the partition results reduced (PySpark: 8)
    assert ctx.parallelize([1, 2, 3], 2).treeAggregate(1, operator.add, operator.add) == 8


def test_foreach_partition_runs_a_generator(ctx):
    acc = ctx.accumulator(0)

    def add_all(it):
        for x in it:
            acc.add(x)
            yield x
    ctx.parallelize([1, 2, 3], 2).foreachPartition(add_all)
    assert acc.value == 6


def test_text_file_bytes_braces_and_hidden_files(ctx, tmp_path):
    (tmp_path / "a.txt").write_text("a\n")
    (tmp_path / "b.txt").write_text("b\n")
    (tmp_path / "_c.txt").write_text("hidden\n")
    assert ctx.textFile(str(tmp_path / "a.txt"), use_unicode=False).collect() == [b"a"]
    assert sorted(ctx.textFile(str(tmp_path / "*.txt")).collect()) == ["a", "b"]
    assert sorted(ctx.textFile(str(tmp_path / "{a,b}.txt")).collect()) == ["a", "b"]


def test_stats_like_pyspark(ctx):
    s = ctx.parallelize([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], 3).stats()
    assert (s.count(), s.mean(), s.stdev(), s.min(), s.max()) == (8, 5.0, 2.0, 2.0, 9.0)
    assert ctx.parallelize([], 2).mean() == 0.0


# ------------------------------------------------------------------ PySpark's wider API

def test_group_by_and_group_with(ctx):
    data = [1, 1, 2, 3, 5, 8, 13]
    got = {k: sorted(v) for k, v in ctx.parallelize(data, 3).groupBy(lambda x: x % 3).collect()}
    assert got == {k: sorted(x for x in data if x % 3 == k) for k in {x % 3 for x in data}}
    assert ctx.parallelize(data, 3).groupBy(lambda x: x % 3, 5).getNumPartitions() == 5
    w, x, y = (ctx.parallelize(p, n) for p, n in (([(1, 5), (2, 6)], 2), ([(1, 1), (3, 4)], 3), ([(2, 42)], 1)))
    grouped = {k: tuple(sorted(s) for s in sides) for k, sides in w.groupWith(x, y).collect()}
    assert grouped == {1: ([5], [1], []), 2: ([6], [], [42]), 3: ([], [4], [])}
    assert w.groupWith(x, y).getNumPartitions() == 6          # the union's: 2 + 3 + 1


def test_zip(ctx):
    a, b = ctx.parallelize(range(7), 3), ctx.parallelize("abcdefg", 3)
    assert a.zip(b).collect() == list(zip(range(7), "abcdefg"))
    assert a.zip(b).glom().collect() == [list(zip(pa, pb)) for pa, pb in zip(a.glom().collect(), b.glom().collect())]
    assert a.zip(a.map(lambda v: v * v)).collect() == [(v, v * v) for v in range(7)]
    with pytest.raises(ValueError, match="same number of partitions"):
        a.zip(ctx.parallelize(range(7), 2))
    with pytest.raises(ValueError):                     # 2 + 2 + 3 records against 2 + 2 + 4
        a.zip(ctx.parallelize(range(8), 3)).collect()


def test_random_split_and_sample_by_key(ctx):
    rdd = ctx.parallelize(range(200), 4)
    parts = [p.collect() for p in rdd.randomSplit([1, 2, 1], seed=11)]
    assert sorted(x for p in parts for x in p) == list(range(200))    # each record exactly once
    assert all(20 < len(p) < 80 for p in (parts[0], parts[2])) and 60 < len(parts[1]) < 140
    assert [p.collect() for p in rdd.randomSplit([1, 2, 1], seed=11)] == parts
    with pytest.raises(ValueError, match="nonnegative"):
        rdd.randomSplit([-1, 2])
    pairs = ctx.parallelize([(k, i) for i in range(100) for k in "ab"], 3)
    s = pairs.sampleByKey(False, {"a": 0.5, "b": 0.0}, seed=3).collect()
    assert set(s) <= set(pairs.collect()) and all(k == "a" for k, _ in s) and 20 < len(s) < 80
    assert sorted(pairs.sampleByKey(False, {"a": 1.0, "b": 1.0}).collect()) == sorted(pairs.collect())
    with_repl = pairs.sampleByKey(True, {"a": 2.0, "b": 0.5}, seed=3).collect()
    assert 120 < sum(1 for k, _ in with_repl if k == "a") < 280
    with pytest.raises(AssertionError, match="Negative fraction"):
        pairs.sampleByKey(False, {"a": -0.1, "b": 1})


def test_repartition_and_sort_within_partitions_is_a_secondary_sort(ctx):
    # composite keys (user, time) placed by user alone: each user's events come out in time order
    events = [(("u%d" % (i % 3), (i * 7) % 10), i) for i in range(30)]
    out = ctx.parallelize(events, 4).repartitionAndSortWithinPartitions(
        2, lambda key: int(key[0][1:]))
    parts = out.glom().collect()
    assert len(parts) == 2 and sorted(x for p in parts for x in p) == sorted(events)
    for i, part in enumerate(parts):
        assert [k for k, _ in part] == sorted(k for k, _ in part)
        assert all(int(k[0][1:]) % 2 == i for k, _ in part)
    desc = ctx.parallelize([(k, k) for k in range(10)], 3).repartitionAndSortWithinPartitions(
        ascending=False).glom().collect()
    assert [[k for k, _ in p] for p in desc] == [sorted((k for k in range(10) if k % 3 == i), reverse=True)
                                                  for i in range(3)]


def test_histogram(ctx):
    rdd = ctx.parallelize([1, 2, 3, 4, 5, 5.5, 10, None, float("nan")], 3)
    assert rdd.histogram(3) == ([1, 4, 7, 10], [3, 3, 1])         # the last bucket is closed
    assert rdd.histogram([0, 5, 10]) == ([0, 5, 10], [4, 3])
    assert rdd.histogram([0, 2, 9, 11]) == ([0, 2, 9, 11], [1, 5, 1])
    nums = list(range(51))
    buckets, counts = ctx.parallelize(nums, 4).histogram(10)
    assert buckets == list(range(0, 51, 5))
    assert counts == [sum(1 for x in nums if b <= x < b + 5 or (b == 45 and x == 50)) for b in buckets[:-1]]
    assert ctx.parallelize(["ab", "ac", "b", "bd", "ef"]).histogram(("a", "b", "c")) == (("a", "b", "c"), [2, 2])
    for bad, error in ((0, ValueError), ([1], ValueError), ([3, 1], ValueError), ("x", TypeError)):
        with pytest.raises(error):
            rdd.histogram(bad)
    with pytest.raises(TypeError, match="non-number"):
        ctx.parallelize(["a", "b"]).histogram(2)


def test_sample_statistics_and_local_reduce(ctx):
    import statistics
    data = [2.0, 4.0, 4.0, 5.0, 7.0, 9.0]
    rdd = ctx.parallelize(data, 3)
    assert rdd.sampleStdev() == pytest.approx(statistics.stdev(data))
    assert rdd.sampleVariance() == pytest.approx(statistics.variance(data))
    local = ctx.parallelize(PAIRS, 3).reduceByKeyLocally(operator.add)
    assert isinstance(local, dict) and local == {k: sum(v) for k, v in by_key(PAIRS).items()}


def test_to_local_iterator_reads_one_partition_at_a_time(ctx):
    rdd = ctx.parallelize(range(10), 4)
    it = rdd.toLocalIterator()
    assert iter(it) is it and list(it) == list(range(10))
    assert list(ctx.parallelize([], 3).toLocalIterator()) == []
    if ctx.sc is None:
        before = len(ctx.jobs)
        assert next(rdd.toLocalIterator()) == 0 and len(ctx.jobs) == before + 1   # one partition


def test_approximate_actions(ctx):
    data = [i % 300 for i in range(3000)]
    rdd = ctx.parallelize(data, 5)
    for sd in (0.05, 0.1, 0.3):
        assert abs(rdd.countApproxDistinct(sd) - 300) <= 3 * sd * 300
    assert abs(ctx.parallelize(range(20000), 4).countApproxDistinct() - 20000) <= 3 * 0.05 * 20000
    with pytest.raises(ValueError, match="relativeSD"):
        rdd.countApproxDistinct(0.00001)
    assert rdd.countApprox(1000) == 3000 and isinstance(rdd.countApprox(1000, 0.9), int)
    total, mean = rdd.sumApprox(1000), rdd.meanApprox(1000)
    assert isinstance(total, float) and total == float(sum(data))
    assert mean == pytest.approx(sum(data) / len(data))
    assert (total.confidence, total.low, total.high) == (1.0, total, total)   # finished in time


def test_map_partitions_with_split_is_the_deprecated_name(ctx):
    rdd = ctx.parallelize(range(6), 3)
    with pytest.warns(FutureWarning, match="mapPartitionsWithIndex"):
        out = rdd.mapPartitionsWithSplit(lambda i, it: [(i, sum(it))])
    assert out.collect() == rdd.mapPartitionsWithIndex(lambda i, it: [(i, sum(it))]).collect()


def test_pipe_runs_each_partition_through_a_command(ctx):
    rdd = ctx.parallelize(["b", "a", "", "c"], 2)
    assert rdd.pipe("cat").glom().collect() == [["b", "a"], ["", "c"]]
    assert rdd.pipe("tr a-z A-Z").collect() == ["B", "A", "", "C"]
    assert rdd.pipe("sort").glom().collect() == [["a", "b"], ["", "c"]]
    assert ctx.parallelize([1, (2, 3), "x\n"], 2).pipe("cat").collect() == ["1", "(2, 3)", "x"]
    assert rdd.pipe("sh -c 'echo $FOO'", env={"FOO": "bar"}).collect() == ["bar", "bar"]
    assert rdd.pipe("sh -c 'exit 3'").collect() == []                  # no checkCode: ignored
    with pytest.raises(Exception, match="exited with error code 3"):
        rdd.pipe("sh -c 'exit 3'", checkCode=True).collect()


def test_pickle_files_round_trip(ctx, tmp_path):
    data = [(i, str(i), [i] * (i % 3)) for i in range(25)]
    ctx.parallelize(data, 3).saveAsPickleFile(str(tmp_path / "out"), batchSize=4)
    back = ctx.pickleFile(str(tmp_path / "out"))
    assert back.getNumPartitions() == 3 and sorted(back.collect()) == sorted(data)
    assert sorted(ctx.pickleFile(f"file://{tmp_path / 'out'}").collect()) == sorted(data)
    assert "_SUCCESS" in os.listdir(tmp_path / "out")


def test_whole_text_files(ctx, tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    texts = {"a.txt": "one\ntwo\n", "b.txt": "three", "c.txt": "", "_hidden": "x"}
    for name, text in texts.items():
        (d / name).write_text(text)
    got = dict(ctx.wholeTextFiles(str(d)).collect())
    assert got == {f"file:{d / n}": t for n, t in texts.items() if not n.startswith("_")}
    # whole files packed in order, a partition closed at ceil(total / minPartitions) bytes
    assert ctx.wholeTextFiles(str(d / "[ab].txt"), 1).getNumPartitions() == 1
    assert ctx.wholeTextFiles(str(d), 1).getNumPartitions() == 2     # a + b fill it; c follows
    assert ctx.wholeTextFiles(str(d), 3).getNumPartitions() == 3     # limit 5: a; b; c
    assert dict(ctx.wholeTextFiles(str(d / "a.txt"), use_unicode=False).collect()) == {
        f"file:{d / 'a.txt'}".encode(): b"one\ntwo\n"}


def test_empty_rdd_is_named_like_pysparks(ctx):
    assert repr(ctx.emptyRDD()).startswith("EmptyRDD[")
    assert ctx.emptyRDD().collect() == [] and ctx.emptyRDD().getNumPartitions() == 0


def test_job_groups_and_descriptions_are_recorded(ctx):
    import threading
    ctx.setJobGroup("etl", "load the logs")
    ctx.parallelize(range(4), 2).count()
    assert ctx.getLocalProperty("spark.jobGroup.id") == "etl"
    assert (ctx.jobs[-1]["group"], ctx.jobs[-1]["description"]) == ("etl", "load the logs")
    ctx.setJobDescription("count again")
    ctx.setLocalProperty("spark.jobGroup.id", None)
    ctx.parallelize(range(4), 2).count()
    assert (ctx.jobs[-1]["group"], ctx.jobs[-1]["description"]) == (None, "count again")
    seen = []                                                    # local to this thread
    t = threading.Thread(target=lambda: seen.append(ctx.getLocalProperty("spark.job.description")))
    t.start()
    t.join()
    assert seen == [None]
    ctx.setLocalProperty("spark.job.description", None)
    ctx.parallelize(range(4), 2).count()
    assert (ctx.jobs[-1]["group"], ctx.jobs[-1]["description"]) == (None, None)


def test_conf_and_log_level(ctx):
    conf = ctx.getConf()
    assert conf.get("spark.master").startswith("local") and conf.get("spark.app.name")
    conf.set("spark.app.name", "changed")
    assert ctx.getConf().get("spark.app.name") != "changed"          # a copy
    ctx.setLogLevel("error")


def test_checkpoint_cuts_the_lineage_after_the_next_job(ctx, tmp_path):
    ctx.setCheckpointDir(str(tmp_path / "ck"))
    assert ctx.getCheckpointDir().startswith(f"file:{tmp_path / 'ck'}/")
    rdd = ctx.parallelize([(i % 4, i) for i in range(20)], 3).reduceByKey(operator.add).mapValues(str)
    rdd.checkpoint()
    assert not rdd.isCheckpointed() and rdd.getCheckpointFile() is None
    before = rdd.toDebugString().decode()
    assert "+-" in before                                        # a shuffle in the lineage
    expected = sorted(rdd.collect())
    assert rdd.isCheckpointed() and not rdd.isLocallyCheckpointed()
    assert rdd.getCheckpointFile() == f"{ctx.getCheckpointDir()}/rdd-{rdd.id()}"
    after = rdd.toDebugString().decode().splitlines()
    assert len(after) == 2 and "ReliableCheckpointRDD" in after[1] and "+-" not in after[1]
    assert sorted(rdd.collect()) == expected and sorted(rdd.map(lambda kv: kv[0]).collect()) == [0, 1, 2, 3]
    assert rdd.partitioner is not None or ctx.sc is not None
    assert sorted(rdd.join(rdd).values().collect()) == sorted((v, v) for _, v in expected)


def test_local_checkpoint_keeps_blocks_and_fails_once_they_are_gone(ctx):
    rdd = ctx.parallelize(range(12), 3).map(lambda x: x * 3)
    rdd.localCheckpoint()
    assert rdd.isLocallyCheckpointed() and not rdd.isCheckpointed()
    assert StorageLevel.MEMORY_AND_DISK_DESER == rdd.getStorageLevel()
    assert rdd.collect() == [x * 3 for x in range(12)]
    assert rdd.isCheckpointed() and rdd.getCheckpointFile() is None
    assert "LocalCheckpointRDD" in rdd.toDebugString().decode().splitlines()[-1]
    assert rdd.map(lambda x: x + 1).sum() == sum(x * 3 + 1 for x in range(12))
    rdd.unpersist()
    with pytest.raises(Exception, match=r"Checkpoint block rdd_\d+_\d+ not found"):
        rdd.collect()
