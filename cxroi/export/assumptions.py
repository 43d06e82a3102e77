"""The assumptions of a forecast in plain words, as finance hands them on: the horizon, rates,
margins, what is counted, each investment's spend, and the lifts and CX effects the figures were
computed with (with where each comes from). Columns: item, value, unit, basis.

Money units carry the export's currency code; rates and margins are fractions; lifts are survey
points; CX effects are per +10 points on their outcome's link scale.
"""

from __future__ import annotations

import pandas as pd

from cxroi.sim.assumptions import EFFECT_SCALES, SOURCE_WORDS
from cxroi.sim.result import SimulationResult

ASSUMPTION_COLUMNS = ("item", "value", "unit", "basis")
#: what each lever counts, in words
LEVER_WORDS = {"retention": "fewer customers lost (churn)", "arpu": "higher revenue per customer",
               "acquisition": "more new customers (referrals)"}


def _months(start: int, end: int) -> str:
    return f"month {start}" if start == end else f"months {start} to {end}"


def assumptions_table(result: SimulationResult, currency: str) -> pd.DataFrame:
    """Every assumption of ``result`` as a row (item, value, unit, basis), in plain words."""
    scenario = result.scenario
    rows: list[tuple] = [
        ("Forecast horizon", scenario.horizon_months, "months",
         f"{result.months[0]:%Y-%m} to {result.months[-1]:%Y-%m}"),
        ("Annual discount rate", float(scenario.annual_discount_rate), "fraction per year",
         f"monthly {result.monthly_rate:.4%}, cash flows at month ends"),
        ("Value counted", "; ".join(LEVER_WORDS[lever] for lever in scenario.levers.enabled()), "",
         "levers switched off count nothing"),
        ("Terminal value", "counted" if scenario.terminal_value else "not counted", "",
         "customers gained by the horizon valued at their lifetime value (CX advantage ends at the horizon)"
         if scenario.terminal_value else "value stops at the horizon"),
        ("Parameter draws", result.n_draws, "draws", "figures are quantiles over these draws"),
    ]
    rows += [(f"Gross margin, {segment}", float(margin), "fraction of revenue", "")
             for segment, margin, reached in zip(result.segments, result.gross_margin, result.reached, strict=True)
             if reached]
    known = result.assumptions
    for j, inv in enumerate(scenario.investments):
        label = f"Investment {j + 1}"
        name = known.lifts[2 * j].initiative_name if known else inv.initiative
        rows.append((f"{label}: initiative", name, "", f"in {', '.join(inv.segments)}; funded in "
                                                        f"{_months(inv.start_month, inv.end_month)}"))
        rows.append((f"{label}: one-off cost", float(inv.one_off_cost), currency, f"paid in month {inv.start_month}"))
        spend = [s for s in known.spend if s.position == j] if known else []
        for item in spend:
            rows.append((f"{label}: monthly spend, {item.segment}", item.amount, f"{currency} per month",
                         f"{item.level:.2f} × the nominal cost (platform share + cost per customer reached)"))
        if not spend and inv.monthly_spend is not None:
            rows.append((f"{label}: monthly spend per segment", float(inv.monthly_spend), f"{currency} per month", ""))
        for lift in (lift for lift in (known.lifts if known else ()) if lift.position == j):
            rows.append((f"{label}: {lift.kind.upper()} lift at full effect", lift.mean, f"{lift.kind.upper()} points",
                         f"sd {lift.sd:.2f}; {SOURCE_WORDS.get(lift.source, lift.source)}"
                         + ("" if lift.identification is None
                            else f"; the history narrowed it by {lift.identification:.0%}")))
    for effect in known.effects if known else ():
        rows.append((f"Effect of {effect.label}, {effect.segment}", effect.mean, "per +10 points",
                     f"on the {EFFECT_SCALES[effect.effect]}; sd {effect.sd:.3f}; "
                     f"{SOURCE_WORDS.get(effect.source, effect.source)}"
                     + ("" if effect.identification is None
                        else f"; the history narrowed it by {effect.identification:.0%}")))
    return pd.DataFrame(rows, columns=list(ASSUMPTION_COLUMNS))
