"""The efficient frontier: the best plan's value (with its bands) as the budget grows.

Monotone by construction: a plan that fits a budget fits every larger one, so each budget keeps
the best plan found at any budget that it can pay — its own search's, a smaller budget's, or a
larger budget's that spends less than it allows (the frontier never falls). Each budget is
searched twice: afresh from the plan below it, and by growing that plan (its lines first, others
opened where that pays).

Concavity is checked, not assumed. With diminishing returns in every cell the best value grows
ever more slowly with the budget; one-off costs break that: an initiative whose one-off the
budget first affords adds a step, so the value gained per extra currency can rise from one
budget to the next. A budget point that lies below the chord of its neighbours is searched
again from its upper neighbour's plan scaled down; when it stays below, the exception is
reported with its reason (:class:`Kink`) — the initiatives funded change there or just before it
(a lumpy one-off: paid at this budget, it crowds out lines the next budget restores),
or the segments funded at their minimum effective spend do, or a line held at its minimum there
is funded above it at the next budget (lumpy minimums), or none of these (then the search at that
budget may have stopped short, said as such).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cxroi.sim.optimise.allocation import Allocation, Progress
from cxroi.sim.optimise.search import allocate

if TYPE_CHECKING:
    from cxroi.sim.optimise.problem import AllocationProblem

#: a slope may exceed the one before it by this share of the larger slope's size (and 1e-6 of the
#: value's scale) before the frontier counts as not concave there: the search's own tolerance
#: (SLSQP stops at a relative change of 1e-5 on a subsample of draws) makes smaller rises noise
CONCAVITY_TOLERANCE = 0.02


@dataclass(frozen=True)
class Kink:
    """Where the frontier is not concave: the value per extra currency between ``budget`` and
    the next budget is higher than between the previous budget and ``budget`` (slopes in
    currency of objective per currency of budget); ``entering`` / ``leaving`` are the initiatives
    funded at the next budget and not at ``budget`` (and the reverse)."""

    budget: float
    slope_before: float
    slope_after: float
    entering: tuple[str, ...]
    leaving: tuple[str, ...]
    #: (initiative, segment) lines funded at the next budget and not at ``budget``, each needing at
    #: least its minimum effective spend
    opening: tuple[tuple[str, str], ...] = ()
    #: lines held at their minimum effective spend at ``budget`` and funded above it at the next
    held: tuple[tuple[str, str], ...] = ()
    #: initiatives first funded at ``budget`` (not at the budget before it)
    entered: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        """Why, in words (initiative ids; the page names them)."""
        if self.entering:
            return ("lumpy one-off: " + ", ".join(self.entering) + " first funded at the next budget, whose one-off "
                    "cost pays only once the budget is large enough")
        if self.entered:
            return ("lumpy one-off: " + ", ".join(self.entered) + " first funded at this budget, whose one-off cost "
                    "and minimum spend take money from the other lines that the next budget gives back")
        if self.opening:
            return ("lumpy minimum spend: " + ", ".join(f"{i} in {s}" for i, s in self.opening) + " first funded at "
                    "the next budget, each at no less than its minimum effective spend")
        if self.held:
            return ("lumpy minimum spend: " + ", ".join(f"{i} in {s}" for i, s in self.held) + " held at its minimum "
                    "effective spend at this budget and funded above it at the next")
        if self.leaving:
            return "the plan changes which initiatives it funds: " + ", ".join(self.leaving) + " dropped at the next budget"
        return "same initiatives funded: the search at this budget may have stopped short of the best plan"


@dataclass(frozen=True)
class Frontier:
    """The frontier over ascending budgets: the table (see :func:`efficient_frontier`), the plan
    at each budget and the points where it is not concave."""

    table: pd.DataFrame
    plans: tuple[Allocation, ...]
    kinks: tuple[Kink, ...]

    @property
    def concave(self) -> bool:
        return not self.kinks


def funded_lines(plan: Allocation, minimum: np.ndarray) -> frozenset[tuple[str, str]]:
    """Cells the plan spends on that have a minimum effective spend."""
    return frozenset(c for c, x, m in zip(plan.cells, plan.monthly_spend, minimum, strict=True) if x > 0 and m > 0)


def held_lines(plan: Allocation, upper: Allocation, minimum: np.ndarray) -> tuple[tuple[str, str], ...]:
    """Cells ``plan`` holds at their minimum effective spend that ``upper`` funds above it."""
    return tuple(c for c, x, y, m in zip(plan.cells, plan.monthly_spend, upper.monthly_spend, minimum, strict=True)
                 if m > 0 and abs(x - m) <= 1e-6 * m and y > m * 1.01)


def funded_initiatives(plan: Allocation) -> frozenset[str]:
    """Initiatives with a cell the plan spends on."""
    return frozenset(i for (i, _), x in zip(plan.cells, plan.monthly_spend, strict=True) if x > 0)


def _better(plan: Allocation, other: Allocation, budget: float) -> Allocation:
    """``plan`` or, when it scores higher (a plan meeting the floor first), ``other`` re-labelled
    with ``budget`` (it fits: ``other`` was found for a smaller budget)."""
    if (other.feasible, other.objective_value) > (plan.feasible, plan.objective_value):
        return replace(other, budget=budget)
    return plan


def _best_that_fits(plans: list[Allocation], budgets: np.ndarray) -> None:
    """Give each budget the best plan found at any budget that it can pay (a plan found for a
    larger budget may spend less than a smaller one allows), in place."""
    for k, budget in enumerate(budgets):
        for other in plans:
            if other.spent <= budget * (1 + 1e-9):
                plans[k] = _better(plans[k], other, float(budget))


def _slopes(budgets: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Objective gained per currency of budget between consecutive budgets."""
    return np.diff(values) / np.diff(budgets)


def _violations(budgets: np.ndarray, values: np.ndarray) -> list[int]:
    """Positions k (inner budgets) where the slope after k exceeds the slope before it beyond
    :data:`CONCAVITY_TOLERANCE`."""
    slopes = _slopes(budgets, values)
    scale = 1e-6 * max(float(np.abs(values).max(initial=0.0)), 1.0) / max(float(np.ptp(budgets)), 1.0)
    return [k + 1 for k in range(len(slopes) - 1)
            if slopes[k + 1] > slopes[k] + CONCAVITY_TOLERANCE * max(abs(slopes[k]), abs(slopes[k + 1])) + scale]


def efficient_frontier(problem: AllocationProblem, budgets: Sequence[float],
                       quantiles: Sequence[float] = (0.1, 0.5, 0.9), progress: Progress | None = None) -> Frontier:
    """For each budget (currency, ascending) the optimised plan, kept monotone, with its
    concavity checked (see the module). The table has per budget: the NPV mean and quantiles
    (``npv_p10`` …), P(ROI > 0), objective value (currency), whether it met the floor, what the
    plan spends (``spent``), the initiatives it funds (ids, comma-separated), the value gained
    per extra currency since the previous budget (``marginal_value``, NaN at the first) and
    ``not_concave_because``: at a budget after which the gain per currency rises, why (else "")."""
    ordered = np.array(sorted(budgets), dtype=float)
    plans: list[Allocation] = []
    previous = None
    for k, budget in enumerate(ordered):
        plan = allocate(problem, budget, n_random_starts=0, warm_start=previous)
        if plans:
            grown = allocate(problem, budget, n_random_starts=0, warm_start=previous, grow=True)
            plan = _better(_better(plan, grown, float(budget)), plans[-1], float(budget))
        plans.append(plan)
        previous = plan.monthly_spend if plan.monthly_spend.sum() > 0 else None
        if progress:
            progress(k + 1, len(ordered), f"budget {budget:,.0f}: objective {plan.objective_value:,.0f}")
    _best_that_fits(plans, ordered)
    for k in _violations(ordered, np.array([p.objective_value for p in plans])):
        # search the dented budget again from the next budget's plan scaled to fit, with random starts
        upper = plans[k + 1]
        one_off = sum(upper.funded_one_offs().values())
        running = max(upper.spent - one_off, 1.0)
        scale = float(np.clip((ordered[k] - one_off) / running, 0.0, 1.0))
        retry = allocate(problem, ordered[k], n_random_starts=2, warm_start=upper.monthly_spend * scale)
        plans[k] = _better(retry, plans[k], ordered[k])
    _best_that_fits(plans, ordered)
    values = np.array([p.objective_value for p in plans])
    kinks = tuple(
        Kink(float(ordered[k]), float(_slopes(ordered, values)[k - 1]), float(_slopes(ordered, values)[k]),
             tuple(sorted(funded_initiatives(plans[k + 1]) - funded_initiatives(plans[k]))),
             tuple(sorted(funded_initiatives(plans[k]) - funded_initiatives(plans[k + 1]))),
             tuple(sorted(funded_lines(plans[k + 1], problem.minimum) - funded_lines(plans[k], problem.minimum))),
             held_lines(plans[k], plans[k + 1], problem.minimum),
             tuple(sorted(funded_initiatives(plans[k]) - funded_initiatives(plans[k - 1]))))
        for k in _violations(ordered, values))
    rows = []
    for plan, budget in zip(plans, ordered, strict=True):
        npv = plan.result.npv
        row = {"budget": float(budget), "objective_value": plan.objective_value, "npv_mean": float(npv.mean())}
        row.update({f"npv_p{100 * q:g}": float(v) for q, v in zip(quantiles, np.quantile(npv, quantiles), strict=True)})
        row.update({"prob_roi_positive": plan.result.prob_roi_positive, "feasible": plan.feasible, "spent": plan.spent,
                    "initiatives": ", ".join(i for i in problem.initiatives if i in funded_initiatives(plan))})
        rows.append(row)
    table = pd.DataFrame(rows)
    table["marginal_value"] = np.concatenate([[np.nan], _slopes(ordered, values)])
    reasons = {kink.budget: kink.reason for kink in kinks}
    table["not_concave_because"] = [reasons.get(float(b), "") for b in ordered]
    return Frontier(table, tuple(plans), kinks)
