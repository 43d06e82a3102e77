"""Survey sampling error of CSAT and NPS: how far a month's score may sit from the segment's true level.

A month's CSAT is the top-2-box share of n answers (%), so its sampling variance is
p(1 − p)/n (×100² in points²). A month's NPS is 100·(p₊ − p₋) of n answers, whose variance is
(p₊ + p₋ − (p₊ − p₋)²)/n (×100²). The panel gives the score and n, not p₊ and p₋ apart, so
q = p₊ + p₋ (the share of non-passives) is unknown; it lies between |NPS|/100 (no passives on the
minority side) and 1 (no passives at all). We take q = max(|d|, 1 − :data:`PASSIVE_SHARE`), d =
NPS/100: passives are typically a fifth to two fifths of answers, and 0.3 sits in the middle.
The worst case q = 1 would overstate the variance by up to 1.5× at NPS 0, which over-corrects
the attenuation (effects then come out too large); q = 0.7 is off by at most ±0.1 in q for
passive shares of 20–40 %, a variance error of ≤ 15 %.

Both estimates use Laplace-smoothed proportions ((x + 1)/(n + 2)) so that a month in which every
answer is top-2-box (or every answer a promoter) still has a positive variance.

Units: scores and standard errors in survey points (CSAT %, NPS points); n in answers.
"""

from __future__ import annotations

import numpy as np

#: assumed share of passives (7–8) among NPS answers when only the score is known
PASSIVE_SHARE = 0.30


def csat_se(csat: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Standard error (points) of a top-2-box CSAT of ``csat`` % from ``n`` answers (n > 0)."""
    n = np.asarray(n, dtype=float)
    p = (np.asarray(csat, dtype=float) / 100.0 * n + 1.0) / (n + 2.0)
    return 100.0 * np.sqrt(p * (1.0 - p) / n)


def nps_se(nps: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Standard error (points) of an NPS of ``nps`` points from ``n`` answers (n > 0), with the
    share of non-passives q = max(|d|, 1 − PASSIVE_SHARE) (module docstring)."""
    n = np.asarray(n, dtype=float)
    d = np.asarray(nps, dtype=float) / 100.0 * n / (n + 2.0)  # shrunk like (x + 1)/(n + 2) on each side
    q = np.maximum(np.abs(d), 1.0 - PASSIVE_SHARE)
    return 100.0 * np.sqrt(np.maximum(q - d**2, 1.0 / (n + 2.0)) / n)


SE = {"csat": csat_se, "nps": nps_se}


def measurements(score: str, values: np.ndarray, responses: np.ndarray) -> dict[str, np.ndarray]:
    """The surveyed entries of a (segments × months) score grid: segment index, month index,
    value (points) and standard error (points); entries with no answers are left out (the
    month's level is then latent)."""
    seg, month = np.nonzero(responses > 0)
    value = values[seg, month]
    return {"segment": seg, "month": month, "value": value, "se": SE[score](value, responses[seg, month])}
