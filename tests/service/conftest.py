"""Service-layer fixtures: a models folder with two plausible models (champion ``bayes-a``), a
service context on a fresh SQLite store (``ctx``) or on each store backend (``backend_ctx``), one
user per role, and a saved scenario."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cxroi import registry
from cxroi.service import Context, Role, User
from cxroi.store import Store
from cxroi.testing.artifacts import plausible_artifact
from tests.store.conftest import database_url  # noqa: F401 - SQLite and PostgreSQL stores

CHAMPION, CANDIDATE = "bayes-a", "bayes-b"
#: one user per role: viewer "Vera", finance "Fay", analyst "Al", admin "Ada"
USERS = {Role.VIEWER: User("oidc|vera", "Vera", {Role.VIEWER}), Role.FINANCE: User("oidc|fay", "Fay", {Role.FINANCE}),
         Role.ANALYST: User("oidc|al", "Al", {Role.ANALYST}), Role.ADMIN: User("oidc|ada", "Ada", {Role.ADMIN})}
PLAN = {"name": "Portal plan", "horizon_months": 24, "investments": [
    {"initiative": "I1", "segments": ["S1", "S2"], "duration_months": 12, "monthly_spend": 10_000.0,
     "one_off_cost": 50_000.0}]}


@pytest.fixture
def models(tmp_path: Path) -> Path:
    """Two models of the same segments and initiatives (different draws); ``bayes-a`` is champion."""
    folder = tmp_path / "models"
    plausible_artifact(folder, model_id=CHAMPION, n_draws=200, seed=1)
    plausible_artifact(folder, model_id=CANDIDATE, n_draws=200, seed=2)
    registry.promote(CHAMPION, folder, user="setup")
    return folder


@pytest.fixture
def ctx(models: Path, tmp_path: Path) -> Iterator[Context]:
    with Context(Store(f"sqlite:///{tmp_path / 'db' / 'cxroi.db'}"), models) as context:
        yield context


@pytest.fixture
def backend_ctx(models: Path, database_url: str) -> Iterator[Context]:  # noqa: F811
    with Context(Store(database_url), models) as context:
        yield context
