"""Allocate a CX budget across initiatives × segments.

The decision is a monthly spend x_c for every cell c = (initiative, segment) — the segments an
initiative reaches per the model's settings or the initiative catalogue — paid from month
``start_month`` for ``duration_months``. The budget is the total spend of the plan in currency:
the one-off costs of the offered initiatives plus Σ_c x_c · duration. Each cell has bounds
(default 0 … ``max_multiple`` × the catalogue monthly cost).

Objectives, on the plan's NPV per draw (currency):

* ``mean`` — expected NPV;
* ``cvar`` — CVaR at ``alpha`` (mean of the worst 10 % of draws by default);
* ``prob`` — expected NPV subject to P(ROI > 0) ≥ ``floor`` (P smoothed by a logistic kernel
  during the search; the final plan is checked with the exact share of draws).

Method: SLSQP over budget shares on fixed subsamples of draws (common random numbers).
Gradients are forward differences computed in one vectorised batch: segments are independent
given their own cells, so perturbing initiative i in every segment at once yields
∂NPV_d/∂x_(i,s) for every segment s and draw d. Against stopping at the starting guess, several
starts (equal split, cost-proportional, random) are searched on ``screen_draws`` draws, the best
end point is polished on ``max_draws`` draws, and the plan is finally simulated on all draws
with the engine; every start's value before and after is kept in :attr:`Allocation.starts`.
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
    budget: float  #: total spend of the plan (currency)
    objective: str
    objective_value: float  #: on all draws, currency
    result: SimulationResult  #: the plan simulated on all draws
    feasible: bool  #: False when the P(ROI > 0) floor could not be met
    starts: tuple[tuple[float, float], ...]  #: (value at start, value at end) of each start, search draws

    def table(self) -> pd.DataFrame:
        """initiative, segment, monthly_spend, total_spend (currency), share of running spend."""
        duration = self.result.scenario.investments[0].duration_months if self.result.scenario.investments else 0
        frame = pd.DataFrame(self.cells, columns=["initiative", "segment"])
        frame["monthly_spend"] = self.monthly_spend
        frame["total_spend"] = self.monthly_spend * duration
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
        self.one_off = sum(float(self.settings[i].get("one_off_cost", 0.0)) for i in initiatives)
        self.initiative_of = np.array([initiatives.index(i) for i, _ in self.cells])
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
        self.one_off_pv = self.one_off / (1.0 + self.rate) ** self.start_month

    def _catalogue_reach(self, initiative: str) -> tuple[str, ...]:
        """Segments the initiative catalogue says an initiative reaches (empty when unknown)."""
        try:
            entry = load_catalogue(self.catalogue_path).get(initiative)
        except DataError:
            return ()
        return entry.segments if entry is not None else ()

    # ------------------------------------------------------------------ evaluation
    def running_budget(self, budget: float) -> float:
        """Monthly spend total Σ_c x_c that a total budget leaves after one-off costs."""
        monthly = (budget - self.one_off) / self.duration
        if monthly < self.lower.sum() - 1e-9 or monthly > self.upper.sum() + 1e-9:
            raise ScenarioError(
                f"budget {budget:,.0f} cannot be allocated: after one-off costs of {self.one_off:,.0f} it must "
                f"lie between {self.one_off + self.lower.sum() * self.duration:,.0f} and "
                f"{self.one_off + self.upper.sum() * self.duration:,.0f} for these cells and bounds")
        return monthly

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

    def total_npv(self, monthly_spend: np.ndarray, draws: np.ndarray | None = None) -> np.ndarray:
        """Plan NPV per draw (currency), one-off costs included: batch × draws."""
        return self.npv_draws(monthly_spend, draws).sum(axis=-1) - self.one_off_pv

    # ------------------------------------------------------------------ search
    def _project(self, shares: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """Euclidean projection onto {Σ w = 1, low ≤ w ≤ high} (bisection on the shift)."""
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
        """Best allocation of ``budget`` (total plan spend, currency) for the objective."""
        monthly = self.running_budget(budget)
        if monthly <= 0:
            return self._finish(np.zeros(len(self.cells)), budget, ())
        low, high = self.lower / monthly, self.upper / monthly
        starts = self._starts(low, high, n_random_starts)
        if warm_start is not None:
            starts = [self._project(warm_start / max(warm_start.sum(), 1e-12), low, high), starts[0]]
        total = len(starts) + 1
        best, best_value, log = None, -np.inf, []
        for k, w0 in enumerate(starts):
            w, value, start_value, feasible = self._search(w0, monthly, low, high, budget, self.screen,
                                                           max_iterations, tolerance=1e-4)
            log.append((start_value, value))
            if best is None or (feasible and value > best_value):
                best, best_value = w, (value if feasible else -np.inf)
            if progress:
                progress(k + 1, total, f"start {k + 1}/{len(starts)}: objective {value:,.0f}")
        if len(self.search_draws) > len(self.screen):
            best = self._search(best, monthly, low, high, budget, self.search_draws, max_iterations,
                                tolerance=1e-5)[0]
        if progress:
            progress(total, total, "polished on the search draws")
        return self._finish(best * monthly, budget, tuple(log))

    def _search(self, w0: np.ndarray, monthly: float, low: np.ndarray, high: np.ndarray, budget: float,
                draws: np.ndarray, max_iterations: int, tolerance: float) -> tuple[np.ndarray, float, float, bool]:
        """SLSQP from budget shares ``w0`` on ``draws`` until the objective changes by less than
        ``tolerance`` (relative): (shares, objective, objective at start, feasible), objectives
        in currency. Screening stops early (1e-4); the polish runs tighter (1e-5)."""
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
            npv = per_segment[0].sum(axis=-1) - self.one_off_pv
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

        constraints = [{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones_like(w)}]
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
        """The allocation as a scenario (one investment per funded cell; each initiative's one-off
        cost on its first cell)."""
        investments, charged = [], set()
        for (initiative, segment), spend in zip(self.cells, monthly_spend, strict=True):
            one_off = 0.0 if initiative in charged else float(self.settings[initiative].get("one_off_cost", 0.0))
            charged.add(initiative)
            investments.append({"initiative": initiative, "segments": [segment], "start_month": self.start_month,
                                "duration_months": self.duration, "monthly_spend": float(spend),
                                "one_off_cost": one_off})
        return Scenario.model_validate({
            "name": name, "investments": investments, "horizon_months": self.horizon_months,
            "annual_discount_rate": self.annual_discount_rate, "gross_margin": self.gross_margin,
            "terminal_value": self.terminal_value, "levers": self.levers,
        })

    def _finish(self, monthly_spend: np.ndarray, budget: float, log: tuple) -> Allocation:
        result = simulate(self.to_scenario(monthly_spend), self.artifact)
        value = float(finance.cvar(result.npv, self.alpha) if self.objective == "cvar" else result.expected_npv)
        feasible = self.objective != "prob" or result.prob_roi_positive >= self.floor
        return Allocation(self.cells, monthly_spend, budget, self.objective, value, result, feasible, log)

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
