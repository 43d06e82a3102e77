"""Where a scenario's uncertainty comes from: a variance decomposition of its NPV over draws.

For each group of model parameters (a CX effect such as CSAT → churn, the initiatives' lifts,
the baseline levels and trends, the lifts' carry-over), the scenario is simulated again with that
group fixed at its posterior mean (per segment or initiative) while every other parameter keeps
its draws; the share of the NPV's variance that disappears, 1 − Var(NPV | group fixed) / Var(NPV),
is that group's part of the uncertainty ("first-order" in the sense of a one-at-a-time
sensitivity: with correlated or interacting parameters the shares need not add up to 100 %, and
a share can be slightly negative when fixing a group shifts the draws' spread elsewhere).

Runs on a fixed subsample of draws, each run a fresh simulator over altered draws (nothing is
cached in the shared simulators); an investment's own lift estimate keeps its own spread.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from cxroi.registry import ModelArtifact
from cxroi.sim.engine import Simulator
from cxroi.sim.scenario import Scenario

#: group → (parameters fixed together, how users read it)
GROUPS: dict[str, tuple[tuple[str, ...], str]] = {
    "churn_csat": (("churn_csat",), "the CSAT → churn effect"),
    "churn_nps": (("churn_nps",), "the NPS → churn effect"),
    "arpu_csat": (("arpu_csat",), "the CSAT → revenue-per-customer effect"),
    "acq_nps": (("acq_nps",), "the NPS → acquisition effect"),
    "lift_csat": (("lift_csat",), "the initiatives' CSAT lift"),
    "lift_nps": (("lift_nps",), "the initiatives' NPS lift"),
    "baseline": (("churn_intercept", "arpu_intercept", "arpu_trend", "acq_intercept", "acq_trend"),
                 "the baseline levels and trends of churn, revenue per customer and acquisition"),
    "carryover": (("lift_carryover",), "how long the lifts take to build up and last"),
}
#: draws of the decomposition (a fixed subsample): each group costs one run over them
ATTRIBUTION_DRAWS = 400


def npv_draws(artifact: ModelArtifact, scenario: Scenario, draw_index: np.ndarray) -> np.ndarray:
    """The scenario's NPV (currency) on the draws at ``draw_index`` of ``artifact``."""
    return Simulator(artifact, draw_index).run(scenario).npv


def uncertainty_shares(artifact: ModelArtifact, scenario: Scenario, max_draws: int = ATTRIBUTION_DRAWS,
                       seed: int = 0) -> pd.DataFrame:
    """One row per parameter group (see :data:`GROUPS`): group, label, variance_share (fraction
    of Var(NPV) removed by fixing the group at its mean), sd_fixed (currency: the NPV's standard
    deviation with the group fixed), largest share first; the NPV's own standard deviation is in
    ``attrs["npv_sd"]`` (currency). A scenario whose NPV does not vary gets shares of 0."""
    n = artifact.n_draws
    index = np.arange(n) if n <= max_draws else np.sort(np.random.default_rng(seed).permutation(n)[:max_draws])
    base = npv_draws(artifact, scenario, index)
    variance = float(base.var())
    rows = []
    for group, (names, label) in GROUPS.items():
        draws = dict(artifact.draws)
        slopes_below = [f"{name}_loss" for name in names if f"{name}_loss" in artifact.draws]  # gain/loss fits
        for name in (*names, *slopes_below):
            values = np.asarray(artifact.draws[name], dtype=float)
            draws[name] = np.broadcast_to(values.mean(axis=0), values.shape).copy()
        fixed = npv_draws(replace(artifact, draws=draws), scenario, index)
        share = 1.0 - float(fixed.var()) / variance if variance > 0 else 0.0
        rows.append({"group": group, "label": label, "variance_share": share, "sd_fixed": float(fixed.std())})
    table = pd.DataFrame(rows).sort_values("variance_share", ascending=False, kind="stable").reset_index(drop=True)
    table.attrs["npv_sd"] = float(np.sqrt(variance))
    return table
