"""The classic MapReduce API (Hadoop's, mrjob's), built from four RDD calls.

    mapreduce(rdd, mapper, reducer, combiner=None, numReducers=None)

        map       record            -> iterable of (key, value)     rdd.flatMap(mapper)
        combine   (key, values)     -> iterable of (key, value)     per map partition
        shuffle   key -> reducer hash(key) % numReducers            partitionBy(n)
        reduce    (key, values)     -> iterable of output records   per reduce partition,
                                                                    keys in sorted order

So reduceByKey(f) *is* this job with combiner = reducer = "sum the values with f":
the same shuffle, the same stage boundary (compare their toDebugString()). Because it
uses only public RDD methods, it runs on every executor, PySpark included.

>>> from minimr import Context
>>> def mapper(line):
...     return [(w, 1) for w in line.split()]
>>> def reducer(word, counts):
...     yield word, sum(counts)
>>> with Context() as ctx:
...     lines = ctx.parallelize(["to be or", "not to be"], 2)
...     sorted(mapreduce(lines, mapper, reducer, combiner=reducer).collect())
[('be', 2), ('not', 1), ('or', 1), ('to', 2)]
"""


def mapreduce(rdd, mapper, reducer, combiner=None, numReducers=None):
    """Run mapper, optional combiner and reducer over `rdd`; returns the (lazy) output
    RDD with `numReducers` partitions (default: the input's partition count)."""
    n = numReducers or rdd.getNumPartitions()
    pairs = rdd.flatMap(mapper)                                              # map
    if combiner is not None:
        pairs = pairs.mapPartitions(lambda it: _grouped(combiner, it))       # combine
    return (pairs.partitionBy(n)                                             # shuffle
            .mapPartitions(lambda it: _grouped(reducer, it)))                # reduce


def _grouped(fn, pairs):
    """Call fn(key, values) once per key of this partition, keys in sorted order when
    they can be ordered (Hadoop sorts reducer input), else in first-seen order."""
    groups = {}
    for k, v in pairs:
        groups.setdefault(k, []).append(v)
    keys = list(groups)
    try:
        keys.sort()
    except TypeError:
        pass
    for k in keys:
        yield from fn(k, groups[k])
