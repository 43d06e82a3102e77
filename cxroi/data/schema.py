"""The panel contract: one row per segment × calendar month, validated with pandera.

Validation never stops at the first problem: :func:`validate_panel` returns every finding
(row, column, what is wrong) so the CLI and the app can show them all at once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa

from cxroi.errors import DataError

REQUIRED_COLUMNS = (
    "segment",
    "period",
    "customers_start",
    "churned",
    "new_customers",
    "revenue",
    "csat",
    "nps",
)
OPTIONAL_COLUMNS = ("csat_responses", "nps_responses")
SPEND_PREFIX = "spend_"
INTEGER_COLUMNS = ("customers_start", "churned", "new_customers", *OPTIONAL_COLUMNS)

#: relative tolerance of the stock-flow identity before a warning is raised
STOCK_FLOW_TOLERANCE = 0.01


@dataclass(frozen=True)
class Finding:
    """One validation problem. ``row`` is the 1-based data row (header excluded), or None when
    the problem concerns the whole file or a whole column."""

    severity: Literal["error", "warning"]
    row: int | None
    column: str | None
    problem: str

    def as_dict(self) -> dict:
        return asdict(self)


def _is_whole(series: pd.Series) -> pd.Series:
    return series.isna() | (series == np.floor(series))


def _churned_within_customers(df: pd.DataFrame) -> pd.Series | bool:
    if not {"churned", "customers_start"} <= set(df.columns):
        return True  # the missing column is reported on its own
    pair = df[["churned", "customers_start"]]
    return pair["churned"].le(pair["customers_start"]) | pair.isna().any(axis=1)


def _column_checks() -> dict[str, pa.Column]:
    count = [pa.Check.ge(0, error="must be ≥ 0"), pa.Check(_is_whole, error="must be a whole number")]
    return {
        "segment": pa.Column(str, pa.Check.str_length(min_value=1, error="must not be empty")),
        "period": pa.Column(
            "datetime64[ns]",
            pa.Check(lambda s: s.dt.day == 1, error="must be the first day of a month"),
        ),
        "customers_start": pa.Column(float, count),
        "churned": pa.Column(float, count),
        "new_customers": pa.Column(float, count),
        "revenue": pa.Column(float, pa.Check.ge(0, error="must be ≥ 0 (currency per month)")),
        "csat": pa.Column(float, pa.Check.in_range(0, 100, error="must be between 0 and 100 (%)")),
        "nps": pa.Column(float, pa.Check.in_range(-100, 100, error="must be between -100 and 100")),
        "csat_responses": pa.Column(float, count, required=False, nullable=True),
        "nps_responses": pa.Column(float, count, required=False, nullable=True),
        f"{SPEND_PREFIX}.+": pa.Column(
            float, pa.Check.ge(0, error="spend must be ≥ 0"), regex=True, required=False, nullable=True
        ),
    }


PANEL_SCHEMA = pa.DataFrameSchema(
    _column_checks(),
    checks=[
        pa.Check(
            _churned_within_customers,
            error="churned must not exceed customers_start",
            name="churned_le_customers_start",
        )
    ],
    unique=["segment", "period"],
    report_duplicates="all",
    coerce=False,
)


def _coerce(raw: pd.DataFrame) -> tuple[pd.DataFrame, list[Finding]]:
    """Convert types column by column, recording every cell that cannot be converted."""
    findings: list[Finding] = []
    df = raw.copy()
    df.columns = [str(c).strip() for c in df.columns]
    for column in df.columns:
        if column == "segment":
            df[column] = df[column].astype("string").str.strip().astype(object)
            continue
        if column == "period":
            parsed = pd.to_datetime(df[column], errors="coerce", format="mixed")
            bad = parsed.isna() & df[column].notna()
            missing = df[column].isna()
            for idx in df.index[bad]:
                findings.append(Finding("error", int(idx) + 1, column, f"'{raw.at[idx, column]}' is not a date"))
            for idx in df.index[missing]:
                findings.append(Finding("error", int(idx) + 1, column, "missing value"))
            df[column] = parsed.astype("datetime64[ns]")
            continue
        if column in REQUIRED_COLUMNS or column in OPTIONAL_COLUMNS or column.startswith(SPEND_PREFIX):
            numeric = pd.to_numeric(df[column], errors="coerce").astype(float)
            bad = numeric.isna() & raw[column].notna() & (raw[column].astype("string").str.strip() != "")
            for idx in df.index[bad]:
                findings.append(Finding("error", int(idx) + 1, column, f"'{raw.at[idx, column]}' is not a number"))
            if column in REQUIRED_COLUMNS:
                for idx in df.index[numeric.isna() & ~bad]:
                    findings.append(Finding("error", int(idx) + 1, column, "missing value"))
            df[column] = numeric
    return df, findings


def _findings_from_schema_errors(err: pa.errors.SchemaErrors, already: set[tuple]) -> list[Finding]:
    findings = []
    cases = err.failure_cases
    for case in cases.itertuples(index=False):
        check = str(case.check)
        column = None if pd.isna(case.column) else str(case.column)
        index = case.index
        if check == "column_in_dataframe":
            findings.append(Finding("error", None, str(case.failure_case), "required column is missing"))
            continue
        if check == "dtype('datetime64[ns]')" or check.startswith("dtype("):
            continue  # type problems were already reported cell by cell during coercion
        if check == "field_uniqueness" or "unique" in check:
            row = None if pd.isna(index) else int(index) + 1
            findings.append(Finding("error", row, "segment, period", "duplicated segment × period"))
            continue
        row = None if index is None or pd.isna(index) else int(index) + 1
        key = (row, column)
        if key in already:
            continue  # the cell could not be parsed; one message per cell is enough
        message = check.split(":", 1)[-1].strip() if ":" not in check else check
        if check == "churned must not exceed customers_start":
            column = "churned"
        findings.append(Finding("error", row, column, message))
    return findings


def _stock_flow_warnings(df: pd.DataFrame) -> list[Finding]:
    """customers_start[t+1] should equal customers_start[t] − churned[t] + new_customers[t]."""
    findings = []
    ordered = df.sort_values(["segment", "period"])
    nxt = ordered.groupby("segment")["customers_start"].shift(-1)
    nxt_period = ordered.groupby("segment")["period"].shift(-1)
    consecutive = nxt_period == ordered["period"] + pd.DateOffset(months=1)
    expected = ordered["customers_start"] - ordered["churned"] + ordered["new_customers"]
    gap = (nxt - expected).abs()
    bad = consecutive & (gap > STOCK_FLOW_TOLERANCE * expected.abs().clip(lower=1))
    for idx in ordered.index[bad]:
        findings.append(
            Finding(
                "warning",
                int(idx) + 1,
                "customers_start",
                f"stock-flow: next month starts with {nxt[idx]:.0f} customers, "
                f"expected {expected[idx]:.0f} (start − churned + new)",
            )
        )
    return findings


def _gap_warnings(df: pd.DataFrame) -> list[Finding]:
    findings = []
    for segment, periods in df.groupby("segment")["period"]:
        months = periods.dropna().sort_values()
        if len(months) < 2:
            continue
        expected = pd.date_range(months.iloc[0], months.iloc[-1], freq="MS")
        missing = expected.difference(pd.DatetimeIndex(months))
        if len(missing):
            shown = ", ".join(m.strftime("%Y-%m") for m in missing[:6])
            findings.append(
                Finding("warning", None, "period", f"segment '{segment}': {len(missing)} missing month(s): {shown}")
            )
    return findings


def validate_panel(raw: pd.DataFrame) -> tuple[pd.DataFrame | None, list[Finding]]:
    """Validate a raw panel table.

    Returns the typed panel (sorted by segment, period; ``None`` when any error was found) and
    every finding, errors first. Units: counts in customers per month, revenue in currency per
    month, csat in % (0–100), nps in points (−100–100), spend in currency per month.
    """
    if raw.shape[1] == 0 or raw.empty:
        return None, [Finding("error", None, None, "the file holds no data rows")]
    df, findings = _coerce(raw)
    already = {(f.row, f.column) for f in findings}
    try:
        PANEL_SCHEMA.validate(df, lazy=True)
    except pa.errors.SchemaErrors as err:
        findings += _findings_from_schema_errors(err, already)
    unknown = [c for c in df.columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS and not c.startswith(SPEND_PREFIX)]
    for column in unknown:
        findings.append(Finding("warning", None, column, "unknown column, ignored"))
    errors = [f for f in findings if f.severity == "error"]
    if not errors:
        findings += _stock_flow_warnings(df) + _gap_warnings(df)
    findings = list(dict.fromkeys(findings))  # the same cell can fail once per checked column
    findings.sort(key=lambda f: (f.severity != "error", f.row is not None, f.row or 0, f.column or ""))
    if errors:
        return None, findings
    panel = df.drop(columns=unknown).sort_values(["segment", "period"]).reset_index(drop=True)
    for column in INTEGER_COLUMNS:
        if column in panel and not panel[column].isna().any():
            panel[column] = panel[column].astype("int64")
    return panel, findings


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    """Findings as a table with columns severity, row, column, problem (for display/export)."""
    return pd.DataFrame([f.as_dict() for f in findings], columns=["severity", "row", "column", "problem"])


def findings_error(source: str, findings: list[Finding]) -> DataError:
    """A :class:`DataError` listing every error finding of ``source``, one per line."""
    lines = [f"  row {f.row or '-'}, column {f.column or '-'}: {f.problem}" for f in findings if f.severity == "error"]
    return DataError(f"{source}: {len(lines)} problem(s) found\n" + "\n".join(lines))


def require_valid(raw: pd.DataFrame, source: str = "panel") -> pd.DataFrame:
    """Validate and return the typed panel, or raise :class:`DataError` listing every error."""
    panel, findings = validate_panel(raw)
    if panel is None:
        raise findings_error(source, findings)
    return panel
