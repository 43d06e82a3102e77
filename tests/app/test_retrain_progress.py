"""A Bayesian retraining started in the app shows a progress percentage that grows."""

from __future__ import annotations

import re

import pytest

from cxroi.app import jobs, retrain
from tests.app.browser import click_button, screenshot, upload_sample_panel
from tests.app.conftest import SCREENSHOTS

#: outside the "browser" group: the test has an app server of its own (fresh_app_url) and spends
#: most of its time waiting for the training to compile its model, so it runs beside the group
pytestmark = [pytest.mark.browser, pytest.mark.slow]

PERCENT = re.compile(r"^(\d+)% · ")
#: the sampler counts draws every few seconds (cxroi.fit.progress.POLL_SECONDS) and the page
#: refreshes every 2 s; compiling the model first takes 15–60 s, more on a loaded machine
PROGRESS_WAIT_MS = 600_000


def _progress(page) -> tuple[int, str]:
    """The share done and the whole text of the progress bar ("12% · fitting the model: …")."""
    text = page.locator('[data-testid="stProgress"]').first.inner_text(timeout=PROGRESS_WAIT_MS).strip()
    match = PERCENT.search(text)
    assert match, text
    return int(match.group(1)), text


def test_the_percentage_of_a_bayesian_retraining_grows(browser, fresh_app_url, tmp_path):
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.app_url = fresh_app_url
    try:
        upload_sample_panel(page)
        click_button(page, "Start retraining")  # Bayesian (PyMC) is the default family
        page.get_by_text("Your retraining is running").wait_for()
        page.get_by_text(re.compile(r"sampling, [\d,]+ of [\d,]+ draws")).first.wait_for(timeout=PROGRESS_WAIT_MS)
        first, first_text = _progress(page)
        assert re.search(r"sampling, [\d,]+ of [\d,]+ draws", first_text), first_text
        page.wait_for_function(
            """(first) => { const bar = document.querySelector('[data-testid="stProgress"]');
                            const m = bar && bar.innerText.trim().match(/^(\\d+)% · /);
                            return m && Number(m[1]) > Math.max(first, 1); }""", arg=first,
            timeout=PROGRESS_WAIT_MS)  # past 1 %: the time left is estimated from then on
        later, text = _progress(page)
        assert later > first
        assert re.search(r"elapsed · about .+ left", text), text  # time so far and an estimate of what remains
        screenshot(page, SCREENSHOTS, "data_retrain_progress")
    finally:
        running = jobs.running(tmp_path, retrain.KIND)
        if running is not None:
            jobs.stop(running)  # the job runs in its own session: it would outlive the server
        context.close()
