"""Response curves and marginal ROI: what one initiative is worth in one segment as its monthly
spend goes from 0 to a few times its nominal cost (as Meridian's response curves).

For each investment of a scenario (or each cell of an optimiser problem) and each segment it
reaches, the NPV (currency; mean and P10/P50/P90 over draws) at monthly spends 0 … ``max_multiple``
× the nominal monthly cost in that segment, on the investment's own months and the scenario's
valuation terms. The initiative is valued on its own in the segment (other investments reaching
the same segment are left out), with its running spend counted and its one-off cost not: the
one-off is paid once for the whole initiative, not by one segment's line.

The marginal ROI at the planned spend x is the return on the next unit of money there:
dE[NPV]/dx / (PV of 1 a month over the funded months), the derivative taken from the quadratic
through E[NPV] at three spends h apart — x − h, x, x + h (a central difference), or 0, h, 2h
when x < h — with h = 1 % of the nominal cost. NPV already counts the spend, so 0 means the next
unit of spend just pays for itself and −100 % that it adds nothing.

Computed with the simulator's batched value function on a fixed subsample of draws (all spend
levels of one investment in one pass): milliseconds, no sampling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from cxroi.errors import ScenarioError
from cxroi.registry import ModelArtifact
from cxroi.sim.engine import simulator_for
from cxroi.sim.plan import PlanSpec, nominal_cost, planned_monthly_spend
from cxroi.sim.scenario import Scenario

QUANTILES = (0.1, 0.5, 0.9)
#: finite-difference step of the marginal ROI, as a share of the nominal monthly cost
STEP_SHARE = 0.01
#: draws the curves are computed on (a fixed random subsample; the quantiles of 300 draws are
#: within a few per cent of the full posterior's, the mean well within)
CURVE_DRAWS = 300
CURVE_POINTS = 13  #: spend levels from 0 to the top of the curve, evenly spaced


def _draws(artifact: ModelArtifact, max_draws: int, seed: int) -> tuple[int, ...] | None:
    """A fixed subsample of draw positions (None = all draws when there are few)."""
    if artifact.n_draws <= max_draws:
        return None
    return tuple(int(d) for d in np.sort(np.random.default_rng(seed).permutation(artifact.n_draws)[:max_draws]))


def cell_curves(artifact: ModelArtifact, terms: PlanSpec, planned: Sequence[float], max_multiple: float = 3.0,
                points: int = CURVE_POINTS, max_draws: int = CURVE_DRAWS,
                seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Response curves and marginal ROI of the cells of ``terms`` (each in a segment of its own:
    segments are independent, so all cells are valued in the same pass), ``planned`` being each
    cell's planned monthly spend (currency per month).

    Returns (curves, marginal): curves has one row per cell and spend level — initiative,
    segment, monthly_spend (currency per month), multiple (of the nominal cost), npv_mean,
    npv_p10, npv_p50, npv_p90 (currency, running spend counted, one-off not), planned (True on
    the planned spend's row); marginal has one row per cell — initiative, segment,
    planned_spend, nominal_cost (currency per month), npv_mean at the planned spend (currency),
    marginal_roi (fraction)."""
    cells = terms.cells
    if len({s for _, s in cells}) != len(cells):
        raise ScenarioError("response curves need one cell per segment: cells sharing a segment would be "
                            "valued together")
    nominal = np.array([nominal_cost(artifact, i, s) for i, s in cells])
    planned = np.asarray(planned, dtype=float)
    step = STEP_SHARE * nominal
    grid = np.linspace(0.0, max_multiple, points)[:, None] * nominal  # points × cells
    first = np.maximum(planned - step, 0.0)
    around = np.stack([planned, first, first + step, first + 2 * step])  # 4 × cells
    spends = np.vstack([grid, around])
    terms = replace(terms, draws=_draws(artifact, max_draws, seed))
    simulator = simulator_for(artifact)
    values = simulator.plan_values(terms, spends)  # plans × draws × segments
    segment = simulator.segment_index(s for _, s in cells)
    npv = values[:, :, segment]  # plans × draws × cells: each cell's own segment
    mean = npv.mean(axis=1)
    quantiles = np.quantile(npv, QUANTILES, axis=1)  # quantile × plans × cells
    rows = []
    for c, (initiative, seg) in enumerate(cells):
        for p in [*range(points), points]:
            rows.append({"initiative": initiative, "segment": seg, "monthly_spend": float(spends[p, c]),
                         "multiple": float(spends[p, c] / nominal[c]), "npv_mean": float(mean[p, c]),
                         **{f"npv_p{round(100 * q)}": float(quantiles[k, p, c]) for k, q in enumerate(QUANTILES)},
                         "planned": p == points})
    curves = pd.DataFrame(rows).sort_values(["initiative", "segment", "monthly_spend"], kind="stable")
    f0, f1, f2 = mean[points + 1], mean[points + 2], mean[points + 3]  # at first, first + h, first + 2h
    slope = (f1 - f0) / step + (2 * planned - 2 * first - step) * (f2 - 2 * f1 + f0) / (2 * step**2)
    marginal_roi = slope / terms.pv_per_monthly_unit
    marginal = pd.DataFrame({"initiative": [i for i, _ in cells], "segment": [s for _, s in cells],
                             "planned_spend": planned, "nominal_cost": nominal, "npv_mean": mean[points],
                             "marginal_roi": marginal_roi})
    return curves.reset_index(drop=True), marginal


def scenario_curves(artifact: ModelArtifact, scenario: Scenario, max_multiple: float = 3.0,
                    points: int = CURVE_POINTS, max_draws: int = CURVE_DRAWS,
                    seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`cell_curves` of every investment of ``scenario`` in every segment it reaches, on
    the investment's months and the scenario's valuation terms; both frames gain a column
    ``investment`` (0-based position in the scenario). Lifts are the model's (an investment's own
    lift estimate is not used here)."""
    curves, marginal = [], []
    for j, inv in enumerate(scenario.investments):
        terms = PlanSpec(cells=tuple((inv.initiative, s) for s in inv.segments), horizon_months=scenario.horizon_months,
                         duration_months=inv.duration_months, start_month=inv.start_month,
                         annual_discount_rate=scenario.annual_discount_rate, gross_margin=scenario.gross_margin,
                         terminal_value=scenario.terminal_value, levers=scenario.levers)
        planned = [planned_monthly_spend(artifact, inv, s) for s in inv.segments]
        one_curves, one_marginal = cell_curves(artifact, terms, planned, max_multiple, points, max_draws, seed)
        curves.append(one_curves.assign(investment=j))
        marginal.append(one_marginal.assign(investment=j))
    return pd.concat(curves, ignore_index=True), pd.concat(marginal, ignore_index=True)
