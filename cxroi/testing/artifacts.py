"""Model artifacts for tests and benchmarks, written through the typed contract exactly as a
model family writes them (:func:`cxroi.registry.save_artifact`).

* :func:`plausible_artifact` — draws of a believable posterior (monthly churn ≈ 2 %, churn falls
  0.25 logit per +10 CSAT points, …) for any number of segments, initiatives and draws;
* :func:`exact_artifact` — one segment and one initiative whose draws all equal chosen values,
  so results can be derived by hand;
* :func:`truth_champion` — draws scattered tightly around the ground truth of the shipped sample
  data (``data/sample/truth.json``), so app tests have a champion with known effects without a fit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cxroi import registry
from cxroi.catalogue import load_catalogue
from cxroi.manifest import (
    Asymmetry,
    Backtest,
    Caveat,
    Diagnostics,
    Health,
    InitiativeSettings,
    Manifest,
    SamplerConfig,
    SegmentState,
    TrainingWindow,
)
from cxroi.params import EFFECT_PARAMETERS, LOSS_PARAMETERS, PARAMETERS, artifact_parameters

REPO = Path(__file__).resolve().parents[2]
SAMPLE_TRUTH = REPO / "data" / "sample" / "truth.json"
#: month index of the first forecast month of the plausible artifacts (36 months of history)
T_NEXT = 36
TRUTH_MODEL_ID = "bayes-20260101-000000-test"
TRUTH_DRAWS = 400
_GOOD_DIAGNOSTICS = Diagnostics(max_rhat=1.004, min_ess_bulk=900.0, min_ess_tail=800.0, divergences=0)


def write_artifact(models_dir: Path, draws: dict[str, np.ndarray], **fields: Any) -> registry.ModelArtifact:
    """Save an artifact with the manifest ``fields`` (typed :class:`Manifest` fields; defaults: an
    accepted model with good diagnostics, trained 2023-01…2025-12, seed 5) and load it back."""
    defaults: dict[str, Any] = {
        "family": "bayes", "data_fingerprint": "sha256:test", "seed": 5, "status": "accepted",
        "training_window": TrainingWindow(start="2023-01", end="2025-12"), "diagnostics": _GOOD_DIAGNOSTICS,
        "n_draws": int(next(iter(draws.values())).shape[0]),
    }
    manifest = Manifest(**{**defaults, **fields})
    registry.save_artifact(manifest, draws, models_dir)
    return registry.load_artifact(manifest.model_id, models_dir)


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
                       one_off_cost: float = 50_000.0,
                       reach: dict[str, list[str]] | None = None,
                       caveats: tuple[Caveat, ...] = ()) -> registry.ModelArtifact:
    """Write and load a plausible artifact with segments S1…Sn and initiatives I1…Ik unless
    names are given (monthly_cost 10 000 per segment, one-off ``one_off_cost``, saturation k = 1,
    lag 1; each initiative reaches every segment unless ``reach`` says otherwise)."""
    segments = segments or [f"S{s + 1}" for s in range(n_segments)]
    initiatives = initiatives or [f"I{i + 1}" for i in range(n_initiatives)]
    reach = reach or {}
    state = {s: SegmentState(customers=20_000.0, csat=75.0, nps=20.0, arpu=110.0, ref_csat=75.0, ref_nps=20.0,
                             t_next=T_NEXT) for s in segments}
    settings = {i: InitiativeSettings(name=f"Initiative {i}", monthly_cost=10_000.0, one_off_cost=one_off_cost,
                                      saturation_k=1.0, segments=tuple(reach.get(i, segments)))
                for i in initiatives}
    draws = draws if draws is not None else plausible_draws(n_draws, len(segments), len(initiatives), seed)
    return write_artifact(models_dir, draws, model_id=model_id, family=family, segments=segments,
                          initiatives=initiatives, initiative_settings=settings, lag_months=1, state=state,
                          caveats=caveats)


def exact_artifact(models_dir: Path, model_id: str, values: dict[str, float], n_draws: int = 3,
                   customers: float = 10_000.0, lag: int = 1, monthly_cost: float = 1_000.0,
                   saturation_k: float = 1.0, csat: float = 70.0, nps: float = 10.0) -> registry.ModelArtifact:
    """One segment 'S' and one initiative 'I' whose draws all equal ``values`` (unlisted
    parameters 0, concentrations 1); reference CSAT 70 % and NPS 10, the last observed ``csat``
    and ``nps`` (default: at the reference), t_next = 0. Values of ``churn_csat_loss`` or
    ``churn_nps_loss`` make it a gain/loss model (the other loss slope equal to its gain slope)."""
    asymmetric = any(name in values for name in LOSS_PARAMETERS)
    defaults = {name: 1.0 if "concentration" in name or "alpha" in name or "sigma" in name else 0.0
                for name in PARAMETERS}
    defaults.update({name: values.get(name.removesuffix("_loss"), 0.0) for name in LOSS_PARAMETERS})
    draws = {name: np.full((n_draws, 1), float(values.get(name, defaults[name])))
             for name in artifact_parameters(asymmetric)}
    state = {"S": SegmentState(customers=customers, csat=csat, nps=nps, arpu=1.0, ref_csat=70.0, ref_nps=10.0,
                               t_next=0)}
    settings = {"I": InitiativeSettings(name="Initiative", monthly_cost=monthly_cost, one_off_cost=0.0,
                                        saturation_k=saturation_k, segments=("S",))}
    asymmetry = Asymmetry(effects=tuple(name.removesuffix("_loss") for name in LOSS_PARAMETERS)) if asymmetric else None
    return write_artifact(models_dir, draws, model_id=model_id, family="bayes" if asymmetric else "regression",
                          segments=["S"], initiatives=["I"], initiative_settings=settings, lag_months=lag,
                          state=state, asymmetry=asymmetry)


def _truth_backtest() -> Backtest:
    """A backtest shaped like cxroi.fit.backtest's (MAPE in %, coverage as a fraction)."""
    rows = [{"metric": m, "model_mape_pct": a, "naive_last_mape_pct": b, "seasonal_naive_mape_pct": c,
             "coverage_80": d}
            for m, a, b, c, d in (("churned", 6.1, 9.4, 11.0, 0.81), ("revenue", 1.2, 2.0, 2.9, 0.83),
                                  ("new_customers", 7.5, 10.2, 12.8, 0.79))]
    naive = {"naive_last_mape_pct": (9.4 + 2.0 + 10.2) / 3, "seasonal_naive_mape_pct": (11.0 + 2.9 + 12.8) / 3}
    return Backtest.model_validate({
        "holdout_months": 6, "excluded_segments": [], "train_window": {"start": "2023-01", "end": "2025-06"},
        "holdout_window": {"start": "2025-07", "end": "2025-12"}, "rows": rows,
        "model_mape_pct": (6.1 + 1.2 + 7.5) / 3, "best_naive_mape_pct": min(naive.values()),
        "naive_mape_pct": naive, "refit_convergence": {}})


def draws_around_truth(truth: dict, initiatives: list[str], n_draws: int, rng: np.random.Generator,
                       sd: Callable[[str, np.ndarray], np.ndarray | float]) -> dict[str, np.ndarray]:
    """``n_draws`` draws of every parameter scattered normally around its true value in a
    synthetic panel's ``truth`` (segments in the truth's order, initiatives in ``initiatives``'
    order) with standard deviation ``sd(name, true values)`` (in the parameter's units); the
    carry-over is clipped to [0, 0.95]."""
    draws = {}
    for name, (axis, _) in PARAMETERS.items():
        if axis == "segment":
            centre = np.array([truth["segment_parameters"][s][name] for s in truth["segments"]])
        else:
            centre = np.array([truth["initiatives"][i][name] for i in initiatives])
        draws[name] = centre + rng.normal(0.0, 1.0, (n_draws, centre.size)) * sd(name, centre)
    draws["lift_carryover"] = np.clip(draws["lift_carryover"], 0.0, 0.95)
    return draws


def truth_champion(models_dir: Path, model_id: str = TRUTH_MODEL_ID, status: str = "accepted") -> str:
    """Write an artifact whose draws scatter tightly around the sample data's true parameters
    (relative sd 5 %) and promote it when accepted. Returns the model id."""
    truth = json.loads(SAMPLE_TRUTH.read_text())
    catalogue = load_catalogue()
    segments, initiatives = list(truth["segments"]), list(catalogue)
    draws = draws_around_truth(truth, initiatives, TRUTH_DRAWS, np.random.default_rng(11),
                               lambda _, centre: 0.05 * np.abs(centre))
    first_month = f"{truth['start'][:4]}-{int(truth['start'][5:7]):02d}"
    state = {}
    for s in segments:
        p = truth["segment_parameters"][s]
        state[s] = SegmentState(customers=float(p["customers_initial"]), csat=p["csat_base"], nps=p["nps_base"],
                                arpu=float(np.exp(p["arpu_intercept"] + 36 * p["arpu_trend"])),
                                ref_csat=p["csat_base"], ref_nps=p["nps_base"], t_next=36)
    passed = status == "accepted"
    health = Health.model_validate({"passed": passed, "checks": [
        {"name": "max_rhat", "value": 1.003, "rule": "≤", "threshold": 1.01, "passed": True},
        {"name": "min_ess_bulk", "value": 820.0 if passed else 120.0, "rule": "≥", "threshold": 400,
         "passed": passed},
        {"name": "divergences", "value": 0, "rule": "≤", "threshold": 0, "passed": True},
    ]})
    sources = {p: dict.fromkeys(segments, "history") for p in EFFECT_PARAMETERS if not p.startswith("lift_")}
    sources |= {p: {i: ("history" if truth["initiatives"][i]["has_history"] else "catalogue") for i in initiatives}
                for p in ("lift_csat", "lift_nps")}
    write_artifact(
        models_dir, draws, model_id=model_id, family="bayes", data_fingerprint="test", seed=7,
        training_window=TrainingWindow(start=first_month, end="2025-12"), segments=segments, initiatives=initiatives,
        initiative_settings={i: c.settings(segments, {s: state[s].customers for s in segments})
                             for i, c in catalogue.items()},
        lag_months=truth["lag_months"], sampler=SamplerConfig(name="test", draws=TRUTH_DRAWS, chains=1),
        state=state, diagnostics=Diagnostics(max_rhat=1.003, min_ess_bulk=820.0, min_ess_tail=760.0, divergences=0),
        backtest=_truth_backtest(), health=health, status=status, effect_sources=sources,
    )
    if passed:
        registry.promote(model_id, models_dir, user="tests")
    return model_id


def with_catalogue_costs(artifact: registry.ModelArtifact, models_dir: Path, panel_csv: Path,
                         model_id: str | None = None) -> registry.ModelArtifact:
    """A copy of ``artifact`` (same draws) written to ``models_dir`` whose initiative costs are
    the catalogue's (data/initiatives.yaml: platform share + cost per customer reached, at the
    model's starting customers) and whose starting state records each segment's CSAT/NPS range
    in ``panel_csv`` — what a schema-3 training of that panel records — without its schema
    caveat. Lets tests value scenarios on the shipped model under the current catalogue."""
    import pandas as pd

    manifest = artifact.manifest
    catalogue = load_catalogue()
    customers = {s: manifest.state[s].customers for s in manifest.segments}
    ranges = pd.read_csv(panel_csv).groupby("segment")[["csat", "nps"]].agg(["min", "max"])
    state = {s: manifest.state[s].model_copy(update={f"{kind}_{end}": float(ranges.loc[s, (kind, end)])
                                                     for kind in ("csat", "nps") for end in ("min", "max")})
             for s in manifest.segments}
    fields = manifest.model_dump(exclude={"content_hash", "files", "schema_version"})
    fields |= {
        "model_id": model_id or f"{manifest.model_id}-costed",
        "initiative_settings": {i: catalogue[i].settings(manifest.segments, customers) for i in manifest.initiatives},
        "state": state, "caveats": [c for c in manifest.caveats if not c.code.startswith("schema_")],
    }
    return write_artifact(models_dir, artifact.draws, **fields)
