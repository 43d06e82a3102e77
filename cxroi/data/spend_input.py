"""CX spend for the panel's ``spend_<initiative>`` columns, from a spend table or a spend ledger.

* A **spend table** has one row per segment × month (``segment``, ``period`` = first day of the
  month, ``spend_<initiative>`` columns in currency per month). Months it does not cover get
  empty spend.
* A **spend ledger** has one row per payment (``initiative``, ``segment``, ``month`` = any date,
  counted in its calendar month, ``amount`` in currency). A month's payments add up; a panel
  month without payments for an initiative gets spend 0.

A row whose segment × month has no panel row (a misspelt segment, a month outside the panel) is
an error naming its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cxroi.data import panel_sql, record_checks
from cxroi.data.engine import Engine
from cxroi.data.panel_build import has_errors
from cxroi.data.record_checks import ColumnSpec, RowRule, TableSpec
from cxroi.data.schema import SPEND_PREFIX, Finding
from cxroi.data.sql_dialect import Dialect, month_start, quote

#: most initiatives one ledger may name (each becomes a panel column)
MAX_INITIATIVES = 50

SEGMENT = ColumnSpec("text", "text", ("text", "number"))
MONTH_START = ColumnSpec("date", "a date (YYYY-MM-DD)", ("date", "text"))
AMOUNT = ColumnSpec("amount", "an amount", ("number", "text"))
_SPEND = ColumnSpec("double", "a number", ("number", "text"), required_value=False)


def _finite(column: str) -> str:
    """SQL true for a finite number (NaN and ±infinity compare outside any range in every engine)."""
    return f"{quote(column)} BETWEEN -1e300 AND 1e300"


def wide_spend_spec(d: Dialect, columns: list[str]) -> TableSpec:
    """The spend table: segment, period and spend_<initiative> columns (currency per month, ≥ 0)."""
    spend_columns = [c for c in columns if c.startswith(SPEND_PREFIX)]
    return TableSpec(
        title="spend",
        columns={"segment": SEGMENT, "period": MONTH_START, **dict.fromkeys(spend_columns, _SPEND)},
        rules=(
            RowRule("segment", "segment = ''", "segment is empty"),
            RowRule("period", f"{d.day_of_month('period')} <> 1", "'{value}' is not the first day of a month"),
            *(RowRule(c, f"NOT ({_finite(c)})", "'{value}' is not a finite number") for c in spend_columns),
            *(RowRule(c, f"{quote(c)} < 0 AND {_finite(c)}", "spend {value} is negative") for c in spend_columns),
        ),
        key=("segment", "period"),
        subject="'segment ' || segment",
        key_text=lambda month: month[:7],
    )


def ledger_spec(d: Dialect) -> TableSpec:
    """The spend ledger: one row per payment (initiative, segment, month, amount ≥ 0)."""
    return TableSpec(
        title="spend ledger",
        columns={"initiative": SEGMENT, "segment": SEGMENT,
                 "month": ColumnSpec("date", "a date (YYYY-MM-DD)", ("date", "text")), "amount": AMOUNT},
        rules=(
            RowRule("initiative", "initiative = ''", "initiative is empty"),
            RowRule("segment", "segment = ''", "segment is empty"),
            RowRule("amount", "amount < 0", "amount {value} is negative"),
        ),
        key=None,
        subject="'segment ' || segment",
    )


@dataclass(frozen=True)
class SpendPlan:
    """A checked spend source, ready to join: its SQL as a spend table and its columns."""

    label: str
    view: str  # the typed view's name
    sql: str  # segment, period, spend_<initiative> … per segment × month
    columns: list[str]
    period: str  # SQL of a row's month in the typed view
    zero_fill: bool


def check_spend(
    engine: Engine, location: str, kind: Literal["spend", "ledger"]
) -> tuple[SpendPlan | None, int, list[Finding]]:
    """Check a spend table or ledger. Returns (plan or None on error, rows, findings unprefixed)."""
    if kind == "spend":
        source, spec, n_rows, findings = record_checks.inspect(
            engine, location, "spend", lambda columns: wide_spend_spec(engine.dialect, columns))
        columns = [c for c in spec.columns if c.startswith(SPEND_PREFIX)]
        if not columns and not has_errors(findings):
            findings.append(Finding("error", None, None, f"no {SPEND_PREFIX}<initiative> columns"))
        plan = SpendPlan(source.label, "spend", "SELECT * FROM spend", columns, "s.period", zero_fill=False)
        return (None if has_errors(findings) else plan), n_rows, findings
    source, _, n_rows, findings = record_checks.inspect(engine, location, "ledger", lambda _c: ledger_spec(engine.dialect))
    if has_errors(findings):
        return None, n_rows, findings
    initiatives = [row[0] for row in engine.rows("SELECT DISTINCT initiative FROM ledger ORDER BY initiative")]
    if len(initiatives) > MAX_INITIATIVES:
        too_many = f"{len(initiatives)} initiatives; at most {MAX_INITIATIVES} (each becomes a panel column)"
        return None, n_rows, [*findings, Finding("error", None, "initiative", too_many)]
    plan = SpendPlan(source.label, "ledger", panel_sql.ledger_spend(engine.dialect, initiatives),
                     [SPEND_PREFIX + i for i in initiatives], month_start("s.month"), zero_fill=True)
    return plan, n_rows, findings


def unmatched_spend(engine: Engine, plan: SpendPlan, records: str) -> list[Finding]:
    """Spend rows whose segment × month has no panel row (``panel_counts``): the first MAX_LISTED
    with their row, then a count of the rest."""
    count = engine.rows(panel_sql.unmatched_spend_count(plan.view, plan.period))[0][0]
    if not count:
        return []
    rows = engine.rows(panel_sql.unmatched_spend(f"{plan.view}_numbered", plan.period, record_checks.MAX_LISTED))
    findings = [
        Finding("error", int(row), "period" if plan.view == "spend" else "month",
                f"{plan.label}: {records} has no records of segment {segment} in {period:%Y-%m}")
        if known else Finding("error", int(row), "segment", f"{plan.label}: segment '{segment}' does not occur in {records}")
        for row, segment, period, known in rows
    ]
    if count > len(rows):
        findings.append(Finding("error", None, "segment, period",
                                f"{plan.label}: {count - len(rows)} more row(s) match no segment × month of {records}"))
    return findings
