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
from pathlib import Path

import numpy as np
import pandas as pd

from cxroi.data.schema import require_valid
from cxroi.track import BEHIND, ON_TRACK, track
from cxroi.track.study import case


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
