"""Model-fitting speed: Bayesian retrain of the sample (nutpie vs PyMC NUTS, centred vs
non-centred CX effects), the full `train` pipeline, the regression family, and fit time at 10 thousand vs
10 million customers per segment.

Run from the repository root::

    .venv/bin/python benchmarks/bench_fit.py              # everything (≈ 10–15 min on 2 cores)
    .venv/bin/python benchmarks/bench_fit.py --no-pymc    # skip the slow PyMC NUTS rows
    .venv/bin/python benchmarks/bench_fit.py --survey-error   # the model with and without survey error

Every measurement runs in its own child process, so each pays its own imports and compiles the
way a user's `cxroi train` does; "fit" wall time covers model build, compile and sampling (not
the ~7 s import of PyMC, reported separately), "train" covers the whole pipeline inside the
process (fit, diagnostics, 6-month backtest refit, gate, artifact) plus imports. ESS/s is the
smallest bulk ESS over all parameters divided by the fit wall time. Exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample" / "panel.csv"
GOAL_TRAIN_S, GOAL_REGRESSION_S = 60.0, 2.0
#: synth scale giving a median segment of ≈ 10 thousand and ≈ 10 million customers (the 8-segment
#: sample's median initial segment has ≈ 30 thousand customers)
SCALES = {"10k": 1 / 3, "10M": 1000 / 3}


def _panel(scale: float | None):
    from cxroi.data.readers import load_panel
    from cxroi.data.schema import require_valid
    from cxroi.data.synth import generate

    if scale is None:
        return load_panel(SAMPLE)[0]
    return require_valid(generate(segments=8, months=36, seed=7, scale=scale).panel)


def child(spec: dict) -> dict:
    """One measurement (run inside a fresh interpreter)."""
    started = time.perf_counter()
    from cxroi.catalogue import load_catalogue
    from cxroi.fit.design import build_design

    panel = _panel(spec.get("scale"))
    catalogue = load_catalogue()
    if spec["kind"] == "train":
        from cxroi.fit.train import TrainSettings, train
        from cxroi.manifest import SamplerConfig

        with tempfile.TemporaryDirectory() as models:
            sampler = SamplerConfig(draws=spec["draws"], tune=spec["tune"], chains=spec["chains"])
            settings = TrainSettings(family=spec["family"], seed=1, sampler=sampler,
                                     survey_error=spec.get("survey_error", True))
            outcome = train(panel, settings, models_dir=models, promote=False)
            size = sum(p.stat().st_size for p in outcome.path.iterdir())
        m = outcome.manifest
        return {"wall": time.perf_counter() - started, "passed": m.health.passed,
                "max_rhat": m.diagnostics.max_rhat, "min_ess_bulk": m.diagnostics.min_ess_bulk,
                "divergences": m.diagnostics.divergences, "bytes": size}
    design = build_design(panel, catalogue)
    if spec["kind"] == "regression":
        t0 = time.perf_counter()
        import statsmodels.api  # noqa: F401

        from cxroi.fit.regression import RegressionModel

        imported = time.perf_counter() - t0
        t0 = time.perf_counter()
        RegressionModel(n_draws=4000, seed=1).fit(design, catalogue)
        return {"wall": time.perf_counter() - t0, "import": imported}
    with_import = time.perf_counter()
    import nutpie  # noqa: F401
    import pymc  # noqa: F401

    from cxroi.fit.bayes import BayesModel

    imported = time.perf_counter() - with_import
    model = BayesModel(draws=spec["draws"], tune=spec["tune"], chains=spec["chains"], seed=1,
                       name=spec["sampler"], parameterization=spec["parameterization"],
                       survey_error=spec.get("survey_error", True))
    t0 = time.perf_counter()
    fit = model.fit(design, catalogue)
    wall = time.perf_counter() - t0
    c = fit.convergence
    return {"wall": wall, "import": imported, "max_rhat": c["max_rhat"], "min_ess_bulk": c["min_ess_bulk"],
            "divergences": c["divergences"], "ess_per_s": c["min_ess_bulk"] / wall}


def run_child(spec: dict, cold_cache: bool = False) -> dict:
    """Run one measurement in a fresh interpreter; ``cold_cache`` gives PyTensor an empty compile
    cache (a first run on a new machine) instead of the user's warm one."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    with tempfile.TemporaryDirectory() as cache:
        if cold_cache:
            env["PYTENSOR_FLAGS"] = f"base_compiledir={cache}"
        out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True,
                             text=True, cwd=ROOT, env=env)
    if out.returncode != 0:
        raise SystemExit(f"child {spec} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def recovery(seeds: list[int], settings: dict) -> int:
    """Coverage of 90 % intervals of the churn and ARPU effects over segment × parameter pairs
    (8 segments × 36 months, no spend columns, production sampler settings), one fit per seed."""
    import numpy as np

    from cxroi.catalogue import load_catalogue
    from cxroi.data.schema import require_valid
    from cxroi.data.synth import generate
    from cxroi.fit.bayes import BayesModel
    from cxroi.fit.design import build_design
    from cxroi.fit.diagnostics import interval

    catalogue = load_catalogue()
    model = BayesModel(seed=1, **settings)
    names = ("churn_csat", "churn_nps", "arpu_csat")
    covered: dict[str, list[bool]] = {name: [] for name in names}
    print("| seed | " + " | ".join(names) + " | max R-hat | divergences |")
    print("|---|" + "---:|" * (len(names) + 2))
    for seed in seeds:
        result = generate(segments=8, months=36, seed=seed)
        panel = require_valid(result.panel.loc[:, ~result.panel.columns.str.startswith("spend_")])
        design = build_design(panel, catalogue)
        fit = model.fit(design, catalogue)
        cells = []
        for name in names:
            low, high = interval(fit.draws[name], 0.90)
            true = np.array([result.truth["segment_parameters"][s][name] for s in design.segments])
            hit = (low <= true) & (true <= high)
            covered[name].extend(hit)
            cells.append(f"{hit.sum()}/{hit.size}")
        c = fit.convergence
        print(f"| {seed} | " + " | ".join(cells) + f" | {c['max_rhat']:.4f} | {c['divergences']} |", flush=True)
    pooled = np.concatenate([np.array(v) for v in covered.values()])
    print("| all | " + " | ".join(f"{np.mean(v):.0%}" for v in covered.values())
          + f" | pooled {pooled.mean():.1%} of {pooled.size} pairs | |")
    return 0 if pooled.mean() >= 0.85 else 1


def survey_error_comparison(settings: dict, with_train: bool) -> int:
    """The previous model form (CSAT/NPS taken as exact) against the survey error model (latent
    CSAT/NPS measured with sampling error) on data/sample: the fit alone and, ``with_train``, the
    whole train (which compiles twice with survey error: the backtest window has fewer latent months)."""
    print("| model form | fit wall (s, compile incl.) | min bulk ESS | ESS/s | max R-hat | divergences "
          "| train wall (s) | health gate |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for label, on in (("scores exact (previous)", False), ("survey error (latent CSAT/NPS)", True)):
        f = run_child({"kind": "bayes", "sampler": "nutpie", "parameterization": "noncentered", "survey_error": on,
                       **settings})
        t = run_child({"kind": "train", "family": "bayes", "survey_error": on, **settings}) if with_train else None
        train = f"{t['wall']:.1f} | {'passed' if t['passed'] else 'FAILED'}" if t else "not run | "
        print(f"| {label} | {f['wall']:.1f} | {f['min_ess_bulk']:.0f} | {f['ess_per_s']:.1f} | {f['max_rhat']:.4f} | "
              f"{f['divergences']} | {train} |", flush=True)
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--no-pymc", action="store_true", help="skip the PyMC NUTS rows")
    parser.add_argument("--recovery", metavar="SEEDS", help="instead: interval coverage on synthetic data, "
                        "e.g. --recovery 1,2,3 (8 segments × 36 months, one Bayesian fit per seed)")
    parser.add_argument("--survey-error", action="store_true", help="instead: fit and train of data/sample with "
                        "and without the survey error model, side by side")
    parser.add_argument("--fit-only", action="store_true", help="with --survey-error: skip the two train runs")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child)), default=float))
        return 0
    settings = {"draws": args.draws, "tune": args.tune, "chains": args.chains}
    if args.recovery:
        return recovery([int(seed) for seed in args.recovery.split(",")], settings)
    if args.survey_error:
        print(f"load average at start: {os.getloadavg()[0]:.1f}; {os.cpu_count()} cores; "
              f"{args.chains} chains × ({args.tune} tune + {args.draws} draws)\n")
        return survey_error_comparison(settings, with_train=not args.fit_only)
    print(f"load average at start: {os.getloadavg()[0]:.1f}; {os.cpu_count()} cores; "
          f"{args.chains} chains × ({args.tune} tune + {args.draws} draws)\n")

    print("| sampler | parameterisation | compile cache | fit wall (s, compile incl.) | min bulk ESS | ESS/s "
          "| max R-hat | divergences |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    runs = [("nutpie", p, False) for p in ("noncentered", "centered")]
    if not args.no_pymc:
        runs += [("pymc", "noncentered", True)] + [("pymc", p, False) for p in ("noncentered", "centered")]
    for sampler, parameterization, cold in runs:
        r = run_child({"kind": "bayes", "sampler": sampler, "parameterization": parameterization, **settings}, cold)
        cache = "none (numba)" if sampler == "nutpie" else "cold" if cold else "warm"
        print(f"| {sampler} | {parameterization} | {cache} | {r['wall']:.1f} | {r['min_ess_bulk']:.0f} | "
              f"{r['ess_per_s']:.1f} | {r['max_rhat']:.4f} | {r['divergences']} |", flush=True)

    print("\n| pipeline | wall (s) | health gate | max R-hat | min bulk ESS | divergences | artifact (MB) |")
    print("|---|---:|---|---:|---:|---:|---:|")
    results = {}
    for family in ("bayes", "regression"):
        r = results[family] = run_child({"kind": "train", "family": family, **settings})
        print(f"| `cxroi train --family {family}` (imports, fit, backtest refit, gate, artifact) | {r['wall']:.1f} | "
              f"{'passed' if r['passed'] else 'FAILED'} | {r['max_rhat']:.4f} | {r['min_ess_bulk']:.0f} | "
              f"{r['divergences']} | {r['bytes'] / 1e6:.1f} |", flush=True)
    regression = run_child({"kind": "regression"})
    print(f"| regression fit only (3 GLMs, lifts, 4000 draws; statsmodels import {regression['import']:.1f} s "
          f"not included) | {regression['wall']:.2f} | | | | | |")

    print("\n| customers per segment (median) | Bayesian fit wall (s, compile incl.) | min bulk ESS | regression fit (s) |")
    print("|---|---:|---:|---:|")
    for label, scale in SCALES.items():
        b = run_child({"kind": "bayes", "sampler": "nutpie", "parameterization": "noncentered", "scale": scale, **settings})
        r = run_child({"kind": "regression", "scale": scale})
        print(f"| {label} | {b['wall']:.1f} | {b['min_ess_bulk']:.0f} | {r['wall']:.2f} |", flush=True)

    met = (results["bayes"]["wall"] <= GOAL_TRAIN_S and results["bayes"]["passed"]
           and regression["wall"] <= GOAL_REGRESSION_S)
    print(f"\ngoals (train ≤ {GOAL_TRAIN_S:.0f} s with the gate passed, regression fit ≤ {GOAL_REGRESSION_S:.0f} s): "
          f"{'met' if met else 'MISSED'}; load average at end: {os.getloadavg()[0]:.1f}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
