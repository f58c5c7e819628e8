"""Word count, written three ways: the "hello world" of MapReduce.

The idea it shows: counting is associative, so each map task counts its own input split
first and only the partial counts travel. In the two shuffle forms every word then goes
to the one reduce partition that owns it (hash of the word) and is summed there:

    lines ──► words ──► (word, 1) ──combine per partition──► (word, n) ──shuffle──► sum ──► counts
    └───────────────── stage 1: one map task per input split ─────────┘          └ stage 2 ┘

In the counter form the partial counts go to the driver instead, one Counter a partition:

    lines ──► Counter of the partition (stage 1, one per split) ──reduce in driver──► counts

  --form rdd      the idiomatic chain: flatMap, map, reduceByKey (which asks for the
                  map-side combine)
  --form classic  Hadoop's mapper / combiner / reducer, through minimr.mapreduce()
  --form counter  "in-mapper combining" (Lin & Dyer, Data-Intensive Text Processing with
                  MapReduce, 3.1.1): each map task counts its whole partition into one
                  collections.Counter, and the driver merges the P Counters (a reduce
                  action, no shuffle: this is how PySpark's countByValue works). Fastest
                  while the distinct words fit in the driver's memory; the shuffle forms
                  scale past that.

All three give the same counts; --output DIR saves them (one "word<TAB>count" a line) with
saveAsTextFile. Tokens are line.split(), case kept.

    python -m examples.wordcount --executor memory --workers 2 --form counter
"""

import heapq
import os
import sys
import time
from collections import Counter
from itertools import chain
from operator import add

from minimr import mapreduce

from examples import _common as common

TOP = 20


# ---------------------------------------------------------------- the three forms

def counts_rdd(lines):
    return (lines.flatMap(lambda line: line.split())
                 .map(lambda word: (word, 1))
                 .reduceByKey(add))


def mapper(line):                       # one record in, (key, value) pairs out
    return [(word, 1) for word in line.split()]


def reducer(word, counts):              # one key and all its values in, records out
    yield word, sum(counts)


def counts_classic(lines):
    # The combiner is the reducer: summing is associative, so partial sums are fine.
    return mapreduce(lines, mapper, reducer, combiner=reducer)


FORMS = {"rdd": counts_rdd, "classic": counts_classic}        # each gives an RDD of (word, n)


def count_partition(lines):
    # one Counter for the whole partition, filled by one C loop over all its words
    return [Counter(chain.from_iterable(map(str.split, lines)))]


def merge(a, b):
    a.update(b)                         # a is a partition's own Counter: safe to grow
    return a


def counts_counter(lines):
    return lines.mapPartitions(count_partition).reduce(merge)     # one Counter, in the driver


# ---------------------------------------------------------------------- the job

def by_count(kv):
    return -kv[1], kv[0]                # count descending, then word: a total order, no ties


def save(counts, output):
    counts.map(lambda kv: f"{kv[0]}\t{kv[1]}").saveAsTextFile(output)


def word_count(ctx, path, form="rdd", partitions=4, output=None):
    """Count the words of `path`; returns (result dict, partition count of the input)."""
    lines = ctx.textFile(path, partitions)
    if form == "counter":                        # the counts come back as one dict ...
        counts = counts_counter(lines)
        result = {"total_words": sum(counts.values()), "distinct_words": len(counts),
                  "top": [list(kv) for kv in heapq.nsmallest(TOP, counts.items(), by_count)]}
        if output is not None:
            save(ctx.parallelize(sorted(counts.items()), lines.getNumPartitions()), output)
    else:                                        # ... or stay an RDD, spread over the workers
        counts = FORMS[form](lines).cache()      # three (or four) actions read it below
        result = {"total_words": counts.values().sum(), "distinct_words": counts.count(),
                  "top": [list(kv) for kv in counts.takeOrdered(TOP, key=by_count)]}
        if output is not None:
            save(counts, output)
        counts.unpersist()
    return result, lines.getNumPartitions()


def main(argv=None):
    p = common.parser("wordcount", __doc__)
    p.add_argument("--form", choices=["rdd", "classic", "counter"], default="rdd",
                   help="how the job is written (default: rdd)")
    p.add_argument("--output", metavar="DIR", help="save all counts here (must not exist)")
    args = p.parse_args(argv)
    if args.output is not None and os.path.exists(args.output):
        raise ValueError(f"bad input: --output {args.output}: already exists (Hadoop and "
                         "Spark refuse to write into an existing directory too)")

    with common.input_file(args.input, common.write_words, args.seed) as path, \
            common.context(args) as ctx:
        start = time.perf_counter()
        result, partitions = word_count(ctx, path, args.form, args.partitions, args.output)
        seconds = time.perf_counter() - start
        common.note_malformed_input("wordcount", ctx)

    print(f"wordcount --form {args.form} on {common.where(args, partitions)}: {seconds:.2f} s")
    print(f"{result['total_words']} words, {result['distinct_words']} distinct; top {TOP}:")
    for word, n in result["top"]:
        print(f"  {n:>10}  {word}")
    common.write_json(args.json, "wordcount", args, partitions, seconds, result,
                      form=args.form)
    return 0


if __name__ == "__main__":
    sys.exit(common.guard("wordcount", main))
