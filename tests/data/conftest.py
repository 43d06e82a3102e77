"""Engines for the ingestion tests: one local Spark session for the whole test session (the
Spark tests share one xdist group, so one worker starts it), and loading tables into a
PostgreSQL test database."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pytest

#: master URL of the test session: local mode on the machine's two cores
SPARK_URL = "local[2]"
#: PostgreSQL column types for the Arrow types of the test tables
_POSTGRES_TYPES = {
    pa.int64(): "BIGINT", pa.int8(): "SMALLINT", pa.string(): "TEXT", pa.large_string(): "TEXT", pa.date32(): "DATE",
    pa.timestamp("s"): "TIMESTAMP", pa.decimal128(18, 2): "NUMERIC(18,2)", pa.float64(): "DOUBLE PRECISION",
}


@pytest.fixture(scope="session")
def spark_session() -> Iterator[object]:
    """A local SparkSession (UI off, few shuffle partitions), stopped after the test session.
    Engines opened on SPARK_URL work in their own sessions of its context."""
    from pyspark.sql import SparkSession

    from cxroi.data.spark_engine import LOCAL_SHUFFLE_PARTITIONS

    session = (SparkSession.builder.master(SPARK_URL).appName("cxroi-tests")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", str(LOCAL_SHUFFLE_PARTITIONS)).getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def load_postgres(url: str, tables: dict[str, pa.Table]) -> None:
    """Create each table in the database of ``url`` (SQLAlchemy URL) and copy its rows in."""
    import psycopg
    from sqlalchemy.engine import make_url

    parts = make_url(url)
    with psycopg.connect(host=parts.query["host"], port=int(parts.query["port"]), user=parts.username,
                         dbname=parts.database, autocommit=True) as connection:
        for name, table in tables.items():
            columns = ", ".join(f"{field.name} {_POSTGRES_TYPES[field.type]}" for field in table.schema)
            connection.execute(f"CREATE TABLE {name} ({columns})")
            with connection.cursor().copy(f"COPY {name} FROM STDIN") as copy:
                for row in zip(*(table.column(i).to_pylist() for i in range(table.num_columns)), strict=True):
                    copy.write_row(row)
