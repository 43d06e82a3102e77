"""Benchmark: export one forecast of 4 000 draws × 12 segments × 60 months to XLSX, Parquet and CSV.

    .venv/bin/python benchmarks/bench_export.py [--draws 4000] [--segments 12] [--months 60] [--repeat 3]

A plausible model artifact (tests/sim/artifacts.py) is written to a temporary folder and the
scenario is simulated with the real engine. Every measured export starts from a freshly simulated
result (so the per-draw metrics — NPV, ROI, payback, IRR — and the quantiles over draws are
computed inside the timing, as in ``cxroi forecast``) and covers building the tables and writing
the file atomically. One untimed warm-up export per format loads the writer modules first.
Reported: median and minimum wall time per format, file size, rows (of the long table; for XLSX
of the Monthly forecast sheet). Exit status 1 when a goal
(XLSX ≤ 5 s, Parquet ≤ 1 s, medians) is missed; CSV has no goal and is shown for comparison.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from cxroi.export import export_forecast
from cxroi.export.tables import MONTHLY_METRICS
from cxroi.sim.engine import simulate
from cxroi.sim.scenario import Scenario
from cxroi.testing.artifacts import plausible_artifact

GOALS = {"xlsx": 5.0, "parquet": 1.0, "csv": None}


def _scenario(segments: list[str], months: int) -> Scenario:
    half = len(segments) // 2
    return Scenario.model_validate({
        "name": "Benchmark: portal and premium support",
        "investments": [
            {"initiative": "I1", "segments": segments[:half], "duration_months": min(24, months),
             "monthly_spend": 10_000, "one_off_cost": 250_000},
            {"initiative": "I2", "segments": segments[half:], "start_month": 1, "duration_months": months,
             "monthly_spend": 8_000, "one_off_cost": 150_000},
        ],
        "horizon_months": months,
        "terminal_value": True,
    })


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, default=4000)
    parser.add_argument("--segments", type=int, default=12)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="cxroi-bench-export-") as folder:
        folder = Path(folder)
        artifact = plausible_artifact(folder / "models", model_id="bayes-bench-export", n_draws=args.draws,
                                      n_segments=args.segments, n_initiatives=2)
        scenario = _scenario(artifact.segments, args.months)
        started = time.perf_counter()
        result = simulate(scenario, artifact)
        simulate_seconds = time.perf_counter() - started
        print(f"forecast: {result.n_draws} draws × {len(result.segments)} segments × {result.horizon} months "
              f"(simulated in {simulate_seconds:.2f} s, not part of the export timings); "
              f"1-minute load average {os.getloadavg()[0]:.1f}")
        print(f"{'format':<8} {'median s':>9} {'min s':>7} {'goal s':>7} {'size MB':>8} {'rows':>8}  status")
        missed = []
        for fmt, goal in GOALS.items():
            target = folder / f"forecast.{fmt}"
            export_forecast(simulate(scenario, artifact), target, fmt)  # warm-up: imports, caches
            seconds = []
            for _ in range(args.repeat):
                fresh = simulate(scenario, artifact)
                started = time.perf_counter()
                export_forecast(fresh, target, fmt)
                seconds.append(time.perf_counter() - started)
            median = statistics.median(seconds)
            rows = (len(result.segments) + 1) * result.horizon * (1 if fmt == "xlsx" else len(MONTHLY_METRICS) * 3)
            status = "—" if goal is None else ("ok" if median <= goal else "MISSED")
            if status == "MISSED":
                missed.append(fmt)
            print(f"{fmt:<8} {median:>9.3f} {min(seconds):>7.3f} {'' if goal is None else f'{goal:.1f}':>7} "
                  f"{target.stat().st_size / 1e6:>8.2f} {rows:>8}  {status}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
