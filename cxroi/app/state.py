"""Settings and cached loading shared by the pages.

Heavy objects are loaded once per server process with ``st.cache_resource`` (the champion
:class:`~cxroi.registry.ModelArtifact`, the panel, the catalogue) and keyed on what identifies
their content (model id, file path and modification time), so a promotion or an edited file is
picked up on the next rerun without a restart. Only numpy/pandas-side modules are imported here:
the app's default path never imports the model-fitting libraries.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from cxroi import registry
from cxroi.catalogue import DEFAULT_CATALOGUE, Initiative, load_catalogue
from cxroi.data.readers import load_panel
from cxroi.data.schema import Finding
from cxroi.text import file_stem

if TYPE_CHECKING:  # imported where used, so the first page does not wait for them
    from cxroi.sim.result import SimulationResult
    from cxroi.sim.scenario import Scenario
    from cxroi.store import Store

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_PANEL = ROOT / "data" / "sample" / "panel.csv"


@dataclass(frozen=True)
class Settings:
    """Where the app reads and writes; each field can be overridden by an environment variable."""

    models_dir: Path  # CXROI_MODELS_DIR
    panel_path: Path  # CXROI_PANEL: the panel shown on the Overview page
    catalogue_path: Path  # CXROI_CATALOGUE
    work_dir: Path  # CXROI_HOME: uploaded panels and retrain logs (the store's folder too)
    currency: str  # CXROI_CURRENCY: symbol or code put in front of money amounts


def settings() -> Settings:
    """Current settings (read from the environment on each call; cheap)."""
    env = os.environ.get
    return Settings(
        models_dir=Path(env("CXROI_MODELS_DIR") or registry.DEFAULT_MODELS_DIR),
        panel_path=Path(env("CXROI_PANEL") or DEFAULT_PANEL),
        catalogue_path=Path(env("CXROI_CATALOGUE") or DEFAULT_CATALOGUE),
        work_dir=Path(env("CXROI_HOME") or Path.cwd() / ".cxroi"),
        currency=env("CXROI_CURRENCY") or "$",
    )


def _mtime(path: Path) -> float:
    return path.stat().st_mtime if path.exists() else 0.0


@st.cache_resource(show_spinner=False, max_entries=4)
def _load_model(model_id: str, models_dir: str) -> registry.ModelArtifact:
    return registry.load_artifact(model_id, models_dir)


def load_model(model_id: str) -> registry.ModelArtifact:
    """A model by id from the configured models folder (cached per id; artifacts are immutable)."""
    return _load_model(model_id, str(settings().models_dir))


def champion() -> registry.ModelArtifact | None:
    """The champion model, or None when no model has been promoted yet. A broken champion
    raises :class:`~cxroi.errors.ArtifactError` with the reason."""
    model_id = registry.champion_id(settings().models_dir)
    return None if model_id is None else load_model(model_id)


def champion_or_notice() -> registry.ModelArtifact | None:
    """The champion model; when there is none, tell the user how to get one and return None."""
    model = champion()
    if model is None:
        st.info("No model yet: train and promote one on the Data & retrain page first.")
    return model


def models() -> list[dict]:
    """Summary rows of every stored model, newest first (see :func:`cxroi.registry.list_models`);
    half-written folders of killed trainings are removed first (:mod:`cxroi.app.leftovers`)."""
    from cxroi.app.leftovers import remove_half_written_models

    remove_half_written_models(settings().models_dir)
    return registry.list_models(settings().models_dir)


@st.cache_resource(show_spinner=False, max_entries=4)
def _load_panel(path: str, mtime: float) -> tuple[pd.DataFrame | None, list[Finding]]:
    return load_panel(path)


def panel() -> tuple[pd.DataFrame | None, list[Finding]]:
    """The configured panel, validated (typed panel or None, findings). Cached until the file
    changes; callers must not modify the returned frame."""
    path = settings().panel_path
    return _load_panel(str(path), _mtime(path))


@st.cache_resource(show_spinner=False, max_entries=2)
def _load_catalogue(path: str, mtime: float) -> dict[str, Initiative]:
    return load_catalogue(path)


def catalogue() -> dict[str, Initiative]:
    """The initiative catalogue keyed by id (cached until the file changes)."""
    path = settings().catalogue_path
    return _load_catalogue(str(path), _mtime(path))


@st.cache_resource(show_spinner=False, max_entries=32)
def _simulate(model_id: str, models_dir: str, scenario_json: str) -> SimulationResult:
    from cxroi.sim.engine import simulate as run_simulation
    from cxroi.sim.scenario import Scenario

    scenario = Scenario.model_validate_json(scenario_json)
    artifact = _load_model(model_id, models_dir)
    scenario.validate_for(artifact)
    return run_simulation(scenario, artifact)


def simulate(model: registry.ModelArtifact, scenario: Scenario | dict) -> SimulationResult:
    """Simulate ``scenario`` (object or body) on ``model``; results are cached per model and
    scenario content, so reopening, comparing and exporting reuse them."""
    if isinstance(scenario, dict):
        from cxroi.sim.scenario import parse_scenario

        scenario = parse_scenario(scenario)
    return _simulate(model.model_id, str(settings().models_dir), scenario.to_json())


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    from cxroi.store import Store

    return Store(url)


def store() -> Store:
    """The scenario store (``CXROI_DATABASE_URL``, else SQLite under ``CXROI_HOME``)."""
    from cxroi.store import default_database_url

    return _store(default_database_url())


def saved_versions() -> list[tuple[str, int]]:
    """Every live saved scenario version as (name, version), latest version of each name first."""
    db = store()
    return [(saved.name, saved.version) for listing in db.list_scenarios()
            for saved in sorted(db.versions(listing.name), key=lambda v: -v.version)]


@st.cache_data(show_spinner=False, max_entries=16)
def export_files(model_id: str, scenario_json: str, fmt: str, version: int | None = None) -> dict[str, bytes]:
    """The forecast export of a scenario on a model as {file name: content}; the workbook, or
    the long table (CSV/Parquet) with its provenance file. File names carry the scenario's name
    and, for a saved one, its ``version`` ("Plan-v2.xlsx"). Cached per model, scenario, format
    and version."""
    from cxroi.export import export_forecast

    result = _simulate(model_id, str(settings().models_dir), scenario_json)
    stem = file_stem(result.scenario.name)
    if version is not None:
        stem += f"-v{version}"
    with tempfile.TemporaryDirectory(prefix="cxroi-export-") as folder:
        written = export_forecast(result, Path(folder) / f"{stem}.{fmt}", fmt)
        return {path.name: path.read_bytes() for path in written}
