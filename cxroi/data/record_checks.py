"""Checking a CSV or Parquet table's records in DuckDB, cell by cell and row by row.

A :class:`TableSpec` says how each column is typed, which row conditions are errors and which key
must be unique. The file is read by DuckDB directly; every column is cast with TRY_CAST so that each
cell that does not fit is reported with its (1-based data) row and column, and each kind of problem
lists its first MAX_LISTED rows and counts the rest.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from cxroi.data.readers import detect_format, unclosed_quote
from cxroi.data.schema import Finding, header_findings
from cxroi.errors import DataError

#: rows listed per kind of problem; further rows with the same problem are counted in one line
MAX_LISTED = 20
#: name of the 1-based data row number column added to the numbered views
ROW = "cxroi_row"
#: bytes read from the start of a CSV file to check that it is UTF-8 text and to read its header
HEAD_BYTES = 1 << 16

_TYPE_FAMILIES = {
    "number": ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
               "UBIGINT", "UHUGEINT", "DECIMAL", "FLOAT", "DOUBLE", "BOOLEAN"),
    "date": ("DATE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMPTZ"),
    "text": ("VARCHAR",),
}


@dataclass(frozen=True)
class ColumnSpec:
    """How one input column is typed. ``sql_type`` None keeps the column as read (ids)."""

    sql_type: str | None
    kind: str  # what a value must be, for messages ("a date", "a number")
    families: tuple[str, ...]  # accepted Parquet type families (text is cast cell by cell)
    required_value: bool = True


@dataclass(frozen=True)
class RowRule:
    """A condition on typed values that marks a row as wrong."""

    column: str
    predicate: str  # SQL over the typed columns, true for a bad row
    problem: str  # message; {value} is the raw cell of ``column``


@dataclass(frozen=True)
class TableSpec:
    """An input table: its columns, row rules, unique key and how to name a row's subject."""

    title: str
    columns: dict[str, ColumnSpec]
    rules: tuple[RowRule, ...]
    key: tuple[str, str]
    subject: str  # SQL expression naming the row's subject in messages


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _raw(name: str) -> str:
    return quote(f"{name}__raw")


def _family(duckdb_type: str) -> str:
    """'number', 'date', 'text' or 'other' (lists, structs, …) for a DuckDB type name."""
    name = duckdb_type.upper()
    base = name.split("(")[0].split(" ")[0]  # DECIMAL(18,2) → DECIMAL, TIMESTAMP WITH TIME ZONE → TIMESTAMP
    for family, names in _TYPE_FAMILIES.items():
        if base in names and not name.endswith("]"):
            return family
    return "other"


def _csv_header(path: Path) -> list[str]:
    """The header cells of a CSV file; raises DataError when its start is not UTF-8 text."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        text = "\x00"
    if "\x00" in text:  # UTF-16 and binary files hold NUL bytes
        raise DataError(f"{path.name}: not UTF-8 text; save the file as CSV in UTF-8")
    try:
        return [cell.strip() for cell in next(csv.reader(io.StringIO(text)), [])]
    except csv.Error:
        return []  # a broken header line is reported by the reader


class _Table:
    """One input file registered in DuckDB as two views: ``<name>`` (typed) and
    ``<name>_numbered`` (typed, with the 1-based data row number ``ROW``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, name: str):
        self.con, self.path, self.name = con, path, name
        fmt = detect_format(path.name)
        if fmt == "excel":
            raise DataError(f"{path.name}: use a .csv or .parquet file")
        location = _literal(str(path))
        self.rejects: str | None = None
        if fmt == "csv":  # every column as text, cast in SQL so that each bad cell can be reported
            self.header_problems = header_findings(_csv_header(path))
            self.rejects = f"{name}_rejects"  # malformed lines (wrong number of fields, broken quotes)
            self.source = (f"read_csv({location}, header = true, all_varchar = true, delim = ',', quote = '\"', "
                           f"escape = '\"', store_rejects = true, rejects_table = '{self.rejects}', "
                           f"rejects_scan = '{name}_scans')")
            self.numbered_source = f"(SELECT row_number() OVER () AS {ROW}, * FROM {self.source})"
        else:
            self.source = f"read_parquet({location})"
            self.numbered_source = (f"(SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS {ROW} "
                                    f"FROM read_parquet({location}, file_row_number = true))")
        described = con.execute(f"DESCRIBE SELECT * FROM {self.source}").fetchall()
        self.types = {str(row[0]): str(row[1]) for row in described}
        if fmt == "parquet":  # readable, as DuckDB just described it; its own names, repeats included
            self.header_problems = header_findings(pq.read_schema(path).names)
        #: a Parquet file without rows (its row count is in the file's metadata)
        self.empty = fmt == "parquet" and con.execute(f"SELECT count(*) = 0 FROM {self.source}").fetchall()[0][0]

    def malformed_lines(self) -> list[Finding]:
        """CSV lines the reader rejected during the scans so far (first MAX_LISTED, then a count)."""
        if self.rejects is None:
            return []
        lines = self.con.execute(
            f"SELECT DISTINCT line, error_type FROM {self.rejects} ORDER BY line"
        ).fetchall()
        width = f" (the header has {len(self.types)} columns)"
        findings = [Finding("error", int(line) - 1, None,
                            f"malformed line {line}: {kind.lower()}{width if 'COLUMNS' in kind else ''}")
                    for line, kind in lines[:MAX_LISTED]]
        if len(lines) > MAX_LISTED:
            findings.append(Finding("error", None, None, f"{len(lines) - MAX_LISTED} more malformed line(s)"))
        return findings

    def register(self, spec: TableSpec) -> None:
        """Create the typed views for the columns of ``spec`` (all present in the file)."""
        parts = []
        for column, cs in spec.columns.items():
            raw = quote(column)
            if cs.sql_type is None:
                parts.append(f"{raw} AS {quote(column)}")
                continue
            typed = f"TRY_CAST({raw} AS {cs.sql_type})"
            if cs.sql_type == "VARCHAR":
                typed = f"trim({typed})"
            parts.append(f"{raw} AS {_raw(column)}, {typed} AS {quote(column)}")
        select = ", ".join(parts)
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {self.name} AS SELECT {select} FROM {self.source}")
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {self.name}_numbered AS "
                         f"SELECT {ROW}, {select} FROM {self.numbered_source}")


def _column_findings(table: _Table, spec: TableSpec) -> list[Finding]:
    """Header problems (another separator, repeated names), missing required columns, unknown
    columns (warnings) and Parquet columns of a wrong type."""
    if table.header_problems:
        return table.header_problems
    findings = [Finding("error", None, c, "required column is missing") for c in spec.columns if c not in table.types]
    for column, duckdb_type in table.types.items():
        cs = spec.columns.get(column)
        if cs is None:
            findings.append(Finding("warning", None, column, "unknown column, ignored"))
        elif duckdb_type.strip('"') == "NULL":  # a Parquet column written without any value
            findings.append(Finding("error", None, column, f"has no values (every cell is empty); each value must be {cs.kind}"))
        elif _family(duckdb_type) not in cs.families:
            findings.append(Finding("error", None, column, f"has type {duckdb_type}; each value must be {cs.kind}"))
    return findings


def _checks(spec: TableSpec) -> list[RowRule]:
    """Cell checks (empty required cells, values that do not cast) followed by the row rules."""
    checks = []
    for column, cs in spec.columns.items():
        if cs.required_value:
            checks.append(RowRule(column, f"{_raw(column) if cs.sql_type else quote(column)} IS NULL", "missing value"))
        if cs.sql_type is not None:
            checks.append(RowRule(column, f"{_raw(column)} IS NOT NULL AND {quote(column)} IS NULL",
                                  f"'{{value}}' is not {cs.kind}"))
    return checks + list(spec.rules)


def _rule_findings(table: _Table, spec: TableSpec, rule: RowRule, count: int) -> list[Finding]:
    """The first MAX_LISTED rows breaking ``rule`` (row, column, subject), plus a count of the rest."""
    value = _raw(rule.column) if rule.column in spec.columns and spec.columns[rule.column].sql_type else "NULL"
    rows = table.con.execute(
        f"SELECT {ROW}, {spec.subject}, CAST({value} AS VARCHAR) FROM {table.name}_numbered "
        f"WHERE {rule.predicate} ORDER BY {ROW} LIMIT {MAX_LISTED}"
    ).fetchall()
    findings = [Finding("error", int(row), rule.column, f"{subject or '(no id)'}: {rule.problem.format(value=raw)}")
                for row, subject, raw in rows]
    if count > len(rows):
        findings.append(Finding("error", None, rule.column,
                                f"{count - len(rows)} more row(s): {rule.problem.format(value='…')}"))
    return findings


def _duplicate_findings(table: _Table, spec: TableSpec) -> list[Finding]:
    """Rows sharing the key (e.g. customer × month): one finding per repeated key, first MAX_LISTED."""
    a, b = (quote(k) for k in spec.key)
    repeated = (f"SELECT {a}, {b}, count(*) AS n FROM {table.name} WHERE {a} IS NOT NULL AND {b} IS NOT NULL "
                f"GROUP BY {a}, {b} HAVING count(*) > 1")
    n_keys = table.con.execute(f"SELECT count(*) FROM ({repeated})").fetchall()[0][0]
    if not n_keys:
        return []
    listed = table.con.execute(
        f"WITH repeated AS ({repeated}) "
        f"SELECT {spec.subject} AS subject, strftime({b}, '%Y-%m') AS month, list({ROW} ORDER BY {ROW}) AS rows "
        f"FROM {table.name}_numbered SEMI JOIN repeated USING ({a}, {b}) "
        f"GROUP BY ALL ORDER BY rows[2] LIMIT {MAX_LISTED}"
    ).fetchall()
    column = ", ".join(spec.key)
    findings = [Finding("error", int(rows[1]), column,
                        f"{subject}: {len(rows)} rows for {month} (rows {', '.join(map(str, rows))})")
                for subject, month, rows in listed]
    if n_keys > len(listed):
        findings.append(Finding("error", None, column, f"{n_keys - len(listed)} more repeated {column} pair(s)"))
    return findings


def _check_table(table: _Table, spec: TableSpec) -> tuple[int, list[Finding]]:
    """Register ``table`` under ``spec`` and check every row. Returns (row count, findings)."""
    if table.empty:
        return 0, [Finding("error", None, None, f"{table.path.name}: the file holds no data rows")]
    findings = _column_findings(table, spec)
    if any(f.severity == "error" for f in findings):
        return 0, findings
    table.register(spec)
    checks = _checks(spec)
    counts = table.con.execute(
        "SELECT count(*), " + ", ".join(f"count_if({c.predicate})" for c in checks) + f" FROM {table.name}"
    ).fetchall()[0]
    n_rows = int(counts[0])
    malformed = table.malformed_lines()
    if malformed:  # row numbers past a rejected line would be off: report the lines alone
        return n_rows, findings + malformed
    if not n_rows:
        return 0, [*findings, Finding("error", None, None, f"{table.path.name}: the file holds no data rows")]
    for rule, count in zip(checks, counts[1:], strict=True):
        if count:
            findings += _rule_findings(table, spec, rule, int(count))
    return n_rows, findings + _duplicate_findings(table, spec)


def inspect_file(
    con: duckdb.DuckDBPyConnection, path: Path, name: str, spec_for: Callable[[list[str]], TableSpec]
) -> tuple[TableSpec, int, list[Finding]]:
    """Register the file ``path`` as view ``name`` and check it against ``spec_for(its columns)``.

    Returns (spec, row count, findings); raises DataError naming the file when it cannot be read.
    """
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise DataError(f"{path.name}: the file is empty")
    try:
        table = _Table(con, path, name)
        spec = spec_for(list(table.types))
        return spec, *_check_table(table, spec)
    except duckdb.Error as exc:
        quote = unclosed_quote(path) if detect_format(path.name) == "csv" else None
        if quote is not None:
            raise DataError(f"{path.name}: {quote}") from exc
        raise DataError(f"{path.name}: could not be read ({str(exc).splitlines()[0]})") from exc
