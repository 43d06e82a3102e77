"""The tracking workbook (XLSX) of one approved decision: Summary (the decision, the status with
its probabilities and, per metric to date, the promised band beside the realised increment),
Monthly (promised band and realised quantiles month by month, cumulative from the start), CX lift
(realised against assumed), Proposed pilots (for the analyst's next retraining; never applied)
and Caveats. Money figures name the configured currency code; written with the finance
workbook's typed, injection-safe cells (:mod:`cxroi.export.workbook`).
"""

from __future__ import annotations

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format

from cxroi.export.currency import currency_code
from cxroi.export.workbook import Cell, Sheet, frame_sheet, workbook_bytes, write_table
from cxroi.track import METRIC_LABELS, Tracking

#: columns of the Summary and Monthly sheets: promised band, then the realised mean and quantiles
_BAND_COLUMNS = ("promised_p10", "promised_p50", "promised_p90", "realised_mean", "realised_p5", "realised_p10",
                 "realised_p50", "realised_p90", "realised_p95")
_BAND_HEADERS = ("Promised P10", "Promised P50", "Promised P90", "Realised mean", "Realised P5", "Realised P10",
                 "Realised P50", "Realised P90", "Realised P95")
_LIFT_HEADERS = {"metric": "Score", "method": "Measured", "realised": "Realised lift (points)", "se": "Standard error",
                 "p5": "Realised P5", "p10": "Realised P10", "p90": "Realised P90", "p95": "Realised P95",
                 "assumed_mean": "Assumed lift (points)", "assumed_p5": "Assumed P5", "assumed_p95": "Assumed P95"}
_PILOT_HEADERS = {"initiative": "Initiative", "segment": "Segment", "metric": "Score", "lift": "Lift at full effect",
                  "se": "Standard error", "method": "Measured", "share_of_full_effect": "Share of full effect so far"}


def _unit_format(unit: str) -> str:
    return "customers" if unit == "customers" else "currency"


def _unit_label(unit: str, currency: str) -> str:
    return currency if unit == "currency" else unit


def _summary(sheet: Sheet, tracking: Tracking, currency: str) -> None:
    p = tracking.probabilities
    above: list[list[Cell]] = [
        [("Decision", "bold"), (tracking.decision_id, "count")],
        [("Scenario", "bold"), (tracking.scenario_name, None)],
        [("Model", "bold"), (tracking.model_id, None)],
        [("Months tracked", "bold"), (f"{tracking.months_tracked} ({tracking.first_month:%Y-%m} to "
                                      f"{tracking.last_month:%Y-%m})", None)],
        [("Segments reached", "bold"), (", ".join(tracking.reached), None)],
        [("Untreated segments", "bold"), (", ".join(tracking.untreated) or "none", None)],
        [("Status", "bold"), (tracking.status, None)],
        [("P(behind)", "bold"), (p["behind"], "fraction")],
        [("P(on track)", "bold"), (p["on track"], "fraction")],
        [("P(ahead)", "bold"), (p["ahead"], "fraction")],
        [("Status rule", "bold"), ("cumulative incremental revenue to date against the promised P10–P90; a status "
                                   "needs a probability of 90 %", None)],
    ]
    rows = []
    for record in tracking.summary.to_dict(orient="records"):
        fmt = _unit_format(record["unit"])
        rows.append([(METRIC_LABELS.get(record["metric"], record["metric"]), None),
                     (_unit_label(record["unit"], currency), None),
                     *[(float(record[c]), fmt) for c in _BAND_COLUMNS]])
    write_table(sheet, ["Measure", "Unit", *_BAND_HEADERS], rows, above)


def _monthly(sheet: Sheet, tracking: Tracking, currency: str) -> None:
    rows = []
    for record in tracking.monthly.to_dict(orient="records"):
        fmt = _unit_format(record["unit"])
        rows.append([(record["month"], None), (int(record["forecast_month"]), "month"),
                     (METRIC_LABELS.get(record["metric"], record["metric"]), None),
                     (_unit_label(record["unit"], currency), None),
                     *[(float(record[c]), fmt) for c in _BAND_COLUMNS]])
    write_table(sheet, ["Month", "Forecast month", "Measure", "Unit", *_BAND_HEADERS], rows)


def _renamed(frame: pd.DataFrame, headers: dict[str, str], empty: str) -> pd.DataFrame:
    """``frame`` with its known columns renamed (in ``headers`` order), or one line saying ``empty``."""
    if frame.empty:
        return pd.DataFrame({"Note": [empty]})
    return frame[[c for c in headers if c in frame.columns]].rename(columns=headers)


def _scores_upper(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its score names as people write them (csat → CSAT)."""
    return frame.assign(metric=frame["metric"].str.upper()) if "metric" in frame.columns else frame


def _lift_format(column: str) -> str | None:
    return None if column in ("Score", "Measured", "Initiative", "Segment") else (
        "fraction" if column == "Share of full effect so far" else "decimal")


def _fill(tracking: Tracking, currency: str, book: xlsxwriter.Workbook, formats: dict[str, Format]) -> None:
    _summary(Sheet(book, "Summary", formats), tracking, currency)
    _monthly(Sheet(book, "Monthly", formats), tracking, currency)
    frame_sheet(Sheet(book, "CX lift", formats),
                _renamed(_scores_upper(tracking.lift), _LIFT_HEADERS, "no CX lift could be measured"), _lift_format)
    frame_sheet(Sheet(book, "Proposed pilots", formats),
                _renamed(_scores_upper(tracking.pilots), _PILOT_HEADERS, "no pilot result can be proposed yet"),
                _lift_format)
    caveats = pd.DataFrame({"Caveat": list(tracking.caveats) or ["none"]})
    frame_sheet(Sheet(book, "Caveats", formats), caveats, lambda _column: None)


def tracking_workbook(tracking: Tracking, currency: str | None = None) -> bytes:
    """The tracking workbook's bytes (``currency``: ISO code; default the configured one)."""
    code = currency or currency_code()
    return workbook_bytes(lambda book, formats: _fill(tracking, code, book, formats))

