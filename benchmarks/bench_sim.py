"""Benchmark: scenario simulation and budget optimisation on 4 000 draws × 12 segments × 60 months.

    .venv/bin/python benchmarks/bench_sim.py [--draws 4000] [--segments 12] [--months 60] [--repeat 21]

In one run, side by side:

1. the engine (cxroi.sim) on one scenario reaching every segment — baseline cached per model and
   horizon, as in the app — with the numpy kernel and with the fused compiled kernel on one thread
   and on its default threads (``CXROI_SIM_THREADS``, else 2), alternating call by call, each timed as the median of ``--repeat`` runs: a run (per-draw NPV by
   segment, monthly cash flow of all segments, incremental revenue, terminal value); a run plus
   the per-draw NPV, ROI, payback, discounted payback and IRR; a run plus its monthly paths per
   segment; a run plus the split by lever; a run of a scenario reaching 3 segments; and a run on
   one draw (what does not grow with the draws); and, each in a fresh process, the fused kernel's
   compile with an empty numba cache and its load from a warm one;
2. the same forecast with PyMC: a model whose Deterministics are the engine's equations,
   evaluated on the same posterior draws by ``pm.sample_posterior_predictive`` — returning what
   a run returns (NPV, incremental revenue, monthly cash flow of all segments), and also
   returning the monthly paths per segment (customers, churned, new customers, revenue, cash
   flow). Each is timed as the median of ``--pymc-repeat`` calls after PyMC's first call in the
   process (which compiles PyTensor's C code and is reported apart). P10/P50/P90 of NPV,
   incremental revenue and monthly cash flow must agree within Monte Carlo error (2 bootstrap
   standard errors); the paths are compared draw by draw;
3. the optimiser on 12 segments × 5 initiatives (expected NPV), including the final simulation of
   the plan on all draws;
4. peak resident memory of the engine and optimiser part (before PyMC is imported).

Every timing is wall-clock time, and beside it the CPU time of the process over the same calls
(all its threads; not the time other programs held the core), so a run on a busy machine shows
how much of its time was waiting. Goals, on wall-clock time (what a user waits for): a run's
median ≤ 5 ms with the fused kernel; that is ≥ 100× faster than PyMC's median for the same
outputs; optimiser ≤ 1 s; peak memory ≤ 1 GiB. Exit status 1 when one is missed.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from cxroi.sim import fused
from cxroi.sim.compiled import FUSED
from cxroi.sim.engine import Simulator, simulator_for
from cxroi.sim.optimise import AllocationProblem
from cxroi.sim.scenario import Scenario
from cxroi.testing.artifacts import plausible_artifact

GOALS = {"engine_ms": 5.0, "speedup": 100.0, "optimiser_s": 1.0, "memory_gib": 1.0}
QUANTILES = (0.1, 0.5, 0.9)


def benchmark_scenario(segments: list[str], months: int) -> Scenario:
    """Two investments covering every segment, a third starting later; terminal value on."""
    half = len(segments) // 2
    return Scenario.model_validate({
        "name": "Benchmark: three initiatives across all segments",
        "investments": [
            {"initiative": "I1", "segments": segments[:half], "duration_months": 24, "monthly_spend": 10_000,
             "one_off_cost": 250_000},
            {"initiative": "I2", "segments": segments[half:], "duration_months": months, "monthly_spend": 8_000,
             "one_off_cost": 150_000},
            {"initiative": "I3", "segments": segments[::3], "start_month": 7, "duration_months": 18,
             "monthly_spend": 15_000},
        ],
        "horizon_months": months, "terminal_value": True,
        "gross_margin": {"default": 0.7, "segments": {segments[0]: 0.6}},
    })


KERNELS = ("numpy", "fused, 1 thread", "fused")  #: the last on the default threads (fused.threads())


def _median_ms(action, repeat: int) -> dict[str, tuple[float, float, float]]:
    """(median wall time, minimum wall time, median CPU time of the process) of ``repeat`` calls
    with each kernel, in milliseconds; the kernels alternate call by call, so both see the same
    load from other work. The CPU time counts every thread of the process (a kernel on two
    threads costs both) and not the time other programs held the core."""
    wall: dict[str, list[float]] = {kernel: [] for kernel in KERNELS}
    cpu: dict[str, list[float]] = {kernel: [] for kernel in KERNELS}
    default_threads = fused.threads()
    for _ in range(repeat):
        for kernel in KERNELS:
            FUSED.enabled = kernel != "numpy"
            fused.set_threads(1 if kernel == "fused, 1 thread" else default_threads)
            started, cpu_started = time.perf_counter(), time.process_time()
            action()
            wall[kernel].append(time.perf_counter() - started)
            cpu[kernel].append(time.process_time() - cpu_started)
    FUSED.enabled = True
    fused.set_threads(default_threads)
    return {kernel: (1e3 * statistics.median(wall[kernel]), 1e3 * min(wall[kernel]), 1e3 * statistics.median(cpu[kernel]))
            for kernel in KERNELS}


def fused_kernel_seconds(cache: Path) -> tuple[float, float]:
    """(import numba, import cxroi.sim.fused) in seconds, in a fresh process caching in ``cache``:
    the second is the kernel's compile when ``cache`` is empty, its load from the cache after."""
    code = ("import time; started = time.perf_counter(); import numba; imported = time.perf_counter(); "
            "import cxroi.sim.kernel; ready = time.perf_counter(); import cxroi.sim.fused; "
            "print(imported - started, time.perf_counter() - ready)")
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "NUMBA_CACHE_DIR": str(cache)},
                         check=True, capture_output=True, text=True).stdout
    numba_s, kernel_s = map(float, out.split())
    return numba_s, kernel_s


def _with_metrics(simulator: Simulator, scenario: Scenario):
    result = simulator.run(scenario)
    result.npv, result.roi, result.payback_month, result.discounted_payback_month, result.irr  # noqa: B018
    return result


def _with_paths(simulator: Simulator, scenario: Scenario):
    result = simulator.run(scenario)
    result.detail  # noqa: B018
    return result


def _with_levers(simulator: Simulator, scenario: Scenario):
    result = simulator.run(scenario)
    result.value_by_lever  # noqa: B018
    return result


def _bootstrap_se(values: np.ndarray, rng: np.random.Generator, n: int = 300) -> np.ndarray:
    """Bootstrap standard error of the P10/P50/P90 of ``values``."""
    picks = rng.integers(0, values.size, (n, values.size))
    return np.quantile(values[picks], QUANTILES, axis=1).std(axis=1)


RUN_OUTPUTS = ("npv", "incremental_revenue", "total_cash_flow")
PATH_OUTPUTS = ("customers", "churned", "new_customers", "revenue", "cash_flow")


def pymc_forecast(simulator: Simulator, scenario: Scenario,
                  outputs: tuple[str, ...]) -> tuple[dict[str, np.ndarray], float, float, float]:
    """``outputs`` (of RUN_OUTPUTS and PATH_OUTPUTS) per draw from PyMC Deterministics with the
    engine's equations, evaluated by pm.sample_posterior_predictive on the artifact's draws.
    Returns (values, wall and CPU seconds for sample_posterior_predictive, seconds to import PyMC
    and build the model)."""
    started = time.perf_counter()
    import arviz as az
    import pymc as pm
    import pytensor.tensor as pt

    from cxroi.params import PARAMETERS
    from cxroi.sim import finance

    art = simulator.artifact
    segments, horizon = simulator.segments, scenario.horizon_months
    n_seg, n_ini = len(segments), len(simulator.initiatives)
    month = np.arange(horizon)
    zc0, zn0 = simulator.zc0[:, 0], simulator.zn0[:, 0]
    t = simulator.t_next[:, 0][:, None] + month[None, :]
    rate = finance.monthly_rate(scenario.annual_discount_rate)
    discount = finance.discount_factors(rate, horizon)
    margin = simulator.gross_margin(scenario)
    spend = simulator.spend(scenario)
    c0 = simulator.customers0[:, 0]

    def customers(p, new):
        q = pt.cumprod(1.0 - p, axis=1)
        after = q * (c0[:, None] + pt.cumsum(new / q, axis=1))
        start = pt.concatenate([c0[:, None], after[:, :-1]], axis=1)
        return start, after[:, -1]

    with pm.Model() as model:
        v = {name: pm.Normal(name, 0.0, 1.0, shape=(n_seg if axis == "segment" else n_ini,))
             for name, (axis, _) in PARAMETERS.items()}
        dcsat = pt.zeros((n_seg, horizon))
        dnps = pt.zeros((n_seg, horizon))
        for inv in scenario.investments:
            i = simulator.initiatives.index(inv.initiative)
            x = inv.monthly_spend / float(simulator.settings[inv.initiative].monthly_cost)
            k = month - (inv.start_month - 1) + 1  # months since the start, inclusive
            lam = v["lift_carryover"][i]
            during = x * (1.0 - lam ** np.clip(k, 0, None))
            after = x * (1.0 - lam**inv.duration_months) * lam ** np.clip(k - inv.duration_months, 0, None)
            level = pt.switch(k < 1, 0.0, pt.switch(k <= inv.duration_months, during, after))
            ksat = simulator.saturation_k(inv.initiative)
            share = level * (1.0 + ksat) / (level + ksat)
            felt = pt.concatenate([pt.zeros(simulator.lag), share[: horizon - simulator.lag]])
            reached = np.isin(segments, inv.segments).astype(float)[:, None]
            dcsat = dcsat + reached * v["lift_csat"][i] * felt[None, :]
            dnps = dnps + reached * v["lift_nps"][i] * felt[None, :]
        logit0 = v["churn_intercept"] + v["churn_csat"] * zc0 + v["churn_nps"] * zn0
        p0 = pt.sigmoid(logit0)[:, None] * pt.ones((1, horizon))
        p1 = pt.sigmoid(logit0[:, None] + (v["churn_csat"][:, None] * dcsat + v["churn_nps"][:, None] * dnps) / 10)
        arpu0 = pt.exp(v["arpu_intercept"][:, None] + v["arpu_trend"][:, None] * t + (v["arpu_csat"] * zc0)[:, None])
        arpu1 = arpu0 * pt.exp(v["arpu_csat"][:, None] * dcsat / 10)
        new0 = pt.exp(v["acq_intercept"][:, None] + v["acq_trend"][:, None] * t + (v["acq_nps"] * zn0)[:, None])
        new1 = new0 * pt.exp(v["acq_nps"][:, None] * dnps / 10)
        cust0, end0 = customers(p0, new0)
        cust1, end1 = customers(p1, new1)
        revenue0 = arpu0 * (cust0 * (1 - p0 / 2) + new0 / 2)
        revenue1 = arpu1 * (cust1 * (1 - p1 / 2) + new1 / 2)
        cash_flow = (revenue1 - revenue0) * margin[:, None] - spend
        retention = 1.0 - p0[:, -1]
        terminal = ((end1 - end0) * arpu0[:, -1] * margin * retention / (1 + rate - retention)).sum()
        pm.Deterministic("npv", (cash_flow * discount[None, :]).sum() + terminal * (1 + rate) ** -horizon)
        pm.Deterministic("incremental_revenue", (revenue1 - revenue0).sum())
        pm.Deterministic("total_cash_flow", cash_flow.sum(axis=0))
        paths = {"customers": cust1, "churned": cust1 * p1, "new_customers": new1, "revenue": revenue1,
                 "cash_flow": cash_flow}  # segments × months per draw
        for name in PATH_OUTPUTS:
            if name in outputs:
                pm.Deterministic(name, paths[name])
    posterior = az.from_dict(posterior={name: art.draws[name][None] for name in PARAMETERS})
    build_seconds = time.perf_counter() - started
    started, cpu_started = time.perf_counter(), time.process_time()
    predictive = pm.sample_posterior_predictive(posterior, model=model, var_names=list(outputs), progressbar=False,
                                                random_seed=1)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    group = predictive.posterior_predictive
    values = {name: np.asarray(group[name]).reshape(art.n_draws, *group[name].shape[2:]) for name in outputs}
    return values, seconds, cpu_seconds, build_seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=4000)
    parser.add_argument("--segments", type=int, default=12)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--pymc-repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"1-minute load average at start: {os.getloadavg()[0]:.1f} (2 cores)")
    with tempfile.TemporaryDirectory(prefix="cxroi-bench-numba-") as cache:
        _, compile_s = fused_kernel_seconds(Path(cache))
        numba_s, load_s = fused_kernel_seconds(Path(cache))
    if FUSED.wait() is None:
        print("the fused kernel is unavailable (see the warning above)")
        return 1

    with tempfile.TemporaryDirectory(prefix="cxroi-bench-sim-") as folder:
        artifact = plausible_artifact(Path(folder), model_id="bayes-bench-sim", n_draws=args.draws,
                                      n_segments=args.segments, n_initiatives=5)
        simulator = simulator_for(artifact)  # the cached simulator the app and the optimiser share
        scenario = benchmark_scenario(list(artifact.segments), args.months)
        started = time.perf_counter()
        simulator.baseline(args.months)
        simulator.baseline_paths(args.months)
        baseline_ms = 1e3 * (time.perf_counter() - started)
        reached_3 = Scenario.model_validate({**scenario.model_dump(), "investments": [
            {**scenario.investments[0].model_dump(), "segments": list(artifact.segments[:3])}]})
        _median_ms(lambda: simulator.run(scenario), 1)  # warm-up
        timings = {
            "run": _median_ms(lambda: simulator.run(scenario), args.repeat),
            "metrics": _median_ms(lambda: _with_metrics(simulator, scenario), args.repeat),
            "paths": _median_ms(lambda: _with_paths(simulator, scenario), args.repeat),
            "levers": _median_ms(lambda: _with_levers(simulator, scenario), args.repeat),
            "small": _median_ms(lambda: simulator.run(reached_3), args.repeat),
        }
        one_draw = Simulator(artifact, draw_index=np.zeros(1, dtype=int))  # what is not proportional to draws
        _median_ms(lambda: one_draw.run(scenario), 1)
        timings["one_draw"] = _median_ms(lambda: one_draw.run(scenario), args.repeat)
        result = _with_metrics(simulator, scenario)

        problem = AllocationProblem.of(artifact, horizon_months=args.months)
        budget = problem.one_off + 0.5 * problem.upper.sum() * problem.duration
        started, cpu_started = time.perf_counter(), time.process_time()
        plan = problem.solve(budget)
        optimiser_s, optimiser_cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
        peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

        _, pymc_cold_s, _, pymc_build_s = pymc_forecast(simulator, scenario, RUN_OUTPUTS)  # first call: compiles
        warm = [pymc_forecast(simulator, scenario, RUN_OUTPUTS) for _ in range(args.pymc_repeat)]
        pymc_run, pymc_run_s = warm[-1][0], statistics.median(seconds for _, seconds, _, _ in warm)
        pymc_run_cpu_s = statistics.median(cpu for _, _, cpu, _ in warm)
        warm = [pymc_forecast(simulator, scenario, RUN_OUTPUTS + PATH_OUTPUTS) for _ in range(args.pymc_repeat)]
        pymc_paths, pymc_paths_s = warm[-1][0], statistics.median(seconds for _, seconds, _, _ in warm)

    rng = np.random.default_rng(0)
    comparison = []
    for name, ours in (("npv", result.npv), ("incremental_revenue", result.incremental_revenue_by_segment.sum(axis=1))):
        q_ours, q_pymc = np.quantile(ours, QUANTILES), np.quantile(pymc_run[name], QUANTILES)
        se = _bootstrap_se(ours, rng)
        comparison.append((name, q_ours, q_pymc, se, bool(np.all(np.abs(q_ours - q_pymc) <= 2 * se))))
    # every month's cash flow (all segments): the largest quantile gap in units of 2 bootstrap s.e.
    def month_gap(m: int) -> float:  # a month where every draw has the same cash flow has no s.e.
        ours, theirs = result.total_cash_flow[:, m], pymc_run["total_cash_flow"][:, m]
        tolerance = np.maximum(2 * _bootstrap_se(ours, rng, n=100), 1e-6 * np.abs(ours).max())
        return float(np.max(np.abs(np.quantile(ours, QUANTILES) - np.quantile(theirs, QUANTILES)) / tolerance))

    month_gaps = [month_gap(m) for m in range(0, args.months, max(1, args.months // 12))]
    agree = all(ok for *_, ok in comparison) and max(month_gaps) <= 1.0
    speedup = {kernel: 1e3 * pymc_run_s / timings["run"][kernel][0] for kernel in KERNELS}
    speedup_cpu = {kernel: 1e3 * pymc_run_cpu_s / timings["run"][kernel][2] for kernel in KERNELS}
    speedup_paths = {kernel: 1e3 * pymc_paths_s / timings["paths"][kernel][0] for kernel in KERNELS}
    path_gap = max(float(np.max(np.abs(getattr(result.scenario_paths, name) - pymc_paths[name])
                                / np.maximum(np.abs(pymc_paths[name]), 1.0)))
                   for name in ("customers", "churned", "new_customers", "revenue"))
    cash_gap = float(np.max(np.abs(result.cash_flow - pymc_paths["cash_flow"]))) / float(np.abs(result.cash_flow).max())

    print(f"\nforecast: {args.draws} draws × {args.segments} segments × {args.months} months, "
          f"{len(scenario.investments)} investments reaching every segment")
    print(f"{'engine, wall median (min) | CPU median of ' + str(args.repeat):<58} {'numpy kernel':>24} "
          f"{'fused, 1 thread':>24} {f'fused, {fused.threads()} threads':>24} {'ratio':>6} {'goal':>7}")
    for label, key in (("run: NPV by segment, monthly cash flow, incr. revenue, TV", "run"),
                       ("run + per-draw NPV, ROI, paybacks, IRR", "metrics"),
                       ("run + monthly paths per segment (customers … cash flow)", "paths"),
                       ("run + split by lever (Shapley, 6 lever subsets)", "levers"),
                       ("run of a scenario reaching 3 segments", "small"),
                       ("run on 1 draw (the part that does not grow with draws)", "one_draw")):
        cells = [f"{timings[key][k][0]:.1f} ({timings[key][k][1]:.1f}) | {timings[key][k][2]:.1f} ms" for k in KERNELS]
        ratio = timings[key]["numpy"][0] / timings[key]["fused"][0]
        goal = f"≤ {GOALS['engine_ms']:.0f} ms" if key == "run" else ""
        print(f"{label:<58} {cells[0]:>24} {cells[1]:>24} {cells[2]:>24} {ratio:>5.1f}× {goal:>7}")

    print(f"\n{'measure':<60} {'value':>10} {'':>9} {'goal':>9}")
    rows = [
        ("baseline (once per model and horizon, cached)", f"{baseline_ms:.0f} ms", "", ""),
        ("fused kernel: compile, empty numba cache, fresh process", f"{compile_s:.1f} s", "", ""),
        ("fused kernel: load from numba's cache, fresh process", f"{load_s:.2f} s", "", ""),
        ("  (numba import before either, not counted)", f"{numba_s:.2f} s", "", ""),
        ("PyMC sample_posterior_predictive, a run's outputs", f"{1e3 * pymc_run_s:.0f} ms",
         f"CPU {1e3 * pymc_run_cpu_s:.0f} ms", ""),
        ("PyMC sample_posterior_predictive, + paths per segment", f"{1e3 * pymc_paths_s:.0f} ms", "", ""),
        ("  (PyMC's first call in the process, not counted)", f"{1e3 * pymc_cold_s:.0f} ms", "", ""),
        ("  (PyMC import + model build, not counted)", f"{1e3 * pymc_build_s:.0f} ms", "", ""),
        ("speed-up: PyMC / run, same outputs, numpy kernel", f"{speedup['numpy']:.0f}×", "", ""),
        ("speed-up: PyMC / run, same outputs, fused kernel", f"{speedup['fused']:.0f}×", "",
         f"≥ {GOALS['speedup']:.0f}×"),
        ("speed-up: PyMC / run, same outputs, fused kernel on 1 thread", f"{speedup['fused, 1 thread']:.0f}×", "", ""),
        ("  the same by CPU time, numpy | fused kernel (not the goal's figure)",
         f"{speedup_cpu['numpy']:.0f}× | {speedup_cpu['fused']:.0f}×", "", ""),
        ("speed-up: PyMC / (run + paths), numpy | fused kernel",
         f"{speedup_paths['numpy']:.0f}× | {speedup_paths['fused']:.0f}×", "", ""),
        ("optimiser: 12 segments × 5 initiatives, expected NPV, fused", f"{optimiser_s:.2f} s",
         f"CPU {optimiser_cpu_s:.2f} s",
         f"≤ {GOALS['optimiser_s']:.0f} s"),
        ("peak memory (engine + optimiser)", f"{peak_gib:.2f} GiB", "", f"≤ {GOALS['memory_gib']:.0f} GiB"),
    ]
    for row in rows:
        print(f"{row[0]:<60} {row[1]:>10} {row[2]:>11} {row[3]:>9}")
    print("\nquantiles over draws (engine | PyMC | 2 × bootstrap s.e. of the engine's quantile)")
    for name, q_ours, q_pymc, se, ok in comparison:
        for q, a, b, e in zip(QUANTILES, q_ours, q_pymc, se, strict=True):
            print(f"  {name:<20} P{100 * q:<3.0f} {a:>16,.0f} | {b:>16,.0f} | ±{2 * e:>12,.0f}")
        print(f"  {name}: {'agree' if ok else 'DISAGREE'} within Monte Carlo error")
    print(f"  monthly cash flow, all segments, P10/P50/P90 of {len(month_gaps)} months: largest gap "
          f"{max(month_gaps):.1e} × (2 s.e.)")
    print(f"  monthly paths per draw (customers, churned, new, revenue): max relative difference {path_gap:.1e}; "
          f"cash flow: max difference {cash_gap:.1e} of the largest monthly cash flow")
    print(f"\noptimiser: objective {plan.objective_value:,.0f} on all draws; starts (value before → after, "
          f"search draws): " + "; ".join(f"{a:,.0f} → {b:,.0f}" for a, b in plan.starts))

    missed = [name for name, ok in (
        ("run median", timings["run"]["fused"][0] <= GOALS["engine_ms"]),
        ("speed-up", speedup["fused"] >= GOALS["speedup"]),
        ("optimiser", optimiser_s <= GOALS["optimiser_s"]), ("memory", peak_gib <= GOALS["memory_gib"]),
        ("agreement", agree)) if not ok]
    print("goals met" if not missed else f"goals missed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
