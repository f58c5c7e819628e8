"""A directory for ``sys.path``, holding only the stand-in ``pyspark`` package.

minimr-submit puts this directory first on ``sys.path`` for the run of a program on
minimr's executors (never the directories above it: ``minimr/io.py`` would then shadow
the standard library's ``io``). See minimr/compat/__init__.py.
"""
