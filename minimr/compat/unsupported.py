"""What the PySpark stand-in refuses, and how: one line naming the call, at the call.

    df.show()                 UnsupportedCall: DataFrame.show is not supported on ...
    import pyspark.ml         UnsupportedModule: pyspark.ml is not supported on ...
    from pyspark import X     the same, for any name the stand-in does not have

``UnsupportedCall`` is an AttributeError (``hasattr`` and ``getattr(x, name, default)``
still work), ``UnsupportedModule`` an ImportError; both are ``Unsupported``, which
minimr-submit prints as one line with the script's file and line.
"""

from ..errors import MinimrError

HINT = ("which run PySpark's RDD API (SparkContext, RDD, broadcast, accumulators, "
        "spark.read.text(...).rdd); run this program with --executor spark")


class Unsupported(MinimrError):
    """A PySpark call outside what minimr's executors run."""


class UnsupportedCall(Unsupported, AttributeError):
    pass


class UnsupportedModule(Unsupported, ImportError):
    pass


def message(name):
    return f"{name} is not supported on minimr's executors, {HINT}"


def refuse_attribute(owner, name):
    """For a class's or a module's __getattr__: dunder and private names stay plain
    AttributeErrors (Python asks for those on its own); public ones name the call."""
    if name.startswith("__"):
        return AttributeError(name)
    return UnsupportedCall(message(f"{owner}.{name}"))


class RefusingFinder:
    """A sys.meta_path finder, consulted last: any module under `prefix` that the
    stand-in does not provide (pyspark.ml, pyspark.sql.functions ...) is refused with
    one line, instead of Python's "No module named ...". """

    def __init__(self, prefix, provided):
        self.prefix, self.provided = prefix, provided

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith(self.prefix + ".") and fullname not in self.provided:
            public = "pyspark" + fullname[len(self.prefix):]
            raise UnsupportedModule(message(public))
        return None
