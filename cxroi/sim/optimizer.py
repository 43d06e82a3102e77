"""Allocate a CX budget across initiatives × segments.

The decision is a monthly spend x_c for every cell c = (initiative, segment) — the segments an
initiative reaches per the model's settings or the initiative catalogue — paid from month
``start_month`` for ``duration_months``. The budget caps the total spend of the plan in
currency: the one-off costs of the initiatives it funds plus Σ_c x_c · duration. A plan spends
less when more would lower the objective, and funds an initiative (paying its one-off cost) only
when that pays. Each cell has bounds (default 0 … ``max_multiple`` × the catalogue monthly cost);
an initiative with a cell whose lower bound is above 0 is always funded.

Objectives, on the plan's NPV per draw (currency):

* ``mean`` — expected NPV;
* ``cvar`` — CVaR at ``alpha`` (mean of the worst 10 % of draws by default);
* ``prob`` — expected NPV subject to P(ROI > 0) ≥ ``floor`` (P smoothed by a logistic kernel
  during the search; the final plan is checked with the exact share of draws).

Method: SLSQP over shares of the running budget (Σ shares ≤ 1) on fixed subsamples of draws
(common random numbers). Gradients are forward differences computed in one vectorised batch:
segments are independent given their own cells, so perturbing initiative i in every segment at
once yields ∂NPV_d/∂x_(i,s) for every segment s and draw d. Against stopping at the starting
guess, several starts (equal split, cost-proportional, random) are searched on ``screen_draws``
draws, the best end point is polished on ``max_draws`` draws. Then initiatives are pruned: the
one whose removal (its cells to zero, its one-off cost saved) raises the objective most is
dropped and the rest searched again with the money freed, until no removal helps. When the
budget cannot pay every one-off cost, the initiatives with the least value per currency at
nominal spend are left out first. The plan is finally simulated on all draws with the engine;
every search's value before and after is kept in :attr:`Allocation.starts`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from cxroi.catalogue import DEFAULT_CATALOGUE, load_catalogue
from cxroi.errors import DataError, ScenarioError
from cxroi.registry import ModelArtifact
from cxroi.sim import finance
from cxroi.sim.engine import Simulator, scenario_value, simulate
from cxroi.sim.kernel import FLOAT, Lifts, increments
from cxroi.sim.result import SimulationResult
from cxroi.sim.scenario import GrossMargin, Levers, Scenario

Objective = Literal["mean", "cvar", "prob"]
OBJECTIVES: tuple[str, ...] = ("mean", "cvar", "prob")
#: progress(done, total, message) — called after every start and frontier point
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Allocation:
    """An optimised plan and its evaluation on all draws."""

    cells: tuple[tuple[str, str], ...]  #: (initiative, segment)
    monthly_spend: np.ndarray  #: per cell, currency per month
    budget: float  #: the budget the plan was asked to stay within (currency)
    objective: str
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


@dataclass
class AllocationProblem:
    """Budget allocation on one model; see the module docstring for the definitions."""

    artifact: ModelArtifact
    initiatives: Sequence[str] | None = None
    segments: Sequence[str] | None = None
    horizon_months: int = 36
    start_month: int = 1
    duration_months: int | None = None
    annual_discount_rate: float = 0.10
    gross_margin: GrossMargin = field(default_factory=GrossMargin)
    terminal_value: bool = False
    levers: Levers = field(default_factory=Levers)
    objective: Objective = "mean"
    alpha: float = 0.10
    floor: float = 0.8
    bounds: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    max_multiple: float = 3.0
    catalogue_path: str | Path = DEFAULT_CATALOGUE
    max_draws: int = 192
    screen_draws: int = 48
    seed: int = 0

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise ScenarioError(f"objective must be one of {', '.join(OBJECTIVES)}, not '{self.objective}'")
        art = self.artifact
        initiatives = list(self.initiatives or art.initiatives)
        segments = list(self.segments or art.segments)
        unknown = [i for i in initiatives if i not in art.initiatives] + [s for s in segments if s not in art.segments]
        if unknown:
            raise ScenarioError(f"unknown initiative or segment for model {art.model_id}: {', '.join(unknown)}")
        settings = art.manifest.get("initiative_settings", {})
        self.settings = {i: settings[i] for i in initiatives}
        self.duration = int(self.duration_months or self.horizon_months - self.start_month + 1)
        reach = {i: set(settings[i].get("segments") or self._catalogue_reach(i) or art.segments) for i in initiatives}
        self.cells = tuple((i, s) for i in initiatives for s in segments if s in reach[i])
        if not self.cells:
            raise ScenarioError("no initiative reaches the chosen segments")
        cost = np.array([float(self.settings[i]["monthly_cost"]) for i, _ in self.cells])
        bounds = np.array([self.bounds.get(c, (0.0, self.max_multiple * cost[k])) for k, c in enumerate(self.cells)])
        self.lower, self.upper = bounds[:, 0].astype(float), bounds[:, 1].astype(float)
        self.one_off_by_initiative = np.array([float(self.settings[i].get("one_off_cost", 0.0)) for i in initiatives])
        self.one_off = float(self.one_off_by_initiative.sum())  # of every offered initiative
        self.initiative_of = np.array([initiatives.index(i) for i, _ in self.cells])
        #: initiatives a lower bound above 0 forces into every plan
        self.mandatory = np.isin(np.arange(len(initiatives)), self.initiative_of[self.lower > 0])
        self.segment_of = np.array([art.segments.index(s) for _, s in self.cells])
        self.initiative_ids = initiatives
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(art.n_draws)
        self.search_draws = np.sort(order[: min(self.max_draws, art.n_draws)])
        self.screen = np.sort(order[: min(self.screen_draws, self.max_draws, art.n_draws)])
        self._stacked: dict[tuple[int, int], Simulator] = {}
        self.rate = finance.monthly_rate(self.annual_discount_rate)
        self.discount = finance.discount_factors(self.rate, self.horizon_months)
        window = np.zeros(self.horizon_months)
        window[self.start_month - 1: self.start_month - 1 + self.duration] = 1.0
        self.pv_per_monthly_unit = float(window @ self.discount)  # PV of 1 currency/month over the plan
        self.one_off_discount = (1.0 + self.rate) ** -self.start_month  # one-off costs are paid in start_month

    def _catalogue_reach(self, initiative: str) -> tuple[str, ...]:
        """Segments the initiative catalogue says an initiative reaches (empty when unknown)."""
        try:
            entry = load_catalogue(self.catalogue_path).get(initiative)
        except DataError:
            return ()
        return entry.segments if entry is not None else ()

    # ------------------------------------------------------------------ evaluation
    @property
    def minimum_budget(self) -> float:
        """The smallest budget (currency) that pays what every plan must: the one-off costs of the
        mandatory initiatives and the lower bounds of the cells over the plan's months."""
        return float(self.one_off_by_initiative[self.mandatory].sum() + self.lower.sum() * self.duration)

    def _running_limit(self, budget: float, funded: np.ndarray) -> float:
        """The most a plan funding the initiatives ``funded`` (mask) may spend per month on its
        cells: what the budget leaves after their one-off costs, capped by the cells' bounds."""
        cells = funded[self.initiative_of]
        return min((budget - self.one_off_by_initiative[funded].sum()) / self.duration, self.upper[cells].sum())

    def _simulator(self, batch: int, draws: np.ndarray) -> Simulator:
        key = (batch, len(draws))
        if key not in self._stacked:
            self._stacked[key] = Simulator(self.artifact, np.tile(draws, batch))
        return self._stacked[key]

    def npv_draws(self, monthly_spend: np.ndarray, draws: np.ndarray | None = None) -> np.ndarray:
        """NPV (currency) of a batch of allocations on the given draws (default: the search
        draws): (batch × cells) → batch × draws × segments, one-off costs excluded."""
        spend = np.atleast_2d(np.asarray(monthly_spend, dtype=float))
        draws = self.search_draws if draws is None else draws
        batch, n_draws = spend.shape[0], len(draws)
        sim = self._simulator(batch, draws)
        shape = (self.horizon_months, len(sim.segments), batch * n_draws)
        csat, nps = np.zeros(shape, dtype=FLOAT), np.zeros(shape, dtype=FLOAT)
        for i, initiative in enumerate(self.initiative_ids):
            mine = self.initiative_of == i
            relative = np.zeros((len(sim.segments), batch))
            relative[self.segment_of[mine]] = spend[:, mine].T / float(self.settings[initiative]["monthly_cost"])
            unit = sim.unit_adstock(initiative, self.start_month, self.duration, self.horizon_months)
            level = unit[:, None, :]
            level = level * np.repeat(relative, n_draws, axis=1).astype(FLOAT)
            k = sim.saturation_k(initiative)
            share = level * (1.0 + k)
            share /= level + k
            lift = sim.params["lift_csat"][:, sim.initiatives.index(initiative)].astype(FLOAT)
            csat += share * lift
            lift = sim.params["lift_nps"][:, sim.initiatives.index(initiative)].astype(FLOAT)
            nps += share * lift
        index = np.arange(len(sim.segments))  # every segment is its own group of lifts
        margin = np.array([self.gross_margin.for_segment(s) for s in sim.segments])
        change = increments(sim.pack(self.horizon_months, index), Lifts(csat, nps, index), sim.coefficients(index),
                            frozenset(self.levers.enabled()), self.discount, margin)
        per_customer = (sim.terminal_per_customer(self.horizon_months, index, margin, self.rate)
                        if self.terminal_value else None)
        value = scenario_value(change, margin, per_customer)
        value = value.reshape(len(sim.segments), batch, n_draws).transpose(1, 2, 0)
        spend_by_segment = np.zeros((batch, len(sim.segments)))
        np.add.at(spend_by_segment.T, self.segment_of, spend.T)
        return value - (spend_by_segment * self.pv_per_monthly_unit)[:, None, :]

    def funded(self, monthly_spend: np.ndarray) -> np.ndarray:
        """Which initiatives an allocation (batch × cells) funds: batch × initiatives."""
        spend = np.atleast_2d(monthly_spend)
        by_initiative = np.zeros((spend.shape[0], len(self.initiative_ids)))
        np.add.at(by_initiative.T, self.initiative_of, spend.T)
        return by_initiative > 0

    def total_npv(self, monthly_spend: np.ndarray, draws: np.ndarray | None = None) -> np.ndarray:
        """Plan NPV per draw (currency), the one-off costs of funded initiatives included:
        batch × draws."""
        one_off = self.funded(monthly_spend) @ self.one_off_by_initiative * self.one_off_discount
        return self.npv_draws(monthly_spend, draws).sum(axis=-1) - one_off[:, None]

    def objective_of(self, npv: np.ndarray) -> tuple[float, bool]:
        """(objective, floor met) of plans' NPV per draw (…× draws, currency)."""
        npv = np.asarray(npv)
        value = finance.cvar(npv, self.alpha) if self.objective == "cvar" else npv.mean(axis=-1)
        return value, self.objective != "prob" or (npv > 0).mean(axis=-1) >= self.floor

    # ------------------------------------------------------------------ search
    def _project(self, shares: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """Euclidean projection onto {Σ w ≤ 1, low ≤ w ≤ high} (bisection on the shift)."""
        if np.clip(shares, low, high).sum() <= 1.0:
            return np.clip(shares, low, high)
        lo, hi = (shares - high).min() - 1.0, (shares - low).max() + 1.0
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            if np.clip(shares - mid, low, high).sum() > 1.0:
                lo = mid
            else:
                hi = mid
        return np.clip(shares - 0.5 * (lo + hi), low, high)

    def _starts(self, low: np.ndarray, high: np.ndarray, n_random: int) -> list[np.ndarray]:
        rng = np.random.default_rng(self.seed + 1)
        cost = np.array([float(self.settings[i]["monthly_cost"]) for i, _ in self.cells])
        starts = [np.full(len(self.cells), 1.0 / len(self.cells)), cost / cost.sum()]
        starts += [rng.dirichlet(np.ones(len(self.cells))) for _ in range(n_random)]
        projected = [self._project(s, low, high) for s in starts]
        return [s for k, s in enumerate(projected) if not any(np.allclose(s, t) for t in projected[:k])]

    def solve(self, budget: float, n_random_starts: int = 1, warm_start: np.ndarray | None = None,
              progress: Progress | None = None, max_iterations: int = 50) -> Allocation:
        """Best allocation within ``budget`` (total plan spend, currency) for the objective."""
        if budget < self.minimum_budget - 1e-6:
            raise ScenarioError(f"budget {budget:,.0f} cannot be allocated: these cells, bounds and required "
                                f"initiatives need at least {self.minimum_budget:,.0f}")
        funded = self._affordable(budget)
        searches = 1 + int(np.sum(funded & ~self.mandatory))  # at most one more search per initiative dropped
        spend, log, done = np.zeros(len(self.cells)), [], 0
        while True:
            spend, searched = self._search_funded(budget, funded, n_random_starts if done == 0 else 0,
                                                  warm_start if done == 0 else spend, max_iterations)
            log += searched
            done += 1
            if progress:
                progress(done, searches, f"search {done}: objective {searched[-1][1]:,.0f}")
            drop = self._initiative_to_drop(spend, funded)
            if drop is None:
                break
            funded = funded.copy()
            funded[drop] = False
            spend[self.initiative_of == drop] = 0.0
        if progress:
            progress(searches, searches, "done")
        return self._finish(spend, budget, tuple(log))

    def _affordable(self, budget: float) -> np.ndarray:
        """Initiatives whose one-off costs the budget can pay (mask): all, or — when it cannot
        pay them all — those with the most value per currency at nominal spend (all their
        cells at the catalogue monthly cost, on the screening draws)."""
        funded = np.isin(np.arange(len(self.initiative_ids)), self.initiative_of)
        if self.one_off_by_initiative[funded].sum() + self.lower.sum() * self.duration <= budget:
            return funded
        nominal = np.array([float(self.settings[i]["monthly_cost"]) for i, _ in self.cells])
        alone = np.where(self.initiative_of[None, :] == np.arange(len(self.initiative_ids))[:, None], nominal, 0.0)
        value, _ = self.objective_of(self.total_npv(alone, self.screen))
        cost = self.one_off_by_initiative + alone.sum(axis=1) * self.duration
        for i in np.argsort((value + cost) / np.maximum(cost, 1e-9)):  # value per currency spent, least first
            if self.one_off_by_initiative[funded].sum() + self.lower.sum() * self.duration <= budget:
                break
            funded[i] = funded[i] and self.mandatory[i]
        return funded

    def _initiative_to_drop(self, spend: np.ndarray, funded: np.ndarray) -> int | None:
        """The funded, optional initiative whose removal (cells to zero, one-off saved) raises
        the objective on the search draws the most; None when no removal helps."""
        candidates = np.flatnonzero(funded & ~self.mandatory)
        if candidates.size == 0:
            return None
        plans = np.repeat(spend[None, :], candidates.size + 1, axis=0)
        for row, i in enumerate(candidates, start=1):
            plans[row, self.initiative_of == i] = 0.0
        one_off = np.full(plans.shape[0], self.one_off_by_initiative[funded].sum())
        one_off[1:] -= self.one_off_by_initiative[candidates]
        npv = self.npv_draws(plans, self.search_draws).sum(axis=-1) - (one_off * self.one_off_discount)[:, None]
        value, feasible = self.objective_of(npv)
        keys = list(zip(np.broadcast_to(feasible, value.shape).tolist(), value.tolist(), strict=True))
        best = max(range(1, len(keys)), key=keys.__getitem__)  # meeting the floor first, then the objective
        (kept_feasible, kept_value) = keys[0]
        if keys[best] > (kept_feasible, kept_value + 1e-9 * max(abs(kept_value), 1.0)):
            return int(candidates[best - 1])
        return None

    def _search_funded(self, budget: float, funded: np.ndarray, n_random_starts: int, warm_start: np.ndarray | None,
                       max_iterations: int) -> tuple[np.ndarray, list[tuple[float, float]]]:
        """Monthly spend per cell searched for the initiatives ``funded`` (others at 0), and
        (objective at start, at end) of each start."""
        monthly = self._running_limit(budget, funded)
        if monthly <= 1e-9:
            return np.zeros(len(self.cells)), [(0.0, 0.0)]
        cells = funded[self.initiative_of]
        low, high = np.where(cells, self.lower / monthly, 0.0), np.where(cells, self.upper / monthly, 0.0)
        one_off = self.one_off_by_initiative[funded].sum()
        starts = self._starts(low, high, n_random_starts)
        if warm_start is not None and warm_start.sum() > 0:
            starts = [self._project(warm_start / monthly, low, high), starts[0]]
        best, best_value, log = None, -np.inf, []
        for w0 in starts:
            w, value, start_value, feasible = self._search(w0, monthly, one_off, low, high, budget, self.screen,
                                                           max_iterations, tolerance=1e-4)
            log.append((start_value, value))
            if best is None or (feasible and value > best_value):
                best, best_value = w, (value if feasible else -np.inf)
        if len(self.search_draws) > len(self.screen):
            best = self._search(best, monthly, one_off, low, high, budget, self.search_draws, max_iterations,
                                tolerance=1e-5)[0]
        return best * monthly, log

    def _search(self, w0: np.ndarray, monthly: float, one_off: float, low: np.ndarray, high: np.ndarray,
                budget: float, draws: np.ndarray, max_iterations: int,
                tolerance: float) -> tuple[np.ndarray, float, float, bool]:
        """SLSQP from shares ``w0`` of the running limit ``monthly`` (plus ``one_off`` costs) on
        ``draws`` until the objective changes by less than ``tolerance`` (relative): (shares,
        objective, objective at start, feasible), objectives in currency. Screening stops early
        (1e-4); the polish runs tighter (1e-5)."""
        scale = 1.0
        step = 1e-4  # forward-difference step in budget shares
        n_init = len(self.initiative_ids)
        memo: dict[tuple[bytes, bool], tuple] = {}

        def evaluate(w: np.ndarray, gradient: bool = True) -> tuple:
            key = (w.tobytes(), gradient)
            if key in memo:
                return memo[key]
            batch = np.repeat(w[None, :] * monthly, n_init + 1 if gradient else 1, axis=0)
            for i in range(n_init if gradient else 0):
                batch[i + 1, self.initiative_of == i] += step * monthly
            per_segment = self.npv_draws(batch, draws)  # batch × draws × segments
            npv = per_segment[0].sum(axis=-1) - one_off * self.one_off_discount
            diff = (per_segment[1:] - per_segment[:1]) / step  # initiatives × draws × segments
            cell_grad = diff[self.initiative_of, :, self.segment_of] if gradient else None  # cells × draws
            tail = np.argsort(npv)[: max(1, int(np.floor(self.alpha * npv.size)))]
            weights = np.full(npv.size, 1.0 / npv.size)
            if self.objective == "cvar":
                weights = np.zeros(npv.size)
                weights[tail] = 1.0 / tail.size
            width = max(float(npv.std()), 1e-9 * abs(budget)) * 0.1  # logistic kernel for P(NPV > 0)
            sig = 0.5 * (1.0 + np.tanh(npv / (2.0 * width)))
            result = (float(weights @ npv) / scale, float(sig.mean()),
                      None if cell_grad is None else cell_grad @ weights / scale,
                      None if cell_grad is None else cell_grad @ (sig * (1.0 - sig) / width) / npv.size)
            if len(memo) > 8:
                memo.clear()
            memo[key] = result
            return result

        constraints = [{"type": "ineq", "fun": lambda w: 1.0 - w.sum(), "jac": lambda w: -np.ones_like(w)}]
        if self.objective == "prob":
            constraints.append({"type": "ineq", "fun": lambda w: evaluate(w, False)[1] - self.floor,
                                "jac": lambda w: evaluate(w)[3]})
        start_value = evaluate(w0, False)[0]
        scale = max(abs(start_value), 1e-3 * abs(budget), 1.0)  # objective of order 1 for SLSQP's ftol
        memo.clear()
        solution = minimize(lambda w: -evaluate(w, False)[0], w0, jac=lambda w: -evaluate(w)[2], method="SLSQP",
                            bounds=list(zip(low, high, strict=True)), constraints=constraints,
                            options={"maxiter": max_iterations, "ftol": tolerance})
        w = self._project(np.clip(solution.x, low, high), low, high)
        value, prob, _, _ = evaluate(w, False)
        feasible = self.objective != "prob" or prob >= self.floor - 1e-3
        return w, value * scale, start_value, feasible

    def to_scenario(self, monthly_spend: np.ndarray, name: str = "optimised allocation") -> Scenario:
        """The allocation as a scenario: one investment per cell with spend, each funded
        initiative's one-off cost on its first cell (a plan that funds nothing: one investment of
        zero spend, so that it values to exactly 0)."""
        investments, charged = [], set()
        for k in np.flatnonzero(monthly_spend > 0) if np.any(monthly_spend > 0) else [0]:
            (initiative, segment), spend = self.cells[k], float(monthly_spend[k])
            one_off = 0.0 if initiative in charged or spend <= 0 else float(self.settings[initiative].get("one_off_cost", 0.0))
            charged.add(initiative)
            investments.append({"initiative": initiative, "segments": [segment], "start_month": self.start_month,
                                "duration_months": self.duration, "monthly_spend": spend,
                                "one_off_cost": one_off})
        return Scenario.model_validate({
            "name": name, "investments": investments, "horizon_months": self.horizon_months,
            "annual_discount_rate": self.annual_discount_rate, "gross_margin": self.gross_margin,
            "terminal_value": self.terminal_value, "levers": self.levers,
        })

    def _finish(self, monthly_spend: np.ndarray, budget: float, log: tuple) -> Allocation:
        result = simulate(self.to_scenario(monthly_spend), self.artifact)
        value, feasible = self.objective_of(result.npv)
        return Allocation(self.cells, monthly_spend, budget, self.objective, float(value), result, bool(feasible), log)

    def frontier(self, budgets: Sequence[float], quantiles: Sequence[float] = (0.1, 0.5, 0.9),
                 progress: Progress | None = None) -> pd.DataFrame:
        """Efficient frontier: for each budget the optimised plan's NPV mean and quantiles,
        P(ROI > 0) and objective value (currency). Each budget warm-starts from the previous."""
        rows, previous = [], None
        for k, budget in enumerate(sorted(budgets)):
            plan = self.solve(budget, n_random_starts=0, warm_start=previous)
            previous = plan.monthly_spend if plan.monthly_spend.sum() > 0 else None
            npv = plan.result.npv
            row = {"budget": budget, "objective_value": plan.objective_value, "npv_mean": float(npv.mean())}
            row.update({f"npv_p{100 * q:g}": float(v) for q, v in zip(quantiles, np.quantile(npv, quantiles), strict=True)})
            row.update({"prob_roi_positive": plan.result.prob_roi_positive, "feasible": plan.feasible})
            rows.append(row)
            if progress:
                progress(k + 1, len(budgets), f"budget {budget:,.0f}: expected NPV {row['npv_mean']:,.0f}")
        return pd.DataFrame(rows)


def optimize(artifact: ModelArtifact, budget: float, objective: Objective = "mean",
             progress: Progress | None = None, **settings) -> Allocation:
    """Allocate ``budget`` (total plan spend, currency) on ``artifact``; ``settings`` are
    :class:`AllocationProblem` fields (initiatives, segments, horizon_months, bounds, …)."""
    return AllocationProblem(artifact, objective=objective, **settings).solve(budget, progress=progress)
