"""Attenuation by survey error: the same tiny-survey histories fitted with and without the survey
error model, against the generator's known truth.

Each history (cxroi.data.synth.generate, no spend columns) has ``--responses`` answers per survey
and segment-month. The Bayesian model is fitted twice: with the survey error model (observed
CSAT/NPS = latent level + sampling error) and with it switched off (scores taken as exact, the
earlier model form). Printed per effect: the average over segments of posterior mean / true
effect (1 = unbiased, < 1 = attenuated toward zero) and the coverage of the 90 % intervals.

    nice -n 5 .venv/bin/python -m validation.attenuation --histories 3 --responses 15 25

Units: effects per +10 CSAT/NPS points on their link scales (see cxroi.params).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

from cxroi.catalogue import load_catalogue
from cxroi.data.schema import require_valid
from cxroi.data.synth import generate
from cxroi.fit.design import build_design
from cxroi.params import CX_EFFECTS


def study(histories: int, responses: tuple[int, int], segments: int = 6, months: int = 36, draws: int = 300,
          seed: int = 41, progress=sys.stderr) -> pd.DataFrame:
    """One row per history × model form × effect × segment: truth, posterior mean, in_90."""
    from cxroi.fit.bayes import BayesModel

    catalogue = load_catalogue()
    models = {form: BayesModel(draws=draws, tune=draws, chains=2, cores=2, seed=seed, survey_error=form == "survey error")
              for form in ("survey error", "scores exact")}
    rows = []
    for h in range(histories):
        result = generate(segments=segments, months=months, seed=seed + h, responses_range=responses)
        panel = result.panel.loc[:, ~result.panel.columns.str.startswith("spend_")]
        design = build_design(require_valid(panel), catalogue)
        for form, model in models.items():
            tic = time.perf_counter()
            fit = model.fit(design, catalogue)
            print(f"history {h + 1}/{histories}, {form}: {time.perf_counter() - tic:.0f} s, "
                  f"divergences {fit.convergence['divergences']}, max R-hat {fit.convergence['max_rhat']:.3f}",
                  file=progress, flush=True)
            for effect in CX_EFFECTS:
                low, high = np.quantile(fit.draws[effect], [0.05, 0.95], axis=0)
                for s, segment in enumerate(design.segments):
                    truth = result.truth["segment_parameters"][segment][effect]
                    rows.append({"history": h, "form": form, "effect": effect, "segment": segment, "truth": truth,
                                 "mean": float(fit.draws[effect][:, s].mean()),
                                 "in_90": bool(low[s] <= truth <= high[s])})
    return pd.DataFrame(rows)


def summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per model form and effect: Σ posterior mean / Σ truth over segments and histories (1 =
    unbiased, < 1 attenuated; a ratio of sums, since a single segment's truth may lie near 0)
    and the coverage of the 90 % intervals."""
    grouped = rows.groupby(["effect", "form"])
    return pd.DataFrame({"estimate_over_truth": grouped["mean"].sum() / grouped["truth"].sum(),
                         "coverage_90": grouped["in_90"].mean(), "cases": grouped.size()}).reset_index()


def markdown(table: pd.DataFrame) -> str:
    """The summary as a Markdown table."""
    lines = ["| effect | model | estimate / truth | 90 % coverage | cases |", "|---|---|---:|---:|---:|"]
    lines += [f"| {r.effect} | {r.form} | {r.estimate_over_truth:.2f} | {100 * r.coverage_90:.0f} % | {r.cases} |"
              for r in table.itertuples(index=False)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--histories", type=int, default=3)
    parser.add_argument("--responses", type=int, nargs=2, default=(15, 25), metavar=("LOW", "HIGH"))
    parser.add_argument("--draws", type=int, default=300)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    table = summary(study(args.histories, tuple(args.responses), draws=args.draws))
    print(f"{args.histories} histories, {args.responses[0]}–{args.responses[1]} answers per survey, "
          f"{(time.perf_counter() - started) / 60:.1f} min\n")
    print(markdown(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
