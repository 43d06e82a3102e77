"""Time-slice backtest: refit on the window without its last months, forecast the held-out
months (given their actual customers at start and actual lagged CSAT/NPS) and compare with
naive last-value and seasonal-naive (same month a year earlier) forecasts.

Figures: MAPE in % of the forecast median per metric (churned, revenue, new customers) and the
share of held-out cells inside the 80 % predictive interval.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cxroi.fit.design import Design
from cxroi.fit.diagnostics import PREDICTIVE_INTERVAL, interval
from cxroi.fit.predictive import observed, predict_cells
from cxroi.fit.result import FitResult

HOLDOUT_MONTHS = 6
SEASON = 12
METRIC_COLUMNS = {"churned": "churned", "revenue": "revenue", "new_customers": "new_customers"}


def _mape(forecast: np.ndarray, actual: np.ndarray) -> float:
    """MAPE (%) over cells with a positive actual and a forecast (a naive forecast has none
    when the month it repeats was not observed)."""
    usable = (actual > 0) & np.isfinite(forecast)
    return float(100 * np.mean(np.abs(forecast - actual)[usable] / actual[usable]))


def _last_observed(grid: np.ndarray, stop: int) -> np.ndarray:
    """Per segment, the last finite value of ``grid`` before month ``stop`` (NaN if none)."""
    seen = np.isfinite(grid[:, :stop])
    last = stop - 1 - np.argmax(seen[:, ::-1], axis=1)
    return np.where(seen.any(axis=1), grid[np.arange(grid.shape[0]), last], np.nan)


def run_backtest(design: Design, refit: Callable[[Design], FitResult], rng: np.random.Generator,
                 holdout: int = HOLDOUT_MONTHS) -> dict:
    """Backtest table ``rows`` (one per metric) plus the mean MAPE of the model and of each naive
    baseline over the three metrics; ``refit`` fits the same family on a shorter design.
    Segments with too few observed months before the held-out ones are left out (listed in
    ``excluded_segments``)."""
    cut = design.n_months - holdout
    short = design.truncated(cut)
    excluded = [design.segments[s] for s in short.short_segments()]
    if excluded:
        keep = [s for s in range(design.n_segments) if design.segments[s] not in excluded]
        design, short = design.subset(keep), short.subset(keep)
    fit = refit(short)
    cells = fit.seen(design).cells(first=cut, ref_csat=short.ref_csat, ref_nps=short.ref_nps)
    predicted = predict_cells(fit.draws, cells, rng)
    rows = []
    for metric, actual in observed(cells).items():
        grid = getattr(design, METRIC_COLUMNS[metric])
        last_value = _last_observed(grid, cut)[cells.segment]
        lo, hi = interval(predicted[metric], PREDICTIVE_INTERVAL)
        seasonal = grid[cells.segment, cells.month - SEASON] if cut >= SEASON else None
        rows.append({
            "metric": metric,
            "model_mape_pct": _mape(np.median(predicted[metric], axis=0), actual),
            "naive_last_mape_pct": _mape(last_value, actual),
            "seasonal_naive_mape_pct": None if seasonal is None else _mape(seasonal, actual),
            "coverage_80": float(np.mean((actual >= lo) & (actual <= hi))),
        })
    naive = {k: float(np.mean([r[k] for r in rows])) for k in ("naive_last_mape_pct", "seasonal_naive_mape_pct")
             if all(r[k] is not None for r in rows)}
    return {
        "holdout_months": holdout,
        "excluded_segments": excluded,
        "train_window": short.window(),
        "holdout_window": {"start": f"{design.periods[cut]:%Y-%m}", "end": f"{design.periods[-1]:%Y-%m}"},
        "rows": rows,
        "model_mape_pct": float(np.mean([r["model_mape_pct"] for r in rows])),
        "best_naive_mape_pct": min(naive.values()),
        "naive_mape_pct": naive,
        "refit_convergence": fit.convergence,
    }
