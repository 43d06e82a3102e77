"""An optimised plan and its evaluation on every draw."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxroi.sim.plan import Cell
from cxroi.sim.result import SimulationResult

#: progress(done, total, message) — called after every search and frontier point
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True, eq=False)
class Allocation:
    """An optimised plan and its evaluation on all draws."""

    cells: tuple[Cell, ...]  #: (initiative, segment)
    monthly_spend: np.ndarray  #: per cell, currency per month
    budget: float  #: the budget the plan was asked to stay within (currency)
    objective: str  #: the objective's name
    objective_value: float  #: on all draws, currency
    result: SimulationResult  #: the plan simulated on all draws
    feasible: bool  #: False when the P(ROI > 0) floor could not be met
    starts: tuple[tuple[float, float], ...]  #: (value at start, value at end) of each start, search draws

    @property
    def spent(self) -> float:
        """What the plan spends (currency, undiscounted): funded one-off costs + running spend."""
        return float(sum(inv.one_off_cost + inv.monthly_spend * inv.duration_months
                         for inv in self.result.scenario.investments))

    def table(self) -> pd.DataFrame:
        """Per cell (initiative, segment): monthly_spend, one_off_cost (a funded initiative's, on
        its first cell), total_spend = one-off + monthly spend × months (currency) and share of
        what the plan spends; the total_spend column adds up to :attr:`spent`."""
        investments = self.result.scenario.investments
        one_off = {(inv.initiative, inv.segments[0]): inv.one_off_cost for inv in investments}
        frame = pd.DataFrame(self.cells, columns=["initiative", "segment"])
        frame["monthly_spend"] = self.monthly_spend
        frame["one_off_cost"] = [one_off.get(cell, 0.0) for cell in self.cells]
        frame["total_spend"] = frame["one_off_cost"] + self.monthly_spend * investments[0].duration_months
        total = frame["total_spend"].sum()
        frame["share"] = frame["total_spend"] / total if total > 0 else 0.0
        return frame
