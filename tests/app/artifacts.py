"""A small model artifact built from the sample data's ground truth (data/sample/truth.json), so
app tests have a champion whose effects are known without running a fit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from cxroi import registry
from cxroi.catalogue import load_catalogue
from cxroi.params import PARAMETERS

ROOT = Path(__file__).resolve().parents[2]
TRUTH = ROOT / "data" / "sample" / "truth.json"
MODEL_ID = "bayes-20260101-000000-test"
N_DRAWS = 400


def _backtest() -> dict:
    """A backtest block shaped like cxroi.fit.backtest's (MAPE in %, coverage as a fraction)."""
    rows = [{"metric": m, "model_mape_pct": a, "naive_last_mape_pct": b, "seasonal_naive_mape_pct": c,
             "coverage_80": d}
            for m, a, b, c, d in (("churned", 6.1, 9.4, 11.0, 0.81), ("revenue", 1.2, 2.0, 2.9, 0.83),
                                  ("new_customers", 7.5, 10.2, 12.8, 0.79))]
    naive = {"naive_last_mape_pct": (9.4 + 2.0 + 10.2) / 3, "seasonal_naive_mape_pct": (11.0 + 2.9 + 12.8) / 3}
    return {"holdout_months": 6, "excluded_segments": [], "train_window": {"start": "2023-01", "end": "2025-06"},
            "holdout_window": {"start": "2025-07", "end": "2025-12"}, "rows": rows,
            "model_mape_pct": (6.1 + 1.2 + 7.5) / 3, "best_naive_mape_pct": min(naive.values()),
            "naive_mape_pct": naive, "refit_convergence": {}}


def build_champion(models_dir: Path, model_id: str = MODEL_ID, status: str = "accepted") -> str:
    """Write an artifact whose draws scatter tightly around the true parameters (relative sd 5 %)
    and promote it when accepted. Returns the model id."""
    truth = json.loads(TRUTH.read_text())
    catalogue = load_catalogue()
    segments = list(truth["segments"])
    initiatives = list(catalogue)
    rng = np.random.default_rng(11)
    draws = {}
    for name, (axis, _) in PARAMETERS.items():
        if axis == "segment":
            centre = np.array([truth["segment_parameters"][s][name] for s in segments])
        else:
            centre = np.array([truth["initiatives"][i][name] for i in initiatives])
        noise = rng.normal(0.0, 0.05, (N_DRAWS, centre.size)) * np.abs(centre)
        draws[name] = centre + noise
    draws["lift_carryover"] = np.clip(draws["lift_carryover"], 0.0, 0.95)
    last_month = f"{truth['start'][:4]}-{int(truth['start'][5:7]):02d}"
    state = {}
    for s in segments:
        p = truth["segment_parameters"][s]
        state[s] = {"customers": float(p["customers_initial"]), "csat": p["csat_base"], "nps": p["nps_base"],
                    "arpu": float(np.exp(p["arpu_intercept"] + 36 * p["arpu_trend"])),
                    "ref_csat": p["csat_base"], "ref_nps": p["nps_base"], "t_next": 36}
    passed = status == "accepted"
    manifest = {
        "model_id": model_id, "family": "bayes", "data_fingerprint": "test", "seed": 7,
        "training_window": {"start": last_month, "end": "2025-12"},
        "segments": segments, "initiatives": initiatives,
        "initiative_settings": {i: {"name": c.name, "monthly_cost": c.monthly_cost, "one_off_cost": c.one_off_cost,
                                    "saturation_k": c.saturation_k} for i, c in catalogue.items()},
        "lag_months": truth["lag_months"], "sampler": {"name": "test", "draws": N_DRAWS, "chains": 1},
        "n_draws": N_DRAWS, "state": state,
        "diagnostics": {"max_rhat": 1.003, "min_ess_bulk": 820.0, "min_ess_tail": 760.0, "divergences": 0},
        "backtest": _backtest(),
        "health": {"passed": passed, "checks": [
            {"name": "max_rhat", "value": 1.003, "rule": "≤", "threshold": 1.01, "passed": True},
            {"name": "min_ess_bulk", "value": 820.0 if passed else 120.0, "rule": "≥", "threshold": 400,
             "passed": passed},
            {"name": "divergences", "value": 0, "rule": "≤", "threshold": 0, "passed": True},
        ]},
        "status": status,
        "effect_sources": {
            **{p: dict.fromkeys(segments, "history") for p in ("churn_csat", "churn_nps", "arpu_csat", "acq_nps")},
            **{p: {i: ("history" if truth["initiatives"][i]["has_history"] else "catalogue") for i in initiatives}
               for p in ("lift_csat", "lift_nps")},
        },
        "warnings": [],
    }
    registry.save_artifact(manifest, draws, models_dir)
    if passed:
        registry.promote(model_id, models_dir, user="tests")
    return model_id
