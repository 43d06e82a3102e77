"""Checking an input table's records cell by cell and row by row, inside the engine that holds it.

A :class:`TableSpec` says how each column is typed, which row conditions are errors and which key
must be unique. The source is registered with an :class:`~cxroi.data.engine.Engine`; every column
is cast in SQL so that each cell that does not fit is reported with its (1-based) row and column,
and each kind of problem lists its first MAX_LISTED rows and counts the rest. The same checks run
on DuckDB, PostgreSQL and Spark SQL; only counts and the listed rows leave the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from cxroi.data.engine import ROW, Engine, Source
from cxroi.data.schema import Finding
from cxroi.data.sql_dialect import Dialect, quote

#: rows listed per kind of problem; further rows with the same problem are counted in one line
MAX_LISTED = 20

#: logical column types; None keeps a column as read (ids)
LogicalType = Literal["text", "double", "amount", "date", "timestamp"]


@dataclass(frozen=True)
class ColumnSpec:
    """How one input column is typed."""

    logical_type: LogicalType | None
    kind: str  # what a value must be, for messages ("a date", "a number")
    families: tuple[str, ...]  # accepted column types ('number', 'date', 'text'; text is cast cell by cell)
    required_value: bool = True


@dataclass(frozen=True)
class RowRule:
    """A condition on typed values that marks a row as wrong."""

    column: str
    predicate: str  # SQL over the typed columns, true for a bad row
    problem: str  # message; {value} is the raw cell of ``column``


@dataclass(frozen=True)
class TableSpec:
    """An input table: its columns, row rules, unique key (if any) and how to name a row."""

    title: str
    columns: dict[str, ColumnSpec]
    rules: tuple[RowRule, ...]
    key: tuple[str, ...] | None  # columns that identify a record; None: rows may repeat
    subject: str  # SQL expression naming the row's subject in messages
    #: message for a repeated key; {subject}, {count}, {key} (last key column) and {rows}
    repeated: str = "{subject}: {count} rows for {key} (rows {rows})"
    key_text: Callable[[str], str] = str  # the last key column's value (as SQL text) in messages


def _raw(name: str) -> str:
    return quote(f"{name}__raw")


def _sql_type(dialect: Dialect, logical: LogicalType) -> str:
    return {"text": dialect.text, "double": dialect.double, "amount": dialect.amount,
            "date": "DATE", "timestamp": dialect.timestamp}[logical]


def _column_findings(engine: Engine, source: Source, spec: TableSpec) -> list[Finding]:
    """Header problems (another separator, repeated names), missing required columns, unknown
    columns (warnings) and columns of a wrong type."""
    if source.header_problems:
        return source.header_problems
    findings = [Finding("error", None, c, "required column is missing") for c in spec.columns if c not in source.types]
    for column, engine_type in source.types.items():
        cs = spec.columns.get(column)
        kind = source.families[column]
        if cs is None:
            findings.append(Finding("warning", None, column, "unknown column, ignored"))
        elif kind == "null":
            findings.append(Finding("error", None, column, f"has no values (every cell is empty); each value must be {cs.kind}"))
        elif kind not in cs.families or (kind == "text" and cs.logical_type not in (None, "text")
                                         and not engine.casts_text):
            findings.append(Finding("error", None, column, f"has type {engine_type}; each value must be {cs.kind}"))
    return findings


def _register(engine: Engine, source: Source, spec: TableSpec, name: str) -> None:
    """Views ``name`` (typed columns, and each raw cell as ``<column>__raw``) and
    ``<name>_numbered`` (the same with the row number ROW)."""
    parts = []
    for column, cs in spec.columns.items():
        raw = quote(column)
        if cs.logical_type is None:
            parts.append(f"{raw} AS {raw}")
            continue
        typed = engine.dialect.try_cast(raw, _sql_type(engine.dialect, cs.logical_type))
        if cs.logical_type == "text":
            typed = f"trim({typed})"
        parts.append(f"{raw} AS {_raw(column)}, {typed} AS {raw}")
    select = ", ".join(parts)
    order = [*(spec.key or ()), *(c for c in spec.columns if c not in (spec.key or ()))]
    engine.view(name, f"SELECT {select} FROM {source.relation} AS source")
    engine.view(f"{name}_numbered", f"SELECT {ROW}, {select} FROM {source.numbered(engine.dialect, order)} AS source")


def _checks(spec: TableSpec) -> list[RowRule]:
    """Cell checks (empty required cells, values that do not cast) followed by the row rules."""
    checks = []
    for column, cs in spec.columns.items():
        if cs.required_value:
            empty = _raw(column) if cs.logical_type else quote(column)
            checks.append(RowRule(column, f"{empty} IS NULL", "missing value"))
        if cs.logical_type is not None:
            checks.append(RowRule(column, f"{_raw(column)} IS NOT NULL AND {quote(column)} IS NULL",
                                  f"'{{value}}' is not {cs.kind}"))
    return checks + list(spec.rules)


def _cell_text(value: object) -> str:
    """A raw cell for messages: a whole float without '.0', a date or time in ISO form."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rule_findings(engine: Engine, spec: TableSpec, name: str, rule: RowRule, count: int) -> list[Finding]:
    """The first MAX_LISTED rows breaking ``rule`` (row, column, subject), plus a count of the rest."""
    raw = spec.columns.get(rule.column)
    value = (_raw(rule.column) if raw.logical_type else quote(rule.column)) if raw else "NULL"
    rows = engine.rows(
        f"SELECT {ROW}, {spec.subject}, {value} FROM {quote(name + '_numbered')} "
        f"WHERE {rule.predicate} ORDER BY {ROW} LIMIT {MAX_LISTED}"
    )
    findings = [Finding("error", int(row), rule.column,
                        f"{subject or '(no id)'}: {rule.problem.format(value=_cell_text(cell))}")
                for row, subject, cell in rows]
    if count > len(rows):
        findings.append(Finding("error", None, rule.column,
                                f"{count - len(rows)} more row(s): {rule.problem.format(value='…')}"))
    return findings


def _duplicate_findings(engine: Engine, spec: TableSpec, name: str) -> list[Finding]:
    """Rows sharing the key (e.g. customer × month): one finding per repeated key, first MAX_LISTED,
    in the order of each key's second row."""
    keys = ", ".join(quote(k) for k in spec.key)
    present = " AND ".join(f"{quote(k)} IS NOT NULL" for k in spec.key)
    n_keys = engine.rows(f"SELECT count(*) FROM (SELECT {keys} FROM {quote(name)} WHERE {present} "
                         f"GROUP BY {keys} HAVING count(*) > 1) AS repeated")[0][0]
    if not n_keys:
        return []
    listed = engine.rows(
        f"WITH ranked AS (SELECT {ROW}, {spec.subject} AS subject, {keys}, "
        f"count(*) OVER (PARTITION BY {keys}) AS n, row_number() OVER (PARTITION BY {keys} ORDER BY {ROW}) AS nth "
        f"FROM {quote(name + '_numbered')} WHERE {present}), "
        f"firsts AS (SELECT {keys}, {ROW} AS second FROM ranked WHERE n > 1 AND nth = 2 "
        f"ORDER BY {ROW} LIMIT {MAX_LISTED}) "
        f"SELECT firsts.second, ranked.subject, CAST(ranked.{quote(spec.key[-1])} AS {engine.dialect.text}), ranked.{ROW} "
        f"FROM ranked JOIN firsts USING ({keys}) ORDER BY firsts.second, ranked.{ROW}"
    )
    groups: dict[int, tuple[str, str, list[int]]] = {}
    for second, subject, key, row in listed:
        groups.setdefault(int(second), (subject, key, []))[2].append(int(row))
    column = ", ".join(spec.key)
    findings = [Finding("error", rows[1], column,
                        spec.repeated.format(subject=subject, count=len(rows), key=spec.key_text(key),
                                             rows=", ".join(map(str, rows))))
                for subject, key, rows in groups.values()]
    if n_keys > len(groups):
        findings.append(Finding("error", None, column, f"{n_keys - len(groups)} more repeated {column} key(s)"))
    return findings


def check_source(engine: Engine, source: Source, spec: TableSpec, name: str) -> tuple[int, list[Finding]]:
    """Register ``source`` as the typed view ``name`` under ``spec`` and check every row.
    Returns (row count, findings)."""
    if source.empty:
        return 0, [Finding("error", None, None, f"{source.label}: the file holds no data rows")]
    findings = _column_findings(engine, source, spec)
    if any(f.severity == "error" for f in findings):
        return 0, findings
    _register(engine, source, spec, name)
    checks = _checks(spec)
    counts = engine.rows(
        "SELECT count(*), "
        + ", ".join(f"SUM(CASE WHEN {c.predicate} THEN 1 ELSE 0 END)" for c in checks)
        + f" FROM {quote(name)}"
    )[0]
    n_rows = int(counts[0])
    malformed = source.malformed_lines()
    if malformed:  # row numbers past a rejected line would be off: report the lines alone
        return n_rows, findings + malformed
    if not n_rows:
        return 0, [*findings, Finding("error", None, None, f"{source.label}: holds no data rows")]
    for rule, count in zip(checks, counts[1:], strict=True):
        if count:
            findings += _rule_findings(engine, spec, name, rule, int(count))
    if spec.key:
        findings += _duplicate_findings(engine, spec, name)
    return n_rows, findings


def inspect(
    engine: Engine, location: str, name: str, spec_for: Callable[[list[str]], TableSpec]
) -> tuple[Source, TableSpec, int, list[Finding]]:
    """Register ``location`` (path, table or query) as view ``name`` and check it against
    ``spec_for(its columns)``. Returns (source, spec, row count, findings); raises DataError
    naming the source when it cannot be read."""
    try:
        source = engine.source(name, location)
        spec = spec_for(list(source.types))
        return source, spec, *check_source(engine, source, spec, name)
    except engine.errors as exc:
        raise engine.read_error(location, exc) from exc
