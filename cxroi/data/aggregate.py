"""Customer-level records (one row per customer × month) → the segment × month panel.

The records are read where they are by the chosen engine (DuckDB for files, the default;
PostgreSQL or Spark SQL for tables) and never loaded into pandas: every column is cast in SQL,
so each cell that does not fit is reported with its row and column instead of the reader
stopping at the first one. Only the small panel of counts leaves the engine.

Aggregation per segment × month (the columns are documented in data/README.md):

* customers_start = Σ active, churned = Σ churned, new_customers = Σ acquired
* revenue = Σ revenue (summed in whole cents, exact, currency per month)
* csat = 100 · #(csat_response ≥ 4) / #csat answers (top-2-box, %), csat_responses = #answers
* nps = 100 · (#(nps_response ≥ 9) − #(nps_response ≤ 6)) / #nps answers, nps_responses = #answers

Optional spend (a spend table or a spend ledger, see :mod:`cxroi.data.spend_input`) is joined
on segment × month; a spend row whose segment × month has no customer records is an error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

from cxroi.data import panel_sql
from cxroi.data.engine import Engine, source_label
from cxroi.data.panel_build import Counted, Progress, Steps, aggregate_on, has_errors, prefixed
from cxroi.data.readers import detect_format
from cxroi.data.record_checks import ColumnSpec, RowRule, TableSpec, inspect
from cxroi.data.schema import Finding, findings_error
from cxroi.data.spend_input import SEGMENT, SpendPlan, check_spend, unmatched_spend
from cxroi.data.sql_dialect import Dialect
from cxroi.errors import DataError
from cxroi.fileio import atomic_write_with

_FLAG = ColumnSpec("double", "0 or 1", ("number", "text"))
_MONTH = ColumnSpec("date", "a date (YYYY-MM-DD)", ("date", "text"))
_ANSWER = ColumnSpec("double", "a number", ("number", "text"), required_value=False)
SpendKind = Literal["spend", "ledger"]


def customer_spec(d: Dialect) -> TableSpec:
    """Customer-level records: one row per customer × month."""
    return TableSpec(
        title="customer records",
        columns={
            "customer_id": ColumnSpec(None, "an id", ("text", "number")),
            "month": _MONTH,
            "segment": SEGMENT,
            "active": _FLAG,
            "churned": _FLAG,
            "acquired": _FLAG,
            "revenue": ColumnSpec("amount", "an amount", ("number", "text")),
            "csat_response": _ANSWER,
            "nps_response": _ANSWER,
        },
        rules=(
            RowRule("segment", "segment = ''", "segment is empty"),
            RowRule("month", f"{d.day_of_month('month')} <> 1", "'{value}' is not the first day of a month"),
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
        subject=f"'customer ' || CAST(customer_id AS {d.text})",
        key_text=lambda month: month[:7],
    )


def spend_step(
    engine: Engine, steps: Steps, spend: str | Path | None, kind: SpendKind
) -> tuple[SpendPlan | None, list[Finding]]:
    """Check the optional spend source; its findings are prefixed with its label."""
    if spend is None:
        return None, []
    with steps.step(f"Checking {source_label(str(spend))}"):
        plan, _, findings = check_spend(engine, str(spend), kind)
    return plan, prefixed(findings, source_label(str(spend)))


def spend_join(engine: Engine, plan: SpendPlan | None, records: str) -> Counted:
    """Rows of the panel counts (``panel_counts``) joined with spend, their spend columns and the
    unmatched spend findings (rows None when there are any)."""
    if plan is None:
        return engine.rows(panel_sql.panel_with_spend(None, [], zero_fill=False)), [], []
    findings = unmatched_spend(engine, plan, records)
    if has_errors(findings):
        return None, plan.columns, findings
    return engine.rows(panel_sql.panel_with_spend(plan.sql, plan.columns, plan.zero_fill)), plan.columns, findings


def panel_from_customers(
    path: str | Path,
    spend: str | Path | None = None,
    progress: Progress | None = None,
    engine: str = "duckdb",
    url: str | None = None,
    spend_kind: SpendKind = "spend",
) -> tuple[pd.DataFrame | None, list[Finding]]:
    """Check customer-level records and aggregate them into a validated panel.

    ``path`` is a file (DuckDB), a table name or a query, run on ``engine`` (see
    :func:`cxroi.data.engine.open_engine` for ``url``); ``spend`` a spend table (``spend_kind``
    'spend') or ledger ('ledger'). Returns (panel, findings) like
    :func:`cxroi.data.schema.validate_panel`: the panel is None when any error was found, and
    findings list every problem with its row (1-based data row of the input) and column.
    ``progress`` receives a short text at each step and the running query's completion
    percentage while it runs (DuckDB).
    """
    label = source_label(str(path))

    def count(eng: Engine, steps: Steps) -> Counted:
        with steps.step(f"Checking {label}"):
            _, _, n_rows, findings = inspect(eng, str(path), "customers", lambda _c: customer_spec(eng.dialect))
        plan, spend_findings = spend_step(eng, steps, spend, spend_kind)
        findings += spend_findings
        if has_errors(findings):
            return None, [], findings
        with steps.step(f"Aggregating {n_rows:,} customer-month rows"):
            eng.materialize("panel_counts", panel_sql.customer_record_counts())
            rows, spend_columns, spend_findings = spend_join(eng, plan, label)
        return rows, spend_columns, findings + spend_findings

    return aggregate_on(engine, url, progress, count, ("csat_response", "nps_response"))


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
