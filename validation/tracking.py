"""The tracking study: synthetic approved decisions with known truth, tracked as `cxroi track`
tracks them.

Each decision (cxroi.track.study.case): a synthetic panel (8 segments × 24 months, its own seed),
a model artifact whose draws scatter tightly around that panel's true parameters (no fit, so
the tracking is what is checked), a decision funding the onboarding programme at nominal spend
in 2 of the 4 segments it can reach for 12 months, and the panel continued ``--months`` months
(cxroi.data.synth_continue) with the initiative's true lift — the model's own, so as large as
promised — for every other decision, and no lift for the rest. Recorded per decision and metric
(CSAT, NPS): the true average lift in the treated segments from the start, the realised-lift
estimate used by the counterfactual (difference-in-differences against the 6 untreated
segments) and whether its 80 % / 90 % intervals cover the truth; the status and its
probabilities.

Goals: 90 % intervals cover the truth in 85–95 % of cases; with no true lift the status is not
"on track" in ≥ 80 %; with a true lift as large as promised it is not "behind" in ≥ 80 %.

    nice -n 5 .venv/bin/python -m validation.tracking --decisions 40 --out validation/results
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from cxroi.catalogue import load_catalogue
from cxroi.data.schema import require_valid
from cxroi.data.synth import generate
from cxroi.data.synth_continue import continue_panel
from cxroi.manifest import SamplerConfig, SegmentState, TrainingWindow
from cxroi.registry import ModelArtifact
from cxroi.store.records import Decision
from cxroi.testing.artifacts import draws_around_truth, write_artifact
from cxroi.track import BEHIND, ON_TRACK, track

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
    draws = draws_around_truth(truth, initiatives, n_draws, np.random.default_rng(seed),
                               lambda name, centre: ABSOLUTE_SD[name] if name in ABSOLUTE_SD
                               else RELATIVE_SD * np.abs(centre))
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



def study(decisions: int, months: int = 6, seed: int = 5000, progress=sys.stderr) -> pd.DataFrame:
    """One row per decision × metric."""
    rows = []
    with tempfile.TemporaryDirectory() as models_dir:
        for i in range(decisions):
            started = time.perf_counter()
            c = case(seed + i, Path(models_dir), true_lift=i % 2 == 0, months_tracked=months)
            result = track(c.decision, c.artifact, require_valid(c.panel))
            truth = c.truth["continuation"]["average_realised_lift"]
            for metric in ("csat", "nps"):
                estimate = result.lift[result.lift["metric"] == metric].iloc[0]  # the one the counterfactual uses
                rows.append({"decision": seed + i, "true_lift": c.true_lift, "metric": metric, "truth": truth[metric],
                             "method": estimate["method"], "estimate": estimate["realised"],
                             "in_80": estimate["p10"] <= truth[metric] <= estimate["p90"],
                             "in_90": estimate["p5"] <= truth[metric] <= estimate["p95"],
                             "status": result.status, "likeliest": result.likeliest,
                             **{f"p_{k.replace(' ', '_')}": v for k, v in result.probabilities.items()}})
            print(f"decision {i + 1}/{decisions}: {'lift' if c.true_lift else 'none'}, {result.status} "
                  f"({time.perf_counter() - started:.1f} s)", file=progress, flush=True)
    return pd.DataFrame(rows)


def figures(rows: pd.DataFrame) -> dict[str, float]:
    """The study's figures (shares of decisions or cases)."""
    per_decision = rows.drop_duplicates("decision")
    none, lifted = per_decision[~per_decision["true_lift"]], per_decision[per_decision["true_lift"]]
    out = {f"coverage_90_{m}": float(g["in_90"].mean()) for m, g in rows.groupby("metric")}
    out |= {f"coverage_80_{m}": float(g["in_80"].mean()) for m, g in rows.groupby("metric")}
    out["coverage_90_all"] = float(rows["in_90"].mean())
    out["no_lift_not_on_track"] = float((none["status"] != ON_TRACK).mean())
    out["lift_not_behind"] = float((lifted["status"] != BEHIND).mean())
    out["statuses"] = per_decision.groupby(["true_lift", "status"]).size().to_dict()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=30, help="synthetic decisions (≥ 30 for the full study)")
    parser.add_argument("--months", type=int, default=6, help="months tracked after the decision's start")
    parser.add_argument("--seed", type=int, default=5000, help="seed of the first decision")
    parser.add_argument("--out", type=Path, default=None, help="folder for tracking_rows.csv")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = study(args.decisions, args.months, args.seed)
    result = figures(rows)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        rows.to_csv(args.out / "tracking_rows.csv", index=False, lineterminator="\n")
    for name, value in result.items():
        print(f"{name}: {value:.1%}" if isinstance(value, float) else f"{name}: {value}")
    print(f"{args.decisions} decisions in {time.perf_counter() - started:.0f} s; mean estimate − truth: "
          + ", ".join(f"{m} {np.mean(g['estimate'] - g['truth']):+.2f}" for m, g in rows.groupby("metric")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
