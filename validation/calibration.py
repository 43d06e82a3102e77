"""Calibration study: are the model's intervals honest, and is its P(ROI > 0) a probability?

For each of N synthetic histories (cxroi.data.synth.generate) with randomly drawn true population
means of the CX effects and its own seed, fit the model, then record for every CX effect
(churn_csat, churn_nps, arpu_csat, acq_nps per segment; lift_csat, lift_nps of initiatives the
fit learned from spend history) and for the NPV of a fixed scenario whether the central 50 %, 80 %
and 90 % intervals of the fitted draws contain the truth, and the scenario's stated P(ROI > 0)
against whether its true ROI is above 0. The true NPV is the simulator run on an artifact whose
single "draw" is the true parameters (same starting state, references at the true base levels).

Histories cycle through :data:`VARIANTS`: the generator's default, null effects (every CX effect
0), asymmetric churn effects (falls act twice as strongly as rises; fitted with the asymmetric
option), tiny surveys (15–25 answers a month) and missing survey months (15 % of segment-months
unsurveyed).

A calibrated model covers the truth with its 90 % intervals in about 90 % of cases and with its
50 % intervals in about 50 %. Run (prints progress, writes rows and the tables to --out):

    nice -n 5 .venv/bin/python -m validation.calibration --histories 60 --out validation/results

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
from cxroi.errors import ScenarioError
from cxroi.fileio import atomic_write_text
from cxroi.fit.design import Design, build_design
from cxroi.fit.result import FitResult
from cxroi.fit.train import starting_state
from cxroi.manifest import Asymmetry, Manifest, SegmentState
from cxroi.params import LOSS_PARAMETERS, PARAMETERS
from cxroi.registry import ModelArtifact
from cxroi.sim.engine import Simulator
from cxroi.sim.scenario import Investment, Scenario

SEGMENT_EFFECTS = ("churn_csat", "churn_nps", "arpu_csat", "acq_nps")
LIFT_EFFECTS = ("lift_csat", "lift_nps")
LEVELS = (0.5, 0.8, 0.9)
#: variant name -> generator options (histories cycle through them in this order); "null" also
#: sets every population effect to 0, "asymmetric" is fitted with gain/loss churn effects
VARIANTS: dict[str, dict] = {
    "default": {},
    "null": {},
    "asymmetric": {"loss_factor": 2.0},
    "tiny surveys": {"responses_range": (15, 25)},
    "missing months": {"survey_gaps": 0.15},
}
#: bins of the stated P(ROI > 0) for the reliability table
RELIABILITY_BINS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)
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
    #: histories cycle through these VARIANTS names
    variants: tuple[str, ...] = tuple(VARIANTS)
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


def variant_of(settings: StudySettings, index: int) -> str:
    """The variant of history ``index`` (they take turns)."""
    return settings.variants[index % len(settings.variants)]


def draw_dataset(settings: StudySettings, index: int) -> tuple[SynthResult, dict[str, float]]:
    """History ``index``: its own generator seed, uniformly drawn population-mean effects (all 0
    in the null variant) and its variant's generator options."""
    rng = np.random.default_rng([settings.seed, index])
    effects = {name: float(rng.uniform(*bounds)) for name, bounds in EFFECT_RANGES.items()}
    seed = int(rng.integers(1, 2**31 - 1))
    variant = variant_of(settings, index)
    if variant == "null":
        effects = dict.fromkeys(effects, 0.0)
    result = generate(segments=settings.segments, months=settings.months, seed=seed, effects=effects,
                      **VARIANTS[variant])
    if not settings.spend_history:
        result = dataclasses.replace(result, panel=result.panel.loc[:, ~result.panel.columns.str.startswith("spend_")])
    return result, effects


def make_model(settings: StudySettings, asymmetric: bool = False):
    """One model object of the configured family with the study's (small) sampler settings; the
    Bayesian one keeps its compiled model between datasets of the same structure."""
    if settings.family == "regression":
        from cxroi.fit.regression import RegressionModel

        return RegressionModel(n_draws=settings.draws * settings.chains, seed=settings.seed)
    from cxroi.fit.bayes import BayesModel

    return BayesModel(draws=settings.draws, tune=settings.tune, chains=settings.chains, seed=settings.seed,
                      cores=min(2, settings.chains), asymmetric=asymmetric)


def _manifest(model_id: str, family: str, design: Design, catalogue: dict[str, Initiative],
              state: dict[str, SegmentState], asymmetry: Asymmetry | None = None) -> Manifest:
    """The manifest fields the simulator reads (``asymmetry``: a model with gain/loss churn slopes)."""
    customers = {segment: values.customers for segment, values in state.items()}
    return Manifest(model_id=model_id, family=family, segments=design.segments, initiatives=list(catalogue),
                    state=state, lag_months=design.lag, training_window=design.window(), seed=0,
                    initiative_settings={i: c.settings(design.segments, customers) for i, c in catalogue.items()},
                    asymmetry=asymmetry)


def fitted_artifact(fit: FitResult, design: Design, catalogue: dict[str, Initiative]) -> ModelArtifact:
    """An in-memory artifact of the fit (nothing written to disk)."""
    asymmetry = Asymmetry(**fit.asymmetry) if fit.asymmetry else None
    manifest = _manifest("calibration-fit", fit.family, design, catalogue, starting_state(fit, design), asymmetry)
    return ModelArtifact("calibration-fit", Path("."), manifest, fit.draws)


def true_artifact(truth: dict, design: Design, catalogue: dict[str, Initiative]) -> ModelArtifact:
    """An artifact whose single draw is the generator's true parameters (its family field is
    nominal: the simulator does not read it); the starting state is the history's last month with
    its true (not surveyed) CSAT/NPS, and references at the true base levels the true effects
    are measured from. A history whose churn effects act
    ``loss_factor`` times as strongly below the base level gets those slopes below the reference."""
    per_segment = truth["segment_parameters"]
    draws = {}
    for name, (axis, _) in PARAMETERS.items():
        if axis == "segment":
            draws[name] = np.array([[per_segment[s][name] for s in design.segments]])
        else:
            draws[name] = np.array([[truth["initiatives"][i][name] for i in catalogue]])
    def true_scores(segment: str) -> dict[str, float]:
        truth_of = per_segment[segment]
        return {"csat": truth_of["csat_last"], "nps": truth_of["nps_last"], "ref_csat": truth_of["csat_base"],
                "ref_nps": truth_of["nps_base"]}

    state = {segment: SegmentState(**{**values, **true_scores(segment)}) for segment, values in design.state().items()}
    factor = truth.get("loss_factor", 1.0)
    asymmetry = None
    if factor != 1.0:
        draws.update({name: factor * draws[name.removesuffix("_loss")] for name in LOSS_PARAMETERS})
        asymmetry = Asymmetry(effects=tuple(name.removesuffix("_loss") for name in LOSS_PARAMETERS))
    manifest = _manifest("calibration-truth", "bayes", design, catalogue, state, asymmetry)
    return ModelArtifact("calibration-truth", Path("."), manifest, draws)


def fixed_scenario(segments: list[str], catalogue: dict[str, Initiative], settings: StudySettings) -> Scenario:
    """Every initiative with synthetic spend history, funded at its nominal monthly cost (spend
    level 1) in the segments it reaches, for ``scenario_months`` months, valued over ``horizon_months``."""
    investments = []
    for initiative in list(catalogue.values())[:2]:
        reached = [s for s in segments if s in initiative.segments]
        if reached:
            investments.append(Investment(initiative=initiative.id, segments=tuple(reached),
                                          duration_months=settings.scenario_months, spend_level=1.0,
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
    """One row per (quantity, segment/initiative) of one dataset: truth, mean, in_50, in_90 — and
    the NPV of the fixed scenario unless its true lift moves a score off its scale in this history."""
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
    try:
        true = Simulator(true_artifact(truth, design, catalogue)).run(scenario)
    except ScenarioError:  # the true lift would push a score off its scale (CSAT above 100, say): no NPV case
        return rows
    fitted = Simulator(fitted_artifact(fit, design, catalogue)).run(scenario)
    rows.append({"dataset": index, "quantity": "npv", "label": scenario.name, **_covered(fitted.npv, true.npv[0]),
                 "p_roi_positive": fitted.prob_roi_positive, "roi_positive": bool(true.roi[0] > 0)})
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
    """Per quantity (and all effects pooled): number of cases, coverage of the 50 %, 80 % and
    90 % intervals, a 95 % Wilson interval of the 80 % coverage, and the share of cases where the
    posterior mean lies below the truth (about 50 % without bias; for churn effects, whose
    expected sign is negative, "below" means a stronger effect)."""
    groups = [(q, rows[rows["quantity"] == q]) for q in dict.fromkeys(rows["quantity"])]
    groups.append(("all effects", rows[rows["quantity"] != "npv"]))
    table = []
    for quantity, g in groups:
        n, hit80 = len(g), int(g["in_80"].sum())
        low, high = wilson(hit80, n)
        table.append({"quantity": quantity, "cases": n, "coverage_50": g["in_50"].mean(),
                      "coverage_80": g["in_80"].mean(), "coverage_90": g["in_90"].mean(),
                      "coverage_80_wilson95_low": low, "coverage_80_wilson95_high": high,
                      "mean_below_truth": (g["mean"] < g["truth"]).mean()})
    return pd.DataFrame(table)


def markdown_table(table: pd.DataFrame) -> str:
    lines = ["| quantity | cases | 50 % interval | 80 % interval (95 % CI) | 90 % interval | estimate below truth |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in table.itertuples(index=False):
        lines.append(f"| {r.quantity} | {r.cases} | {100 * r.coverage_50:.1f} % | {100 * r.coverage_80:.1f} % "
                     f"({100 * r.coverage_80_wilson95_low:.0f}–{100 * r.coverage_80_wilson95_high:.0f} %) | "
                     f"{100 * r.coverage_90:.1f} % | {100 * r.mean_below_truth:.0f} % |")
    return "\n".join(lines)


def variant_table(rows: pd.DataFrame, runs: pd.DataFrame) -> str:
    """Coverage of the 50 %, 80 % and 90 % intervals of the CX effects (pooled) and of NPV, per
    variant, as Markdown."""
    variant = runs.set_index("dataset")["variant"]
    rows = rows.assign(variant=rows["dataset"].map(variant))
    lines = ["| variant | histories | effect cases | effects 50 % | effects 80 % | effects 90 % | NPV cases | NPV 50 % "
             "| NPV 80 % | NPV 90 % |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, g in rows.groupby("variant", sort=False):
        effects, npv = g[g["quantity"] != "npv"], g[g["quantity"] == "npv"]
        cells = [f"{100 * frame[f'in_{level}'].mean():.0f} %" for frame in (effects, npv) for level in (50, 80, 90)]
        lines.append(f"| {name} | {g['dataset'].nunique()} | {len(effects)} | {' | '.join(cells[:3])} | {len(npv)} | "
                     f"{' | '.join(cells[3:])} |")
    return "\n".join(lines)


def reliability(rows: pd.DataFrame) -> tuple[pd.DataFrame, float, float]:
    """Reliability of the stated P(ROI > 0): per bin of the stated probability, the cases, their
    mean stated probability and the share whose true ROI is above 0; and the Brier score of the
    stated probabilities against that of the constant forecast (the overall share of true ROI > 0)."""
    npv = rows[rows["quantity"] == "npv"]
    stated, outcome = npv["p_roi_positive"].to_numpy(float), npv["roi_positive"].to_numpy(float)
    bins = pd.cut(stated, RELIABILITY_BINS, include_lowest=True)
    table = (pd.DataFrame({"bin": bins, "stated": stated, "outcome": outcome}).groupby("bin", observed=True)
             .agg(cases=("stated", "size"), stated=("stated", "mean"), observed=("outcome", "mean")).reset_index())
    brier = float(np.mean((stated - outcome) ** 2))
    constant = float(np.mean((outcome.mean() - outcome) ** 2))
    return table, brier, constant


def run_study(settings: StudySettings, progress=sys.stderr, checkpoint: Path | None = None,
              indices: list[int] | None = None) -> tuple[pd.DataFrame, list[dict]]:
    """Fit every dataset (or those at ``indices``) in turn; returns the coverage rows and
    per-dataset run information. With ``checkpoint``, the rows so far are written there (CSV)
    after every dataset, so a long study that is stopped keeps what it measured."""
    catalogue = load_catalogue()
    models = {False: make_model(settings)}
    rows: list[dict] = []
    runs: list[dict] = []
    started = time.perf_counter()
    indices = list(range(settings.datasets)) if indices is None else indices
    for done, index in enumerate(indices, start=1):
        result, effects = draw_dataset(settings, index)
        design = build_design(require_valid(result.panel, f"dataset {index}"), catalogue, result.truth["lag_months"])
        variant = variant_of(settings, index)
        asymmetric = variant == "asymmetric" and settings.family == "bayes"
        if asymmetric not in models:
            models[asymmetric] = make_model(settings, asymmetric=asymmetric)
        tic = time.perf_counter()
        fit: FitResult = models[asymmetric].fit(design, catalogue)
        seconds = time.perf_counter() - tic
        scenario = fixed_scenario(design.segments, catalogue, settings)
        new = coverage_rows(index, fit, result, design, catalogue, scenario)
        rows += new
        runs.append({"dataset": index, "variant": variant, "seed": result.truth["seed"], **effects,
                     "fit_seconds": seconds,
                     **{k: v for k, v in fit.convergence.items() if isinstance(v, int | float)}})
        so_far = pd.DataFrame(rows)
        if checkpoint is not None:
            atomic_write_text(checkpoint, so_far.to_csv(index=False))
        print(f"[{done}/{len(indices)}] history {index}, {variant}, seed {result.truth['seed']}: fit {seconds:.0f} s, "
              f"dataset 90 % coverage {np.mean([r['in_90'] for r in new]):.2f}; running 50 %/90 % coverage "
              f"{so_far['in_50'].mean():.3f}/{so_far['in_90'].mean():.3f}; elapsed "
              f"{time.perf_counter() - started:.0f} s", file=progress, flush=True)
    return pd.DataFrame(rows), runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    defaults = StudySettings()
    parser.add_argument("--histories", "--datasets", dest="datasets", type=int, default=defaults.datasets,
                        help="number of synthetic histories (they cycle through the variants)")
    for name in ("segments", "months", "draws", "tune", "chains", "seed"):
        parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name))
    parser.add_argument("--family", choices=("bayes", "regression"), default=defaults.family)
    parser.add_argument("--rerun-variant", choices=tuple(VARIANTS), default=None,
                        help="fit again only this variant's histories (same seeds, so the same data) and replace "
                             "their rows in --out's results; the other histories' rows are kept")
    parser.add_argument("--out", type=Path, default=Path("validation/results"))
    args = parser.parse_args(argv)
    settings = StudySettings(**{k: v for k, v in vars(args).items() if k not in ("out", "rerun_variant")})
    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    rows_path = args.out / f"calibration_rows_{settings.family}.csv"
    runs_path = args.out / f"calibration_runs_{settings.family}.csv"
    indices = None
    if args.rerun_variant:
        indices = [i for i in range(settings.datasets) if variant_of(settings, i) == args.rerun_variant]
        # the variant "null" is a name here, not a missing value
        kept_rows, kept_runs = (pd.read_csv(path, keep_default_na=False, na_values=[""]) for path in (rows_path, runs_path))
        kept_rows, kept_runs = kept_rows[~kept_rows["dataset"].isin(indices)], kept_runs[~kept_runs["dataset"].isin(indices)]
    rows, runs = run_study(settings, checkpoint=args.out / f"calibration_checkpoint_{settings.family}.csv",
                           indices=indices)
    runs = pd.DataFrame(runs)
    if args.rerun_variant:
        rows = pd.concat([kept_rows, rows]).sort_values("dataset", kind="stable")
        runs = pd.concat([kept_runs, runs]).sort_values("dataset", kind="stable")
    minutes = (time.perf_counter() - started) / 60
    atomic_write_text(rows_path, rows.to_csv(index=False))
    atomic_write_text(runs_path, runs.to_csv(index=False))
    (args.out / f"calibration_checkpoint_{settings.family}.csv").unlink(missing_ok=True)
    text = study_report(settings, rows, runs, minutes, args.rerun_variant)
    atomic_write_text(args.out / f"calibration_table_{settings.family}.md", text)
    print(text)
    return 0


def study_report(settings: StudySettings, rows: pd.DataFrame, runs: pd.DataFrame, minutes: float,
                 rerun: str | None) -> str:
    """The study's tables as Markdown: coverage per quantity and per variant, reliability of
    P(ROI > 0) and its Brier score; the run's wall time and the histories' total fitting time."""
    sampling = (f"{settings.chains * settings.draws} independent draws" if settings.family == "regression"
                else f"{settings.chains} chains × {settings.draws} draws (tune {settings.tune})")
    timing = (f"{minutes:.1f} min wall" if rerun is None
              else f"the {rerun} histories refitted in {minutes:.1f} min wall, the others kept from the previous run")
    bins, brier, constant = reliability(rows)
    bin_lines = "\n".join(f"| {r.bin} | {r.cases} | {r.stated:.2f} | {r.observed:.2f} |"
                          for r in bins.itertuples(index=False))
    return (f"{settings.datasets} histories ({settings.segments} segments × {settings.months} months), family "
            f"{settings.family}, {sampling}, seed {settings.seed}; {timing}; fitting time of all histories "
            f"{runs['fit_seconds'].sum() / 60:.1f} min\n\n"
            f"{markdown_table(coverage_table(rows))}\n\nPer variant:\n\n{variant_table(rows, runs)}\n\n"
            f"Reliability of P(ROI > 0):\n\n| stated P(ROI > 0) | cases | mean stated | share true ROI > 0 |\n"
            f"|---|---:|---:|---:|\n{bin_lines}\n\nBrier score {brier:.3f} (constant forecast {constant:.3f})\n")


if __name__ == "__main__":
    sys.exit(main())
