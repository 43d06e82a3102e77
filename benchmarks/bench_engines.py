"""Benchmark: subscriptions + survey answers → panel on DuckDB and on Spark local mode, side by
side on the same files (10 million subscription-months by default).

    .venv/bin/python benchmarks/bench_engines.py [--subscription-months 10000000] [--spark-url local[2]]

Parquet files are written into a temporary folder by DuckDB: customers with one subscription of
1–24 months starting on a random day of 2021–2023 (a fifth still running; a tenth continue with a
second, open-ended one, half of those in another segment), over 8 segments, and about one survey
answer per 10 months in force (up to the end of 2025). Each engine runs `panel_from_subscriptions` (every record check, the
aggregation, panel validation) in its own child process: wall time around the child (interpreter
start-up, imports and, for Spark, starting the JVM included), the work alone timed inside it,
and peak memory — the child's maximum resident set size from os.wait4, plus for Spark the JVM's
own peak (VmHWM) read before it stops. Both panels must be identical. No goal: the figures say
where each engine stands on one machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEGMENTS = ("SMB-EU", "MidMarket-EU", "Enterprise-EU", "Consumer-EU", "SMB-NA", "MidMarket-NA", "Enterprise-NA",
            "Consumer-NA")
#: average subscription-months per customer of the generated data (measured, for sizing)
MONTHS_PER_CUSTOMER = 22.1

FIRST_SUBSCRIPTIONS_SQL = """
CREATE TABLE first_subscriptions AS
  WITH c AS (SELECT i AS customer_id, 1 + floor(random() * 24)::INTEGER AS months,
                    DATE '2021-01-01' + floor(random() * 1095)::INTEGER AS start_date,
                    random() AS u FROM range($customers) t(i))
  SELECT customer_id, $segments[1 + customer_id % 8] AS segment, start_date, months, u,
         CASE WHEN u >= 0.1 AND u < 0.3 THEN NULL
              ELSE CAST(start_date + to_months(months) - INTERVAL 1 DAY AS DATE) END AS end_date,
         CAST(round(20 + random() * 480, 2) AS DECIMAL(18, 2)) AS mrr FROM c
"""
#: u < 0.1: a second, open-ended subscription follows the day after the first ends (u < 0.05: in
#: the next segment — an upgrade or downgrade); 0.1 ≤ u < 0.3: the first is still running
SUBSCRIPTIONS_SQL = """
COPY (
  SELECT customer_id, segment, start_date, end_date, mrr FROM first_subscriptions
  UNION ALL
  SELECT customer_id, CASE WHEN u < 0.05 THEN $segments[1 + (customer_id + 1) % 8] ELSE segment END,
         CAST(end_date + 1 AS DATE), NULL, CAST(mrr * 1.2 AS DECIMAL(18, 2))
  FROM first_subscriptions WHERE u < 0.1
) TO '{path}' (FORMAT parquet)
"""
ANSWERS_SQL = """
COPY (
  WITH s AS (SELECT customer_id, start_date,
                    date_diff('day', start_date, coalesce(end_date, DATE '2025-12-31')) + 1 AS days
             FROM '{subscriptions}')
  SELECT customer_id,
         start_date + to_days(floor(random() * days)::INTEGER) + to_seconds(floor(random() * 86400)::BIGINT)
           AS answered_at,
         CASE WHEN random() < 0.8 THEN 1 + floor(random() * 5)::TINYINT END AS csat,
         floor(random() * 11)::TINYINT AS nps
  FROM s, range(0, 1 + days // 300) r(k)
) TO '{path}' (FORMAT parquet)
"""


def write_tables(folder: Path, subscription_months: int) -> tuple[Path, Path, int, int]:
    """Write subscriptions.parquet and answers.parquet; returns their paths, the subscription-months
    (months in which some subscription is in force, summed over subscriptions) and the answers."""
    import duckdb

    subscriptions, answers = folder / "subscriptions.parquet", folder / "answers.parquet"
    with duckdb.connect() as con:
        con.execute("SELECT setseed(0.42)")
        con.execute(FIRST_SUBSCRIPTIONS_SQL,
                    {"customers": round(subscription_months / MONTHS_PER_CUSTOMER), "segments": list(SEGMENTS)})
        con.execute(SUBSCRIPTIONS_SQL.format(path=subscriptions), {"segments": list(SEGMENTS)})
        con.execute(ANSWERS_SQL.format(path=answers, subscriptions=subscriptions))
        months = con.execute(
            f"SELECT sum(date_diff('month', start_date, coalesce(end_date, DATE '2025-12-31')) + 1) "
            f"FROM '{subscriptions}'").fetchall()[0][0]
        n_answers = con.execute(f"SELECT count(*) FROM '{answers}'").fetchall()[0][0]
    return subscriptions, answers, int(months), int(n_answers)


def run_side(engine: str, url: str, subscriptions: str, answers: str, out: str) -> None:
    """Child mode: aggregate on ``engine`` (imports first, then the timed work); prints the work's
    seconds and, for Spark, the JVM's peak resident memory in bytes."""
    from cxroi.data.aggregate import write_panel
    from cxroi.data.subscriptions import panel_from_subscriptions

    jvm_peak = 0
    if engine == "spark":  # start the context here so that its JVM can be measured before it stops
        from pyspark.sql import SparkSession

        from cxroi.data.spark_engine import LOCAL_SHUFFLE_PARTITIONS

        session = (SparkSession.builder.master(url).config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.shuffle.partitions", str(LOCAL_SHUFFLE_PARTITIONS)).getOrCreate())
        session.sparkContext.setLogLevel("ERROR")
    started = time.perf_counter()
    panel, findings = panel_from_subscriptions(subscriptions, answers, engine=engine, url=url)
    if panel is None:
        raise SystemExit(f"{engine}: {[f.problem for f in findings if f.severity == 'error'][:3]}")
    write_panel(panel, out)
    seconds = time.perf_counter() - started
    if engine == "spark":
        pid = session.sparkContext._gateway.proc.pid
        status = Path(f"/proc/{pid}/status").read_text()
        jvm_peak = int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]) * 1024
        session.stop()
    print(f"\n{seconds:.6f} {jvm_peak}")


def measure(engine: str, url: str, subscriptions: Path, answers: Path, out: Path) -> tuple[float, float, int]:
    """(wall s, work s, peak bytes) of one engine in a child process."""
    command = [sys.executable, str(Path(__file__).resolve()), "--side", engine, url, str(subscriptions), str(answers),
               str(out)]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    stdout = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{engine} failed: {stdout}")
    work, jvm_peak = stdout.split()[-2:]
    return wall, float(work), usage.ru_maxrss * 1024 + int(jvm_peak)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscription-months", type=int, default=10_000_000)
    parser.add_argument("--spark-url", default="local[2]")
    parser.add_argument("--side", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side:
        run_side(*args.side)
        return 0

    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="cxroi-bench-") as folder:
        started = time.perf_counter()
        subscriptions, answers, months, n_answers = write_tables(Path(folder), args.subscription_months)
        print(f"wrote {months:,} subscription-months ({pq_rows(subscriptions):,} subscriptions) and {n_answers:,} "
              f"answers in {time.perf_counter() - started:.1f} s")
        load = os.getloadavg()[0]
        results, panels = {}, {}
        for engine, url in (("duckdb", ""), ("spark", args.spark_url)):
            out = Path(folder) / f"{engine}.parquet"
            results[engine] = measure(engine, url, subscriptions, answers, out)
            panels[engine] = pd.read_parquet(out)
        same = panels["duckdb"].equals(panels["spark"])
    print(f"\n{months:,} subscription-months, {os.cpu_count()} cores (1-minute load average {load:.1f} at the start)\n")
    print("| engine | wall, whole process (s) | of which the work (s) | peak memory (MiB) |")
    print("|---|---:|---:|---:|")
    for engine, (wall, work, peak) in results.items():
        print(f"| {engine} | {wall:.1f} | {work:.1f} | {peak / 2**20:.0f} |")
    print(f"\nidentical panels: {'yes' if same else 'NO'} ({len(panels['duckdb'])} segment-months)")
    return 0 if same else 1


def pq_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


if __name__ == "__main__":
    sys.exit(main())
