"""Fixtures for the app tests: an isolated champion model and store, a live ``streamlit run``
server on a free port (Debian's Chromium, driven by Playwright, is tests/conftest.py's ``browser``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cxroi.sim.scenario import parse_scenario
from cxroi.store import Store
from cxroi.testing.artifacts import truth_champion
from cxroi.testing.browser import free_port, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
#: saved in the app's store before it starts, so Compare has something to compare
EXAMPLE_SCENARIOS = (
    {"name": "Enterprise 24/7 support", "horizon_months": 36, "investments": [
        {"initiative": "support_24_7", "segments": ["Enterprise-EU", "Enterprise-NA"], "duration_months": 24,
         "monthly_spend": 40_000, "one_off_cost": 150_000}]},
    {"name": "SMB onboarding", "horizon_months": 36, "investments": [
        {"initiative": "onboarding_program", "segments": ["SMB-EU", "SMB-NA"], "duration_months": 24,
         "monthly_spend": 15_000, "one_off_cost": 80_000}]},
)


@pytest.fixture(scope="session")
def app_home(tmp_path_factory) -> Path:
    """A home folder holding a champion model (``models/``) and the scenario database."""
    home = tmp_path_factory.mktemp("app-home")
    truth_champion(home / "models")
    store = Store(app_environment(home)["CXROI_DATABASE_URL"])
    for scenario in EXAMPLE_SCENARIOS:
        store.save_scenario(scenario["name"], parse_scenario(scenario).to_dict())
    store.close()
    return home


def app_environment(home: Path) -> dict[str, str]:
    """Variables that point the app at ``home`` instead of the repository's models and store."""
    return {
        "CXROI_MODELS_DIR": str(home / "models"),
        "CXROI_HOME": str(home),
        "CXROI_DATABASE_URL": f"sqlite:///{home / 'cxroi.db'}",
    }


@pytest.fixture
def app_env(app_home, monkeypatch) -> Path:
    """In-process (AppTest) variant of :func:`app_environment`."""
    for key, value in app_environment(app_home).items():
        monkeypatch.setenv(key, value)
    return app_home


@pytest.fixture(scope="session")
def app_url(app_home) -> Iterator[str]:
    """Base URL of a live app server using the isolated home."""
    port = free_port()
    process = start_server(app_environment(app_home), port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(process)


@pytest.fixture
def fresh_app_url(tmp_path) -> Iterator[str]:
    """A live app server of its own (own models folder and store) for tests that change state
    other browser tests rely on, such as the champion."""
    truth_champion(tmp_path / "models")
    process = start_server(app_environment(tmp_path), port := free_port())
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(process)


@pytest.fixture
def page(browser, app_url):
    """A fresh browser tab (own session) with downloads enabled, at a desktop viewport."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.app_url = app_url
    yield tab
    context.close()
