"""The fixed terms of a family of plans that differ only in their monthly spend per cell.

A plan funds cells c = (initiative, segment) — one investment per cell — at a monthly spend
x_c (currency per month) from ``start_month`` for ``duration_months``, and is valued over
``horizon_months`` with the scenario's valuation terms (discount rate, gross margin, terminal
value, levers). :meth:`cxroi.sim.engine.Simulator.plan_values` values many such plans at once;
:meth:`PlanSpec.scenario` is the scenario :meth:`~cxroi.sim.engine.Simulator.run` values the
same way. Months are 1-based forecast months; rates and margins are fractions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from cxroi.errors import ScenarioError
from cxroi.sim import finance
from cxroi.sim.scenario import MAX_HORIZON_MONTHS, GrossMargin, Investment, Levers, Scenario

if TYPE_CHECKING:
    from cxroi.registry import ModelArtifact

Cell = tuple[str, str]  #: (initiative, segment)


@dataclass(frozen=True)
class PlanSpec:
    """What every plan of a batch shares; only the monthly spend per cell varies."""

    cells: tuple[Cell, ...]  #: (initiative, segment) pairs the spend is given for, each once
    horizon_months: int
    duration_months: int  #: funded months from ``start_month`` (those past the horizon do not count)
    start_month: int = 1
    annual_discount_rate: float = 0.10
    gross_margin: GrossMargin = field(default_factory=GrossMargin)
    terminal_value: bool = False
    levers: Levers = field(default_factory=Levers)
    #: positions of the draws to value the plans on (repeats allowed); None = every draw
    draws: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        problems = []
        if not self.cells:
            problems.append("a plan needs at least one (initiative, segment) cell")
        if len(set(self.cells)) != len(self.cells):
            problems.append("each (initiative, segment) cell may appear once")
        if not 1 <= self.horizon_months <= MAX_HORIZON_MONTHS:
            problems.append(f"horizon_months must be 1 to {MAX_HORIZON_MONTHS}, not {self.horizon_months}")
        elif not 1 <= self.start_month <= self.horizon_months:
            problems.append(f"start_month must be 1 to the horizon ({self.horizon_months}), not {self.start_month}")
        if self.duration_months < 1:
            problems.append(f"duration_months must be at least 1, not {self.duration_months}")
        if not 0 <= self.annual_discount_rate < 1:
            problems.append(f"annual_discount_rate must be in [0, 1), not {self.annual_discount_rate:g}")
        if not self.levers.enabled():
            problems.append("at least one lever must be on")
        if problems:
            raise ScenarioError("invalid plan: " + "; ".join(problems))

    @property
    def monthly_rate(self) -> float:
        """Discount rate per month (fraction)."""
        return finance.monthly_rate(self.annual_discount_rate)

    @property
    def pv_per_monthly_unit(self) -> float:
        """Present value (currency) of 1 currency per month paid over the plan's funded months
        within the horizon, each at the end of its month."""
        window = np.zeros(self.horizon_months)
        window[self.start_month - 1: self.start_month - 1 + self.duration_months] = 1.0
        return float(window @ finance.discount_factors(self.monthly_rate, self.horizon_months))

    @property
    def one_off_discount(self) -> float:
        """Discount factor of a one-off cost, paid at the end of ``start_month``."""
        return (1.0 + self.monthly_rate) ** -self.start_month

    def scenario(self, monthly_spend: np.ndarray, one_off_costs: Mapping[str, float],
                 name: str = "optimised allocation") -> Scenario:
        """The plan with ``monthly_spend`` (per cell, currency per month) as a scenario: one
        investment per cell with spend, and each initiative with spend paying its one-off cost
        (``one_off_costs``, currency; absent = 0) once, on its first such cell. A plan that spends
        nothing becomes one investment of zero spend on the first cell, worth exactly 0."""
        spend = np.asarray(monthly_spend, dtype=float)
        funded = np.flatnonzero(spend > 0) if np.any(spend > 0) else [0]
        investments, charged = [], set()
        for k in funded:
            (initiative, segment), amount = self.cells[k], float(spend[k])
            one_off = 0.0 if initiative in charged or amount <= 0 else float(one_off_costs.get(initiative, 0.0))
            charged.add(initiative)
            investments.append({"initiative": initiative, "segments": [segment], "start_month": self.start_month,
                                "duration_months": self.duration_months, "monthly_spend": amount,
                                "one_off_cost": one_off})
        return Scenario.model_validate({
            "name": name, "investments": investments, "horizon_months": self.horizon_months,
            "annual_discount_rate": self.annual_discount_rate, "gross_margin": self.gross_margin,
            "terminal_value": self.terminal_value, "levers": self.levers,
        })


def nominal_cost(artifact: ModelArtifact, initiative: str, segment: str) -> float:
    """Nominal monthly cost (currency per month) of ``initiative`` in ``segment``: spend level 1
    (the platform's share plus the cost per customer reached; see
    :meth:`cxroi.manifest.Manifest.nominal_monthly_cost`)."""
    return float(artifact.manifest.nominal_monthly_cost(initiative, segment))


def planned_monthly_spend(artifact: ModelArtifact, investment: Investment, segment: str) -> float:
    """What ``investment`` spends a month in ``segment`` (currency per month): its monthly spend,
    or its spend level × the segment's nominal cost."""
    return float(investment.monthly_spend_in(nominal_cost(artifact, investment.initiative, segment)))
