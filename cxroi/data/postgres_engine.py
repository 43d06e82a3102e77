"""PostgreSQL: the sources are tables (or queries) in the database a SQLAlchemy URL names; every
check and the aggregation run inside it, and only counts and listed rows come back.

All work happens in one transaction on one connection, rolled back at the end: the temporary
views and tables it creates vanish and nothing in the database changes. The session's time zone
is UTC, so a ``timestamp with time zone`` falls in its UTC calendar month.
"""

from __future__ import annotations

from cxroi.data.engine import Engine, Source, is_query, is_table_name
from cxroi.data.schema import header_findings
from cxroi.data.sql_dialect import POSTGRES, quote
from cxroi.errors import DataError

_FAMILIES = {
    "number": ("smallint", "integer", "bigint", "numeric", "real", "double precision"),
    "date": ("date", "timestamp without time zone", "timestamp with time zone"),
    "text": ("text", "character varying", "character"),
}


def family(postgres_type: str) -> str:
    """'number', 'date', 'text' or 'other' for a PostgreSQL type as ``format_type`` spells it."""
    base = postgres_type.split("(")[0].strip()
    base = {"timestamp": "timestamp without time zone", "time": "other"}.get(base, base)
    if postgres_type.endswith("with time zone") and base.startswith("timestamp"):
        base = "timestamp with time zone"
    return next((kind for kind, names in _FAMILIES.items() if base in names), "other")


class PostgresEngine(Engine):
    """One connection to the database of ``url`` (``postgresql+psycopg://user@host/db``)."""

    dialect = POSTGRES
    casts_text = False

    def __init__(self, url: str):
        try:
            import sqlalchemy
            from sqlalchemy.pool import NullPool
        except ImportError as exc:  # pragma: no cover - SQLAlchemy is a core dependency
            raise DataError("the postgres engine needs SQLAlchemy") from exc
        self.errors = (sqlalchemy.exc.SQLAlchemyError,)
        try:
            self._engine = sqlalchemy.create_engine(url, poolclass=NullPool)
            self.connection = self._engine.connect()
        except ModuleNotFoundError as exc:
            raise DataError("the postgres engine needs a PostgreSQL driver: pip install -e '.[postgres]'") from exc
        except sqlalchemy.exc.ArgumentError as exc:
            raise DataError(f"'{url}' is not a database URL (e.g. postgresql+psycopg://user@host/db)") from exc
        except sqlalchemy.exc.SQLAlchemyError as exc:
            raise DataError(f"cannot connect to the database: {self.error_text(exc.orig or exc)}") from exc
        if self._engine.dialect.name != "postgresql":
            self.close()
            raise DataError(f"'{url}' is not a PostgreSQL URL")
        self.connection.exec_driver_sql("SET TIME ZONE 'UTC'")

    def rows(self, sql: str) -> list[tuple]:
        return [tuple(row) for row in self.connection.exec_driver_sql(sql).fetchall()]

    def execute(self, sql: str) -> None:
        self.connection.exec_driver_sql(sql)

    def materialize(self, name: str, sql: str) -> None:
        self.execute(f"DROP TABLE IF EXISTS {quote(name)}")
        self.execute(f"CREATE TEMPORARY TABLE {quote(name)} AS {sql}")
        self.execute(f"ANALYZE {quote(name)}")

    def close(self) -> None:
        if hasattr(self, "connection"):
            self.connection.rollback()
            self.connection.close()
        self._engine.dispose()

    def error_text(self, exc: Exception) -> str:
        return super().error_text(getattr(exc, "orig", None) or exc)

    def source(self, name: str, location: str) -> Source:
        if is_query(location):
            label, select = "query", location
        elif is_table_name(location):
            label, select = location.strip(), f"SELECT * FROM {location.strip()}"
        else:
            raise DataError(f"'{location}' is neither a table name nor a query (SELECT …)")
        raw = f"{name}_source"
        savepoint = self.connection.begin_nested()
        try:
            self.view(raw, select)
        except self.errors as exc:
            savepoint.rollback()
            raise DataError(f"{label}: could not be read ({self.error_text(exc)})") from exc
        savepoint.commit()
        described = self.rows(f"SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                              f"WHERE attrelid = {self.dialect.literal(quote(raw))}::regclass "
                              f"AND attnum > 0 AND NOT attisdropped ORDER BY attnum")
        types = {str(column): str(kind) for column, kind in described}
        return Source(label, quote(raw), types, {c: family(t) for c, t in types.items()}, header_findings(list(types)))
