"""Helpers to drive the live app in Playwright: open a page, wait for runs, read metrics."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def wait_idle(page: Page, timeout_ms: float = 30_000) -> None:
    """Wait until the script (or fragment) run triggered last has finished."""
    page.wait_for_timeout(50)
    page.wait_for_selector(IDLE, timeout=timeout_ms)


def open_page(page: Page, url_path: str = "") -> None:
    """Load ``/<url_path>`` of the app and wait for its first run to finish."""
    page.goto(f"{page.app_url}/{url_path}")
    page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=30_000)
    wait_idle(page)


def metric_value(page: Page, label: str) -> str:
    """Displayed value of the ``st.metric`` whose label is ``label``."""
    metric = page.locator('[data-testid="stMetric"]').filter(
        has=page.locator('[data-testid="stMetricLabel"]', has_text=label)
    ).first
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def screenshot(page: Page, folder: Path, name: str) -> Path:
    """Screenshot of the whole page to ``folder/name.png``. Streamlit scrolls inside its main
    container, so the viewport is stretched to the content's height for the shot."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], int(height) + 40)})
    page.wait_for_timeout(400)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path
