"""The shipped default model (models/CHAMPION) matches the code and the sample data."""

from __future__ import annotations

from pathlib import Path

from cxroi import registry
from cxroi.data.fingerprint import panel_fingerprint
from cxroi.data.readers import load_panel
from cxroi.params import PARAMETERS

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"


def test_shipped_champion_loads_and_matches_schema_and_sample() -> None:
    artifact = registry.load_artifact(None, MODELS)
    manifest = artifact.manifest
    assert manifest.schema_version == registry.SCHEMA_VERSION
    panel, _ = load_panel(REPO / "data" / "sample" / "panel.csv")
    assert manifest.data_fingerprint == panel_fingerprint(panel)
    assert manifest.status == "accepted" and manifest.health.passed
    assert set(artifact.draws) == set(PARAMETERS)


def test_shipped_model_is_small() -> None:
    folder = MODELS / registry.champion_id(MODELS)
    assert sum(p.stat().st_size for p in folder.iterdir()) < 5 * 1024 * 1024
