"""The allocation problem: which cells may be funded, within which bounds, at what costs, and
how a plan is valued.

A cell is an (initiative, segment) pair with the segment among those the model's artifact says
the initiative reaches. A plan is a monthly spend per cell (currency per month), paid from
``start_month`` for ``duration_months``; it costs Σ_c spend_c · duration plus the one-off cost
of every initiative it funds (an initiative is funded when any of its cells has spend). Each
cell's bounds default to 0 … ``max_multiple`` × the initiative's nominal monthly cost; an
initiative with a cell whose lower bound is above 0 is mandatory. Plans are valued with the
simulator's batched value function on a fixed subsample of draws (common random numbers).

A cell of an initiative that pays a one-off cost is funded properly or not at all: its spend is
0 or at least its minimum effective spend, ``min_effective_share`` × the nominal monthly cost (a
semicontinuous decision). Paying a one-off to run a programme at a token level — 24/7 support
for $136 a month — is not a plan a finance team can defend. Cells with bounds of their own keep
them (their lower bound is their minimum); initiatives without a one-off may run at any level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from cxroi.errors import ScenarioError
from cxroi.registry import ModelArtifact
from cxroi.sim.engine import simulator_for
from cxroi.sim.optimise.allocation import Allocation, Progress
from cxroi.sim.optimise.frontier import efficient_frontier
from cxroi.sim.optimise.objectives import ExpectedNPV, Objective
from cxroi.sim.optimise.search import allocate
from cxroi.sim.plan import Cell, PlanSpec, nominal_cost
from cxroi.sim.result import SimulationResult
from cxroi.sim.scenario import GrossMargin, Levers, Scenario

#: minimum effective spend of a cell of an initiative with a one-off cost, as a share of its
#: nominal monthly cost: at half the nominal effort an initiative with k = 1 gives two thirds of
#: its full lift (sat(0.5) = 0.5 · 2 / 1.5); below that a one-off buys a token programme
MIN_EFFECTIVE_SHARE = 0.5


@dataclass(frozen=True, eq=False)
class AllocationProblem:
    """Budget allocation on one model; build it with :meth:`of`. Arrays are per cell unless
    stated; amounts in currency (per month where said)."""

    artifact: ModelArtifact
    objective: Objective
    terms: PlanSpec  #: the cells and the terms every plan shares (all draws)
    initiatives: tuple[str, ...]  #: the initiatives offered
    initiative_of: np.ndarray  #: position in ``initiatives`` of each cell's initiative
    segment_of: np.ndarray  #: position among the model's segments of each cell's segment
    monthly_cost: np.ndarray  #: nominal monthly cost of each cell's initiative in its segment (currency per month)
    lower: np.ndarray  #: least monthly spend (currency per month)
    upper: np.ndarray  #: most monthly spend (currency per month)
    #: least monthly spend of a funded cell (currency per month): 0 or more spend is no spend
    minimum: np.ndarray
    one_off_by_initiative: np.ndarray  #: per offered initiative (currency)
    search_draws: np.ndarray  #: draws the search polishes on (positions)
    screen_draws: np.ndarray  #: draws the starts are screened on (a subset of the search draws)
    seed: int = 0  #: of the random starts

    def __post_init__(self) -> None:
        for value in vars(self).values():  # frozen all the way down
            if isinstance(value, np.ndarray):
                value.flags.writeable = False

    @classmethod
    def of(cls, artifact: ModelArtifact, objective: Objective | None = None,
           initiatives: Sequence[str] | None = None, segments: Sequence[str] | None = None,
           horizon_months: int = 36, start_month: int = 1, duration_months: int | None = None,
           annual_discount_rate: float = 0.10, gross_margin: GrossMargin | None = None,
           terminal_value: bool = False, levers: Levers | None = None,
           bounds: Mapping[Cell, tuple[float, float]] | None = None, max_multiple: float = 3.0,
           min_effective_share: float = MIN_EFFECTIVE_SHARE, max_draws: int = 192, screen_draws: int = 48,
           seed: int = 0) -> AllocationProblem:
        """The problem of ``objective`` (default: expected NPV) over the cells of ``initiatives``
        × ``segments`` (default: all of the model's) that the artifact's reach allows; plans run
        from ``start_month`` for ``duration_months`` (default: to the horizon). ``bounds`` maps a
        cell to its (lowest, highest) monthly spend (currency per month); the other cells of an
        initiative with a one-off cost are funded at ``min_effective_share`` × its nominal monthly
        cost or more, or not at all. The search uses
        ``max_draws`` draws chosen at random with ``seed``, the screening of its starts the first
        ``screen_draws`` of them."""
        initiatives = tuple(initiatives or artifact.initiatives)
        segments = tuple(segments or artifact.segments)
        unknown = [i for i in initiatives if i not in artifact.initiatives] + [
            s for s in segments if s not in artifact.segments]
        if unknown:
            raise ScenarioError(f"unknown initiative or segment for model {artifact.model_id}: {', '.join(unknown)}")
        manifest = artifact.manifest
        cells = tuple((i, s) for i in initiatives for s in segments if s in manifest.reach(i))
        if not cells:
            raise ScenarioError("no initiative reaches the chosen segments")
        terms = PlanSpec(cells=cells, horizon_months=horizon_months, start_month=start_month,
                         duration_months=int(duration_months or horizon_months - start_month + 1),
                         annual_discount_rate=annual_discount_rate, gross_margin=gross_margin or GrossMargin(),
                         terminal_value=terminal_value, levers=levers or Levers())
        settings = manifest.initiative_settings
        cost = np.array([nominal_cost(artifact, i, s) for i, s in cells])
        limits = np.array([(bounds or {}).get(c, (0.0, max_multiple * cost[k])) for k, c in enumerate(cells)], dtype=float)
        if not 0.0 <= min_effective_share <= max_multiple:
            raise ScenarioError(f"the minimum effective spend must be 0 to {max_multiple:g} × the nominal monthly "
                                f"cost, not {min_effective_share:g} ×")
        pays_one_off = np.array([settings[i].one_off_cost > 0 for i, _ in cells])
        own_bounds = np.array([c in (bounds or {}) for c in cells])
        minimum = np.where(pays_one_off & ~own_bounds, np.minimum(min_effective_share * cost, limits[:, 1]),
                           limits[:, 0])
        order = np.random.default_rng(seed).permutation(artifact.n_draws)
        return cls(
            artifact=artifact, objective=objective or ExpectedNPV(), terms=terms, initiatives=initiatives,
            initiative_of=np.array([initiatives.index(i) for i, _ in cells]),
            segment_of=np.array([artifact.segments.index(s) for _, s in cells]), monthly_cost=cost,
            lower=limits[:, 0], upper=limits[:, 1], minimum=minimum,
            one_off_by_initiative=np.array([settings[i].one_off_cost for i in initiatives]),
            search_draws=np.sort(order[: min(max_draws, artifact.n_draws)]),
            screen_draws=np.sort(order[: min(screen_draws, max_draws, artifact.n_draws)]), seed=seed,
        )

    # ------------------------------------------------------------------ the plan's money
    @property
    def cells(self) -> tuple[Cell, ...]:
        """(initiative, segment) of every cell."""
        return self.terms.cells

    @property
    def duration(self) -> int:
        """Funded months of every plan."""
        return self.terms.duration_months

    @property
    def one_off(self) -> float:
        """The one-off costs of every offered initiative (currency)."""
        return float(self.one_off_by_initiative.sum())

    @property
    def mandatory(self) -> np.ndarray:
        """Initiatives (mask) a cell's lower bound above 0 forces into every plan."""
        return np.isin(np.arange(len(self.initiatives)), self.initiative_of[self.lower > 0])

    @property
    def minimum_budget(self) -> float:
        """The smallest budget (currency) that pays what every plan must: the one-off costs of the
        mandatory initiatives and the lower bounds of the cells over the plan's months."""
        return float(self.one_off_by_initiative[self.mandatory].sum() + self.lower.sum() * self.duration)

    def funded(self, monthly_spend: np.ndarray) -> np.ndarray:
        """Which initiatives plans (plans × cells) fund: plans × initiatives."""
        spend = np.atleast_2d(monthly_spend)
        by_initiative = np.zeros((spend.shape[0], len(self.initiatives)))
        np.add.at(by_initiative.T, self.initiative_of, spend.T)
        return by_initiative > 0

    def initiatives_of(self, cells: np.ndarray) -> np.ndarray:
        """Initiatives (mask) with at least one of ``cells`` (mask)."""
        return np.isin(np.arange(len(self.initiatives)), self.initiative_of[cells])

    def running_limit(self, budget: float, active: np.ndarray) -> float:
        """The most a plan funding the ``active`` cells (mask) may spend per month on them
        (currency per month): what ``budget`` leaves after the one-off costs of their
        initiatives, capped by the cells' upper bounds."""
        one_off = self.one_off_by_initiative[self.initiatives_of(active)].sum()
        return min((budget - one_off) / self.duration, self.upper[active].sum())

    # ------------------------------------------------------------------ value
    def npv_draws(self, monthly_spend: np.ndarray, draws: np.ndarray | None = None) -> np.ndarray:
        """NPV (currency) of plans (plans × cells) on ``draws`` (default: the search draws),
        one-off costs excluded: plans × draws × segments."""
        draws = self.search_draws if draws is None else draws
        terms = replace(self.terms, draws=tuple(int(d) for d in draws))
        return simulator_for(self.artifact).plan_values(terms, monthly_spend)

    def total_npv(self, monthly_spend: np.ndarray, draws: np.ndarray | None = None) -> np.ndarray:
        """NPV per draw (currency) of plans (plans × cells), the one-off costs of the initiatives
        they fund included: plans × draws."""
        one_off = self.funded(monthly_spend) @ self.one_off_by_initiative * self.terms.one_off_discount
        return self.npv_draws(monthly_spend, draws).sum(axis=-1) - one_off[:, None]

    def to_scenario(self, monthly_spend: np.ndarray, name: str = "optimised allocation") -> Scenario:
        """The plan as a scenario (see :meth:`cxroi.sim.plan.PlanSpec.scenario`)."""
        one_off = dict(zip(self.initiatives, self.one_off_by_initiative.tolist(), strict=True))
        return self.terms.scenario(monthly_spend, one_off, name)

    def simulate(self, monthly_spend: np.ndarray) -> SimulationResult:
        """The plan simulated on every draw of the model."""
        return simulator_for(self.artifact).run(self.to_scenario(monthly_spend))

    # ------------------------------------------------------------------ solving
    def solve(self, budget: float, n_random_starts: int = 1, warm_start: np.ndarray | None = None,
              progress: Progress | None = None, max_iterations: int = 50) -> Allocation:
        """The best plan within ``budget`` (currency); see :func:`cxroi.sim.optimise.search.allocate`."""
        return allocate(self, budget, n_random_starts, warm_start, progress, max_iterations)

    def frontier(self, budgets: Sequence[float], quantiles: Sequence[float] = (0.1, 0.5, 0.9),
                 progress: Progress | None = None) -> pd.DataFrame:
        """The efficient frontier's table over ``budgets``; see
        :func:`cxroi.sim.optimise.frontier.efficient_frontier` (which also gives the plans and
        where the frontier is not concave)."""
        return efficient_frontier(self, budgets, quantiles, progress).table
