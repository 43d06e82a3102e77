"""Benchmark: aggregate customer-level records (10 million customer × month rows, Parquet) into the
panel with `cxroi data aggregate`, side by side with a plain pandas groupby of the same file.

    .venv/bin/python benchmarks/bench_aggregate.py [--rows 10000000] [--repeat 3]
    .venv/bin/python benchmarks/bench_aggregate.py --rows 100000000 --repeat 1 --no-pandas   # the 100 M goal

The Parquet file is written into a temporary folder by DuckDB (valid records: 36 months,
8 segments, ~2 % churn and acquisition, ~10 % survey answers). Each measured command runs in its
own child process; wall time is measured around it (interpreter start-up and imports included),
the child also times its work alone (after the imports), and CPU time and peak memory (maximum
resident set size) come from os.wait4. The pandas side only reads and groups (no checks, no
validation); both results are compared value for value (--no-pandas skips it: at 100 million
rows it needs more memory than the machine should give it). Exit status 1 when a goal is missed:
≤ 15 s wall for the whole process and ≤ 2 GiB peak up to 10 million rows, ≤ 60 s and ≤ 4 GiB
beyond (up to 100 million).
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

#: (most rows, wall seconds, peak bytes): the goal for a file of up to that many rows
GOALS = ((10_000_000, 15.0, 2 * 1024**3), (100_000_000, 60.0, 4 * 1024**3))
SEGMENTS = ("SMB-EU", "MidMarket-EU", "Enterprise-EU", "Consumer-EU", "SMB-NA", "MidMarket-NA", "Enterprise-NA",
            "Consumer-NA")

RECORDS_SQL = """
COPY (
  WITH r AS (SELECT i % $customers AS c, i // $customers AS m, random() AS u FROM range($rows) t(i))
  SELECT c + 1 AS customer_id,
         CAST(DATE '2023-01-01' + to_months(CAST(m AS INTEGER)) AS DATE) AS month,
         $segments[c % len($segments) + 1] AS segment,
         CAST(u >= 0.02 AS TINYINT) AS active,
         CAST(u >= 0.02 AND u < 0.04 AS TINYINT) AS churned,
         CAST(u < 0.02 AS TINYINT) AS acquired,
         CAST(round(random() * 200, 2) AS DECIMAL(18, 2)) AS revenue,
         CASE WHEN u >= 0.02 AND random() < 0.1 THEN CAST(1 + floor(random() * 5) AS TINYINT) END AS csat_response,
         CASE WHEN u >= 0.02 AND random() < 0.1 THEN CAST(floor(random() * 11) AS TINYINT) END AS nps_response
  FROM r
) TO '{path}' (FORMAT parquet)
"""


def write_records(path: Path, rows: int, months: int) -> float:
    """Write ``rows`` valid customer × month records to ``path``; returns seconds taken."""
    import duckdb

    started = time.perf_counter()
    with duckdb.connect() as con:
        con.execute("SELECT setseed(0.7)")
        con.execute(RECORDS_SQL.format(path=str(path).replace("'", "''")),
                    {"customers": -(-rows // months), "rows": rows, "segments": list(SEGMENTS)})
    return time.perf_counter() - started


def pandas_groupby(path: Path, out: Path) -> None:
    """The pandas baseline: read the whole file (Arrow-backed dtypes) and group by segment × month."""
    import pandas as pd

    df = pd.read_parquet(path, dtype_backend="pyarrow")
    df["csat_top2"] = df["csat_response"] >= 4
    df["promoter"] = df["nps_response"] >= 9
    df["detractor"] = df["nps_response"] <= 6
    g = df.groupby(["segment", "month"], sort=True).agg(
        customers_start=("active", "sum"), churned=("churned", "sum"), new_customers=("acquired", "sum"),
        revenue=("revenue", "sum"), csat_top2=("csat_top2", "sum"), csat_responses=("csat_response", "count"),
        promoters=("promoter", "sum"), detractors=("detractor", "sum"), nps_responses=("nps_response", "count"))
    g["csat"] = 100.0 * g["csat_top2"] / g["csat_responses"]
    g["nps"] = 100.0 * (g["promoters"] - g["detractors"]) / g["nps_responses"]
    g.reset_index().to_parquet(out, index=False)


def cxroi_aggregate(path: Path, out: Path) -> None:
    """The product side: the `cxroi data aggregate` command itself."""
    from cxroi.cli import main

    if main(["data", "aggregate", str(path), "--out", str(out)]):
        raise SystemExit("cxroi data aggregate failed")


def run_side(side: str, path: Path, out: Path) -> None:
    """Child mode: import what the side needs, then time only its work; prints the seconds last."""
    modules = ("cxroi.cli.data_cmd", "cxroi.data.aggregate") if side == "cxroi" else ("pandas", "pyarrow.parquet")
    for module in modules:  # imports happen before the clock starts
        importlib.import_module(module)
    work = cxroi_aggregate if side == "cxroi" else pandas_groupby
    started = time.perf_counter()
    work(path, out)
    print(f"\n{time.perf_counter() - started:.6f}")


@dataclass(frozen=True)
class Run:
    """One measured child process: wall time (start-up included), its timed work, CPU and peak memory."""

    wall: float
    work: float
    cpu: float
    peak: int  # bytes


def measure(side: str, path: Path, out: Path) -> Run:
    """Run one side in a child process and measure it (peak resident set size from os.wait4)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--side", side, str(path), str(out)]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    stdout = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"benchmark side {side} failed ({child.returncode}): {stdout}")
    return Run(wall, float(stdout.split()[-1]), usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024)


def same_panel(cxroi_out: Path, pandas_out: Path) -> bool:
    """Both sides agree on every count and score exactly, and on revenue to the cent."""
    import pandas as pd

    ours = pd.read_parquet(cxroi_out).sort_values(["segment", "period"]).reset_index(drop=True)
    theirs = pd.read_parquet(pandas_out).sort_values(["segment", "month"]).reset_index(drop=True)
    exact = ["customers_start", "churned", "new_customers", "csat_responses", "nps_responses", "csat", "nps"]
    revenue_gap = (ours["revenue"] - theirs["revenue"].astype("float64")).abs().max()
    return len(ours) == len(theirs) and all(
        (ours[c].to_numpy() == theirs[c].astype("float64").to_numpy()).all() for c in exact
    ) and revenue_gap < 0.005


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side (medians; peak memory: max)")
    parser.add_argument("--no-pandas", action="store_true", help="measure cxroi alone (very large files)")
    parser.add_argument("--side", nargs=3, metavar=("SIDE", "PARQUET", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side:
        run_side(args.side[0], Path(args.side[1]), Path(args.side[2]))
        return 0

    with tempfile.TemporaryDirectory(prefix="cxroi-bench-") as folder:
        records, cxroi_out, pandas_out = (Path(folder) / n for n in ("customers.parquet", "panel.parquet", "pandas.parquet"))
        load = os.getloadavg()[0]
        seconds = write_records(records, args.rows, args.months)
        print(f"wrote {args.rows:,} rows ({records.stat().st_size / 1e6:.0f} MB Parquet) in {seconds:.1f} s")
        sides = {"cxroi data aggregate (DuckDB; checks, aggregation, panel validation, write)": ("cxroi", cxroi_out),
                 "pandas read_parquet + groupby (no checks)": ("pandas", pandas_out)}
        if args.no_pandas:
            sides.popitem()
        results = {}
        for name, (side, out) in sides.items():
            runs = [measure(side, records, out) for _ in range(args.repeat)]
            results[name] = Run(statistics.median(r.wall for r in runs), statistics.median(r.work for r in runs),
                                statistics.median(r.cpu for r in runs), max(r.peak for r in runs))
        agree = args.no_pandas or same_panel(cxroi_out, pandas_out)

    ours, *others = results.values()
    print(f"\n{args.rows:,} customer-month rows, {os.cpu_count()} cores (1-minute load average {load:.1f} "
          f"at the start), median of {args.repeat} runs\n")
    print("| command | wall, whole process (s) | of which the work (s) | CPU (s) | peak memory (MiB) |")
    print("|---|---:|---:|---:|---:|")
    for name, run in results.items():
        print(f"| {name} | {run.wall:.2f} | {run.work:.2f} | {run.cpu:.2f} | {run.peak / 2**20:.0f} |")
    for base in others:
        print(f"| ratio pandas / cxroi | {base.wall / ours.wall:.2f}× | {base.work / ours.work:.2f}× | "
              f"{base.cpu / ours.cpu:.2f}× | {base.peak / ours.peak:.2f}× |")
        print(f"\nresults agree: {'yes' if agree else 'NO'}")
    _, goal_seconds, goal_bytes = next((g for g in GOALS if args.rows <= g[0]), GOALS[-1])
    met = ours.wall <= goal_seconds and ours.peak <= goal_bytes
    print(f"goal ≤ {goal_seconds:.0f} s (whole process) and ≤ {goal_bytes / 2**30:.0f} GiB: {'met' if met else 'MISSED'}")
    return 0 if met and agree else 1


if __name__ == "__main__":
    sys.exit(main())
