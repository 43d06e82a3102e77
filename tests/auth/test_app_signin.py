"""Signing in to the app through the session's real OpenID Connect provider, in Chromium: the
provider's login page, Streamlit's st.login, roles from the token's ``groups`` claim through the
role map, pages offered by role, and each sign-in in the audit trail."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from cxroi.store import Store
from cxroi.testing.browser import free_port, start_server, stop_server, wait_idle
from tests.api.conftest import home_environment, make_home
from tests.oidc_provider import ROLE_MAP, ROLES_CLAIM

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.xdist_group("app_signin")]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
VIEWER_PAGES = {"Overview", "Scenario planner", "Compare", "Optimiser", "Decisions", "Track decisions"}
ANALYST_ONLY = {"Export", "Drivers & model health", "Data & retrain"}


def secrets_toml(port: int, metadata_url: str) -> str:
    role_map = ", ".join(f'"{claim}" = "{role}"' for claim, role in ROLE_MAP.items())
    return f'''[auth]
redirect_uri = "http://localhost:{port}/oauth2callback"
cookie_secret = "{secrets.token_hex(32)}"
client_id = "cxroi-app"
client_secret = "{secrets.token_hex(16)}"
server_metadata_url = "{metadata_url}"
roles_claim = "{ROLES_CLAIM}"
role_map = {{ {role_map} }}
'''


@pytest.fixture(scope="module")
def signed_in_app(tmp_path_factory, oidc_provider) -> Iterator[tuple[str, Path]]:
    """(base URL on localhost, home folder) of an app with sign-in through the test provider."""
    home = make_home(tmp_path_factory.mktemp("app-signin"))
    port = free_port()
    secrets_file = home / "secrets.toml"
    secrets_file.write_text(secrets_toml(port, oidc_provider.metadata_url))
    process = start_server({**home_environment(home), "STREAMLIT_SECRETS_FILES": str(secrets_file)}, port)
    try:
        yield f"http://localhost:{port}", home
    finally:
        stop_server(process)


def sign_in(browser, url: str, sub: str, width: int = 1440):
    """A new browser session signed in as ``sub`` through the provider's login page."""
    context = browser.new_context(viewport={"width": width, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/oauth2/authorize**")
    page.locator(f'button[name="sub"][value="{sub}"]').click()  # the provider's button for a known user
    page.wait_for_selector('[data-testid="stSidebarNav"]')
    wait_idle(page, 60_000)
    return context, page


def offered_pages(page) -> set[str]:
    """Titles of the pages in the side bar (each link reads "<icon name>\\n<title>")."""
    return {text.strip().splitlines()[-1] for text in page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()}


def test_sign_in_screen_before_anything_else(browser, signed_in_app) -> None:
    url, _ = signed_in_app
    context = browser.new_context(viewport={"width": 1024, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "signin-1024.png")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=SCREENSHOTS / "signin-1440.png")
    context.close()


def test_viewer_sees_only_the_deciding_pages(browser, signed_in_app) -> None:
    url, _ = signed_in_app
    context, page = sign_in(browser, url, "vera.viewer")
    try:
        assert offered_pages(page) == VIEWER_PAGES
        assert "Signed in as vera.viewer (viewer)" in page.locator('[data-testid="stSidebar"]').inner_text()
        page.screenshot(path=SCREENSHOTS / "signin-viewer-1440.png")
        for hidden in ("data", "drivers", "export"):  # typing a page's address does not open it either
            page.goto(f"{url}/{hidden}")
            page.wait_for_selector('[data-testid="stSidebarNav"]')
            wait_idle(page, 60_000)
            body = page.locator('[data-testid="stMain"]').inner_text()
            assert "Start retraining" not in body and "Promote" not in body and "Download" not in body
            assert offered_pages(page) == VIEWER_PAGES
    finally:
        context.close()


def test_analyst_sees_retrain_promotion_and_export(browser, signed_in_app) -> None:
    url, _ = signed_in_app
    context, page = sign_in(browser, url, "ana.analyst", width=1024)
    try:
        assert offered_pages(page) == VIEWER_PAGES | ANALYST_ONLY
        assert "Signed in as ana.analyst (analyst)" in page.locator('[data-testid="stSidebar"]').inner_text()
        page.screenshot(path=SCREENSHOTS / "signin-analyst-1024.png")
        page.locator('[data-testid="stSidebarNav"] a', has_text="Data & retrain").click()
        page.get_by_text("Upload", exact=False).first.wait_for()
    finally:
        context.close()


def test_admin_reads_the_audit_trail_in_the_app(browser, signed_in_app) -> None:
    url, _ = signed_in_app
    sign_in(browser, url, "ana.analyst")[0].close()  # so the trail holds another user's sign-in
    context, page = sign_in(browser, url, "adam.admin")
    try:
        assert offered_pages(page) == VIEWER_PAGES | ANALYST_ONLY | {"Audit trail"}
        page.locator('[data-testid="stSidebarNav"] a', has_text="Audit trail").click()
        page.get_by_role("heading", name="Audit trail").wait_for()
        wait_idle(page, 60_000)
        table = page.locator('[data-testid="stDataFrame"]').first
        table.wait_for()
        page.screenshot(path=SCREENSHOTS / "audit-1440.png")
        page.set_viewport_size({"width": 1024, "height": 900})
        wait_idle(page, 60_000)
        page.screenshot(path=SCREENSHOTS / "audit-1024.png")
        assert "rows, newest first" in page.locator('[data-testid="stMain"]').inner_text()
    finally:
        context.close()


def test_each_sign_in_is_in_the_audit_trail(browser, signed_in_app) -> None:
    url, home = signed_in_app
    context, _page = sign_in(browser, url, "fin.finance")
    context.close()
    with Store(home_environment(home)["CXROI_DATABASE_URL"]) as store:
        rows = store.audit_entries(action="sign_in")
    assert {"fin.finance"} <= {row.subject for row in rows}
    # the viewer signed in once and then opened three pages by address (three new sessions): one row
    assert [row.subject for row in rows].count("vera.viewer") == 1
    finance = next(row for row in rows if row.subject == "fin.finance")
    assert finance.detail["roles"] == ["finance"] and finance.detail["local"] is False
