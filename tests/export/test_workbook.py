"""The XLSX workbook, read back with openpyxl and checked cell by cell against numpy computations
on the simulation result's own arrays (never against the export code's tables)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from cxroi.errors import CxroiError
from cxroi.export import export_forecast
from cxroi.sim.result import SimulationResult
from tests.export.conftest import MANIFEST

QUANTILES = (0.1, 0.5, 0.9)
SHEETS = ["Summary", "Plausibility", "Caveats", "Monthly forecast", "Levers", "Segments", "Assumptions", "Provenance"]
#: the Summary sheet's key rows above its table: scenario, description, model, currency, draws,
#: P(ROI > 0) and the plausibility review's headline
KEY_ROWS = 7


@pytest.fixture(scope="module")
def book(result: SimulationResult, tmp_path_factory) -> openpyxl.Workbook:
    path = tmp_path_factory.mktemp("xlsx") / "forecast.xlsx"
    assert export_forecast(result, path, "xlsx") == [path]
    return openpyxl.load_workbook(path)


def _rows(sheet, first: int = 1) -> list[tuple]:
    return [row for row in sheet.iter_rows(min_row=first, values_only=True) if any(v is not None for v in row)]


def _table(sheet, header_row: int) -> tuple[list[str], list[tuple]]:
    header = [c.value for c in sheet[header_row]]
    return header, _rows(sheet, header_row + 1)


def test_sheets_headers_are_frozen_and_columns_sized(book: openpyxl.Workbook) -> None:
    assert book.sheetnames == SHEETS
    assert book["Summary"].freeze_panes == f"A{KEY_ROWS + 3}"  # key rows, a blank row, then the table header
    for name in SHEETS[1:]:
        assert book[name].freeze_panes == "A2", name
        widths = [book[name].column_dimensions[c].width for c in "AB"]
        assert all(w and w >= 8 for w in widths), (name, widths)


def test_summary_matches_the_draws(book: openpyxl.Workbook, result: SimulationResult) -> None:
    sheet = book["Summary"]
    top = {row[0]: row[1] for row in _rows(sheet)[:KEY_ROWS]}
    assert top["Scenario"] == "Portal for SMB"
    assert top["Currency"] == "USD"  # the default ISO 4217 code when CXROI_CURRENCY is not set
    assert top["Model"] == MANIFEST["model_id"]
    assert top["Parameter draws"] == 200
    assert top["P(ROI > 0)"] == pytest.approx(np.mean(result.roi > 0))
    assert 0 < top["P(ROI > 0)"] < 1  # the fixture is built near break-even, so this is informative
    header, rows = _table(sheet, KEY_ROWS + 2)
    assert header == ["Measure", "Unit", "P10", "P50", "P90", "Mean", "Plausibility"]
    assert {row[0]: row[1] for row in rows}["NPV"] == "USD"
    by_measure = {row[0]: row[2:6] for row in rows}
    np.testing.assert_allclose(by_measure["NPV"], [*np.quantile(result.npv, QUANTILES), result.npv.mean()])
    roi = result.roi[np.isfinite(result.roi)]
    np.testing.assert_allclose(by_measure["ROI"], [*np.quantile(roi, QUANTILES), roi.mean()])
    # IRR: draws without one (no sign change) rank last when their NPV is negative, first otherwise;
    # a quantile or mean among them reads "n/a"
    ranked = np.sort(np.where(np.isnan(result.irr), np.where(result.npv < 0, -np.inf, np.inf), result.irr))
    expected = [ranked[int(np.ceil(q * len(ranked))) - 1] for q in QUANTILES]
    expected.append(np.nan if np.isnan(result.irr).any() else result.irr.mean())
    for value, want in zip(by_measure["IRR (per year)"], expected, strict=True):
        assert str(value).startswith("n/a") if not np.isfinite(want) else value == pytest.approx(want)
    # payback: draws that never pay back rank last; a quantile among them reads "beyond horizon"
    ranked = np.sort(np.where(np.isnan(result.payback_month), np.inf, result.payback_month))
    expected = [ranked[int(np.ceil(q * len(ranked))) - 1] for q in QUANTILES]
    shown = by_measure["Payback month"][:3]
    for value, want in zip(shown, expected, strict=True):
        assert value == ("beyond horizon" if np.isinf(want) else want)
    assert by_measure["Payback month"][3] == "n/a"  # some draws never pay back: no mean
    npv_cell = next(r for r in sheet.iter_rows(min_row=KEY_ROWS + 3) if r[0].value == "NPV")[3]
    roi_cell = next(r for r in sheet.iter_rows(min_row=KEY_ROWS + 3) if r[0].value == "ROI")[3]
    assert npv_cell.number_format == "#,##0" and roi_cell.number_format == "0.0%"


@pytest.mark.parametrize(("segment", "month", "label", "q"), [
    ("SMB-EU", 1, "Customers (baseline)", 0.1),
    ("Enterprise-NA", 4, "Revenue (with investment)", 0.5),
    ("Consumer-EU", 6, "New customers (with investment)", 0.9),
    ("SMB-EU", 3, "Cumulative cash flow", 0.5),
    ("all", 2, "Revenue (increment)", 0.9),
    ("Enterprise-NA", 1, "Spend", 0.5),
    ("SMB-EU", 5, "Gross profit (baseline)", 0.1),
    ("Enterprise-NA", 2, "Churned (increment)", 0.5),
])
def test_monthly_forecast_cells_equal_quantiles_of_the_arrays(
        book: openpyxl.Workbook, result: SimulationResult, segment: str, month: int, label: str,
        q: float) -> None:
    arrays = {
        "Customers (baseline)": result.baseline.customers,
        "Revenue (with investment)": result.scenario_paths.revenue,
        "New customers (with investment)": result.scenario_paths.new_customers,
        "Cumulative cash flow": np.cumsum(result.cash_flow, axis=-1),
        "Revenue (increment)": result.scenario_paths.revenue - result.baseline.revenue,
        "Spend": np.broadcast_to(result.spend, result.cash_flow.shape),
        "Gross profit (baseline)": result.baseline.revenue * result.gross_margin[None, :, None],
        "Churned (increment)": result.scenario_paths.churned - result.baseline.churned,
    }
    values = arrays[label]
    draws = values.sum(axis=1) if segment == "all" else values[:, result.segments.index(segment)]
    header, rows = _table(book["Monthly forecast"], 1)
    row = next(r for r in rows if r[0] == segment and r[2] == month)
    assert row[1].strftime("%Y-%m") == f"2026-{month:02d}"
    money = label.startswith(("Revenue", "Gross profit", "Cumulative", "Spend"))
    cell = row[header.index(f"{label} P{100 * q:g}" + (" (USD per month)" if money else ""))]
    assert cell == pytest.approx(np.quantile(draws[:, month - 1], q), rel=1e-12)


def test_monthly_forecast_layout(book: openpyxl.Workbook, result: SimulationResult) -> None:
    header, rows = _table(book["Monthly forecast"], 1)
    assert header[:3] == ["Segment", "Month", "Forecast month"]
    assert len(header) == 3 + 18 * 3  # 5 totals × (baseline, with investment, increment) + 3 flows, at P10/P50/P90
    assert len(rows) == (len(result.segments) + 1) * 6
    assert [r[0] for r in rows[::6]] == [*result.segments, "all"]
    sheet = book["Monthly forecast"]
    assert sheet.cell(row=2, column=header.index("Revenue (with investment) P50 (USD per month)") + 1).number_format == "#,##0"
    assert sheet.cell(row=2, column=2).number_format == "yyyy-mm"


def test_levers_and_segments(book: openpyxl.Workbook, result: SimulationResult) -> None:
    header, rows = _table(book["Levers"], 1)
    assert header == ["Segment", "Lever", "Mean (USD)", "P10 (USD)", "P50 (USD)", "P90 (USD)", "Share of value"]
    assert {r[0] for r in rows} == {"SMB-EU", "Enterprise-NA", "all"}  # Consumer-EU is not reached
    row = next(r for r in rows if r[0] == "Enterprise-NA" and r[1] == "arpu")
    draws = result.value_by_lever["arpu"][:, 1]
    np.testing.assert_allclose(row[2:6], [draws.mean(), *np.quantile(draws, QUANTILES)])
    assert row[6] == pytest.approx(0.3)  # the fixture splits value 50/30/20 over the levers
    header, rows = _table(book["Segments"], 1)
    discount = (1 + result.monthly_rate) ** -np.arange(1, 7)
    npv = (result.cash_flow * discount).sum(axis=-1) + result.terminal_value
    # only the segments the plan reaches: an unreached segment's "P(NPV > 0) 0 %" says nothing
    assert [row[header.index("Segment")] for row in rows] == ["SMB-EU", "Enterprise-NA"]
    for s, row in enumerate(rows):
        assert row[header.index("NPV P50 (USD)")] == pytest.approx(np.quantile(npv[:, s], 0.5))
        assert row[header.index("P(NPV > 0)")] == pytest.approx(np.mean(npv[:, s] > 0))
        assert row[header.index("PV of spend (USD)")] == pytest.approx((result.spend[s] * discount).sum())


def test_assumptions_are_in_plain_words(book: openpyxl.Workbook) -> None:
    header, rows = _table(book["Assumptions"], 1)
    assert header == ["Assumption", "Value", "Unit", "Basis"]
    items = {row[0]: row[1:] for row in rows}
    assert not any("scenario." in item or "[" in item for item in items)  # no developer keys
    assert items["Forecast horizon"][:2] == (6, "months")
    assert items["Annual discount rate"][:2] == (0.08, "fraction per year")
    assert items["Value counted"][0] == ("fewer customers lost (churn); higher revenue per customer; "
                                        "more new customers (referrals)")
    assert items["Terminal value"][0] == "not counted"
    assert items["Gross margin, SMB-EU"][0] == 0.65 and items["Gross margin, Enterprise-NA"][0] == 0.7
    assert "Gross margin, Consumer-EU" not in items  # not reached
    assert items["Investment 1: one-off cost"][:2] == (50_000, "USD")
    assert items["Investment 1: monthly spend per segment"][:2] == (12_000, "USD per month")
    rate_row = next(i for i, r in enumerate(rows) if r[0] == "Annual discount rate")
    assert book["Assumptions"].cell(row=rate_row + 2, column=2).number_format == "0.0%"


def test_the_review_sheet_says_when_nothing_was_raised(book: openpyxl.Workbook, result: SimulationResult) -> None:
    assert result.plausibility == ()  # the fixture knows no model: no caveat, and its figures are modest
    header, rows = _table(book["Plausibility"], 1)
    assert header == ["Severity", "Finding", "Segments", "Check"]
    assert rows == [("none", "The plausibility review raised no flag and no item to review.", "", "")]
    top = {row[0]: row[1] for row in _rows(book["Summary"])[:KEY_ROWS]}
    assert top["Plausibility review"] == "no flag"


def test_currency_code_is_configured_and_checked(result: SimulationResult, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CXROI_CURRENCY", "EUR")
    path = tmp_path / "eur.xlsx"
    export_forecast(result, path, "xlsx")
    book = openpyxl.load_workbook(path)
    assert {row[0]: row[1] for row in _rows(book["Summary"])[:KEY_ROWS]}["Currency"] == "EUR"
    assert "PV of spend (EUR)" in [c.value for c in book["Segments"][1]]
    units = {row[2] for row in _rows(book["Assumptions"], 2)}
    assert {"EUR", "EUR per month"} <= units and not any("USD" in str(u) or "currency" in str(u) for u in units)
    monkeypatch.setenv("CXROI_CURRENCY", "euro")
    with pytest.raises(CxroiError, match=r"CXROI_CURRENCY must be an ISO 4217 currency code .*found 'euro'"):
        export_forecast(result, tmp_path / "bad.xlsx", "xlsx")
    assert not (tmp_path / "bad.xlsx").exists()


def test_provenance_matches_the_manifest(book: openpyxl.Workbook) -> None:
    header, rows = _table(book["Provenance"], 1)
    assert header == ["Field", "Value"]
    fields = dict(rows)
    assert fields["model_id"] == MANIFEST["model_id"]
    assert fields["family"] == "bayes"
    assert fields["training_window.start"] == "2023-01" and fields["training_window.end"] == "2025-12"
    assert fields["data_fingerprint"] == MANIFEST["data_fingerprint"]
    for key, value in MANIFEST["diagnostics"].items():
        assert fields[f"diagnostics.{key}"] == value
    assert fields["model_cxroi_version"] == "0.1.0" and fields["cxroi_version"] == "0.1.0"
    assert fields["model_created_at"] == MANIFEST["created_at"]
    assert fields["seed"] == 11
    assert fields["scenario"] == "Portal for SMB" and fields["n_draws"] == 200
    assert fields["exported_at"].startswith("20")


def test_output_is_a_real_zip_with_no_formulas(result: SimulationResult, tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    export_forecast(result, path, "xlsx")
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == len(SHEETS)
        assert not any(b"<f>" in archive.read(n) for n in sheets)


def test_an_approved_scenario_s_workbook_names_its_decision(result: SimulationResult, tmp_path: Path) -> None:
    import dataclasses

    from cxroi.export import write_tables
    from cxroi.export.tables import build_tables

    tables = build_tables(result, QUANTILES)
    decision = {"id": 7, "scenario": "Portal for SMB", "version": 3, "approved_by": "cfo@example.com",
                "approved_at": "2026-02-03T10:00:00+00:00", "model_id": "bayes-other", "superseded_by": None,
                "same_model": False}
    tables = dataclasses.replace(tables, provenance={**tables.provenance, "decision": decision})
    path = tmp_path / "approved.xlsx"
    write_tables(tables, path, "xlsx")
    top = {row[0]: row[1] for row in _rows(openpyxl.load_workbook(path)["Summary"]) if row[0]}
    assert top["Decision record"] == 7 and top["Scenario version approved"] == 3
    assert top["Approved by"] == "cfo@example.com" and top["Valued on model"] == "bayes-other"
    assert "Superseded by decision" not in top  # not superseded
    assert top["Note"] == "these figures are not on the decision's model"
