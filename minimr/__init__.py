"""minimr: a MapReduce engine written to be read.

One lazy, PySpark-shaped RDD API; executors that run the same plan in different ways
(serial, memory = Spark-style, disk = Hadoop-style, spark = real PySpark). Read in this
order: rdd.py (the API; then wide.py, actions.py) -> plan.py (lineage, stages) ->
scheduler.py (jobs, retries) -> task.py (what runs) -> shuffle.py -> executors/serial.py
-> io.py -> procs.py + worker.py (the process layer) -> executors/memory.py ->
executors/disk.py + spill.py.
"""

from .classic import mapreduce
from .context import Context
from .errors import MinimrError
from .plan import StorageLevel
from .rdd import RDD
from .shared import AccumulatorParam
from .shuffle import HashPartitioner, stable_hash
from .statcounter import StatCounter
from .task import TaskContext
from .wide import ResultIterable

portable_hash = stable_hash   # PySpark's name for the default partition function

__all__ = ["Context", "RDD", "MinimrError", "mapreduce", "StorageLevel", "ResultIterable",
           "StatCounter", "HashPartitioner", "stable_hash", "portable_hash",
           "AccumulatorParam", "TaskContext"]
