"""Spark SQL: the sources are tables of the session's catalog, Parquet or CSV paths (a file or a
folder, local or in a data lake) or queries; every check and the aggregation run in Spark, and
only counts and listed rows come back to Python.

``url`` is a master URL (``local[*]``, ``spark://host:7077``, ``yarn``) or a Spark Connect URL
(``sc://host:15002``). The session reads double-quoted names as identifiers (ANSI) and works in
UTC. Each engine works in its own session of the shared Spark context, so aggregations in one
process do not see each other's views; a context the engine started is stopped when it closes.
"""

from __future__ import annotations

from cxroi.data.engine import Engine, Source, is_query, is_table_name
from cxroi.data.schema import header_findings
from cxroi.data.sql_dialect import SPARK, quote
from cxroi.errors import DataError

#: shuffle partitions of a local session: the panel's groups are few and small
LOCAL_SHUFFLE_PARTITIONS = 8
_FAMILIES = {
    "number": ("tinyint", "smallint", "int", "bigint", "decimal", "float", "double", "byte", "short", "long"),
    "date": ("date", "timestamp", "timestamp_ntz", "timestamp_ltz"),
    "text": ("string", "varchar", "char"),
}


def family(spark_type: str) -> str:
    """'number', 'date', 'text', 'null' (no values) or 'other' for a Spark type as
    ``DataFrame.dtypes`` spells it."""
    base = spark_type.split("(")[0].strip().lower()
    if base == "void":
        return "null"
    return next((kind for kind, names in _FAMILIES.items() if base in names), "other")


def is_path(location: str) -> bool:
    """A file or folder (anything with a '/', e.g. a URL such as s3a://lake/subs) or a .parquet or
    .csv file name; table names never hold a '/'."""
    return "/" in location or location.lower().endswith((".parquet", ".csv"))


class SparkEngine(Engine):
    """A Spark session on ``url`` (see module docstring)."""

    dialect = SPARK

    def __init__(self, url: str):
        try:
            from py4j.protocol import Py4JError
            from pyspark import SparkContext
            from pyspark.errors import PySparkException
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise DataError("the spark engine needs pyspark: pip install -e '.[spark]'") from exc
        self.errors = (PySparkException, Py4JError)
        self._cached: list[str] = []
        self._owns_context = False
        try:
            if url.startswith("sc://"):
                self.session = SparkSession.builder.remote(url).getOrCreate()
            else:
                self._owns_context = SparkContext._active_spark_context is None
                shared = (SparkSession.builder.master(url).appName("cxroi")
                          .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                          .config("spark.sql.shuffle.partitions", str(LOCAL_SHUFFLE_PARTITIONS))
                          .getOrCreate())
                if self._owns_context:
                    shared.sparkContext.setLogLevel("ERROR")
                self.session = shared.newSession()
            self.session.conf.set("spark.sql.session.timeZone", "UTC")
            self.session.conf.set("spark.sql.ansi.enabled", "true")
            self.session.conf.set("spark.sql.ansi.doubleQuotedIdentifiers", "true")
        except (*self.errors, RuntimeError, OSError) as exc:
            raise DataError(f"cannot start Spark on '{url}': {self.error_text(exc)} (is Java 17 or later installed?)") from exc

    def rows(self, sql: str) -> list[tuple]:
        return [tuple(row) for row in self.session.sql(sql).collect()]

    def execute(self, sql: str) -> None:
        self.session.sql(sql)

    def materialize(self, name: str, sql: str) -> None:
        self.session.sql(f"CACHE TABLE {quote(name)} AS {sql}")
        self._cached.append(name)

    def close(self) -> None:
        for name in self._cached:
            self.session.sql(f"UNCACHE TABLE IF EXISTS {quote(name)}")
        if self._owns_context:
            self.session.stop()

    def source(self, name: str, location: str) -> Source:
        location = location.strip()
        if is_query(location):
            label = "query"
        elif is_path(location):
            label = location.rstrip("/").rsplit("/", 1)[-1]
        elif is_table_name(location):
            label = location
        else:
            raise DataError(f"'{location}' is neither a table name, a path nor a query (SELECT …)")
        try:
            if is_query(location):
                frame = self.session.sql(location)
            elif is_path(location):
                reader = self.session.read
                frame = (reader.option("header", "true").csv(location) if location.lower().endswith(".csv")
                         else reader.parquet(location))
            else:
                frame = self.session.table(location)
            frame.createOrReplaceTempView(f"{name}_source")
            types = dict(frame.dtypes)
        except self.errors as exc:
            raise DataError(f"{label}: could not be read ({self.error_text(exc)})") from exc
        return Source(label, quote(f"{name}_source"), types, {c: family(t) for c, t in types.items()},
                      header_findings(list(frame.columns)))
