"""Pinned models in the live app: a scenario saved on one champion, reopened after another model
was promoted, shows its value under both models and the difference (headless Chromium), with
screenshots of the planner (assumptions panel, response curves) and of the Decisions page at
1440 and 1024 px."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cxroi import registry
from cxroi.sim.engine import simulate
from cxroi.sim.scenario import parse_scenario
from cxroi.testing.artifacts import truth_champion, write_artifact
from cxroi.testing.browser import free_port, open_page, start_server, stop_server, wait_idle
from tests.app.browser import choose_option, click_button, popover_button, screenshot
from tests.app.conftest import SCREENSHOTS, app_environment

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
NAME = "Pinned plan"
WAIT_MS = 120_000  # a loaded shared machine: the first planner run compiles nothing but loads two models


#: the app may value a plan on the numpy kernel while the compiled one loads and this process on the
#: compiled one: they agree to float32 rounding of the increments (≈ 2e-6 relative; tests/sim/test_fused.py)
KERNEL_TOLERANCE = 1e-5


def amounts(text: str) -> list[float]:
    """Every money amount shown in ``text`` ("$5,203,681", "+$1,200", "−$3"), in currency."""
    return [float(sign.replace("\u2212", "-") + digits.replace(",", ""))
            for sign, digits in re.findall(r"([+\u2212-]?)\$([\d,]+(?:\.\d+)?)", text)]


def second_model(models_dir, champion_id: str) -> str:
    """A model like the champion whose CSAT → churn effect and lifts are 1.5 × as strong: the
    same scenario is worth more on it."""
    first = registry.load_artifact(champion_id, models_dir)
    draws = {name: np.array(values, dtype=float) for name, values in first.draws.items()}
    for name in ("churn_csat", "lift_csat", "lift_nps"):
        draws[name] = draws[name] * 1.5
    fields = first.manifest.model_dump(exclude={"model_id", "files", "content_hash", "schema_version"})
    return write_artifact(models_dir, draws, **{**fields, "model_id": "bayes-20260201-000000-stronger"}).model_id


@pytest.fixture
def server(tmp_path):
    truth_champion(tmp_path / "models")
    process = start_server(app_environment(tmp_path), port := free_port())
    try:
        yield tmp_path, f"http://127.0.0.1:{port}"
    finally:
        stop_server(process)


def planner_tab(browser, url: str, width: int):
    tab = browser.new_context(viewport={"width": width, "height": 1000}).new_page()
    tab.set_default_timeout(WAIT_MS)
    tab.app_url = url
    open_page(tab, "planner")
    wait_idle(tab, WAIT_MS)
    return tab


def test_a_reopened_scenario_shows_its_value_under_the_pinned_model_and_the_new_champion(browser, server):
    home, url = server
    models = home / "models"
    first_id = registry.champion_id(models)
    tab = planner_tab(browser, url, 1440)
    tab.get_by_text("Save this scenario").click()
    tab.get_by_label("Name").fill(NAME)
    click_button(tab, "Save")
    tab.get_by_text(f"Saved '{NAME}' as version 1").wait_for()
    tab.context.close()

    second_id = second_model(models, first_id)
    registry.promote(second_id, models, reason="stronger effects", user="tests", acknowledge_shift=True)

    for width in (1440, 1024):
        tab = planner_tab(browser, url, width)
        choose_option(tab, "Saved scenarios", f"{NAME} — version 1")
        click_button(tab, "Open")
        tab.get_by_text(f"The champion changed since '{NAME}' version 1 was saved").wait_for()
        wait_idle(tab, WAIT_MS)
        # expected from the scenario as saved, simulated here on each model
        from cxroi.store import Store

        store = Store(app_environment(home)["CXROI_DATABASE_URL"])
        scenario = parse_scenario(store.get_scenario(NAME, 1).body)
        store.close()
        pinned = simulate(scenario, registry.load_artifact(first_id, models)).summary().loc["npv", "p50"]
        champion = simulate(scenario, registry.load_artifact(second_id, models)).summary().loc["npv", "p50"]
        assert champion > pinned  # stronger effects: worth more
        table = tab.locator('[data-testid="stTable"]').filter(has_text=f"Saved with {first_id}").first
        text = table.inner_text()
        assert f"Champion {second_id}" in text and "Difference" in text
        shown = amounts(text)
        for expected in (pinned, champion, champion - pinned):
            assert any(abs(value - expected) <= KERNEL_TOLERANCE * abs(expected) + 1 for value in shown), (expected, shown)
        tab.get_by_text("Assumptions behind these figures").click()
        tab.get_by_text("Response curves and marginal ROI").click()
        tab.get_by_text("Show the response curves").click()
        wait_idle(tab, WAIT_MS)
        tab.get_by_text("the dots mark the planned spend").wait_for()  # the curves and the marginal ROI are drawn
        tab.wait_for_timeout(800)
        assert tab.get_by_text("Something went wrong").count() == 0
        screenshot(tab, SCREENSHOTS, f"planner_pinned_{width}")
        tab.context.close()

    tab = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    tab.app_url = url
    open_page(tab, "planner")
    choose_option(tab, "Saved scenarios", f"{NAME} — version 1")
    click_button(tab, "Open")
    wait_idle(tab, WAIT_MS)
    popover_button(tab, "Approve this scenario", "Approve").click()
    tab.get_by_text(f"Approved '{NAME}' version 1 as decision").wait_for()
    tab.context.close()
    for width in (1440, 1024):
        tab = browser.new_context(viewport={"width": width, "height": 1000}).new_page()
        tab.app_url = url
        open_page(tab, "decisions")
        tab.get_by_text(f"Decision 1: '{NAME}' version 1").wait_for()
        assert tab.get_by_text("Forecast as approved").count() == 1
        wait_idle(tab, WAIT_MS)
        tab.locator('[data-testid="stTable"]').filter(has_text="NPV").first.wait_for()
        tab.locator(".vega-embed canvas, .vega-embed svg").first.wait_for()
        table = tab.locator('[data-testid="stTable"]').filter(has_text="P50").first.inner_text()
        assert "P10" in table and "P90" in table and "ROI" in table
        assert tab.get_by_text(f"valued on model {first_id}").count() >= 1  # the model it was saved with
        tab.wait_for_timeout(1500)
        screenshot(tab, SCREENSHOTS, f"decisions_{width}")
        tab.context.close()
