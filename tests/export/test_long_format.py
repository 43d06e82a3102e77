"""The long table (CSV and Parquet): layout, values against the result's arrays, round trips and
the provenance that travels with it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxroi.export import ExportError, export_forecast
from cxroi.export.tables import LONG_COLUMNS, MONTHLY_METRICS, build_tables
from cxroi.export.tabular import provenance_path, read_parquet_provenance
from cxroi.sim.result import SimulationResult, draw_quantiles
from tests.export.conftest import MANIFEST

QUANTILES = (0.1, 0.5, 0.9)


@pytest.fixture(scope="module")
def long(result: SimulationResult) -> pd.DataFrame:
    return build_tables(result, QUANTILES).long


def test_one_row_per_segment_month_metric_quantile(long: pd.DataFrame, result: SimulationResult) -> None:
    assert tuple(long.columns) == LONG_COLUMNS
    assert len(long) == (len(result.segments) + 1) * 6 * len(MONTHLY_METRICS) * len(QUANTILES)
    assert not long.duplicated(["segment", "month", "metric", "quantile"]).any()
    assert set(long["forecast_month"]) == set(range(1, 7))
    assert set(long["unit"]) == {"customers", "USD per month"}  # the default currency code
    assert (long["scenario"] == "Portal for SMB").all() and (long["model_id"] == MANIFEST["model_id"]).all()


def test_values_equal_numpy_quantiles_and_the_results_own_table(long: pd.DataFrame,
                                                                result: SimulationResult) -> None:
    pick = long[(long["segment"] == "Consumer-EU") & (long["metric"] == "cash_flow") & (long["forecast_month"] == 5)]
    np.testing.assert_allclose(pick["value"], np.quantile(result.cash_flow[:, 2, 4], QUANTILES), rtol=1e-12)
    total = long[(long["segment"] == "all") & (long["metric"] == "scenario_churned") & (long["forecast_month"] == 2)]
    np.testing.assert_allclose(total["value"],
                               np.quantile(result.scenario_paths.churned.sum(axis=1)[:, 1], QUANTILES), rtol=1e-12)
    reference = result.monthly_quantiles(QUANTILES)  # the simulation's own table
    reference["month"] = reference["month"].dt.date
    merged = long.merge(reference, on=["segment", "month", "metric", "quantile"], suffixes=("", "_sim"))
    assert len(merged) == len(long) == len(reference)
    np.testing.assert_allclose(merged["value"], merged["value_sim"], rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("n_draws", [1, 2, 7, 400])
def test_draw_quantiles_match_numpy(n_draws: int) -> None:
    values = np.random.default_rng(n_draws).normal(size=(n_draws, 3, 4))
    quantiles = (0.0, 0.025, 0.1, 0.5, 0.9, 0.975, 1.0)
    np.testing.assert_allclose(draw_quantiles(values, quantiles), np.quantile(values, quantiles, axis=0),
                               rtol=1e-13, atol=1e-15)


def test_csv_round_trip_with_provenance_sidecar(result: SimulationResult, long: pd.DataFrame,
                                                tmp_path: Path) -> None:
    path = tmp_path / "forecast.csv"
    written = export_forecast(result, path, "csv")
    assert written == [path, tmp_path / "forecast.provenance.json"] and provenance_path(path) == written[1]
    back = pd.read_csv(path, parse_dates=["month"])
    assert list(back.columns) == list(LONG_COLUMNS)
    assert back["month"].dt.date.tolist() == long["month"].tolist()
    for column in ("segment", "metric", "unit", "forecast_month", "quantile"):
        assert back[column].tolist() == long[column].tolist(), column
    np.testing.assert_array_equal(back["value"].to_numpy(), long["value"].to_numpy())  # exact: repr floats
    document = json.loads(written[1].read_text(encoding="utf-8"))
    assert document["provenance"]["model_id"] == MANIFEST["model_id"]
    assert document["provenance"]["training_window"] == MANIFEST["training_window"]
    assert document["quantiles"] == list(QUANTILES)
    npv = next(row for row in document["summary"] if row["metric"] == "npv")
    assert npv["p50"] == pytest.approx(np.quantile(result.npv, 0.5))
    assert document["prob_roi_positive"] == pytest.approx(np.mean(result.roi > 0))


def test_parquet_round_trip_with_metadata(result: SimulationResult, long: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "forecast.parquet"
    assert export_forecast(result, path, "parquet") == [path]
    back = pd.read_parquet(path)
    assert list(back.columns) == list(LONG_COLUMNS)
    assert back["month"].tolist() == long["month"].tolist()
    pd.testing.assert_frame_equal(back.drop(columns="month"), long.drop(columns="month"), check_dtype=False)
    provenance = read_parquet_provenance(path)["provenance"]
    assert provenance["data_fingerprint"] == MANIFEST["data_fingerprint"]
    assert provenance["diagnostics"] == MANIFEST["diagnostics"]
    assert provenance["seed"] == MANIFEST["seed"]


def test_other_quantiles_can_be_asked(result: SimulationResult, tmp_path: Path) -> None:
    path = tmp_path / "q.parquet"
    export_forecast(result, path, "parquet", quantiles=(0.05, 0.95))
    back = pd.read_parquet(path)
    assert sorted(set(back["quantile"])) == [0.05, 0.95]
    pick = back[(back["segment"] == "SMB-EU") & (back["metric"] == "baseline_revenue") & (back["forecast_month"] == 1)]
    np.testing.assert_allclose(pick["value"], np.quantile(result.baseline.revenue[:, 0, 0], (0.05, 0.95)))


def test_bad_requests_are_clear_errors(result: SimulationResult, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="unknown export format 'pdf'"):
        export_forecast(result, tmp_path / "x.pdf", "pdf")
    with pytest.raises(ExportError, match="strictly between 0 and 1"):
        export_forecast(result, tmp_path / "x.csv", "csv", quantiles=(0.5, 1.5))
    with pytest.raises(ExportError, match="is a folder"):
        export_forecast(result, tmp_path, "csv")
