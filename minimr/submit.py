"""minimr-submit: run a PySpark program, unchanged, on minimr's executors or on Spark.

    minimr-submit [--executor serial|memory|disk|spark] [--workers N] [--master URL]
                  [--conf KEY=VALUE ...] [--py-files FILES] SCRIPT [ARGS ...]
    python -m minimr.submit ...                                   (the same)

As spark-submit does, it runs SCRIPT as ``__main__`` with ARGS in ``sys.argv``, and
``--master``/``--conf`` are the program's starting settings (what the program sets in its
own SparkConf or builder wins). Defaults: master ``local[N]`` with ``--workers N``, else
``local[*]`` (spark-submit's default); application name: the script's file name.

    serial|memory|disk ──► sys.path = [minimr/compat/shim, the script's directory,
                           --py-files (.zip/.egg as they are, .py files copied into a
                           directory, as spark-submit does), ...]
                           `import pyspark` is minimr's stand-in (minimr/compat/), in this
                           process and in every worker (a worker copies the driver's sys.path);
                           master local[N] -> N workers; spark.task.maxFailures -> attempts
    spark              ──► the real pyspark: --master, --conf and --py-files reach its JVM
                           as spark-submit's would (PYSPARK_SUBMIT_ARGS), after the spark
                           executor's own settings (no web UI, driver on 127.0.0.1); Spark
                           ships --py-files to its workers, as with spark-submit

A call the stand-in does not offer (a DataFrame operation, SQL, MLlib ...) ends the run
with one line naming it and where the script made it; bad options end it before the
script starts. Nothing is installed: the real pyspark is untouched outside the run.
"""

import argparse
import os
import runpy
import shlex
import shutil
import sys
import tempfile
import traceback

from .errors import MinimrError

EXECUTORS = ("serial", "memory", "disk", "spark")
SHIM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "compat", "shim")
_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def parser():
    p = argparse.ArgumentParser(
        prog="minimr-submit", description=__doc__.split("\n\n")[0],
        usage="%(prog)s [--executor NAME] [--workers N] [--master URL] "
              "[--conf KEY=VALUE ...] [--py-files FILES] SCRIPT [ARGS ...]")
    p.add_argument("--executor", choices=EXECUTORS, default="serial",
                   help="where the program runs (default: serial; spark: the real pyspark)")
    p.add_argument("--workers", type=int, metavar="N", help="short for --master local[N]")
    p.add_argument("--master", metavar="URL",
                   help="local, local[N], local[*], local[N,F]; with --executor spark any "
                        "Spark master (spark://HOST:PORT, yarn, k8s://...)")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                   help="a Spark setting, e.g. spark.task.maxFailures=2 (repeatable)")
    p.add_argument("--py-files", metavar="FILES", default="",
                   help="comma-separated .py, .zip or .egg files the program imports "
                        "(its own modules), for the driver and every worker")
    p.add_argument("script", metavar="SCRIPT", help="the PySpark program")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS",
                   help="the program's own arguments")
    return p


def settings(p, args):
    """The command line as Spark settings {key: value}; errors end the run here."""
    conf = {}
    for item in args.conf:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            p.error(f"--conf {item!r}: expected KEY=VALUE")
        conf[key.strip()] = value
    if args.workers is not None:
        if args.workers < 1:
            p.error(f"--workers must be a positive integer, got {args.workers}")
        if args.master is not None:
            p.error("--workers N is short for --master local[N]: give one of them")
    master = args.master or conf.get("spark.master") or (
        f"local[{args.workers}]" if args.workers else "local[*]")
    conf["spark.master"] = master
    conf.setdefault("spark.app.name", os.path.basename(args.script))
    if args.executor != "spark":                     # refuse bad settings before work
        from .compat.context import parse_master, task_max_failures
        try:
            parse_master(master)
            task_max_failures(conf)
        except MinimrError as exc:
            p.error(str(exc))
    return conf


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    if not os.path.isfile(args.script):
        p.error(f"{args.script}: no such file")
    conf = settings(p, args)
    py_files = [f for f in args.py_files.split(",") if f]
    for f in py_files:
        if not os.path.isfile(f) or not f.endswith((".py", ".zip", ".egg")):
            p.error(f"--py-files {f}: not a .py, .zip or .egg file")
    modules = tempfile.mkdtemp(prefix="minimr-py-files-")
    for f in py_files:               # .py files go in a directory, as spark-submit puts them
        if f.endswith(".py"):
            shutil.copy(f, modules)
    path = [os.path.dirname(os.path.abspath(args.script)), modules] + [
        os.path.abspath(f) for f in py_files if not f.endswith(".py")]
    try:
        if args.executor == "spark":
            _use_real_pyspark(conf, py_files)
            sys.path[:0] = path
            return _run(args)
        if "pyspark" in sys.modules:
            p.error("the real pyspark is already imported in this process; run "
                    "minimr-submit in a process of its own")
        from .compat import context
        context.SUBMITTED.update(executor=args.executor, conf=conf)
        sys.path[:0] = [SHIM] + path
        try:
            return _run(args)
        finally:
            running = context.SparkContext._active_spark_context
            if running is not None:                  # the program did not stop it
                running.stop()
    finally:
        shutil.rmtree(modules, ignore_errors=True)


def _use_real_pyspark(conf, py_files):
    """What spark-submit hands PySpark: the master, settings and files, as JVM arguments."""
    from .executors.spark import _SETTINGS, _prepare_environment
    _prepare_environment()
    submit = ["--master", conf.pop("spark.master")]
    if py_files:
        submit += ["--py-files", ",".join(os.path.abspath(f) for f in py_files)]
    for key, value in {**_SETTINGS, **conf}.items():
        submit += ["--conf", f"{key}={value}"]
    os.environ["PYSPARK_SUBMIT_ARGS"] = shlex.join(submit + ["pyspark-shell"])


def _run(args):
    """Run the script; what minimr refuses (an unsupported call, a missing input path...)
    is one line naming the script's line, as spark-submit's errors are one exception."""
    sys.argv = [args.script, *args.args]
    try:
        runpy.run_path(args.script, run_name="__main__")
    except MinimrError as exc:
        notes = "".join(f" ({n})" for n in getattr(exc, "__notes__", ()))
        print(f"minimr-submit: {_where(exc)}{exc}{notes}", file=sys.stderr)
        return 1
    return 0


def _where(exc):
    """ "script.py, line 12: " -- the last frame of the program (not minimr's, not
    Python's import machinery) in the traceback."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        name = os.path.abspath(frame.filename)
        if not name.startswith(_PACKAGE + os.sep) and not frame.filename.startswith("<"):
            return f"{frame.filename}, line {frame.lineno}: "
    return ""


if __name__ == "__main__":
    sys.exit(main())
