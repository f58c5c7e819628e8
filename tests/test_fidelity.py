"""The differential cases where minimr once answered differently from PySpark 4, one test
each, run on every executor (the `ctx` fixture) and checked against real PySpark (`sc`)
and, where there is one, a plain-Python reference.

Each test names its case; each failed on the code before the fix.
"""

import operator
import os
import signal
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
