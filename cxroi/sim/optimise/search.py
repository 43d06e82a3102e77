"""The search for the best plan within a budget.

The budget caps the plan's total spend in currency: the one-off costs of the initiatives it
funds plus Σ_c x_c · duration. For a set of funded initiatives the search runs SLSQP over the
shares w_c of the running limit — what the budget leaves per month after their one-off costs,
capped by the cells' bounds — with Σ w ≤ 1, so a plan spends less when more would lower the
objective. Gradients are forward differences computed in one batch: segments are independent
given their own cells, so perturbing initiative i in every segment at once yields ∂NPV_d/∂x_(i,s)
for every segment s and draw d. An objective with a floor on P(ROI > 0) adds it as a constraint,
P smoothed by a logistic kernel during the search (the final plan is checked with the exact
share of draws).

Against stopping at the starting guess, several starts (equal split, cost-proportional, random)
are searched on the screening draws and the best end point is polished on the search draws.
Then the semicontinuous cells are settled (:mod:`cxroi.sim.optimise.pruning`): a cell of an
initiative with a one-off cost that ended between 0 and its minimum effective spend is raised to
that minimum (when it had at least half of it) or closed, and the rest searched again; then the
initiative or minimum-bound cell whose removal raises the objective most is removed and the rest
searched again with the money freed (a closing is judged with that money left unspent and
re-spent on the other funded cells); initiatives a search left without spend give back the
one-off set aside for them; and an unfunded cell whose opening at its minimum (the money taken
from the others) raises the objective most is opened, until no move helps. No funded cell ends below its
minimum effective spend. The plan is finally simulated on every draw; every
search's value before and after is kept in :attr:`Allocation.starts`.

The search runs with one BLAS thread: its linear algebra (SLSQP's, on a few dozen cells) is far
too small to share, and OpenBLAS's second thread spinning beside the kernel doubled the CPU time
and cost 0.2–0.8 s of a 0.5 s search on the shared 2-core machine (benchmarks/README.md).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import minimize

from cxroi.errors import ScenarioError
from cxroi.sim.optimise.allocation import Allocation, Progress
from cxroi.sim.optimise.pruning import (
    addition,
    affordable,
    idle_initiatives,
    removal,
    settle_minimums,
)

if TYPE_CHECKING:
    from cxroi.sim.optimise.problem import AllocationProblem

_STEP = 1e-4  #: forward-difference step, in shares of the running limit
_SCREEN_TOLERANCE, _POLISH_TOLERANCE = 1e-4, 1e-5  #: relative change of the objective that stops SLSQP


def allocate(problem: AllocationProblem, budget: float, n_random_starts: int = 1, warm_start: np.ndarray | None = None,
             progress: Progress | None = None, max_iterations: int = 50, grow: bool = False) -> Allocation:
    """The best plan within ``budget`` (total plan spend, currency) for the problem's objective,
    searched from the equal and cost-proportional splits and ``n_random_starts`` random ones (or
    from ``warm_start``, a monthly spend per cell, and the equal split). With ``grow`` the
    search starts from the cells ``warm_start`` funds alone and opens others only where that pays
    (a plan grown from a smaller budget's)."""
    if budget < problem.minimum_budget - 1e-6:
        raise ScenarioError(f"budget {budget:,.0f} cannot be allocated: these cells, bounds and required "
                            f"initiatives need at least {problem.minimum_budget:,.0f}")
    with _one_blas_thread():
        return _allocate(problem, budget, n_random_starts, warm_start, progress, max_iterations, grow)


def _one_blas_thread() -> contextlib.AbstractContextManager:
    """Limit BLAS to one thread for the ``with`` block (nothing to limit without threadpoolctl,
    which PyMC installs)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _allocate(problem: AllocationProblem, budget: float, n_random_starts: int, warm_start: np.ndarray | None,
              progress: Progress | None, max_iterations: int, grow: bool = False) -> Allocation:
    """:func:`allocate` once the budget is known to be enough."""
    p = problem
    active = affordable(p, budget)[p.initiative_of]  # cells the search may fund
    if grow and warm_start is not None and np.any(warm_start > 0):
        active = active & ((warm_start > 0) | (p.lower > 0))
    floor = p.lower.copy()  # least spend of each active cell
    searches = 1 + len(p.initiatives) + int(np.sum(p.minimum > p.lower))  # an estimate, for the progress bar
    spend, log, done = np.zeros(len(p.cells)), [], 0
    best, best_key = None, None  # the best plan any round found (moves are judged before a search confirms them)
    for _ in range(4 * len(p.cells) + len(p.initiatives) + 1):  # each round closes, fixes or opens a line
        # later rounds refine the plan of the round before (one start; -1: no equal split beside it)
        spend, searched = _search_cells(p, budget, active, floor, n_random_starts if done == 0 else -1,
                                        warm_start if done == 0 else spend, max_iterations)
        log += searched
        done += 1
        if progress:
            progress(min(done, searches), searches, f"search {done}: objective {searched[-1][1]:,.0f}")
        if not np.any((spend > 0) & (spend < p.minimum * (1.0 - 1e-6))):  # a plan that may be kept
            value, feasible = p.objective.score(p.total_npv(spend[None, :], p.search_draws))
            if best_key is None or (bool(feasible[0]), float(value[0])) > best_key:
                best, best_key = spend.copy(), (bool(feasible[0]), float(value[0]))
        settled = settle_minimums(p, budget, spend, active, floor)
        if settled is not None:
            active, floor = settled
            continue
        idle = idle_initiatives(p, spend, active)
        if idle.any() and p.one_off_by_initiative[p.initiatives_of(idle)].sum() > 0:
            active = active & ~idle  # their one-offs were set aside for nothing: search the money again
            continue
        closed = removal(p, budget, spend, active, floor)
        if closed is not None:
            active = active & ~closed
            spend[closed] = 0.0
            continue
        opened = addition(p, budget, spend, floor)
        if opened is None:
            break
        active[opened] = True
        floor[opened] = max(p.minimum[opened], p.lower[opened])
    if best is not None:
        spend = best
    spend = np.where(spend >= p.minimum * (1.0 - 1e-6), spend, 0.0)  # never a token line, whatever the rounding
    if progress:
        progress(searches, searches, "done")
    result = p.simulate(spend)
    value, feasible = p.objective.score(result.npv)
    return Allocation(p.cells, spend, budget, p.objective.name, float(value), result, bool(feasible), tuple(log),
                      p.initiatives, p.one_off_by_initiative.copy())


def project(shares: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
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


def _starts(problem: AllocationProblem, low: np.ndarray, high: np.ndarray, n_random: int) -> list[np.ndarray]:
    """Distinct starting shares: the equal split, the split in proportion to nominal cost and
    ``n_random`` random ones, each projected on the feasible shares."""
    rng = np.random.default_rng(problem.seed + 1)
    n_cells = len(problem.cells)
    starts = [np.full(n_cells, 1.0 / n_cells), problem.monthly_cost / problem.monthly_cost.sum()]
    starts += [rng.dirichlet(np.ones(n_cells)) for _ in range(n_random)]
    projected = [project(s, low, high) for s in starts]
    return [s for k, s in enumerate(projected) if not any(np.allclose(s, t) for t in projected[:k])]


def _search_cells(problem: AllocationProblem, budget: float, active: np.ndarray, floor: np.ndarray,
                  n_random_starts: int, warm_start: np.ndarray | None,
                  max_iterations: int) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Monthly spend per cell searched for the ``active`` cells (each at least its ``floor``,
    currency per month; the others at 0), and (objective at start, at end) of each start, in
    currency; the one-off costs of every initiative with an active cell are set aside. From
    ``warm_start`` and the equal split, or from ``warm_start`` alone when ``n_random_starts`` < 0."""
    p = problem
    monthly = p.running_limit(budget, active)
    if monthly <= 1e-9:
        return np.zeros(len(p.cells)), [(0.0, 0.0)]
    low, high = np.where(active, floor / monthly, 0.0), np.where(active, p.upper / monthly, 0.0)
    one_off = p.one_off_by_initiative[p.initiatives_of(active)].sum()
    starts = _starts(p, low, high, n_random_starts)
    if warm_start is not None and warm_start.sum() > 0:  # the equal split too, unless only refining a plan
        starts = [project(warm_start / monthly, low, high)] + ([starts[0]] if n_random_starts >= 0 else [])
    best, best_value, log = None, -np.inf, []
    for w0 in starts:
        w, value, start_value, feasible = _slsqp(p, w0, monthly, one_off, low, high, budget, p.screen_draws,
                                                 max_iterations, _SCREEN_TOLERANCE)
        log.append((start_value, value))
        if best is None or (feasible and value > best_value):
            best, best_value = w, (value if feasible else -np.inf)
    if len(p.search_draws) > len(p.screen_draws):
        best = _slsqp(p, best, monthly, one_off, low, high, budget, p.search_draws, max_iterations,
                      _POLISH_TOLERANCE)[0]
    return best * monthly, log


def _slsqp(problem: AllocationProblem, w0: np.ndarray, monthly: float, one_off: float, low: np.ndarray,
           high: np.ndarray, budget: float, draws: np.ndarray, max_iterations: int,
           tolerance: float) -> tuple[np.ndarray, float, float, bool]:
    """SLSQP from shares ``w0`` of the running limit ``monthly`` (plus ``one_off`` costs) on
    ``draws`` until the objective changes by less than ``tolerance`` (relative): (shares,
    objective, objective at start, floor met), objectives in currency."""
    p, objective = problem, problem.objective
    n_initiatives = len(p.initiatives)
    scale = 1.0
    memo: dict[tuple[bytes, bool], tuple] = {}

    def evaluate(w: np.ndarray, gradient: bool = True) -> tuple:
        """(objective / scale, smoothed P(NPV > 0), and with ``gradient`` their gradients in w)."""
        key = (w.tobytes(), gradient)
        if key in memo:
            return memo[key]
        batch = np.repeat(w[None, :] * monthly, n_initiatives + 1 if gradient else 1, axis=0)
        for i in range(n_initiatives if gradient else 0):
            batch[i + 1, p.initiative_of == i] += _STEP * monthly
        per_segment = p.npv_draws(batch, draws)  # batch × draws × segments
        npv = per_segment[0].sum(axis=-1) - one_off * p.terms.one_off_discount
        diff = (per_segment[1:] - per_segment[:1]) / _STEP  # initiatives × draws × segments
        cell_grad = diff[p.initiative_of, :, p.segment_of] if gradient else None  # cells × draws
        weights = objective.draw_weights(npv)
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
    if objective.floor is not None:
        constraints.append({"type": "ineq", "fun": lambda w: evaluate(w, False)[1] - objective.floor,
                            "jac": lambda w: evaluate(w)[3]})
    start_value = evaluate(w0, False)[0]
    scale = max(abs(start_value), 1e-3 * abs(budget), 1.0)  # objective of order 1 for SLSQP's ftol
    memo.clear()
    solution = minimize(lambda w: -evaluate(w, False)[0], w0, jac=lambda w: -evaluate(w)[2], method="SLSQP",
                        bounds=list(zip(low, high, strict=True)), constraints=constraints,
                        options={"maxiter": max_iterations, "ftol": tolerance})
    w = project(np.clip(solution.x, low, high), low, high)
    value, prob, _, _ = evaluate(w, False)
    feasible = objective.floor is None or prob >= objective.floor - 1e-3
    return w, value * scale, start_value, feasible
