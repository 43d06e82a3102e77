"""Benchmark: the Streamlit app in a real browser — start-up to first page, and slider to metrics.

    .venv/bin/python benchmarks/bench_app.py [--starts 5] [--visits 3] [--moves 15] [--models-dir DIR] [--no-bytecode]

1. **Start → first page**, side by side with a bare Streamlit page. Headless Chromium (Debian's,
   /usr/bin/chromium) is launched first. The clock starts when ``streamlit run`` is spawned and
   stops when the page shows its first metric and the script run has finished: interpreter start,
   imports, server start, the page's first run and the browser's rendering. The app (its Overview
   page: panel read and validated, model loaded, charts built) and a bare page that only imports
   streamlit, altair and pandas and shows one metric (written to a temporary folder, served with
   the app's Streamlit settings) are started alternately, ``--starts`` times each, with a new
   server each time; the goal is on the ratio of their medians, so the machine's load cancels out.
   One start of each comes first and is not counted: it writes the servers' bytecode cache (in
   the temporary folder), as an installed app has it from its first start on. ``--no-bytecode``
   times starts that compile every module instead.
2. **Slider → metrics.** On the Scenario planner, the monthly-spend slider is moved one step with
   the keyboard ``--moves`` times (always to a new value, so no result comes from the cache). The
   browser itself times each move: from the trusted ``keydown`` event to the mutation that shows new
   headline metrics (``performance.now()`` in the page), so the figure is what a user sees.
   Each of ``--visits`` new servers also times its **first visit of the planner**: the Overview
   is opened (where every visit starts), then the planner is chosen in the side bar, and the
   clock runs from the click to the planner's headline figures shown and its run finished (the
   page's imports, the first valuation and its charts); goal ≤ 2 s (median).
3. **Slider → metrics while a retraining runs.** The same, while a Bayesian retraining of
   data/sample/panel.csv runs as the app runs one (a background job at the job runner's lower CPU
   priority, CXROI_JOB_NICE), timed once its sampler is under way (it is stopped afterwards).
   ``--no-retrain`` leaves this part out.

The model is the champion in ``--models-dir`` (default: the repository's models/). When there is no
champion the ground-truth test model (:func:`cxroi.testing.artifacts.truth_champion`) is used and
the output says so. Exit status 1 when a goal is missed: start ≤ 1.5 × the bare page's (medians),
first planner visit ≤ 2 s (median), slider ≤ 150 ms (median), slider during a retraining ≤ 300 ms (median).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cxroi import registry
from cxroi.app import jobs, retrain
from cxroi.data.readers import load_panel
from cxroi.testing.artifacts import truth_champion
from cxroi.testing.browser import (
    APP_SCRIPT,
    chromium,
    free_port,
    metric_value,
    open_page,
    slider_thumb,
    start_server,
    stop_server,
    wait_idle,
)

START_RATIO_GOAL, FIRST_VISIT_GOAL_S, SLIDER_GOAL_MS, BUSY_SLIDER_GOAL_MS = 1.5, 2.0, 150.0, 300.0
SAMPLE_PANEL = APP_SCRIPT.parent / "data" / "sample" / "panel.csv"
SAMPLER_START_TIMEOUT_S = 600
SPEND = "Monthly spend per segment"
BARE_PAGE = """import altair as alt
import pandas as pd
import streamlit as st

st.title("Bare page")
st.metric("Rows", len(pd.DataFrame({"altair": [alt.__version__]})))
"""

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


def write_bare_page(folder: Path) -> Path:
    """The bare baseline script in ``folder``, next to a copy of the app's Streamlit settings."""
    shutil.copytree(APP_SCRIPT.parent / ".streamlit", folder / ".streamlit")
    script = folder / "bare.py"
    script.write_text(BARE_PAGE, encoding="utf-8")
    return script


def bytecode_settings(folder: Path, disabled: bool) -> dict[str, str]:
    """Environment of the servers: bytecode cached under ``folder`` (written by the warm-up start,
    as an installed app has it from its first start on, whatever ``PYTHONDONTWRITEBYTECODE`` says
    here), or, when ``disabled``, never written so every module is compiled at every start."""
    if disabled:
        return {"PYTHONDONTWRITEBYTECODE": "1"}
    return {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(folder / "bytecode")}


def measure_start(browser, env: dict[str, str], script: Path) -> tuple[float, float]:
    """Seconds from spawning ``streamlit run script`` to its first page rendered in the browser,
    and the server's CPU seconds until then."""
    port = free_port()
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    started = time.perf_counter()
    process = start_server(env, port, script)
    try:
        page.goto(f"http://127.0.0.1:{port}/")
        page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=60_000)
        wait_idle(page, timeout_ms=60_000)
        return time.perf_counter() - started, cpu_seconds(process.pid)
    finally:
        page.close()
        stop_server(process)


def measure_slider(browser, env: dict[str, str], moves: int) -> tuple[list[float], float, float]:
    """Milliseconds from each slider key press to new metrics on screen, the server's mean CPU
    milliseconds per move (the whole fragment run: metrics and charts), and the seconds of the
    server's first visit of the planner, reached from the Overview through the side bar (from the
    click to its headline figures shown and the run finished: the page's imports, the first
    valuation and its charts)."""
    port = free_port()
    process = start_server(env, port)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.app_url = f"http://127.0.0.1:{port}"
    try:
        open_page(page)  # the Overview, where every visit starts
        started = time.perf_counter()
        page.locator('[data-testid="stSidebarNav"]').get_by_text("Scenario planner").click()
        metric_value(page, "NPV")
        wait_idle(page)
        first_visit = time.perf_counter() - started
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
        return latencies, 1000 * (cpu_seconds(process.pid) - cpu_before) / moves, first_visit
    finally:
        page.close()
        stop_server(process)


@contextmanager
def retraining(home: Path) -> Iterator[str]:
    """A Bayesian retraining of the sample panel started as the app starts one (job folder in
    ``home``, models written to a folder of its own), yielded once its sampler is drawing, with
    what it is doing then; stopped when the block ends."""
    panel, _ = load_panel(SAMPLE_PANEL)
    job = retrain.start_retrain(panel, SAMPLE_PANEL.name, "bayes", 7, home, home / "retrained-models")
    try:
        deadline = time.monotonic() + SAMPLER_START_TIMEOUT_S
        line = None
        while job.status() == "running" and time.monotonic() < deadline:
            line = retrain.progress(job)
            if line is not None and "sampling" in line.stage:
                break
            time.sleep(1)
        yield f"{line.stage}, {line.fraction:.0%} done" if line else f"retraining {job.status()}"
    finally:
        jobs.stop(job)


def row(measure: str, values: list[float], goal: str, ok: bool | None, digits: int) -> str:
    """One line of the results table: median, min and max of ``values``, the goal and its status."""
    status = "" if ok is None else ("ok" if ok else "MISSED")
    figures = "".join(f"{v:>10.{digits}f}" for v in (statistics.median(values), min(values), max(values)))
    return f"{measure:<36}{figures}{goal:>10}  {status}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5, help="server starts to time, each of app and bare page")
    parser.add_argument("--moves", type=int, default=15, help="slider moves to time")
    parser.add_argument("--models-dir", type=Path, default=registry.DEFAULT_MODELS_DIR)
    parser.add_argument("--visits", type=int, default=3,
                        help="servers whose first planner visit is timed (the slider is timed on each)")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="servers compile every module at every start (no bytecode cache)")
    parser.add_argument("--no-retrain", action="store_true", help="leave out the slider during a retraining")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cxroi-bench-app-") as folder:
        home = Path(folder)
        models = args.models_dir
        if registry.champion_id(models) is None:
            models = home / "models"
            truth_champion(models)
            note = f"no champion in {args.models_dir}: using the ground-truth test model"
        else:
            note = f"champion {registry.champion_id(models)} from {models}"
        env = {"CXROI_MODELS_DIR": str(models), "CXROI_HOME": str(home),
               "CXROI_DATABASE_URL": f"sqlite:///{home / 'cxroi.db'}", **bytecode_settings(home, args.no_bytecode)}
        bare = write_bare_page(home / "bare")
        app_runs, bare_runs = [], []
        with chromium() as browser:
            for script in (bare, APP_SCRIPT):  # warm-up, not counted: fills the bytecode cache
                measure_start(browser, env, script)
            for _ in range(args.starts):  # alternated, so both see the same load
                bare_runs.append(measure_start(browser, env, bare))
                app_runs.append(measure_start(browser, env, APP_SCRIPT))
            first_visits, latencies, move_cpu = [], [], []
            for _ in range(args.visits):  # a new server each time: every visit is its first
                moved, cpu, first_visit = measure_slider(browser, env, args.moves)
                first_visits.append(first_visit)
                latencies += moved
                move_cpu.append(cpu)
            busy, busy_note = [], ""
            if not args.no_retrain:
                with retraining(home) as busy_note:
                    busy, _, _ = measure_slider(browser, env, args.moves)
    app_starts, app_cpu = zip(*app_runs, strict=True)
    bare_starts, bare_cpu = zip(*bare_runs, strict=True)
    ratios = [a / b for a, b in zip(app_starts, bare_starts, strict=True)]
    ratio = statistics.median(app_starts) / statistics.median(bare_starts)
    start_ok = ratio <= START_RATIO_GOAL
    slider_ok = statistics.median(latencies) <= SLIDER_GOAL_MS
    visit_ok = statistics.median(first_visits) <= FIRST_VISIT_GOAL_S
    bytecode = "none (compiled at every start)" if args.no_bytecode else "cached by the warm-up start"
    print(f"model: {note}; bytecode: {bytecode}; 1-minute load average {os.getloadavg()[0]:.1f}")
    print(f"{'measure':<36}{'median':>10}{'min':>10}{'max':>10}{'goal':>10}  status")
    print(row("start → first page, app (s)", app_starts, "", None, 2))
    print(row("start → first page, bare page (s)", bare_starts, "", None, 2))
    print(f"{'start ratio app / bare (of medians)':<36}{ratio:>10.2f}{min(ratios):>10.2f}{max(ratios):>10.2f}"
          f"{f'{START_RATIO_GOAL:.1f}×':>10}  {'ok' if start_ok else 'MISSED'}")
    print(row("first visit of the planner (s)", first_visits, f"{FIRST_VISIT_GOAL_S:.1f}", visit_ok, 2))
    print(row("slider → metrics (ms)", latencies, f"{SLIDER_GOAL_MS:.0f}", slider_ok, 0))
    busy_ok = not busy or statistics.median(busy) <= BUSY_SLIDER_GOAL_MS
    if busy:
        print(row("slider → metrics, retraining (ms)", busy, f"{BUSY_SLIDER_GOAL_MS:.0f}", busy_ok, 0))
        print(f"  the retraining, when timing began: {busy_note}; "
              f"slowdown {statistics.median(busy) / statistics.median(latencies):.1f}× (medians)")
    print(f"server CPU to the first page (median): app {statistics.median(app_cpu):.2f} s, "
          f"bare page {statistics.median(bare_cpu):.2f} s; {statistics.mean(move_cpu):.0f} ms per slider move "
          "(whole fragment run)")
    print(f"runs: {len(app_starts)} starts each of app and bare page, {len(first_visits)} first planner visits, "
          f"{len(latencies)} slider moves; "
          "ratio min/max are of paired runs")
    return 0 if start_ok and visit_ok and slider_ok and busy_ok else 1


if __name__ == "__main__":
    sys.exit(main())
