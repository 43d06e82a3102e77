"""The Track decisions page in Chromium: an approved decision tracked with the sample panel's
six-month continuation (data/sample/continued, a true CSAT lift of 3 and NPS lift of 4 points at
full effect in SMB-EU and SMB-NA), at a laptop and a desktop width; a panel that does not extend
the decision's model is a plain error; the tracking workbook downloads and reads back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Page

from cxroi.service import Context, approve_scenario, local_user, save_scenario
from cxroi.testing.artifacts import truth_champion
from cxroi.testing.browser import free_port, open_page, start_server, stop_server, wait_idle
from tests.app.browser import layout_problems, screenshot
from tests.app.conftest import ROOT, SCREENSHOTS, app_environment

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

DECISION = {"name": "Onboarding SMB", "horizon_months": 24, "gross_margin": 0.7, "investments": [
    {"initiative": "onboarding_program", "segments": ["SMB-EU", "SMB-NA"], "duration_months": 12,
     "spend_level": 1.0}]}
TRUTH = json.loads((ROOT / "data" / "sample" / "continued" / "truth.json").read_text())


@pytest.fixture(scope="module")
def track_url(tmp_path_factory) -> Iterator[str]:
    """An app of its own whose store holds one decision approved on the test champion."""
    home = tmp_path_factory.mktemp("track-home")
    truth_champion(home / "models")
    env = app_environment(home)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        with Context.from_environment() as ctx:
            user = local_user("Ann")
            save_scenario(ctx, user, DECISION)
            approve_scenario(ctx, user, DECISION["name"])
    process = start_server(env, port := free_port())
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(process)


@contextmanager
def track_tab(browser, url: str, width: int) -> Iterator[Page]:
    """A tab of its own on the Track decisions page at ``width`` px, downloads enabled."""
    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.app_url = url
    try:
        open_page(page, "track")
        yield page
    finally:
        context.close()


@pytest.mark.parametrize("width", [1024, 1440])
def test_track_page_shows_promised_versus_realised(browser, track_url, width):
    with track_tab(browser, track_url, width) as page:
        page.get_by_text("Promised versus realised").wait_for()
        wait_idle(page)
        # six months tracked, January to June 2026 (the continuation's months)
        assert "6" in page.locator('[data-testid="stMetric"]', has_text="Months tracked").inner_text()
        assert "Jan 2026 to Jun 2026" in page.inner_text("body")
        assert "CX lift: assumed versus realised" in page.inner_text("body")
        assert layout_problems(page) == []
        screenshot(page, SCREENSHOTS, f"track_{width}")
        if width == 1440:
            with page.expect_download() as info:
                page.get_by_text("Tracking workbook (XLSX)").click()
            saved = Path(info.value.path())
            book = pd.read_excel(saved, sheet_name=None, header=None)
            assert list(book) == ["Summary", "Monthly", "CX lift", "Proposed pilots", "Caveats"]
            fields = dict(zip(book["Summary"][0], book["Summary"][1], strict=False))
            assert fields["Scenario"] == DECISION["name"] and fields["Months tracked"].startswith("6 ")
            assert fields["Segments reached"] == "SMB-EU, SMB-NA"


def test_panel_that_does_not_extend_the_model_is_a_plain_error(browser, track_url):
    """The app's own panel (data/sample/panel.csv) ends where the model's training does: the page
    says so in words, with no traceback, and shows no status."""
    with track_tab(browser, track_url, 1440) as page:
        page.get_by_text("The app's panel (panel.csv)").click()
        page.get_by_text("not after the model's training window").wait_for()
        body = page.inner_text("body")
        assert "Traceback" not in body and "Promised versus realised" not in body


def test_sample_continuation_has_the_stated_true_lift():
    """The shipped continuation is what the page's test relies on: six months, the onboarding
    programme in SMB-EU and SMB-NA only (the truth file says so)."""
    applied = TRUTH["continuation"]["applied"]["csat"]
    treated = sorted(s for s, months in applied.items() if any(months))
    assert treated == ["SMB-EU", "SMB-NA"] and all(len(m) == 6 for m in applied.values())
