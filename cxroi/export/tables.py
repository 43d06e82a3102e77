"""The tables every forecast export is written from, derived from one :class:`SimulationResult`.

Units: customers are counts (expected values per draw), revenue, gross profit, spend and cash flow
are money per month, NPV and lever values are present values at the start of forecast month 1 —
money in the configured ISO 4217 currency (``CXROI_CURRENCY``, cxroi.export.currency), named in
every unit; ROI, IRR, margins and rates are fractions (IRR and the discount rate per year).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from cxroi.export.assumptions import assumptions_table
from cxroi.export.currency import DEFAULT_CURRENCY, currency_code, money_unit
from cxroi.sim.plausibility import flags
from cxroi.sim.result import (
    ALL_SEGMENTS,
    DEFAULT_QUANTILES,
    MONTHLY_UNITS,
    SimulationResult,
    quantile_label,
)

#: long-table metric → (label in the workbook, unit); metrics and units are the simulation's
MONTHLY_METRICS: dict[str, tuple[str, str]] = {
    metric: (label, MONTHLY_UNITS[metric])
    for metric, label in {
        **{f"{world}_{name}": f"{words} ({world_words})"
           for name, words in (("customers", "Customers"), ("churned", "Churned"), ("new_customers", "New customers"),
                               ("revenue", "Revenue"), ("gross_profit", "Gross profit"))
           for world, world_words in (("baseline", "baseline"), ("scenario", "with investment"),
                                      ("incremental", "increment"))},
        "spend": "Spend", "cash_flow": "Cash flow", "cumulative_cash_flow": "Cumulative cash flow",
    }.items()
}

#: columns of the long table, in order
LONG_COLUMNS = ("scenario", "model_id", "segment", "month", "forecast_month", "metric", "unit",
                "quantile", "value")

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


def monthly_unit(metric: str, currency: str) -> str:
    """Unit of a monthly metric in an export: customers, or the currency code per month."""
    unit = MONTHLY_UNITS[metric]
    return money_unit(unit, currency) + (" per month" if unit == "currency" else "")


def long_table(result: SimulationResult, quantiles: Sequence[float], currency: str) -> pd.DataFrame:
    """The simulation's monthly quantiles (:meth:`SimulationResult.monthly_quantiles`: baseline,
    with-investment and incremental totals, spend and cash flow per segment and for all segments)
    with the scenario, model, forecast month (1-based) and unit of every row (money in
    ``currency``). Columns :data:`LONG_COLUMNS`."""
    table = result.monthly_quantiles(quantiles)
    table["forecast_month"] = (result.months.get_indexer(table["month"]) + 1).astype(np.int32)
    table["month"] = np.asarray(table["month"].dt.date, dtype=object)
    table["unit"] = table["metric"].map({metric: monthly_unit(metric, currency) for metric in MONTHLY_UNITS})
    table.insert(0, "model_id", result.model_id)
    table.insert(0, "scenario", result.scenario.name)
    return table.loc[:, list(LONG_COLUMNS)]


CAVEAT_COLUMNS = ("caveat", "segments", "effects", "code")
PLAUSIBILITY_COLUMNS = ("severity", "finding", "segments", "check")


def plausibility_table(result: SimulationResult) -> pd.DataFrame:
    """The plausibility review (cxroi.sim.plausibility): flags first, then items to review, each
    in words with the segments it concerns ("all" for the whole result)."""
    return pd.DataFrame([(f.severity, f.text, ", ".join(f.segments) or "all", f.check) for f in result.plausibility],
                        columns=list(PLAUSIBILITY_COLUMNS))


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
    assumptions: pd.DataFrame  #: ASSUMPTION_COLUMNS (cxroi.export.assumptions)
    caveats: pd.DataFrame  #: CAVEAT_COLUMNS, one row per caveat of the model that concerns the result
    provenance: dict[str, Any]  #: may hold a "decision" record (an approved scenario's export)
    currency: str = DEFAULT_CURRENCY  #: ISO 4217 code of every money figure
    plausibility: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(PLAUSIBILITY_COLUMNS)))
    #: summary metric → whether a plausibility flag concerns it (e.g. "irr" when the IRR is extreme)
    flagged: frozenset[str] = frozenset()

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
            "currency": self.currency,
            "plausibility": self.plausibility.to_dict(orient="records"),
            "assumptions": self.assumptions.to_dict(orient="records"),
            "columns": list(LONG_COLUMNS),
        }


def _reached_rows(table: pd.DataFrame, segments: list[str]) -> pd.DataFrame:
    return table[table["segment"].isin(segments)].reset_index(drop=True)


def build_tables(result: SimulationResult, quantiles: Sequence[float] = DEFAULT_QUANTILES,
                 exported_at: datetime | None = None, currency: str | None = None) -> ForecastTables:
    """Compute every export table of ``result`` at the given quantiles (fractions in (0, 1)),
    money in ``currency`` (default: the configured :func:`~cxroi.export.currency.currency_code`).
    Per-segment risk figures (Segments) cover the segments the scenario reaches only."""
    quantiles = tuple(float(q) for q in quantiles)
    currency = currency or currency_code()
    summary = result.summary(quantiles)
    reached = [*np.asarray(result.segments)[result.reached], ALL_SEGMENTS]
    summary["unit"] = summary["unit"].map(lambda unit: money_unit(unit, currency))
    provenance = {
        **result.provenance.as_dict(),
        "scenario": result.scenario.name,
        "n_draws": result.n_draws,
        "exported_at": (exported_at or datetime.now(UTC)).isoformat(timespec="seconds"),
        "currency": currency,
    }
    return ForecastTables(
        scenario_name=result.scenario.name,
        scenario_description=result.scenario.description,
        model_id=result.model_id,
        n_draws=result.n_draws,
        quantiles=quantiles,
        long=long_table(result, quantiles, currency),
        summary=summary.drop(index="prob_roi_positive").reset_index(),
        prob_roi_positive=float(summary.loc["prob_roi_positive", "mean"]),
        levers=_reached_rows(result.levers_table(quantiles), reached),
        segments=result.reached_segments_table(quantiles),
        assumptions=assumptions_table(result, currency),
        caveats=caveats_table(result),
        provenance=provenance,
        currency=currency,
        plausibility=plausibility_table(result),
        flagged=frozenset(f.check for f in flags(result.plausibility)),
    )
