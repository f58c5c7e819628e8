"""Executors, chosen by name (dask's named schedulers): each runs the same tasks.

    serial   the caller's process, one task after another          executors/serial.py
    memory   long-lived worker processes, blocks in their RAM      executors/memory.py
    disk     worker processes, every stage boundary through files  executors/disk.py
    spark    the program on real PySpark                           executors/spark.py

Context() calls make_executor. Each executor offers run_tasks(tasks), missing_outputs(
shuffle), unpersist(rdd_id), status(), stop() and default_parallelism (scheduler.py).
"""

from ..errors import MinimrError

NAMES = ("serial", "memory", "disk", "spark")


def make_executor(name, ctx, **options):
    if name == "serial":
        from .serial import SerialExecutor as chosen
    elif name == "memory":
        from .memory import MemoryExecutor as chosen
    elif name == "disk":
        from .disk import DiskExecutor as chosen
    elif name == "spark":
        from .spark import SparkExecutor as chosen
    else:
        raise MinimrError(f"unknown executor {name!r}; choose one of: {', '.join(NAMES)}")
    return chosen(ctx, **options)
