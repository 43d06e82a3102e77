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

The regression family corrects for that error by regression calibration (:func:`calibrated`;
Carroll, Ruppert, Stefanski & Crainiceanu, *Measurement Error in Nonlinear Models*, 2nd ed.,
2006, ch. 4): each surveyed month's score is replaced by its best linear predictor of the true
level — for one score μ + λ·(observed − μ) with the segment's mean μ and reliability
λ = σ²ₓ / (σ²ₓ + se²), σ²ₓ the variance of the true monthly level (observed variance minus the mean
sampling variance); for CSAT and NPS together the same with covariance matrices, pooled over
segments (:func:`calibrated`). The effect of a calibrated score is then estimated without the
attenuation toward zero that
noise in a covariate causes (exactly so in linear models, to first order in the logit and log
links when effects are small, as here). Chosen over SIMEX because it needs one fit instead of
dozens and works from the per-month variances the surveys give; what it leaves out — the
estimation error of λ itself — widens intervals by little when a segment has two dozen
months or more.

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


def calibrated(grids: dict[str, np.ndarray], responses: dict[str, np.ndarray], present: np.ndarray,
               references: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Regression calibration of the (segments × months) grids of the scores in ``responses``
    (module docstring), jointly: CSAT and NPS move together, so each month's pair is replaced by
    E[true pair | observed pair] = μ + Σₓ (Σₓ + Σᵤ)⁻¹ (observed − μ), with μ the segment's mean,
    Σᵤ the month's sampling covariance (diagonal: the two scores' sampling errors taken as
    independent) and Σₓ the covariance of the true monthly levels around their segment means,
    pooled over segments (the pooled within-segment covariance of the observed scores minus the
    mean sampling covariance, negative eigenvalues set to 0): with a few dozen months and
    tiny surveys one segment alone cannot tell its true movement from noise. Scores in ``grids``
    but not in ``responses`` count as exact.

    ``grids`` holds the observed scores (unsurveyed months already interpolated), ``responses``
    the answers behind them (0: not surveyed), ``present`` the months each segment was observed,
    ``references`` the segments' reference scores. Returns the calibrated grids of the scores in
    ``responses`` — months surveyed for all of them calibrated, other observed months
    interpolated between those, unobserved months and segments surveyed in fewer than 3 months
    as given — and the reliability of each
    corrected score (0–1, pooled: true variance / (true + mean sampling variance)). A score with
    reliability 0 (its movement is all survey noise) is set to its reference everywhere, so its
    effects are left unidentified rather than estimated from noise."""
    names = list(grids)
    corrected = [names.index(score) for score in responses]
    surveyed = present & np.logical_and.reduce([responses[score] > 0 for score in responses])
    rows = [s for s in range(present.shape[0]) if surveyed[s].sum() >= 3]
    observed = {s: np.column_stack([grids[score][s, surveyed[s]] for score in names]) for s in rows}
    noise = {s: np.zeros_like(observed[s]) for s in rows}
    for s in rows:
        for j, score in zip(corrected, responses, strict=True):
            noise[s][:, j] = SE[score](observed[s][:, j], responses[score][s, surveyed[s]]) ** 2
    out = {score: grids[score].copy() for score in responses}
    if not rows:
        return out, np.zeros(len(corrected))
    centred = np.vstack([observed[s] - observed[s].mean(axis=0) for s in rows])
    dof = len(centred) - len(rows)
    mean_noise = np.vstack([noise[s] for s in rows]).mean(axis=0)
    values, vectors = np.linalg.eigh(centred.T @ centred / max(dof, 1) - np.diag(mean_noise))
    true_cov = (vectors * np.maximum(values, 0.0)) @ vectors.T
    reliability = np.array([true_cov[j, j] / (true_cov[j, j] + mean_noise[j]) for j in corrected])
    months = np.arange(present.shape[1])
    for s in rows:
        mean = observed[s].mean(axis=0)
        total = true_cov[None, :, :] + noise[s][:, :, None] * np.eye(len(names))[None, :, :]
        fitted = mean + np.einsum("ij,mjk,mk->mi", true_cov, np.linalg.pinv(total), observed[s] - mean)
        gaps = present[s] & ~surveyed[s]
        for k, (j, score) in enumerate(zip(corrected, responses, strict=True)):
            if reliability[k] < 1e-9:
                out[score][s, present[s]] = references[score][s]
                continue
            out[score][s, surveyed[s]] = fitted[:, j]
            if gaps.any():
                out[score][s, gaps] = np.interp(months[gaps], months[surveyed[s]], fitted[:, j])
    return out, reliability
