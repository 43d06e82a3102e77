"""Fixtures for the simulation tests: hand-made artifacts (see cxroi/testing/artifacts.py)."""

from __future__ import annotations

import pytest

from cxroi.testing.artifacts import plausible_artifact


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("sim-models")


@pytest.fixture(scope="session")
def plausible(models_dir):
    """400 draws, segments S1–S4, initiatives I1–I2."""
    return plausible_artifact(models_dir)
