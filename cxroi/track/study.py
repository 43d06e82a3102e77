"""Synthetic decisions with known truth, for the tracking tests and the tracking study
(validation/tracking.py): a synthetic panel (cxroi.data.synth), a model artifact whose draws
scatter tightly around that panel's true parameters (no fit: the model is right by construction,
so what is checked is the tracking), a decision on it, and the panel continued with a known true
lift (cxroi.data.synth_continue)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from cxroi.catalogue import load_catalogue
from cxroi.data.synth import generate
from cxroi.data.synth_continue import continue_panel
from cxroi.manifest import SamplerConfig, SegmentState, TrainingWindow
from cxroi.params import PARAMETERS
from cxroi.registry import ModelArtifact
from cxroi.store.records import Decision
from cxroi.testing.artifacts import write_artifact

#: spread (sd) of the draws around the truth, roughly a posterior after two years of thousands of
#: customers per segment: absolute for intercepts (logit churn, log ARPU, log new customers) and
#: trends (per month), relative to the true value for everything else
ABSOLUTE_SD = {"churn_intercept": 0.02, "arpu_intercept": 0.004, "acq_intercept": 0.02, "arpu_trend": 0.0003,
               "acq_trend": 0.0005}
RELATIVE_SD = 0.10
INITIATIVE = "onboarding_program"


def truth_artifact(panel: pd.DataFrame, truth: dict, models_dir: Path, model_id: str, n_draws: int = 200,
                   seed: int = 11) -> ModelArtifact:
    """An artifact of the panel's segments and the catalogue's initiatives whose draws scatter
    around the truth, starting from the panel's last month."""
    catalogue = load_catalogue()
    segments, initiatives = list(truth["segments"]), list(catalogue)
    rng = np.random.default_rng(seed)
    draws = {}
    for name, (axis, _) in PARAMETERS.items():
        if axis == "segment":
            centre = np.array([truth["segment_parameters"][s][name] for s in segments])
        else:
            centre = np.array([truth["initiatives"][i][name] for i in initiatives])
        sd = ABSOLUTE_SD[name] if name in ABSOLUTE_SD else RELATIVE_SD * np.abs(centre)
        draws[name] = centre + rng.normal(0.0, 1.0, (n_draws, centre.size)) * sd
    draws["lift_carryover"] = np.clip(draws["lift_carryover"], 0.0, 0.95)
    frame = panel.assign(period=pd.to_datetime(panel["period"]))
    last = frame[frame["period"] == frame["period"].max()].set_index("segment")
    months = int(frame["period"].nunique())
    state = {}
    for s in segments:
        row, p = last.loc[s], truth["segment_parameters"][s]
        customers = float(row["customers_start"] - row["churned"] + row["new_customers"])
        state[s] = SegmentState(customers=customers, csat=float(row["csat"]), nps=float(row["nps"]),
                                arpu=float(row["revenue"] / (row["customers_start"] - row["churned"] / 2
                                                             + row["new_customers"] / 2)),
                                ref_csat=p["csat_base"], ref_nps=p["nps_base"], t_next=months)
    window = TrainingWindow(start=f"{frame['period'].min():%Y-%m}", end=f"{frame['period'].max():%Y-%m}")
    return write_artifact(
        models_dir, draws, model_id=model_id, family="bayes", seed=seed, training_window=window, segments=segments,
        initiatives=initiatives, lag_months=int(truth["lag_months"]), arpu_nu=6.0,
        initiative_settings={i: c.settings(segments, {s: state[s].customers for s in segments})
                             for i, c in catalogue.items()},
        sampler=SamplerConfig(name="truth", draws=n_draws, chains=1), state=state)


def decision_for(artifact: ModelArtifact, segments: list[str], decision_id: int = 1, horizon: int = 12,
                 initiative: str = INITIATIVE) -> Decision:
    """A decision record funding ``initiative`` at nominal spend in ``segments`` from forecast
    month 1 for the whole horizon (forecast fields left empty: tracking recomputes the promise)."""
    body = {"name": f"Synthetic decision {decision_id}", "horizon_months": horizon,
            "investments": [{"initiative": initiative, "segments": segments, "duration_months": horizon,
                             "spend_level": 1.0}]}
    return Decision(decision_id, body["name"], 1, body, artifact.model_id, None, {}, [], "study", "local:study",
                    datetime(2026, 1, 1, tzinfo=UTC))


@dataclass(frozen=True)
class Case:
    """One synthetic decision with its truth."""

    decision: Decision
    artifact: ModelArtifact
    panel: pd.DataFrame  #: the training panel followed by the tracked months
    truth: dict  #: the continuation's truth (cxroi.data.synth_continue)
    true_lift: bool


def case(seed: int, models_dir: Path, true_lift: bool, months_tracked: int = 6, n_segments: int = 8,
         history: int = 24, n_treated: int = 2, n_draws: int = 200) -> Case:
    """Synthetic decision ``seed``: a panel of ``history`` months, a truth artifact, a decision
    reaching ``n_treated`` of the initiative's segments, and ``months_tracked`` continued months
    with the initiative's true lift (the model's own, so as large as promised) or none."""
    synth = generate(segments=n_segments, months=history, seed=seed)
    artifact = truth_artifact(synth.panel, synth.truth, models_dir, f"truth-{seed}", n_draws=n_draws, seed=seed)
    reach = [s for s in load_catalogue()[INITIATIVE].reach(list(synth.truth["segments"]))]
    rng = np.random.default_rng([seed, 3])
    treated = sorted(rng.choice(reach, size=min(n_treated, len(reach)), replace=False).tolist())
    decision = decision_for(artifact, treated, decision_id=seed)
    info = synth.truth["initiatives"][INITIATIVE]
    lift_csat, lift_nps = (info["lift_csat"], info["lift_nps"]) if true_lift else (0.0, 0.0)
    continued = continue_panel(synth.panel, synth.truth, months_tracked, seed, INITIATIVE, tuple(treated),
                               lift_csat, lift_nps)
    return Case(decision, artifact, continued.panel, continued.truth, true_lift)
