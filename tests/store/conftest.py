"""Store backends for the store tests: a SQLite file, and a throwaway PostgreSQL server (the
``postgres_url`` fixture of tests/postgres_server.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh scenario store database on each backend."""
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'db' / 'cxroi.db'}"
