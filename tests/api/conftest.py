"""Fixtures for the API tests: a home folder with two models and a saved scenario, a real
``cxroi serve`` process signed in through the session's OpenID Connect provider, and clients
holding real access tokens of each role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from cxroi.sim.scenario import parse_scenario
from cxroi.store import Store
from cxroi.testing.api_server import start_api
from cxroi.testing.artifacts import truth_champion
from cxroi.testing.browser import free_port, stop_server

CANDIDATE_ID = "bayes-candidate"
SAVED_NAME = "Enterprise 24/7 support"
SCENARIO = {"name": SAVED_NAME, "horizon_months": 24, "investments": [
    {"initiative": "support_24_7", "segments": ["Enterprise-EU", "Enterprise-NA"], "duration_months": 12,
     "monthly_spend": 40_000, "one_off_cost": 150_000}]}
#: the role each test user of tests/oidc_provider.py holds (through its groups and the role map)
USER_OF_ROLE = {"viewer": "vera.viewer", "finance": "fin.finance", "analyst": "ana.analyst", "admin": "adam.admin"}


def home_environment(home: Path) -> dict[str, str]:
    """Variables pointing a server at ``home``'s models and store."""
    return {"CXROI_MODELS_DIR": str(home / "models"), "CXROI_HOME": str(home),
            "CXROI_DATABASE_URL": f"sqlite:///{home / 'cxroi.db'}"}


def make_home(home: Path) -> Path:
    """Two accepted models (the second, the truth, is champion) and one saved scenario."""
    truth_champion(home / "models", model_id=CANDIDATE_ID)
    truth_champion(home / "models")
    with Store(home_environment(home)["CXROI_DATABASE_URL"]) as store:
        store.save_scenario(SAVED_NAME, parse_scenario(SCENARIO).to_dict())
    return home


@pytest.fixture(scope="session")
def api_home(tmp_path_factory) -> Path:
    return make_home(tmp_path_factory.mktemp("api-home"))


@pytest.fixture(scope="session")
def api_url(api_home, oidc_provider, tmp_path_factory) -> Iterator[str]:
    """Base URL of a ``cxroi serve`` process with sign-in through the test provider."""
    port = free_port()
    log = tmp_path_factory.mktemp("api-log") / "serve.log"
    process = start_api({**home_environment(api_home), **oidc_provider.auth_environment()}, port, log=log,
                        cwd=api_home)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(process)


@pytest.fixture(scope="session")
def client_for(api_url, oidc_provider) -> Iterator[Callable[[str], httpx.Client]]:
    """``client_for("viewer")``: an HTTP client holding a real access token of a user with that
    role, obtained from the provider's token endpoint (one per role, shared by the session)."""
    clients: dict[str, httpx.Client] = {}

    def client(role: str) -> httpx.Client:
        if role not in clients:
            token = oidc_provider.token(USER_OF_ROLE[role])
            clients[role] = httpx.Client(base_url=api_url, timeout=60,
                                         headers={"Authorization": f"Bearer {token}"})
        return clients[role]

    yield client
    for opened in clients.values():
        opened.close()


@pytest.fixture
def anonymous(api_url) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, timeout=60) as client:
        yield client
