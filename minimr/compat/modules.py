"""The stand-in pyspark package: which PySpark module names which minimr object.

    shim/pyspark/__init__.py ── install(itself) ──► the names below in `pyspark`, and one
    module object per row in sys.modules ("pyspark.rdd", "pyspark.sql", ...), as PySpark 4
    itself registers "pyspark.rdd" for "pyspark.core.rdd"

Any other name under ``pyspark`` (a module: pyspark.ml, pyspark.sql.functions; an
attribute: pyspark.SparkFiles) is refused with one line (unsupported.py). Every module
here is a package (``__path__ = []``), so ``from pyspark.sql.types import StructType``
reaches the refusing finder and says so, instead of Python's bare "cannot import name".

Names are registered under the package's own name: imported as ``pyspark`` (sys.path
starts with shim/ during a minimr-submit run) they are ``pyspark.*``; imported as
``minimr.compat.shim.pyspark`` (e.g. by pytest collecting doctests) they stay under that
name and the real pyspark is left alone.
"""

import sys
import types


def table():
    """{module suffix: {name: object}}; "" is the package itself."""
    from .. import (AccumulatorParam, RDD, ResultIterable, StatCounter, StorageLevel,
                    TaskContext, portable_hash)
    from ..conf import SparkConf
    from ..shared import Accumulator, Broadcast
    from .context import SparkContext, SparkJobInfo, SparkStageInfo, StatusTracker
    from .sql import DataFrame, Row, SparkSession
    status = dict(StatusTracker=StatusTracker, SparkJobInfo=SparkJobInfo,
                  SparkStageInfo=SparkStageInfo)
    return {
        "": dict(SparkContext=SparkContext, SparkConf=SparkConf, RDD=RDD,
                 StorageLevel=StorageLevel, Broadcast=Broadcast, Accumulator=Accumulator,
                 AccumulatorParam=AccumulatorParam, TaskContext=TaskContext, Row=Row, **status),
        ".rdd": dict(RDD=RDD, portable_hash=portable_hash, ResultIterable=ResultIterable,
                     StorageLevel=StorageLevel),
        ".resultiterable": dict(ResultIterable=ResultIterable),
        ".context": dict(SparkContext=SparkContext),
        ".conf": dict(SparkConf=SparkConf),
        ".broadcast": dict(Broadcast=Broadcast),
        ".accumulators": dict(Accumulator=Accumulator, AccumulatorParam=AccumulatorParam),
        ".storagelevel": dict(StorageLevel=StorageLevel),
        ".statcounter": dict(StatCounter=StatCounter),
        ".taskcontext": dict(TaskContext=TaskContext),
        ".status": status,
        ".sql": dict(SparkSession=SparkSession, Row=Row, DataFrame=DataFrame),
        ".sql.session": dict(SparkSession=SparkSession),
        ".sql.types": dict(Row=Row),
        ".sql.dataframe": dict(DataFrame=DataFrame),
    }


def install(package):
    """Fill the stand-in `package` and register its modules (see the module docstring)."""
    from .unsupported import RefusingFinder, refuse_attribute
    prefix = package.__name__
    provided = set()
    for suffix, names in table().items():
        public = "pyspark" + suffix
        if suffix:
            module = types.ModuleType(prefix + suffix, f"minimr's stand-in for {public}")
            module.__path__ = []
            sys.modules[module.__name__] = module
            parent, _, child = module.__name__.rpartition(".")
            setattr(sys.modules[parent], child, module)
            provided.add(module.__name__)
        else:
            module = package
        module.__dict__.update(names)
        module.__all__ = sorted(names)
        module.__getattr__ = lambda name, public=public: _raise(refuse_attribute(public, name))
    sys.meta_path.append(RefusingFinder(prefix, provided))


def _raise(exc):
    raise exc
