"""Allocate a CX budget across initiatives × segments.

The decision is a monthly spend for every cell (initiative, segment) the model's artifact says
the initiative reaches, paid from a start month for a number of months; the budget caps what the
plan spends, one-off costs of the initiatives it funds included. The parts:

* :mod:`~cxroi.sim.optimise.problem` — the cells, bounds, costs and plan terms
  (:class:`AllocationProblem`), valued by the simulator's batched value function;
* :mod:`~cxroi.sim.optimise.objectives` — expected NPV, CVaR, expected NPV with a floor on
  P(ROI > 0);
* :mod:`~cxroi.sim.optimise.search` and :mod:`~cxroi.sim.optimise.pruning` — SLSQP over budget
  shares from several starts, and which initiatives and cells to fund (each cell of an
  initiative with a one-off at its minimum effective spend or not at all);
* :mod:`~cxroi.sim.optimise.frontier` — the efficient frontier over budgets, monotone, its
  concavity checked and the exceptions explained;
* :mod:`~cxroi.sim.optimise.allocation` — the optimised plan (:class:`Allocation`).
"""

from __future__ import annotations

from typing import Any

from cxroi.registry import ModelArtifact
from cxroi.sim.optimise.allocation import WHOLE_INITIATIVE, Allocation, Progress
from cxroi.sim.optimise.frontier import Frontier, Kink, efficient_frontier
from cxroi.sim.optimise.objectives import (
    OBJECTIVES,
    CVaR,
    ExpectedNPV,
    FlooredExpectedNPV,
    Objective,
    objective_named,
)
from cxroi.sim.optimise.problem import AllocationProblem


def optimize(artifact: ModelArtifact, budget: float, objective: Objective | None = None,
             progress: Progress | None = None, **settings: Any) -> Allocation:
    """Allocate ``budget`` (total plan spend, currency) on ``artifact`` for ``objective``
    (default: expected NPV); ``settings`` are those of :meth:`AllocationProblem.of`
    (initiatives, segments, horizon_months, bounds, …)."""
    return AllocationProblem.of(artifact, objective, **settings).solve(budget, progress=progress)


__all__ = [
    "OBJECTIVES", "WHOLE_INITIATIVE", "Allocation", "AllocationProblem", "CVaR", "ExpectedNPV", "FlooredExpectedNPV",
    "Frontier", "Kink", "Objective", "Progress", "efficient_frontier", "objective_named", "optimize",
]
