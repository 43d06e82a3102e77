"""The embedded engine: DuckDB reads CSV and Parquet files where they lie (or runs a query over
them), within a memory cap, spilling to a private temporary folder beyond it.

CSV files are read with every column as text, so that each cell is cast in SQL and every cell
that does not fit can be reported; lines the reader rejects (wrong number of fields, broken
quotes) are listed by line.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import shutil
import tempfile
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from cxroi.data import record_checks
from cxroi.data.engine import ROW, Engine, Source, is_query
from cxroi.data.readers import detect_format, unclosed_quote
from cxroi.data.schema import Finding, header_findings
from cxroi.data.sql_dialect import DUCKDB, quote
from cxroi.errors import DataError

#: DuckDB working-memory cap (it spills to a temporary folder beyond it) and worker threads
MEMORY_LIMIT = os.environ.get("CXROI_DUCKDB_MEMORY_LIMIT", "1GB")
THREADS = int(os.environ.get("CXROI_DUCKDB_THREADS", str(os.cpu_count() or 1)))
#: bytes read from the start of a CSV file to check that it is UTF-8 text and to read its header
HEAD_BYTES = 1 << 16

_TYPE_FAMILIES = {
    "number": ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
               "UBIGINT", "UHUGEINT", "DECIMAL", "FLOAT", "DOUBLE", "BOOLEAN"),
    "date": ("DATE", "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMPTZ"),
    "text": ("VARCHAR",),
}


def family(duckdb_type: str) -> str:
    """'number', 'date', 'text' or 'other' (lists, structs, …) for a DuckDB type name."""
    name = duckdb_type.upper()
    base = name.split("(")[0].split(" ")[0]  # DECIMAL(18,2) → DECIMAL, TIMESTAMP WITH TIME ZONE → TIMESTAMP
    if name.strip('"') == "NULL":  # a Parquet column written without any value
        return "null"
    for kind, names in _TYPE_FAMILIES.items():
        if base in names and not name.endswith("]"):
            return kind
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


class DuckDBEngine(Engine):
    """An in-memory DuckDB with the memory cap, thread count, UTC time zone and a private spill
    folder. Query progress is tracked (see :meth:`progress`) but never printed by DuckDB itself."""

    dialect = DUCKDB
    errors = (duckdb.Error,)

    def __init__(self) -> None:
        self._spill = tempfile.mkdtemp(prefix="cxroi-duckdb-")
        self.con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "threads": THREADS,
                                          "temp_directory": self._spill})
        self.con.execute("SET enable_progress_bar = true")
        self.con.execute("SET enable_progress_bar_print = false")
        self.con.execute("SET TimeZone = 'UTC'")

    def rows(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def materialize(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMPORARY TABLE {quote(name)} AS {sql}")

    def progress(self) -> float:
        return self.con.query_progress()

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self._spill, ignore_errors=True)

    def source(self, name: str, location: str) -> Source:
        if is_query(location):
            return self._query_source(name, location)
        return self._file_source(name, Path(location))

    def read_error(self, location: str, exc: Exception) -> DataError:
        label = "query" if is_query(location) else Path(location).name
        if not is_query(location) and Path(location).suffix.lower() in (".csv", ".txt"):
            quote_problem = unclosed_quote(Path(location))
            if quote_problem is not None:
                return DataError(f"{label}: {quote_problem}")
        return DataError(f"{label}: could not be read ({self.error_text(exc)})")

    def _described(self, relation: str) -> dict[str, str]:
        return {str(row[0]): str(row[1]) for row in self.con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}

    def _query_source(self, name: str, query: str) -> Source:
        self.view(f"{name}_source", query)
        types = self._described(quote(f"{name}_source"))
        return Source("query", quote(f"{name}_source"), types, {c: family(t) for c, t in types.items()},
                      header_findings(list(types)))

    def _file_source(self, name: str, path: Path) -> Source:
        if not path.exists():
            raise DataError(f"{path}: file not found")
        if path.is_dir():
            raise DataError(f"{path}: is a folder; give a .csv or .parquet file")
        if path.stat().st_size == 0:
            raise DataError(f"{path.name}: the file is empty")
        fmt = detect_format(path.name)
        if fmt == "excel":
            raise DataError(f"{path.name}: use a .csv or .parquet file")
        location = DUCKDB.literal(str(path))
        if fmt == "csv":  # every column as text, cast in SQL so that each bad cell can be reported
            header = _csv_header(path)
            rejects = f"{name}_rejects"  # malformed lines (wrong number of fields, broken quotes)
            relation = (f"read_csv({location}, header = true, all_varchar = true, delim = ',', quote = '\"', "
                        f"escape = '\"', store_rejects = true, rejects_table = '{rejects}', "
                        f"rejects_scan = '{name}_scans')")
            types = self._described(relation)
            return Source(path.name, relation, types, {c: family(t) for c, t in types.items()},
                          header_findings(header),
                          file_rows=f"(SELECT row_number() OVER () AS {ROW}, * FROM {relation})",
                          malformed_lines=lambda: self._malformed_lines(rejects, len(types)))
        relation = f"read_parquet({location})"
        types = self._described(relation)
        empty = self.con.execute(f"SELECT count(*) = 0 FROM {relation}").fetchall()[0][0]
        return Source(path.name, relation, types, {c: family(t) for c, t in types.items()},
                      header_findings(pq.read_schema(path).names), empty=bool(empty),
                      file_rows=(f"(SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS {ROW} "
                                 f"FROM read_parquet({location}, file_row_number = true))"))

    def _malformed_lines(self, rejects: str, width: int) -> list[Finding]:
        """CSV lines the reader rejected during the scans so far (first MAX_LISTED, then a count)."""
        lines = self.con.execute(f"SELECT DISTINCT line, error_type FROM {rejects} ORDER BY line").fetchall()
        columns = f" (the header has {width} columns)"
        limit = record_checks.MAX_LISTED
        findings = [Finding("error", int(line) - 1, None,
                            f"malformed line {line}: {kind.lower()}{columns if 'COLUMNS' in kind else ''}")
                    for line, kind in lines[:limit]]
        if len(lines) > limit:
            findings.append(Finding("error", None, None, f"{len(lines) - limit} more malformed line(s)"))
        return findings
