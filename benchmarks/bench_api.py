"""Benchmark: the HTTP API under load — 50 concurrent clients simulating a saved scenario against
``cxroi serve --workers 2`` — beside the same number of sequential calls through the service layer
in one process.

    .venv/bin/python benchmarks/bench_api.py [--clients 50] [--seconds 60] [--workers 2]
                                             [--models-dir DIR] [--scenario FILE]

The model is the champion of ``--models-dir`` (default: the repository's models/, the shipped
model trained on data/sample) and the scenario ``--scenario`` (default: data/scenarios/
retention_proactive_success.yaml), saved once in a temporary store that the server uses. The server
runs in local mode on 127.0.0.1 (no token check: this measures the service and the HTTP layer).
Each worker is warmed up first (its first request loads the model and simulates; a worker keeps
results of the scenarios it simulated, so later requests for the same saved version serve the
kept result and build the response from it).

Then ``--clients`` clients (one asyncio task each, one HTTP connection each) send
``GET /scenarios/{name}/simulation`` back to back for ``--seconds`` seconds. Reported: requests,
errors (any status other than 200, or a failed connection), throughput (requests/s), p50/p95/max
latency (ms). The in-process side makes the same number of sequential calls of
``cxroi.service.simulation.simulate`` on the same saved version (one process, warm), timing each
alone and with the API's response body built from it (``SimulationOut.of``). Exit status 1 when
any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import httpx

from cxroi import registry
from cxroi.api.schemas import SimulationOut
from cxroi.service import Context
from cxroi.service.identity import LOCAL_USER
from cxroi.service.scenarios import save_scenario
from cxroi.service.simulation import simulate
from cxroi.service.types import ScenarioRef
from cxroi.sim.scenario import load_scenario
from cxroi.testing.api_server import start_api
from cxroi.testing.browser import free_port, stop_server

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SCENARIO = REPO / "data" / "scenarios" / "retention_proactive_success.yaml"
WARM_UP_REQUESTS = 12


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0–1, nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def describe(label: str, latencies_ms: list[float], seconds: float | None, errors: int) -> str:
    """One row of the report; ``seconds`` of wall time (None: the sum of the latencies)."""
    seconds = seconds if seconds is not None else sum(latencies_ms) / 1000
    return (f"{label:<44} {len(latencies_ms) + errors:>7} {errors:>6} {len(latencies_ms) / seconds:>9.1f} "
            f"{percentile(latencies_ms, 0.5):>8.1f} {percentile(latencies_ms, 0.95):>8.1f} "
            f"{max(latencies_ms):>8.1f}")


async def load(url: str, path: str, clients: int, seconds: float) -> tuple[list[float], int, float]:
    """Latencies (ms) of successful requests, the error count and the wall time of the run."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=url, timeout=120,
                                     limits=httpx.Limits(max_connections=1)) as http:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                try:
                    response = await http.get(path)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append((time.perf_counter() - start) * 1000)
                else:
                    errors += 1

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, errors, time.perf_counter() - began


def in_process(ctx: Context, name: str, version: int, calls: int) -> tuple[list[float], list[float]]:
    """Per-call ms of ``calls`` sequential service simulations, alone and with a response body
    built from each (always built anew, as the API does the first time it answers for a result)."""
    ref = ScenarioRef(name, version)
    simulate(ctx, LOCAL_USER, ref)  # warm, like the server's workers
    alone, with_body = [], []
    for _ in range(calls):
        start = time.perf_counter()
        simulation = simulate(ctx, LOCAL_USER, ref)
        middle = time.perf_counter()
        SimulationOut.of(simulation)
        end = time.perf_counter()
        alone.append((middle - start) * 1000)
        with_body.append((end - start) * 1000)
    return alone, with_body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--models-dir", type=Path, default=Path(registry.DEFAULT_MODELS_DIR))
    parser.add_argument("--scenario", type=Path, default=DEFAULT_SCENARIO)
    args = parser.parse_args(argv)

    home = Path(tempfile.mkdtemp(prefix="cxroi-bench-api-"))
    env = {"CXROI_HOME": str(home), "CXROI_MODELS_DIR": str(args.models_dir.resolve()),
           "CXROI_DATABASE_URL": f"sqlite:///{home / 'cxroi.db'}", "CXROI_LOG_LEVEL": "warning"}
    ctx = Context.from_environment(models_dir=env["CXROI_MODELS_DIR"], database_url=env["CXROI_DATABASE_URL"])
    saved = save_scenario(ctx, LOCAL_USER, load_scenario(args.scenario))
    path = f"/scenarios/{saved.name}/simulation?version={saved.version}"
    print(f"model {ctx.champion_id()}, scenario '{saved.name}' v{saved.version}; {args.clients} clients for "
          f"{args.seconds:g} s against cxroi serve --workers {args.workers}", flush=True)

    port = free_port()
    server = start_api(env, port, workers=args.workers, log=home / "serve.log")
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=300) as http:  # every worker loads the model once
            for _ in range(WARM_UP_REQUESTS):
                http.get(path).raise_for_status()
        latencies, errors, wall = asyncio.run(load(url, path, args.clients, args.seconds))
    finally:
        stop_server(server)
    calls = len(latencies) + errors
    alone, with_body = in_process(ctx, saved.name, saved.version, calls)
    ctx.close()

    print(f"\n{'':<44} {'calls':>7} {'errors':>6} {'per s':>9} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    print(describe(f"API, {args.clients} concurrent clients, {args.workers} workers", latencies, wall, errors))
    print(describe("service in process, sequential", alone, None, 0))
    print(describe("service in process + response body, sequential", with_body, None, 0))
    if errors:
        print(f"{errors} requests failed (see {home / 'serve.log'})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
