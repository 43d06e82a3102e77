"""Which initiatives a plan funds: those the budget can pay the one-off costs of, and then
dropping, one at a time, the one whose removal raises the objective most."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from cxroi.sim.optimise.problem import AllocationProblem


def affordable(problem: AllocationProblem, budget: float) -> np.ndarray:
    """Initiatives (mask) whose one-off costs ``budget`` (currency) can pay: every initiative with
    a cell or — when it cannot pay them all — those with the most value per currency at nominal
    spend (all their cells at the nominal monthly cost, on the screening draws); initiatives are
    left out least valuable first, mandatory ones never."""
    p = problem
    funded = np.isin(np.arange(len(p.initiatives)), p.initiative_of)
    if p.one_off_by_initiative[funded].sum() + p.lower.sum() * p.duration <= budget:
        return funded
    alone = np.where(p.initiative_of[None, :] == np.arange(len(p.initiatives))[:, None], p.monthly_cost, 0.0)
    value, _ = p.objective.score(p.total_npv(alone, p.screen_draws))
    cost = p.one_off_by_initiative + alone.sum(axis=1) * p.duration
    for i in np.argsort((value + cost) / np.maximum(cost, 1e-9)):  # value per currency spent, least first
        if p.one_off_by_initiative[funded].sum() + p.lower.sum() * p.duration <= budget:
            break
        funded[i] = funded[i] and p.mandatory[i]
    return funded


def initiative_to_drop(problem: AllocationProblem, monthly_spend: np.ndarray, funded: np.ndarray) -> int | None:
    """The funded, optional initiative whose removal (its cells to zero, its one-off cost saved)
    raises the objective on the search draws the most — a plan meeting the floor first, then the
    higher objective; None when no removal helps."""
    p = problem
    candidates = np.flatnonzero(funded & ~p.mandatory)
    if candidates.size == 0:
        return None
    plans = np.repeat(monthly_spend[None, :], candidates.size + 1, axis=0)
    for row, i in enumerate(candidates, start=1):
        plans[row, p.initiative_of == i] = 0.0
    one_off = np.full(plans.shape[0], p.one_off_by_initiative[funded].sum())
    one_off[1:] -= p.one_off_by_initiative[candidates]
    npv = p.npv_draws(plans, p.search_draws).sum(axis=-1) - (one_off * p.terms.one_off_discount)[:, None]
    value, feasible = p.objective.score(npv)
    keys = list(zip(feasible.tolist(), value.tolist(), strict=True))
    best = max(range(1, len(keys)), key=keys.__getitem__)
    kept_feasible, kept_value = keys[0]
    if keys[best] > (kept_feasible, kept_value + 1e-9 * max(abs(kept_value), 1.0)):
        return int(candidates[best - 1])
    return None
