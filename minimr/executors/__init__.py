"""Executors, chosen by name (dask's named schedulers): each runs the same tasks.

    serial   the caller's process, one task after another          executors/serial.py
    memory   long-lived worker processes, blocks in their RAM      executors/memory.py
    disk     worker processes, every stage boundary through files  executors/disk.py
    spark    the program on real PySpark                           executors/spark.py
"""

import importlib

from ..errors import MinimrError

EXECUTORS = {
    "serial": "minimr.executors.serial:SerialExecutor",
    "memory": "minimr.executors.memory:MemoryExecutor",
    "disk": "minimr.executors.disk:DiskExecutor",
}


def make_executor(name, ctx, **options):
    if name not in EXECUTORS:
        known = ", ".join(sorted(set(EXECUTORS) | {"spark"}))
        raise MinimrError(f"unknown executor {name!r}; choose one of: {known}")
    module, cls = EXECUTORS[name].split(":")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            raise MinimrError(f"executor {name!r} is not built yet") from None
        raise
    return getattr(mod, cls)(ctx, **options)
