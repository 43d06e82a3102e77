"""Benchmark: aggregate customer-level records (10 million customer × month rows, Parquet) into the
panel with `cxroi data aggregate`, side by side with a plain pandas groupby of the same file.

    .venv/bin/python benchmarks/bench_aggregate.py [--rows 10000000] [--repeat 3]

The Parquet file is written into a temporary folder by DuckDB (valid records: 36 months,
8 segments, ~2 % churn and acquisition, ~10 % survey answers). Each measured command runs in its
own child process; wall time is measured around it and peak memory is the child's maximum resident
set size (os.wait4). The pandas side only reads and groups (no checks, no validation); both results
are compared value for value. Exit status 1 when a goal (≤ 15 s wall, ≤ 2 GiB peak) is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_SECONDS = 15.0
GOAL_BYTES = 2 * 1024**3
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


def measure(command: list[str]) -> tuple[float, int]:
    """Run ``command`` as a child process; returns (wall seconds, peak resident bytes of the child)."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"benchmark command failed ({child.returncode}): {' '.join(command)}")
    return wall, usage.ru_maxrss * 1024  # Linux reports KiB


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
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side (median wall, max peak)")
    parser.add_argument("--pandas-baseline", nargs=2, metavar=("PARQUET", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.pandas_baseline:
        pandas_groupby(Path(args.pandas_baseline[0]), Path(args.pandas_baseline[1]))
        return 0

    with tempfile.TemporaryDirectory(prefix="cxroi-bench-") as folder:
        records, cxroi_out, pandas_out = (Path(folder) / n for n in ("customers.parquet", "panel.parquet", "pandas.parquet"))
        load = os.getloadavg()[0]
        seconds = write_records(records, args.rows, args.months)
        print(f"wrote {args.rows:,} rows ({records.stat().st_size / 1e6:.0f} MB Parquet) in {seconds:.1f} s")
        sides = {
            "cxroi data aggregate (DuckDB, checks + panel validation)":
                [sys.executable, "-c", "from cxroi.cli import run; run()", "data", "aggregate", str(records),
                 "--out", str(cxroi_out)],
            "pandas read_parquet + groupby (no checks)":
                [sys.executable, str(Path(__file__).resolve()), "--pandas-baseline", str(records), str(pandas_out)],
        }
        results = {}
        for name, command in sides.items():
            runs = [measure(command) for _ in range(args.repeat)]
            results[name] = (statistics.median(w for w, _ in runs), max(p for _, p in runs))
        agree = same_panel(cxroi_out, pandas_out)

    (ours_wall, ours_peak), (base_wall, base_peak) = results.values()
    print(f"\n{args.rows:,} customer-month rows, {os.cpu_count()} cores (1-minute load average {load:.1f} "
          f"at the start), median of {args.repeat} runs\n")
    print("| command | wall (s) | peak memory (MiB) |")
    print("|---|---:|---:|")
    for name, (wall, peak) in results.items():
        print(f"| {name} | {wall:.2f} | {peak / 2**20:.0f} |")
    print(f"| ratio pandas / cxroi | {base_wall / ours_wall:.2f}× | {base_peak / ours_peak:.2f}× |")
    print(f"\nresults agree: {'yes' if agree else 'NO'}")
    met = ours_wall <= GOAL_SECONDS and ours_peak <= GOAL_BYTES
    print(f"goal ≤ {GOAL_SECONDS:.0f} s and ≤ {GOAL_BYTES / 2**30:.0f} GiB: {'met' if met else 'MISSED'}")
    return 0 if met and agree else 1


if __name__ == "__main__":
    sys.exit(main())
