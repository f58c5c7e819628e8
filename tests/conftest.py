"""Shared fixtures.

* ``ctx``: a minimr Context, once per executor in EXECUTORS (the shared semantics suite
  is written once and runs on each, like CPython's create_executor_tests).
* ``sc``: one real PySpark SparkContext (local[2]) for the whole session: the oracle.
  Without Java it fails with one clear message; MINIMR_SKIP_SPARK=1 skips instead.
* ``@pytest.mark.minimr_only``: a guarantee of minimr's own (error types, retries,
  laziness counters) that the spark executor, keeping Spark's behaviour, skips.
* ``spark_cluster``: a real Spark standalone cluster on this machine (a master and two
  workers from the installed pyspark), for the session; tests using it are marked
  ``cluster`` (``-m "not cluster"`` skips them for a quick local run).
"""

import os
import shutil
import signal
import socket
import subprocess
import time

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
    config.addinivalue_line("markers", "cluster: starts a Spark standalone cluster "
                                       "(about a minute; -m 'not cluster' skips it)")


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


# ------------------------------------------------------------- a standalone cluster

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _group_members(pgid):
    """Live (not zombie) processes of process group `pgid`, from /proc."""
    members = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(pid))
    return members


class StandaloneCluster:
    """A Spark master and two workers (1 core, 1 GiB each) on 127.0.0.1, started from the
    installed pyspark's bin/spark-class, each launcher in a process group of its own, so
    that stop() reaches every JVM it started (a worker's executors, their Python workers)
    even when a JVM outlives its launcher's pid. The REST submission server of the 4.x
    master (a fixed port) is off. The workers get no PYTHONPATH: what a program needs
    there, the spark executor has to ship."""

    def __init__(self, home, workdir):
        self.home, self.dir, self.procs, self.url = home, workdir, [], None
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        self.env.update(SPARK_HOME=home, SPARK_LOCAL_IP="127.0.0.1", SPARK_LOG_DIR=str(workdir),
                        SPARK_MASTER_OPTS="-Dspark.master.rest.enabled=false")

    def _launch(self, name, *args):
        with open(self.dir / f"{name}.log", "w") as log:
            proc = subprocess.Popen([os.path.join(self.home, "bin", "spark-class"), *args],
                                    stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=str(self.dir), env=self.env,
                                    start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def _wait_for(self, name, proc, text, deadline):
        log = self.dir / f"{name}.log"
        while text not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.time() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"spark {name} did not start ({text!r} not logged):\n{tail}")
            time.sleep(0.2)

    def start(self, timeout=120):
        deadline = time.time() + timeout
        port = _free_port()
        self.url = f"spark://127.0.0.1:{port}"
        master = self._launch("master", "org.apache.spark.deploy.master.Master", "--host",
                              "127.0.0.1", "--port", str(port), "--webui-port", str(_free_port()))
        self._wait_for("master", master, "I have been elected leader", deadline)
        workers = [(f"worker{i}", self._launch(
            f"worker{i}", "org.apache.spark.deploy.worker.Worker", self.url, "--host",
            "127.0.0.1", "--cores", "1", "--memory", "1g", "--webui-port", str(_free_port()),
            "--work-dir", str(self.dir / f"work{i}"))) for i in (1, 2)]
        for name, proc in workers:
            self._wait_for(name, proc, "Successfully registered with master", deadline)

    def stop(self, timeout=60):
        """Kill every group (TERM, then KILL after `timeout`); the pids still alive."""
        groups = [proc.pid for _, proc in self.procs]
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pgid in groups:
                try:
                    os.killpg(pgid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.time() + timeout
            while any(_group_members(g) for g in groups) and time.time() < deadline:
                for _, proc in self.procs:
                    proc.poll()                                  # reap our launchers
                time.sleep(0.2)
            if not any(_group_members(g) for g in groups):
                break
        for _, proc in self.procs:
            proc.poll()
        return [p for g in groups for p in _group_members(g)]


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory):
    """One Spark standalone cluster for the session; stopped at its end, with a check
    that none of its processes is left."""
    if os.environ.get("MINIMR_SKIP_SPARK") == "1":
        pytest.skip("MINIMR_SKIP_SPARK=1: Spark tests skipped on purpose")
    problem = _java_problem()
    if problem:
        pytest.fail(f"a Spark cluster needs Java 17 ({problem})", pytrace=False)
    import pyspark
    workdir = tmp_path_factory.mktemp("spark-cluster")
    cluster = StandaloneCluster(os.path.dirname(pyspark.__file__), workdir)
    try:
        cluster.start()
        yield cluster
    finally:
        left = cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    assert not left, f"Spark cluster processes left running: {left}"
