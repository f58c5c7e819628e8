"""SparkConf: a program's settings as string key-value pairs, with PySpark's methods.

    conf = SparkConf().setAppName("wordcount").setMaster("local[2]").set("spark.task.maxFailures", "8")
    conf.get("spark.app.name")  -> "wordcount"        conf.getAll() -> [(key, value), ...]

Context.getConf() returns one (a copy: changing it changes nothing), and the
PySpark-compatibility layer passes a program's own SparkConf to the Context. Values are
kept as strings, as in Spark. `settings`, `int_setting` and `setting` are how the Context
reads the settings it is given.
"""

import re

from .errors import MinimrError, positive


def settings(conf) -> "SparkConf":
    """A new SparkConf holding `conf`'s settings: a SparkConf (minimr's or PySpark's), a
    dict of "spark.*" settings, or None."""
    if conf is not None and not isinstance(conf, dict) and not hasattr(conf, "getAll"):
        raise MinimrError(f"conf must be a SparkConf or a dict, got a {type(conf).__name__}")
    pairs = [] if conf is None else list(conf.items() if isinstance(conf, dict) else conf.getAll())
    for key, _ in pairs:
        if not str(key).startswith("spark."):
            raise MinimrError(f"conf: {key!r} is not a Spark setting (they start with \"spark.\")")
    return SparkConf().setAll(pairs)


def int_setting(conf, key, default):
    """A setting that must be a positive integer, or `default` if it is not set."""
    value = conf.get(key)
    return default if value is None else positive(int(value) if value.strip().isdigit() else value, key)


def setting(conf, key, given, default):
    """A keyword argument if given, else the program's setting `key` read as Spark reads
    it (like `default`: "true"/"false", a number, or a time "100ms", "2s"...), else default."""
    value = conf.get(key)
    if given is not None or value is None:
        return default if given is None else given
    value = value.strip().lower()
    if isinstance(default, bool):
        return {"true": True, "false": False}.get(value, value)
    number = re.fullmatch(r"([0-9.]+)(ms|s|m|min|h)?", value) if key.endswith("Runtime") else None
    if number:            # a time: Spark's unit for a bare number is milliseconds
        return float(number[1]) * {"ms": 1e-3, "s": 1, "m": 60, "min": 60, "h": 3600}[number[2] or "ms"]
    try:
        return float(value)
    except ValueError:
        return value                  # the caller's check names it


class SparkConf:
    """
    >>> conf = SparkConf().setAppName("wc").set("spark.task.maxFailures", 8)
    >>> conf.get("spark.task.maxFailures"), conf.contains("spark.master"), conf.get("x", "d")
    ('8', False, 'd')
    """

    def __init__(self, loadDefaults=True, _jvm=None, _jconf=None):
        self._settings = {}

    def set(self, key, value):
        self._settings[key] = str(value)
        return self

    def setIfMissing(self, key, value):
        if key not in self._settings:
            self.set(key, value)
        return self

    def setMaster(self, value):
        return self.set("spark.master", value)

    def setAppName(self, value):
        return self.set("spark.app.name", value)

    def setSparkHome(self, value):
        return self.set("spark.home", value)

    def setExecutorEnv(self, key=None, value=None, pairs=None):
        for k, v in (pairs or []) + ([(key, value)] if key is not None else []):
            self.set("spark.executorEnv." + k, v)
        return self

    def setAll(self, pairs):
        for k, v in pairs:
            self.set(k, v)
        return self

    def get(self, key, defaultValue=None):
        return self._settings.get(key, defaultValue)

    def getAll(self):
        return list(self._settings.items())

    def contains(self, key):
        return key in self._settings

    def toDebugString(self):
        return "\n".join(f"{k}={v}" for k, v in sorted(self._settings.items()))
