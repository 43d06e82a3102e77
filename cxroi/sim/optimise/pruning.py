"""Which initiatives and cells a plan funds: those the budget can pay the one-off costs of, each
cell of an initiative with a one-off at its minimum effective spend or not at all, and then
removing, one at a time, the initiative or cell whose removal raises the objective most.

Masks: ``active`` marks the cells a search may fund (cells), ``floor`` is the least monthly
spend of each active cell (currency per month); initiatives are masks over the problem's
offered initiatives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cxroi.sim.optimise.problem import AllocationProblem


def entry_cost(problem: AllocationProblem) -> np.ndarray:
    """What funding each initiative at all costs at least (currency): its one-off cost and, over
    the plan's months, its cells' lower bounds or — when larger — one cell at its minimum
    effective spend."""
    p = problem
    lower = np.bincount(p.initiative_of, weights=p.lower, minlength=len(p.initiatives))
    cheapest = np.full(len(p.initiatives), np.inf)
    np.minimum.at(cheapest, p.initiative_of, p.minimum)
    cheapest[~np.isfinite(cheapest)] = 0.0
    return p.one_off_by_initiative + np.maximum(lower, cheapest) * p.duration


def affordable(problem: AllocationProblem, budget: float) -> np.ndarray:
    """Initiatives (mask) the budget (currency) can fund properly (:func:`entry_cost`): every
    initiative with a cell or — when it cannot fund them all — those with the most value per
    currency at nominal spend (all their cells at the nominal monthly cost, on the screening
    draws); initiatives are left out least valuable first, mandatory ones never."""
    p = problem
    funded = np.isin(np.arange(len(p.initiatives)), p.initiative_of)
    entry = entry_cost(p)
    if entry[funded].sum() <= budget:
        return funded
    alone = np.where(p.initiative_of[None, :] == np.arange(len(p.initiatives))[:, None], p.monthly_cost, 0.0)
    value, _ = p.objective.score(p.total_npv(alone, p.screen_draws))
    cost = p.one_off_by_initiative + alone.sum(axis=1) * p.duration
    for i in np.argsort((value + cost) / np.maximum(cost, 1e-9)):  # value per currency spent, least first
        if entry[funded].sum() <= budget:
            break
        funded[i] = funded[i] and p.mandatory[i]
    return funded


def settle_minimums(problem: AllocationProblem, budget: float, monthly_spend: np.ndarray, active: np.ndarray,
                    floor: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """New (active, floor) when a searched plan funds a cell between 0 and its minimum effective
    spend: such a cell is held at its minimum from now on when it had at least half of it, and
    closed otherwise; when the budget cannot pay the minimums held, the ones with the least
    spend are closed until it can. None when no cell is below its minimum."""
    p = problem
    below = active & (monthly_spend > 0) & (monthly_spend < p.minimum * (1.0 - 1e-6)) & (p.minimum > floor)
    if not below.any():
        return None
    active, floor = active.copy(), floor.copy()
    held = below & (monthly_spend >= 0.5 * p.minimum)
    active[below & ~held] = False
    floor[held] = p.minimum[held]
    spend = np.where(active, np.maximum(monthly_spend, floor), 0.0)
    while True:  # the budget must pay the minimums held: close the line whose loss costs least
        one_off = p.one_off_by_initiative[p.initiatives_of(active)].sum()
        if one_off + floor[active].sum() * p.duration <= budget * (1.0 + 1e-9):
            return active, floor
        candidates = np.flatnonzero(active & (floor > p.lower))
        if candidates.size == 0:
            return active, floor
        plans = np.repeat(spend[None, :], candidates.size, axis=0)
        plans[np.arange(candidates.size), candidates] = 0.0
        value, feasible = p.objective.score(p.total_npv(plans, p.screen_draws))
        k = candidates[max(range(candidates.size), key=lambda j: (bool(feasible[j]), float(value[j])))]
        active[k] = False
        spend[k] = 0.0


def refilled(problem: AllocationProblem, budget: float, monthly_spend: np.ndarray) -> np.ndarray:
    """``monthly_spend`` (per cell, currency per month) with what the budget leaves after it —
    its one-off costs and running spend — added to its funded cells in proportion to their
    spend, each capped at its upper bound: how a plan that closed a line would re-spend the money
    freed, before a search confirms it."""
    p = problem
    spend = monthly_spend.copy()
    for _ in range(len(p.cells)):  # each pass caps at least one more cell or spends everything
        one_off = p.one_off_by_initiative[p.initiatives_of(spend > 0)].sum()
        left = (budget - one_off) / p.duration - spend.sum()
        open_cells = (spend > 0) & (spend < p.upper)
        if left <= 1e-9 or not open_cells.any():
            break
        spend[open_cells] += left * spend[open_cells] / spend[open_cells].sum()
        np.minimum(spend, p.upper, out=spend)
    return spend


def removal(problem: AllocationProblem, budget: float, monthly_spend: np.ndarray, active: np.ndarray,
            floor: np.ndarray) -> np.ndarray | None:
    """The cells (mask) to close whose closing raises the objective on the search draws the most:
    a whole optional initiative (its one-off cost saved) or one cell held at its minimum effective
    spend (the one-off saved with the initiative's last funded cell), each valued with the money
    freed left unspent or re-spent on the other funded cells (:func:`refilled`) — a plan meeting
    the floor first, then the higher objective; None when no closing helps."""
    p = problem
    funded = p.initiatives_of(active & (monthly_spend > 0))
    candidates = [p.initiative_of == i for i in np.flatnonzero(funded & ~p.mandatory)]
    candidates += [np.arange(len(p.cells)) == k
                   for k in np.flatnonzero(active & (monthly_spend > 0) & (floor > p.lower))]
    if not candidates:
        return None
    plans = [monthly_spend]
    for cells in candidates:
        closed = np.where(cells, 0.0, monthly_spend)
        plans += [closed, refilled(p, budget, closed)]
    value, feasible = p.objective.score(p.total_npv(np.array(plans), p.search_draws))
    keys = list(zip(feasible.tolist(), value.tolist(), strict=True))
    best = max(range(1, len(keys)), key=keys.__getitem__)
    kept_feasible, kept_value = keys[0]
    if keys[best] > (kept_feasible, kept_value + 1e-9 * max(abs(kept_value), 1.0)):
        return candidates[(best - 1) // 2] & active
    return None


def idle_initiatives(problem: AllocationProblem, monthly_spend: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Cells (mask) of optional initiatives that have active cells but no spend: a search set
    their one-off costs aside for nothing, so they are closed and the money searched again."""
    p = problem
    idle = p.initiatives_of(active) & ~p.initiatives_of(active & (monthly_spend > 0)) & ~p.mandatory
    return idle[p.initiative_of] & active


def _make_room(problem: AllocationProblem, budget: float, monthly_spend: np.ndarray, floor: np.ndarray,
               cell: int) -> np.ndarray | None:
    """``monthly_spend`` with ``cell`` funded at its opening spend (its minimum effective spend, or
    a tenth of its nominal cost where it has none) and, when the budget cannot pay that and the
    initiative's one-off, the other cells cut in proportion to their spend above their floors;
    None when they cannot give enough."""
    p = problem
    spend = monthly_spend.copy()
    spend[cell] = max(p.minimum[cell], p.lower[cell], 0.1 * p.monthly_cost[cell])
    if spend[cell] > p.upper[cell]:
        return None
    one_off = p.one_off_by_initiative[p.initiatives_of(spend > 0)].sum()
    short = one_off / p.duration + spend.sum() - budget / p.duration
    if short <= 0:
        return spend
    others = np.arange(len(p.cells)) != cell
    slack = np.where(others & (spend > 0), np.maximum(spend - floor, 0.0), 0.0)
    if slack.sum() < short * (1 + 1e-9):
        return None
    spend -= slack * (short / slack.sum())
    return spend


def addition(problem: AllocationProblem, budget: float, monthly_spend: np.ndarray,
             floor: np.ndarray) -> int | None:
    """The unfunded cell whose opening (:func:`_make_room`) raises the objective on the search draws
    the most — a plan meeting the floor first, then the higher objective; None when none helps.
    Closing a line is judged by :func:`removal`; this is its counterpart, so a cell closed early
    in the search (or an initiative left out) can come back once the money allows."""
    p = problem
    candidates, plans = [], [monthly_spend]
    for k in np.flatnonzero(monthly_spend <= 0):
        opened = _make_room(p, budget, monthly_spend, floor, int(k))
        if opened is not None:
            candidates.append(int(k))
            plans.append(opened)
    if not candidates:
        return None
    value, feasible = p.objective.score(p.total_npv(np.array(plans), p.search_draws))
    keys = list(zip(feasible.tolist(), value.tolist(), strict=True))
    best = max(range(1, len(keys)), key=keys.__getitem__)
    kept_feasible, kept_value = keys[0]
    if keys[best] > (kept_feasible, kept_value + 1e-6 * max(abs(kept_value), 1.0)):
        return candidates[best - 1]
    return None
