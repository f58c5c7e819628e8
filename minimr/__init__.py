"""minimr: a MapReduce engine written to be read.

One lazy, PySpark-shaped RDD API; executors that run the same plan in different ways
(serial, memory = Spark-style, disk = Hadoop-style, spark = real PySpark). Read in this
order: rdd.py (the API) -> plan.py (lineage, stages) -> scheduler.py (jobs, retries)
-> task.py (what runs) -> shuffle.py -> executors/serial.py -> io.py.
"""

from .classic import mapreduce
from .context import Context
from .errors import MinimrError
from .plan import StorageLevel
from .rdd import RDD, ResultIterable, StatCounter
from .shuffle import HashPartitioner, stable_hash
from .task import AccumulatorParam, TaskContext

portable_hash = stable_hash   # PySpark's name for the default partition function

__all__ = ["Context", "RDD", "MinimrError", "mapreduce", "StorageLevel", "ResultIterable",
           "StatCounter", "HashPartitioner", "stable_hash", "portable_hash",
           "AccumulatorParam", "TaskContext"]
