"""Shared test configuration: tests never write into the repository's models/ or stores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.oidc_provider import oidc_provider  # noqa: F401 - a real OpenID Connect provider for sign-in tests
from tests.postgres_server import postgres_server, postgres_url  # noqa: F401 - fixtures for every test package

REPO = Path(__file__).resolve().parent.parent
SAMPLE_PANEL = REPO / "data" / "sample" / "panel.csv"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` first, in collection order otherwise. With ``-n 2 --dist loadgroup``
    ungrouped tests are handed out in collection order after the groups (largest first): a
    minute-long fit that starts last keeps one worker busy while the other has nothing to do."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory, monkeypatch):
    """Point the scenario store and home folder at a temporary location for every test."""
    home = tmp_path_factory.mktemp("cxroi-home")
    monkeypatch.setenv("CXROI_HOME", str(home))
    monkeypatch.delenv("CXROI_DATABASE_URL", raising=False)
    yield


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium (the browser bundled with Playwright is not used), one per test
    process: Playwright's synchronous API runs one instance per thread, so the app and sign-in
    tests share it whichever worker runs them."""
    from cxroi.testing.browser import chromium

    with chromium() as launched:
        yield launched


def cli_env(**extra: str) -> dict[str, str]:
    """Environment for running the ``cxroi`` CLI in a subprocess."""
    env = dict(os.environ)
    env.pop("CXROI_DEBUG", None)
    env.update(extra)
    return env
