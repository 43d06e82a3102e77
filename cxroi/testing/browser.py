"""Serve a Streamlit script (the app by default) on a free port and drive it in headless Chromium.

Shared by the browser tests (``tests/app``) and ``benchmarks/bench_app.py``. Playwright is a test
dependency only, so it is imported inside the functions that need it: importing this module
works without it.

Pages handed to :func:`open_page` carry the server's base URL as ``page.app_url``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

REPO = Path(__file__).resolve().parents[2]
APP_SCRIPT = REPO / "app.py"
CHROMIUM = os.environ.get("CXROI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START_TIMEOUT_S = 60
#: the app element once the script (or fragment) run triggered last has finished
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env_extra: dict[str, str], port: int, script: Path = APP_SCRIPT) -> subprocess.Popen:
    """``streamlit run <script>`` headless on ``port``, from the script's folder (so its
    ``.streamlit/config.toml`` applies) with ``env_extra`` added to the environment; returns once
    ``/_stcore/health`` says ok (at most :data:`SERVER_START_TIMEOUT_S` seconds)."""
    env = {**os.environ, **env_extra}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script.name, "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=script.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as response:
                if response.read().decode().strip() == "ok":
                    return process
        except OSError:
            time.sleep(0.2)
    stop_server(process)
    raise RuntimeError(f"streamlit did not answer /_stcore/health within {SERVER_START_TIMEOUT_S} s")


def stop_server(process: subprocess.Popen) -> None:
    """Terminate a server from :func:`start_server` (killed after 10 s) and reap it."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Debian Chromium (:data:`CHROMIUM`; the browser bundled with Playwright is not
    used), closed on exit."""
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"{CHROMIUM} not found: install it with `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def wait_idle(page: Page, timeout_ms: float = 30_000) -> None:
    """Wait until the script (or fragment) run triggered last has finished."""
    page.wait_for_timeout(50)
    page.wait_for_selector(IDLE, timeout=timeout_ms)


def open_page(page: Page, url_path: str = "") -> None:
    """Load ``/<url_path>`` of the app at ``page.app_url`` and wait for its first run to finish."""
    page.goto(f"{page.app_url}/{url_path}")
    page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=30_000)
    wait_idle(page)


def metric_value(page: Page, label: str) -> str:
    """Displayed value of the ``st.metric`` whose label is ``label``."""
    metric = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=label)
    ).first
    metric.wait_for()
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def slider_thumb(page: Page, label: str) -> Locator:
    """The draggable thumb of the ``st.slider`` labelled ``label``."""
    return page.locator('[data-testid="stSlider"]').filter(has_text=label).first.locator('input[type="range"]')
