"""Where the ingestion SQL runs: DuckDB (files, embedded), PostgreSQL (tables, pushed down) or
Spark SQL (tables and data lakes). Each engine registers input sources as views, runs the SQL the
builders write in its :class:`~cxroi.data.sql_dialect.Dialect`, and hands back small results only.

A source is given as a file path (DuckDB, Spark), a table name (PostgreSQL, Spark) or a query
(``SELECT …`` / ``WITH …``, every engine).
"""

from __future__ import annotations

import contextlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cxroi.data.schema import Finding
from cxroi.data.sql_dialect import Dialect, quote
from cxroi.errors import DataError

ENGINES = ("duckdb", "postgres", "spark")
#: name of the 1-based row number column of numbered relations
ROW = "cxroi_row"
_QUERY = re.compile(r"\s*\(?\s*(select|with)\b", re.IGNORECASE)
_TABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}")


def is_query(location: str) -> bool:
    """True for a source written as a query (SELECT … or WITH …)."""
    return bool(_QUERY.match(location))


def is_table_name(location: str) -> bool:
    """True for a plain (optionally schema-qualified) table name such as ``crm.subscriptions``."""
    return bool(_TABLE.fullmatch(location.strip()))


def source_label(location: str) -> str:
    """How messages name a source: 'query', a file's name, or the table name."""
    return "query" if is_query(location) else Path(location.strip()).name


@dataclass
class Source:
    """One input registered with an engine.

    ``relation`` is a SQL FROM item over its raw rows, ``types`` the engine's type name of each
    column and ``families`` their kind ('number', 'date', 'text' or 'other'). Rows are numbered
    from 1: a file's own rows when ``file_rows`` (DuckDB files), otherwise in the order of the
    columns given to :meth:`numbered` (tables and queries have no row order of their own).
    """

    label: str
    relation: str
    types: dict[str, str]
    families: dict[str, str]
    header_problems: list[Finding] = field(default_factory=list)
    empty: bool = False  # known to hold no rows before any scan (Parquet metadata)
    file_rows: str | None = None  # FROM item with the file's row numbers in column ROW
    malformed_lines: Callable[[], list[Finding]] = list  # CSV lines the reader rejected

    def numbered(self, dialect: Dialect, order: list[str]) -> str:
        """A FROM item over the raw rows with their 1-based number in column ROW."""
        if self.file_rows is not None:
            return self.file_rows
        keys = ", ".join(
            f"{dialect.binary_order(quote(c)) if self.families.get(c) == 'text' else quote(c)} NULLS FIRST"
            for c in order
        )
        return f"(SELECT row_number() OVER (ORDER BY {keys}) AS {ROW}, * FROM {self.relation} AS unnumbered)"


class Engine(ABC):
    """A connection to one engine for one aggregation; close it (or use it as a context manager)."""

    dialect: Dialect
    #: exceptions the engine raises for a failed statement
    errors: tuple[type[Exception], ...] = ()
    #: text columns can be cast cell by cell (TRY_CAST); PostgreSQL needs typed columns instead
    casts_text: bool = True

    @abstractmethod
    def rows(self, sql: str) -> list[tuple]:
        """Run a query and return all its rows (keep results small)."""

    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run a statement that returns nothing."""

    @abstractmethod
    def source(self, name: str, location: str) -> Source:
        """Register ``location`` (path, table or query) as the raw view ``name``. DataError when
        it cannot be read."""

    def read_error(self, location: str, exc: Exception) -> DataError:
        """A plain error for a source that failed while it was registered or checked."""
        label = "query" if is_query(location) else location
        return DataError(f"{label}: could not be read ({self.error_text(exc)})")

    @abstractmethod
    def materialize(self, name: str, sql: str) -> None:
        """Compute ``sql`` once and keep it as the temporary relation ``name``."""

    def view(self, name: str, sql: str) -> None:
        self.execute(f"CREATE OR REPLACE TEMPORARY VIEW {quote(name)} AS {sql}")

    def progress(self) -> float:
        """Completion of the running query in percent, or −1 when unknown."""
        return -1.0

    def close(self) -> None:  # noqa: B027 - engines without resources need no cleanup
        """Release the connection and everything registered on it."""

    def error_text(self, exc: Exception) -> str:
        """The first line of an engine error, for messages."""
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@contextlib.contextmanager
def open_engine(name: str = "duckdb", url: str | None = None) -> Iterator[Engine]:
    """An engine by name: 'duckdb' (``url`` unused), 'postgres' (``url``: a SQLAlchemy URL,
    required) or 'spark' (``url``: a master URL such as ``local[2]`` or ``spark://host:7077``, or a
    Spark Connect URL ``sc://host:15002``; default ``local[*]``). Closed on exit."""
    if name == "duckdb":
        from cxroi.data.duckdb_engine import DuckDBEngine

        engine: Engine = DuckDBEngine()
    elif name == "postgres":
        from cxroi.data.postgres_engine import PostgresEngine

        if not url:
            raise DataError("--url is required with the postgres engine (a SQLAlchemy URL such as "
                            "postgresql+psycopg://user@host/db)")
        engine = PostgresEngine(url)
    elif name == "spark":
        from cxroi.data.spark_engine import SparkEngine

        engine = SparkEngine(url or "local[*]")
    else:
        raise DataError(f"unknown engine '{name}'; use one of {', '.join(ENGINES)}")
    try:
        yield engine
    finally:
        engine.close()
