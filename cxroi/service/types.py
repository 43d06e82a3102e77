"""Typed inputs and results of the use cases (frozen dataclasses)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from cxroi.manifest import Caveat
    from cxroi.sim.optimise.allocation import Allocation
    from cxroi.sim.result import SimulationResult
    from cxroi.sim.scenario import Scenario
    from cxroi.store import Decision, SavedScenario


@dataclass(frozen=True)
class ScenarioRef:
    """A saved scenario: its ``name`` and ``version`` (None: the latest live version)."""

    name: str
    version: int | None = None


@dataclass(frozen=True)
class Simulation:
    """A scenario's result on one model. ``saved`` is the stored version it came from (None for
    an unsaved scenario); ``decision`` the current decision record of that version, if approved."""

    result: SimulationResult
    scenario: Scenario
    model_id: str
    saved: SavedScenario | None = None
    decision: Decision | None = None

    @property
    def caveats(self) -> tuple[Caveat, ...]:
        """The model's caveats that concern this result (shown wherever its numbers are)."""
        return self.result.provenance.caveats

    @property
    def version(self) -> int | None:
        """The saved version simulated, if any."""
        return self.saved.version if self.saved else None

    def summary_json(self, quantiles: Sequence[float] | None = None) -> dict[str, dict[str, Any]]:
        """The summary table as JSON: metric → {unit, mean, p10, …}; undefined values are None."""
        from cxroi.sim.result import DEFAULT_QUANTILES

        table = self.result.summary(tuple(quantiles or DEFAULT_QUANTILES))
        return {metric: {key: (None if isinstance(value, float) and math.isnan(value) else value)
                         for key, value in row.items()}
                for metric, row in table.to_dict(orient="index").items()}


@dataclass(frozen=True)
class ForecastExport:
    """A forecast export: the files written (``paths``, when written to a folder) or their
    contents by file name (``files``), the recorded run (``run_id``, None when not recorded) and
    the decision record the export is of (``decision_id``)."""

    simulation: Simulation
    fmt: str
    paths: tuple[Path, ...] = ()
    files: dict[str, bytes] = field(default_factory=dict)
    run_id: int | None = None
    decision_id: int | None = None
    record_problem: str | None = None  #: why the run could not be recorded (the export still exists)


@dataclass(frozen=True)
class OptimiseRequest:
    """Allocate ``budget`` (currency, one-off costs included) across initiatives × segments.
    ``objective``: "mean" (expected NPV), "cvar" (CVaR at 10 %) or "prob" (expected NPV with
    P(ROI > 0) ≥ ``floor``); ``frontier_budgets``: also the efficient frontier at these budgets."""

    budget: float
    objective: str = "mean"
    floor: float = 0.8
    initiatives: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    horizon_months: int = 36
    annual_discount_rate: float = 0.10
    gross_margin: float = 0.7
    frontier_budgets: tuple[float, ...] = ()
    model_id: str | None = None


@dataclass(frozen=True)
class Optimisation:
    """The best allocation found (``allocation``: its table, spend and result) and, when asked,
    the efficient frontier (budget → value with bands)."""

    request: OptimiseRequest
    model_id: str
    allocation: Allocation
    frontier: pd.DataFrame | None = None


@dataclass(frozen=True)
class ValueDifference:
    """Champion minus pinned model, per headline figure: NPV mean and P50 (currency), ROI P50
    (fraction), P(ROI > 0) (probability), payback P50 (months; None when either is beyond the
    horizon)."""

    npv_mean: float
    npv_p50: float
    roi_p50: float
    prob_roi_positive: float
    payback_p50: float | None


@dataclass(frozen=True)
class PinnedValuation:
    """A saved scenario's value under the model it was saved on (``pinned``; None when it was
    saved without one or that model is gone, ``pinned_problem`` says which) and under the current
    champion; ``difference`` when the two models differ and both results exist."""

    saved: SavedScenario
    champion: Simulation
    pinned: Simulation | None
    pinned_problem: str | None = None
    difference: ValueDifference | None = None

    @property
    def champion_changed(self) -> bool:
        """Whether the champion is another model than the one the scenario was saved on."""
        return self.saved.model_id is not None and self.saved.model_id != self.champion.model_id


@dataclass(frozen=True)
class Effect:
    """One CX effect or lift of a model: ``parameter`` (e.g. churn_csat, per +10 points; lifts in
    points) for a segment or initiative (``label``), its posterior median and 90 % interval, and
    where it comes from (history, catalogue prior, pilot)."""

    parameter: str
    label: str
    median: float
    p5: float
    p95: float
    source: str


@dataclass(frozen=True)
class ModelSummary:
    """A stored model for the promotion dialog and the API: the manifest as JSON (family, status,
    training window, segments, initiatives, diagnostics, backtest, health checks with outcomes,
    caveats, identification), whether it is the champion, and its effects."""

    model_id: str
    champion: bool
    manifest: dict[str, Any]
    effects: tuple[Effect, ...]
