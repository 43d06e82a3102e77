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
joined on segment × month; a spend row whose segment × month has no customer records is an error.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pandas as pd

from cxroi.data import record_checks
from cxroi.data.readers import detect_format
from cxroi.data.record_checks import ROW, ColumnSpec, RowRule, TableSpec, inspect_file, quote
from cxroi.data.schema import SPEND_PREFIX, Finding, findings_error, validate_panel
from cxroi.errors import DataError
from cxroi.fileio import atomic_write_with

#: DuckDB working-memory cap (it spills to a temporary folder beyond it) and worker threads
MEMORY_LIMIT = os.environ.get("CXROI_DUCKDB_MEMORY_LIMIT", "1GB")
THREADS = int(os.environ.get("CXROI_DUCKDB_THREADS", str(os.cpu_count() or 1)))
Progress = Callable[[str], None]
#: how often the running query's completion is reported (seconds)
PROGRESS_SECONDS = 0.25

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
            *(RowRule(c, f"NOT isfinite({quote(c)})", "'{value}' is not a finite number") for c in spend_columns),
            *(RowRule(c, f"{quote(c)} < 0 AND isfinite({quote(c)})", "spend {value} is negative")
              for c in spend_columns),
        ),
        key=("segment", "period"),
        subject="'segment ' || segment",
    )


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
                _, n_rows, findings = inspect_file(con, path, "customers", lambda _columns: CUSTOMER_SPEC)
            spend_columns: list[str] = []
            if spend is not None:
                spend = Path(spend)
                with steps.step(f"Checking {spend.name}"):
                    spec, _, spend_findings = inspect_file(con, spend, "spend", spend_spec)
                spend_columns = [c for c in spec.columns if c.startswith(SPEND_PREFIX)]
                if not spend_columns:
                    spend_findings.append(Finding("error", None, None, f"no {SPEND_PREFIX}<initiative> columns"))
                findings += [Finding(f.severity, f.row, f.column, f"{spend.name}: {f.problem}") for f in spend_findings]
            if any(f.severity == "error" for f in findings):
                return None, _sorted(findings)
            with steps.step(f"Aggregating {n_rows:,} customer-month rows"):
                con.execute(f"CREATE TEMP TABLE panel AS {PANEL_SQL}")
                if spend is not None:
                    findings += _unmatched_spend(con, path.name, spend.name)
                    if any(f.severity == "error" for f in findings):
                        return None, _sorted(findings)
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


def _unmatched_spend(con: duckdb.DuckDBPyConnection, records: str, spend: str) -> list[Finding]:
    """Spend rows whose segment × month has no customer records (a misspelt segment, a month
    outside the records): the first MAX_LISTED with their row, then a count of the rest."""
    unmatched = (f"SELECT {ROW}, segment, period, segment IN (SELECT segment FROM panel) AS known "
                 f"FROM spend_numbered AS s WHERE NOT EXISTS "
                 f"(SELECT 1 FROM panel AS p WHERE p.segment = s.segment AND p.period = s.period)")
    count = con.execute(f"SELECT count(*) FROM ({unmatched})").fetchall()[0][0]
    rows = con.execute(f"{unmatched} ORDER BY {ROW} LIMIT {record_checks.MAX_LISTED}").fetchall()
    findings = [
        Finding("error", int(row), "period", f"{spend}: {records} has no records of segment {segment} in {period:%Y-%m}")
        if known else Finding("error", int(row), "segment", f"{spend}: segment '{segment}' does not occur in {records}")
        for row, segment, period, known in rows
    ]
    if count > len(rows):
        findings.append(Finding("error", None, "segment, period",
                                f"{spend}: {count - len(rows)} more row(s) match no segment × month of {records}"))
    return findings


def _panel_query(spend_columns: list[str]) -> str:
    if not spend_columns:
        return "SELECT * FROM panel ORDER BY segment, period"
    chosen = ", ".join(f"spend.{quote(c)}" for c in spend_columns)
    return (f"SELECT panel.*, {chosen} FROM panel "
            f"LEFT JOIN spend ON spend.segment = panel.segment AND spend.period = panel.period "
            f"ORDER BY panel.segment, panel.period")


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.severity != "error", f.row is None, f.row or 0, f.column or ""))


def _output_format(out: Path) -> str:
    """'csv' or 'parquet' from the output file name; DataError for any other."""
    try:
        fmt = detect_format(out.name)
    except DataError:
        fmt = "other"
    if fmt not in ("csv", "parquet"):
        raise DataError(f"{out.name}: write the panel as .parquet or .csv")
    return fmt


def check_output(out: str | Path) -> str:
    """The panel format ('csv' or 'parquet') for ``out``. Refuses, before any work, an output path
    that cannot take a panel: another file type, or a folder that is a file (DataError)."""
    out = Path(out)
    fmt = _output_format(out)
    folder = next((parent for parent in out.parents if parent.exists()), None)
    if folder is not None and not folder.is_dir():
        raise DataError(f"{out}: cannot write the panel ({folder} is a file, not a folder)")
    return fmt


def write_panel(panel: pd.DataFrame, out: str | Path) -> Path:
    """Write a panel atomically as Parquet (or CSV when ``out`` ends in .csv). Raises DataError
    naming ``out`` when it cannot be written."""
    out = Path(out)
    fmt = check_output(out)
    try:
        if fmt == "csv":
            atomic_write_with(out, lambda tmp: panel.to_csv(tmp, index=False, date_format="%Y-%m-%d",
                                                            lineterminator="\n"))
        else:
            atomic_write_with(out, lambda tmp: panel.to_parquet(tmp, index=False))
    except OSError as exc:
        raise DataError(f"{out}: cannot write the panel in {out.parent} ({exc.strerror or exc})") from exc
    return out


def aggregate_customers(path: str | Path, out: str | Path | None = None, spend: str | Path | None = None) -> pd.DataFrame:
    """Aggregate customer-level records (CSV or Parquet) into the validated panel.

    Writes it atomically to ``out`` when given. Raises :class:`DataError` listing every error
    (row, column, problem) when the records or the resulting panel are invalid.
    """
    panel, findings = panel_from_customers(path, spend=spend)
    if panel is None:
        raise findings_error(Path(path).name, findings)
    if out is not None:
        write_panel(panel, out)
    return panel
