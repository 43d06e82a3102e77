"""The finance workbook (XLSX): Summary (with the plausibility review's headline and, for an
approved scenario, its decision record), Plausibility, Caveats, Monthly forecast (baseline,
with-investment and incremental totals), Levers and Segments (the segments the plan reaches),
Assumptions (in plain words, with the lifts and CX effects used) and Provenance. Every money
figure names the configured currency code.

Built by xlsxwriter in memory (a finance workbook is a few thousand rows) and written in one go. Every cell is written
with an explicit type: text through ``write_string`` after :func:`neutralise` (so a name such as
``=HYPERLINK(...)`` stays inert text), numbers through ``write_number`` with a number format;
formula, number and URL detection in strings are switched off as well. Each sheet has a frozen
header row and column widths fitted to its content.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.exceptions import FileCreateError
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from cxroi.export.atomic import write_atomically
from cxroi.export.sanitize import neutralise
from cxroi.export.tables import MONTHLY_METRICS, ForecastTables, flatten, quantile_name
from cxroi.sim.result import quantile_label

WORKBOOK_OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}
NUMBER_FORMATS = {
    "currency": "#,##0",
    "customers": "#,##0",
    "count": "#,##0",
    "fraction": "0.0%",
    "month": "0",
    "decimal": "#,##0.0000",
    "date": "yyyy-mm",
}
#: summary-metric unit → number format
_SUMMARY_FORMATS = {"currency": "currency", "fraction": "fraction", "fraction per year": "fraction",
                    "month": "month", "customers": "customers", "probability": "fraction"}
_SUMMARY_LABELS = {
    "npv": "NPV", "roi": "ROI", "payback_month": "Payback month",
    "discounted_payback_month": "Discounted payback month", "irr": "IRR (per year)",
    "pv_spend": "PV of spend", "incremental_revenue": "Incremental revenue (horizon total)",
    "incremental_customers_end": "Incremental customers at horizon", "terminal_value": "Terminal value",
}
#: what an empty summary statistic means, by metric
_MISSING_TEXT = {"payback_month": "beyond horizon", "discounted_payback_month": "beyond horizon",
                 "irr": "n/a (no sign change)", "roi": "n/a (no spend)"}
_MIN_WIDTH, _MAX_WIDTH = 8, 60

Cell = tuple[Any, str | None]  # value, number-format key


class Sheet:
    """A worksheet written row by row with typed, injection-safe cells."""

    def __init__(self, book: xlsxwriter.Workbook, name: str, formats: dict[str, Format]) -> None:
        self.sheet: Worksheet = book.add_worksheet(name)
        self.formats = formats
        self.row = 0

    def set_widths(self, rows: Sequence[Sequence[Cell]]) -> None:
        """Fit each column to its longest rendered value (bounded)."""
        widths: dict[int, int] = {}
        for cells in rows:
            for col, (value, fmt) in enumerate(cells):
                length = len(_render(value, fmt))
                widths[col] = max(widths.get(col, _MIN_WIDTH), min(length + 2, _MAX_WIDTH))
        for col, width in widths.items():
            self.sheet.set_column(col, col, width)

    def write_rows(self, rows: Sequence[Sequence[Cell]]) -> None:
        for cells in rows:
            for col, (value, fmt) in enumerate(cells):
                self._write(col, value, fmt)
            self.row += 1

    def freeze_here(self) -> None:
        """Freeze every row above the current one."""
        self.sheet.freeze_panes(self.row, 0)

    def _write(self, col: int, value: Any, fmt: str | None) -> None:
        cell_format = self.formats.get(fmt) if fmt else None
        if value is None or (isinstance(value, float) and math.isnan(value)):
            self.sheet.write_blank(self.row, col, None, cell_format)
        elif isinstance(value, bool):
            self.sheet.write_boolean(self.row, col, value, cell_format)
        elif isinstance(value, datetime | date | pd.Timestamp):
            self.sheet.write_datetime(self.row, col, pd.Timestamp(value).to_pydatetime(), self.formats["date"])
        elif isinstance(value, int | float) and math.isfinite(value):
            self.sheet.write_number(self.row, col, float(value), cell_format)
        else:
            self.sheet.write_string(self.row, col, neutralise(str(value)), cell_format)


def _render(value: Any, fmt: str | None) -> str:
    """Approximate displayed text, for column widths."""
    if isinstance(value, float) and math.isfinite(value):
        if fmt == "fraction":
            return f"{value:.1%}"
        return f"{value:,.0f}" if fmt in ("currency", "customers") else f"{value:,.4f}"
    if isinstance(value, datetime | date | pd.Timestamp):
        return "2026-01"
    return "" if value is None else str(value)


def _missing(value: Any) -> bool:
    return value is None or not math.isfinite(value)


def header_cells(names: Sequence[str]) -> list[Cell]:
    return [(name, "header") for name in names]


def _python(value: Any) -> Any:
    """numpy scalars → Python scalars (xlsxwriter's typed writers want plain numbers)."""
    return value.item() if hasattr(value, "item") else value


def frame_rows(frame: pd.DataFrame, column_format: Callable[[str], str | None]) -> list[list[Cell]]:
    formats = [column_format(str(c)) for c in frame.columns]
    return [[(_python(v), f) for v, f in zip(row, formats, strict=True)]
            for row in frame.itertuples(index=False, name=None)]


def write_table(sheet: Sheet, header: Sequence[str], rows: list[list[Cell]],
                 above: Sequence[Sequence[Cell]] = ()) -> None:
    """Optional key-value rows, then a header row (frozen) and the table rows."""
    sheet.set_widths([*above, header_cells(header), *rows])
    if above:
        sheet.write_rows(above)
        sheet.row += 1
    sheet.write_rows([header_cells(header)])
    sheet.freeze_here()
    sheet.write_rows(rows)


#: plausibility check → the summary metric it qualifies
_FLAGGED_METRIC = {"roi": "roi", "irr": "irr", "payback": "payback_month"}
#: decision record field → its label on the Summary sheet
_DECISION_LABELS = {"id": "Decision record", "version": "Scenario version approved", "approved_by": "Approved by",
                    "approved_at": "Approved at", "model_id": "Valued on model",
                    "superseded_by": "Superseded by decision"}


def _summary_format(unit: str, currency: str) -> str:
    return "currency" if unit == currency else _SUMMARY_FORMATS.get(unit, "decimal")


def _decision_rows(decision: dict | None) -> list[list[Cell]]:
    """The decision record block of an approved scenario's export (nothing otherwise)."""
    if not decision:
        return []
    rows = [[(label, "bold"), (_python(decision.get(key)), None)] for key, label in _DECISION_LABELS.items()
            if decision.get(key) is not None]
    if decision.get("same_model") is False:
        rows.append([("Note", "bold"), ("these figures are not on the decision's model", None)])
    return rows


def _summary(sheet: Sheet, tables: ForecastTables) -> None:
    labels = [quantile_name(q) for q in tables.quantiles]
    quantile_keys = [quantile_label(q) for q in tables.quantiles]
    flagged = {_FLAGGED_METRIC[check] for check in tables.flagged if check in _FLAGGED_METRIC}
    rows = []
    for record in tables.summary.to_dict(orient="records"):
        metric = record["metric"]
        fmt = _summary_format(record["unit"], tables.currency)
        cells: list[Cell] = [(_SUMMARY_LABELS.get(metric, metric), None), (record["unit"], None)]
        for key in quantile_keys:
            value = record.get(key)
            cells.append((_MISSING_TEXT.get(metric) if _missing(value) else value, fmt))
        mean = record.get("mean")
        cells.append(("n/a" if _missing(mean) else mean, fmt))
        cells.append(("FLAG: implausible, see Plausibility" if metric in flagged else "", None))
        rows.append(cells)
    n_flags = int((tables.plausibility["severity"] == "flag").sum())
    n_review = len(tables.plausibility) - n_flags
    said = ([f"{n_flags} flag{'s' * (n_flags != 1)}"] if n_flags else ["no flag"]) + (
        [f"{n_review} item{'s' * (n_review != 1)} to review"] if n_review else [])
    review = ", ".join(said) + (": see the Plausibility sheet" if len(tables.plausibility) else "")
    above = [
        [("Scenario", "bold"), (tables.scenario_name, None)],
        [("Description", "bold"), (tables.scenario_description, None)],
        [("Model", "bold"), (tables.model_id, None)],
        [("Currency", "bold"), (tables.currency, None)],
        [("Parameter draws", "bold"), (tables.n_draws, "count")],
        [("P(ROI > 0)", "bold"), (tables.prob_roi_positive, "fraction")],
        [("Plausibility review", "bold"), (review, None)],
        *_decision_rows(tables.provenance.get("decision")),
    ]
    write_table(sheet, ["Measure", "Unit", *labels, "Mean", "Plausibility"], rows, above)


def _monthly_format(column: str) -> str | None:
    """Number format of a Monthly forecast column: the metric's unit (Segment and Month: none)."""
    if column == "Forecast month":
        return "month"
    for label, unit in MONTHLY_METRICS.values():
        if column.startswith(label + " "):
            return unit
    return None


def _monthly_frame(tables: ForecastTables) -> pd.DataFrame:
    """The wide monthly table with each money column's header naming the currency per month."""
    wide = tables.monthly_wide()
    return wide.rename(columns={c: f"{c} ({tables.currency} per month)" for c in wide.columns
                                if _monthly_format(c) == "currency"})


def _table_format(column: str) -> str | None:
    """Number format of a Levers or Segments column."""
    if column in ("segment", "lever"):
        return None
    return "fraction" if column in ("share_of_value", "gross_margin", "prob_npv_positive") else (
        "customers" if column == "incremental_customers_end" else "currency")


_HEADERS = {"prob_npv_positive": "P(NPV > 0)", "pv_spend": "PV of spend"}


def pretty_header(column: str, currency: str | None = None, fmt: str | None = None) -> str:
    """Column header: 'share_of_value' → 'Share of value', 'p10' → 'P10', 'npv_p10' → 'NPV P10';
    a money column (``fmt`` "currency") ends with the ``currency`` code: 'PV of spend (EUR)'."""
    if column in _HEADERS:
        text = _HEADERS[column]
    else:
        words = [w.upper() if w == "npv" or (w[:1] == "p" and w[1:].replace(".", "").isdigit()) else w
                 for w in column.split("_")]
        text = " ".join(words)
        text = text[:1].upper() + text[1:]
    return f"{text} ({currency})" if currency and fmt == "currency" else text


def frame_sheet(sheet: Sheet, frame: pd.DataFrame, column_format: Callable[[str], str | None],
                 currency: str | None = None) -> None:
    write_table(sheet, [pretty_header(str(c), currency, column_format(str(c))) for c in frame.columns],
                 frame_rows(frame, column_format))


def _assumption_format(value: Any, unit: str, currency: str) -> str | None:
    if unit.startswith("fraction"):
        return "fraction"
    if unit.startswith(currency):
        return "currency"
    return "decimal" if isinstance(value, float) else None


def _assumptions(sheet: Sheet, tables: ForecastTables) -> None:
    rows = []
    for item, value, unit, basis in tables.assumptions.itertuples(index=False, name=None):
        value = _python(value)
        rows.append([(item, None), (value, _assumption_format(value, unit, tables.currency)), (unit, None),
                     (basis, None)])
    write_table(sheet, ["Assumption", "Value", "Unit", "Basis"], rows)


def _plausibility(sheet: Sheet, tables: ForecastTables) -> None:
    """The plausibility review's findings, or one line saying it raised none."""
    frame = tables.plausibility if len(tables.plausibility) else pd.DataFrame(
        [("none", "The plausibility review raised no flag and no item to review.", "", "")],
        columns=tables.plausibility.columns)
    frame_sheet(sheet, frame, lambda _column: None)


def _caveats(sheet: Sheet, tables: ForecastTables) -> None:
    """The model's caveats that concern the forecast, or one line saying there are none."""
    frame = tables.caveats if len(tables.caveats) else pd.DataFrame(
        [("The model records no caveat for the segments and effects of this scenario.", "", "", "")],
        columns=tables.caveats.columns)
    frame_sheet(sheet, frame, lambda _column: None)


def _provenance(sheet: Sheet, tables: ForecastTables) -> None:
    rows = [[(field, None), (_python(value), "decimal" if isinstance(value, float) else None)]
            for field, value in flatten(tables.provenance)]
    write_table(sheet, ["Field", "Value"], rows)


def cell_formats(book: xlsxwriter.Workbook) -> dict[str, Format]:
    formats = {key: book.add_format({"num_format": spec}) for key, spec in NUMBER_FORMATS.items()}
    formats["header"] = book.add_format({"bold": True, "bottom": 1})
    formats["bold"] = book.add_format({"bold": True})
    return formats


def workbook_bytes(fill: Callable[[xlsxwriter.Workbook, dict[str, Format]], None]) -> bytes:
    """The bytes of a workbook that ``fill`` writes (given the book and :func:`cell_formats`).
    xlsxwriter builds it in memory (``in_memory``: no temporary parts of its own on any disk), so
    a failure leaves nothing behind and no file open."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    try:
        fill(book, cell_formats(book))
    except BaseException:
        with contextlib.suppress(Exception):
            book.close()  # the output is discarded
        raise
    try:
        book.close()
    except FileCreateError as exc:  # xlsxwriter's wrapper of the OSError that stopped it
        cause = exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else None
        raise OSError(*(cause.args if cause else (str(exc),))) from exc
    return bytes(buffer.getbuffer())


def _fill_workbook(tables: ForecastTables, book: xlsxwriter.Workbook, formats: dict[str, Format]) -> None:
    _summary(Sheet(book, "Summary", formats), tables)
    _plausibility(Sheet(book, "Plausibility", formats), tables)
    _caveats(Sheet(book, "Caveats", formats), tables)
    frame_sheet(Sheet(book, "Monthly forecast", formats), _monthly_frame(tables), _monthly_format)
    frame_sheet(Sheet(book, "Levers", formats), tables.levers, _table_format, tables.currency)
    frame_sheet(Sheet(book, "Segments", formats), tables.segments, _table_format, tables.currency)
    _assumptions(Sheet(book, "Assumptions", formats), tables)
    _provenance(Sheet(book, "Provenance", formats), tables)


def write_built(build: Callable[[], bytes], path: str | Path) -> list[Path]:
    """Write the bytes ``build`` returns atomically to ``path`` (built while the temporary file
    is held, so an interrupted build leaves only a temporary file the next write sweeps);
    returns ``[path]``."""
    path = Path(path)
    write_atomically(path, lambda tmp: tmp.write_bytes(build()))
    return [path]


def write_xlsx(tables: ForecastTables, path: str | Path) -> list[Path]:
    """Write the workbook atomically to ``path``; returns ``[path]``."""
    return write_built(lambda: workbook_bytes(lambda book, formats: _fill_workbook(tables, book, formats)), path)
