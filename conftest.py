"""Root conftest: puts this checkout first on sys.path and gives doctests a `ctx`."""

import operator

import pytest


@pytest.fixture(scope="session", autouse=True)
def _doctest_globals(doctest_namespace):
    import minimr
    ctx = minimr.Context(executor="serial", workers=2)
    doctest_namespace.update(ctx=ctx, operator=operator)
    yield
    ctx.stop()
