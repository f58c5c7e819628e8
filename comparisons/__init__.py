"""Real PySpark beside minimr: twins of the examples, the iteration-gap study, benchmarks.

    comparisons/wordcount.py   the PySpark program a Spark user writes for each example;
    comparisons/knn.py         plain PySpark (no minimr import), run on a SparkContext,
    comparisons/lr_sgd.py      checked against minimr's examples in tests/test_comparisons.py
    comparisons/pi.py
    comparisons/data.py        seeded generators for the examples' input formats
    comparisons/iteration_gap.py   python -m comparisons.iteration_gap: the Spark paper's
                               figure (Hadoop vs Spark per iteration) on one machine
    comparisons/workloads.py   its --workload kmeans|pagerank|all: the RDD paper's other two
                               iterative workloads (the examples themselves on each engine)
    comparisons/bench.py       python -m comparisons.bench: minimr vs PySpark vs numpy

Each twin takes a context object `sc` and uses only the public RDD API, so the same twin
function also runs on a minimr Context unchanged; the study uses that to time one
program on every engine.
"""
