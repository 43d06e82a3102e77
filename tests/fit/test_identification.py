"""Prior → posterior contraction of every effect, the caveats of effects the history does not
identify, and the pilot that would identify a lift."""

from __future__ import annotations

import math

import numpy as np

from cxroi.catalogue import load_catalogue
from cxroi.fit.identification import (
    IDENTIFIED,
    contraction,
    identification_caveats,
    pilot_customers,
    segment_prior_sd,
)
from cxroi.manifest import SegmentState


def draws_with_sds(segment_sd: dict[str, float], lift_sd: float, n: int = 200_000) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    draws = {name: rng.normal(0.0, sd, (n, 2)) for name, sd in segment_sd.items()}
    draws |= {f"lift_{m}": rng.normal(3.0, lift_sd, (n, 4)) for m in ("csat", "nps")}
    return draws


def test_contraction_is_one_minus_the_variance_ratio() -> None:
    """Posterior sd half the prior sd ⇒ contraction 1 − 1/4 = 0.75; the prior itself ⇒ 0.
    200 000 draws: the variance ratio's Monte Carlo error is ≈ √(2/200 000) ≈ 0.3 %, hence 0.01."""
    catalogue = load_catalogue()
    halves = {e: segment_prior_sd(e) / 2 for e in ("churn_csat", "churn_nps", "arpu_csat", "acq_nps")}
    draws = draws_with_sds(halves, lift_sd=1.0)
    found = contraction(draws, ["A", "B"], catalogue)
    assert all(abs(v - 0.75) < 0.01 for e in halves for v in found[e].values())
    portal = catalogue["self_service_portal"]
    expected = 1 - 1.0 / portal.csat_lift.sd ** 2  # lift draws of sd 1 against the catalogue's prior sd
    assert abs(found["lift_csat"]["self_service_portal"] - max(0.0, expected)) < 0.01


def test_the_hierarchical_prior_variance_is_eleven_eighths_of_the_scale_squared() -> None:
    """μ ~ N(0, s²), σ ~ Gamma(2, 4/s): E[σ²] = 2/(4/s)² + (s/2)² = 3s²/8, so var(b) = 11s²/8;
    checked by simulating the prior (s = 0.5, 400 000 draws; Monte Carlo error of a variance
    ≈ 0.5 %, hence 2 %)."""
    rng = np.random.default_rng(1)
    s = 0.5
    b = rng.normal(0, s, 400_000) + rng.gamma(2.0, s / 4.0, 400_000) * rng.normal(0, 1, 400_000)
    assert abs(b.std() / segment_prior_sd("churn_csat") - 1) < 0.02


def test_pilot_size_by_hand() -> None:
    """75 % satisfied, +4 points: 2·0.75·0.25·((1.95996 + 0.84162)·100/4)² = 1 839.6 answers per
    arm, over 3 months ⇒ 614 a month."""
    assert pilot_customers(4.0, 0.75) == math.ceil(1839.58 / 3)
    assert pilot_customers(8.0, 0.75) == math.ceil(1839.58 / 4 / 3)  # twice the lift, a quarter of the answers


def test_unidentified_effects_become_scoped_caveats_with_a_pilot_for_lifts() -> None:
    catalogue = load_catalogue()
    identified = {e: {"A": 0.9, "B": 0.2} for e in ("churn_csat", "churn_nps", "arpu_csat", "acq_nps")}
    identified |= {f"lift_{m}": {i: (0.8 if i == "support_24_7" else 0.0) for i in catalogue} for m in ("csat", "nps")}
    state = {s: SegmentState(customers=1000, csat=75, nps=20, arpu=50, ref_csat=75, ref_nps=20, t_next=36)
             for s in ("A", "B")}
    reach = {i: ("A", "B") for i in catalogue}
    caveats = identification_caveats(identified, catalogue, reach, state)
    churn = next(c for c in caveats if c.effects == ("churn_csat",))
    assert churn.segments == ("B",) and "rests on the prior, not on your history" in churn.text
    lifts = [c for c in caveats if c.effects == ("lift_csat", "lift_nps")]
    assert len(lifts) == len(catalogue) - 1 and all("pilot in A" in c.text for c in lifts)
    assert sorted(c.initiatives[0] for c in lifts) == sorted(i for i in catalogue if i != "support_24_7")
    assert all(c.code == "not_identified" for c in caveats) and IDENTIFIED == 0.5
