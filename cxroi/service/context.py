"""What every use case runs against: the store, the models folder, and small caches of loaded
models and simulation results shared by the requests of one process.

Model artifacts are immutable, so a loaded artifact is kept by id; a result is kept by model id and
the scenario's canonical JSON. The champion is looked up on every call (a promotion is seen at once).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from cxroi.errors import ArtifactError

if TYPE_CHECKING:
    from cxroi.registry import ModelArtifact
    from cxroi.sim.result import SimulationResult
    from cxroi.sim.scenario import Scenario
    from cxroi.store import Store

MODELS_KEPT, RESULTS_KEPT = 4, 32
_V = TypeVar("_V")


class _Lru:
    """A small thread-safe least-recently-used map."""

    def __init__(self, size: int) -> None:
        self.size, self._items, self._lock = size, OrderedDict(), threading.Lock()

    def get_or_make(self, key: object, make: Callable[[], _V]) -> _V:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()  # outside the lock: two requests may compute the same value once each
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


def default_models_dir() -> Path:
    """``CXROI_MODELS_DIR``, else the package's models/ folder (read at call time)."""
    from cxroi import registry

    return Path(os.environ.get("CXROI_MODELS_DIR") or registry.DEFAULT_MODELS_DIR)


@dataclass
class Context:
    """The store and models folder the use cases work on. Create one per process and share it.

    ``opened`` is the store, or a function that opens it: then the store (and its database
    library) is opened on first use, so that reading models alone — the app's first page —
    never pays for it."""

    opened: Store | Callable[[], Store]
    models_dir: Path
    _models: _Lru = field(default_factory=lambda: _Lru(MODELS_KEPT), repr=False)
    _results: _Lru = field(default_factory=lambda: _Lru(RESULTS_KEPT), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_environment(cls, models_dir: str | Path | None = None, database_url: str | None = None) -> Context:
        """The store at ``database_url`` (default: ``CXROI_DATABASE_URL`` or SQLite under
        ``CXROI_HOME``) and ``models_dir`` (default: ``CXROI_MODELS_DIR`` or models/)."""
        from cxroi.store import Store

        return cls(Store(database_url), Path(models_dir) if models_dir else default_models_dir())

    @property
    def store(self) -> Store:
        """The store, opened now if it was given as a function."""
        with self._lock:
            if callable(self.opened):
                self.opened = self.opened()
            return self.opened

    def close(self) -> None:
        """Release the store's connections (a store never opened is left alone)."""
        if not callable(self.opened):
            self.opened.close()

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def champion_id(self) -> str | None:
        """The champion's id (None when no model was promoted)."""
        from cxroi import registry

        return registry.champion_id(self.models_dir)

    def load_model(self, model_id: str | None = None) -> ModelArtifact:
        """A model by id, or the champion (``None``); a clear error when there is none."""
        from cxroi import registry

        if model_id is None:
            model_id = self.champion_id()
            if model_id is None:
                raise ArtifactError(f"no champion model in {self.models_dir}: train and promote one first")
        folder = str(self.models_dir)
        return self._models.get_or_make((folder, model_id), lambda: registry.load_artifact(model_id, folder))

    def simulate(self, scenario: Scenario, artifact: ModelArtifact) -> SimulationResult:
        """``scenario`` simulated on ``artifact`` (checked against it first), cached."""
        from cxroi.sim.engine import simulate

        def run() -> SimulationResult:
            scenario.validate_for(artifact)
            return simulate(scenario, artifact)

        return self._results.get_or_make((str(self.models_dir), artifact.model_id, scenario.to_json()), run)
