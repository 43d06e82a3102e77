"""The efficient frontier: the best plan's value (with its bands) as the budget grows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cxroi.sim.optimise.allocation import Progress
from cxroi.sim.optimise.search import allocate

if TYPE_CHECKING:
    from cxroi.sim.optimise.problem import AllocationProblem


def efficient_frontier(problem: AllocationProblem, budgets: Sequence[float],
                       quantiles: Sequence[float] = (0.1, 0.5, 0.9), progress: Progress | None = None) -> pd.DataFrame:
    """For each budget (currency, ascending) the optimised plan's NPV mean and quantiles
    (``npv_p10`` …), P(ROI > 0), objective value (currency) and whether it met the floor. Each
    budget's search starts from the previous budget's plan."""
    rows, previous = [], None
    for k, budget in enumerate(sorted(budgets)):
        plan = allocate(problem, budget, n_random_starts=0, warm_start=previous)
        previous = plan.monthly_spend if plan.monthly_spend.sum() > 0 else None
        npv = plan.result.npv
        row = {"budget": budget, "objective_value": plan.objective_value, "npv_mean": float(npv.mean())}
        row.update({f"npv_p{100 * q:g}": float(v) for q, v in zip(quantiles, np.quantile(npv, quantiles), strict=True)})
        row.update({"prob_roi_positive": plan.result.prob_roi_positive, "feasible": plan.feasible})
        rows.append(row)
        if progress:
            progress(k + 1, len(budgets), f"budget {budget:,.0f}: expected NPV {row['npv_mean']:,.0f}")
    return pd.DataFrame(rows)
