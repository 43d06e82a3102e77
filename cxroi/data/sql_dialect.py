"""The few SQL spellings that differ between DuckDB, PostgreSQL and Spark SQL.

Everything else in the ingestion SQL (cxroi/data/panel_sql.py, the record checks) is written once
in the subset the three engines share: CASE, COALESCE, window functions, DATE literals,
``CAST(date_trunc('month', x) AS DATE)``, ``NULLS FIRST``. A :class:`Dialect` renders the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    """SQL spellings of one engine. Type names are the engine's names for the logical types."""

    text: str  # variable-length text
    double: str  # 64-bit float
    amount: str  # exact decimal with two places (currency, to the cent)
    timestamp: str  # date and time without time zone
    #: exact integer division a // b (both ≥ 0, b > 0)
    int_div: Callable[[str, str], str]
    #: whole days from date a to date b (b − a)
    day_diff: Callable[[str, str], str]
    #: day of the month (1–31) of a date
    day_of_month: Callable[[str], str]
    #: ``expr`` cast to ``sql_type``, NULL where the value does not fit (text that is no number,
    #: a number out of the type's range)
    try_cast: Callable[[str, str], str]
    #: text sorted byte by byte, the same order in every engine
    binary_order: Callable[[str], str]
    #: backslashes are escape characters in string literals (Spark)
    backslash_escapes: bool = False

    def literal(self, text: str) -> str:
        """A SQL string literal holding ``text`` exactly."""
        if self.backslash_escapes:
            text = text.replace("\\", "\\\\")
        return "'" + text.replace("'", "''") + "'"


def _postgres_try_cast(expr: str, sql_type: str) -> str:
    """PostgreSQL has no TRY_CAST. Its sources are typed tables (a column of the wrong kind is
    refused before any cast), so the only values that do not fit are numbers out of range."""
    if sql_type.startswith("NUMERIC"):
        return f"CASE WHEN {expr} BETWEEN -1e15 AND 1e15 THEN CAST({expr} AS {sql_type}) END"
    return f"CAST({expr} AS {sql_type})"


DUCKDB = Dialect(
    text="VARCHAR", double="DOUBLE", amount="DECIMAL(18,2)",
    timestamp="TIMESTAMP",
    int_div=lambda a, b: f"(({a}) // ({b}))",
    day_diff=lambda a, b: f"date_diff('day', {a}, {b})",
    day_of_month=lambda x: f"day({x})",
    try_cast=lambda expr, sql_type: f"TRY_CAST({expr} AS {sql_type})",
    binary_order=lambda x: x,
)

POSTGRES = Dialect(
    text="TEXT", double="DOUBLE PRECISION", amount="NUMERIC(18,2)",
    timestamp="TIMESTAMP",
    int_div=lambda a, b: f"(CAST({a} AS BIGINT) / CAST({b} AS BIGINT))",
    day_diff=lambda a, b: f"({b} - {a})",
    day_of_month=lambda x: f"CAST(extract(day FROM {x}) AS INTEGER)",
    try_cast=_postgres_try_cast,
    binary_order=lambda x: f'{x} COLLATE "C"',
)

SPARK = Dialect(
    text="STRING", double="DOUBLE", amount="DECIMAL(18,2)",
    timestamp="TIMESTAMP",
    int_div=lambda a, b: f"(({a}) div ({b}))",
    day_diff=lambda a, b: f"datediff({b}, {a})",
    day_of_month=lambda x: f"dayofmonth({x})",
    try_cast=lambda expr, sql_type: f"try_cast({expr} AS {sql_type})",
    binary_order=lambda x: x,
    backslash_escapes=True,
)


def month_start(expr: str) -> str:
    """The first day of the calendar month of a date or timestamp, as a DATE (all engines)."""
    return f"CAST(date_trunc('month', {expr}) AS DATE)"


def quote(name: str) -> str:
    """A column or view name quoted for SQL ('"'; Spark sessions are set to read double quotes as
    identifiers, as the ANSI standard does)."""
    return '"' + name.replace('"', '""') + '"'
