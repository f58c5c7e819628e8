"""minimr's stand-in for pyspark, found first on sys.path while minimr-submit runs a
program on minimr's executors: PySpark's names, minimr's objects (minimr/compat/modules.py
has the table; anything else is refused with one line)."""

import sys

from minimr.compat.modules import install

install(sys.modules[__name__])
