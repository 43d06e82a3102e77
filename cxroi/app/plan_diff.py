"""What differs between saved plans, and how their values compare draw by draw (pure pandas/numpy).

Values of plans simulated on the same model share its parameter draws, so draw d of one plan and
draw d of another are the same possible world: their difference per draw is the paired
difference, whose spread is far narrower than the two distributions side by side suggest, and
the share of draws where a plan is worth more than the first is P(plan beats the first).
Units: spend in currency per month, NPV in currency (present value at the start of month 1).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cxroi.registry import ModelArtifact
from cxroi.sim.plan import planned_monthly_spend
from cxroi.sim.scenario import Scenario


def funded_lines(artifact: ModelArtifact, scenario: Scenario) -> dict[tuple[str, str], str]:
    """Each (initiative name, segment) a scenario funds → its terms in words: monthly spend in
    the artifact's currency units, the months funded and a one-off if any
    ("12,000/mo, months 1–24, one-off 250,000")."""
    lines: dict[tuple[str, str], str] = {}
    for investment in scenario.investments:
        name = artifact.manifest.initiative_name(investment.initiative)
        months = f"months {investment.start_month}–{investment.end_month}"
        for segment in investment.segments:
            spend = planned_monthly_spend(artifact, investment, segment)
            terms = f"{spend:,.0f}/mo, {months}"
            if investment.one_off_cost:
                terms += f", one-off {investment.one_off_cost:,.0f}"
            lines[(name, segment)] = terms
    return lines


def plan_differences(artifact: ModelArtifact, scenarios: Mapping[str, Scenario]) -> pd.DataFrame:
    """One row per (initiative, segment) any of ``scenarios`` funds, one column per scenario
    label with its terms ("—" where it does not fund that line); lines whose terms differ between
    the plans come first, and a column ``differs`` says which do."""
    funded = {label: funded_lines(artifact, scenario) for label, scenario in scenarios.items()}
    keys = list(dict.fromkeys(key for lines in funded.values() for key in lines))
    table = pd.DataFrame(
        [{"initiative": name, "segment": segment, **{label: lines.get((name, segment), "—")
                                                   for label, lines in funded.items()}}
         for name, segment in keys],
        columns=["initiative", "segment", *scenarios])
    table["differs"] = table[list(scenarios)].nunique(axis=1) > 1
    return table.sort_values("differs", ascending=False, kind="stable").reset_index(drop=True)


def paired_differences(npv_by_label: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """Each plan against the first (``npv_by_label`` in the user's order; arrays over the same
    draws): mean and P10/P90 of the per-draw NPV difference, and P(plan's NPV > first's)."""
    labels = list(npv_by_label)
    base = np.asarray(npv_by_label[labels[0]], dtype=float)
    rows = []
    for label in labels[1:]:
        other = np.asarray(npv_by_label[label], dtype=float)
        if other.shape != base.shape:
            raise ValueError("paired differences need the NPV of every plan on the same draws")
        diff = other - base
        rows.append({"scenario": label, "against": labels[0], "mean_difference": float(diff.mean()),
                     "difference_p10": float(np.quantile(diff, 0.1)), "difference_p90": float(np.quantile(diff, 0.9)),
                     "prob_better": float(np.mean(diff > 0))})
    return pd.DataFrame(rows, columns=["scenario", "against", "mean_difference", "difference_p10",
                                       "difference_p90", "prob_better"])
