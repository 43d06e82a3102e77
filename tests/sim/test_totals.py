"""Baseline and with-investment totals: baseline + increment = with investment per draw, month and
segment against the simulation's own arrays, and every export states the quantiles of each of the
three separately (quantiles of a sum are not sums of quantiles)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from cxroi.export import export_forecast
from cxroi.sim.engine import simulate
from cxroi.sim.result import TOTALS, SimulationResult
from cxroi.sim.scenario import parse_scenario

QUANTILES = (0.1, 0.5, 0.9)


@pytest.fixture(scope="module")
def result(plausible) -> SimulationResult:
    """A scenario on the plausible artifact reaching S1 and S3 of S1–S4, all levers on."""
    return simulate(parse_scenario({
        "name": "Totals", "horizon_months": 12, "gross_margin": {"default": 0.6, "segments": {"S3": 0.8}},
        "investments": [{"initiative": "I1", "segments": ["S1", "S3"], "duration_months": 9, "monthly_spend": 15_000,
                         "one_off_cost": 40_000}]}), plausible)


def test_baseline_plus_increment_is_the_world_with_the_investment_draw_by_draw(result: SimulationResult) -> None:
    base, scen = result.baseline, result.scenario_paths
    arrays = {"customers": (base.customers, scen.customers), "churned": (base.churned, scen.churned),
              "new_customers": (base.new_customers, scen.new_customers), "revenue": (base.revenue, scen.revenue)}
    margin = np.array([0.6, 0.6, 0.8, 0.6])[None, :, None]
    arrays["gross_profit"] = (base.revenue * margin, scen.revenue * margin)
    totals = result.totals()
    assert tuple(totals) == TOTALS
    for name, (baseline, scenario) in arrays.items():
        np.testing.assert_allclose(totals[name]["baseline"], baseline, rtol=1e-12)
        np.testing.assert_allclose(totals[name]["scenario"], scenario, rtol=1e-12)
        np.testing.assert_allclose(totals[name]["baseline"] + totals[name]["incremental"], scenario,
                                   rtol=1e-9, atol=1e-6)
    # the segments the plan does not reach are their baseline exactly
    for name in TOTALS:
        np.testing.assert_array_equal(totals[name]["incremental"][:, [1, 3]], 0.0)
    # the revenue increment is the kernel's, and its gross profit the margin's share of it
    np.testing.assert_allclose(totals["revenue"]["incremental"], result.incremental_revenue, rtol=1e-12)
    np.testing.assert_allclose(totals["gross_profit"]["incremental"].sum(axis=1) - result.spend.sum(axis=0),
                               result.cash_flow.sum(axis=1), rtol=1e-9, atol=1e-6)


def _expected(result: SimulationResult, name: str, world: str, segment: str, month: int) -> np.ndarray:
    values = result.totals()[name][world]
    draws = values.sum(axis=1) if segment == "all" else values[:, result.segments.index(segment)]
    return np.quantile(draws[:, month - 1], QUANTILES)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_long_exports_state_each_world_s_own_quantiles(result: SimulationResult, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"totals.{fmt}"
    export_forecast(result, path, fmt, QUANTILES)
    table = pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
    for name in TOTALS:
        for world in ("baseline", "scenario", "incremental"):
            for segment, month in (("S1", 3), ("S2", 7), ("all", 12)):
                rows = table[(table["metric"] == f"{world}_{name}") & (table["segment"] == segment)
                             & (table["forecast_month"] == month)].sort_values("quantile")
                np.testing.assert_allclose(rows["value"], _expected(result, name, world, segment, month),
                                           rtol=1e-9, atol=1e-9)
                unit = "customers" if name in ("customers", "churned", "new_customers") else "USD per month"
                assert set(rows["unit"]) == {unit}


def test_the_workbook_states_them_too(result: SimulationResult, tmp_path: Path) -> None:
    path = tmp_path / "totals.xlsx"
    export_forecast(result, path, "xlsx", QUANTILES)
    sheet = openpyxl.load_workbook(path)["Monthly forecast"]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "S3" and r[2] == 5)
    for label, name, world in (("Gross profit (with investment)", "gross_profit", "scenario"),
                               ("Customers (increment)", "customers", "incremental"),
                               ("New customers (baseline)", "new_customers", "baseline")):
        money = " (USD per month)" if name == "gross_profit" else ""
        cells = [row[header.index(f"{label} {q}{money}")] for q in ("P10", "P50", "P90")]
        np.testing.assert_allclose(cells, _expected(result, name, world, "S3", 5), rtol=1e-9)
