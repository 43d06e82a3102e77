"""The panel contract: one row per segment × calendar month, validated with pandera.

Validation never stops at the first problem: :func:`validate_panel` returns every finding
(row, column, what is wrong) so the CLI and the app can show them all at once.

pandera is imported when a panel is first validated, not with this module: its import takes
1.8–2.7 s (it loads pandas-on-Spark when pyspark is installed), which CLI commands that read no
panel (``simulate``, ``forecast``, ``models`` …) would otherwise pay for :class:`Finding` and
the column names.
"""

from __future__ import annotations

import difflib
import re
import warnings
from dataclasses import asdict, dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from cxroi.data.limits import PANEL_ROWS, panel_size_problems
from cxroi.errors import DataError

if TYPE_CHECKING:
    import pandera.pandas as pa

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
#: survey scores: an empty cell means the survey was not run that month (a warning, not an error)
SURVEY_SCORES = ("csat", "nps")
SPEND_PREFIX = "spend_"
INTEGER_COLUMNS = ("customers_start", "churned", "new_customers", *OPTIONAL_COLUMNS)

#: relative tolerance of the stock-flow identity before a warning is raised
STOCK_FLOW_TOLERANCE = 0.01
#: largest count accepted (customers or survey answers per segment-month): far above any real
#: segment, and small enough that every whole number is exact as a float and fits an int64
MAX_COUNT = 10**12
#: accepted spellings of a period, for messages
PERIOD_FORMATS = "expected YYYY-MM or YYYY-MM-DD"
#: text that is a plain number (202401, 45292.0, 1e5): never read as a date
_NUMBER_TEXT = r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"


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
    import pandera.pandas as pa

    count = [
        pa.Check.ge(0, error="must be ≥ 0"),
        pa.Check.le(MAX_COUNT, error=f"must be at most {MAX_COUNT:,} (a count per segment-month)"),
        pa.Check(_is_whole, error="must be a whole number"),
    ]
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
        "csat": pa.Column(float, pa.Check.in_range(0, 100, error="must be between 0 and 100 (%)"), nullable=True),
        "nps": pa.Column(float, pa.Check.in_range(-100, 100, error="must be between -100 and 100"), nullable=True),
        "csat_responses": pa.Column(float, count, required=False, nullable=True),
        "nps_responses": pa.Column(float, count, required=False, nullable=True),
        f"{SPEND_PREFIX}.+": pa.Column(
            float, pa.Check.ge(0, error="spend must be ≥ 0"), regex=True, required=False, nullable=True
        ),
    }


@cache
def panel_schema() -> pa.DataFrameSchema:
    """The pandera schema of a panel's columns and rows (made on first use)."""
    import pandera.pandas as pa

    return pa.DataFrameSchema(
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


def header_findings(names: list[str]) -> list[Finding]:
    """Problems of a header as a whole: one cell holding ';' or tabs (the file uses another
    separator than ','), or a column name given more than once."""
    if len(names) == 1 and (";" in names[0] or "\t" in names[0]):
        separator = "';'" if ";" in names[0] else "tabs"
        shown = names[0] if len(names[0]) <= 40 else names[0][:40] + "…"
        return [Finding("error", None, None, f"the header is one column '{shown}': the file seems to use "
                                             f"{separator} as separator; save it with ',' between columns")]
    counts = pd.Series(names).value_counts(sort=False)
    return [Finding("error", None, name, f"the column appears {n} times in the header")
            for name, n in counts.items() if n > 1]


def _comparable(name: str) -> str:
    """A column name as people misspell it alike: lower case, runs of spaces, dots and hyphens
    as one underscore ('Customers Start' → 'customers_start')."""
    return re.sub(r"[\s.\-_]+", "_", name.strip().lower())


def missing_column_findings(columns: list[str]) -> tuple[list[Finding], set[str]]:
    """One error per required column absent from ``columns``, naming the present column it was
    probably meant to be ("did you mean …?": same name but for case and separators, or a close
    spelling among the columns cxroi does not know); also returns the columns so named, which are
    then not warned about as unknown."""
    known = set(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    unknown = [c for c in columns if c not in known and not c.startswith(SPEND_PREFIX)]
    findings, named = [], set()
    for column in (c for c in REQUIRED_COLUMNS if c not in columns):
        same = [c for c in unknown if _comparable(c) == column and c not in named]
        close = same or difflib.get_close_matches(column, [c for c in unknown if c not in named], n=1, cutoff=0.75)
        hint = f"; did you mean '{close[0]}'? Rename that column to '{column}'" if close else ""
        named.update(close[:1])
        findings.append(Finding("error", None, column, f"required column is missing{hint}"))
    return findings, named


def _cell_text(value: object) -> str:
    """A raw cell for messages: a whole float without its '.0'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _timestamp(value: object) -> pd.Timestamp:
    """One period cell as a naive timestamp (its local date and time), NaT when it is not a date."""
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return pd.NaT
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp


def _parse_periods(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Period cells as naive datetime64[ns], and the mask of non-empty cells that are not dates.

    Date cells and date text are read; a time zone is dropped, keeping the local date. Numbers
    (202401, an Excel serial such as 45292) and digit-only text are not dates.
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(values.dtype):
        return values.astype("datetime64[ns]"), pd.Series(False, index=values.index)
    present = values.notna()
    if pd.api.types.is_numeric_dtype(values.dtype):
        return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]"), present
    is_number = values.map(lambda v: isinstance(v, (bool, int, float, np.number, np.bool_)))
    number_text = values.astype("string").str.strip().str.fullmatch(_NUMBER_TEXT).fillna(False)
    candidates = values.where(present & ~is_number & ~number_text.astype(bool))
    try:
        parsed = pd.to_datetime(candidates, errors="coerce", format="mixed")
        if parsed.dt.tz is not None:
            parsed = parsed.dt.tz_localize(None)
    except (ValueError, TypeError):  # time zones that differ from cell to cell
        parsed = candidates.map(_timestamp)
    parsed = parsed.astype("datetime64[ns]")
    return parsed, present & parsed.isna()


def _coerce(raw: pd.DataFrame) -> tuple[pd.DataFrame, list[Finding]]:
    """Convert types column by column, recording every cell that cannot be converted."""
    findings: list[Finding] = []
    df = raw.copy()
    df.columns = [str(c).strip() for c in df.columns]
    raw = raw.set_axis(df.columns, axis=1)
    for column in df.columns:
        if column == "segment":
            text = df[column].astype("string").str.strip()
            for idx in df.index[text.isna() | (text == "")]:
                findings.append(Finding("error", int(idx) + 1, column, "segment is empty"))
            df[column] = text.astype(object)
            continue
        if column == "period":
            parsed, bad = _parse_periods(df[column])
            for idx in df.index[bad]:
                findings.append(Finding("error", int(idx) + 1, column,
                                        f"'{_cell_text(raw.at[idx, column])}' is not a date ({PERIOD_FORMATS})"))
            for idx in df.index[df[column].isna()]:
                findings.append(Finding("error", int(idx) + 1, column, "missing value"))
            df[column] = parsed
            continue
        if column in REQUIRED_COLUMNS or column in OPTIONAL_COLUMNS or column.startswith(SPEND_PREFIX):
            numeric = pd.to_numeric(df[column], errors="coerce").astype(float)
            bad = numeric.isna() & raw[column].notna() & (raw[column].astype("string").str.strip() != "")
            for idx in df.index[bad]:
                findings.append(Finding("error", int(idx) + 1, column, f"'{raw.at[idx, column]}' is not a number"))
            for idx in df.index[np.isinf(numeric)]:
                findings.append(Finding("error", int(idx) + 1, column, f"'{raw.at[idx, column]}' is not a finite number"))
            if column in REQUIRED_COLUMNS and column not in SURVEY_SCORES:
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
            continue  # reported once per column by missing_column_findings
        if check == "dtype('datetime64[ns]')" or check.startswith("dtype("):
            continue  # type problems were already reported cell by cell during coercion
        if check == "field_uniqueness" or "unique" in check:
            row = None if pd.isna(index) else int(index) + 1
            if (row, "segment") in already or (row, "period") in already or (None, "segment") in already \
                    or (None, "period") in already:
                continue  # a blank, unreadable or missing key is reported on its own
            findings.append(Finding("error", row, "segment, period", "duplicated segment × period"))
            continue
        row = None if index is None or pd.isna(index) else int(index) + 1
        key = (row, column)
        if key in already:
            continue  # the cell could not be parsed; one message per cell is enough
        message = "missing value" if check == "not_nullable" else check
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


def _unsurveyed(df: pd.DataFrame) -> list[Finding]:
    """Empty CSAT / NPS cells: one warning per column naming the rows (the survey was not run
    that month; the months still count, the score is interpolated by the models), and an error
    for a segment with no score at all in a column (nothing to interpolate from)."""
    findings = []
    for column in SURVEY_SCORES:
        empty = df.index[df[column].isna()]
        if len(empty) == 0:
            continue
        rows = [int(i) + 1 for i in empty]
        shown = ", ".join(map(str, rows[:10])) + (f" and {len(rows) - 10} more" if len(rows) > 10 else "")
        findings.append(Finding("warning", None, column, f"empty in {len(rows)} row(s) ({shown}): read as months "
                                                         "without a survey; the models interpolate the score "
                                                         "between surveyed months"))
        never = df.groupby("segment")[column].count()
        findings += [Finding("error", None, column, f"segment '{segment}' has no {column.upper()} in any month; "
                                                    "at least one surveyed month is needed")
                     for segment, count in never.items() if count == 0]
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


def month_span(periods: pd.Series) -> int:
    """Months from the first to the last of ``periods`` (inclusive; 0 when none is known)."""
    known = periods.dropna()
    if known.empty:
        return 0
    first, last = known.min(), known.max()
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _size_findings(df: pd.DataFrame) -> list[Finding]:
    """The panel's size limits (cxroi.data.limits), checked before the cell-by-cell validation."""
    segments = df["segment"].nunique() if "segment" in df else 0
    months = month_span(df["period"]) if "period" in df else 0
    return [Finding("error", None, None, problem) for problem in panel_size_problems(len(df), segments, months)]


def validate_panel(raw: pd.DataFrame) -> tuple[pd.DataFrame | None, list[Finding]]:
    """Validate a raw panel table.

    Returns the typed panel (sorted by segment, period; ``None`` when any error was found) and
    every finding, errors first. Units: counts in customers per month, revenue in currency per
    month, csat in % (0–100), nps in points (−100–100), spend in currency per month.
    """
    header = header_findings([str(c).strip() for c in raw.columns])
    if header:
        return None, header
    if raw.shape[1] == 0 or raw.empty:
        return None, [Finding("error", None, None, "the file holds no data rows")]
    if too_long := PANEL_ROWS.problem(len(raw), "the panel"):
        return None, [Finding("error", None, None, too_long)]
    df, findings = _coerce(raw)
    if oversized := _size_findings(df):
        return None, oversized
    missing, meant = missing_column_findings(list(df.columns))
    findings += missing
    already = {(f.row, f.column) for f in findings}
    with warnings.catch_warnings():
        # pandera imports pandas-on-Spark (on import and on first validation) whenever pyspark is
        # installed (the spark extra); that module's warning about the pandas version does not
        # concern cxroi, which never uses it
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support", category=FutureWarning)
        import pandera.errors

        try:
            panel_schema().validate(df, lazy=True)
        except pandera.errors.SchemaErrors as err:
            findings += _findings_from_schema_errors(err, already)
    unknown = [c for c in df.columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS and not c.startswith(SPEND_PREFIX)]
    findings += [Finding("warning", None, column, "unknown column, ignored") for column in unknown if column not in meant]
    if all(c in df.columns for c in ("segment", *SURVEY_SCORES)):
        findings += _unsurveyed(df)
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
