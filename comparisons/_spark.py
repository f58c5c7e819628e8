"""Start (or join) the local SparkContext the twins run on, as a PySpark script would."""

import os
import sys


def spark_context(workers=2, app="minimr-comparisons"):
    """A SparkContext on local[workers]: workers use this Python, str hashing is fixed
    (PySpark refuses reduceByKey on str keys otherwise), no web UI, loopback only."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if here not in paths:                    # workers import comparisons.* by name
        os.environ["PYTHONPATH"] = os.pathsep.join(paths + [here])
    from pyspark import SparkConf, SparkContext
    conf = (SparkConf().setMaster(f"local[{workers}]").setAppName(app)
            .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
            .set("spark.driver.bindAddress", "127.0.0.1").set("spark.driver.host", "127.0.0.1"))
    sc = SparkContext.getOrCreate(conf)
    sc.setLogLevel("ERROR")
    return sc
