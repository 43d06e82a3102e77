"""Settings and cached loading shared by the pages.

Heavy objects are loaded once per server process with ``st.cache_resource`` (the champion
:class:`~cxroi.registry.ModelArtifact`, the panel, the catalogue) and keyed on what identifies
their content (model id, file path and modification time), so a promotion or an edited file is
picked up on the next rerun without a restart. Only numpy/pandas-side modules are imported here:
the app's default path never imports the model-fitting libraries.

Every use case goes through the service layer (:mod:`cxroi.service`) with the process's
:func:`context` and the session's :func:`current_user`: simulating, exporting (the run is recorded
and audited), saving (with the version the form started from, so a newer save by someone else is
a :class:`~cxroi.store.ConflictError`, not a silent overwrite). Pages call the service directly
for the other use cases (approve, decisions, value under the pinned model, promote, audit).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from cxroi import registry
from cxroi.catalogue import DEFAULT_CATALOGUE, Initiative, load_catalogue
from cxroi.data.readers import load_panel
from cxroi.data.schema import Finding
from cxroi.service.identity import User, local_user

if TYPE_CHECKING:  # imported where used, so the first page does not wait for them
    from cxroi.service import Context
    from cxroi.sim.result import SimulationResult
    from cxroi.sim.scenario import Scenario
    from cxroi.store import SavedScenario, Store

ROOT = Path(__file__).resolve().parent.parent.parent
#: session-state key of the signed-in :class:`~cxroi.service.User` (set by the sign-in code)
USER_KEY = "cxroi.user"
#: session-state key of (name, version) of the saved scenario the planner's form started from
BASE_KEY = "cxroi.base"
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
def _context(database_url_setting: str, home_setting: str, models_dir: str) -> Context:
    """One context per store and models folder; the two settings that choose the store
    (``CXROI_DATABASE_URL``, ``CXROI_HOME``) are its key, and the store opens on first use."""
    from cxroi.service import Context

    def open_store():
        from cxroi.store import Store

        return Store()  # from the same settings

    return Context(open_store, Path(models_dir))


#: what the Overview imports in the background for the page most visited next, the planner: its
#: simulation modules and the store's database library (about 1 s of imports on a quiet machine)
PLANNER_MODULES = ("cxroi.app.pages.planner", "cxroi.service.scenarios")
_warm_up_started = threading.Event()
#: seconds the warm-up waits after the page that starts it has drawn (it would otherwise hold the
#: interpreter while the page's last messages go out to the browser)
WARM_UP_DELAY_S = 0.5


def warm_up(then: Callable[[], object] | None = None, modules: tuple[str, ...] = PLANNER_MODULES) -> None:
    """Import ``modules`` and then call ``then`` in a daemon thread, once per process, so the next
    page opens without waiting for its imports and first results (a page that asks for a module
    still being imported waits only for the rest). Called once the current page has drawn what it
    shows. A failure here is left to the page to meet and report when it is visited."""
    if _warm_up_started.is_set():
        return
    _warm_up_started.set()

    def run() -> None:
        time.sleep(WARM_UP_DELAY_S)  # let the current page's last rendering go out first
        with contextlib.suppress(Exception):  # the page itself reports whatever goes wrong
            for name in modules:
                importlib.import_module(name)
            if then is not None:
                then()

    threading.Thread(target=run, name="cxroi-warm-up", daemon=True).start()


def context() -> Context:
    """The service context of this app process: the store (``CXROI_DATABASE_URL``, else SQLite
    under ``CXROI_HOME``) and the configured models folder, with its caches of loaded models and
    results (shared by every session)."""
    return _context(os.environ.get("CXROI_DATABASE_URL", ""), os.environ.get("CXROI_HOME", ""),
                    str(settings().models_dir))


def current_user() -> User:
    """The signed-in user of this session (``st.session_state[USER_KEY]``, set at sign-in), or in
    local mode the local user (every role; ``CXROI_USER`` or the login of the app's process)."""
    user = st.session_state.get(USER_KEY)
    return user if isinstance(user, User) else local_user()


def load_model(model_id: str) -> registry.ModelArtifact:
    """A model by id from the configured models folder (cached per id; artifacts are immutable)."""
    return context().load_model(model_id)


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


def simulate(model: registry.ModelArtifact, scenario: Scenario | dict) -> SimulationResult:
    """Simulate ``scenario`` (object or body) on ``model`` as the current user; results are cached
    per model and scenario content (:class:`~cxroi.service.Context`), so reopening, comparing and
    exporting reuse them."""
    from cxroi import service

    return service.simulate(context(), current_user(), scenario, model_id=model.model_id).result


def store() -> Store:
    """The scenario store, for reading (``CXROI_DATABASE_URL``, else SQLite under ``CXROI_HOME``).
    Changes go through the service (:func:`save_scenario`, :mod:`cxroi.service`)."""
    return context().store


def saved_versions() -> list[tuple[str, int]]:
    """Every live saved scenario version as (name, version), latest version of each name first."""
    from cxroi import service

    ctx, user = context(), current_user()
    return [(saved.name, saved.version) for listing in service.list_scenarios(ctx, user)
            for saved in sorted(service.scenario_versions(ctx, user, listing.name), key=lambda v: -v.version)]


def open_saved(name: str, version: int | None = None) -> SavedScenario:
    """A saved version (default: the latest), remembered as the base of the next save of its name."""
    from cxroi import service

    saved = service.get_scenario(context(), current_user(), name, version)
    st.session_state[BASE_KEY] = (saved.name, saved.version)
    return saved


def base_version_for(name: str) -> int | None:
    """The version a save of ``name`` is based on: the one opened or last saved in this session
    under that name, else None (a new scenario)."""
    base = st.session_state.get(BASE_KEY)
    return base[1] if base and base[0] == name.strip() else None


def save_scenario(body: dict, name: str, base_version: int | None = None) -> SavedScenario:
    """Save ``body`` under ``name`` as the current user, based on ``base_version`` (see
    :func:`base_version_for`; None: a new scenario), pinned to the champion. Raises
    :class:`~cxroi.store.ConflictError` when someone saved a newer version (offer: save on top of
    it with ``base_version=error.latest_version``, or reload it with :func:`open_saved`)."""
    from cxroi import service

    saved = service.save_scenario(context(), current_user(), body, name=name, base_version=base_version)
    st.session_state[BASE_KEY] = (saved.name, saved.version)
    return saved


@st.cache_data(show_spinner=False, max_entries=16)
def _export_files(subject: str, model_id: str, scenario_json: str, fmt: str, _user: User) -> dict[str, bytes]:
    from cxroi import service
    from cxroi.sim.scenario import Scenario

    scenario = Scenario.model_validate_json(scenario_json)
    return service.forecast(context(), _user, scenario, fmt, model_id=model_id).files


def export_files(model_id: str, scenario_json: str, fmt: str, version: int | None = None) -> dict[str, bytes]:
    """The forecast export of a scenario on a model as {file name: content}: the workbook, or the
    long table (CSV/Parquet) with its provenance file. A scenario equal to a saved version is that
    version: its file names carry it ("Plan-v2.xlsx") and an approved one names its decision. The
    current user needs the export permission; the run is recorded and audited once per user,
    model, scenario and format (the files are cached). ``version`` is kept for callers; the saved
    version is recognised from the content."""
    from cxroi.service import Permission

    user = current_user()
    user.require(Permission.EXPORT, "export a forecast")
    return _export_files(user.subject, model_id, scenario_json, fmt, user)


export_files.clear = _export_files.clear  # type: ignore[attr-defined]
