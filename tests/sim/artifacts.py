"""Hand-made model artifacts for the simulation tests and benchmark.

:func:`plausible_artifact` writes draws of a believable posterior (monthly churn ≈ 2 %, churn
falls 0.25 logit per +10 CSAT points, …) for any number of segments, initiatives and draws;
:func:`exact_artifact` writes identical draws of chosen values so results can be derived by hand.
Both are written with :func:`cxroi.registry.save_artifact`, as a model family would.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cxroi import registry
from cxroi.params import PARAMETERS

T_NEXT = 36


def _manifest(model_id: str, segments, initiatives, state, settings, lag: int, family: str) -> dict:
    return {
        "model_id": model_id, "family": family, "data_fingerprint": "sha256:test", "seed": 5,
        "training_window": {"start": "2023-01", "end": "2025-12"},
        "segments": list(segments), "initiatives": list(initiatives), "initiative_settings": settings,
        "lag_months": lag, "state": state, "n_draws": None, "status": "accepted",
        "diagnostics": {"max_rhat": 1.004, "min_ess_bulk": 900.0, "min_ess_tail": 800.0, "divergences": 0},
        "health": {"passed": True, "checks": []}, "warnings": [],
    }


def plausible_draws(n_draws: int, n_segments: int, n_initiatives: int, seed: int = 1) -> dict[str, np.ndarray]:
    """A believable posterior: segment-level centres with draw-level spread."""
    rng = np.random.default_rng(seed)

    def seg(centre, spread_between, spread_draws):
        centres = centre + spread_between * rng.standard_normal(n_segments)
        return centres + spread_draws * rng.standard_normal((n_draws, n_segments))

    def ini(centre, spread_draws):
        return centre + spread_draws * rng.standard_normal((n_draws, n_initiatives))

    customers = 20_000.0
    return {
        "churn_intercept": seg(np.log(0.02 / 0.98), 0.3, 0.03),
        "churn_csat": seg(-0.25, 0.05, 0.05),
        "churn_nps": seg(-0.10, 0.03, 0.03),
        "churn_concentration": seg(2500.0, 300.0, 50.0),
        "arpu_intercept": seg(np.log(100.0), 0.5, 0.01),
        "arpu_trend": seg(0.002, 0.001, 0.0003),
        "arpu_csat": seg(0.02, 0.005, 0.006),
        "arpu_sigma": seg(0.02, 0.002, 0.001),
        "acq_intercept": seg(np.log(customers * 0.02), 0.1, 0.02),
        "acq_trend": seg(0.0, 0.0005, 0.0003),
        "acq_nps": seg(0.08, 0.02, 0.02),
        "acq_alpha": seg(80.0, 10.0, 5.0),
        "lift_csat": ini(3.0, 1.0),
        "lift_nps": ini(4.0, 1.5),
        "lift_carryover": np.clip(ini(0.56, 0.05), 0.05, 0.95),
    }


def plausible_artifact(models_dir: Path, model_id: str = "bayes-test-plausible", n_draws: int = 400,
                       n_segments: int = 4, n_initiatives: int = 2, seed: int = 1,
                       family: str = "bayes", draws: dict[str, np.ndarray] | None = None,
                       segments: list[str] | None = None, initiatives: list[str] | None = None,
                       one_off_cost: float = 50_000.0) -> registry.ModelArtifact:
    """Write and load a plausible artifact with segments S1…Sn and initiatives I1…Ik unless
    names are given (monthly_cost 10 000 per segment, one-off ``one_off_cost``, saturation k = 1,
    lag 1)."""
    segments = segments or [f"S{s + 1}" for s in range(n_segments)]
    initiatives = initiatives or [f"I{i + 1}" for i in range(n_initiatives)]
    n_segments, n_initiatives = len(segments), len(initiatives)
    state = {s: {"customers": 20_000.0, "csat": 75.0, "nps": 20.0, "arpu": 110.0, "ref_csat": 75.0,
                 "ref_nps": 20.0, "t_next": T_NEXT} for s in segments}
    settings = {i: {"name": f"Initiative {i}", "monthly_cost": 10_000.0, "one_off_cost": one_off_cost,
                    "saturation_k": 1.0} for i in initiatives}
    manifest = _manifest(model_id, segments, initiatives, state, settings, 1, family)
    manifest["n_draws"] = n_draws
    draws = draws if draws is not None else plausible_draws(n_draws, n_segments, n_initiatives, seed)
    registry.save_artifact(manifest, draws, models_dir)
    return registry.load_artifact(model_id, models_dir)


def exact_artifact(models_dir: Path, model_id: str, values: dict[str, float], n_draws: int = 3,
                   customers: float = 10_000.0, lag: int = 1, monthly_cost: float = 1_000.0,
                   saturation_k: float = 1.0) -> registry.ModelArtifact:
    """One segment 'S' and one initiative 'I' whose draws all equal ``values`` (unlisted
    parameters 0, concentrations 1); state at the reference CSAT/NPS, t_next = 0."""
    draws = {name: np.full((n_draws, 1), float(values.get(name, 1.0 if "concentration" in name
                                                              or "alpha" in name or "sigma" in name else 0.0)))
             for name in PARAMETERS}
    state = {"S": {"customers": customers, "csat": 70.0, "nps": 10.0, "arpu": 1.0, "ref_csat": 70.0,
                   "ref_nps": 10.0, "t_next": 0}}
    settings = {"I": {"name": "Initiative", "monthly_cost": monthly_cost, "one_off_cost": 0.0,
                      "saturation_k": saturation_k}}
    registry.save_artifact(_manifest(model_id, ["S"], ["I"], state, settings, lag, "regression"), draws, models_dir)
    return registry.load_artifact(model_id, models_dir)
