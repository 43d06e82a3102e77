"""Promotion compares before it trusts: a candidate model against the champion it would replace.

Two models trained on different data can both pass the health gate and still disagree wildly, for
instance when a panel's revenue was loaded in cents instead of currency units. Before a promotion
:func:`compare` sets the candidate beside the champion on

- **segments**: segments one model knows and the other does not;
- **scale**: per shared segment, starting customers and revenue per customer (ARPU) as a ratio,
  candidate / champion;
- **survey levels**: per shared segment, last CSAT (%) and NPS (points) as a difference;
- **value**: the mean NPV (currency) of one reference scenario under both models — the first
  initiative both models know, at its nominal monthly spend in the segments it reaches, funded 24
  months over a 36-month horizon.

A ratio beyond ``1 + bound`` (or below ``1 / (1 + bound)``), a survey level more than
``25 × bound`` points apart, or any segment difference is a shift. ``bound`` is
``CXROI_PROMOTION_SHIFT`` (default 1: up to ×2 either way, 25 points). A shift needs an explicit
acknowledgement (``cxroi models promote --acknowledge-shift``, or the app's promote form), and the
comparison is recorded with the promotion.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from cxroi.errors import CxroiError
from cxroi.registry import ModelArtifact

DEFAULT_BOUND = 1.0
REFERENCE_HORIZON_MONTHS, REFERENCE_FUNDED_MONTHS = 36, 24


class ShiftNotAcknowledged(CxroiError):
    """The candidate differs from the champion beyond the bound and nobody acknowledged it."""


@dataclass(frozen=True)
class Comparison:
    """What differs between ``candidate`` and ``champion`` beyond ``bound``, in plain sentences,
    and the reference scenario's mean NPV (currency) under each model (None when they share no
    initiative)."""

    candidate: str
    champion: str
    bound: float
    shifts: list[str] = field(default_factory=list)
    npv_candidate: float | None = None
    npv_champion: float | None = None

    def record(self) -> dict:
        """The comparison as it is written into the promotion log."""
        return {"champion": self.champion, "bound": self.bound, "shifts": self.shifts,
                "reference_npv": {"candidate": self.npv_candidate, "champion": self.npv_champion}}


def shift_bound() -> float:
    """``CXROI_PROMOTION_SHIFT`` (> 0; default 1)."""
    return float(os.environ.get("CXROI_PROMOTION_SHIFT", "").strip() or DEFAULT_BOUND)


def _beyond(ratio: float, bound: float) -> bool:
    return not (1 / (1 + bound) <= ratio <= 1 + bound)


def _reference_npv(candidate: ModelArtifact, champion: ModelArtifact) -> tuple[float, float] | None:
    from cxroi.sim.engine import simulate
    from cxroi.sim.scenario import parse_scenario

    shared = [i for i in champion.initiatives if i in candidate.initiatives]
    if not shared:
        return None
    initiative = shared[0]
    segments = [s for s in champion.manifest.reach(initiative) if s in candidate.segments]
    if not segments:
        return None
    body = {"name": "Promotion reference", "horizon_months": REFERENCE_HORIZON_MONTHS, "investments": [
        {"initiative": initiative, "segments": segments, "duration_months": REFERENCE_FUNDED_MONTHS,
         "monthly_spend": champion.manifest.initiative_settings[initiative].monthly_cost, "one_off_cost": 0.0}]}
    scenario = parse_scenario(body, "the promotion's reference scenario")
    return (float(simulate(scenario, candidate).npv.mean()), float(simulate(scenario, champion).npv.mean()))


def compare(candidate: ModelArtifact, champion: ModelArtifact, bound: float | None = None) -> Comparison:
    """Set ``candidate`` beside ``champion`` (see the module's description)."""
    bound = shift_bound() if bound is None else bound
    shifts = []
    if added := [s for s in candidate.segments if s not in champion.segments]:
        shifts.append(f"segments the champion does not have: {', '.join(added)}")
    if dropped := [s for s in champion.segments if s not in candidate.segments]:
        shifts.append(f"segments the candidate does not have: {', '.join(dropped)}")
    for segment in (s for s in candidate.segments if s in champion.segments):
        new, old = candidate.manifest.state[segment], champion.manifest.state[segment]
        for name, label in (("customers", "customers"), ("arpu", "revenue per customer")):
            a, b = getattr(new, name), getattr(old, name)
            ratio = a / b if b > 0 else (1.0 if a == 0 else float("inf"))
            if _beyond(ratio, bound):
                shifts.append(f"{segment}: {label} {a:,.4g} vs {b:,.4g} (×{ratio:.3g})")
        for name, label in (("csat", "CSAT"), ("nps", "NPS")):
            a, b = getattr(new, name), getattr(old, name)
            if abs(a - b) > 25 * bound:
                shifts.append(f"{segment}: {label} {a:.1f} vs {b:.1f} ({a - b:+.1f} points)")
    npv = _reference_npv(candidate, champion)
    if npv is not None:
        ratio = npv[0] / npv[1] if npv[1] != 0 else float("inf")
        if _beyond(abs(ratio), bound) or (npv[0] < 0) != (npv[1] < 0):
            shifts.append(f"reference scenario NPV {npv[0]:,.0f} vs {npv[1]:,.0f}")
    return Comparison(candidate.model_id, champion.model_id, bound, shifts, *(npv or (None, None)))


def check_promotion(candidate: ModelArtifact, champion: ModelArtifact | None, acknowledged: bool) -> dict | None:
    """The comparison to record with a promotion of ``candidate`` over ``champion`` (None when
    there is no champion to compare with); raises :class:`ShiftNotAcknowledged` naming every
    shift when there are shifts and ``acknowledged`` is False."""
    if champion is None or champion.model_id == candidate.model_id:
        return None
    comparison = compare(candidate, champion)
    if comparison.shifts and not acknowledged:
        raise ShiftNotAcknowledged(
            f"model '{candidate.model_id}' differs from the champion '{champion.model_id}' beyond the bound "
            f"(CXROI_PROMOTION_SHIFT = {comparison.bound:g}): " + "; ".join(comparison.shifts)
            + ". Check its training data; promote it only with an explicit acknowledgement (--acknowledge-shift, "
            "or the acknowledgement box of the app's promote form).")
    return {**comparison.record(), "acknowledged": bool(comparison.shifts)}
