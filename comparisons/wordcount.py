"""Word count in plain PySpark: the twin of examples/wordcount.py (--form rdd).

    textFile ──flatMap(split)──► words ──map──► (word, 1) ──reduceByKey(add)──► counts
                                                            (map-side combine, one shuffle)

    python -m comparisons.wordcount --input big.txt --workers 2
"""

import argparse
import json
import time
from operator import add


def word_count(sc, path, partitions=4, top=20):
    """{"total_words", "distinct_words", "top": [[word, count], ...]}, as the example's."""
    counts = (sc.textFile(path, partitions)
                .flatMap(lambda line: line.split())
                .map(lambda word: (word, 1))
                .reduceByKey(add)
                .cache())
    result = {"total_words": counts.values().sum(),
              "distinct_words": counts.count(),
              "top": [list(kv) for kv in counts.takeOrdered(top, key=lambda kv: (-kv[1], kv[0]))]}
    counts.unpersist()
    return result


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m comparisons.wordcount", description=__doc__)
    p.add_argument("--input", required=True)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--partitions", type=int, default=4)
    args = p.parse_args(argv)
    from comparisons._spark import spark_context
    sc = spark_context(args.workers)
    start = time.perf_counter()
    result = word_count(sc, args.input, args.partitions)
    print(json.dumps({"seconds": time.perf_counter() - start, "result": result}))
    sc.stop()


if __name__ == "__main__":
    main()
