"""Calibration study: are the model's intervals honest?

For each of N synthetic datasets (cxroi.data.synth.generate) with randomly drawn true population
means of the CX effects and its own seed, fit the model, then record for every CX effect
(churn_csat, churn_nps, arpu_csat, acq_nps per segment; lift_csat, lift_nps of initiatives the
fit learned from spend history) and for the NPV of a fixed scenario whether the central 50 % and 90 % intervals of
the fitted draws contain the truth. The true NPV is the simulator run on an artifact whose single
"draw" is the true parameters (same starting state, references at the true base levels).

A calibrated model covers the truth with its 90 % intervals in about 90 % of cases and with its
50 % intervals in about 50 %. Run (prints progress, writes rows and the table to --out):

    .venv/bin/python -m validation.calibration --datasets 30 --out validation/results

Units: effects per +10 CSAT/NPS points (lifts in survey points), NPV in the panel's currency.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from cxroi.catalogue import Initiative, load_catalogue
from cxroi.data.schema import require_valid
from cxroi.data.synth import SynthResult, generate
from cxroi.fileio import atomic_write_text
from cxroi.fit.design import Design, build_design
from cxroi.fit.result import FitResult
from cxroi.manifest import Manifest
from cxroi.params import PARAMETERS
from cxroi.registry import ModelArtifact
from cxroi.sim.engine import Simulator
from cxroi.sim.scenario import Investment, Scenario

SEGMENT_EFFECTS = ("churn_csat", "churn_nps", "arpu_csat", "acq_nps")
LIFT_EFFECTS = ("lift_csat", "lift_nps")
LEVELS = (0.5, 0.9)
#: ranges (per 10 points) the true population means are drawn from, uniformly: they straddle 0
#: and reach beyond the generator's defaults (−0.25, −0.10, 0.02, 0.08)
EFFECT_RANGES = {
    "churn_csat": (-0.45, 0.05), "churn_nps": (-0.25, 0.05),
    "arpu_csat": (-0.01, 0.045), "acq_nps": (-0.04, 0.18),
}


@dataclass(frozen=True)
class StudySettings:
    """Size of the study and of each fit (small panels and short chains keep it under 30 min)."""

    datasets: int = 30
    segments: int = 4
    months: int = 24
    family: str = "bayes"
    draws: int = 500
    tune: int = 1000
    chains: int = 4
    seed: int = 2026
    scenario_months: int = 12
    horizon_months: int = 24
    #: keep the panels' spend columns (lifts learned from history); without them every dataset
    #: has the same model structure, so the Bayesian model compiles once (the quick CI version)
    spend_history: bool = True


def draw_dataset(settings: StudySettings, index: int) -> tuple[SynthResult, dict[str, float]]:
    """Dataset ``index``: its own generator seed and uniformly drawn population-mean effects."""
    rng = np.random.default_rng([settings.seed, index])
    effects = {name: float(rng.uniform(*bounds)) for name, bounds in EFFECT_RANGES.items()}
    seed = int(rng.integers(1, 2**31 - 1))
    result = generate(segments=settings.segments, months=settings.months, seed=seed, effects=effects)
    if not settings.spend_history:
        result = dataclasses.replace(result, panel=result.panel.loc[:, ~result.panel.columns.str.startswith("spend_")])
    return result, effects


def make_model(settings: StudySettings):
    """One model object of the configured family with the study's (small) sampler settings; the
    Bayesian one keeps its compiled model between datasets of the same structure."""
    if settings.family == "regression":
        from cxroi.fit.regression import RegressionModel

        return RegressionModel(n_draws=settings.draws * settings.chains, seed=settings.seed)
    from cxroi.fit.bayes import BayesModel

    return BayesModel(draws=settings.draws, tune=settings.tune, chains=settings.chains, seed=settings.seed,
                      cores=min(2, settings.chains))


def _manifest(model_id: str, family: str, design: Design, catalogue: dict[str, Initiative],
              state: dict[str, dict[str, float]]) -> Manifest:
    """The manifest fields the simulator reads."""
    return Manifest(model_id=model_id, family=family, segments=design.segments, initiatives=list(catalogue),
                    state=state, lag_months=design.lag, training_window=design.window(), seed=0,
                    initiative_settings={i: c.settings(design.segments) for i, c in catalogue.items()})


def fitted_artifact(fit: FitResult, design: Design, catalogue: dict[str, Initiative]) -> ModelArtifact:
    """An in-memory artifact of the fit (nothing written to disk)."""
    manifest = _manifest("calibration-fit", fit.family, design, catalogue, design.state())
    return ModelArtifact("calibration-fit", Path("."), manifest, fit.draws)


def true_artifact(truth: dict, design: Design, catalogue: dict[str, Initiative]) -> ModelArtifact:
    """An artifact whose single draw is the generator's true parameters (its family field is
    nominal: the simulator does not read it); the starting state is the fit's, with references at the true base CSAT/NPS the true effects are measured from."""
    per_segment = truth["segment_parameters"]
    draws = {}
    for name, (axis, _) in PARAMETERS.items():
        if axis == "segment":
            draws[name] = np.array([[per_segment[s][name] for s in design.segments]])
        else:
            draws[name] = np.array([[truth["initiatives"][i][name] for i in catalogue]])
    state = design.state()
    for segment in design.segments:
        state[segment] = {**state[segment], "ref_csat": per_segment[segment]["csat_base"],
                          "ref_nps": per_segment[segment]["nps_base"]}
    return ModelArtifact("calibration-truth", Path("."), _manifest("calibration-truth", "bayes", design, catalogue,
                                                                   state), draws)


def fixed_scenario(segments: list[str], catalogue: dict[str, Initiative], settings: StudySettings) -> Scenario:
    """Every initiative with synthetic spend history, funded at its nominal monthly cost in the
    segments it reaches, for ``scenario_months`` months, valued over ``horizon_months``."""
    investments = []
    for initiative in list(catalogue.values())[:2]:
        reached = [s for s in segments if s in initiative.segments]
        if reached:
            investments.append(Investment(initiative=initiative.id, segments=tuple(reached),
                                          duration_months=settings.scenario_months,
                                          monthly_spend=initiative.monthly_cost,
                                          one_off_cost=initiative.one_off_cost))
    return Scenario(name="calibration", investments=tuple(investments), horizon_months=settings.horizon_months)


def _covered(draws: np.ndarray, truth: float) -> dict[str, object]:
    row: dict[str, object] = {"truth": float(truth), "mean": float(np.mean(draws))}
    for level in LEVELS:
        low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
        row[f"in_{round(100 * level)}"] = bool(low <= truth <= high)
    return row


def coverage_rows(index: int, fit: FitResult, result: SynthResult, design: Design,
                  catalogue: dict[str, Initiative], scenario: Scenario) -> list[dict]:
    """One row per (quantity, segment/initiative) of one dataset: truth, mean, in_50, in_90."""
    truth = result.truth
    rows = []
    for name in SEGMENT_EFFECTS:
        for s, segment in enumerate(design.segments):
            rows.append({"dataset": index, "quantity": name, "label": segment,
                         **_covered(fit.draws[name][:, s], truth["segment_parameters"][segment][name])})
    for name in LIFT_EFFECTS:
        for j, initiative in enumerate(catalogue):
            if fit.effect_sources[name][initiative] == "history":
                rows.append({"dataset": index, "quantity": name, "label": initiative,
                             **_covered(fit.draws[name][:, j], truth["initiatives"][initiative][name])})
    fitted_npv = Simulator(fitted_artifact(fit, design, catalogue)).run(scenario).npv
    true_npv = Simulator(true_artifact(truth, design, catalogue)).run(scenario).npv
    rows.append({"dataset": index, "quantity": "npv", "label": scenario.name, **_covered(fitted_npv, true_npv[0])})
    return rows


def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion."""
    if n == 0:
        return float("nan"), float("nan")
    z = stats.norm.ppf((1 + confidence) / 2)
    p = successes / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def coverage_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Per quantity (and all effects pooled): number of cases, coverage of the 50 % and 90 %
    intervals, a 95 % Wilson interval of the 90 % coverage, and the share of cases where the
    posterior mean lies below the truth (about 50 % without bias; for churn effects, whose
    expected sign is negative, "below" means a stronger effect)."""
    groups = [(q, rows[rows["quantity"] == q]) for q in dict.fromkeys(rows["quantity"])]
    groups.append(("all effects", rows[rows["quantity"] != "npv"]))
    table = []
    for quantity, g in groups:
        n, hit90 = len(g), int(g["in_90"].sum())
        low, high = wilson(hit90, n)
        table.append({"quantity": quantity, "cases": n, "coverage_50": g["in_50"].mean(),
                      "coverage_90": g["in_90"].mean(), "coverage_90_wilson95_low": low,
                      "coverage_90_wilson95_high": high, "mean_below_truth": (g["mean"] < g["truth"]).mean()})
    return pd.DataFrame(table)


def markdown_table(table: pd.DataFrame) -> str:
    lines = ["| quantity | cases | 50 % interval coverage | 90 % interval coverage (95 % CI) | estimate below truth |",
             "|---|---:|---:|---:|---:|"]
    for r in table.itertuples(index=False):
        lines.append(f"| {r.quantity} | {r.cases} | {100 * r.coverage_50:.1f} % | {100 * r.coverage_90:.1f} % "
                     f"({100 * r.coverage_90_wilson95_low:.0f}–{100 * r.coverage_90_wilson95_high:.0f} %) | "
                     f"{100 * r.mean_below_truth:.0f} % |")
    return "\n".join(lines)


def run_study(settings: StudySettings, progress=sys.stderr) -> tuple[pd.DataFrame, list[dict]]:
    """Fit every dataset in turn; returns the coverage rows and per-dataset run information."""
    catalogue = load_catalogue()
    model = make_model(settings)
    rows: list[dict] = []
    runs: list[dict] = []
    started = time.perf_counter()
    for index in range(settings.datasets):
        result, effects = draw_dataset(settings, index)
        design = build_design(require_valid(result.panel, f"dataset {index}"), catalogue, result.truth["lag_months"])
        tic = time.perf_counter()
        fit: FitResult = model.fit(design, catalogue)
        seconds = time.perf_counter() - tic
        scenario = fixed_scenario(design.segments, catalogue, settings)
        new = coverage_rows(index, fit, result, design, catalogue, scenario)
        rows += new
        runs.append({"dataset": index, "seed": result.truth["seed"], **effects, "fit_seconds": seconds,
                     **{k: v for k, v in fit.convergence.items() if isinstance(v, int | float)}})
        so_far = pd.DataFrame(rows)
        print(f"[{index + 1}/{settings.datasets}] seed {result.truth['seed']}: fit {seconds:.0f} s, "
              f"dataset 90 % coverage {np.mean([r['in_90'] for r in new]):.2f}; running 50 %/90 % coverage "
              f"{so_far['in_50'].mean():.3f}/{so_far['in_90'].mean():.3f}; elapsed "
              f"{time.perf_counter() - started:.0f} s", file=progress, flush=True)
    return pd.DataFrame(rows), runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    defaults = StudySettings()
    for name in ("datasets", "segments", "months", "draws", "tune", "chains", "seed"):
        parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name))
    parser.add_argument("--family", choices=("bayes", "regression"), default=defaults.family)
    parser.add_argument("--out", type=Path, default=Path("validation/results"))
    args = parser.parse_args(argv)
    settings = StudySettings(**{k: v for k, v in vars(args).items() if k != "out"})
    started = time.perf_counter()
    rows, runs = run_study(settings)
    table = coverage_table(rows)
    minutes = (time.perf_counter() - started) / 60
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / f"calibration_rows_{settings.family}.csv", rows.to_csv(index=False))
    atomic_write_text(args.out / f"calibration_runs_{settings.family}.csv", pd.DataFrame(runs).to_csv(index=False))
    sampling = (f"{settings.chains * settings.draws} independent draws" if settings.family == "regression"
                else f"{settings.chains} chains × {settings.draws} draws (tune {settings.tune})")
    text = (f"{settings.datasets} datasets ({settings.segments} segments × {settings.months} months), family "
            f"{settings.family}, {sampling}, seed {settings.seed}; {minutes:.1f} min wall\n\n"
            f"{markdown_table(table)}\n")
    atomic_write_text(args.out / f"calibration_table_{settings.family}.md", text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
