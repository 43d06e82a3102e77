"""Customer-level records (one row per customer × month) → the segment × month panel, in DuckDB.

The input CSV or Parquet file is read by DuckDB directly (never loaded into pandas): every column
is cast in SQL with TRY_CAST, so each cell that does not fit is reported with its row and column
instead of the reader stopping at the first one. Checks and aggregation are two scans of the file
plus one grouping by customer × month to find duplicates (a CSV file is parsed on each scan, which
costs less than staging a typed copy); only the small panel reaches pandas.

Aggregation per segment × month (the columns are documented in data/README.md):

* customers_start = Σ active, churned = Σ churned, new_customers = Σ acquired
* revenue = Σ revenue (decimal sum, exact to the cent, currency per month)
* csat = 100 · #(csat_response ≥ 4) / #csat answers (top-2-box, %), csat_responses = #answers
* nps = 100 · (#(nps_response ≥ 9) − #(nps_response ≤ 6)) / #nps answers, nps_responses = #answers

Optional spend (CSV or Parquet: segment, period, spend_<initiative> in currency per month) is
joined on segment × month.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from cxroi.data.readers import detect_format
from cxroi.data.schema import SPEND_PREFIX, Finding, validate_panel
from cxroi.errors import DataError
from cxroi.fileio import atomic_write_with

#: DuckDB working-memory cap (it spills to a temporary folder beyond it) and worker threads
MEMORY_LIMIT = os.environ.get("CXROI_DUCKDB_MEMORY_LIMIT", "1GB")
THREADS = int(os.environ.get("CXROI_DUCKDB_THREADS", str(os.cpu_count() or 1)))
#: rows listed per kind of problem; further rows with the same problem are counted in one line
MAX_LISTED = 20
#: name of the 1-based data row number column added to the numbered views
ROW = "cxroi_row"

Progress = Callable[[str], None]
#: how often the running query's completion is reported (seconds)
PROGRESS_SECONDS = 0.25

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


_FLAG = ColumnSpec("DOUBLE", "0 or 1", ("number", "text"))
_MONTH = ColumnSpec("DATE", "a date (YYYY-MM-DD)", ("date", "text"))
_SEGMENT = ColumnSpec("VARCHAR", "text", ("text", "number"))
_ANSWER = ColumnSpec("DOUBLE", "a number", ("number", "text"), required_value=False)
_AMOUNT = ColumnSpec("DOUBLE", "a number", ("number", "text"), required_value=False)

CUSTOMER_SPEC = TableSpec(
    title="customer records",
    columns={
        "customer_id": ColumnSpec(None, "an id", ("text", "number")),
        "month": _MONTH,
        "segment": _SEGMENT,
        "active": _FLAG,
        "churned": _FLAG,
        "acquired": _FLAG,
        "revenue": ColumnSpec("DECIMAL(18,2)", "an amount", ("number", "text")),
        "csat_response": _ANSWER,
        "nps_response": _ANSWER,
    },
    rules=(
        RowRule("segment", "segment = ''", "segment is empty"),
        RowRule("month", "day(month) <> 1", "'{value}' is not the first day of a month"),
        *(RowRule(flag, f"{flag} NOT IN (0, 1)", "must be 0 or 1, not '{value}'")
          for flag in ("active", "churned", "acquired")),
        RowRule("active, acquired", "active = 1 AND acquired = 1",
                "active and acquired are both 1 (a customer acquired during the month was not active at its start)"),
        RowRule("churned", "churned = 1 AND active = 0",
                "churned is 1 but active is 0 (only customers active at the start of the month can be lost)"),
        RowRule("revenue", "revenue < 0", "revenue {value} is negative"),
        RowRule("csat_response", "csat_response NOT IN (1, 2, 3, 4, 5)",
                "'{value}' is not a CSAT answer (whole number 1–5, or empty)"),
        RowRule("nps_response", "nps_response NOT IN (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)",
                "'{value}' is not an NPS answer (whole number 0–10, or empty)"),
    ),
    key=("customer_id", "month"),
    subject="'customer ' || CAST(customer_id AS VARCHAR)",
)

PANEL_SQL = """
SELECT segment, month AS period,
       CAST(SUM(active) AS BIGINT) AS customers_start,
       CAST(SUM(churned) AS BIGINT) AS churned,
       CAST(SUM(acquired) AS BIGINT) AS new_customers,
       CAST(SUM(revenue) AS DOUBLE) AS revenue,
       CAST(100 AS DOUBLE) * count_if(csat_response >= 4) / NULLIF(count(csat_response), 0) AS csat,
       CAST(100 AS DOUBLE) * (count_if(nps_response >= 9) - count_if(nps_response <= 6))
           / NULLIF(count(nps_response), 0) AS nps,
       count(csat_response) AS csat_responses,
       count(nps_response) AS nps_responses
FROM customers GROUP BY segment, month
"""


def spend_spec(columns: list[str]) -> TableSpec:
    """The spend table: segment, period and spend_<initiative> columns (currency per month, ≥ 0)."""
    spend_columns = [c for c in columns if c.startswith(SPEND_PREFIX)]
    return TableSpec(
        title="spend",
        columns={"segment": _SEGMENT, "period": _MONTH, **dict.fromkeys(spend_columns, _AMOUNT)},
        rules=(
            RowRule("segment", "segment = ''", "segment is empty"),
            RowRule("period", "day(period) <> 1", "'{value}' is not the first day of a month"),
            *(RowRule(c, f"{_quote(c)} < 0", "spend {value} is negative") for c in spend_columns),
        ),
        key=("segment", "period"),
        subject="'segment ' || segment",
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _raw(name: str) -> str:
    return _quote(f"{name}__raw")


@contextlib.contextmanager
def _connect() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with the memory cap, thread count and a private spill folder. Query
    progress is tracked (for :class:`_Steps`) but never printed by DuckDB itself."""
    with tempfile.TemporaryDirectory(prefix="cxroi-duckdb-") as spill:
        con = duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "threads": THREADS, "temp_directory": spill})
        try:
            con.execute("SET enable_progress_bar = true")
            con.execute("SET enable_progress_bar_print = false")
            yield con
        finally:
            con.close()


class _Steps:
    """Reports each step's text to ``report``, followed by the running query's completion
    percentage (polled from DuckDB every PROGRESS_SECONDS)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, report: Progress | None):
        self.con, self.report = con, report

    @contextlib.contextmanager
    def step(self, text: str) -> Iterator[None]:
        if self.report is None:
            yield
            return
        self.report(text)
        stop = threading.Event()

        def poll() -> None:
            while not stop.wait(PROGRESS_SECONDS):
                done = self.con.query_progress()
                if done >= 0:  # −1 between queries
                    self.report(f"{text} ({done:.0f} %)")

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        try:
            yield
        finally:
            stop.set()
            watcher.join()


def _family(duckdb_type: str) -> str:
    """'number', 'date', 'text' or 'other' (lists, structs, …) for a DuckDB type name."""
    name = duckdb_type.upper()
    base = name.split("(")[0].split(" ")[0]  # DECIMAL(18,2) → DECIMAL, TIMESTAMP WITH TIME ZONE → TIMESTAMP
    for family, names in _TYPE_FAMILIES.items():
        if base in names and not name.endswith("]"):
            return family
    return "other"


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
            raw = _quote(column)
            if cs.sql_type is None:
                parts.append(f"{raw} AS {_quote(column)}")
                continue
            typed = f"TRY_CAST({raw} AS {cs.sql_type})"
            if cs.sql_type == "VARCHAR":
                typed = f"trim({typed})"
            parts.append(f"{raw} AS {_raw(column)}, {typed} AS {_quote(column)}")
        select = ", ".join(parts)
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {self.name} AS SELECT {select} FROM {self.source}")
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {self.name}_numbered AS "
                         f"SELECT {ROW}, {select} FROM {self.numbered_source}")


def _column_findings(table: _Table, spec: TableSpec) -> list[Finding]:
    """Missing required columns, unknown columns (warnings) and Parquet columns of a wrong type."""
    findings = [Finding("error", None, c, "required column is missing") for c in spec.columns if c not in table.types]
    for column, duckdb_type in table.types.items():
        cs = spec.columns.get(column)
        if cs is None:
            findings.append(Finding("warning", None, column, "unknown column, ignored"))
        elif _family(duckdb_type) not in cs.families:
            findings.append(Finding("error", None, column, f"has type {duckdb_type}; each value must be {cs.kind}"))
    return findings


def _checks(spec: TableSpec) -> list[RowRule]:
    """Cell checks (empty required cells, values that do not cast) followed by the row rules."""
    checks = []
    for column, cs in spec.columns.items():
        if cs.required_value:
            checks.append(RowRule(column, f"{_raw(column) if cs.sql_type else _quote(column)} IS NULL", "missing value"))
        if cs.sql_type is not None:
            checks.append(RowRule(column, f"{_raw(column)} IS NOT NULL AND {_quote(column)} IS NULL",
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
    a, b = (_quote(k) for k in spec.key)
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


def _inspect(
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
        raise DataError(f"{path.name}: could not be read ({str(exc).splitlines()[0]})") from exc


def _panel_findings(raw: pd.DataFrame, findings: list[Finding]) -> list[Finding]:
    """Panel findings, their row turned into the segment and month it describes."""
    labelled = []
    for f in findings:
        if f.row is None:
            labelled.append(f)
            continue
        cell = raw.iloc[f.row - 1]
        where = f"panel {cell['segment']} {pd.Timestamp(cell['period']):%Y-%m}"
        labelled.append(Finding(f.severity, None, f.column, f"{where}: {f.problem}"))
    return labelled


def _survey_findings(raw: pd.DataFrame) -> list[Finding]:
    """Segment-months without any CSAT or NPS answer: the panel needs both scores every month."""
    findings = []
    for column, score in (("csat_response", "csat"), ("nps_response", "nps")):
        for cell in raw[raw[score].isna()].itertuples(index=False):
            findings.append(Finding("error", None, column, f"panel {cell.segment} {pd.Timestamp(cell.period):%Y-%m}: "
                                                           f"no {score.upper()} answers, so {score} cannot be computed"))
    return findings


def panel_from_customers(
    path: str | Path, spend: str | Path | None = None, progress: Progress | None = None
) -> tuple[pd.DataFrame | None, list[Finding]]:
    """Check customer-level records and aggregate them into a validated panel.

    Returns (panel, findings) like :func:`cxroi.data.schema.validate_panel`: the panel is None when
    any error was found, and findings list every problem with its row (1-based data row of the
    input file) and column. ``progress`` receives a short text at each step
    and the running query's completion percentage while it runs.
    """
    path = Path(path)
    try:
        with _connect() as con:
            steps = _Steps(con, progress)
            with steps.step(f"Checking {path.name}"):
                _, n_rows, findings = _inspect(con, path, "customers", lambda _columns: CUSTOMER_SPEC)
            spend_columns: list[str] = []
            if spend is not None:
                spend = Path(spend)
                with steps.step(f"Checking {spend.name}"):
                    spec, _, spend_findings = _inspect(con, spend, "spend", spend_spec)
                spend_columns = [c for c in spec.columns if c.startswith(SPEND_PREFIX)]
                if not spend_columns:
                    spend_findings.append(Finding("error", None, None, f"no {SPEND_PREFIX}<initiative> columns"))
                findings += [Finding(f.severity, f.row, f.column, f"{spend.name}: {f.problem}") for f in spend_findings]
            if any(f.severity == "error" for f in findings):
                return None, _sorted(findings)
            with steps.step(f"Aggregating {n_rows:,} customer-month rows"):
                raw = con.execute(_panel_query(spend_columns)).df()
    except duckdb.Error as exc:  # the checks passed, so this is a resource problem (memory, disk)
        return None, [Finding("error", None, None, f"aggregation failed: {str(exc).splitlines()[0]}")]
    except DataError as exc:
        return None, [Finding("error", None, None, str(exc))]
    findings += _survey_findings(raw)
    if any(f.severity == "error" for f in findings):
        return None, _sorted(findings)
    if progress is not None:
        progress("Validating the panel")
    panel, panel_findings = validate_panel(raw)
    return panel, _sorted(findings + _panel_findings(raw, panel_findings))


def _panel_query(spend_columns: list[str]) -> str:
    if not spend_columns:
        return f"{PANEL_SQL} ORDER BY segment, period"
    chosen = ", ".join(f"spend.{_quote(c)}" for c in spend_columns)
    return (f"WITH panel AS ({PANEL_SQL}) SELECT panel.*, {chosen} FROM panel "
            f"LEFT JOIN spend ON spend.segment = panel.segment AND spend.period = panel.period "
            f"ORDER BY panel.segment, panel.period")


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.severity != "error", f.row is None, f.row or 0, f.column or ""))


def write_panel(panel: pd.DataFrame, out: str | Path) -> Path:
    """Write a panel atomically as Parquet (or CSV when ``out`` ends in .csv)."""
    out = Path(out)
    fmt = detect_format(out.name)
    if fmt == "csv":
        atomic_write_with(out, lambda tmp: panel.to_csv(tmp, index=False, date_format="%Y-%m-%d", lineterminator="\n"))
    elif fmt == "parquet":
        atomic_write_with(out, lambda tmp: panel.to_parquet(tmp, index=False))
    else:
        raise DataError(f"{out.name}: write the panel as .parquet or .csv")
    return out


def aggregate_customers(path: str | Path, out: str | Path | None = None, spend: str | Path | None = None) -> pd.DataFrame:
    """Aggregate customer-level records (CSV or Parquet) into the validated panel.

    Writes it atomically to ``out`` when given. Raises :class:`DataError` listing every error
    (row, column, problem) when the records or the resulting panel are invalid.
    """
    panel, findings = panel_from_customers(path, spend=spend)
    if panel is None:
        lines = [f"  row {f.row or '-'}, column {f.column or '-'}: {f.problem}" for f in findings if f.severity == "error"]
        raise DataError(f"{Path(path).name}: {len(lines)} problem(s) found\n" + "\n".join(lines))
    if out is not None:
        write_panel(panel, out)
    return panel
