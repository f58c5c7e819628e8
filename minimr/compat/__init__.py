"""Running PySpark programs unchanged on minimr's executors (what ``minimr-submit`` uses).

A PySpark program imports ``pyspark``. While ``minimr-submit --executor serial|memory|disk``
runs it, ``import pyspark`` finds a stand-in instead of the real package: the directory
``shim/`` is put first on ``sys.path`` (in the driver, and so in every worker, which copies
the driver's ``sys.path``), and it holds one package, ``pyspark``, whose modules name
minimr's own objects::

    shim/pyspark/__init__.py ──modules.install()──► pyspark, pyspark.rdd, pyspark.context,
                                                    pyspark.sql, ... (table in modules.py)
        SparkContext   context.py   a minimr Context with PySpark's constructor, getOrCreate,
                                    statusTracker(); the master sets the workers
        SparkSession   sql.py       builder ... getOrCreate(), .sparkContext, .read.text(p).rdd
        RDD, StorageLevel, Broadcast, Accumulator, TaskContext, SparkConf ...  minimr's own

Anything outside the RDD world (DataFrame operations, SQL, MLlib, streaming) fails where
it is called with one line naming the call (unsupported.py); ``--executor spark`` runs the
same program on the real pyspark instead. Nothing is installed anywhere: outside a
``minimr-submit`` run, ``import pyspark`` is the real one. Not part of the engine's line
budget (benchmarks/linecount.py): this is glue between two sets of names.
"""
