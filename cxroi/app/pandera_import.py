"""pandera without pandas-on-Spark, for the app's process.

pandera imports ``pyspark.pandas`` whenever pyspark is installed (the ``spark`` extra, used by
``cxroi data aggregate --engine spark``) so that it can validate pandas-on-Spark frames. The app
validates pandas frames only, and that import is the largest single cost of its first page: about
0.3 s of CPU with bytecode cached, 1 s without (``benchmarks/README.md``). pandera treats a failed
import of pyspark as "not installed", so hiding pyspark while pandera is imported saves it; pyspark
stays importable afterwards.
"""

from __future__ import annotations

import importlib
import sys


def import_pandera_without_spark() -> None:
    """Import ``pandera.pandas`` with pyspark hidden (``import pyspark`` fails meanwhile). Does
    nothing when pandera or pyspark is imported already."""
    if "pandera" in sys.modules or "pyspark" in sys.modules:
        return
    sys.modules["pyspark"] = None  # an import of pyspark or of any of its modules raises ImportError
    try:
        importlib.import_module("pandera.pandas")
    finally:
        del sys.modules["pyspark"]
