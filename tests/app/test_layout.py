"""The app on a laptop (1024 × 768) and a desktop (1440 × 900): nothing cut off, every chart drawn —
on every page as it opens, and after the actions that add tables and charts (an optimiser search,
two plans chosen in Compare, every tab of Drivers)."""

from __future__ import annotations

import pytest

from cxroi import service
from cxroi.testing.browser import open_page, wait_idle
from tests.app.browser import (
    click_button,
    layout_problems,
    screenshot,
    upload_sample_panel,
    wait_layout_settled,
)
from tests.app.conftest import EXAMPLE_SCENARIOS, SCREENSHOTS, app_environment

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SCREENS = {"laptop": (1024, 768), "desktop": (1440, 900)}
#: the optimiser's search takes seconds on a quiet machine, minutes when another worker samples
SEARCH_WAIT_MS = 300_000


@pytest.fixture(params=list(SCREENS))
def sized_page(request, browser, app_url):
    width, height = SCREENS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.app_url = app_url
    page.width = width
    yield page
    context.close()


#: a third saved plan, so Compare can be given one more plan than it opens with
THIRD_PLAN = {**EXAMPLE_SCENARIOS[1], "name": "SMB onboarding, all regions and Consumer",
              "investments": [{**EXAMPLE_SCENARIOS[1]["investments"][0],
                               "segments": ["SMB-EU", "SMB-NA", "Consumer-EU", "Consumer-NA"]}]}


@pytest.fixture(scope="module")
def approved_decision(app_home):
    """The first example scenario approved by a finance user, so the Decisions page has a record,
    and a third plan saved for Compare."""
    env = app_environment(app_home)
    ctx = service.Context.from_environment(models_dir=env["CXROI_MODELS_DIR"], database_url=env["CXROI_DATABASE_URL"])
    fiona = service.User("oidc:fiona", "Fiona", frozenset({service.Role.FINANCE}))
    try:
        service.save_scenario(ctx, fiona, THIRD_PLAN)
        return service.approve_scenario(ctx, fiona, EXAMPLE_SCENARIOS[0]["name"])
    finally:
        ctx.close()


#: url path → what the page shows when its first run has finished
PAGES = {"planner": "NPV", "optimiser": "Find the best allocation", "data": "Panel file", "export": "Totals for a budget",
         "compare": "NPV distributions", "decisions": "Forecast as approved", "audit": "Audit trail"}


def shown_problems(page, name: str, within: str = "body") -> list[str]:
    """The layout problems of the page as shown, and its screenshot ``name``_<width>.png."""
    problems = layout_problems(page, within=within)
    screenshot(page, SCREENSHOTS, f"{name}_{page.width}")
    return problems


@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_fits(sized_page, path, approved_decision):
    page = sized_page
    open_page(page, path)
    page.get_by_text(PAGES[path]).first.wait_for()
    wait_idle(page)
    assert shown_problems(page, path) == []


def test_overview_fits_with_every_view_of_the_segment_table(sized_page):
    page = sized_page
    open_page(page, "")
    assert layout_problems(page) == []
    screenshot(page, SCREENSHOTS, f"overview_{page.width}")
    for view in ("Change vs last month", "Change vs a year ago"):
        page.get_by_text(view, exact=True).click()
        page.get_by_text("Change of the latest month against").wait_for()
        assert layout_problems(page) == [], view
    screenshot(page, SCREENSHOTS, f"overview_changes_{page.width}")


DRIVER_TABS = ("Effects of CSAT and NPS", "Initiative lifts", "Diagnostics & backtest", "Models & promotion")


def test_drivers_fits_on_every_tab(sized_page):
    page = sized_page
    open_page(page, "drivers")
    for i, tab in enumerate(DRIVER_TABS):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(300)
        # hidden tabs keep their elements; only what the chosen tab shows is checked
        assert shown_problems(page, f"drivers_{i + 1}", within='[role="tabpanel"]:not([hidden])') == [], tab


def test_compare_fits_with_three_plans_chosen(sized_page, approved_decision):
    page = sized_page
    open_page(page, "compare")
    page.get_by_text("NPV distributions").wait_for()
    select = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Scenarios").first
    select.locator("input").click()
    page.get_by_role("option", name=THIRD_PLAN["name"]).first.click()  # one more column in every table
    page.keyboard.press("Escape")
    wait_idle(page)
    page.get_by_text(f"{THIRD_PLAN['name']} (v1)").first.wait_for()
    page.get_by_text("What differs between the plans").wait_for()
    assert shown_problems(page, "compare_chosen") == []


def test_optimiser_fits_after_a_search(sized_page):
    page = sized_page
    open_page(page, "optimiser")
    click_button(page, "Find the best allocation")
    page.get_by_text("Recommended allocation: ").wait_for(timeout=SEARCH_WAIT_MS)
    wait_idle(page, SEARCH_WAIT_MS)
    assert shown_problems(page, "optimiser_search") == []


def test_planner_save_and_approve_are_in_view_on_opening(sized_page):
    page = sized_page
    open_page(page, "planner")
    wait_layout_settled(page)  # measured with the laptop style on, as people see the page
    for action in ("Save this scenario", "Approve this scenario"):
        button = page.locator('[data-testid="stPopover"]').filter(has_text=action).first
        box = button.bounding_box()
        # right under the headline figures: on screen without scrolling, laptop included
        assert box is not None and box["y"] + box["height"] <= page.viewport_size["height"], (action, box)


def test_data_fits_after_an_upload(sized_page):
    page = sized_page
    upload_sample_panel(page)  # the panel's summary, its checks and the retraining form appear
    assert shown_problems(page, "data_uploaded") == []
