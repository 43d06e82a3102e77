"""Benchmark: concurrent planner sessions against one app process — slider latency and server CPU.

    .venv/bin/python benchmarks/bench_sessions.py [--sessions 1 2 4 8] [--rounds 8] [--models-dir DIR]

One ``streamlit run`` server (the app, headless, on 127.0.0.1) and Debian's headless Chromium with
one browser context (its own Streamlit session) per planner user. Every session opens the Scenario
planner and sets its own discount rate first, so no two sessions ever ask for the same scenario
(no result comes from another session's cache). Then, ``--rounds`` times, every session moves the
monthly-spend slider one step at the same moment (the key presses are sent back to back), and each
browser times its own move from the trusted ``keydown`` to the new headline metrics on screen
(``performance.now()`` in the page). The server's CPU time (user + system, /proc) over the rounds
is divided by the number of moves.

For each N in ``--sessions`` it prints median and p95 latency (ms), server CPU per move (ms) and
whether p95 ≤ 1 s; at the end the largest N whose p95 stays within 1 s. Exit status 1 when even
one session misses that. The browser runs on the same cores as the server, so on a small machine
the figures include the browser's own rendering work.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench_app import (  # the shared browser timing of one move (benchmarks/ is on the path)
    ARM,
    SPEND,
    cpu_seconds,
)

from cxroi import registry
from cxroi.testing.artifacts import truth_champion
from cxroi.testing.browser import (
    chromium,
    free_port,
    metric_value,
    open_page,
    slider_thumb,
    start_server,
    stop_server,
    wait_idle,
)

GOAL_MS = 1000.0
RATE = "Discount rate (% per year)"


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def measure(browser, url: str, pid: int, sessions: int, rounds: int) -> tuple[list[float], float]:
    """Latencies (ms) of every move of ``sessions`` concurrent planner sessions over ``rounds``
    rounds, and the server's CPU milliseconds per move."""
    contexts = [browser.new_context(viewport={"width": 1440, "height": 1000}) for _ in range(sessions)]
    try:
        pages = []
        for i, context in enumerate(contexts):
            page = context.new_page()
            page.set_default_timeout(120_000)
            page.app_url = url
            open_page(page, "planner")
            metric_value(page, "NPV")
            rate = slider_thumb(page, RATE)
            for _ in range(i + 1):  # a discount rate of its own: no shared cache hits
                rate.press("ArrowRight")
                wait_idle(page, 120_000)
            pages.append(page)
        thumbs = [slider_thumb(page, SPEND) for page in pages]
        latencies = []
        cpu_before = cpu_seconds(pid)
        for _ in range(rounds):
            for page in pages:
                page.evaluate(ARM)
            for thumb in thumbs:
                thumb.press("ArrowRight")
            latencies += [float(page.evaluate("window.__latency")) for page in pages]
            for page in pages:
                wait_idle(page, 120_000)
        return latencies, 1000 * (cpu_seconds(pid) - cpu_before) / (rounds * sessions)
    finally:
        for context in contexts:
            context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 2, 4, 8], help="concurrent sessions to try")
    parser.add_argument("--rounds", type=int, default=8, help="slider moves per session")
    parser.add_argument("--models-dir", type=Path, default=registry.DEFAULT_MODELS_DIR)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cxroi-bench-sessions-") as folder:
        home = Path(folder)
        models = args.models_dir
        if registry.champion_id(models) is None:
            models = home / "models"
            truth_champion(models)
        env = {"CXROI_MODELS_DIR": str(models), "CXROI_HOME": str(home),
               "CXROI_DATABASE_URL": f"sqlite:///{home / 'cxroi.db'}"}
        port = free_port()
        process = start_server(env, port)
        results = {}
        try:
            with chromium() as browser:
                measure(browser, f"http://127.0.0.1:{port}", process.pid, 1, 2)  # warm-up: caches, kernel
                for n in args.sessions:
                    results[n] = measure(browser, f"http://127.0.0.1:{port}", process.pid, n, args.rounds)
        finally:
            stop_server(process)
    print(f"model: champion of {models}; {os.cpu_count()} cores; 1-minute load average {os.getloadavg()[0]:.1f}")
    print(f"{'sessions':>8}{'moves':>7}{'median ms':>11}{'p95 ms':>9}{'CPU ms/move':>13}  p95 ≤ 1 s")
    within = []
    for n, (latencies, cpu) in results.items():
        ok = p95(latencies) <= GOAL_MS
        within += [n] if ok else []
        print(f"{n:>8}{len(latencies):>7}{statistics.median(latencies):>11.0f}{p95(latencies):>9.0f}{cpu:>13.0f}"
              f"  {'yes' if ok else 'no'}")
    best = max(within, default=0)
    print(f"largest number of concurrent sessions with p95 ≤ 1 s per move: {best or 'none'}")
    return 0 if best else 1


if __name__ == "__main__":
    sys.exit(main())
