"""Shared fixtures.

* ``ctx``: a minimr Context, once per executor in EXECUTORS (the shared semantics suite
  is written once and runs on each, like CPython's create_executor_tests).
* ``sc``: one real PySpark SparkContext (local[2]) for the whole session: the oracle.
  Without Java it fails with one clear message; MINIMR_SKIP_SPARK=1 skips instead.
* ``@pytest.mark.minimr_only``: a guarantee of minimr's own (error types, retries,
  laziness counters) that the spark executor, keeping Spark's behaviour, skips.
"""

import os
import shutil
import subprocess

import pytest

import minimr

# test id -> (executor name, Context keyword arguments) for the shared suite
EXECUTORS = {
    "serial": ("serial", {}),
}
for _name, _kw in [("memory", {"workers": 2}), ("disk", {"workers": 2})]:
    try:
        __import__(f"minimr.executors.{_name}")
        EXECUTORS[_name] = (_name, _kw)
    except ModuleNotFoundError:
        pass
if "memory" in EXECUTORS:        # one worker, and more workers than cores
    EXECUTORS["memory-1"] = ("memory", {"workers": 1})
    EXECUTORS["memory-3"] = ("memory", {"workers": 3})
try:
    __import__("minimr.executors.spark")
    if os.environ.get("MINIMR_SKIP_SPARK") != "1":
        EXECUTORS["spark"] = ("spark", {"workers": 2})
except ModuleNotFoundError:
    pass


def pytest_report_header(config):
    if shutil.which("chromium") is None:
        return "no chromium: the report's browser tests are skipped (.ci/run installs it)"


def pytest_configure(config):
    config.addinivalue_line("markers", "minimr_only: a minimr guarantee the spark executor "
                                       "does not make (it keeps Spark's behaviour)")
    config.addinivalue_line("markers", "spark: needs real PySpark (and Java 17)")


def _java_problem():
    java = shutil.which("java") or (os.environ.get("JAVA_HOME") and
                                    os.path.join(os.environ["JAVA_HOME"], "bin", "java"))
    if not java or not os.path.exists(java):
        return "no `java` on PATH and no JAVA_HOME"
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    return None if out else "`java -version` printed nothing"


@pytest.fixture(scope="session")
def sc():
    """The one SparkContext of the test session (PySpark's oracle)."""
    if os.environ.get("MINIMR_SKIP_SPARK") == "1":
        pytest.skip("MINIMR_SKIP_SPARK=1: PySpark comparisons skipped on purpose")
    problem = _java_problem()
    if problem:
        pytest.fail(f"PySpark needs Java 17 ({problem}). Install it (Debian: "
                    "apt-get install openjdk-17-jre-headless) or set MINIMR_SKIP_SPARK=1 "
                    "to skip the PySpark tests explicitly.", pytrace=False)
    os.environ.setdefault("PYSPARK_PYTHON", os.sys.executable)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    from pyspark import SparkConf, SparkContext
    conf = (SparkConf().setMaster("local[2]").setAppName("minimr-tests")
            .set("spark.ui.enabled", "false").set("spark.ui.showConsoleProgress", "false")
            .set("spark.driver.bindAddress", "127.0.0.1").set("spark.driver.host", "127.0.0.1"))
    context = SparkContext.getOrCreate(conf)
    context.setLogLevel("ERROR")
    yield context
    context.stop()


@pytest.fixture(params=list(EXECUTORS), scope="session")
def executor_name(request):
    return request.param


@pytest.fixture(scope="session")
def _contexts():
    made = {}
    yield made
    for c in made.values():
        c.stop()


@pytest.fixture
def ctx(request, executor_name, _contexts):
    """A Context for `executor_name`, shared by the tests of one session."""
    executor, kwargs = EXECUTORS[executor_name]
    if executor == "spark":
        if request.node.get_closest_marker("minimr_only"):
            pytest.skip("a minimr-only guarantee; the spark executor keeps Spark's behaviour")
        request.getfixturevalue("sc")        # start (or skip) the one SparkContext
    if executor_name not in _contexts:
        _contexts[executor_name] = minimr.Context(executor=executor, **kwargs)
    return _contexts[executor_name]
