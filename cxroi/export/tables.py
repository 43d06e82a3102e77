"""The tables every forecast export is written from, derived from one :class:`SimulationResult`.

Units: customers are counts (expected values per draw), revenue, spend and cash flow are currency
per month, NPV and lever values are present values (currency) at the start of forecast month 1,
ROI, IRR, margins and rates are fractions (IRR and the discount rate per year).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from cxroi.sim.result import DEFAULT_QUANTILES, MONTHLY_UNITS, SimulationResult, quantile_label

#: long-table metric → (label in the workbook, unit); metrics and units are the simulation's
MONTHLY_METRICS: dict[str, tuple[str, str]] = {
    metric: (label, MONTHLY_UNITS[metric])
    for metric, label in {
        "baseline_customers": "Customers (baseline)", "scenario_customers": "Customers (scenario)",
        "baseline_churned": "Churned (baseline)", "scenario_churned": "Churned (scenario)",
        "baseline_new_customers": "New customers (baseline)", "scenario_new_customers": "New customers (scenario)",
        "baseline_revenue": "Revenue (baseline)", "scenario_revenue": "Revenue (scenario)",
        "incremental_revenue": "Incremental revenue", "spend": "Spend", "cash_flow": "Cash flow",
        "cumulative_cash_flow": "Cumulative cash flow",
    }.items()
}

#: columns of the long table, in order
LONG_COLUMNS = ("scenario", "model_id", "segment", "month", "forecast_month", "metric", "unit",
                "quantile", "value")

#: unit of a scenario field, by the field's own name (the last part of its path)
_FIELD_UNITS = {
    "horizon_months": "months",
    "annual_discount_rate": "fraction per year",
    "one_off_cost": "currency",
    "monthly_spend": "currency per segment per month",
    "start_month": "forecast month (1-based)",
    "duration_months": "months",
    "mean": "survey points",
    "sd": "survey points",
}


def quantile_name(q: float) -> str:
    """Workbook label of a quantile: 0.1 → 'P10', 0.025 → 'P2.5'."""
    return quantile_label(q).upper()


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested mappings and lists as (dotted path, scalar) pairs; a list of scalars becomes one
    comma-separated text, a list of mappings is indexed (``investments[0].initiative``)."""
    if isinstance(value, Mapping):
        pairs: list[tuple[str, Any]] = []
        for key, item in value.items():
            pairs += flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return pairs
    if isinstance(value, list | tuple):
        if all(not isinstance(item, Mapping | list | tuple) for item in value):
            return [(prefix, ", ".join(str(item) for item in value))]
        pairs = []
        for index, item in enumerate(value):
            pairs += flatten(item, f"{prefix}[{index}]")
        return pairs
    return [(prefix, value)]


def _field_unit(path: str) -> str:
    if path.startswith("gross_margin"):
        return "fraction of revenue"
    return _FIELD_UNITS.get(path.rsplit(".", 1)[-1], "")


def assumptions_table(result: SimulationResult) -> pd.DataFrame:
    """Every scenario input, then the margin applied to each segment and the discount rates:
    columns item, value, unit."""
    rows = [(f"scenario.{path}", value, _field_unit(path)) for path, value in flatten(result.scenario.to_dict())]
    rows += [(f"gross margin applied.{segment}", float(margin), "fraction of revenue")
             for segment, margin in zip(result.segments, result.gross_margin, strict=True)]
    rows += [
        ("annual discount rate", float(result.scenario.annual_discount_rate), "fraction per year"),
        ("monthly discount rate", float(result.monthly_rate), "fraction per month"),
        ("forecast months", f"{result.months[0]:%Y-%m} to {result.months[-1]:%Y-%m}", ""),
        ("parameter draws", result.n_draws, "draws"),
    ]
    return pd.DataFrame(rows, columns=["item", "value", "unit"])


def long_table(result: SimulationResult, quantiles: Sequence[float]) -> pd.DataFrame:
    """The simulation's monthly quantiles (:meth:`SimulationResult.monthly_quantiles`) with the
    scenario, model, forecast month (1-based) and unit of every row. Columns :data:`LONG_COLUMNS`."""
    table = result.monthly_quantiles(quantiles)
    table["forecast_month"] = (result.months.get_indexer(table["month"]) + 1).astype(np.int32)
    table["month"] = np.asarray(table["month"].dt.date, dtype=object)
    table["unit"] = table["metric"].map(MONTHLY_UNITS)
    table.insert(0, "model_id", result.model_id)
    table.insert(0, "scenario", result.scenario.name)
    return table.loc[:, list(LONG_COLUMNS)]


CAVEAT_COLUMNS = ("caveat", "segments", "effects", "code")


def caveats_table(result: SimulationResult) -> pd.DataFrame:
    """The model's caveats that concern this result: the caveat in words, the segments and the
    effects it concerns ("all" when it concerns the whole model or every effect) and its code."""
    return pd.DataFrame([(c.text, ", ".join(c.segments) or "all", ", ".join(c.effects) or "all", c.code)
                         for c in result.provenance.caveats], columns=list(CAVEAT_COLUMNS))


@dataclass(frozen=True)
class ForecastTables:
    """Everything a forecast export holds; writers only lay these tables out."""

    scenario_name: str
    scenario_description: str
    model_id: str
    n_draws: int
    quantiles: tuple[float, ...]
    long: pd.DataFrame  #: LONG_COLUMNS
    summary: pd.DataFrame  #: metric, unit, mean, p.. (SimulationResult.summary), P(ROI > 0) apart
    prob_roi_positive: float
    levers: pd.DataFrame
    segments: pd.DataFrame
    assumptions: pd.DataFrame  #: item, value, unit
    caveats: pd.DataFrame  #: CAVEAT_COLUMNS, one row per caveat of the model that concerns the result
    provenance: dict[str, Any]

    def monthly_wide(self) -> pd.DataFrame:
        """Segment × month rows; one column per metric × quantile, labelled as in the workbook."""
        wide = self.long.pivot_table(index=["segment", "month", "forecast_month"], columns=["metric", "quantile"],
                                     values="value", aggfunc="first", sort=False)
        ordered = [(m, q) for m in MONTHLY_METRICS for q in self.quantiles]
        wide = wide.reindex(columns=pd.MultiIndex.from_tuples(ordered))
        wide.columns = [f"{MONTHLY_METRICS[m][0]} {quantile_name(q)}" for m, q in ordered]
        return wide.reset_index().rename(columns={"segment": "Segment", "month": "Month",
                                                  "forecast_month": "Forecast month"})

    def provenance_document(self) -> dict[str, Any]:
        """What travels beside the CSV and inside the Parquet metadata: provenance, scenario,
        summary statistics and a description of the long table's columns."""
        summary = self.summary.replace({np.nan: None}).to_dict(orient="records")
        return {
            "provenance": self.provenance,
            "scenario": {"name": self.scenario_name, "description": self.scenario_description},
            "quantiles": list(self.quantiles),
            "summary": summary,
            "prob_roi_positive": self.prob_roi_positive,
            "assumptions": {row.item: row.value for row in self.assumptions.itertuples()},
            "columns": list(LONG_COLUMNS),
        }


def build_tables(result: SimulationResult, quantiles: Sequence[float] = DEFAULT_QUANTILES,
                 exported_at: datetime | None = None) -> ForecastTables:
    """Compute every export table of ``result`` at the given quantiles (fractions in (0, 1))."""
    quantiles = tuple(float(q) for q in quantiles)
    summary = result.summary(quantiles)
    provenance = {
        **result.provenance.as_dict(),
        "scenario": result.scenario.name,
        "n_draws": result.n_draws,
        "exported_at": (exported_at or datetime.now(UTC)).isoformat(timespec="seconds"),
    }
    return ForecastTables(
        scenario_name=result.scenario.name,
        scenario_description=result.scenario.description,
        model_id=result.model_id,
        n_draws=result.n_draws,
        quantiles=quantiles,
        long=long_table(result, quantiles),
        summary=summary.drop(index="prob_roi_positive").reset_index(),
        prob_roi_positive=float(summary.loc["prob_roi_positive", "mean"]),
        levers=result.levers_table(quantiles),
        segments=result.segments_table(quantiles),
        assumptions=assumptions_table(result),
        caveats=caveats_table(result),
        provenance=provenance,
    )
