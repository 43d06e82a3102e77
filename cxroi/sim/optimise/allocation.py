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
#: the segment column of an initiative's one-off line in :meth:`Allocation.table`: the one-off is
#: paid once for the initiative, not by one of its segments
WHOLE_INITIATIVE = "(one-off, whole initiative)"


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
    initiatives: tuple[str, ...] = ()  #: the initiatives offered
    one_off_by_initiative: np.ndarray | None = None  #: per offered initiative (currency)

    @property
    def duration(self) -> int:
        """Funded months of every line."""
        return self.result.scenario.investments[0].duration_months

    @property
    def spent(self) -> float:
        """What the plan spends (currency, undiscounted): funded one-off costs + running spend."""
        return float(sum(inv.one_off_cost + inv.monthly_spend * inv.duration_months
                         for inv in self.result.scenario.investments))

    def funded_one_offs(self) -> dict[str, float]:
        """One-off cost (currency) of each initiative the plan funds (a cell with spend), once each."""
        funded = dict.fromkeys(i for (i, _), x in zip(self.cells, self.monthly_spend, strict=True) if x > 0)
        if self.one_off_by_initiative is None:
            return {inv.initiative: inv.one_off_cost for inv in self.result.scenario.investments
                    if inv.one_off_cost > 0}
        cost = dict(zip(self.initiatives, self.one_off_by_initiative.tolist(), strict=True))
        return {i: cost.get(i, 0.0) for i in funded}

    def table(self) -> pd.DataFrame:
        """The plan's lines: one per cell (initiative, segment) with its monthly_spend and
        total_spend = monthly spend × months (currency), then one per funded initiative with a
        one-off cost, its segment :data:`WHOLE_INITIATIVE` and that one-off in one_off_cost and
        total_spend; share = total_spend / what the plan spends. total_spend adds up to
        :attr:`spent`."""
        frame = pd.DataFrame(self.cells, columns=["initiative", "segment"])
        frame["monthly_spend"] = self.monthly_spend
        frame["one_off_cost"] = 0.0
        frame["total_spend"] = self.monthly_spend * self.duration
        one_offs = pd.DataFrame([{"initiative": i, "segment": WHOLE_INITIATIVE, "monthly_spend": 0.0,
                                  "one_off_cost": cost, "total_spend": cost}
                                 for i, cost in self.funded_one_offs().items() if cost > 0],
                                columns=frame.columns)
        frame = pd.concat([frame, one_offs], ignore_index=True) if len(one_offs) else frame
        total = frame["total_spend"].sum()
        frame["share"] = frame["total_spend"] / total if total > 0 else 0.0
        return frame

    def initiatives_table(self) -> pd.DataFrame:
        """One row per funded initiative: segments funded (names, comma-separated), monthly spend
        over them (currency per month), its one-off cost paid once (currency), total_spend =
        one-off + monthly spend × months (currency), share of what the plan spends."""
        lines = pd.DataFrame({"initiative": [i for i, _ in self.cells], "segment": [s for _, s in self.cells],
                              "monthly_spend": self.monthly_spend})
        lines = lines[lines["monthly_spend"] > 0]
        one_offs = self.funded_one_offs()
        frame = lines.groupby("initiative", sort=False).agg(
            segments=("segment", ", ".join), monthly_spend=("monthly_spend", "sum")).reset_index()
        frame["one_off_cost"] = frame["initiative"].map(one_offs).fillna(0.0)
        frame["total_spend"] = frame["one_off_cost"] + frame["monthly_spend"] * self.duration
        total = frame["total_spend"].sum()
        frame["share"] = frame["total_spend"] / total if total > 0 else 0.0
        return frame
