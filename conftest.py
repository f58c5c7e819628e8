"""Root conftest: puts this checkout first on sys.path and gives doctests a `ctx`."""

import importlib.util
import operator
import os

import pytest

# The spark executor's doctest needs PySpark: skipped with the PySpark tests.
collect_ignore = []
if os.environ.get("MINIMR_SKIP_SPARK") == "1" or importlib.util.find_spec("pyspark") is None:
    collect_ignore.append("minimr/executors/spark.py")


@pytest.fixture(scope="session", autouse=True)
def _doctest_globals(doctest_namespace):
    import minimr
    ctx = minimr.Context(executor="serial", workers=2)
    doctest_namespace.update(ctx=ctx, operator=operator)
    yield
    ctx.stop()
