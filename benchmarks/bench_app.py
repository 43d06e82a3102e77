"""Benchmark: the Streamlit app in a real browser — start-up to first page, and slider to metrics.

    .venv/bin/python benchmarks/bench_app.py [--starts 3] [--moves 15] [--models-dir DIR]

1. **Start → first page.** Headless Chromium (Debian's, /usr/bin/chromium) is launched first. The
   clock starts when ``streamlit run app.py`` is spawned and stops when the Overview page shows its
   first metric and the script run has finished: interpreter start, imports, server start, the page's
   first run (panel read and validated, model loaded) and the browser's rendering. Repeated with a new
   server each time (``--starts``).
2. **Slider → metrics.** On the Scenario planner, the monthly-spend slider is moved one step with
   the keyboard ``--moves`` times (always to a new value, so no result comes from the cache). The
   browser itself times each move: from the trusted ``keydown`` event to the mutation that shows new
   headline metrics (``performance.now()`` in the page), so the figure is what a user sees.

The model is the champion in ``--models-dir`` (default: the repository's models/). When there is no
champion the ground-truth test model of tests/app/artifacts.py is used and the output says so.
Exit status 1 when a goal is missed: start ≤ 5 s (worst run), slider ≤ 300 ms (median).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from playwright.sync_api import sync_playwright  # noqa: E402

from cxroi import registry  # noqa: E402
from tests.app.artifacts import build_champion  # noqa: E402
from tests.app.browser import metric_value, open_page, slider_thumb, wait_idle  # noqa: E402
from tests.app.conftest import CHROMIUM, CHROMIUM_ARGS, free_port, start_server, stop_server  # noqa: E402

START_GOAL_S, SLIDER_GOAL_MS = 5.0, 300.0
SPEND = "Monthly spend per segment"

ARM = """() => {
    const values = () => Array.from(document.querySelectorAll('[data-testid="stMetricValue"]'))
        .map(e => e.innerText).join('|');
    const before = values();
    window.__latency = new Promise(resolve => {
        let t0 = null;
        document.addEventListener('keydown', () => { t0 = performance.now(); }, {capture: true, once: true});
        const observer = new MutationObserver(() => {
            if (t0 !== null && values() !== before) { observer.disconnect(); resolve(performance.now() - t0); }
        });
        observer.observe(document.body, {subtree: true, childList: true, characterData: true});
    });
}"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time (s) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_start(browser, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from spawning the server to the Overview page rendered in the browser, and the
    server's CPU seconds until then."""
    port = free_port()
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    started = time.perf_counter()
    process = start_server(env, port)
    try:
        page.goto(f"http://127.0.0.1:{port}/")
        page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=60_000)
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=60_000)
        return time.perf_counter() - started, cpu_seconds(process.pid)
    finally:
        page.close()
        stop_server(process)


def measure_slider(browser, env: dict[str, str], moves: int) -> tuple[list[float], float]:
    """Milliseconds from each slider key press to new metrics on screen, and the server's mean
    CPU milliseconds per move (the whole fragment run: metrics and charts)."""
    port = free_port()
    process = start_server(env, port)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.app_url = f"http://127.0.0.1:{port}"
    try:
        open_page(page, "planner")
        metric_value(page, "NPV")
        thumb = slider_thumb(page, SPEND)
        thumb.press("ArrowRight")  # warm-up: first fragment run
        wait_idle(page)
        latencies = []
        cpu_before = cpu_seconds(process.pid)
        for _ in range(moves):
            page.evaluate(ARM)
            thumb.press("ArrowRight")
            latencies.append(float(page.evaluate("window.__latency")))
            wait_idle(page)
        return latencies, 1000 * (cpu_seconds(process.pid) - cpu_before) / moves
    finally:
        page.close()
        stop_server(process)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3, help="server starts to time")
    parser.add_argument("--moves", type=int, default=15, help="slider moves to time")
    parser.add_argument("--models-dir", type=Path, default=registry.DEFAULT_MODELS_DIR)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cxroi-bench-app-") as folder:
        home = Path(folder)
        models = args.models_dir
        if registry.champion_id(models) is None:
            models = home / "models"
            build_champion(models)
            note = f"no champion in {args.models_dir}: using the ground-truth test model"
        else:
            note = f"champion {registry.champion_id(models)} from {models}"
        env = {"CXROI_MODELS_DIR": str(models), "CXROI_HOME": str(home),
               "CXROI_DATABASE_URL": f"sqlite:///{home / 'cxroi.db'}"}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            starts, start_cpu = zip(*(measure_start(browser, env) for _ in range(args.starts)), strict=True)
            latencies, move_cpu = measure_slider(browser, env, args.moves)
            browser.close()
    start_ok = max(starts) <= START_GOAL_S
    slider_ok = statistics.median(latencies) <= SLIDER_GOAL_MS
    load = os.getloadavg()[0]
    print(f"model: {note}; 1-minute load average {load:.1f}")
    print(f"{'measure':<32}{'median':>10}{'min':>10}{'max':>10}{'goal':>10}  status")
    print(f"{'start → first page (s)':<32}{statistics.median(starts):>10.2f}{min(starts):>10.2f}"
          f"{max(starts):>10.2f}{START_GOAL_S:>10.1f}  {'ok' if start_ok else 'MISSED'}")
    print(f"{'slider → metrics (ms)':<32}{statistics.median(latencies):>10.0f}{min(latencies):>10.0f}"
          f"{max(latencies):>10.0f}{SLIDER_GOAL_MS:>10.0f}  {'ok' if slider_ok else 'MISSED'}")
    print(f"server CPU: {statistics.median(start_cpu):.2f} s to the first page (median), "
          f"{move_cpu:.0f} ms per slider move (whole fragment run)")
    print(f"runs: {len(starts)} starts, {len(latencies)} slider moves")
    return 0 if start_ok and slider_ok else 1


if __name__ == "__main__":
    sys.exit(main())
