"""Test-only helpers to drive the live app in Playwright (screenshots, clicks, choices); opening
a page, waiting for runs and reading metrics live in :mod:`cxroi.testing.browser`."""

from __future__ import annotations

import contextlib
from pathlib import Path

from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from cxroi.testing.browser import metric_value, open_page, slider_thumb, wait_idle


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


def nudge_slider(page: Page, label: str, key: str = "ArrowRight") -> None:
    """Move a slider by one step with the keyboard (as a user would with arrow keys)."""
    thumb = slider_thumb(page, label)
    thumb.focus()
    thumb.press(key)


def wait_metric_change(page: Page, label: str, before: str, timeout_ms: float = 30_000) -> str:
    """Wait until the metric ``label`` shows something other than ``before``; returns it."""
    page.wait_for_function(
        """([label, before]) => {
            for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
                const l = m.querySelector('[data-testid="stMetricLabel"]');
                const v = m.querySelector('[data-testid="stMetricValue"]');
                if (l && v && l.innerText.trim() === label) return v.innerText.trim() !== before;
            }
            return false;
        }""",
        arg=[label, before], timeout=timeout_ms,
    )
    return metric_value(page, label)


def click_button(page: Page, text: str) -> None:
    """Click the Streamlit button (not a select's open arrow) whose text is ``text``."""
    page.locator('button[data-testid^="stBaseButton"]').filter(has_text=text).first.click()


def popover_button(page: Page, popover: str, button: str, attempts: int = 3) -> Locator:
    """The button ``button`` inside the popover labelled ``popover``, opened for it. A run that
    ends just after the click can close the popover again, so it is opened once more (at most
    ``attempts`` times) once the app is idle."""
    for _ in range(attempts):
        wait_idle(page)
        page.locator('[data-testid="stPopover"]').filter(has_text=popover).first.locator("button").first.click()
        found = page.locator('[data-testid="stPopoverBody"]').get_by_role("button", name=button).first
        try:
            found.wait_for(timeout=5_000)
            return found
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    raise AssertionError(f"the popover '{popover}' never showed the button '{button}'")


def choose_option(page: Page, select_label: str, option: str, attempts: int = 3) -> None:
    """Pick ``option`` in the ``st.selectbox`` labelled ``select_label``. A run that ends while
    the list is open redraws the page and closes the list, so it is opened again (at most
    ``attempts`` times) once the app is idle."""
    for _ in range(attempts):
        wait_idle(page)
        page.locator('[data-testid="stSelectbox"]').filter(has_text=select_label).first.click()
        choice = page.get_by_role("option", name=option).first
        try:
            choice.wait_for(timeout=10_000)
            choice.click()
            break
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
    else:
        raise AssertionError(f"'{option}' never appeared in the list '{select_label}'")
    wait_idle(page)


CHARTS_DRAWN = """(within) => [...document.querySelector(within).querySelectorAll('[data-testid="stVegaLiteChart"]')]
    .every(chart => chart.querySelector('svg [class*="mark-"] path, svg [class*="mark-"] line'))"""

LAYOUT_PROBLEMS = """(within) => {
    const problems = [];
    const root = document.querySelector(within);
    for (const value of root.querySelectorAll('[data-testid="stMetricValue"]')) {
        if ([value, ...value.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth)) {
            problems.push(`headline figure cut off: ${value.innerText}`);
        }
    }
    root.querySelectorAll('[data-testid="stDataFrame"] .dvn-scroller').forEach((table, i) => {
        if (table.scrollWidth > table.clientWidth + 1) {
            problems.push(`table ${i + 1} wider than its frame: ${table.scrollWidth} > ${table.clientWidth} px`);
        }
    });
    root.querySelectorAll('[data-testid="stTable"]').forEach((table, i) => {
        if ([table, ...table.querySelectorAll('div, table')].some(e => e.scrollWidth > e.clientWidth + 1)) {
            problems.push(`static table ${i + 1} wider than its frame: ${table.querySelector('table').scrollWidth} > ${table.clientWidth} px`);
        }
    });
    root.querySelectorAll('[data-testid="stVegaLiteChart"]').forEach((chart, i) => {
        const marks = chart.querySelectorAll('svg [class*="mark-"] path, svg [class*="mark-"] line');
        if (marks.length === 0) { problems.push(`chart ${i + 1} draws no marks`); }
        const plot = chart.querySelector('svg .role-frame path.background');
        const width = chart.getBoundingClientRect().width;
        if (plot && width > 0 && plot.getBoundingClientRect().width < 0.25 * width) {
            problems.push(`chart ${i + 1} plot squeezed to ${Math.round(plot.getBoundingClientRect().width)} of ${Math.round(width)} px`);
        }
        for (const text of chart.querySelectorAll('svg text')) {
            if (text.textContent.endsWith('…')) { problems.push(`chart ${i + 1} label cut off: ${text.textContent}`); }
        }
    });
    return problems;
}"""


def layout_problems(page: Page, within: str = "body") -> list[str]:
    """What does not fit on the page as shown, inside the first element matching the CSS selector
    ``within``: headline figures cut off, tables wider than their frame (columns hidden to the
    right, for interactive and static tables), charts that draw no marks, squeeze their plot into
    less than a quarter of their width (legends and axes taking the rest) or cut a label short."""
    # Vega draws a chart's marks a moment after the run ends (longer on a loaded machine); a chart
    # that never does is named by the check below
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_function(CHARTS_DRAWN, arg=within, timeout=45_000)
    page.wait_for_timeout(300)  # fonts settle
    wait_layout_settled(page)
    return page.evaluate(LAYOUT_PROBLEMS, within)


CONTENT_WIDTHS = """() => [...document.querySelectorAll(
    '[data-testid="stMainBlockContainer"], [data-testid="stDataFrame"] .dvn-scroller')].map(e => e.clientWidth)"""


LAYOUT_STYLE_APPLIED = """() => [...document.querySelectorAll('style')]
    .some(style => style.textContent.includes('stMainBlockContainer'))"""


def wait_layout_settled(page: Page, attempts: int = 20, interval_ms: int = 250) -> None:
    """Wait until the app's layout style (:mod:`cxroi.app.layout`) is on the page and the
    content and table widths stop changing: the side bar and margins take their laptop widths a
    moment after a page is drawn, and a table sizes its frame once they have."""
    # the laptop style arrives a moment after the page's first run ends
    page.wait_for_function(LAYOUT_STYLE_APPLIED, timeout=30_000)  # long on a busy machine
    before = page.evaluate(CONTENT_WIDTHS)
    for _ in range(attempts):
        page.wait_for_timeout(interval_ms)
        now = page.evaluate(CONTENT_WIDTHS)
        if now == before:
            return
        before = now


def upload_sample_panel(page: Page) -> None:
    """On the Data & retrain page, upload data/sample/panel.csv and wait until it is checked."""
    open_page(page, "data")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        str(Path(__file__).resolve().parents[2] / "data" / "sample" / "panel.csv"))
    page.get_by_text("panel.csv is valid: 8 segments × 36 months").wait_for()
    wait_idle(page)
